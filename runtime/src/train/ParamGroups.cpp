// ParamGroups.cpp: naming sets of parameter tensors (freeze, lr_scale) and renaming them (init
// map).
#include "train/ParamGroups.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>

namespace mtlrt {
namespace {

/// Glob match where '*' matches any run of characters (including none);
/// `captured` receives what the first '*' matched.
bool globMatch(std::string_view pattern, std::string_view name, std::string *captured = nullptr) {
  size_t star = pattern.find('*');
  if (star == std::string_view::npos)
    return pattern == name;
  std::string_view head = pattern.substr(0, star), tail = pattern.substr(star + 1);
  if (name.substr(0, head.size()) != head)
    return false;
  // The first '*' takes as little as lets the rest match.
  for (size_t end = head.size(); end <= name.size(); ++end)
    if (globMatch(tail, name.substr(end))) {
      if (captured)
        *captured = std::string(name.substr(head.size(), end - head.size()));
      return true;
    }
  return false;
}

/// The groups a model's parameters fall into: the names before the first '.'.
std::vector<std::string> groupsOf(const mtl_model &model) {
  std::vector<std::string> groups;
  for (int32_t k = 0; k < model.num_params; ++k) {
    std::string_view name = model.params[k].name;
    std::string group(name.substr(0, name.find('.')));
    if (std::find(groups.begin(), groups.end(), group) == groups.end())
      groups.push_back(group);
  }
  return groups;
}

std::string trim(std::string_view s) {
  while (!s.empty() && s.front() == ' ')
    s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ')
    s.remove_suffix(1);
  return std::string(s);
}

} // namespace

bool inGroup(std::string_view group, std::string_view name) {
  if (group.find('*') != std::string_view::npos)
    return globMatch(group, name);
  return name == group || (name.size() > group.size() && name.substr(0, group.size()) == group &&
                           name[group.size()] == '.');
}

Result<std::vector<int32_t>> groupTensors(const mtl_model &model, const std::string &group,
                                          const char *what) {
  std::vector<int32_t> out;
  for (int32_t k = 0; k < model.num_params; ++k)
    if (inGroup(group, model.params[k].name))
      out.push_back(k);
  if (!out.empty())
    return out;
  std::vector<std::string> groups = groupsOf(model);
  std::string hint;
  size_t best = 3;
  for (const std::string &g : groups) { // a near miss, by common-prefix length
    size_t common = 0;
    while (common < g.size() && common < group.size() && g[common] == group[common])
      ++common;
    if (common >= best && common + 2 >= std::max(g.size(), group.size()))
      best = common, hint = fmt::format("; did you mean '{}'?", g);
  }
  return fail(fmt::format("{}: '{}' names no parameters of model '{}' (its groups: {}){}", what,
                          group, model.name ? model.name : "", fmt::join(groups, ", "), hint));
}

Result<InitRule> parseInitRule(const std::string &text) {
  size_t arrow = text.find("<-");
  InitRule rule{text, "", ""};
  if (arrow != std::string::npos) {
    rule.model = trim(std::string_view(text).substr(0, arrow));
    rule.checkpoint = trim(std::string_view(text).substr(arrow + 2));
  }
  auto stars = [](const std::string &s) { return std::count(s.begin(), s.end(), '*'); };
  if (rule.model.empty() || rule.checkpoint.empty() || stars(rule.model) > 1 ||
      stars(rule.model) != stars(rule.checkpoint))
    return fail(fmt::format("init map '{}': expected MODEL <- CHECKPOINT with one '*' on both "
                            "sides or on neither, such as 'trunk.* <- encoder.*' or 'trunk <- "
                            "encoder'",
                            text));
  return rule;
}

std::optional<std::string> mapName(const InitRule &rule, std::string_view name) {
  if (rule.model.find('*') == std::string::npos) {
    if (!inGroup(rule.model, name))
      return std::nullopt;
    return rule.checkpoint + std::string(name.substr(rule.model.size()));
  }
  std::string captured;
  if (!globMatch(rule.model, name, &captured))
    return std::nullopt;
  std::string out = rule.checkpoint;
  out.replace(out.find('*'), 1, captured);
  return out;
}

} // namespace mtlrt

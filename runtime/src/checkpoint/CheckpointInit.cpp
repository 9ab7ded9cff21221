// CheckpointInit.cpp: starting a model from another model's checkpoint, tensor by tensor by name.
#include "mtlrt/Checkpoint.h"
#include "mtlrt/RunConfig.h"
#include "mtlrt/Trainer.h"
#include "train/ParamGroups.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstring>
#include <set>

namespace mtlrt {
namespace {

std::string shapeText(const std::vector<int64_t> &shape) {
  return fmt::format("[{}]", fmt::join(shape, ", "));
}

/// "4 tensors (a, b, c, ...)": a count and the first few names.
std::string listed(const std::vector<std::string> &names, const char *noun) {
  constexpr size_t kShown = 6;
  std::vector<std::string> shown(names.begin(),
                                 names.begin() + long(std::min(names.size(), kShown)));
  return fmt::format("{} {}{} ({}{})", names.size(), noun, names.size() == 1 ? "" : "s",
                     fmt::join(shown, ", "), names.size() > kShown ? ", ..." : "");
}

} // namespace

std::string InitReport::summary() const {
  std::string out = fmt::format("init from {}: loaded {}", source, listed(loaded, "tensor"));
  if (!fresh.empty())
    out += fmt::format("; new: {}", listed(fresh, "tensor"));
  if (!ignored.empty())
    out += fmt::format("; not used: {}", listed(ignored, "tensor"));
  for (const std::string &v : vocabularies)
    out += "; not used: " + v;
  return out;
}

std::string InitReport::frozenWarning() const {
  if (frozenFresh.empty())
    return {};
  return fmt::format("warning: init from {}: frozen but not loaded: {}; they keep their random "
                     "initial values while frozen",
                     source, listed(frozenFresh, "tensor"));
}

Result<InitReport> initFromCheckpoint(const Checkpoint &ck, Trainer &trainer,
                                      const std::vector<std::string> &map) {
  const mtl_model &model = trainer.model();
  const std::string where = ck.source.empty() ? std::string("checkpoint") : ck.source;
  const std::string *format = ck.meta("format");
  if (!format || *format != "mtlc-checkpoint-1")
    return fail(fmt::format("{}: not an mtlc checkpoint (metadata \"format\" is {})", where,
                            format ? "'" + *format + "'" : std::string("missing")));
  std::vector<InitRule> rules;
  for (const std::string &text : map) {
    Result<InitRule> rule = parseInitRule(text);
    if (!rule)
      return rule.takeError();
    rules.push_back(std::move(*rule));
  }

  InitReport report;
  report.source = where;
  std::vector<std::string> errors;
  // Per rule: the parameters it maps, those whose tensor the checkpoint has,
  // and the first tensor it names that the checkpoint lacks.
  std::vector<int> ruleUses(rules.size()), ruleFound(rules.size());
  std::vector<std::string> firstMissing(rules.size());
  std::set<std::string> used;
  std::vector<std::pair<int32_t, const CheckpointTensor *>> copies;
  for (int32_t k = 0; k < model.num_params; ++k) {
    const mtl_tensor_desc &d = model.params[k];
    std::string source = d.name;
    const InitRule *rule = nullptr;
    size_t ruleIndex = 0;
    for (size_t r = 0; r < rules.size() && !rule; ++r)
      if (std::optional<std::string> mapped = mapName(rules[r], d.name)) {
        source = *mapped;
        rule = &rules[r];
        ruleIndex = r;
        ++ruleUses[r];
      }
    std::vector<int64_t> shape(d.dims, d.dims + d.rank);
    const CheckpointTensor *t = ck.find(source);
    if (rule && t)
      ++ruleFound[ruleIndex];
    else if (rule && firstMissing[ruleIndex].empty())
      firstMissing[ruleIndex] = source;
    std::string label = rule ? fmt::format("{} <- {}", d.name, source) : std::string(d.name);
    if (!t || t->shape != shape || t->dtype != Dtype::F32)
      for (const std::string &group : trainer.options().freeze)
        if (inGroup(group, d.name)) {
          report.frozenFresh.push_back(d.name);
          break;
        }
    if (!t) {
      report.fresh.push_back(rule ? fmt::format("{} (the checkpoint has no {})", d.name, source)
                                  : std::string(d.name));
    } else if (t->shape != shape || t->dtype != Dtype::F32) {
      // The shape first; a tensor of the right shape can still hold F64 or I64.
      const bool shaped = t->shape != shape;
      const char *what = shaped ? "shape" : "dtype";
      std::string why =
          shaped ? fmt::format("{}: checkpoint {}, model {}", label, shapeText(t->shape),
                               shapeText(shape))
                 : fmt::format("{}: checkpoint {}, model F32", label, dtypeName(t->dtype));
      if (rule)
        errors.push_back(
            fmt::format("'{}' maps tensors of different {}s: {}", rule->text, what, why));
      else
        report.fresh.push_back(fmt::format("{} ({} differs: {})", d.name, what, why));
    } else if (std::string bad = t->nonFinite(); !bad.empty()) {
      errors.push_back(fmt::format("not finite: {}{}", bad,
                                   rule ? fmt::format(" (for {})", d.name) : std::string()));
    } else {
      report.loaded.push_back(label);
      used.insert(source);
      copies.emplace_back(k, t);
    }
  }
  for (size_t r = 0; r < rules.size(); ++r)
    if (ruleUses[r] == 0)
      errors.push_back(fmt::format("'{}' maps no parameter of model '{}'", rules[r].text,
                                   model.name ? model.name : ""));
    else if (ruleFound[r] == 0) // a typo on the checkpoint's side
      errors.push_back(fmt::format("'{}' names no tensor of the checkpoint (such as {})",
                                   rules[r].text, firstMissing[r]));
  if (!errors.empty())
    return fail(fmt::format("{}: cannot initialise from it: {}", where, fmt::join(errors, "; ")));
  if (report.loaded.empty()) // another model's checkpoint, or one renamed without a map
    return fail(fmt::format("{}: cannot initialise from it: no parameter of model '{}' is in it "
                            "by name and shape (the model's: {}); an init map renames, such as "
                            "'trunk.* <- encoder.*'",
                            where, model.name ? model.name : "", fmt::join(report.fresh, ", ")));

  // What the checkpoint holds beyond parameters: optimizer state and statistics.
  std::set<std::string> other;
  if (const std::string *names = ck.meta("state_tensors"))
    for (size_t begin = 0; begin < names->size();) {
      size_t comma = std::min(names->find(',', begin), names->size());
      other.insert(names->substr(begin, comma - begin));
      begin = comma + 1;
    }
  for (const CheckpointTensor &t : ck.tensors)
    if (!used.count(t.name) && !other.count(t.name) && t.name.rfind("__standardize__.", 0) != 0)
      report.ignored.push_back(t.name);

  std::span<float> params = trainer.params();
  for (auto [k, t] : copies)
    std::memcpy(params.data() + model.params[k].offset, t->data.data(),
                size_t(model.params[k].size) * 4);
  std::vector<InputSpec> inputs;
  if (Result<RunConfig> config = modelRunConfig(model))
    inputs = config->inputs;
  else
    for (int32_t i = 0; i < model.num_inputs; ++i) {
      InputSpec input;
      input.name = model.inputs[i].name;
      inputs.push_back(std::move(input));
    }
  Result<std::vector<Categories>> categories =
      checkpointCategories(ck, inputs, &report.vocabularies);
  if (!categories)
    return categories.takeError();
  trainer.setCategories(std::move(*categories));
  return report;
}

Result<std::vector<Categories>> checkpointCategories(const Checkpoint &ck,
                                                     const std::vector<InputSpec> &inputs,
                                                     std::vector<std::string> *left,
                                                     const RunConfig *config) {
  std::vector<Categories> out(inputs.size());
  for (size_t i = 0; i < inputs.size(); ++i)
    if (const std::string *text = ck.meta("categories." + inputs[i].name)) {
      // Each column has its list and its range of embedding rows, in the
      // order the checkpoint's run read them: the same columns must come
      // in the same order, or values would take another column's rows.
      const std::string *columns = ck.meta("category_columns." + inputs[i].name);
      std::vector<std::string> now =
          config ? categoryColumnNames(*config, i) : std::vector<std::string>{};
      nlohmann::json was =
          columns ? nlohmann::json::parse(*columns, nullptr, false) : nlohmann::json();
      if (columns && !now.empty() && was != nlohmann::json(now))
        return fail(fmt::format(
            "{}: input '{}' reads the columns {} 'as category', and the checkpoint's vocabulary "
            "and embedding rows are of the columns {}, in that order; read those columns in "
            "that order",
            ck.source.empty() ? "checkpoint" : ck.source, inputs[i].name, fmt::join(now, ", "),
            was.is_array() ? fmt::format("{}", fmt::join(was.get<std::vector<std::string>>(), ", "))
                           : *columns));
      nlohmann::json j = nlohmann::json::parse(*text, nullptr, false);
      try {
        out[i] = j.get<Categories>();
      } catch (const std::exception &) {
        return fail(fmt::format("{}: metadata \"categories.{}\" is not a JSON array of arrays of "
                                "strings",
                                ck.source.empty() ? "checkpoint" : ck.source, inputs[i].name));
      }
      // More categories than the input's embedding has rows came with an
      // embedding of another shape, which stays new: the data's own
      // vocabulary is read instead.
      const int64_t count = categoryCount(out[i]);
      if (inputs[i].vocab > 0 && count > inputs[i].vocab) {
        if (left)
          left->push_back(fmt::format("the vocabulary of input '{}' ({} categories; its "
                                      "embedding has {} rows), which the data's replaces",
                                      inputs[i].name, count, inputs[i].vocab));
        out[i].clear();
      }
    }
  return out;
}

Result<std::vector<std::vector<std::string>>>
checkpointClasses(const Checkpoint &ck, const std::vector<TaskSpec> &tasks,
                  const std::vector<std::string> &sources) {
  std::vector<std::vector<std::string>> out(tasks.size());
  for (size_t t = 0; t < tasks.size(); ++t) {
    const std::string &name = t < sources.size() ? sources[t] : tasks[t].name;
    const std::string *text = ck.meta("classes." + name);
    if (!text)
      continue;
    nlohmann::json j = nlohmann::json::parse(*text, nullptr, false);
    if (!j.is_array() ||
        !std::all_of(j.begin(), j.end(), [](const nlohmann::json &n) { return n.is_string(); }))
      return fail(fmt::format("{}: metadata \"classes.{}\" is not a JSON array of strings",
                              ck.source.empty() ? "checkpoint" : ck.source, name));
    out[t] = j.get<std::vector<std::string>>();
  }
  return out;
}

} // namespace mtlrt

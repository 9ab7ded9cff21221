// Method.cpp: parsing and printing balancing methods.
#include "balance/Method.h"

#include <charconv>
#include <cmath>
#include <fmt/format.h>
#include <limits>

namespace mtlrt::balance {
namespace {

struct Entry {
  const char *name;
  Method::Kind kind;
  const char *arg; ///< the argument's name; null: none
  double defaultArg;
  bool combines;
};

// One row per method: its name, argument and default, and whether it works
// on the task gradients.
constexpr Entry kMethods[] = {
    {"static", Method::Kind::Static, nullptr, 0, false},
    {"dwa", Method::Kind::Dwa, "temperature", 2.0, false},
    {"rlw", Method::Kind::Rlw, nullptr, 0, false},
    {"uncertainty", Method::Kind::Uncertainty, nullptr, 0, false},
    {"famo", Method::Kind::Famo, nullptr, 0, false},
    {"gradnorm", Method::Kind::GradNorm, "alpha", 1.5, true},
    {"pcgrad", Method::Kind::PcGrad, nullptr, 0, true},
    {"mgda", Method::Kind::Mgda, nullptr, 0, true},
    {"mgda(rep)", Method::Kind::MgdaRep, nullptr, 0, true},
    {"cagrad", Method::Kind::CaGrad, "c", 0.5, true},
    {"imtl", Method::Kind::Imtl, nullptr, 0, true},
    {"aligned_mtl", Method::Kind::AlignedMtl, nullptr, 0, true},
    {"nash_mtl", Method::Kind::NashMtl, nullptr, 0, true},
};

const Entry &entry(Method::Kind kind) {
  for (const Entry &e : kMethods)
    if (e.kind == kind)
      return e;
  return kMethods[0];
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && s.front() == ' ')
    s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ')
    s.remove_suffix(1);
  return s;
}

} // namespace

bool Method::combinesGradients() const { return entry(kind).combines; }

bool argMayBeZero(Method::Kind kind) {
  // cagrad(c = 0) is the average gradient; gradnorm(alpha = 0) pulls every
  // task's gradient norm to their mean (Chen et al. 2018's α = 0).
  return kind == Method::Kind::CaGrad || kind == Method::Kind::GradNorm;
}

std::string Method::text() const {
  const Entry &e = entry(kind);
  return e.arg ? fmt::format("{}({} = {})", e.name, e.arg, arg) : std::string(e.name);
}

const std::vector<std::string> &methodNames() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> out;
    for (const Entry &e : kMethods)
      out.push_back(e.name);
    return out;
  }();
  return names;
}

Result<Method> parseMethod(std::string_view text) {
  std::string_view s = trim(text);
  std::string bare; // a name whose argument is a word: "mgda(rep)", spaces dropped
  for (char c : s)
    if (c != ' ')
      bare += c;
  for (const Entry &e : kMethods)
    if (bare == e.name && bare.find('(') != std::string::npos)
      return Method{e.kind, e.defaultArg};
  size_t open = s.find('(');
  std::string_view name = trim(s.substr(0, open));
  const Entry *found = nullptr;
  for (const Entry &e : kMethods)
    if (name == e.name)
      found = &e;
  if (!found)
    return fail(fmt::format("unknown balance method '{}'; use one of {}", name,
                            fmt::join(methodNames(), ", ")));
  Method m{found->kind, found->defaultArg};
  if (open == std::string_view::npos)
    return m;
  if (s.back() != ')')
    return fail(fmt::format("balance '{}': expected ')' at the end", s));
  std::string_view inside = trim(s.substr(open + 1, s.size() - open - 2));
  if (inside.empty())
    return m;
  if (!found->arg)
    return fail(fmt::format("balance method '{}' takes no arguments, got '{}'", name, inside));
  if (size_t eq = inside.find('='); eq != std::string_view::npos) {
    std::string_view key = trim(inside.substr(0, eq));
    if (key != found->arg)
      return fail(fmt::format("balance method '{}' has no argument '{}'; its argument is '{}'",
                              name, key, found->arg));
    inside = trim(inside.substr(eq + 1));
  }
  double value = 0;
  auto [end, ec] = std::from_chars(inside.data(), inside.data() + inside.size(), value);
  if (ec != std::errc() || end != inside.data() + inside.size() || !std::isfinite(value))
    return fail(fmt::format("balance method '{}': {} must be a number, got '{}'", name, found->arg,
                            inside));
  // A value a float holds only as a denormal (or 0) is flushed to 0 while
  // training: DWA's temperature then fell back to 2, or overflowed r / T.
  const bool zeroOk = argMayBeZero(m.kind);
  if (!(zeroOk && value == 0) && !(value > 0 && std::isnormal(float(value))))
    return fail(fmt::format("balance method '{}': {} must be {}a positive float from {:.2g} to "
                            "{:.2g}, got {}",
                            name, found->arg, zeroOk ? "0 or " : "",
                            std::numeric_limits<float>::min(), std::numeric_limits<float>::max(),
                            inside));
  m.arg = value;
  return m;
}

} // namespace mtlrt::balance

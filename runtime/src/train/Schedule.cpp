// Schedule.cpp: learning-rate schedules (cosine with warm-up, step decay, reduce on plateau).
#include "train/Schedule.h"

#include "mtlrt/Abi.h"

#include <fmt/format.h>

#include <cmath>
#include <cstdlib>

namespace mtlrt {
namespace {

std::string trim(const std::string &s) {
  size_t b = s.find_first_not_of(' '), e = s.find_last_not_of(' ');
  return b == std::string::npos ? std::string() : s.substr(b, e - b + 1);
}

} // namespace

Result<Schedule> Schedule::parse(const std::string &text) {
  const std::string s = trim(text);
  const size_t open = s.find('(');
  const std::string name = trim(s.substr(0, open));
  Schedule out;
  struct Arg {
    const char *name;
    double *value;
    double lo, hi;
    bool whole = true; ///< else a real in (lo, hi]
  };
  std::vector<Arg> args;
  if (name == "constant" || name.empty()) {
    out.kind_ = Kind::Constant;
  } else if (name == "cosine") {
    out.kind_ = Kind::Cosine;
    args = {{"warmup", &out.warmup, 0, 1e9}};
  } else if (name == "step") {
    out.kind_ = Kind::Step;
    args = {{"every", &out.every, 1, 1e9}, {"gamma", &out.gamma, 0, 1, false}};
  } else if (name == "plateau") {
    out.kind_ = Kind::Plateau;
    args = {{"patience", &out.patience, 0, 1e9}, {"factor", &out.shrink, 0, 1, false}};
  } else {
    return fail(fmt::format("unknown schedule '{}'; use constant, cosine(warmup = N), step(every "
                            "= N, gamma = G) or plateau(patience = N, factor = F)",
                            name));
  }
  if (open == std::string::npos)
    return out;
  if (s.back() != ')')
    return fail(fmt::format("schedule '{}': expected ')' at the end", s));
  std::string inside = s.substr(open + 1, s.size() - open - 2);
  for (size_t begin = 0; begin < inside.size();) {
    size_t comma = std::min(inside.find(',', begin), inside.size());
    std::string item = trim(inside.substr(begin, comma - begin));
    begin = comma + 1;
    size_t eq = item.find('=');
    std::string key = trim(item.substr(0, eq));
    const Arg *arg = nullptr;
    std::vector<std::string> names;
    for (const Arg &a : args) {
      names.push_back(fmt::format("{} = {}", a.name, a.whole ? "N" : "X"));
      if (key == a.name)
        arg = &a;
    }
    if (!arg)
      return fail(fmt::format("schedule '{}': {} has no argument '{}'; {}", s, name, key,
                              names.empty()
                                  ? "it takes none"
                                  : fmt::format("write {}({})", name, fmt::join(names, ", "))));
    char *end = nullptr;
    std::string value = eq == std::string::npos ? "" : trim(item.substr(eq + 1));
    double v = value.empty() ? NAN : std::strtod(value.c_str(), &end);
    if (!end || *end || !std::isfinite(v))
      return fail(fmt::format("schedule '{}': {} needs a number, got '{}'", s, key, value));
    if (arg->whole && !(v == std::floor(v) && v >= arg->lo && v <= arg->hi))
      return fail(fmt::format("schedule '{}': {} must be a whole number {}, got {}", s, key,
                              v > arg->hi ? fmt::format("of at most {:g}", arg->hi)
                                          : fmt::format("of at least {:g}", arg->lo),
                              value));
    if (!arg->whole && !(v > arg->lo && v <= arg->hi))
      return fail(fmt::format("schedule '{}': {} must lie in ({}, {}], got {}", s, key, arg->lo,
                              arg->hi, value));
    *arg->value = v;
  }
  return out;
}

double Schedule::factor(int64_t step, int64_t epoch, int64_t stepsPerEpoch, int64_t epochs) const {
  switch (kind_) {
  case Kind::Constant:
    return 1;
  case Kind::Cosine: {
    const double warm = warmup * double(stepsPerEpoch), total = double(epochs * stepsPerEpoch);
    const double t = double(step);
    if (t <= warm)
      return t / warm;
    const double span = std::max(1.0, total - warm);
    return 0.5 * (1 + std::cos(M_PI * std::min(t - warm - 1, span) / span));
  }
  case Kind::Step:
    return std::pow(gamma, std::floor(double(epoch - 1) / every));
  case Kind::Plateau:
    return plateauFactor;
  }
  return 1;
}

void Schedule::endEpoch(double value) {
  if (kind_ != Kind::Plateau || std::isnan(value))
    return;
  if (!haveBest || value < best) {
    best = value, bad = 0, haveBest = true;
    return;
  }
  if (++bad > patience) {
    plateauFactor *= shrink;
    bad = 0;
  }
}

std::vector<double> Schedule::state() const { return {plateauFactor, haveBest ? best : NAN, bad}; }

bool Schedule::setState(const std::vector<double> &s) {
  if (s.size() != 3 || !(s[0] >= 0 && s[0] <= 1) || !(s[2] >= 0))
    return false;
  plateauFactor = s[0];
  haveBest = !std::isnan(s[1]);
  best = haveBest ? s[1] : 0;
  bad = s[2];
  return true;
}

double clipGradNorm(const mtl_model &model, float *grads, const float *lrScales, double maxNorm) {
  double sum = 0;
  // A buffer's place holds its next value, not a gradient.
  auto skipped = [&](int32_t k) {
    return model.params[k].buffer || (lrScales && lrScales[k] == 0);
  };
  for (int32_t k = 0; k < model.num_params; ++k) {
    if (skipped(k))
      continue;
    const float *g = grads + model.params[k].offset;
    for (int64_t i = 0; i < model.params[k].size; ++i)
      sum += double(g[i]) * double(g[i]);
  }
  const double norm = std::sqrt(sum);
  const double coefficient = maxNorm / (norm + 1e-6);
  if (!std::isfinite(norm) || coefficient >= 1)
    return norm;
  for (int32_t k = 0; k < model.num_params; ++k) {
    if (skipped(k))
      continue;
    float *g = grads + model.params[k].offset;
    for (int64_t i = 0; i < model.params[k].size; ++i)
      g[i] = float(double(g[i]) * coefficient);
  }
  return norm;
}

} // namespace mtlrt

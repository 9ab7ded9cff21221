// Sampling.cpp: how the batches of an epoch draw from the data sets of a run that trains on
// several.
#include "train/Sampling.h"

#include "mtlrt/Dataset.h"
#include "mtlrt/Trainer.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>

namespace mtlrt {

Result<Sampling> Sampling::parse(const std::string &text) {
  std::string s;
  for (char c : text)
    if (c != ' ')
      s += c;
  Sampling out;
  if (s == "round_robin") {
    out.kind = Kind::RoundRobin;
    return out;
  }
  if (s == "proportional" || s.empty())
    return out;
  for (const char *prefix : {"temperature(t=", "temperature("}) {
    const std::string p = prefix;
    if (s.rfind(p, 0) != 0 || s.back() != ')')
      continue;
    const std::string value = s.substr(p.size(), s.size() - p.size() - 1);
    char *end = nullptr;
    const double t = value.empty() ? NAN : std::strtod(value.c_str(), &end);
    if (!end || *end || !(t > 0 && std::isfinite(t)))
      return fail(fmt::format("sampling '{}': the temperature must be a finite number > 0", text));
    out.kind = Kind::Temperature;
    out.temperature = t;
    return out;
  }
  return fail(fmt::format("unknown sampling '{}'; use round_robin, proportional or "
                          "temperature(T)",
                          text));
}

Result<std::string> canonicalSampling(std::string_view text) {
  Result<Sampling> s = Sampling::parse(std::string(text));
  if (!s)
    return s.takeError();
  switch (s->kind) {
  case Sampling::Kind::RoundRobin:
    return std::string("round_robin");
  case Sampling::Kind::Proportional:
    return std::string("proportional");
  case Sampling::Kind::Temperature:
    break;
  }
  return fmt::format("temperature({})", s->temperature);
}

uint64_t samplingStream(int64_t epoch) { return 0x53414d5000000000ull + uint64_t(epoch); }

namespace {

/// One data set's position within an epoch: its current pass and where in it.
struct Cursor {
  std::vector<int64_t> order;
  int64_t pass = -1;
  size_t at = 0;
};

void startPass(Cursor &c, const std::vector<int64_t> &rows, bool shuffle, uint64_t seed,
               int64_t epoch, int64_t source) {
  ++c.pass;
  c.at = 0;
  c.order = rows;
  if (shuffle)
    shuffleRows(c.order, seed, epoch, source, c.pass);
}

} // namespace

void planEpoch(const Sampling &sampling, std::span<const std::vector<int64_t>> sources,
               int64_t batch, bool shuffle, uint64_t seed, int64_t epoch, EpochPlan &plan) {
  plan.rows.clear();
  plan.ends.clear();
  const size_t count = sources.size();
  int64_t steps = 0;
  std::vector<double> cumulative(count, 0.0);
  double total = 0;
  // Temperature weighs each data set by (n / largest)^(1/T), the shares of
  // n^(1/T) without computing n^(1/T): that overflows for a small T (100 rows
  // at T = 0.006), and every set's infinite weight would draw only the last.
  size_t largest = 0;
  for (const std::vector<int64_t> &rows : sources)
    largest = std::max(largest, rows.size());
  for (size_t s = 0; s < count; ++s) {
    const int64_t n = int64_t(sources[s].size());
    steps += (n + batch - 1) / batch;
    const double weight =
        n == 0 ? 0.0
        : sampling.kind == Sampling::Kind::Temperature
            ? std::exp(std::log(double(n) / double(largest)) / sampling.temperature)
            : double(n);
    total += weight;
    cumulative[s] = total;
  }
  plan.rows.reserve(size_t(steps * batch)); // kept from epoch to epoch: no allocation per step
  plan.ends.reserve(size_t(steps));
  std::vector<Cursor> cursors(count);
  Rng draw(seed, samplingStream(epoch));
  size_t turn = 0; // round_robin: the next data set to try
  for (int64_t step = 0; step < steps; ++step) {
    size_t s = 0;
    if (count > 1 && sampling.kind == Sampling::Kind::RoundRobin) {
      while (sources[turn % count].empty())
        ++turn;
      s = turn++ % count;
    } else if (count > 1) {
      const double u = draw.uniform() * total;
      s = size_t(std::upper_bound(cumulative.begin(), cumulative.end(), u) - cumulative.begin());
      s = std::min(s, count - 1);
      while (sources[s].empty()) // rounding at the top: the last data set with rows
        --s;
    }
    Cursor &c = cursors[s];
    if (c.pass < 0 || c.at == c.order.size())
      startPass(c, sources[s], shuffle, seed, epoch, int64_t(s));
    const size_t n = std::min(size_t(batch), c.order.size() - c.at);
    plan.rows.insert(plan.rows.end(), c.order.begin() + int64_t(c.at),
                     c.order.begin() + int64_t(c.at + n));
    c.at += n;
    plan.ends.push_back(int64_t(plan.rows.size()));
  }
}

} // namespace mtlrt

// Balancer.cpp: the step between a model's gradients and its update.
//
// Every gradient method here reduces to one coefficient per task: the shared
// gradient is the penalty's gradient plus Σ_t c_t g_t, where g_t is task t's
// gradient of w_t L_t on the shared parameters. The methods need only the
// tasks' Gram matrix (T x T inner products, in double), so their cost beside
// the gradient step is one pass over the task blocks to form it and one to
// combine them, whatever the method.
#include "balance/Balancer.h"
#include "balance/Linalg.h"

#include "train/Schedule.h"

#include <algorithm>
#include <cmath>
#include <string>

namespace mtlrt::balance {
namespace {

/// The Gram matrix of `tasks` blocks, `stride` floats apart, over the
/// ranges [from, to) of each, in one pass over memory: chunk by chunk (each
/// small enough to stay in the L1 cache while every pair of its blocks is
/// multiplied), the chunks' sums added in order. The chunking is fixed, so
/// the result is too.
void gramMatrix(const float *blocks, int tasks, std::span<const std::pair<int64_t, int64_t>> ranges,
                int64_t stride, std::vector<double> &gram) {
  constexpr int64_t kChunk = 512;
  std::fill(gram.begin(), gram.end(), 0.0);
  for (const auto &[from, to] : ranges)
    for (int64_t at = from; at < to; at += kChunk) {
      const int64_t n = std::min(kChunk, to - at);
      for (int i = 0; i < tasks; ++i)
        for (int j = 0; j <= i; ++j)
          gram[size_t(i * tasks + j)] +=
              detail::dot(blocks + i * stride + at, blocks + j * stride + at, n);
    }
  for (int i = 0; i < tasks; ++i)
    for (int j = 0; j < i; ++j)
      gram[size_t(j * tasks + i)] = gram[size_t(i * tasks + j)];
}

} // namespace

std::vector<int64_t> logVarOffsets(const mtl_model &model) {
  std::vector<int64_t> out;
  for (int t = 0; t < model.num_tasks; ++t)
    for (int p = 0; p < model.num_params; ++p)
      if (std::string(model.params[p].name) ==
          std::string("uncertainty.") + model.tasks[t].name + ".log_var")
        out.push_back(model.params[p].offset);
  if (out.size() != size_t(model.num_tasks))
    out.clear();
  return out;
}

Balancer::Balancer(const mtl_model &model, Method method, uint64_t seed, bool gradStats)
    : model_(&model), method_(method), seed_(seed), tasks_(model.num_tasks) {
  // mgda(rep) weighs the losses of one gradient step by α from the
  // representation's gradients; it splits them only for the statistics.
  splits_ = model.task_grad_step &&
            ((method.combinesGradients() && method.kind != Method::Kind::MgdaRep) || gradStats);
  const size_t t = size_t(tasks_);
  stepWeights_.assign(t, 1.0f);
  factors_.assign(t, 1.0);
  coefficients_.assign(t, 1.0);
  gram_.assign(t * t, 0.0);
  losses_.assign(t, 0.0);
  norms_.assign(t, 0.0);
  gradNorm_ = GradNorm(tasks_, GradNormOptions{method.arg});
  famo_ = Famo(tasks_);
  if (method.kind == Method::Kind::Uncertainty)
    logVars_ = logVarOffsets(model);
  isShared_.assign(size_t(std::max(model.num_params, 0)), false);
  for (int32_t s = 0; s < model.num_shared; ++s)
    isShared_[size_t(model.shared_params[s])] = true;
  famoBefore_.assign(t, 0.0);
  famoAfter_.assign(t, 0.0);
  evalLosses_.assign(t, 0.0f);
  evalCounts_.assign(t, 0.0f);
  noOutputs_.assign(t, nullptr);
  lastWeights_.assign(t, 0.0);
  takeStats();
}

void Balancer::lossWeights(uint64_t step) {
  switch (method_.kind) {
  case Method::Kind::Dwa: // set once an epoch, by dwaFactors()
    break;
  case Method::Kind::Rlw: // softmax weights sum to 1; times T, as static's sum
    factors_ = rlw(tasks_, seed_, step);
    for (double &f : factors_)
      f *= tasks_;
    break;
  case Method::Kind::GradNorm:
    factors_ = gradNorm_.weights();
    break;
  case Method::Kind::Famo:        // from this batch's losses, by step()
  case Method::Kind::MgdaRep:     // from this batch's representation gradients, by step()
  case Method::Kind::Uncertainty: // compiled into the loss
  case Method::Kind::Static:
  case Method::Kind::PcGrad:
  case Method::Kind::Mgda:
  case Method::Kind::CaGrad:
  case Method::Kind::Imtl:
  case Method::Kind::AlignedMtl:
  case Method::Kind::NashMtl:
    break;
  }
}

std::vector<double> Balancer::coefficientsOf(std::span<const double> gram, int tasks,
                                             uint64_t step) const {
  // Methods that return a convex combination are scaled by T, so that at
  // their neutral point (equal weights) a step is as large as static's sum.
  auto convex = [&](std::vector<double> alpha) {
    for (double &a : alpha)
      a *= tasks;
    return alpha;
  };
  switch (method_.kind) {
  case Method::Kind::Static:
  case Method::Kind::Dwa:
  case Method::Kind::Rlw:
  case Method::Kind::Uncertainty:
  case Method::Kind::Famo:
  case Method::Kind::MgdaRep:
  case Method::Kind::GradNorm:
    return std::vector<double>(size_t(tasks), 1.0);
  case Method::Kind::PcGrad:
    return pcgrad(gram, tasks, seed_, step);
  case Method::Kind::Mgda:
    return convex(minNorm(gram, tasks));
  case Method::Kind::CaGrad:
    return convex(cagrad(gram, tasks, method_.arg));
  case Method::Kind::Imtl:
    return convex(imtl(gram, tasks));
  case Method::Kind::AlignedMtl: // the sum of the aligned gradients already
    return alignedMtl(gram, tasks);
  case Method::Kind::NashMtl: // scaled with the gradients, as a plain sum is
    return nashMtl(gram, tasks, NashScale::LibMtl);
  }
  return std::vector<double>(size_t(tasks), 1.0);
}

template <class Solve>
void Balancer::overLabelled(const float *counts, std::span<const float> weights,
                            std::vector<double> &out, Solve solve) {
  labelled_.clear();
  for (int t = 0; t < tasks_; ++t)
    if (counts[t] > 0 && weights[size_t(t)] > 0)
      labelled_.push_back(t);
  if (labelled_.size() == size_t(tasks_)) {
    out = solve(std::span<const double>(gram_), tasks_);
    return;
  }
  // A task without labels in this batch (its data set is not the batch's,
  // or its labels are missing here) or of weight 0 has a zero gradient,
  // which is no direction to balance against: MGDA's minimum-norm point
  // would be that zero, stopping the shared update. The method sees the others.
  const int k = int(labelled_.size());
  subGram_.resize(size_t(k * k));
  for (int i = 0; i < k; ++i)
    for (int j = 0; j < k; ++j)
      subGram_[size_t(i * k + j)] =
          gram_[size_t(labelled_[size_t(i)] * tasks_ + labelled_[size_t(j)])];
  out.assign(size_t(tasks_), 0.0);
  if (k == 0)
    return;
  const std::vector<double> c = solve(std::span<const double>(subGram_), k);
  for (int i = 0; i < k; ++i)
    out[size_t(labelled_[size_t(i)])] = c[size_t(i)];
}

void Balancer::step(const mtl_batch &batch, mtl_hyper &hyper, std::span<const float> weights,
                    float *params, float *state, float *workspace, float *grads, mtl_result &result,
                    const mtl_parallel *parallel) {
  const mtl_model &m = *model_;
  const uint64_t step = uint64_t(hyper.step);
  lossWeights(step);
  if (method_.kind == Method::Kind::MgdaRep) {
    // α T on the run's weights: the losses' factors in one gradient step, or
    // (when the gradients are split for their statistics) the coefficients
    // that combine them.
    m.rep_grad_step(&batch, &hyper, params, workspace, grads, &result, parallel);
    for (size_t k = 0; k < gram_.size(); ++k)
      gram_[k] = grads[m.rep_gram_offset + int64_t(k)];
    overLabelled(result.task_counts, weights, splits_ ? coefficients_ : factors_,
                 [](std::span<const double> g, int k) {
                   std::vector<double> alpha = minNorm(g, k);
                   for (double &a : alpha)
                     a *= k;
                   return alpha;
                 });
  }
  const bool famo = method_.kind == Method::Kind::Famo;
  if (famo) { // λ depends on this batch's losses: Σλ = 1, times T as static's sum
    // (T: the tasks labelled in the batch, so that a task alone in it gets 1)
    evalLosses(batch, hyper, params, workspace, parallel, famoBefore_);
    factors_ = famo_.weights(famoBefore_);
    const double present = double(std::count_if(famoBefore_.begin(), famoBefore_.end(),
                                                [](double l) { return std::isfinite(l); }));
    for (double &f : factors_)
      f *= present;
  }
  for (int t = 0; t < tasks_; ++t)
    stepWeights_[size_t(t)] = float(double(weights[size_t(t)]) * factors_[size_t(t)]);
  const float *runWeights = hyper.task_weights;
  hyper.task_weights = stepWeights_.data();
  (splits_ ? m.task_grad_step : m.grad_step)(&batch, &hyper, params, workspace, grads, &result,
                                             parallel);
  hyper.task_weights = runWeights;
  if (splits_) {
    const float *blocks = grads + m.params_size;
    gramMatrix(blocks, tasks_, updatedShared(hyper.lr_scales), m.shared_size, gram_);
    if (method_.kind != Method::Kind::MgdaRep) // its coefficients are α T, from above
      overLabelled(result.task_counts, stepWeights_, coefficients_,
                   [&](std::span<const double> g, int k) { return coefficientsOf(g, k, step); });
    // The penalty's gradient is there to add to; without one, nothing is.
    for (int32_t s = 0; s < m.num_shared; ++s) {
      float *g = grads + m.params[m.shared_params[s]].offset;
      for (int t = 0; t < tasks_; ++t) {
        const float *block = blocks + t * m.shared_size + m.shared[s].offset;
        const float c = float(coefficients_[size_t(t)]);
        if (t == 0 && !m.has_penalty)
          for (int64_t k = 0; k < m.shared[s].size; ++k)
            g[k] = c * block[k];
        else
          for (int64_t k = 0; k < m.shared[s].size; ++k)
            g[k] += c * block[k];
      }
    }
  }
  // Uncertainty's term (exp(-s_t) L_t + s_t) / 2 has the gradient 1/2 on s_t
  // even when the batch labels no row of task t: no loss, no evidence about
  // its variance, so s_t stays where it is (as the head does).
  for (size_t t = 0; t < logVars_.size(); ++t)
    if (!(result.task_counts[t] > 0))
      grads[logVars_[t]] = 0.0f;
  for (int t = 0; t < tasks_; ++t)
    losses_[size_t(t)] = result.task_losses[t];
  record(params);
  if (method_.kind == Method::Kind::MgdaRep) // the heads keep their own gradients (w_t, not α_t T)
    for (int32_t p = 0; p < m.num_params; ++p)
      if (!isShared_[size_t(p)])
        std::copy_n(grads + m.rep_gram_offset + tasks_ * tasks_ + m.params[p].offset,
                    m.params[p].size, grads + m.params[p].offset);
  if (clipNorm_ > 0)
    clipGradNorm(m, grads, hyper.lr_scales, clipNorm_);
  m.update(&hyper, params, state, grads, &result, parallel);
  if (famo && !result.skipped) { // how far each task's loss fell on this batch
    evalLosses(batch, hyper, params, workspace, parallel, famoAfter_);
    famo_.update(famoBefore_, famoAfter_);
  }
  if (method_.kind == Method::Kind::GradNorm && splits_ && !result.skipped) {
    // GradNorm needs ||∇ L_t|| of the unweighted loss: the block holds w_t L_t's.
    bool labelled = true;
    for (int t = 0; t < tasks_; ++t) {
      const double w = stepWeights_[size_t(t)];
      norms_[size_t(t)] = w > 0 ? std::sqrt(gram_[size_t(t * tasks_ + t)]) / w : 0.0;
      labelled = labelled && result.task_counts[t] > 0;
    }
    if (labelled) // a task without labels this step says nothing about its rate
      gradNorm_.update(norms_, losses_);
  }
}

std::span<const std::pair<int64_t, int64_t>> Balancer::updatedShared(const float *lrScales) {
  // A frozen tensor is not updated, so the directions are balanced on the
  // others (and its gradient is left out of the gradient methods' norms).
  const mtl_model &m = *model_;
  updated_.clear();
  for (int32_t s = 0; s < m.num_shared; ++s) {
    if (lrScales && lrScales[m.shared_params[s]] == 0.0f)
      continue;
    const int64_t from = m.shared[s].offset, to = from + m.shared[s].size;
    if (!updated_.empty() && updated_.back().second == from)
      updated_.back().second = to;
    else
      updated_.emplace_back(from, to);
  }
  return updated_;
}

void Balancer::evalLosses(const mtl_batch &batch, const mtl_hyper &hyper, const float *params,
                          float *workspace, const mtl_parallel *parallel,
                          std::vector<double> &out) {
  mtl_result r{0.0f, evalLosses_.data(), evalCounts_.data(), noOutputs_.data(), 0.0f, 0, nullptr,
               0};
  model_->eval_step(&batch, &hyper, params, workspace, &r, parallel);
  for (size_t t = 0; t < size_t(tasks_); ++t)
    out[t] = evalCounts_[t] > 0 ? double(evalLosses_[t]) : std::nan("");
}

void Balancer::record(const float *params) {
  BalanceStats &s = stats_;
  ++s.steps;
  // Within the room startEpoch made: a step allocates nothing, and steps
  // outside an epoch (the C library's) keep no history. Uncertainty's
  // weight on L_t is w_t exp(-s_t) / 2, as this step's parameters have it.
  for (int t = 0; t < tasks_; ++t) {
    lastWeights_[size_t(t)] = double(stepWeights_[size_t(t)]) *
                              (splits_ ? coefficients_[size_t(t)] : 1.0) * lossFactor(t, params);
    if (weightHistory_.size() < weightHistory_.capacity())
      weightHistory_.push_back(lastWeights_[size_t(t)]);
  }
  if (splits_)
    addGradientStats(s);
}

double Balancer::lossFactor(int t, const float *params) const {
  return logVars_.empty() ? 1.0 : 0.5 * std::exp(-double(params[logVars_[size_t(t)]]));
}

void Balancer::addGradientStats(BalanceStats &s) const {
  s.gradNorms.resize(size_t(tasks_));
  s.cosines.resize(size_t(tasks_ * tasks_));
  s.conflicts.resize(size_t(tasks_ * tasks_));
  for (int i = 0; i < tasks_; ++i) {
    const double ni = std::sqrt(gram_[size_t(i * tasks_ + i)]);
    s.gradNorms[size_t(i)] += ni;
    for (int j = 0; j < tasks_; ++j) {
      const double nj = std::sqrt(gram_[size_t(j * tasks_ + j)]);
      const double cos = ni > 0 && nj > 0 ? gram_[size_t(i * tasks_ + j)] / (ni * nj) : 0.0;
      s.cosines[size_t(i * tasks_ + j)] += cos;
      s.conflicts[size_t(i * tasks_ + j)] += cos < 0 ? 1.0 : 0.0;
    }
  }
}

BalanceStats Balancer::lastStep() const {
  BalanceStats s;
  s.steps = 1;
  s.weights = lastWeights_;
  if (splits_)
    addGradientStats(s);
  return s;
}

void Balancer::startEpoch(int64_t steps) {
  weightHistory_.clear();
  weightHistory_.reserve(size_t(std::max<int64_t>(steps, 0)) * size_t(tasks_));
}

BalanceStats Balancer::takeStats() {
  BalanceStats out = std::move(stats_);
  for (std::vector<double> *v : {&out.gradNorms, &out.cosines, &out.conflicts})
    for (double &x : *v)
      x /= double(std::max<int64_t>(out.steps, 1));
  // Each task's median over the steps (the upper one of an even count).
  const size_t steps = weightHistory_.size() / size_t(std::max(tasks_, 1));
  out.weights.assign(size_t(tasks_), 0.0);
  std::vector<double> column(steps);
  for (int t = 0; t < tasks_ && steps > 0; ++t) {
    for (size_t k = 0; k < steps; ++k)
      column[k] = weightHistory_[k * size_t(tasks_) + size_t(t)];
    std::nth_element(column.begin(), column.begin() + long(steps / 2), column.end());
    out.weights[size_t(t)] = column[steps / 2];
  }
  weightHistory_.clear();
  stats_ = BalanceStats{};
  return out;
}

void Balancer::endEpoch(std::span<const double> taskLosses) {
  lossesBefore_ = std::move(lastLosses_);
  lastLosses_.assign(taskLosses.begin(), taskLosses.end());
  dwaFactors();
}

void Balancer::dwaFactors() {
  if (method_.kind != Method::Kind::Dwa)
    return;
  if (lossesBefore_.size() != size_t(tasks_) || lastLosses_.size() != size_t(tasks_))
    std::fill(factors_.begin(), factors_.end(), 1.0); // the first two epochs
  else
    factors_ = dwa(lastLosses_, lossesBefore_, method_.arg);
}

MethodState Balancer::state() const {
  // [n, last losses (n), n, losses before (n), n, gradnorm weights, n, initial
  // losses, n, famo logits, n, famo adam m, n, famo adam v, famo steps]
  MethodState s;
  auto put = [&](const std::vector<double> &v) {
    s.push_back(double(v.size()));
    s.insert(s.end(), v.begin(), v.end());
  };
  put(lastLosses_);
  put(lossesBefore_);
  put(gradNorm_.state().weights);
  put(gradNorm_.state().initialLosses);
  put(famo_.state().logits);
  put(famo_.state().adamM);
  put(famo_.state().adamV);
  s.push_back(double(famo_.state().steps));
  return s;
}

bool Balancer::setState(const MethodState &s) {
  size_t at = 0;
  auto get = [&](std::vector<double> &v) {
    if (at >= s.size())
      return false;
    const double n = s[at++];
    if (!(n >= 0 && n <= double(tasks_)) || n != std::floor(n) || at + size_t(n) > s.size())
      return false;
    v.assign(s.begin() + long(at), s.begin() + long(at + size_t(n)));
    at += size_t(n);
    return true;
  };
  std::vector<double> last, before;
  GradNorm::State gradNorm;
  if (!get(last) || !get(before) || !get(gradNorm.weights) || !get(gradNorm.initialLosses) ||
      gradNorm.weights.size() != size_t(tasks_))
    return false;
  // FAMO's part: absent from checkpoints written before it was.
  Famo::State famo = Famo(tasks_).state();
  if (at != s.size() &&
      (!get(famo.logits) || !get(famo.adamM) || !get(famo.adamV) || at + 1 != s.size() ||
       !(s[at] >= 0) || s[at] != std::floor(s[at]) || famo.logits.size() != size_t(tasks_) ||
       famo.adamM.size() != size_t(tasks_) || famo.adamV.size() != size_t(tasks_)))
    return false;
  famo.steps = at < s.size() ? int64_t(s[at]) : 0;
  lastLosses_ = std::move(last);
  lossesBefore_ = std::move(before);
  dwaFactors();
  gradNorm_.setState(std::move(gradNorm));
  famo_.setState(std::move(famo));
  return true;
}

} // namespace mtlrt::balance

// step_bench.cpp: times one training step (forward, backward, Adam) of the benchmark models.
//
// Each model of bench/models is compiled once with the JIT (-O2, host CPU); for
// every batch size the arenas are allocated once, inputs and targets filled
// with random values (8 distinct batches, used in turn), and after a warm-up
// the step is timed in samples of several calls (a sample lasts at least
// ~1 ms, so the clock's resolution does not matter), with the runtime's
// ThreadPool. Before each sample, parameters are re-initialised with
// mtlrt::initParams and the optimizer state zeroed (untimed). The median over
// the samples is the headline number; min and max show how noisy the machine
// was. bench/pytorch_reference.py measures PyTorch the same way.
#include "PerfMapJit.h"
#include "balance/Balancer.h"
#include "driver/Pipeline.h"

#include "mtlrt/Abi.h"
#include "mtlrt/FloatMode.h"
#include "mtlrt/Init.h"
#include "mtlrt/RunConfig.h"
#include "mtlrt/ThreadPool.h"
#include "support/Buffer.h"

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <iostream>
#include <memory>
#include <random>
#include <span>
#include <string>
#include <vector>
#include <xmmintrin.h>

namespace {

using Clock = std::chrono::steady_clock;

/// A benchmark model: its file under bench/models and the batch sizes it runs.
struct BenchModel {
  std::string name;
  std::string file;
  std::vector<int64_t> batches;
};

const std::vector<BenchModel> &benchModels() {
  static const std::vector<BenchModel> models = {
      {"M1", "m1.mtl", {1, 32, 256, 4096}}, {"M2", "m2.mtl", {1, 100, 4096}},
      {"M3", "m3.mtl", {1, 64, 256, 1024}}, {"M4", "m4.mtl", {1, 1024}},
      {"M5", "m5.mtl", {1, 16, 64, 256}},   {"M6", "m6.mtl", {1, 16, 256, 1024}},
      {"M7", "m7.mtl", {16, 64, 256}},
  };
  return models;
}

/// How long each configuration runs and how it is sampled.
struct Budget {
  double secondsPerConfig = 1.5; ///< timed part, warm-up excluded
  double minSampleSeconds = 1e-3;
  int minSamples = 15;
  int maxSamples = 500;
  /// > 0: train this many steps before timing and never reset the parameters
  /// between samples, so the timed steps are those of a model that has fit
  /// its data (where values decay towards denormals).
  int64_t convergedSteps = 0;
};

/// One measured configuration, times in microseconds per step.
struct Measurement {
  std::string model;
  int64_t batch = 0;
  int threads = 0;
  int samples = 0;
  int callsPerSample = 0;
  double median = 0, min = 0, max = 0;
  double cpuMedian = 0; ///< CPU time of the whole process per step (all threads)
  float finalLoss = 0;
  double productFlops = 0; ///< of the step's matrix products (productFlops())
  /// The products' rate in GFLOP/s at the median time.
  double gflops() const { return median > 0 ? productFlops / median / 1e3 : 0; }
};

/// Two flops per multiply-add of the step graph's matrix products at `batch`
/// rows: dense layers and convolutions (products over image patches) and
/// their gradients. What the step does besides (activations, losses, the
/// update) is not counted, so the rate is a lower bound on the products' own.
double productFlops(const mtl::ir::Graph &g, int64_t batch) {
  using mtl::ir::OpKind;
  auto rows = [&](const mtl::ir::TensorType &t) {
    return static_cast<double>(t.elements(batch)) /
           static_cast<double>(std::max<int64_t>(t.lastDim(), 1));
  };
  double flops = 0;
  for (size_t v = 0; v < g.size(); ++v) {
    const mtl::ir::Op &op = g.op(static_cast<mtl::ir::ValueId>(v));
    if (mtl::ir::opInfo(op.kind).opClass != mtl::ir::OpClass::Dense)
      continue;
    const mtl::ir::TensorType &a = g.type(op.operands[0]);
    // Linear, MatMul, MatMulLeft: a sum over a's last dimension per output
    // element; MatMulTN and MatMulSumNT: per row of a and output column.
    bool sumsRows = op.kind == OpKind::MatMulTN || op.kind == OpKind::MatMulSumNT;
    double outer = sumsRows ? rows(a) : rows(op.type);
    flops += 2 * outer * static_cast<double>(a.lastDim()) * static_cast<double>(op.type.lastDim());
  }
  return flops;
}

/// Distinct batches a run cycles through, as training walks through its data.
constexpr int kDistinctBatches = 8;

/// A buffer as the trainer allocates one; throws as std::vector would.
mtlrt::Buffer allocate(int64_t count) {
  mtlrt::Buffer buffer(count);
  if (!buffer.ok())
    throw std::bad_alloc();
  return buffer;
}

/// Inputs, targets, arenas and result buffers for one model and batch size,
/// allocated once and reused by every step. Steps cycle through
/// kDistinctBatches random batches: a step never finds its input hot in the
/// cache only because the previous step read the same rows, and the model
/// cannot memorise one batch.
class StepRunner {
public:
  StepRunner(const mtl_model &model, int64_t rows, uint64_t seed,
             const mtlrt::balance::Method &method, bool gradStats)
      : model(model), rows(rows), balancer(model, method, seed, gradStats) {
    if (auto config = mtlrt::modelRunConfig(model))
      lr = config->train.lr;
    std::mt19937_64 rng(seed);
    std::normal_distribution<float> normal;
    for (int k = 0; k < model.num_inputs; ++k) {
      const mtl_input_desc &in = model.inputs[k];
      if (in.dtype == MTL_I32) {
        // Embedding ids: small and valid for any vocabulary.
        mtlrt::Buffer ids = allocate(kDistinctBatches * rows * in.elements);
        for (int64_t j = 0; j < ids.size(); ++j)
          ids.ints()[j] = static_cast<int32_t>(rng() % 2);
        intInputs.push_back(std::move(ids));
      } else {
        mtlrt::Buffer x = allocate(kDistinctBatches * rows * in.elements);
        for (int64_t j = 0; j < x.size(); ++j)
          x.floats()[j] = normal(rng);
        floatInputs.push_back(std::move(x));
      }
    }
    for (int t = 0; t < model.num_tasks; ++t) {
      const mtl_task_desc &task = model.tasks[t];
      int64_t width = task.kind == MTL_CLASSIFY ? 1 : task.width;
      mtlrt::Buffer y = allocate(kDistinctBatches * rows * width);
      for (float &v : std::span(y.floats(), size_t(y.size()))) {
        if (task.kind == MTL_CLASSIFY)
          v = static_cast<float>(rng() % task.classes);
        else if (task.kind == MTL_REGRESS)
          v = normal(rng);
        else
          v = static_cast<float>(rng() % 2);
      }
      targets.push_back(std::move(y));
      weights.push_back(static_cast<float>(task.weight));
    }
    // Pointer arrays of batch i: each input and target advanced by i batches.
    for (int i = 0; i < kDistinctBatches; ++i) {
      size_t f = 0, n = 0;
      for (int k = 0; k < model.num_inputs; ++k) {
        int64_t offset = i * rows * model.inputs[k].elements;
        if (model.inputs[k].dtype == MTL_I32)
          inputPtrs.push_back(intInputs[n++].ints() + offset);
        else
          inputPtrs.push_back(floatInputs[f++].floats() + offset);
      }
      for (int t = 0; t < model.num_tasks; ++t)
        targetPtrs.push_back(targets[t].floats() + targets[t].size() / kDistinctBatches * i);
    }
    params = allocate(model.params_size);
    state = allocate(model.state_size);
    grads = allocate(model.grads_size);
    workspace = allocate(model.workspace_fixed + rows * model.workspace_per_row);
    taskLosses.resize(model.num_tasks);
    taskCounts.resize(model.num_tasks);
  }

  /// Fresh parameters and optimizer state (step 1 comes next); false, with a
  /// message, on failure. Called before every sample so that a run never
  /// trains long enough to drive values into the denormal range, where every
  /// floating-point operation costs ~100 cycles (see README.md).
  bool reset(uint64_t seed) {
    mtlrt::Status s = mtlrt::initParams(model, params.floats(), seed);
    if (!s.ok()) {
      fmt::print(stderr, "mtl_step_bench: {}: {}\n", model.name, s.error());
      return false;
    }
    mtlrt::initState(model, state.floats());
    step = 0; // Adam's step count starts again; the batches go on in turn (nextBatch)
    return true;
  }

  /// Runs `calls` training steps back to back.
  void run(int64_t calls, const mtl_parallel *parallel) {
    mtl_result result{0, taskLosses.data(), taskCounts.data(), nullptr, 0, 0, nullptr, 0};
    for (int64_t i = 0; i < calls; ++i) {
      size_t which = static_cast<size_t>(nextBatch++ % kDistinctBatches);
      mtl_batch batch{rows, inputPtrs.data() + which * model.num_inputs,
                      targetPtrs.data() + which * model.num_tasks};
      mtl_hyper hyper{lr, weights.data(), ++step, 0, nullptr};
      // The step as the trainer takes it: gradients, balancing, update.
      balancer.step(batch, hyper, weights, params.floats(), state.floats(), workspace.floats(),
                    grads.floats(), result, parallel);
    }
    lastLoss = result.total_loss;
  }

  float loss() const { return lastLoss; }

private:
  const mtl_model &model;
  int64_t rows;
  /// Allocated as the trainer allocates them (cache-line aligned: malloc's
  /// 16 bytes put an AVX-512 load across two cache lines, bench/README.md).
  std::vector<mtlrt::Buffer> floatInputs, targets, intInputs;
  std::vector<const void *> inputPtrs;
  std::vector<const float *> targetPtrs;
  std::vector<float> weights, taskLosses, taskCounts;
  mtlrt::Buffer params, state, grads, workspace;
  mtlrt::balance::Balancer balancer;
  /// The model's learning rate (its `optimizer`), 0.001 if it records none.
  float lr = 0.001f;
  int64_t step = 0;
  /// The batch of the next call: not reset between samples, so that a sample
  /// of one call does not read the first batch every time.
  int64_t nextBatch = 0;
  float lastLoss = 0;
};

double secondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

/// CPU seconds used by this process so far, all threads together: unlike the
/// wall clock, it does not count time spent waiting for a core that another
/// program holds, which makes it the steadier number on a shared machine.
double processCpuSeconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

Measurement measure(const std::string &name, const mtl_model &model, int64_t rows, int threads,
                    const Budget &budget, const mtlrt::balance::Method &method, bool gradStats) {
  StepRunner runner(model, rows, /*seed=*/1234, method, gradStats);
  Measurement m{name, rows, threads};
  if (!runner.reset(/*seed=*/0))
    return m;
  mtlrt::ThreadPool pool(threads);
  mtl_parallel parallel = pool.abi();
  runner.run(budget.convergedSteps, &parallel);

  // Warm-up: caches, page faults of the arenas, the pool's threads; at least
  // 5 steps and ~10% of the budget. It also tells how long one step takes.
  auto start = Clock::now();
  int64_t warmCalls = 0;
  do {
    runner.run(1, &parallel);
    ++warmCalls;
  } while (warmCalls < 5 || secondsSince(start) < 0.1 * budget.secondsPerConfig);
  double perCall = secondsSince(start) / static_cast<double>(warmCalls);

  int64_t calls = std::max<int64_t>(1, std::ceil(budget.minSampleSeconds / perCall));
  int samples = static_cast<int>(budget.secondsPerConfig / (perCall * calls));
  samples = std::clamp(samples, budget.minSamples, budget.maxSamples);

  std::vector<double> times, cpuTimes;
  times.reserve(samples);
  cpuTimes.reserve(samples);
  for (int s = 0; s < samples; ++s) {
    if (budget.convergedSteps == 0 && !runner.reset(/*seed=*/0))
      return m;
    double cpu0 = processCpuSeconds();
    auto t0 = Clock::now();
    runner.run(calls, &parallel);
    times.push_back(secondsSince(t0) * 1e6 / static_cast<double>(calls));
    cpuTimes.push_back((processCpuSeconds() - cpu0) * 1e6 / static_cast<double>(calls));
  }
  m.samples = samples;
  m.callsPerSample = static_cast<int>(calls);
  m.median = median(times);
  m.min = *std::min_element(times.begin(), times.end());
  m.max = *std::max_element(times.begin(), times.end());
  m.cpuMedian = median(cpuTimes);
  m.finalLoss = runner.loss();
  return m;
}

std::string upper(std::string s) {
  for (char &c : s)
    c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

void printHeader(FILE *out) {
  fmt::print(out, "{:<5} {:>7} {:>7} {:>12} {:>14} {:>11} {:>11} {:>8} {:>12} {:>8}\n", "model",
             "batch", "threads", "us/step", "samples/s", "min us", "max us", "spread",
             "cpu us/step", "GFLOP/s");
}

void printRow(FILE *out, const Measurement &m) {
  double spread = m.median > 0 ? 100.0 * (m.max - m.min) / m.median : 0;
  fmt::print(
      out,
      "{:<5} {:>7} {:>7} {:>12.2f} {:>14.0f} {:>11.2f} {:>11.2f} {:>7.1f}% {:>12.2f} {:>8.1f}\n",
      m.model, m.batch, m.threads, m.median, 1e6 * static_cast<double>(m.batch) / m.median, m.min,
      m.max, spread, m.cpuMedian, m.gflops());
  if (!std::isfinite(m.finalLoss))
    fmt::print(stderr, "warning: {} batch {}: the loss became {} during the run\n", m.model,
               m.batch, m.finalLoss);
  std::fflush(out);
}

nlohmann::json toJson(const std::vector<Measurement> &all, const std::string &cpu,
                      const nlohmann::json &settings) {
  nlohmann::json rows = nlohmann::json::array();
  for (const Measurement &m : all)
    rows.push_back({{"model", m.model},
                    {"batch", m.batch},
                    {"threads", m.threads},
                    {"us_per_step_median", m.median},
                    {"us_per_step_min", m.min},
                    {"us_per_step_max", m.max},
                    {"cpu_us_per_step_median", m.cpuMedian},
                    {"samples_per_s", 1e6 * static_cast<double>(m.batch) / m.median},
                    {"samples", m.samples},
                    {"calls_per_sample", m.callsPerSample},
                    {"product_flops_per_step", m.productFlops},
                    {"product_gflops", m.gflops()}});
  return {{"tool", "mtlc"}, {"target_cpu", cpu}, {"settings", settings}, {"results", rows}};
}

} // namespace

int main(int argc, char **argv) {
  CLI::App app{"mtl_step_bench: time one training step of the benchmark models (bench/models)"};
  std::string modelFilter, jsonPath, modelsDir = MTL_BENCH_DIR "/models", cpu = "native";
  std::vector<int64_t> batchFilter;
  std::vector<int> threadCounts = {2};
  bool perfMap = false, noFtz = false, gradStats = false;
  int optLevel = mtl::backend::TargetOptions{}.optLevel;
  std::string balance = "static";
  Budget budget;
  app.add_option("--model", modelFilter, "Only this model (M1 to M7)");
  app.add_option("--batch", batchFilter, "Only these batch sizes (repeat or comma-separate)")
      ->delimiter(',');
  app.add_option("--threads", threadCounts, "Thread counts to run, e.g. 1 or 1,2 (default 2)")
      ->delimiter(',')
      ->check(CLI::Range(1, 256));
  app.add_option("--json", jsonPath, "Also write the results as JSON to this file ('-': stdout)");
  app.add_option("--seconds", budget.secondsPerConfig, "Timed seconds per configuration")
      ->check(CLI::PositiveNumber);
  app.add_option("--models-dir", modelsDir, "Where m1.mtl ... m6.mtl are");
  app.add_option("--cpu", cpu, "Target CPU for the JIT (native, x86-64-v3, ...)");
  app.add_option("-O", optLevel,
                 "Optimisation level, as mtlc's -O (2: mtlc's pipeline, 3: LLVM's O3)")
      ->check(CLI::Range(0, 3))
      ->capture_default_str();
  app.add_flag("--perf-map", perfMap,
               "Name the generated functions for `perf record` in /tmp/perf-<pid>.map");
  app.add_flag("--no-ftz", noFtz,
               "Keep denormal floats (training flushes them to zero by default: MXCSR FTZ+DAZ)");
  app.add_option("--converged", budget.convergedSteps,
                 "Train this many steps first and time the steps after them, without resetting "
                 "the parameters between samples")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--balance", balance,
                 "Balance the tasks with this method (static, pcgrad, mgda, gradnorm, ...), as "
                 "mtlc train --balance; a one-task model runs static")
      ->capture_default_str();
  app.add_flag("--grad-stats", gradStats,
               "Split the gradients by task every step (the per-task trunk backward passes and "
               "the Gram matrix a gradient method needs), as mtlc train --grad-stats");
  CLI11_PARSE(app, argc, argv);
  auto method = mtlrt::balance::parseMethod(balance);
  if (!method) {
    fmt::print(stderr, "mtl_step_bench: {}\n", method.error());
    return 1;
  }
  // As mtlc train does (mtlrt/FloatMode.h); the pool's workers take the caller's mode.
  if (!noFtz)
    _mm_setcsr(_mm_getcsr() | mtlrt::kFlushDenormals);

  bool anyModel = false;
  std::vector<Measurement> all;
  std::string resolvedCpu;
  // With --json -, the table goes to stderr so stdout stays valid JSON.
  bool jsonToStdout = jsonPath == "-";
  FILE *table = jsonToStdout ? stderr : stdout;
  for (const BenchModel &bm : benchModels()) {
    if (!modelFilter.empty() && upper(modelFilter) != bm.name)
      continue;
    anyModel = true;
    mtl::driver::Compilation c;
    mtl::driver::PipelineOptions options;
    options.target.cpu = cpu;
    options.target.optLevel = optLevel;
    options.taskGradients = gradStats || method->combinesGradients();
    auto t0 = Clock::now();
    auto last = perfMap ? mtl::driver::Stage::Optimize : mtl::driver::Stage::Jit;
    if (!mtl::driver::runPipeline(modelsDir + "/" + bm.file, last, c, options)) {
      fmt::print(stderr, "{}", c.diags.render(false));
      return 1;
    }
    std::unique_ptr<mtl::bench::PerfMapJit> profilingJit;
    if (perfMap) {
      std::string error;
      profilingJit = mtl::bench::jitWithPerfMap(c, options.target, error);
      if (!profilingJit) {
        fmt::print(stderr, "mtl_step_bench: {}: {}\n", bm.file, error);
        return 1;
      }
    }
    const mtl_model &model = *c.compiled;
    if (mtlrt::Status s = mtlrt::checkModel(model); !s.ok()) {
      fmt::print(stderr, "mtl_step_bench: {}: {}\n", bm.file, s.error());
      return 1;
    }
    resolvedCpu = model.target_cpu ? model.target_cpu : "";
    fmt::print(table, "{} ({}): compiled in {:.0f} ms at -O{} for {}\n", bm.name, bm.file,
               secondsSince(t0) * 1e3, optLevel, resolvedCpu);
    for (int threads : threadCounts) {
      printHeader(table);
      for (int64_t rows : bm.batches) {
        if (!batchFilter.empty() &&
            std::find(batchFilter.begin(), batchFilter.end(), rows) == batchFilter.end())
          continue;
        // A gradient method needs tasks that share parameters (M1 has one task).
        const mtlrt::balance::Method used = method->combinesGradients() && !model.task_grad_step
                                                ? mtlrt::balance::Method{}
                                                : *method;
        Measurement m = measure(bm.name, model, rows, threads, budget, used, gradStats);
        if (m.samples == 0)
          return 1;
        m.productFlops = productFlops(c.step.graph, rows);
        printRow(table, m);
        all.push_back(m);
      }
    }
  }
  if (!anyModel) {
    fmt::print(stderr, "mtl_step_bench: unknown model '{}' (expected M1 to M7)\n", modelFilter);
    return 1;
  }
  if (!jsonPath.empty()) {
    // What decides the numbers besides model, batch and threads: compare.py
    // refuses to put runs of different settings in one table.
    const nlohmann::json settings = {
        {"target_cpu", resolvedCpu}, {"opt_level", optLevel},
        {"balance", balance},        {"grad_stats", gradStats},
        {"flush_denormals", !noFtz}, {"converged", budget.convergedSteps}};
    std::string text = toJson(all, resolvedCpu, settings).dump(2) + "\n";
    if (jsonToStdout) {
      std::cout << text;
    } else {
      std::ofstream out(jsonPath);
      out << text;
      if (!out) {
        fmt::print(stderr, "mtl_step_bench: cannot write {}\n", jsonPath);
        return 1;
      }
    }
  }
  return 0;
}

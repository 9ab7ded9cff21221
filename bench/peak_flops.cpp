// peak_flops.cpp: the machine's f32 multiply-add peak, the 100% of bench/README.md's
// "% of peak" column.
//
// Each thread runs independent chains of fused multiply-adds on whole
// registers (AVX-512: 16 floats, AVX2: 8), enough chains to cover the FMA
// units' latency, and nothing else: no loads, no stores. One FMA is two
// floating-point operations per lane. The best of several timed repetitions
// is the peak; all threads start together and the slowest decides.
#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <immintrin.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <fstream>
#include <iostream>
#include <thread>
#include <vector>

namespace {

constexpr int kChains = 12; // ≥ latency (4 cycles) × FMA units (2), and fits the registers
constexpr int64_t kIterations = 20'000'000;

float sumOf(const float *v, int n) {
  float total = 0;
  for (int i = 0; i < n; ++i)
    total += v[i];
  return total;
}

// Each returns a sum of its chains, which the caller keeps, so nothing is dead.
__attribute__((target("avx512f"))) float chainsAvx512(int64_t iterations) {
  __m512 acc[kChains];
  for (int c = 0; c < kChains; ++c)
    acc[c] = _mm512_set1_ps(1.0f + 0.001f * c);
  const __m512 a = _mm512_set1_ps(0.9999999f), b = _mm512_set1_ps(1e-7f);
  for (int64_t i = 0; i < iterations; ++i) {
#pragma GCC unroll 12
    for (int c = 0; c < kChains; ++c)
      acc[c] = _mm512_fmadd_ps(acc[c], a, b);
  }
  float out[16];
  __m512 sum = acc[0];
  for (int c = 1; c < kChains; ++c)
    sum = _mm512_add_ps(sum, acc[c]);
  _mm512_storeu_ps(out, sum);
  return sumOf(out, 16);
}

__attribute__((target("avx2,fma"))) float chainsAvx2(int64_t iterations) {
  __m256 acc[kChains];
  for (int c = 0; c < kChains; ++c)
    acc[c] = _mm256_set1_ps(1.0f + 0.001f * c);
  const __m256 a = _mm256_set1_ps(0.9999999f), b = _mm256_set1_ps(1e-7f);
  for (int64_t i = 0; i < iterations; ++i) {
#pragma GCC unroll 12
    for (int c = 0; c < kChains; ++c)
      acc[c] = _mm256_fmadd_ps(acc[c], a, b);
  }
  float out[8];
  __m256 sum = acc[0];
  for (int c = 1; c < kChains; ++c)
    sum = _mm256_add_ps(sum, acc[c]);
  _mm256_storeu_ps(out, sum);
  return sumOf(out, 8);
}

struct Isa {
  const char *name;
  int lanes;
  float (*run)(int64_t);
};

// GFLOP/s of `threads` threads running `isa`'s chains at once: the best of `repeats`.
double measure(const Isa &isa, int threads, int repeats, int64_t iterations) {
  double best = 0;
  std::vector<float> sums(static_cast<size_t>(threads)); // kept, so nothing is dead
  for (int r = 0; r < repeats; ++r) {
    std::atomic<int> ready{0};
    std::atomic<bool> go{false};
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; ++t)
      pool.emplace_back([&, t] {
        ++ready;
        while (!go.load())
          std::this_thread::yield();
        sums[static_cast<size_t>(t)] = isa.run(iterations);
      });
    while (ready.load() < threads)
      std::this_thread::yield();
    auto t0 = std::chrono::steady_clock::now();
    go = true;
    for (std::thread &t : pool)
      t.join();
    double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    double flops = 2.0 * isa.lanes * kChains * static_cast<double>(iterations) * threads;
    best = std::max(best, flops / seconds / 1e9);
  }
  if (std::find(sums.begin(), sums.end(), 12345.0f) != sums.end()) // never: uses the sums
    fmt::print("\n");
  return best;
}

} // namespace

int main(int argc, char **argv) {
  CLI::App app{"mtl_peak_flops: the f32 multiply-add peak of this machine, in GFLOP/s"};
  std::vector<int> threadCounts;
  int repeats = 5;
  std::string jsonPath;
  app.add_option("--threads", threadCounts, "Thread counts (default 1 and every core)")
      ->delimiter(',')
      ->check(CLI::Range(1, 256));
  app.add_option("--repeats", repeats, "Timed repetitions; the best counts")
      ->check(CLI::Range(1, 100))
      ->capture_default_str();
  app.add_option("--json", jsonPath, "Also write the results as JSON to this file");
  CLI11_PARSE(app, argc, argv);
  if (threadCounts.empty()) {
    threadCounts = {1};
    int cores = static_cast<int>(std::thread::hardware_concurrency());
    if (cores > 1)
      threadCounts.push_back(cores);
  }

  std::vector<Isa> isas;
  if (__builtin_cpu_supports("avx512f"))
    isas.push_back({"avx512", 16, chainsAvx512});
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
    isas.push_back({"avx2", 8, chainsAvx2});
  if (isas.empty()) {
    fmt::print(stderr, "mtl_peak_flops: this CPU has neither AVX-512 nor AVX2 with FMA\n");
    return 1;
  }
  nlohmann::json rows = nlohmann::json::array();
  fmt::print("{:<8} {:>7} {:>10}\n", "isa", "threads", "GFLOP/s");
  for (const Isa &isa : isas)
    for (int threads : threadCounts) {
      double gflops = measure(isa, threads, repeats, kIterations);
      fmt::print("{:<8} {:>7} {:>10.1f}\n", isa.name, threads, gflops);
      rows.push_back({{"isa", isa.name}, {"threads", threads}, {"gflops", gflops}});
    }
  if (!jsonPath.empty()) {
    std::ofstream out(jsonPath);
    out << nlohmann::json{{"tool", "mtl_peak_flops"}, {"results", rows}}.dump(2) << "\n";
    if (!out) {
      fmt::print(stderr, "mtl_peak_flops: cannot write {}\n", jsonPath);
      return 1;
    }
  }
  return 0;
}

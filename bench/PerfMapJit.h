// PerfMapJit.h: a JIT for profiling the benchmark: generated functions get names in perf.
#pragma once

#include "driver/Pipeline.h"

#include <memory>
#include <string>

struct mtl_model;

namespace mtl::bench {

/// Owns the JIT that holds a model compiled by `jitWithPerfMap`.
class PerfMapJit {
public:
  virtual ~PerfMapJit() = default;
};

/// Compiles `c.module` (the pipeline run up to Stage::Optimize) like the
/// driver's JIT stage does, but with RuntimeDyld and a listener that appends
/// every generated function (`mtl.kernel*`, `mtl.train_step`, ...) with its
/// address and size to /tmp/perf-<pid>.map, the file `perf report` reads to
/// name code in anonymous memory. Sets `c.compiled`; the returned object must
/// outlive every use of the model. On failure, returns null and sets `error`.
std::unique_ptr<PerfMapJit>
jitWithPerfMap(driver::Compilation &c, const backend::TargetOptions &target, std::string &error);

} // namespace mtl::bench

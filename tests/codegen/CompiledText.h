// CompiledText.h: a model given as .mtl text, compiled to JIT code for a test.
#pragma once

#include "driver/Pipeline.h"

#include <gtest/gtest.h>

#include <fstream>
#include <string>

namespace mtl::test {

/// Writes `text` to TempDir()/NAME.mtl (one file per name: ctest runs tests
/// in parallel) and compiles it with `options` (an `adjust` that sets the
/// optimizer, say); c.compiled is null after a failure, which the
/// constructor reports.
struct CompiledText {
  driver::Compilation c;
  CompiledText(const std::string &text, const std::string &name,
               const driver::PipelineOptions &options = {}) {
    const std::string path = ::testing::TempDir() + name + ".mtl";
    std::ofstream(path) << text;
    EXPECT_TRUE(driver::runPipeline(path, driver::Stage::Jit, c, options)) << c.diags.render(false);
  }
};

} // namespace mtl::test

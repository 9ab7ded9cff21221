// CompiledText.h: a model given as .mtl text, compiled to JIT code for a test.
#pragma once

#include "driver/Pipeline.h"

#include <gtest/gtest.h>

#include <cctype>
#include <fstream>
#include <string>

namespace mtl::test {

/// The path TempDir()/PREFIX_TEST.mtl for the test that runs: ctest runs
/// tests in parallel, the tests of one fixture too, each writing its file.
inline std::string testFile(const std::string &prefix) {
  std::string test = ::testing::UnitTest::GetInstance()->current_test_info()->name();
  for (char &ch : test)
    ch = std::isalnum(static_cast<unsigned char>(ch)) ? ch : '_';
  return ::testing::TempDir() + prefix + "_" + test + ".mtl";
}

/// Writes `text` to testFile(NAME) and compiles it with `options` (an
/// `adjust` that sets the optimizer, say); c.compiled is null after a
/// failure, which the constructor reports.
struct CompiledText {
  driver::Compilation c;
  CompiledText(const std::string &text, const std::string &name,
               const driver::PipelineOptions &options = {}) {
    const std::string path = testFile(name);
    std::ofstream(path) << text;
    EXPECT_TRUE(driver::runPipeline(path, driver::Stage::Jit, c, options)) << c.diags.render(false);
  }
};

} // namespace mtl::test

// passes_golden_test.cpp: each IR pass on hand-written graphs, against golden output.
//
// A case is tests/passes/cases/NAME.ir: a graph in the textual IR whose
// first line is `// PASS: cse`, `dce`, `fusion` or `memory`. The test parses
// it, runs that pass the way the pipeline does, and compares what it prints
// with NAME.expected (see tests/passes/README.md). MTL_UPDATE_GOLDEN=1
// rewrites the expected files instead; read every diff before committing it.
#include "ir/Parser.h"
#include "ir/Printer.h"
#include "passes/CommonSubexpr.h"
#include "passes/DeadCode.h"
#include "passes/Fusion.h"
#include "passes/MemoryPlan.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <fstream>
#include <sstream>

namespace mtl {
namespace {

namespace fs = std::filesystem;

const fs::path kCases = fs::path(MTL_SOURCE_DIR) / "tests/passes/cases";

std::string readFile(const fs::path &path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

/// The fused values, one `fused %N` line each.
std::string fusedLines(const ir::Graph &g, const std::vector<bool> &fused) {
  std::string out;
  for (size_t i = 0; i < fused.size(); ++i)
    if (fused[i])
      out += fmt::format("fused {}\n", ir::valueName(g, static_cast<ir::ValueId>(i)));
  return out;
}

/// Where the train step's plan puts each value it computes.
std::string memoryLines(const ir::Graph &g, const ir::StepSignature &sig) {
  std::vector<ir::ValueId> roots = passes::resultValues(sig);
  std::vector<bool> needed = passes::neededFor(g, roots), live(g.size(), false);
  for (ir::ValueId r : roots)
    live[static_cast<size_t>(r)] = true;
  std::vector<bool> fused = passes::fuseElementwise(g, sig);
  passes::MemoryPlan plan = passes::planMemory(g, needed, live, fused);
  std::string out;
  for (size_t i = 0; i < g.size(); ++i) {
    const ir::Op &op = g.ops()[i];
    auto id = static_cast<ir::ValueId>(i);
    if (!needed[i] || op.kind == ir::OpKind::Input || op.kind == ir::OpKind::Param)
      continue;
    std::string where;
    if (fused[i])
      where = "fused";
    else if (plan.storage[i] != id)
      where = "in " + ir::valueName(g, plan.storage[i]);
    else
      where = fmt::format("{} {}", op.type.batched ? "per-row" : "fixed", plan.offset[i]);
    out += fmt::format("{}: {}\n", ir::valueName(g, id), where);
  }
  return out + fmt::format("workspace: {} fixed + {} per row\n", plan.fixedSize, plan.perRowSize);
}

/// Runs the case's pass and returns what the expected file holds.
std::string runCase(const std::string &text, const std::string &name) {
  ir::ParsedStep step = ir::parseStep(text, name);
  if (!step.ok())
    return "parse errors:\n" + fmt::format("{}\n", fmt::join(step.errors, "\n"));
  std::string pass = text.substr(0, text.find('\n'));
  if (pass == "// PASS: cse") {
    size_t removed = passes::eliminateCommonSubexpressions(step.graph, step.signature);
    return fmt::format("// removed {}\n", removed) + ir::print(step.graph);
  }
  if (pass == "// PASS: dce") {
    size_t removed = passes::eliminateDeadCode(step.graph, step.signature);
    return fmt::format("// removed {}\n", removed) + ir::print(step.graph);
  }
  if (pass == "// PASS: fusion")
    return fusedLines(step.graph, passes::fuseElementwise(step.graph, step.signature));
  if (pass == "// PASS: memory")
    return memoryLines(step.graph, step.signature);
  return "unknown first line '" + pass + "': write // PASS: cse, dce, fusion or memory\n";
}

std::vector<std::string> caseNames() {
  std::vector<std::string> names;
  for (const auto &e : fs::directory_iterator(kCases))
    if (e.path().extension() == ".ir")
      names.push_back(e.path().stem().string());
  std::sort(names.begin(), names.end());
  return names;
}

class PassGolden : public ::testing::TestWithParam<std::string> {};

TEST_P(PassGolden, OutputMatchesExpected) {
  const std::string name = GetParam();
  std::string actual = runCase(readFile(kCases / (name + ".ir")), name + ".ir");
  const fs::path expectedPath = kCases / (name + ".expected");
  if (std::getenv("MTL_UPDATE_GOLDEN")) {
    std::ofstream(expectedPath, std::ios::binary) << actual;
    return;
  }
  ASSERT_TRUE(fs::exists(expectedPath))
      << expectedPath << " is missing; run with MTL_UPDATE_GOLDEN=1";
  EXPECT_EQ(actual, readFile(expectedPath));
}

INSTANTIATE_TEST_SUITE_P(Cases, PassGolden, ::testing::ValuesIn(caseNames()),
                         [](const auto &info) { return info.param; });

} // namespace
} // namespace mtl

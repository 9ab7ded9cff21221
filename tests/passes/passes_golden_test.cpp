// passes_golden_test.cpp: each IR pass on hand-written graphs, against golden output.
//
// A case is tests/passes/cases/NAME.ir: a graph in the textual IR whose
// first line is `// PASS: cse`, `dce`, `activations`, `fusion`, `memory` or `lanes`. The test
// parses it, runs that pass the way the pipeline does, and compares what it prints with
// NAME.expected (see tests/passes/README.md). MTL_UPDATE_GOLDEN=1 rewrites the expected files
// instead; read every diff before committing it.
#include "ir/Parser.h"
#include "ir/Printer.h"
#include "passes/Activations.h"
#include "passes/CommonSubexpr.h"
#include "passes/DeadCode.h"
#include "passes/Fusion.h"
#include "passes/Lanes.h"
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

/// The fused values, one `fused %N` line each, then the carried ones, `carried %N`.
std::string fusedLines(const ir::Graph &g, const std::vector<bool> &fused,
                       const std::vector<bool> &carried) {
  std::string out;
  for (size_t i = 0; i < fused.size(); ++i)
    if (fused[i])
      out += fmt::format("fused {}\n", ir::valueName(g, static_cast<ir::ValueId>(i)));
  for (size_t i = 0; i < carried.size(); ++i)
    if (carried[i])
      out += fmt::format("carried {}\n", ir::valueName(g, static_cast<ir::ValueId>(i)));
  return out;
}

/// The train step's values, fused and carried values and memory plan, as the
/// pipeline makes them.
struct TrainPlan {
  std::vector<bool> needed, fused, carried;
  passes::MemoryPlan plan;
};

TrainPlan trainPlan(const ir::Graph &g, const ir::StepSignature &sig) {
  std::vector<ir::ValueId> roots = passes::resultValues(sig);
  TrainPlan p;
  p.needed = passes::neededFor(g, roots);
  std::vector<bool> live(g.size(), false);
  for (ir::ValueId r : roots)
    live[static_cast<size_t>(r)] = true;
  p.fused = passes::fuseElementwise(g, roots, p.needed);
  p.carried = passes::carriedProducts(g, roots, p.needed);
  p.plan = passes::planMemory(g, p.needed, live, p.fused, p.carried);
  return p;
}

/// Where `plan` puts each value the step computes.
std::string slotLines(const ir::Graph &g, const std::vector<bool> &needed,
                      const std::vector<bool> &fused, const std::vector<bool> &carried,
                      const passes::MemoryPlan &plan) {
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
      where = fmt::format("{}{} {}", carried[i] ? "carried, " : "",
                          op.type.batched ? "per-row" : "fixed", plan.offset[i]);
    out += fmt::format("{}: {}\n", ir::valueName(g, id), where);
  }
  return out + fmt::format("workspace: {} fixed + {} per row\n", plan.fixedSize, plan.perRowSize);
}

/// Where the train step's plan puts each value it computes.
std::string memoryLines(const ir::Graph &g, const ir::StepSignature &sig) {
  auto [needed, fused, carried, plan] = trainPlan(g, sig);
  return slotLines(g, needed, fused, carried, plan);
}

/// The train step's segments: `one:` and the ops of a lane alone, or `two:`,
/// the ops of each lane and the batches at which they run on two threads; then the memory plan
/// made for them, as slotLines prints one.
std::string laneLines(const ir::Graph &g, const ir::StepSignature &sig) {
  auto [needed, fused, carried, inOrder] = trainPlan(g, sig);
  std::vector<ir::ValueId> ops;
  for (size_t i = 0; i < g.size(); ++i)
    if (needed[i])
      ops.push_back(static_cast<ir::ValueId>(i));
  std::vector<passes::Segment> segments = passes::planLanes(g, ops, fused, 256);
  auto names = [&](const std::vector<ir::ValueId> &ids) {
    std::vector<std::string> out;
    for (ir::ValueId id : ids)
      out.push_back(ir::valueName(g, id));
    return fmt::format("{}", fmt::join(out, " "));
  };
  std::string out;
  for (const passes::Segment &s : segments)
    out += s.lanes[1].empty()
               ? fmt::format("one: {}\n", names(s.lanes[0]))
               : fmt::format("two: {} | {} (threads at {} to {} rows)\n", names(s.lanes[0]),
                             names(s.lanes[1]), s.minRows, s.maxRows);
  std::vector<bool> live(g.size(), false);
  for (ir::ValueId r : passes::resultValues(sig))
    live[static_cast<size_t>(r)] = true;
  return out + slotLines(g, needed, fused, carried,
                         passes::planMemory(g, needed, live, fused, segments, carried));
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
  if (pass == "// PASS: activations") {
    size_t fused = passes::fuseActivations(step.graph, step.signature);
    return fmt::format("// fused {}\n", fused) + ir::print(step.graph);
  }
  if (pass == "// PASS: fusion") {
    TrainPlan p = trainPlan(step.graph, step.signature);
    return fusedLines(step.graph, p.fused, p.carried);
  }
  if (pass == "// PASS: memory")
    return memoryLines(step.graph, step.signature);
  if (pass == "// PASS: lanes")
    return laneLines(step.graph, step.signature);
  return "unknown first line '" + pass +
         "': write // PASS: cse, dce, activations, fusion, memory or lanes\n";
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

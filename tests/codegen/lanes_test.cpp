// lanes_test.cpp: passes::planLanes on the train step of every example and
// test model, checked by simulating the workspace float by float. Every op
// with code is in exactly one segment; run in either order of each pair of
// lanes (the first lane first, or the second), every op finds each value it
// reads in that value's slot, not overwritten; and no float that one lane of
// a pair writes is read or written by the other, so the two can run at once.
#include "ModelFiles.h"
#include "codegen/Emitter.h"
#include "driver/Pipeline.h"
#include "passes/DeadCode.h"
#include "passes/Fusion.h"
#include "passes/Lanes.h"

#include <gtest/gtest.h>

#include <map>
#include <set>

namespace mtl {
namespace lanes {

using ir::ValueId;

struct Step {
  driver::Compilation c;
  std::vector<bool> needed, fused;
  passes::MemoryPlan plan;
  std::vector<passes::Segment> segments;
};

void planStep(const std::string &entry, Step &s) {
  driver::PipelineOptions options;
  options.modelName = test::modelOf(entry);
  ASSERT_TRUE(driver::runPipeline(test::modelPath(entry), driver::Stage::Passes, s.c, options))
      << s.c.diags.render(false);
  const ir::Graph &g = s.c.step.graph;
  std::vector<ValueId> roots = passes::resultValues(s.c.step.signature);
  s.needed = passes::neededFor(g, roots);
  std::vector<bool> live(g.size(), false);
  for (ValueId r : roots)
    live[static_cast<size_t>(r)] = true;
  std::vector<ValueId> ops;
  for (size_t i = 0; i < g.size(); ++i)
    if (s.needed[i])
      ops.push_back(static_cast<ValueId>(i));
  s.fused = passes::fuseElementwise(g, roots, s.needed);
  s.segments = passes::planLanes(g, ops, s.fused, codegen::Emitter::kChunkOps);
  s.plan = passes::planMemory(g, s.needed, live, s.fused, s.segments);
}

bool isFused(const Step &s, ValueId v) { return s.fused[v]; }

/// The workspace as floats: which value each float holds (-1 for none).
class Workspace {
public:
  explicit Workspace(const Step &s) : s(s) {}

  /// The floats of value v's slot: region (0 fixed, 1 per row) and
  /// [begin, end); none for a value outside the workspace (an input, a parameter).
  bool slot(ValueId v, int &region, int64_t &begin, int64_t &end) const {
    ValueId owner = s.plan.storage[v];
    begin = s.plan.offset[owner];
    if (begin < 0)
      return false;
    const ir::TensorType &t = s.c.step.graph.type(owner);
    region = t.batched ? 1 : 0;
    end = begin + t.rowElements();
    return true;
  }

  /// The values op `id` reads: its operands, through fused operands theirs.
  std::vector<ValueId> reads(ValueId id) const {
    std::vector<ValueId> out, todo = s.c.step.graph.op(id).operands;
    while (!todo.empty()) {
      ValueId v = todo.back();
      todo.pop_back();
      const std::vector<ValueId> &more = s.c.step.graph.op(v).operands;
      if (isFused(s, v))
        todo.insert(todo.end(), more.begin(), more.end());
      else
        out.push_back(v);
    }
    return out;
  }

  /// Runs op `id`: each value it reads must be in its slot; then its own slot holds it.
  void run(ValueId id, const std::string &where) {
    int region;
    int64_t begin, end;
    for (ValueId v : reads(id))
      if (slot(v, region, begin, end))
        for (int64_t f = begin; f < end; ++f) {
          ASSERT_EQ(holds[region][f], s.plan.storage[v])
              << where << ": %" << id << " reads %" << v << " at float " << f;
        }
    if (slot(id, region, begin, end))
      for (int64_t f = begin; f < end; ++f)
        holds[region][f] = id;
  }

  /// The floats op `id` writes, and those it reads or writes, as (region, float).
  void floats(ValueId id, std::set<std::pair<int, int64_t>> &writes,
              std::set<std::pair<int, int64_t>> &touches) const {
    int region;
    int64_t begin, end;
    std::vector<ValueId> all = reads(id);
    all.push_back(id);
    for (ValueId v : all)
      if (slot(v, region, begin, end))
        for (int64_t f = begin; f < end; ++f) {
          touches.insert({region, f});
          if (v == id)
            writes.insert({region, f});
        }
  }

private:
  const Step &s;
  std::map<int64_t, ValueId> holds[2];
};

bool hasCode(const Step &s, ValueId id) {
  ir::OpKind kind = s.c.step.graph.op(id).kind;
  return s.needed[id] && !isFused(s, id) && !ir::isNamedLeaf(kind) && kind != ir::OpKind::Reshape;
}

class Lanes : public ::testing::TestWithParam<std::string> {};

TEST_P(Lanes, EveryOpOnceAndPairsIndependent) {
  Step s;
  planStep(GetParam(), s);
  if (HasFatalFailure())
    return;
  const ir::Graph &g = s.c.step.graph;
  std::vector<int> seen(g.size(), 0);
  for (const passes::Segment &seg : s.segments)
    for (const auto &lane : seg.lanes)
      for (ValueId id : lane)
        ++seen[id];
  for (size_t i = 0; i < g.size(); ++i)
    EXPECT_EQ(seen[i], hasCode(s, static_cast<ValueId>(i)) ? 1 : 0) << "%" << i;

  for (int first = 0; first < 2; ++first) {
    Workspace ws(s);
    for (size_t k = 0; k < s.segments.size(); ++k)
      for (int l = 0; l < 2; ++l)
        for (ValueId id : s.segments[k].lanes[l ^ first]) {
          ws.run(id, "segment " + std::to_string(k) + ", lane " + std::to_string(l ^ first));
          if (HasFatalFailure())
            return;
        }
  }
  Workspace ws(s);
  for (const passes::Segment &seg : s.segments) {
    std::set<std::pair<int, int64_t>> writes[2], touches[2];
    for (int l = 0; l < 2; ++l)
      for (ValueId id : seg.lanes[l])
        ws.floats(id, writes[l], touches[l]);
    for (int l = 0; l < 2; ++l)
      for (const auto &f : writes[l])
        EXPECT_EQ(touches[1 - l].count(f), 0u)
            << "lane " << l << " writes float " << f.second << " of region " << f.first
            << ", which the other lane touches";
  }
}

INSTANTIATE_TEST_SUITE_P(Models, Lanes, ::testing::ValuesIn(test::modelFiles()),
                         [](const auto &info) {
                           std::string name = info.param;
                           for (char &ch : name)
                             if (!isalnum(static_cast<unsigned char>(ch)))
                               ch = '_';
                           return name;
                         });

TEST(Lanes, ExpertsAndHeadsGetTwoLanes) {
  // The MMoE's experts and gates are independent of each other, and so are
  // its two towers: its step has pairs of lanes that run on two threads.
  Step s;
  planStep("examples/mmoe_synthetic.mtl#mmoe", s);
  ASSERT_FALSE(HasFatalFailure());
  size_t pairs = 0;
  for (const passes::Segment &seg : s.segments)
    if (!seg.lanes[1].empty()) {
      EXPECT_GE(seg.maxRows, seg.minRows);
      pairs += seg.minRows <= 256 && seg.maxRows >= 256;
    }
  EXPECT_GE(pairs, 2u) << "pairs that run on two threads at 256 rows";
}

} // namespace lanes
} // namespace mtl

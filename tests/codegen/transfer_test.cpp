// transfer_test.cpp: starting from another model's checkpoint by name, and
// freezing parameter groups, on generated code (the update honours
// mtl_hyper.lr_scales; optimizer_formulas_test checks its arithmetic).
#include "CompiledText.h"
#include "driver/Pipeline.h"
#include "mtlrt/Abi.h"
#include "mtlrt/Checkpoint.h"
#include "mtlrt/Trainer.h"

#include <gtest/gtest.h>

#include <fstream>
#include <random>
#include <string>

namespace mtl {
namespace transfer {

// The encoder of `pretrain` has the shape of the trunk of `target`.
constexpr const char *kPretrain = R"(
model pretrain {
  input x : f32[4]
  shared encoder = x -> dense(6) -> relu
  task rebuild : regress(4) { head = encoder -> dense(4) }
  optimizer adam(lr = 0.01)
}
)";
constexpr const char *kTarget = R"(
model target {
  input x : f32[4]
  shared trunk = x -> dense(6) -> relu
  task a : regress { head = trunk -> dense(1) }
  task b : binary { head = trunk -> dense(1) }
  optimizer adam(lr = 0.01)
}
)";

using Compiled = test::CompiledText;

/// Random rows of x with targets for both models' tasks.
mtlrt::Dataset rows(int64_t n, int tasks, int64_t firstWidth) {
  mtlrt::Dataset d;
  d.name = "random";
  d.rows = n;
  d.inputWidths = {4};
  d.inputs.resize(1);
  d.targetWidths = tasks == 1 ? std::vector<int64_t>{firstWidth} : std::vector<int64_t>{1, 1};
  d.targets.resize(size_t(tasks));
  d.classNames.resize(size_t(tasks));
  d.categories.resize(1);
  d.standardizeInputs = {0};
  d.standardizeTargets.assign(size_t(tasks), 0);
  std::mt19937 rng(5);
  std::normal_distribution<float> normal;
  for (int64_t r = 0; r < n; ++r) {
    float sum = 0;
    for (int k = 0; k < 4; ++k) {
      float x = normal(rng);
      sum += x;
      d.inputs[0].write().push_back(x);
      if (tasks == 1)
        d.targets[0].push_back(x);
    }
    if (tasks == 2) {
      d.targets[0].push_back(sum);
      d.targets[1].push_back(sum > 0 ? 1.0f : 0.0f);
    }
    d.sourceRows.push_back(r);
  }
  return d;
}

mtlrt::TrainOptions options() {
  mtlrt::TrainOptions o;
  o.seed = 1;
  o.threads = 1;
  o.batch = 16;
  o.epochs = 2;
  o.lr = 0.01f;
  o.quiet = true;
  return o;
}

std::vector<float> tensor(const mtlrt::Trainer &t, const std::string &name) {
  const mtl_model &m = t.model();
  for (int32_t p = 0; p < m.num_params; ++p)
    if (name == m.params[p].name) {
      auto all = t.params().subspan(size_t(m.params[p].offset), size_t(m.params[p].size));
      return {all.begin(), all.end()};
    }
  ADD_FAILURE() << "no parameter " << name;
  return {};
}

/// A checkpoint of the pretraining model after two epochs.
mtlrt::Checkpoint pretrained(const Compiled &pre) {
  auto t = mtlrt::Trainer::create(pre.c.compiled, options());
  EXPECT_TRUE(t.ok()) << (t.ok() ? "" : t.error());
  EXPECT_TRUE(t->fit(rows(200, 1, 4)).ok());
  return mtlrt::captureCheckpoint(*t).value();
}

TEST(Transfer, InitByNameWithAMapAndAFrozenTrunk) {
  Compiled pre(kPretrain, "transfer_pre"), target(kTarget, "transfer_target");
  ASSERT_NE(pre.c.compiled, nullptr);
  ASSERT_NE(target.c.compiled, nullptr);
  mtlrt::Checkpoint ck = pretrained(pre);
  const std::string path = ::testing::TempDir() + "transfer_pre.safetensors";
  ASSERT_TRUE(mtlrt::writeCheckpoint(path, ck).ok());

  mtlrt::TrainOptions o = options();
  o.initFrom = path;
  o.initMap = {"trunk.* <- encoder.*"};
  o.freeze = {"trunk"};
  auto t = mtlrt::Trainer::create(target.c.compiled, o);
  ASSERT_TRUE(t.ok()) << t.error();
  const mtlrt::InitReport &report = *t->initReport();
  EXPECT_EQ(report.loaded, (std::vector<std::string>{"trunk.0.weight <- encoder.0.weight",
                                                     "trunk.0.bias <- encoder.0.bias"}));
  EXPECT_EQ(report.fresh,
            (std::vector<std::string>{"a.0.weight", "a.0.bias", "b.0.weight", "b.0.bias"}));
  EXPECT_EQ(report.ignored, (std::vector<std::string>{"rebuild.0.weight", "rebuild.0.bias"}));
  const std::vector<float> encoder = ck.find("encoder.0.weight")->floats();
  EXPECT_EQ(tensor(*t, "trunk.0.weight"), encoder);

  // Two epochs with the trunk frozen: it stays the encoder bit for bit; the heads learn.
  const std::vector<float> headBefore = tensor(*t, "a.0.weight");
  ASSERT_TRUE(t->fit(rows(200, 2, 1)).ok());
  EXPECT_EQ(tensor(*t, "trunk.0.weight"), encoder);
  EXPECT_EQ(tensor(*t, "trunk.0.bias"), ck.find("encoder.0.bias")->floats());
  EXPECT_NE(tensor(*t, "a.0.weight"), headBefore);

  // Unfrozen after epoch 1, the trunk trains in epoch 2.
  o.unfreezeAfter = 1;
  auto thawed = mtlrt::Trainer::create(target.c.compiled, o);
  ASSERT_TRUE(thawed.ok()) << thawed.error();
  ASSERT_TRUE(thawed->fit(rows(200, 2, 1)).ok());
  EXPECT_NE(tensor(*thawed, "trunk.0.weight"), encoder);
}

TEST(Transfer, MistakesAreNamed) {
  Compiled pre(kPretrain, "transfer_pre2"), target(kTarget, "transfer_target2");
  ASSERT_NE(pre.c.compiled, nullptr);
  ASSERT_NE(target.c.compiled, nullptr);
  mtlrt::Checkpoint ck = pretrained(pre);
  ck.source = "pre.safetensors";
  auto t = mtlrt::Trainer::create(target.c.compiled, options());
  ASSERT_TRUE(t.ok());
  // A rule that maps nothing, and one that maps tensors of different shapes.
  auto none = mtlrt::initFromCheckpoint(ck, *t, {"tronk.* <- encoder.*"});
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.error(), "pre.safetensors: cannot initialise from it: 'tronk.* <- encoder.*' "
                          "maps no parameter of model 'target'");
  auto shapes = mtlrt::initFromCheckpoint(ck, *t, {"a <- rebuild"});
  ASSERT_FALSE(shapes.ok());
  EXPECT_EQ(shapes.error(),
            "pre.safetensors: cannot initialise from it: 'a <- rebuild' maps tensors of different "
            "shapes: a.0.weight <- rebuild.0.weight: checkpoint [4, 6], model [1, 6]; 'a <- "
            "rebuild' maps tensors of different shapes: a.0.bias <- rebuild.0.bias: checkpoint "
            "[4], model [1]");
  // A tensor of the right shape but another element type (an I64 tensor, as
  // PyTorch saves a batch_norm's num_batches_tracked) is named for its dtype.
  mtlrt::Checkpoint typed = ck;
  for (mtlrt::CheckpointTensor &tensor : typed.tensors)
    if (tensor.name == "encoder.0.bias") {
      tensor.dtype = mtlrt::Dtype::I64;
      tensor.data.resize(tensor.data.size() * 2);
    }
  auto dtypes = mtlrt::initFromCheckpoint(typed, *t, {"trunk.* <- encoder.*"});
  ASSERT_FALSE(dtypes.ok());
  EXPECT_EQ(dtypes.error(), "pre.safetensors: cannot initialise from it: 'trunk.* <- encoder.*' "
                            "maps tensors of different dtypes: trunk.0.bias <- encoder.0.bias: "
                            "checkpoint I64, model F32");
  for (mtlrt::CheckpointTensor &tensor : typed.tensors) // the target's names, no map
    if (tensor.name.rfind("encoder.", 0) == 0)
      tensor.name = "trunk." + tensor.name.substr(8);
  auto fresh = mtlrt::initFromCheckpoint(typed, *t, {});
  ASSERT_TRUE(fresh.ok()) << fresh.error();
  EXPECT_EQ(fresh->loaded, (std::vector<std::string>{"trunk.0.weight"}));
  EXPECT_EQ(fresh->fresh[0],
            "trunk.0.bias (dtype differs: trunk.0.bias: checkpoint I64, model F32)");
  auto bad = mtlrt::initFromCheckpoint(ck, *t, {"trunk -> encoder"});
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().find("expected MODEL <- CHECKPOINT"), std::string::npos) << bad.error();
  // A checkpoint that gives nothing by name (another model's) is an error too.
  auto nothing = mtlrt::initFromCheckpoint(ck, *t, {});
  ASSERT_FALSE(nothing.ok());
  EXPECT_EQ(nothing.error(),
            "pre.safetensors: cannot initialise from it: no parameter of model 'target' is in it "
            "by name and shape (the model's: trunk.0.weight, trunk.0.bias, a.0.weight, a.0.bias, "
            "b.0.weight, b.0.bias); an init map renames, such as 'trunk.* <- encoder.*'");
  // Freezing a group the model does not have.
  mtlrt::TrainOptions o = options();
  o.freeze = {"trunkk"};
  auto frozen = mtlrt::Trainer::create(target.c.compiled, o);
  ASSERT_FALSE(frozen.ok());
  EXPECT_EQ(frozen.error(), "freeze: 'trunkk' names no parameters of model 'target' (its groups: "
                            "trunk, a, b); did you mean 'trunk'?");
}

} // namespace transfer
} // namespace mtl

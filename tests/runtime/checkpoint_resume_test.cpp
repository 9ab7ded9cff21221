// checkpoint_resume_test.cpp: checkpoints in the Trainer: exact resume, initFrom, saveInit,
// best and last, and the checks that refuse a checkpoint that does not fit.
#include "TestFiles.h"
#include "TrainerTestModel.h"
#include "mtlrt/Checkpoint.h"
#include "mtlrt/Trainer.h"

#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>

using namespace mtlrt;
namespace fs = std::filesystem;

namespace {
TrainOptions baseOptions(const fs::path &dir) {
  TrainOptions o;
  o.epochs = 4;
  o.batch = 16;
  o.seed = 21;
  o.lr = 0.03f;
  o.validate = 0.2;
  o.quiet = true;
  o.keepStepLosses = true;
  o.checkpointDir = dir.string();
  o.earlyStop = {true, 100, "y.loss", 0};
  return o;
}

Dataset standardisedData() {
  Dataset data = testmodel::makeData(150, 9, 3.0f, 5.0f);
  data.standardizeInputs = {1};
  data.standardizeTargets = {1, 0, 0};
  return data;
}

Trainer create(const TrainOptions &o) {
  Result<Trainer> t = Trainer::create(&testmodel::kModel, o);
  EXPECT_TRUE(t.ok()) << (t.ok() ? "" : t.error());
  return std::move(t.value());
}

TrainResult fit(Trainer &trainer, const Dataset &data) {
  Result<TrainResult> r = trainer.fit(data);
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error());
  return r.ok() ? std::move(r.value()) : TrainResult{};
}

bool sameBits(std::span<const float> a, std::span<const float> b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * 4) == 0;
}

std::string fileText(const fs::path &path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}
} // namespace

TEST(CheckpointResume, StoppedAndResumedRunIsBitIdentical) {
  Dataset data = standardisedData();
  fs::path straightDir = mtl::test::scratchDir("resume", "straight"),
           splitDir = mtl::test::scratchDir("resume", "split");

  Trainer straight = create(baseOptions(straightDir));
  TrainResult all = fit(straight, data);
  ASSERT_EQ(all.epochs.size(), 4u);

  TrainOptions o = baseOptions(splitDir);
  o.epochs = 2;
  o.logPath = (splitDir / "log.jsonl").string();
  Trainer first = create(o);
  TrainResult head = fit(first, data);
  o.epochs = 4;
  o.resumeFrom = (splitDir / "last.safetensors").string();
  Trainer resumed = create(o);
  EXPECT_EQ(resumed.step(), first.step());
  TrainResult tail = fit(resumed, data);
  ASSERT_EQ(tail.epochs.size(), 2u);
  EXPECT_EQ(tail.epochs.front().epoch, 3);
  // The resumed run appends to the log: two starts, epochs 1 to 4.
  std::string log = fileText(splitDir / "log.jsonl");
  EXPECT_NE(log.find("\"type\":\"start\""), log.rfind("\"type\":\"start\""));
  EXPECT_NE(log.find("\"type\":\"epoch\",\"epoch\":4"), std::string::npos) << log;
  EXPECT_NE(log.find("\"type\":\"epoch\",\"epoch\":1"), std::string::npos) << log;

  std::vector<float> losses = head.stepLosses;
  losses.insert(losses.end(), tail.stepLosses.begin(), tail.stepLosses.end());
  ASSERT_EQ(losses.size(), all.stepLosses.size());
  EXPECT_TRUE(sameBits(losses, all.stepLosses));
  EXPECT_TRUE(sameBits(resumed.params(), straight.params()));
  EXPECT_TRUE(sameBits(resumed.state(), straight.state()));
  EXPECT_EQ(resumed.step(), straight.step());
  EXPECT_EQ(tail.bestEpoch, all.bestEpoch);
  EXPECT_EQ(tail.epochs.back().validation->loss, all.epochs.back().validation->loss);
  // Both runs end with byte-identical checkpoints, statistics and run state included.
  EXPECT_EQ(fileText(splitDir / "last.safetensors"), fileText(straightDir / "last.safetensors"));
  EXPECT_EQ(fileText(splitDir / "best.safetensors"), fileText(straightDir / "best.safetensors"));
  Checkpoint last = readCheckpoint((splitDir / "last.safetensors").string()).value();
  EXPECT_EQ(*last.meta("epoch"), "4");
  EXPECT_EQ(*last.meta("step"), std::to_string(straight.step()));
  ASSERT_NE(last.find("__standardize__.task.y.mean"), nullptr);

  // Resuming a finished run trains nothing more.
  o.resumeFrom = (splitDir / "last.safetensors").string();
  Trainer done = create(o);
  EXPECT_TRUE(fit(done, data).epochs.empty());
  EXPECT_TRUE(sameBits(done.params(), straight.params()));
  fs::remove_all(straightDir);
  fs::remove_all(splitDir);
}

TEST(CheckpointResume, ResumeRefusesOtherSettingsAndData) {
  Dataset data = standardisedData();
  fs::path dir = mtl::test::scratchDir("resume", "settings");
  TrainOptions o = baseOptions(dir);
  o.epochs = 1;
  Trainer first = create(o);
  fit(first, data);
  o.resumeFrom = (dir / "last.safetensors").string();
  o.epochs = 3;
  o.seed = 22;
  o.batch = 8;
  Result<Trainer> t = Trainer::create(&testmodel::kModel, o);
  ASSERT_FALSE(t.ok());
  EXPECT_NE(t.error().find("cannot resume: the run's settings differ"), std::string::npos);
  EXPECT_NE(t.error().find("batch: checkpoint '16', now '8'; seed: checkpoint '21', now '22'"),
            std::string::npos)
      << t.error();

  o.seed = 21;
  o.batch = 16;
  o.flushDenormals = false; // the arithmetic would differ from the checkpoint's run
  t = Trainer::create(&testmodel::kModel, o);
  ASSERT_FALSE(t.ok());
  EXPECT_NE(t.error().find("flush_denormals: checkpoint 'true', now 'false'"), std::string::npos)
      << t.error();
  o.flushDenormals = true;
  Trainer resumed = create(o);
  Dataset fewer = testmodel::makeData(140, 9, 3.0f, 5.0f);
  fewer.standardizeInputs = {1};
  fewer.standardizeTargets = {1, 0, 0};
  Result<TrainResult> r = resumed.fit(fewer);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().find("cannot resume on data set 'synthetic-linear': it gives 112 training "
                           "and 28 validation rows, the checkpoint's run had 120 and 30"),
            std::string::npos)
      << r.error();
  Dataset unscaled = data;
  unscaled.standardizeTargets = {0, 0, 0};
  r = resumed.fit(unscaled);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().find("does not standardize task 'y'"), std::string::npos) << r.error();
  // The same rows with one value changed, or two rows swapped.
  const std::string changed = "cannot resume on data set 'synthetic-linear': its values differ "
                              "from those the checkpoint's run trained on";
  Dataset edited = data;
  edited.inputs[0].write()[7] += 1e-3f;
  r = resumed.fit(edited);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().find(changed), std::string::npos) << r.error();
  Dataset swapped = data;
  std::swap(swapped.targets[1][3], swapped.targets[1][4]);
  ASSERT_NE(swapped.targets[1][3], swapped.targets[1][4]);
  r = resumed.fit(swapped);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().find(changed), std::string::npos) << r.error();
  EXPECT_TRUE(resumed.fit(data).ok()); // the resume was still pending

  // A checkpoint written before checkpoints recorded the data's values
  // resumes as it did then; a malformed record is refused.
  Result<Checkpoint> ck = readCheckpoint((dir / "last.safetensors").string());
  ASSERT_TRUE(ck.ok()) << ck.error();
  ASSERT_EQ(ck->metadata.count("data_values"), 1u);
  for (const char *record : {"", "not-hexadecimal!"}) {
    Checkpoint older = ck.value();
    if (*record)
      older.metadata["data_values"] = record;
    else
      older.metadata.erase("data_values");
    ASSERT_TRUE(writeCheckpoint((dir / "older.safetensors").string(), older).ok());
    o.resumeFrom = (dir / "older.safetensors").string();
    o.checkpointDir = (dir / "older").string();
    t = Trainer::create(&testmodel::kModel, o);
    if (*record) {
      ASSERT_FALSE(t.ok());
      EXPECT_NE(t.error().find("bad run metadata: data_values ('not-hexadecimal!')"),
                std::string::npos)
          << t.error();
      continue;
    }
    ASSERT_TRUE(t.ok()) << t.error();
    EXPECT_TRUE(t->fit(edited).ok());
  }
  o.checkpointDir = dir.string();

  o.resumeFrom = (dir / "nothing.safetensors").string();
  t = Trainer::create(&testmodel::kModel, o);
  ASSERT_FALSE(t.ok());
  EXPECT_NE(t.error().find("nothing.safetensors: cannot open checkpoint"), std::string::npos);
  o.initFrom = (dir / "last.safetensors").string();
  EXPECT_FALSE(Trainer::create(&testmodel::kModel, o).ok()); // not both
  fs::remove_all(dir);
}

TEST(CheckpointResume, ResumeRefusesDataNumberedByAnotherVocabulary) {
  Dataset data = standardisedData();
  data.classNames = {{}, {"no", "yes"}, {}};
  fs::path dir = mtl::test::scratchDir("resume", "vocabulary");
  TrainOptions o = baseOptions(dir);
  o.epochs = 1;
  Trainer first = create(o);
  fit(first, data);
  o.resumeFrom = (dir / "last.safetensors").string();
  o.epochs = 2;
  Trainer resumed = create(o);
  Dataset other = data; // its labels numbered by its own vocabulary, "yes" first
  other.classNames = {{}, {"yes", "no"}, {}};
  Result<TrainResult> r = resumed.fit(other);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().find("task 'pos': the data numbers its classes yes, no, and the checkpoint's "
                           "run no, yes"),
            std::string::npos)
      << r.error();
  EXPECT_TRUE(resumed.fit(data).ok());
  fs::remove_all(dir);
}
TEST(CheckpointResume, MismatchedModelListsEveryDifference) {
  fs::path dir = mtl::test::scratchDir("resume", "mismatch");
  TrainOptions o = baseOptions(dir);
  o.epochs = 1;
  o.saveInit = true;
  Trainer trainer = create(o);
  fit(trainer, standardisedData());

  // Another model: one tensor renamed, one reshaped.
  mtl_tensor_desc params[2 * testmodel::kTasks];
  std::copy(std::begin(testmodel::kParamDescs), std::end(testmodel::kParamDescs), params);
  params[0].dims[0] = 3;
  params[0].dims[1] = 1;
  params[5].name = "aux.2.bias";
  mtl_model other = testmodel::kModel;
  other.params = params;
  TrainOptions plain;
  plain.quiet = true;
  plain.seed = 21;
  Result<Trainer> t = Trainer::create(&other, plain);
  ASSERT_TRUE(t.ok());
  Checkpoint ck = readCheckpoint((dir / "last.safetensors").string()).value();
  Status s = applyCheckpoint(ck, *t, Restore::ParamsOnly);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error(), (dir / "last.safetensors").string() +
                           ": checkpoint does not fit model 'linear': shape differs: y.0.weight: "
                           "checkpoint [1, 3], model [3, 1]; missing in checkpoint: aux.2.bias "
                           "[1]; unexpected: aux.0.bias [1]");
  std::vector<float> before(t->params().begin(), t->params().end());
  EXPECT_TRUE(sameBits(before, t->params())); // nothing changed

  // Class names the task cannot have: three for a binary task, any for a
  // regression (a hand-edited file; predict made up names beside them).
  ck.metadata["classes.pos"] = R"(["a", "b", "c"])";
  ck.metadata["classes.y"] = R"(["a"])";
  s = applyCheckpoint(ck, trainer, Restore::Trained);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().find("metadata \"classes.pos\" names 3 classes, and task 'pos' has 2"),
            std::string::npos)
      << s.error();
  EXPECT_NE(s.error().find("metadata \"classes.y\" names 1 class, and task 'y' has 0"),
            std::string::npos)
      << s.error();
  ck.metadata.erase("classes.pos");
  ck.metadata.erase("classes.y");

  // Not a checkpoint of ours at all.
  ck.metadata.erase("format");
  s = applyCheckpoint(ck, *t, Restore::ParamsOnly);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().find("not an mtlc checkpoint: metadata \"format\" is missing"),
            std::string::npos);
  fs::remove_all(dir);
}

TEST(CheckpointResume, InitFromLoadsParametersOnlyAndSaveInitWritesThem) {
  Dataset data = standardisedData();
  fs::path dir = mtl::test::scratchDir("resume", "initfrom");
  TrainOptions o = baseOptions(dir);
  o.epochs = 2;
  o.saveInit = true;
  Trainer trained = create(o);
  std::vector<float> initial(trained.params().begin(), trained.params().end());
  fit(trained, data);
  Checkpoint init = readCheckpoint((dir / "init.safetensors").string()).value();
  std::vector<float> w = init.find("y.0.weight")->floats();
  EXPECT_TRUE(sameBits(w, std::span<const float>(initial).first(3)));
  EXPECT_EQ(*init.meta("step"), "0");

  // Fine-tuning with other settings: parameters come over, the optimizer starts afresh.
  TrainOptions f;
  f.quiet = true;
  f.seed = 99;
  f.lr = 0.01f;
  f.epochs = 1;
  f.initFrom = (dir / "last.safetensors").string();
  Trainer tuned = create(f);
  EXPECT_TRUE(sameBits(tuned.params(), trained.params()));
  EXPECT_EQ(tuned.step(), 0);
  for (float v : tuned.state())
    EXPECT_EQ(v, 0.0f);
  TrainResult r = fit(tuned, data);
  ASSERT_EQ(r.epochs.size(), 1u);
  EXPECT_EQ(r.epochs.front().epoch, 1);
  fs::remove_all(dir);
}

// Epochs shorter than a second have their checkpoints written when the last
// were written a second ago or more, and when the run ends: the first
// epoch's, then this run's last and best, whichever epochs they are.
TEST(CheckpointResume, ShortEpochsLeaveTheLastAndTheBestWhenTheRunEnds) {
  Dataset data = standardisedData();
  fs::path dir = mtl::test::scratchDir("resume", "short");
  TrainOptions o = baseOptions(dir);
  o.epochs = 30;
  Trainer trainer = create(o);
  TrainResult r = fit(trainer, data);
  ASSERT_EQ(r.epochs.size(), 30u);
  ASSERT_GT(r.bestEpoch, 1);
  auto epochOf = [&](const char *name) {
    Result<Checkpoint> ck = readCheckpoint((dir / name).string());
    int64_t epoch = -1;
    EXPECT_TRUE(ck.ok() && ck->metaNumber("epoch", epoch)) << name;
    return epoch;
  };
  EXPECT_EQ(epochOf("last.safetensors"), 30);
  EXPECT_EQ(epochOf("best.safetensors"), r.bestEpoch);
  // The last checkpoint resumes the run as it stands: the parameters it ended with.
  o.resumeFrom = (dir / "last.safetensors").string();
  o.epochs = 30;
  Trainer resumed = create(o);
  EXPECT_EQ(resumed.step(), trainer.step());
  fs::remove_all(dir);
}

TEST(CheckpointResume, SaveInitNeedsADirectoryAndBestNeedsValidation) {
  TrainOptions o;
  o.quiet = true;
  o.saveInit = true;
  EXPECT_FALSE(Trainer::create(&testmodel::kModel, o).ok()); // no directory
  o.saveInit = false;
  fs::path dir = mtl::test::scratchDir("resume", "prereq");
  o.checkpointDir = (dir / "nested" / "run").string();
  Trainer plain = create(o);
  ASSERT_TRUE(plain.fit(testmodel::makeData(40, 1)).ok());
  EXPECT_TRUE(fs::exists(dir / "nested" / "run" / "last.safetensors"));
  EXPECT_FALSE(fs::exists(dir / "nested" / "run" / "best.safetensors"));
  fs::remove_all(dir);
}

// checkpoint_test.cpp: the safetensors checkpoint format: round trips, independent readers,
// malformed files of every kind, and atomic writes under SIGKILL.
#include "TestFiles.h"
#include "TrainerTestModel.h"
#include "mtlrt/AtomicFile.h"
#include "mtlrt/Checkpoint.h"
#include "mtlrt/Trainer.h"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

using namespace mtlrt;
namespace fs = std::filesystem;

namespace {
using Bytes = std::vector<unsigned char>;

/// A trainer after one epoch on standardised data, so every kind of entry is present.
Trainer trainedTrainer() {
  TrainOptions o;
  o.epochs = 1;
  o.batch = 16;
  o.seed = 3;
  o.lr = 0.05f;
  o.validate = 0.2;
  o.quiet = true;
  Result<Trainer> t = Trainer::create(&testmodel::kModel, o);
  EXPECT_TRUE(t.ok()) << (t.ok() ? "" : t.error());
  mtlrt::Dataset data = testmodel::makeData(60, 1);
  data.standardizeInputs = {1};
  Result<TrainResult> r = t->fit(data);
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error());
  return std::move(t.value());
}

Bytes smallCheckpoint() {
  Trainer trainer = trainedTrainer();
  Result<Checkpoint> ck = captureCheckpoint(trainer);
  EXPECT_TRUE(ck.ok());
  return serializeCheckpoint(*ck).value();
}

/// A file image from a header text and `dataBytes` bytes of data (no padding added).
Bytes image(const std::string &header, size_t dataBytes) {
  Bytes out(8 + header.size() + dataBytes, 0);
  uint64_t n = header.size();
  std::memcpy(out.data(), &n, 8);
  std::memcpy(out.data() + 8, header.data(), header.size());
  return out;
}

std::string parseError(const Bytes &bytes) {
  Result<Checkpoint> ck = parseCheckpoint(bytes, "bad.safetensors");
  if (ck.ok())
    return "(parsed)";
  EXPECT_EQ(ck.error().rfind("bad.safetensors: not a valid checkpoint: ", 0), 0u) << ck.error();
  return ck.error();
}

void writeFile(const fs::path &path, const Bytes &bytes) {
  std::ofstream(path, std::ios::binary)
      .write(reinterpret_cast<const char *>(bytes.data()), std::streamsize(bytes.size()));
}
} // namespace

TEST(Checkpoint, RoundTripKeepsEveryTensorAndKey) {
  Trainer trainer = trainedTrainer();
  Checkpoint ck = captureCheckpoint(trainer).value();
  fs::path dir = mtl::test::scratchDir("ckpt", "roundtrip");
  std::string path = (dir / "a.safetensors").string();
  ASSERT_TRUE(writeCheckpoint(path, ck).ok());
  Result<Checkpoint> back = readCheckpoint(path);
  ASSERT_TRUE(back.ok()) << back.error();
  EXPECT_EQ(back->source, path);
  EXPECT_EQ(back->metadata, ck.metadata);
  ASSERT_EQ(back->tensors.size(), ck.tensors.size());
  for (size_t i = 0; i < ck.tensors.size(); ++i) {
    EXPECT_EQ(back->tensors[i].name, ck.tensors[i].name);
    EXPECT_EQ(back->tensors[i].shape, ck.tensors[i].shape);
    EXPECT_EQ(back->tensors[i].data, ck.tensors[i].data);
  }
  // Names are the descriptors', weights [out, in]; run state is metadata.
  ASSERT_NE(back->find("y.0.weight"), nullptr);
  EXPECT_EQ(back->find("y.0.weight")->shape, (std::vector<int64_t>{1, 3}));
  EXPECT_EQ(back->find("momentum_buffer")->shape, (std::vector<int64_t>{12}));
  EXPECT_EQ(back->find("__standardize__.input.x.mean")->dtype, Dtype::F64);
  EXPECT_EQ(*back->meta("format"), "mtlc-checkpoint-1");
  EXPECT_EQ(*back->meta("step"), std::to_string(trainer.step()));
  EXPECT_EQ(*back->meta("epoch"), "1");
  EXPECT_EQ(*back->meta("seed"), "3");
  EXPECT_EQ(*back->meta("validate"), "0.2");
  EXPECT_EQ(*back->meta("model"), "linear");
  std::vector<float> w = back->find("pos.0.weight")->floats();
  EXPECT_TRUE(std::equal(w.begin(), w.end(), trainer.params().begin() + 4));
  // The same contents give the same bytes.
  EXPECT_EQ(serializeCheckpoint(*back).value(), serializeCheckpoint(ck).value());
  fs::remove_all(dir);
}

TEST(Checkpoint, IndependentReaderFollowsTheDocumentedLayout) {
  // Only the documented format: u64 LE length, JSON, padding, contiguous data.
  Trainer trainer = trainedTrainer();
  Bytes bytes = serializeCheckpoint(captureCheckpoint(trainer).value()).value();
  uint64_t n = 0;
  for (int i = 7; i >= 0; --i)
    n = n << 8 | bytes[size_t(i)];
  EXPECT_EQ(n % 8, 0u);
  ASSERT_LE(8 + n, bytes.size());
  std::string text(bytes.begin() + 8, bytes.begin() + 8 + long(n));
  EXPECT_EQ(text[text.find_last_not_of(' ')], '}'); // padded with spaces
  nlohmann::json header = nlohmann::json::parse(text);
  EXPECT_EQ(header["__metadata__"]["format"], "mtlc-checkpoint-1");
  const unsigned char *data = bytes.data() + 8 + n;
  const mtl_model &model = testmodel::kModel;
  for (int32_t i = 0; i < model.num_params; ++i) {
    const mtl_tensor_desc &d = model.params[i];
    const nlohmann::json &e = header[d.name];
    EXPECT_EQ(e["dtype"], "F32");
    EXPECT_EQ(e["shape"], std::vector<int64_t>(d.dims, d.dims + d.rank));
    uint64_t begin = e["data_offsets"][0], end = e["data_offsets"][1];
    ASSERT_EQ(end - begin, uint64_t(d.size) * 4);
    for (int64_t k = 0; k < d.size; ++k) {
      uint32_t bits = 0;
      for (int b = 3; b >= 0; --b)
        bits = bits << 8 | data[begin + uint64_t(k) * 4 + uint64_t(b)];
      float v;
      std::memcpy(&v, &bits, 4);
      EXPECT_EQ(v, trainer.params()[size_t(d.offset + k)]) << d.name;
    }
  }
}

TEST(Checkpoint, PythonReaderSeesNamesShapesAndValues) {
  if (::access("/usr/bin/python3", X_OK) != 0)
    GTEST_SKIP() << "no /usr/bin/python3";
  Trainer trainer = trainedTrainer();
  fs::path dir = mtl::test::scratchDir("ckpt", "python");
  std::string path = (dir / "last.safetensors").string(), out = (dir / "out.json").string();
  Checkpoint ck = captureCheckpoint(trainer).value();
  ASSERT_TRUE(writeCheckpoint(path, ck).ok());
  std::string command = fmt::format("/usr/bin/python3 {}/tests/runtime/read_checkpoint.py {} > {}",
                                    MTL_SOURCE_DIR, path, out);
  ASSERT_EQ(std::system(command.c_str()), 0) << command;
  std::ifstream in(out);
  nlohmann::json seen = nlohmann::json::parse(in);
  using Metadata = std::map<std::string, std::string>;
  EXPECT_EQ(seen["metadata"].get<Metadata>(), ck.metadata);
  ASSERT_EQ(seen["tensors"].size(), ck.tensors.size());
  for (const CheckpointTensor &t : ck.tensors) {
    const nlohmann::json &e = seen["tensors"][t.name];
    EXPECT_EQ(e["dtype"], dtypeName(t.dtype)) << t.name;
    EXPECT_EQ(e["shape"], t.shape) << t.name;
    if (t.dtype == Dtype::F32)
      EXPECT_EQ(e["values"].get<std::vector<float>>(), t.floats()) << t.name;
    else
      EXPECT_EQ(e["values"].get<std::vector<double>>(), t.doubles()) << t.name;
  }
  fs::remove_all(dir);
}

TEST(Checkpoint, EveryTruncationIsAClearError) {
  Bytes full = smallCheckpoint();
  ASSERT_TRUE(parseCheckpoint(full, "bad.safetensors").ok());
  for (size_t len = 0; len < full.size(); ++len)
    EXPECT_NE(parseError(Bytes(full.begin(), full.begin() + long(len))), "(parsed)") << len;
  EXPECT_NE(parseError(Bytes(full.begin(), full.begin() + 5)).find("fewer than the 8"),
            std::string::npos);
  // The same through files.
  fs::path dir = mtl::test::scratchDir("ckpt", "truncated");
  for (size_t len = 0; len < full.size(); ++len) {
    fs::path p = dir / "t.safetensors";
    writeFile(p, Bytes(full.begin(), full.begin() + long(len)));
    Result<Checkpoint> ck = readCheckpoint(p.string());
    ASSERT_FALSE(ck.ok());
    EXPECT_EQ(ck.error().rfind(p.string() + ": not a valid checkpoint", 0), 0u) << ck.error();
  }
  Result<Checkpoint> missing = readCheckpoint((dir / "none.safetensors").string());
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().find("none.safetensors: cannot open checkpoint"), std::string::npos);
  fs::remove_all(dir);
}

TEST(Checkpoint, RandomCorruptionNeverCrashes) {
  Bytes full = smallCheckpoint();
  uint64_t headerEnd = 0;
  std::memcpy(&headerEnd, full.data(), 8);
  headerEnd += 8;
  Rng rng(2024, 7);
  int rejected = 0;
  const int cases = 4000;
  for (int c = 0; c < cases; ++c) {
    Bytes bytes = full;
    int flips = 1 + int(rng.below(4));
    for (int f = 0; f < flips; ++f) {
      // Mostly the length field and the header, where structure lives.
      size_t at =
          rng.below(4) == 0 ? size_t(rng.below(bytes.size())) : size_t(rng.below(headerEnd));
      bytes[at] = rng.below(2) ? (unsigned char)rng.below(256)
                               : (unsigned char)" {}[],:\"0F"[rng.below(11)];
    }
    Result<Checkpoint> ck = parseCheckpoint(bytes, "bad.safetensors");
    if (!ck.ok()) {
      ++rejected;
      EXPECT_EQ(ck.error().rfind("bad.safetensors: not a valid checkpoint: ", 0), 0u);
      continue;
    }
    // Whatever parses is self-consistent: it serializes and parses again.
    Result<Bytes> again = serializeCheckpoint(*ck);
    ASSERT_TRUE(again.ok()) << again.error();
    EXPECT_TRUE(parseCheckpoint(*again, "again").ok());
  }
  EXPECT_GT(rejected, cases / 2);
}

TEST(Checkpoint, MalformedHeadersNameWhatIsWrong) {
  auto err = [](const std::string &header, size_t data) { return parseError(image(header, data)); };
  auto has = [](const std::string &text, const std::string &part) {
    return text.find(part) != std::string::npos;
  };
  Bytes longer = image("{}", 0);
  uint64_t huge = 1000;
  std::memcpy(longer.data(), &huge, 8);
  EXPECT_TRUE(has(parseError(longer), "header length 1000 is larger than the rest of the file"));
  EXPECT_TRUE(has(err("{\"a\": [1, 2", 0), "not valid JSON"));
  EXPECT_TRUE(has(err("[1, 2]", 0), "not a JSON object"));
  EXPECT_TRUE(has(err(R"({"a":{"dtype":"F16","shape":[2],"data_offsets":[0,4]}})", 4),
                  "tensor 'a': unsupported dtype 'F16'"));
  EXPECT_TRUE(has(err(R"({"a":{"dtype":7,"shape":[2],"data_offsets":[0,8]}})", 8), "\"dtype\""));
  EXPECT_TRUE(has(err(R"({"a":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}})", 8),
                  "not a non-negative integer"));
  EXPECT_TRUE(has(err(R"({"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})", 8),
                  "shape [3] of F32 needs 12 bytes, data_offsets [0, 8] give 8"));
  EXPECT_TRUE(has(err(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,80]}})", 8),
                  "outside the 8 bytes"));
  EXPECT_TRUE(has(err(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[8,0]}})", 8),
                  "data_offsets [8, 0]"));
  EXPECT_TRUE(has(err(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},
                          "b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})",
                      12),
                  "overlap"));
  EXPECT_TRUE(has(err(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})", 8),
                  "leave bytes [0, 4) unused"));
  EXPECT_TRUE(has(err(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})", 8),
                  "cover 4 bytes of data, but the file has 8"));
  EXPECT_TRUE(has(err(R"({"__metadata__":{"step":3}})", 0), "metadata 'step' is not a string"));
  EXPECT_TRUE(has(err(R"({"a":{"dtype":"F32","shape":[4611686018427387904, 4],
                          "data_offsets":[0,8]}})",
                      8),
                  "too many"));
  // A zero dimension makes the tensor empty however large the others are.
  EXPECT_TRUE(has(err(R"({"a":{"dtype":"F32","shape":[4294967296, 4294967296, 0],
                          "data_offsets":[0,8]}})",
                      8),
                  "shape [4294967296, 4294967296, 0] of F32 needs 0 bytes, data_offsets [0, 8] "
                  "give 8"));
  // A well-formed file from another tool parses; an empty one is an empty checkpoint.
  EXPECT_EQ(
      err(R"({"__metadata__":{"k":"v"},"a":{"dtype":"I64","shape":[],"data_offsets":[0,8]}})", 8),
      "(parsed)");
  EXPECT_EQ(err("{}", 0), "(parsed)");
}

TEST(Checkpoint, SerializeRefusesInconsistentTensors) {
  Checkpoint ck;
  ck.tensors.push_back(CheckpointTensor::f32("a", {2, 2}, std::vector<float>{1, 2, 3}));
  EXPECT_FALSE(serializeCheckpoint(ck).ok());
  ck.tensors[0] = CheckpointTensor::f32("a", {3}, std::vector<float>{1, 2, 3});
  ck.tensors.push_back(ck.tensors[0]);
  EXPECT_FALSE(serializeCheckpoint(ck).ok()); // a repeated name
}

TEST(Checkpoint, FailedWriteLeavesNoTemporaryAndReportsThePath) {
  fs::path dir = mtl::test::scratchDir("ckpt", "failwrite");
  fs::create_directories(dir / "taken" / "inside");
  Checkpoint ck = captureCheckpoint(trainedTrainer()).value();
  Status s = writeCheckpoint((dir / "taken").string(), ck);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().find("taken: cannot write checkpoint: it exists and is not a regular file "
                           "(a folder)"),
            std::string::npos)
      << s.error();
  EXPECT_EQ(std::distance(fs::directory_iterator(dir), fs::directory_iterator()), 1);
  if (::geteuid() != 0) { // root writes into read-only directories anyway
    std::string path = (dir / "kept.safetensors").string();
    ASSERT_TRUE(writeCheckpoint(path, ck).ok());
    fs::permissions(dir, fs::perms::owner_read | fs::perms::owner_exec);
    Checkpoint changed = ck;
    changed.metadata["step"] = "999";
    EXPECT_FALSE(writeCheckpoint(path, changed).ok());
    fs::permissions(dir, fs::perms::owner_all);
    Result<Checkpoint> kept = readCheckpoint(path);
    ASSERT_TRUE(kept.ok()) << kept.error();
    EXPECT_EQ(kept->metadata, ck.metadata);
    fs::remove(path);
  }
  Status nodir = writeCheckpoint((dir / "no" / "such" / "dir.safetensors").string(), ck);
  ASSERT_FALSE(nodir.ok());
  EXPECT_NE(nodir.error().find("creating"), std::string::npos) << nodir.error();
  fs::remove_all(dir);
}

TEST(AtomicFile, WritesWhatALinkNamesAndReplacesNothingButARegularFile) {
  fs::path dir = mtl::test::scratchDir("ckpt", "links");
  fs::create_directories(dir);
  // A link (and a link to a link) is written through, and stays a link.
  std::ofstream(dir / "real.txt") << "old";
  fs::create_symlink("real.txt", dir / "one");
  fs::create_symlink(dir / "one", dir / "two");
  ASSERT_TRUE(writeFileAtomic((dir / "two").string(), "new", "the page").ok());
  EXPECT_TRUE(fs::is_symlink(dir / "one") && fs::is_symlink(dir / "two"));
  std::ifstream in(dir / "real.txt");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(text, "new");
  // A link to a file not there yet creates that file.
  fs::create_symlink("later.txt", dir / "dangling");
  ASSERT_TRUE(writeFileAtomic((dir / "dangling").string(), "x", "the page").ok());
  EXPECT_TRUE(fs::is_symlink(dir / "dangling") && fs::is_regular_file(dir / "later.txt"));
  // A FIFO, directly or through a link, is refused and left a FIFO (a
  // device such as /dev/null is refused the same way).
  ASSERT_EQ(::mkfifo((dir / "pipe").c_str(), 0644), 0);
  fs::create_symlink("pipe", dir / "to_pipe");
  for (const char *name : {"pipe", "to_pipe"}) {
    Status s = writeFileAtomic((dir / name).string(), "x", "checkpoint");
    ASSERT_FALSE(s.ok());
    EXPECT_EQ(s.error(), (dir / name).string() +
                             ": cannot write checkpoint: it exists and is not a regular file (a "
                             "device, pipe or socket); name a file to write");
    EXPECT_TRUE(fs::is_fifo(dir / "pipe"));
  }
  fs::remove_all(dir);
}

TEST(Checkpoint, KilledWriterLeavesTheOldFileWhole) {
  // A child rewrites the checkpoint (two versions, each 4 MiB) as fast as it
  // can; SIGKILL at random moments must always leave one whole version. The
  // random moment counts from the child's first whole write (it says so
  // through a pipe): a child slow to start (a sanitizer build on a busy
  // machine) would otherwise be killed before it wrote at all. The child
  // writes each version's bytes as writeCheckpoint does after serialising
  // them (writeFileAtomic), serialised once here: a sanitizer build spent
  // most of each round serialising, and 0 of 25 kills landed in a write.
  fs::path dir = mtl::test::scratchDir("ckpt", "killed");
  std::string path = (dir / "last.safetensors").string();
  std::vector<std::string> versions(2);
  for (int v = 0; v < 2; ++v) {
    Checkpoint ck;
    ck.metadata["version"] = std::to_string(v);
    ck.tensors.push_back(
        CheckpointTensor::f32("w", {1 << 20}, std::vector<float>(size_t(1) << 20, float(v + 1))));
    Result<std::vector<unsigned char>> bytes = serializeCheckpoint(ck);
    ASSERT_TRUE(bytes.ok()) << bytes.error();
    versions[size_t(v)].assign(bytes->begin(), bytes->end());
  }
  ASSERT_TRUE(writeFileAtomic(path, versions[0], "checkpoint").ok());
  Rng rng(5, 5);
  int interrupted = 0;
  for (int round = 0; round < 25; ++round) {
    int started[2];
    ASSERT_EQ(::pipe(started), 0);
    pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
      for (int i = 0;; ++i) {
        if (!writeFileAtomic(path, versions[size_t(i % 2)], "checkpoint").ok())
          ::_exit(3);
        if (i == 0 && ::write(started[1], "w", 1) != 1)
          ::_exit(4);
      }
    }
    ::close(started[1]);
    char byte = 0;
    ASSERT_EQ(::read(started[0], &byte, 1), 1) << "the writer failed before its first write";
    ::close(started[0]);
    ::usleep(useconds_t(rng.below(30000)));
    ::kill(child, SIGKILL);
    int status = 0;
    ::waitpid(child, &status, 0);
    ASSERT_TRUE(WIFSIGNALED(status)) << "the writer failed on its own";
    Result<Checkpoint> ck = readCheckpoint(path);
    ASSERT_TRUE(ck.ok()) << ck.error();
    const std::string &v = *ck->meta("version");
    ASSERT_TRUE(v == "0" || v == "1");
    std::vector<float> w = ck->find("w")->floats();
    EXPECT_EQ(std::count(w.begin(), w.end(), float(v == "0" ? 1 : 2)), 1 << 20);
    // A killed writer may leave its temporary file: the kill came mid-write.
    interrupted += fs::remove(path + ".tmp-" + std::to_string(child)) ? 1 : 0;
  }
  std::printf("%d of 25 kills landed mid-write\n", interrupted);
  EXPECT_GT(interrupted, 0) << "no kill landed during a write";
  fs::remove_all(dir);
}

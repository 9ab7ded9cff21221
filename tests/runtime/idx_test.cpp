// idx_test.cpp: the IDX reader on hand-made, damaged and real Fashion-MNIST files.
#include "TestFiles.h"
#include "mtlrt/Idx.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

using namespace mtlrt;
using mtl::test::writeTempFile;

namespace {

const std::string fashion = "/usr/share/datasets/fashion-mnist/";

/// An IDX header: magic 00 00 type rank, then big-endian 32-bit dims.
std::string header(uint8_t type, std::vector<uint32_t> dims) {
  std::string h = {0, 0, static_cast<char>(type), static_cast<char>(dims.size())};
  for (uint32_t d : dims)
    for (int shift = 24; shift >= 0; shift -= 8)
      h.push_back(static_cast<char>((d >> shift) & 0xFF));
  return h;
}

std::string counting(size_t n) {
  std::string data;
  for (size_t i = 0; i < n; ++i)
    data.push_back(static_cast<char>(i % 251));
  return data;
}

std::string idxError(const std::string &path) {
  auto array = readIdx(path);
  EXPECT_FALSE(array.ok());
  return array.ok() ? std::string() : array.error();
}

} // namespace

TEST(Idx, ReadsPlainAndGzipAnyRank) {
  std::string bytes = header(0x08, {2, 3, 4}) + counting(24);
  for (bool gzip : {false, true}) {
    auto array =
        readIdx(writeTempFile(gzip ? "mtlrt_idx_rank3.gz" : "mtlrt_idx_rank3", bytes, gzip));
    ASSERT_TRUE(array.ok()) << array.error();
    EXPECT_EQ(array->dims, (std::vector<int64_t>{2, 3, 4}));
    EXPECT_EQ(array->items(), 2);
    EXPECT_EQ(array->itemSize(), 12);
    ASSERT_EQ(array->data.size(), 24u);
    EXPECT_EQ(array->data[23], 23);
  }
  auto labels =
      readIdx(writeTempFile("mtlrt_idx_rank1", header(0x08, {5}) + "\x01\x02\x03\x04\x05"));
  ASSERT_TRUE(labels.ok());
  EXPECT_EQ(labels->itemSize(), 1);
  EXPECT_EQ(labels->data, (std::vector<uint8_t>{1, 2, 3, 4, 5}));
  auto none = readIdx(writeTempFile("mtlrt_idx_zero", header(0x08, {0, 28})));
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(none->items(), 0);
}

TEST(Idx, RejectsBadHeaders) {
  std::string empty = writeTempFile("mtlrt_idx_empty", "");
  EXPECT_EQ(idxError(empty), empty + ": file is empty");
  std::string tiny = writeTempFile("mtlrt_idx_tiny", std::string("\0\0", 2));
  EXPECT_EQ(idxError(tiny), tiny + ": truncated: the IDX header needs 4 bytes, found 2");
  std::string text = writeTempFile("mtlrt_idx_text", "hello world");
  EXPECT_EQ(idxError(text), text + ": not an IDX file (the magic number starts 68 65, not 00 00)");
  std::string floats = writeTempFile("mtlrt_idx_floats", header(0x0D, {1}) + "abcd");
  EXPECT_EQ(idxError(floats), floats + ": IDX element type 0x0D (float) is not supported; only "
                                       "0x08 (unsigned byte) is");
  std::string rank0 = writeTempFile("mtlrt_idx_rank0", header(0x08, {}));
  EXPECT_EQ(idxError(rank0), rank0 + ": IDX rank is 0; an array needs at least one dimension");
  std::string dims = writeTempFile("mtlrt_idx_dims", header(0x08, {10, 28, 28}).substr(0, 9));
  EXPECT_EQ(idxError(dims), dims + ": truncated: the IDX header of rank 3 needs 16 bytes, found 9");
  // Items of no values: a 0 after the first dimension, even with no items.
  std::string zeroWidth = writeTempFile("mtlrt_idx_zero-width", header(0x08, {4, 0, 2}));
  EXPECT_EQ(idxError(zeroWidth), zeroWidth + ": IDX dimension 2 is 0 (dimensions [4, 0...]): its "
                                             "items would hold no values");
  std::string noneOfNone = writeTempFile("mtlrt_idx_zero-zero", header(0x08, {0, 28, 0}));
  EXPECT_EQ(idxError(noneOfNone), noneOfNone + ": IDX dimension 3 is 0 (dimensions [0, 28, "
                                               "0...]): its items would hold no values");
  // 2^32-1 cubed overflows any sane size; it must fail fast, without allocating.
  std::string giant =
      writeTempFile("mtlrt_idx_giant", header(0x08, {0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF}));
  EXPECT_EQ(idxError(giant), giant + ": IDX dimensions [4294967295, 4294967295...] are too large "
                                     "to be real");
}

TEST(Idx, RejectsTruncatedAndOverlongData) {
  std::string shortData =
      writeTempFile("mtlrt_idx_short", header(0x08, {10, 28, 28}) + counting(1234));
  EXPECT_EQ(idxError(shortData), shortData + ": truncated: expected 7840 data bytes, found 1234");
  // A header that claims far more than the file could hold is reported the same way.
  std::string claims =
      writeTempFile("mtlrt_idx_claims.gz", header(0x08, {60000, 28, 28}) + counting(100), true);
  EXPECT_EQ(idxError(claims), claims + ": truncated: expected 47040000 data bytes, found 100");
  std::string longData = writeTempFile("mtlrt_idx_long", header(0x08, {2, 2}) + counting(5));
  EXPECT_EQ(idxError(longData),
            longData + ": more data than the IDX header's dimensions [2, 2] account for");
  // A gzip stream cut in half: data and trailer are missing.
  std::string full =
      writeTempFile("mtlrt_idx_full.gz", header(0x08, {100, 100}) + counting(10000), true);
  std::ifstream in(full, std::ios::binary);
  std::string gz((std::istreambuf_iterator<char>(in)), {});
  std::string cut = writeTempFile("mtlrt_idx_cut.gz", gz.substr(0, gz.size() - 10));
  std::string message = idxError(cut);
  EXPECT_EQ(message.rfind(cut + ": truncated", 0), 0u) << message;
  // Cut inside the first block: not a byte of data comes out, yet it is no empty file.
  std::string early = writeTempFile("mtlrt_idx_early.gz", gz.substr(0, 11));
  EXPECT_EQ(idxError(early), early + ": truncated gzip file (the compressed data ends early)");
  std::string flipped = gz;
  flipped[gz.size() - 6] = static_cast<char>(flipped[gz.size() - 6] ^ 0xFF); // the CRC
  std::string crc = writeTempFile("mtlrt_idx_crc.gz", flipped);
  EXPECT_EQ(idxError(crc), crc + ": corrupt gzip data: incorrect data check");
  std::string missing = ::testing::TempDir() + "mtlrt_idx_missing.gz";
  EXPECT_EQ(idxError(missing), missing + ": cannot open: No such file or directory");
}

TEST(Idx, FashionMnistFiles) {
  if (!std::filesystem::exists(fashion + "train-images-idx3-ubyte.gz"))
    GTEST_SKIP() << "dataset-fashion-mnist is not installed";
  auto start = std::chrono::steady_clock::now();
  auto images = readIdx(fashion + "train-images-idx3-ubyte.gz");
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  ASSERT_TRUE(images.ok()) << images.error();
  EXPECT_EQ(images->dims, (std::vector<int64_t>{60000, 28, 28}));
  EXPECT_EQ(images->data.size(), 47040000u);
  int64_t firstImageSum = 0;
  for (int i = 0; i < 784; ++i)
    firstImageSum += images->data[static_cast<size_t>(i)];
  EXPECT_EQ(firstImageSum, 76247);
  EXPECT_LT(seconds, 2.0) << "loading 60000 images took " << seconds << " s";
  RecordProperty("train_images_seconds", std::to_string(seconds));

  auto labels = readIdx(fashion + "train-labels-idx1-ubyte.gz");
  ASSERT_TRUE(labels.ok()) << labels.error();
  EXPECT_EQ(labels->dims, (std::vector<int64_t>{60000}));
  std::vector<int> counts(256);
  for (uint8_t l : labels->data)
    ++counts[l];
  for (int c = 0; c < 10; ++c)
    EXPECT_EQ(counts[static_cast<size_t>(c)], 6000) << "class " << c;
  EXPECT_EQ(labels->data[0], 9);

  auto test = readIdx(fashion + "t10k-images-idx3-ubyte.gz");
  ASSERT_TRUE(test.ok());
  EXPECT_EQ(test->dims, (std::vector<int64_t>{10000, 28, 28}));
  auto testLabels = readIdx(fashion + "t10k-labels-idx1-ubyte.gz");
  ASSERT_TRUE(testLabels.ok());
  EXPECT_EQ((std::vector<uint8_t>(testLabels->data.begin(), testLabels->data.begin() + 5)),
            (std::vector<uint8_t>{9, 2, 1, 1, 6}));
}

TEST(Idx, TruncatedRealFile) {
  if (!std::filesystem::exists(fashion + "t10k-images-idx3-ubyte.gz"))
    GTEST_SKIP() << "dataset-fashion-mnist is not installed";
  // The real test images, decompressed and cut after 1234 data bytes.
  auto images = readIdx(fashion + "t10k-images-idx3-ubyte.gz");
  ASSERT_TRUE(images.ok());
  std::string bytes = header(0x08, {10000, 28, 28});
  bytes.append(images->data.begin(), images->data.begin() + 1234);
  std::string path = writeTempFile("mtlrt_idx_t10k-images-idx3-ubyte.gz", bytes, true);
  EXPECT_EQ(idxError(path), path + ": truncated: expected 7840000 data bytes, found 1234");
}

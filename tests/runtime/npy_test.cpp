// npy_test.cpp: NumPy .npy and .npz files, written byte by byte here, read by the loader.
#include "mtlrt/Dataset.h"
#include "mtlrt/Npy.h"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <zlib.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <unistd.h>

using namespace mtlrt;
namespace fs = std::filesystem;

namespace {

fs::path scratch() {
  fs::path dir = fs::temp_directory_path() / fmt::format("mtl-npy-{}", ::getpid());
  fs::create_directories(dir);
  return dir;
}

/// A .npy file as NumPy's format description has it: magic, version, a
/// little-endian header length, the header dictionary padded with blanks
/// and a newline to a multiple of 64 bytes, then the values.
/// `quoted` false writes `descr` as it is (a structured dtype's list).
std::string npy(const std::string &descr, const std::string &shape, const std::string &values,
                bool fortran = false, int version = 1, bool quoted = true) {
  std::string dict =
      fmt::format("{{'descr': {}, 'fortran_order': {}, 'shape': {}, }}",
                  quoted ? "'" + descr + "'" : descr, fortran ? "True" : "False", shape);
  const size_t prefix = version == 1 ? 10 : 12;
  while ((prefix + dict.size() + 1) % 64 != 0)
    dict += ' ';
  dict += '\n';
  std::string out = "\x93NUMPY";
  out += char(version);
  out += char(0);
  const size_t n = dict.size();
  out += char(n & 0xFF);
  out += char((n >> 8) & 0xFF);
  if (version > 1) {
    out += char(0);
    out += char(0);
  }
  return out + dict + values;
}

template <class T> std::string raw(std::initializer_list<T> values) {
  std::string out;
  for (T v : values)
    out.append(reinterpret_cast<const char *>(&v), sizeof v);
  return out;
}

void put16(std::string &s, uint32_t v) {
  s += char(v & 0xFF);
  s += char((v >> 8) & 0xFF);
}
void put32(std::string &s, uint32_t v) {
  put16(s, v & 0xFFFF);
  put16(s, v >> 16);
}

/// A zip archive of (name, bytes) members, stored or deflated, as
/// numpy.savez and savez_compressed write them.
std::string zip(const std::vector<std::pair<std::string, std::string>> &members, bool compress,
                bool badCrc = false) {
  std::string out, directory;
  for (const auto &[name, bytes] : members) {
    std::string data = bytes;
    if (compress) {
      z_stream z{};
      deflateInit2(&z, 6, Z_DEFLATED, -MAX_WBITS, 8, Z_DEFAULT_STRATEGY);
      data.resize(deflateBound(&z, uLong(bytes.size())));
      z.next_in = reinterpret_cast<Bytef *>(const_cast<char *>(bytes.data()));
      z.avail_in = uInt(bytes.size());
      z.next_out = reinterpret_cast<Bytef *>(data.data());
      z.avail_out = uInt(data.size());
      deflate(&z, Z_FINISH);
      data.resize(z.total_out);
      deflateEnd(&z);
    }
    uint32_t crc =
        uint32_t(crc32(0, reinterpret_cast<const Bytef *>(bytes.data()), uInt(bytes.size())));
    if (badCrc)
      crc ^= 1;
    const uint32_t offset = uint32_t(out.size());
    std::string common;
    put16(common, 20);               // version needed
    put16(common, 0);                // flags
    put16(common, compress ? 8 : 0); // method
    put32(common, 0);                // time and date
    put32(common, crc);
    put32(common, uint32_t(data.size()));
    put32(common, uint32_t(bytes.size()));
    put16(common, uint16_t(name.size()));
    put16(common, 0); // extra
    put32(out, 0x04034b50);
    out += common + name + data;
    put32(directory, 0x02014b50);
    put16(directory, 20); // made by
    directory += common;
    put16(directory, 0); // comment
    put16(directory, 0); // disk
    put16(directory, 0); // internal attributes
    put32(directory, 0); // external attributes
    put32(directory, offset);
    directory += name;
  }
  const uint32_t at = uint32_t(out.size());
  out += directory;
  put32(out, 0x06054b50);
  put32(out, 0);
  put16(out, uint16_t(members.size()));
  put16(out, uint16_t(members.size()));
  put32(out, uint32_t(directory.size()));
  put32(out, at);
  put16(out, 0);
  return out;
}

std::string write(const std::string &name, const std::string &bytes) {
  const std::string path = (scratch() / name).string();
  std::ofstream(path, std::ios::binary) << bytes;
  return path;
}

std::string npyError(const std::string &path) {
  Result<NpyArray> a = readNpy(path);
  EXPECT_FALSE(a.ok());
  return a.ok() ? "" : a.error();
}

} // namespace

TEST(Npy, ReadsEveryDtypeAsFloats) {
  Result<NpyArray> f =
      readNpy(write("f.npy", npy("<f4", "(2, 3)", raw<float>({1, 2, 3, 4, 5, 6.5f}))));
  ASSERT_TRUE(f.ok()) << f.error();
  EXPECT_EQ(f->dims, (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(f->rowSize(), 3);
  EXPECT_EQ(f->data, (std::vector<float>{1, 2, 3, 4, 5, 6.5f}));
  EXPECT_EQ(readNpy(write("d.npy", npy("<f8", "(2,)", raw<double>({0.25, -3}))))->data,
            (std::vector<float>{0.25f, -3}));
  EXPECT_EQ(readNpy(write("l.npy", npy("<i8", "(3,)", raw<int64_t>({7, -2, 0}))))->data,
            (std::vector<float>{7, -2, 0}));
  EXPECT_EQ(readNpy(write("u.npy", npy("|u1", "(2,)", raw<uint8_t>({255, 3}))))->data,
            (std::vector<float>{255, 3}));
  EXPECT_EQ(readNpy(write("b.npy", npy("|b1", "(2,)", raw<uint8_t>({1, 0}))))->data,
            (std::vector<float>{1, 0}));
  EXPECT_EQ(readNpy(write("v2.npy", npy("<i2", "(1, 2)", raw<int16_t>({-5, 9}), false, 2)))->data,
            (std::vector<float>{-5, 9}));
}

TEST(Npy, ReadsGzip) {
  const std::string path = (scratch() / "g.npy.gz").string();
  const std::string bytes = npy("<f4", "(1, 2)", raw<float>({3, 4}));
  gzFile f = gzopen(path.c_str(), "wb");
  gzwrite(f, bytes.data(), unsigned(bytes.size()));
  gzclose(f);
  Result<NpyArray> a = readNpy(path);
  ASSERT_TRUE(a.ok()) << a.error();
  EXPECT_EQ(a->data, (std::vector<float>{3, 4}));
}

TEST(Npy, RefusesWhatADataSetCannotUse) {
  std::string p = write("big.npy", npy(">f4", "(1,)", raw<float>({1})));
  EXPECT_EQ(npyError(p),
            p + ": dtype '>f4' is big-endian; save it little-endian (a.astype('<f4'))");
  p = write("c.npy", npy("<c8", "(1,)", raw<float>({1, 2})));
  EXPECT_EQ(npyError(p),
            p + ": dtype '<c8' is not supported (use float32, float64, integers or bool)");
  p = write("fo.npy", npy("<f4", "(1, 1)", raw<float>({1}), true));
  EXPECT_EQ(npyError(p),
            p + ": the array is in Fortran order; save it in C order (numpy.ascontiguousarray)");
  p = write("z.npy", npy("<f4", "()", raw<float>({1})));
  EXPECT_EQ(npyError(p),
            p + ": it holds a single value (a 0-d array); a data set needs one row per item");
  p = write("s.npy", npy("<f4", "(2, 2)", raw<float>({1, 2, 3})));
  EXPECT_EQ(npyError(p), p + ": the shape (2, 2) needs 16 bytes of data, the file has 12");
  // A count that fits 64 bits, but not once multiplied by the item's bytes.
  p = write("huge.npy", npy("<f4", "(4611686018427387904, 3)", raw<float>({1, 2, 3})));
  EXPECT_EQ(npyError(p), p + ": its shape (4611686018427387904, 3) is too large");
  p = write("w.npy", npy("<i8", "(2,)", raw<int64_t>({16777216, 16777217})));
  EXPECT_EQ(npyError(p), p + ": item 1 of the array is 16777217, which a 32-bit float cannot "
                             "hold exactly (integers above 2^24 = 16777216 are rounded); scale "
                             "or renumber the values");
  p = write("st.npy", npy("[('a', '<f4')]", "(1,)", raw<float>({1}), false, 1, false));
  EXPECT_EQ(npyError(p), p + ": its dtype is a structured (record) one; save each field as an "
                             "array of its own");
  p = write("n.npy", "hello, world");
  EXPECT_EQ(npyError(p), p + ": not a NumPy .npy array (no \\x93NUMPY magic)");
}

TEST(Npy, ReadsNpzStoredAndDeflated) {
  const std::string x = npy("<f4", "(2, 2)", raw<float>({1, 2, 3, 4}));
  const std::string y = npy("<i8", "(2,)", raw<int64_t>({0, 1}));
  for (bool deflate : {false, true}) {
    const std::string path =
        write(deflate ? "c.npz" : "s.npz", zip({{"x.npy", x}, {"y.npy", y}}, deflate));
    Result<std::vector<NpyArray>> arrays = readNpz(path);
    ASSERT_TRUE(arrays.ok()) << arrays.error();
    ASSERT_EQ(arrays->size(), 2u);
    EXPECT_EQ((*arrays)[0].name, "x");
    EXPECT_EQ((*arrays)[0].data, (std::vector<float>{1, 2, 3, 4}));
    EXPECT_EQ((*arrays)[1].name, "y");
    EXPECT_EQ((*arrays)[1].dims, (std::vector<int64_t>{2}));
  }
  const std::string corrupt = write("bad.npz", zip({{"x.npy", x}}, true, true));
  EXPECT_EQ(readNpz(corrupt).error(),
            corrupt + ": array 'x': CRC mismatch: the archive is corrupt");
  const std::string member =
      write("m.npz", zip({{"x.npy", npy("<c8", "(1,)", raw<float>({1, 2}))}}, false));
  EXPECT_EQ(readNpz(member).error(),
            member + ": array 'x': dtype '<c8' is not supported (use float32, float64, integers "
                     "or bool)");
  const std::string junk = write("j.npz", "not a zip at all, but long enough to look");
  EXPECT_EQ(readNpz(junk).error(), junk + ": not a .npz archive (no zip end-of-directory record)");
}

TEST(Npy, DataSetsSelectArraysAndTheirElements) {
  DataSpec spec;
  spec.name = "train";
  spec.kind = DataSpec::Npy;
  spec.arrays = {
      {"features", write("fx.npy", npy("<f4", "(3, 2, 2)",
                                       raw<float>({1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12})))},
      {"labels", write("fy.npy", npy("<i8", "(3,)", raw<int64_t>({2, 0, 2})))}};
  BindingSpec x, part, y;
  x.target = "x", x.slot = 0, x.from = BindingSpec::Array, x.array = "features";
  part.target = "corner", part.slot = 1, part.from = BindingSpec::Array, part.array = "features";
  part.columns = {{"", 3}, {"", 0}};
  y.target = "kind", y.isTask = true, y.slot = 0, y.from = BindingSpec::Array, y.array = "labels";
  y.asClass = true;
  x.width = 4, part.width = 2;
  spec.bindings = {x, part, y};
  const std::vector<InputSpec> inputs = {{"x", 4, 0, {}}, {"corner", 2, 0, {}}};
  std::vector<TaskSpec> tasks = {{"kind", TaskSpec::Classify, 3, {}}};
  Result<Dataset> d = loadDataset(spec, inputs, tasks);
  ASSERT_TRUE(d.ok()) << d.error();
  EXPECT_EQ(d->rows, 3);
  EXPECT_EQ(d->inputs[0], (std::vector<float>{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}));
  EXPECT_EQ(d->inputs[1], (std::vector<float>{4, 1, 8, 5, 12, 9}));
  EXPECT_EQ(d->targets[0], (std::vector<float>{2, 0, 2}));
  EXPECT_EQ(d->classNames[0], (std::vector<std::string>{"0", "1", "2"}));
  // A vocabulary numbers labels by name; a label it lacks is an error.
  tasks[0].classes = {"2", "0", "1"};
  d = loadDataset(spec, inputs, tasks);
  ASSERT_TRUE(d.ok()) << d.error();
  EXPECT_EQ(d->targets[0], (std::vector<float>{0, 1, 0}));
  tasks[0].classes = {"0", "1"};
  tasks[0].width = 2;
  d = loadDataset(spec, inputs, tasks);
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.error(), spec.arrays[1].second +
                           ": item 0: class '2' is not one of the task's 2 classes (0, 1)");
  // Arrays of one data set have one row per item.
  spec.arrays[1].second = write("fy2.npy", npy("<i8", "(2,)", raw<int64_t>({0, 1})));
  d = loadDataset(spec, inputs, {{"kind", TaskSpec::Classify, 3, {}}});
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.error(), "data 'train': array 'labels' has 2 rows but array 'features' has 3; the "
                       "arrays of a data set have one row per item");
}

// A task whose labels are all missing is an error that names the labels'
// file, not the features' (the first array).
TEST(Npy, ATaskWithNoLabelNamesItsLabelsFile) {
  DataSpec spec;
  spec.name = "train";
  spec.kind = DataSpec::Npy;
  const float nan = std::nanf("");
  spec.arrays = {{"features", write("nx.npy", npy("<f4", "(2, 2)", raw<float>({1, 2, 3, 4})))},
                 {"labels", write("ny.npy", npy("<f4", "(2,)", raw<float>({nan, nan})))}};
  BindingSpec x, y;
  x.target = "x", x.slot = 0, x.from = BindingSpec::Array, x.array = "features", x.width = 2;
  y.target = "y", y.isTask = true, y.slot = 0, y.from = BindingSpec::Array, y.array = "labels";
  spec.bindings = {x, y};
  Result<Dataset> d = loadDataset(spec, {{"x", 2, 0, {}}}, {{"y", TaskSpec::Regress, 1, {}}});
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.error(), spec.arrays[1].second +
                           ": task 'y' has no labelled rows: every value it reads is missing");
}

// An archive may hold arrays no binding reads, of kinds a data set cannot
// use (text, a single value): only the arrays bound are read. Labels read as
// class may be negative when the task's classes name them.
TEST(Npy, ArchivesReadOnlyTheBoundArrays) {
  const std::string x = npy("<f4", "(2, 2)", raw<float>({1, 2, 3, 4}));
  const std::string t = npy("<i8", "(2,)", raw<int64_t>({-1, 1}));
  const std::string names = npy("<U1", "(2,)", std::string("a\0\0\0b\0\0\0", 8));
  const std::string scalar = npy("<f8", "()", raw<double>({0.5}));
  const std::string path =
      write("extra.npz",
            zip({{"x.npy", x}, {"names.npy", names}, {"t.npy", t}, {"lr.npy", scalar}}, false));
  EXPECT_FALSE(readNpz(path).ok()); // every member: the text array is refused
  Result<std::vector<NpyArray>> two = readNpz(path, {"t", "x"});
  ASSERT_TRUE(two.ok()) << two.error();
  ASSERT_EQ(two->size(), 2u);
  EXPECT_EQ((*two)[0].name, "x");
  EXPECT_EQ(readNpz(path, {"y"}).error(), path + ": no array named 'y' (it has: x, names, t, lr)");
  const std::string twice = write("twice.npz", zip({{"x.npy", x}, {"x.npy", x}}, false));
  EXPECT_EQ(readNpz(twice, {"x"}).error(), twice + ": the archive holds two arrays named 'x'");

  DataSpec spec;
  spec.name = "train";
  spec.kind = DataSpec::Npz;
  spec.csv.path = path;
  BindingSpec in, label;
  in.target = "x", in.slot = 0, in.from = BindingSpec::Array, in.array = "x", in.width = 2;
  label.target = "sign", label.isTask = true, label.slot = 0, label.from = BindingSpec::Array;
  label.array = "t", label.asClass = true;
  spec.bindings = {in, label};
  std::vector<TaskSpec> tasks = {{"sign", TaskSpec::Classify, 2, {"-1", "1"}}};
  Result<Dataset> d = loadDataset(spec, {{"x", 2, 0, {}}}, tasks);
  ASSERT_TRUE(d.ok()) << d.error();
  EXPECT_EQ(d->targets[0], (std::vector<float>{0, 1}));
  // Without the task's classes, a label is a class id from 0.
  tasks[0].classes.clear();
  d = loadDataset(spec, {{"x", 2, 0, {}}}, tasks);
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.error(),
            path + ": array 't': item 0: label -1 is not a class id (an integer from 0)");
}

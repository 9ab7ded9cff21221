// TestFiles.h: the files runtime tests read and write: fixtures in
// tests/runtime/data, scratch folders and files in the temp directory.
#pragma once

#include <filesystem>
#include <fmt/format.h>
#include <fstream>
#include <gtest/gtest.h>
#include <string>
#include <unistd.h>
#include <zlib.h>

namespace mtl::test {

/// The path of the fixture `name` in tests/runtime/data.
inline std::string fixture(const std::string &name) {
  return std::string(MTL_SOURCE_DIR) + "/tests/runtime/data/" + name;
}

/// An empty folder `mtl-<prefix>-<name>-<pid>` in the temp directory.
inline std::filesystem::path scratchDir(const std::string &prefix, const std::string &name) {
  std::filesystem::path dir = std::filesystem::temp_directory_path() /
                              fmt::format("mtl-{}-{}-{}", prefix, name, ::getpid());
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

/// Writes `bytes` to the file `name` in GoogleTest's temp directory,
/// gzipped with `gzip`; its path.
inline std::string writeTempFile(const std::string &name, const std::string &bytes,
                                 bool gzip = false) {
  std::string path = ::testing::TempDir() + name;
  if (gzip) {
    gzFile f = gzopen(path.c_str(), "wb");
    gzwrite(f, bytes.data(), static_cast<unsigned>(bytes.size()));
    gzclose(f);
  } else {
    std::ofstream(path, std::ios::binary) << bytes;
  }
  return path;
}

} // namespace mtl::test

// ModelFiles.h: the models the driver-level tests run on.
#pragma once

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

namespace mtl::test {

/// Every example, and the models of tests/codegen/models (ops no example
/// uses), as paths relative to the source folder, sorted.
inline std::vector<std::string> modelFiles() {
  namespace fs = std::filesystem;
  std::vector<std::string> out;
  for (const char *dir : {"examples", "tests/codegen/models"})
    for (const auto &e : fs::directory_iterator(fs::path(MTL_SOURCE_DIR) / dir))
      if (e.path().extension() == ".mtl")
        out.push_back(std::string(dir) + "/" + e.path().filename().string());
  std::sort(out.begin(), out.end());
  return out;
}

/// "examples/wine.mtl" -> "wine": a test name.
inline std::string modelName(const std::string &file) {
  return std::filesystem::path(file).stem().string();
}

} // namespace mtl::test

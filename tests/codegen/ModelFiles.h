// ModelFiles.h: the models the driver-level tests run on.
#pragma once

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <regex>
#include <string>
#include <vector>

namespace mtl::test {

/// Every model of the examples and of tests/codegen/models (ops no example
/// uses), sorted: "DIR/FILE.mtl", relative to the source folder, for a file
/// of one model, and "DIR/FILE.mtl#MODEL" for each model of a file that has
/// several (examples/mmoe_synthetic.mtl).
inline std::vector<std::string> modelFiles() {
  namespace fs = std::filesystem;
  std::vector<std::string> out;
  const std::regex modelLine(R"(^model\s+(\w+))");
  for (const char *dir : {"examples", "tests/codegen/models"})
    for (const auto &e : fs::directory_iterator(fs::path(MTL_SOURCE_DIR) / dir)) {
      if (e.path().extension() != ".mtl")
        continue;
      const std::string file = std::string(dir) + "/" + e.path().filename().string();
      std::vector<std::string> models;
      std::ifstream in(e.path());
      std::smatch m;
      for (std::string line; std::getline(in, line);)
        if (std::regex_search(line, m, modelLine))
          models.push_back(m[1]);
      if (models.size() < 2)
        out.push_back(file);
      for (size_t i = 0; models.size() > 1 && i < models.size(); ++i)
        out.push_back(file + "#" + models[i]);
    }
  std::sort(out.begin(), out.end());
  return out;
}

/// The absolute path of a modelFiles() entry's file.
inline std::string modelPath(const std::string &entry) {
  return MTL_SOURCE_DIR "/" + entry.substr(0, entry.find('#'));
}

/// The model a modelFiles() entry names; empty for a file's only model.
inline std::string modelOf(const std::string &entry) {
  const size_t hash = entry.find('#');
  return hash == std::string::npos ? "" : entry.substr(hash + 1);
}

/// "examples/wine.mtl" -> "wine", "examples/x.mtl#m" -> "x_m": a test name.
inline std::string modelName(const std::string &entry) {
  const std::string model = modelOf(entry);
  const std::string stem = std::filesystem::path(modelPath(entry)).stem().string();
  return model.empty() ? stem : stem + "_" + model;
}

} // namespace mtl::test

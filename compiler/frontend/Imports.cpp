// Imports.cpp: import resolution with cycle detection.
#include "frontend/Imports.h"

#include "frontend/Parser.h"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fmt/format.h>
#include <fstream>
#include <map>
#include <sstream>

namespace mtl {
namespace fs = std::filesystem;

std::optional<std::string> readFile(const std::string &path, std::string &error) {
  std::error_code ec;
  if (fs::is_directory(path, ec)) {
    error = "is a directory";
    return std::nullopt;
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    error = std::strerror(errno);
    return std::nullopt;
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

namespace {

class Loader {
public:
  Loader(SourceManager &sources, DiagnosticEngine &diags) : sources_(sources), diags_(diags) {}

  void loadText(const std::string &name, std::string text, const fs::path &dir) {
    int id = sources_.add(name, std::move(text));
    std::optional<ast::File> file =
        parseFile(sources_, id, diags_, SyntaxErrorPolicy::RecoveredAst);
    if (!file) {
      whole_ = false;
      return;
    }
    std::vector<ast::ImportDecl> imports = file->imports;
    files_.push_back(std::move(*file));
    for (const ast::ImportDecl &imp : imports)
      loadImport(imp, dir);
  }

  void loadPath(const std::string &path, const SourceLoc &from) {
    std::string error;
    std::optional<std::string> text = readFile(path, error);
    if (!text) {
      diags_.error(from, fmt::format("cannot read '{}': {}", path, error));
      whole_ = false;
      return;
    }
    loadText(path, std::move(*text), fs::path(path).parent_path());
  }

  std::vector<ast::File> take(bool *whole) {
    if (whole)
      *whole = whole_;
    return std::move(files_);
  }

  // Canonical paths of files being loaded (for cycles) or already loaded.
  std::map<std::string, bool> state_; // true while in progress

private:
  void loadImport(const ast::ImportDecl &imp, const fs::path &dir) {
    fs::path target = dir / imp.path;
    std::error_code ec;
    fs::path canonical = fs::weakly_canonical(target, ec);
    std::string key = ec ? target.string() : canonical.string();
    auto it = state_.find(key);
    if (it != state_.end()) {
      if (it->second)
        diags_.error(imp.loc, fmt::format("import cycle: '{}' imports itself, "
                                          "directly or through other files",
                                          imp.path));
      return;
    }
    state_[key] = true;
    loadPath(target.lexically_normal().string(), imp.loc);
    state_[key] = false;
  }

  SourceManager &sources_;
  DiagnosticEngine &diags_;
  std::vector<ast::File> files_;
  bool whole_ = true;
};

} // namespace

std::vector<ast::File> loadWithImports(const std::string &path, SourceManager &sources,
                                       DiagnosticEngine &diags, bool *whole) {
  Loader loader(sources, diags);
  std::error_code ec;
  fs::path canonical = fs::weakly_canonical(path, ec);
  loader.state_[ec ? path : canonical.string()] = true;
  loader.loadPath(path, SourceLoc{});
  return loader.take(whole);
}

std::vector<ast::File> loadBufferWithImports(const std::string &name, std::string text,
                                             const std::string &baseDir, SourceManager &sources,
                                             DiagnosticEngine &diags, bool *whole) {
  Loader loader(sources, diags);
  loader.loadText(name, std::move(text), baseDir);
  return loader.take(whole);
}

} // namespace mtl

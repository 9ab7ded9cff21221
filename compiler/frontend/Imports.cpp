// Imports.cpp: import resolution with cycle detection.
#include "frontend/Imports.h"

#include "frontend/Parser.h"
#include "frontend/Stdlib.h"
#include "support/Suggest.h"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <fstream>
#include <map>

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
  // Read in pieces up to a bound, so that a device or a pipe that never ends
  // (import "/dev/zero") is an error, not a hang.
  constexpr size_t kMaxSource = size_t(16) << 20;
  std::string text;
  char piece[1 << 16];
  while (in.read(piece, sizeof piece) || in.gcount() > 0) {
    text.append(piece, size_t(in.gcount()));
    if (text.size() > kMaxSource) {
      error = "is larger than 16 MB, more than a model file can be";
      return std::nullopt;
    }
  }
  if (in.bad()) { // a read error (/proc/self/mem), not the end of the file
    error = errno ? std::strerror(errno) : "read error";
    return std::nullopt;
  }
  return text;
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
    if (imp.path.starts_with(kStdPrefix)) {
      if (const char *text = stdlibText(imp))
        once(imp, imp.path, [&] { loadText(imp.path, text, fs::path()); });
      return;
    }
    fs::path target = dir / imp.path;
    std::error_code ec;
    fs::path canonical = fs::weakly_canonical(target, ec);
    once(imp, ec ? target.string() : canonical.string(),
         [&] { loadPath(target.lexically_normal().string(), imp.loc); });
  }

  // Loads the file known as `key` unless it is loaded or being loaded (a
  // cycle, which is reported).
  template <typename Load>
  void once(const ast::ImportDecl &imp, const std::string &key, Load load) {
    auto it = state_.find(key);
    if (it != state_.end()) {
      if (it->second)
        diags_.error(imp.loc, fmt::format("import cycle: '{}' imports itself, "
                                          "directly or through other files",
                                          imp.path));
      return;
    }
    state_[key] = true;
    load();
    state_[key] = false;
  }

  // `import "std/NAME.mtl"`: the text of a file of the standard library,
  // compiled into mtlc; null (reported) when there is no such file.
  const char *stdlibText(const ast::ImportDecl &imp) {
    std::vector<std::string> names;
    for (const StdlibFile &f : kStdlibFiles) {
      if (imp.path == f.path)
        return f.text;
      names.push_back(f.path);
    }
    std::string hint = didYouMean(imp.path, names);
    diags_.error(
        imp.loc,
        fmt::format("the standard library has no file '{}'{}", imp.path,
                    hint.empty() ? fmt::format("; it has '{}'", fmt::join(names, "', '")) : hint));
    whole_ = false;
    return nullptr;
  }

  static constexpr const char *kStdPrefix = "std/";

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

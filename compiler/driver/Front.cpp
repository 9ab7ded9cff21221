// Front.cpp: parse (with imports) and check, the stages every command starts with.
#include "driver/Front.h"

#include "frontend/Imports.h"
#include "sema/Sema.h"

#include <filesystem>
#include <fmt/format.h>

namespace mtl::driver {

StageTimer::StageTimer(const PipelineOptions &o, const char *name)
    : verbose_(o.verbose), timings_(o.timings), name_(name),
      start_(std::chrono::steady_clock::now()) {}

StageTimer::~StageTimer() {
  std::chrono::duration<double, std::milli> ms = std::chrono::steady_clock::now() - start_;
  if (timings_)
    timings_->emplace_back(name_, ms.count());
  if (verbose_)
    fmt::print(stderr, "mtlc: {:<9} {:8.2f} ms\n", name_, ms.count());
}

std::vector<std::string> sourceFiles(const Checked &c) {
  std::vector<std::string> files;
  for (int f = 0; f < c.sources.fileCount(); ++f)
    files.push_back(c.sources.name(f));
  return files;
}

bool runFront(const std::string &path, Stage last, Checked &c, const PipelineOptions &o) {
  bool whole = false;
  {
    StageTimer t(o, "parse");
    if (o.text) {
      std::string dir = std::filesystem::path(path).parent_path().string();
      c.files = loadBufferWithImports(path, *o.text, dir, c.sources, c.diags, &whole);
    } else {
      c.files = loadWithImports(path, c.sources, c.diags, &whole);
    }
  }
  // Files with syntax errors are still checked (without the declarations the
  // parser had to skip), so that one run reports every error.
  if (!whole || c.files.empty() || (c.diags.hasErrors() && last == Stage::Parse))
    return false;
  // The model's source is its file and every file it imports: a changed
  // block library changes the model (and a resume must refuse it).
  c.sourceText = c.sources.text(c.files[0].fileId);
  for (size_t f = 1; f < c.files.size(); ++f)
    c.sourceText += std::string("\0import\0", 8) + std::string(c.sources.text(c.files[f].fileId));
  if (last == Stage::Parse)
    return true;
  {
    StageTimer t(o, "sema");
    c.models = sema::analyze(c.files, c.sources, c.diags, o.epochs);
  }
  return !c.diags.hasErrors();
}

} // namespace mtl::driver

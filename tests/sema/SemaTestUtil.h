// SemaTestUtil.h: parse-and-check helpers for the sema tests.
#pragma once

#include "frontend/Parser.h"
#include "sema/Sema.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace mtl::sema::test {

/// The outcome of checking one source text.
struct Checked {
  std::vector<Model> models;
  std::string text; ///< rendered diagnostics, no colour
  unsigned errors = 0;
  bool parsed = false;
  const Model &model() const { return models.at(0); }
};

/// Parses `source` registered as `name` (with `imports` as further files,
/// name → text) and runs sema on it.
inline Checked check(const std::string &source, const std::string &name = "m.mtl",
                     const std::vector<std::pair<std::string, std::string>> &imports = {}) {
  SourceManager sm;
  DiagnosticEngine d(sm);
  std::vector<ast::File> files;
  int id = sm.add(name, source);
  auto f = parseFile(sm, id, d);
  Checked out;
  if (!f) {
    out.text = d.render(false);
    return out;
  }
  files.push_back(std::move(*f));
  for (const auto &[n, t] : imports) {
    int i = sm.add(n, t);
    auto g = parseFile(sm, i, d);
    if (!g) {
      out.text = d.render(false);
      return out;
    }
    files.push_back(std::move(*g));
  }
  out.parsed = true;
  out.models = analyze(files, sm, d);
  out.text = d.render(false);
  out.errors = d.errorCount();
  return out;
}

/// `body` wrapped in `model m { ... }`; the body starts on line 2.
inline std::string model(const std::string &body) { return "model m {\n" + body + "\n}\n"; }

/// The layers of `m`'s modules named `name`, in order, as "prefix=kind[out]".
inline std::vector<std::string> layersOf(const Model &m, const std::string &name) {
  std::vector<std::string> out;
  for (const Module &mod : m.modules)
    if (mod.name == name)
      for (const Layer &l : mod.layers)
        out.push_back(l.paramPrefix + "=" + layerName(l.kind) + formatShape(l.outShape));
  return out;
}

/// Index of the first module called `name`, or -1.
inline int moduleIndex(const Model &m, const std::string &name) {
  for (size_t i = 0; i < m.modules.size(); ++i)
    if (m.modules[i].name == name)
      return static_cast<int>(i);
  return -1;
}

/// The task called `name` (fails the test if there is none).
inline const Task &taskOf(const Model &m, const std::string &name) {
  for (const Task &t : m.tasks)
    if (t.name == name)
      return t;
  ADD_FAILURE() << "no task " << name;
  static Task none;
  return none;
}

/// True if the rendered diagnostics contain `piece`.
#define EXPECT_DIAG(checked, piece)                                                                \
  EXPECT_NE((checked).text.find(piece), std::string::npos) << "expected:\n"                        \
                                                           << (piece) << "\nin:\n"                 \
                                                           << (checked).text
#define EXPECT_NO_DIAG(checked, piece)                                                             \
  EXPECT_EQ((checked).text.find(piece), std::string::npos) << (checked).text

} // namespace mtl::sema::test

// LowerText.h: a model's text through the frontend, sema and lowering, for the lowering tests.
//
// Header-only because the test CMake compiles *_test.cpp files only.
#pragma once

#include "frontend/Imports.h"
#include "lower/Lower.h"
#include "sema/Sema.h"

#include <gtest/gtest.h>

#include <optional>
#include <string>

namespace mtl::test {

/// `text` (one model) checked; nullopt (with a test failure) on any error.
inline std::optional<sema::Model> checkText(const std::string &text) {
  SourceManager sm;
  DiagnosticEngine diags(sm);
  std::vector<ast::File> files = loadBufferWithImports("model.mtl", text, ".", sm, diags);
  std::vector<sema::Model> models = sema::analyze(std::move(files), sm, diags);
  if (diags.hasErrors() || models.size() != 1) {
    ADD_FAILURE() << diags.render(false);
    return std::nullopt;
  }
  return std::move(models[0]);
}

/// `text` (one model) checked and lowered; nullopt (with a test failure) on any error.
inline std::optional<lower::LoweredStep> lowerText(const std::string &text) {
  std::optional<sema::Model> model = checkText(text);
  if (!model)
    return std::nullopt;
  lower::LoweredStep step = lower::lowerModel(*model);
  if (!step.ok()) {
    ADD_FAILURE() << step.errors.front().message;
    return std::nullopt;
  }
  return step;
}

} // namespace mtl::test

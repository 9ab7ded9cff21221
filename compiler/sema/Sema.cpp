// Sema.cpp: the order of the sema passes, per run and per model.
#include "sema/Sema.h"

#include "sema/Blocks.h"
#include "sema/Data.h"
#include "sema/Names.h"
#include "sema/SemaContext.h"
#include "sema/Settings.h"
#include "sema/Tasks.h"
#include "sema/Values.h"
#include "support/BigStack.h"

#include <fmt/format.h>
#include <map>

namespace mtl::sema {
namespace {

// Returns the model if it checked without errors.
std::optional<Model> analyzeModel(Context &ctx, const ast::ModelDecl &decl) {
  Model model;
  model.name = decl.name.text;
  model.loc = decl.loc;
  if (decl.loc.file >= 0 && decl.loc.file < ctx.sources.fileCount())
    model.sourcePath = ctx.sources.name(decl.loc.file);
  unsigned before = ctx.errorsSeen;
  ctx.beginModel(model);
  ModelDecls decls = collectNames(ctx, decl);
  std::vector<BlockInfo *> blocks;
  for (BlockInfo &b : ctx.localBlocks)
    blocks.push_back(&b);
  checkBlocks(ctx, blocks);
  classifyShared(ctx);
  checkTasks(ctx);
  finishValues(ctx);
  checkData(ctx, decls.data);
  checkSettings(ctx, decls);
  checkTrain(ctx, decls.train, decl);
  checkExperiment(ctx, decls.experiment);
  bool anyMain = false;
  for (const Task &t : model.tasks)
    anyMain = anyMain || !t.auxiliary;
  if (!model.tasks.empty() && !anyMain)
    ctx.warning(decl.name.loc, fmt::format("every task of model '{}' is auxiliary; the model "
                                           "has no main task to report",
                                           decl.name.text));
  bool ok = ctx.errorsSeen == before && !ctx.broken;
  ctx.model = nullptr;
  if (!ok)
    return std::nullopt;
  return model;
}

std::vector<Model> analyzeFiles(const std::vector<ast::File> &files, const SourceManager &sources,
                                DiagnosticEngine &diags, std::optional<int64_t> runEpochs) {
  std::vector<Model> out;
  if (files.empty())
    return out;
  Context ctx(sources, diags);
  ctx.runEpochs = runEpochs;
  collectTopBlocks(ctx, files);
  std::vector<BlockInfo *> top;
  for (auto &[name, info] : ctx.topBlocks)
    top.push_back(&info);
  checkBlocks(ctx, top);
  std::map<std::string, SourceLoc> seen;
  for (const ast::TopItem &item : files[0].items) {
    const auto *m = std::get_if<ast::ModelDecl>(&item);
    if (!m)
      continue;
    auto [it, fresh] = seen.insert({m->name.text, m->name.loc});
    if (!fresh)
      ctx.error(m->name.loc, fmt::format("duplicate model '{}'", m->name.text))
          .note(it->second, "previous definition is here");
    if (auto model = analyzeModel(ctx, *m); model && fresh)
      out.push_back(std::move(*model));
  }
  return out;
}

} // namespace

std::vector<Model> analyze(const std::vector<ast::File> &files, const SourceManager &sources,
                           DiagnosticEngine &diags, std::optional<int64_t> runEpochs) {
  std::vector<Model> out;
  // Elaboration recurses over expressions and blocks; deep but legal input
  // must not overflow the main thread's stack.
  runWithBigStack([&] { out = analyzeFiles(files, sources, diags, runEpochs); });
  return out;
}

} // namespace mtl::sema

// Names.h: the namespaces: top-level blocks, and each model's inputs, blocks, shared blocks and
// tasks.
#pragma once

#include "sema/SemaContext.h"

#include <vector>

namespace mtl::sema {

/// The declarations of a model that later passes read, grouped by kind.
struct ModelDecls {
  std::vector<const ast::DataDecl *> data;
  const ast::BalanceDecl *balance = nullptr;
  std::vector<const ast::RegularizeDecl *> regularize;
  const ast::OptimizerDecl *optimizer = nullptr;
  const ast::TrainDecl *train = nullptr;
  const ast::ExperimentDecl *experiment = nullptr;
};

/// Registers the top-level blocks of every file in `ctx.topBlocks`, reporting
/// duplicates (with a note at the first) and blocks named like a layer.
void collectTopBlocks(Context &ctx, const std::vector<ast::File> &files);

/// Builds the namespace of `decl` in `ctx` (inputs, blocks, shared blocks and
/// tasks share it; the first definition wins, later ones are reported as
/// duplicates with a note), checks the inputs' types and shapes and adds them
/// to the model with one InputRef value each (value i is input i), and
/// reports a model without inputs or tasks and a second balance, optimizer or
/// train. Every declaration gets an entry (duplicates too, so their bodies
/// are still checked); only the first of a name is in scope.
ModelDecls collectNames(Context &ctx, const ast::ModelDecl &decl);

} // namespace mtl::sema

// Names.cpp: declarations, duplicates, reserved layer names and inputs.
#include "sema/Names.h"

#include "sema/Layers.h"
#include "support/Suggest.h"

#include <fmt/format.h>

namespace mtl::sema {
namespace {

const char *kindWord(Symbol::Kind kind) {
  switch (kind) {
  case Symbol::Input:
    return "input";
  case Symbol::Block:
    return "block";
  case Symbol::Shared:
    return "shared block";
  case Symbol::Task:
    return "task";
  }
  return "name";
}

bool reserved(Context &ctx, const ast::Ident &name, const char *what) {
  if (!layerByName(name.text) && name.text != "ple")
    return false;
  ctx.error(name.loc, fmt::format("'{}' is {} name and cannot name {}", name.text,
                                  layerByName(name.text) ? "a layer" : "a built-in block", what));
  return true;
}

void declare(Context &ctx, const ast::Ident &name, Symbol::Kind kind, int index) {
  const char *article = kind == Symbol::Input   ? "an input"
                        : kind == Symbol::Task  ? "a task"
                        : kind == Symbol::Block ? "a block"
                                                : "a shared block";
  if (reserved(ctx, name, article))
    return;
  auto [it, fresh] = ctx.names.insert({name.text, Symbol{kind, index, name.loc}});
  if (fresh)
    return;
  const Symbol &prev = it->second;
  std::string msg = prev.kind == kind
                        ? fmt::format("duplicate {} '{}'", kindWord(kind), name.text)
                        : fmt::format("duplicate name '{}' (already the name of {} {})", name.text,
                                      prev.kind == Symbol::Input ? "an" : "a", kindWord(prev.kind));
  ctx.error(name.loc, msg).note(prev.loc, "previous definition is here");
}

Flow checkInput(Context &ctx, const ast::InputDecl &d, Input &in) {
  in.name = d.name.text;
  in.loc = d.loc;
  bool ok = true;
  if (d.dtype.text == "f32") {
    in.dtype = DType::F32;
  } else if (d.dtype.text == "i32") {
    in.dtype = DType::I32;
  } else {
    std::string hint = didYouMean(d.dtype.text, {"f32", "i32"});
    ctx.error(d.dtype.loc, fmt::format("unknown type '{}'{}", d.dtype.text,
                                       hint.empty() ? "; inputs are 'f32' or 'i32'" : hint));
    ok = false;
  }
  double count = 1;
  for (int64_t dim : d.dims) {
    if (dim < 1 || dim > kMaxDim) {
      ctx.error(d.shapeLoc.valid() ? d.shapeLoc : d.loc,
                fmt::format("every dimension must be between 1 and {}, got {}", kMaxDim, dim));
      ok = false;
    }
    count *= static_cast<double>(dim);
  }
  if (ok && count > static_cast<double>(kMaxElements)) {
    ctx.error(d.shapeLoc, "input has more than 2^40 elements per row");
    ok = false;
  }
  in.shape = d.dims.empty() ? Shape{1} : Shape(d.dims.begin(), d.dims.end());
  return ok ? Flow::of(in.dtype, in.shape) : Flow{};
}

template <class T> void single(Context &ctx, const T *&slot, const T &decl, const char *word) {
  if (slot)
    ctx.error(decl.loc, fmt::format("duplicate '{}'; a model has one", word))
        .note(slot->loc, "previous definition is here");
  else
    slot = &decl;
}

} // namespace

void collectTopBlocks(Context &ctx, const std::vector<ast::File> &files) {
  for (const ast::File &f : files)
    for (const ast::TopItem &item : f.items) {
      const auto *b = std::get_if<ast::BlockDecl>(&item);
      if (!b || reserved(ctx, b->name, "a block"))
        continue;
      auto [it, fresh] = ctx.topBlocks.insert({b->name.text, BlockInfo{b, true, false, {}, false}});
      if (!fresh)
        ctx.error(b->name.loc, fmt::format("duplicate block '{}'", b->name.text))
            .note(it->second.decl->name.loc, "previous definition is here");
    }
}

ModelDecls collectNames(Context &ctx, const ast::ModelDecl &decl) {
  ModelDecls out;
  Model &model = *ctx.model;
  for (const ast::ModelItem &item : decl.items) {
    if (const auto *d = std::get_if<ast::InputDecl>(&item)) {
      int index = static_cast<int>(model.inputs.size());
      model.inputs.emplace_back();
      Flow flow = checkInput(ctx, *d, model.inputs.back());
      ctx.inputFlows.push_back(flow);
      ctx.inputUsed.push_back(false);
      Value v;
      v.kind = Value::InputRef;
      v.input = index;
      v.shape = model.inputs.back().shape;
      model.values.push_back(v);
      declare(ctx, d->name, Symbol::Input, index);
    } else if (const auto *d = std::get_if<ast::BlockDecl>(&item)) {
      ctx.localBlocks.push_back(BlockInfo{d, false, false, {}, false});
      declare(ctx, d->name, Symbol::Block, static_cast<int>(ctx.localBlocks.size()) - 1);
    } else if (const auto *d = std::get_if<ast::SharedDecl>(&item)) {
      ctx.shared.emplace_back();
      ctx.shared.back().decl = d;
      declare(ctx, d->name, Symbol::Shared, static_cast<int>(ctx.shared.size()) - 1);
    } else if (const auto *d = std::get_if<ast::TaskDecl>(&item)) {
      ctx.tasks.emplace_back();
      ctx.tasks.back().decl = d;
      declare(ctx, d->name, Symbol::Task, static_cast<int>(ctx.tasks.size()) - 1);
    } else if (const auto *d = std::get_if<ast::DataDecl>(&item)) {
      out.data.push_back(d);
    } else if (const auto *d = std::get_if<ast::BalanceDecl>(&item)) {
      single(ctx, out.balance, *d, "balance");
    } else if (const auto *d = std::get_if<ast::RegularizeDecl>(&item)) {
      out.regularize.push_back(d);
    } else if (const auto *d = std::get_if<ast::OptimizerDecl>(&item)) {
      single(ctx, out.optimizer, *d, "optimizer");
    } else if (const auto *d = std::get_if<ast::TrainDecl>(&item)) {
      single(ctx, out.train, *d, "train");
    } else if (const auto *d = std::get_if<ast::ExperimentDecl>(&item)) {
      single(ctx, out.experiment, *d, "experiment");
    }
  }
  if (model.inputs.empty())
    ctx.error(decl.name.loc, fmt::format("model '{}' has no input; declare one with "
                                         "'input NAME : f32[n]'",
                                         decl.name.text));
  if (ctx.tasks.empty())
    ctx.error(decl.name.loc, fmt::format("model '{}' has no task; declare one with "
                                         "'task NAME : KIND {{ head = ... }}'",
                                         decl.name.text));
  return out;
}

} // namespace mtl::sema

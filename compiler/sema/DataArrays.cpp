// DataArrays.cpp: NumPy sources (npy files, npz archives) and their array(...) selections.
#include "sema/Data.h"

#include "sema/Args.h"
#include "sema/ConstEval.h"
#include "sema/DataFiles.h"
#include "sema/NpyFiles.h"
#include "support/Suggest.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

namespace mtl::sema {
namespace {

std::optional<std::string> pathOf(Context &ctx, const ast::Expr &e, const std::string &file) {
  auto s = evalString(ctx, e);
  if (s && s->empty()) {
    ctx.error(e.loc, "a path must not be empty");
    return std::nullopt;
  }
  return s ? std::optional<std::string>(resolvePath(file, *s)) : std::nullopt;
}

int64_t rowSize(const std::vector<int64_t> &dims) {
  int64_t n = 1;
  for (size_t i = 1; i < dims.size(); ++i)
    n *= dims[i];
  return n;
}

} // namespace

void readArraySource(Context &ctx, const ast::Expr &e, DataSet &ds, const std::string &modelFile,
                     ArrayFiles &files) {
  files.known = true;
  if (e.text == "npz") {
    ds.kind = DataKind::Npz;
    BoundArgs b = bindArgs(ctx, e, "npz", {{"path", true}});
    if (const ast::Expr *v = b.value(0))
      ds.path = pathOf(ctx, *v, modelFile).value_or("");
    if (ds.path.empty() || !isFile(ds.path)) {
      files.known = false;
      return;
    }
    std::string why;
    if (auto names = readNpzNames(ds.path, why))
      for (const std::string &n : *names)
        files.shapes[n] = std::nullopt;
    else
      ctx.error(b.value(0)->loc, fmt::format("'{}' {}", ds.path, why));
    files.known = ctx.errorsSeen == 0 || !files.shapes.empty();
    return;
  }
  ds.kind = DataKind::Npy;
  if (!e.isCall() || e.args.empty()) {
    ctx.error(e.loc, "npy needs its arrays by name: npy(features = \"X.npy\", labels = "
                     "\"y.npy\")");
    files.known = false;
    return;
  }
  std::optional<std::pair<std::string, int64_t>> rows; // the first array's name and rows
  for (const ast::Arg &a : e.args) {
    if (a.name.text.empty()) {
      ctx.error(a.loc, "npy names each array: npy(NAME = \"PATH\", ...)");
      files.known = false;
      continue;
    }
    auto path = pathOf(ctx, a.value, modelFile);
    if (!path) {
      files.known = false;
      continue;
    }
    if (files.shapes.count(a.name.text))
      ctx.error(a.name.loc, fmt::format("array '{}' is named twice", a.name.text));
    ds.arrays.emplace_back(a.name.text, *path);
    files.shapes[a.name.text] = std::nullopt;
    if (!isFile(*path))
      continue;
    std::string why;
    auto shape = readNpyShape(*path, why);
    if (!shape) {
      ctx.error(a.value.loc, fmt::format("'{}' {}", *path, why));
      continue;
    }
    files.shapes[a.name.text] = shape->dims;
    if (!rows)
      rows = {a.name.text, shape->dims[0]};
    else if (rows->second != shape->dims[0])
      ctx.error(a.value.loc, fmt::format("array '{}' has {} rows but array '{}' has {}; the "
                                         "arrays of a data set have one row per item",
                                         a.name.text, shape->dims[0], rows->first, rows->second));
  }
}

std::optional<int64_t> readArraySelection(Context &ctx, const ast::Expr &e, const DataSet &ds,
                                          const ArrayFiles &files, DataBinding &b, bool &ok) {
  ok = false;
  if (ds.kind != DataKind::Npy && ds.kind != DataKind::Npz) {
    ctx.error(e.loc, "array(...) selects from npy or npz data");
    return std::nullopt;
  }
  if (!e.isCall() || e.args.empty() || !e.args[0].name.text.empty() || e.args[0].rangeEnd ||
      !(e.args[0].value.isName() || e.args[0].value.kind == ast::ExprKind::String)) {
    ctx.error(e.loc, "array(...) needs an array's name: array(NAME) or array(NAME, 0..3)");
    return std::nullopt;
  }
  const ast::Expr &nameExpr = e.args[0].value;
  b.from = DataBinding::Array;
  b.array = nameExpr.text;
  auto found = files.shapes.find(b.array);
  if (files.known && found == files.shapes.end()) {
    std::vector<std::string> names;
    for (const auto &[n, shape] : files.shapes)
      names.push_back(n);
    std::string hint = didYouMean(b.array, names);
    ctx.error(
        nameExpr.loc,
        fmt::format("no array named '{}' in {}{}", b.array,
                    ds.kind == DataKind::Npz ? fmt::format("'{}'", ds.path)
                                             : std::string("this npy data set"),
                    hint.empty() ? fmt::format(" (it has: {})", fmt::join(names, ", ")) : hint));
    return std::nullopt;
  }
  const std::vector<int64_t> *dims =
      found != files.shapes.end() && found->second ? &*found->second : nullptr;
  bool good = true;
  for (size_t k = 1; k < e.args.size(); ++k) {
    const ast::Arg &a = e.args[k];
    auto lo = evalInt(ctx, a.value, nullptr, "an element number", 0, kMaxColumns);
    auto hi = a.rangeEnd ? evalInt(ctx, *a.rangeEnd, nullptr, "an element number", 0, kMaxColumns)
                         : (lo ? std::optional<int64_t>(*lo + 1) : std::nullopt);
    if (!lo || !hi) {
      good = false;
      continue;
    }
    if (*hi <= *lo) {
      ctx.error(a.loc, fmt::format("element range {}..{} is empty", *lo, *hi));
      good = false;
      continue;
    }
    if (dims && *hi > rowSize(*dims)) {
      ctx.error(a.loc, fmt::format("element {} is out of range: array '{}' has {} value{} per row "
                                   "(shape {})",
                                   *hi - 1, b.array, rowSize(*dims), rowSize(*dims) == 1 ? "" : "s",
                                   fmt::join(*dims, " x ")));
      good = false;
      continue;
    }
    for (int64_t c = *lo; c < *hi; ++c)
      b.columns.push_back({"", c, a.loc});
  }
  ok = good;
  if (!good)
    return std::nullopt;
  if (!b.columns.empty())
    return int64_t(b.columns.size());
  return dims ? std::optional<int64_t>(rowSize(*dims)) : std::nullopt;
}

} // namespace mtl::sema

// Data.cpp: data sets: sources, selections, widths, modifiers, and CSV/IDX files when present.
#include "sema/Data.h"

#include "sema/Args.h"
#include "sema/ConstEval.h"
#include "sema/DataFiles.h"
#include "support/Suggest.h"

#include <algorithm>
#include <filesystem>
#include <fmt/format.h>

namespace mtl::sema {
namespace fs = std::filesystem;
std::string resolvePath(const std::string &modelFile, const std::string &p) {
  fs::path path(p);
  if (path.is_absolute())
    return path.lexically_normal().string();
  return (fs::path(modelFile).parent_path() / path).lexically_normal().string();
}

namespace {

// The first name that occurs twice, as the indices of its two columns.
std::optional<std::pair<size_t, size_t>> duplicateColumn(const std::vector<std::string> &names) {
  for (size_t i = 0; i < names.size(); ++i)
    for (size_t j = 0; j < i; ++j)
      if (names[i] == names[j])
        return std::make_pair(j, i);
  return std::nullopt;
}

// "did you mean" for column names, which are often long: besides close
// names, a name close to the start of a column name ('bil_length' for
// 'bill_length_mm') is a likely slip.
std::string suggestColumn(const std::string &word, const std::vector<std::string> &names) {
  std::string hint = didYouMean(word, names);
  if (!hint.empty() || word.size() < 3)
    return hint;
  std::vector<std::string> prefixes;
  std::vector<const std::string *> owners;
  for (const std::string &n : names)
    if (n.size() > word.size()) {
      if (n.compare(0, word.size(), word) == 0)
        return "; did you mean '" + n + "'?";
      prefixes.push_back(n.substr(0, word.size() + 1));
      owners.push_back(&n);
    }
  if (auto m = closestMatch(word, prefixes))
    for (size_t i = 0; i < prefixes.size(); ++i)
      if (prefixes[i] == *m)
        return "; did you mean '" + *owners[i] + "'?";
  return "";
}

// What the source says, beyond the DataSet fields.
struct Source {
  bool ok = false;
  bool known = false; // csv, idx or synthetic: the bindings can be checked against it
  std::optional<CsvColumns> columns;  // CSV: the file exists
  std::optional<int64_t> imageValues; // IDX: values per image, when the file exists
  ArrayFiles arrays;                  // npy, npz
};

std::optional<std::string> pathArg(Context &ctx, const ast::Expr *e, const std::string &file) {
  if (!e)
    return std::nullopt;
  auto s = evalString(ctx, *e);
  if (s && s->empty()) {
    ctx.error(e->loc, "a path must not be empty");
    return std::nullopt;
  }
  if (!s)
    return std::nullopt;
  std::string path = resolvePath(file, *s);
  // A missing file may be given later (--data); a folder or a device never
  // holds data, which training says unless --data replaces it.
  std::error_code ec;
  const auto type = std::filesystem::status(path, ec).type();
  if (type == std::filesystem::file_type::directory ||
      type == std::filesystem::file_type::character || type == std::filesystem::file_type::block)
    ctx.warning(e->loc,
                fmt::format("'{}' is a {}, not a file of data; training needs --data "
                            "to give it a file",
                            path,
                            type == std::filesystem::file_type::directory ? "folder" : "device"));
  return path; // no further errors for its bindings: only regular files are read here
}

Source readSource(Context &ctx, const ast::Expr &e, DataSet &ds, const std::string &file) {
  Source src;
  static const std::vector<std::string> kinds = {"csv", "idx", "npy", "npz", "synthetic"};
  if (!e.isNamed() || std::find(kinds.begin(), kinds.end(), e.text) == kinds.end()) {
    if (e.isNamed())
      ctx.error(nameLoc(e),
                fmt::format("unknown data source '{}'{}", e.text, didYouMean(e.text, kinds)));
    else
      ctx.error(e.loc, fmt::format("expected a data source (csv, idx, npy, npz or synthetic), "
                                   "got {}",
                                   describe(e)));
    return src;
  }
  src.known = true;
  unsigned before = ctx.errorsSeen;
  if (e.text == "csv") {
    ds.kind = DataKind::Csv;
    BoundArgs b = bindArgs(
        ctx, e, "csv",
        {{"path", true}, {"header", false}, {"sep", false}, {"na", false}, {"skip", false}});
    if (auto p = pathArg(ctx, b.value(0), file))
      ds.path = *p;
    if (const ast::Expr *v = b.value(1))
      ds.header = evalBool(ctx, *v).value_or(true);
    if (const ast::Expr *v = b.value(2))
      if (auto s = evalString(ctx, *v)) {
        if (s->size() == 1)
          ds.separator = (*s)[0];
        else
          ctx.error(v->loc, fmt::format("sep must be one character, got \"{}\"", *s));
      }
    if (const ast::Expr *v = b.value(3))
      ds.na = evalString(ctx, *v).value_or("");
    if (const ast::Expr *v = b.value(4))
      ds.skip = evalInt(ctx, *v, nullptr, "skip", 0, kMaxDim).value_or(0);
    if (ctx.errorsSeen == before && isFile(ds.path))
      src.columns = readCsvColumns(ds.path, ds.header, ds.separator, ds.skip);
    // Two columns of one name: a column() binding could not say which it means
    // (training refuses such a file too, runtime/src/data/Csv.cpp).
    if (src.columns && !src.columns->notText.empty()) {
      ctx.error(b.value(0)->loc, fmt::format("'{}' {}", ds.path, src.columns->notText));
      src.columns.reset(); // its columns are unknown, not missing
    }
    if (src.columns && !src.columns->unreadable.empty()) {
      ctx.error(b.value(0)->loc,
                fmt::format("'{}' cannot be read: {}", ds.path, src.columns->unreadable));
      src.columns.reset();
    }
    if (src.columns && src.columns->endsAfter) {
      const int64_t lines = *src.columns->endsAfter;
      ctx.error(b.value(0)->loc,
                lines == 0 ? fmt::format("'{}' is empty", ds.path)
                           : fmt::format("'{}' has only {} line{}, and skip = {} leaves no {}",
                                         ds.path, lines, lines == 1 ? "" : "s", ds.skip,
                                         ds.header ? "header" : "data"));
      src.columns.reset();
    }
    if (src.columns && ds.header)
      if (auto twice = duplicateColumn(src.columns->names))
        ctx.error(b.value(0)->loc,
                  fmt::format("'{}': its header names column '{}' twice (columns {} and {}, "
                              "numbered from 0); rename one",
                              ds.path, src.columns->names[twice->second], twice->first,
                              twice->second));
  } else if (e.text == "idx") {
    ds.kind = DataKind::Idx;
    BoundArgs b = bindArgs(ctx, e, "idx", {{"images", false}, {"labels", false}});
    ds.images = pathArg(ctx, b.value(0), file).value_or("");
    ds.labels = pathArg(ctx, b.value(1), file).value_or("");
    if (b.ok && !b.value(0) && !b.value(1))
      ctx.error(nameLoc(e), "idx needs images = PATH, labels = PATH or both");
    std::string why;
    if (!ds.images.empty() && isFile(ds.images)) {
      if (auto dims = readIdxDims(ds.images, why)) {
        int64_t n = 1;
        for (size_t i = 1; i < dims->size(); ++i)
          n *= (*dims)[i];
        src.imageValues = n;
      } else {
        ctx.error(b.value(0)->loc, fmt::format("'{}' {}", ds.images, why));
      }
    }
    if (!ds.labels.empty() && isFile(ds.labels)) {
      auto dims = readIdxDims(ds.labels, why);
      if (!dims)
        ctx.error(b.value(1)->loc, fmt::format("'{}' {}", ds.labels, why));
      else if (dims->size() != 1)
        ctx.error(b.value(1)->loc, fmt::format("'{}' holds images, not labels", ds.labels));
    }
  } else if (e.text == "npy" || e.text == "npz") {
    readArraySource(ctx, e, ds, file, src.arrays);
  } else {
    ds.kind = DataKind::Synthetic;
    BoundArgs b = bindArgs(ctx, e, "synthetic", {{"rows", false}, {"seed", false}});
    ds.rows = 1000;
    if (const ast::Expr *v = b.value(0))
      ds.rows = evalInt(ctx, *v, nullptr, "rows", 1, kMaxDim).value_or(1000);
    if (const ast::Expr *v = b.value(1))
      ds.seed =
          static_cast<uint64_t>(evalInt(ctx, *v, nullptr, "seed", 0, int64_t(1) << 53).value_or(0));
  }
  src.ok = ctx.errorsSeen == before;
  return src;
}

// Reads `column(...)`, `columns(...)`, `images` or `labels` into `b`; returns
// the number of values it selects when known, or nothing (maybe reported).
std::optional<int64_t> readSelection(Context &ctx, const ast::Expr &e, const DataSet &ds,
                                     const Source &src, DataBinding &b, bool &ok) {
  static const std::vector<std::string> kinds = {"column", "columns", "images", "labels", "array"};
  ok = false;
  if (e.isNamed() && e.text == "array")
    return readArraySelection(ctx, e, ds, src.arrays, b, ok);
  if (!e.isNamed() || std::find(kinds.begin(), kinds.end(), e.text) == kinds.end()) {
    std::string hint = e.isNamed() ? didYouMean(e.text, kinds) : "";
    ctx.error(e.isNamed() ? nameLoc(e) : e.loc,
              fmt::format("{}{}",
                          e.isNamed() ? "unknown selection '" + e.text + "'"
                                      : "expected a selection, got " + describe(e),
                          hint.empty()
                              ? "; use column(...), columns(...), images, labels or array(...)"
                              : hint));
    return std::nullopt;
  }
  if (e.text == "images" || e.text == "labels") {
    if (e.isCall())
      ctx.error(e.loc, fmt::format("'{}' takes no arguments", e.text));
    if (ds.kind != DataKind::Idx) {
      ctx.error(nameLoc(e), fmt::format("'{}' selects from idx data; select from csv data "
                                        "with column(...) or columns(...)",
                                        e.text));
      return std::nullopt;
    }
    bool images = e.text == "images";
    if ((images ? ds.images : ds.labels).empty()) {
      ctx.error(nameLoc(e), fmt::format("'{}' needs a file: idx({} = \"PATH\")", e.text, e.text));
      return std::nullopt;
    }
    b.from = images ? DataBinding::Images : DataBinding::Labels;
    ok = !e.isCall();
    return images ? src.imageValues : std::optional<int64_t>(1);
  }
  if (ds.kind != DataKind::Csv) {
    ctx.error(nameLoc(e),
              fmt::format("'{}' selects csv columns; select from {} data with {}", e.text,
                          ds.kind == DataKind::Idx ? "idx" : "npy or npz",
                          ds.kind == DataKind::Idx ? "'images' or 'labels'" : "array(NAME)"));
    return std::nullopt;
  }
  bool single = e.text == "column";
  if (e.args.empty()) {
    ctx.error(e.loc, fmt::format("{} needs a column: {}(NAME) or {}(N)", e.text, e.text, e.text));
    return std::nullopt;
  }
  if (single && (e.args.size() > 1 || e.args[0].rangeEnd)) {
    ctx.error(e.args.size() > 1 ? e.args[1].loc : e.args[0].loc,
              "column(...) selects one column; use columns(...) for several");
    return std::nullopt;
  }
  bool good = true;
  for (const ast::Arg &a : e.args) {
    if (!a.name.text.empty()) {
      ctx.error(a.name.loc,
                fmt::format("unexpected argument name '{}' in a column selection", a.name.text));
      good = false;
      continue;
    }
    const ast::Expr &v = a.value;
    if (!a.rangeEnd && (v.isName() || v.kind == ast::ExprKind::String)) {
      if (v.text.empty()) {
        ctx.error(v.loc, "a column name cannot be empty; write the header's name or a "
                         "column number");
        good = false;
        continue;
      }
      b.columns.push_back({v.text, -1, v.loc});
      continue;
    }
    auto lo = evalInt(ctx, v, nullptr, "a column number", 0, kMaxColumns);
    if (!a.rangeEnd) {
      if (lo)
        b.columns.push_back({"", *lo, v.loc});
      good = good && lo;
      continue;
    }
    auto hi = evalInt(ctx, *a.rangeEnd, nullptr, "a column number", 0, kMaxColumns);
    if (!lo || !hi) {
      good = false;
    } else if (*hi <= *lo) {
      ctx.error(a.loc, fmt::format("column range {}..{} is empty", *lo, *hi));
      good = false;
    } else if (static_cast<int64_t>(b.columns.size()) + (*hi - *lo) > kMaxColumns) {
      ctx.error(a.loc, fmt::format("a selection may have at most {} columns", kMaxColumns));
      good = false;
    } else {
      for (int64_t c = *lo; c < *hi; ++c)
        b.columns.push_back({"", c, a.loc});
    }
  }
  b.from = DataBinding::Columns;
  ok = good;
  return good ? std::optional<int64_t>(b.columns.size()) : std::nullopt;
}

// `hinted`: whether a missing column of this data set was already blamed on
// the separator; the other names are missing for the same reason.
void checkColumns(Context &ctx, const DataSet &ds, const Source &src, const DataBinding &b,
                  bool &hinted) {
  for (const ColumnRef &c : b.columns) {
    if (!c.name.empty() && !ds.header) {
      ctx.error(c.loc, fmt::format("column names need a header line, but data set '{}' has "
                                   "header = false; select columns by number",
                                   ds.name));
      continue;
    }
    if (!src.columns)
      continue;
    const CsvColumns &cols = *src.columns;
    bool missing = !c.name.empty() &&
                   std::find(cols.names.begin(), cols.names.end(), c.name) == cols.names.end();
    std::optional<char> sep;
    if (missing && cols.names.size() == 1)
      sep = likelySeparator(cols.names[0], c.name, ds.separator);
    if (missing && sep && !hinted)
      ctx.error(c.loc, separatorHint(c.name, ds.path, cols.names[0], *sep));
    else if (missing && !sep)
      ctx.error(c.loc, fmt::format("no column named '{}' in '{}'{}", c.name, ds.path,
                                   suggestColumn(c.name, cols.names)));
    hinted = hinted || sep.has_value();
    if (c.name.empty() && c.index >= cols.count)
      ctx.error(c.loc, fmt::format("column {} is out of range; '{}' has {} column{}", c.index,
                                   ds.path, cols.count, cols.count == 1 ? "" : "s"));
  }
}

// A word where a modifier may stand is reported whatever the binding's
// target and source, so that a misspelling is never hidden by another error.
void reportUnknownModifiers(Context &ctx, const ast::Binding &ab) {
  static const std::vector<std::string> known = {"standardize", "scale", "as", "in"};
  for (const ast::Modifier &m : ab.modifiers) {
    if (m.kind != ast::Modifier::Unknown)
      continue;
    const std::string &word = m.word.text;
    std::string hint = word == "class" ? "; did you mean 'as class'?" : didYouMean(word, known);
    if (hint.empty())
      hint = "; the modifiers are standardize, scale(x), as class and in [v, ...]";
    ctx.error(m.word.loc, fmt::format("unknown modifier '{}'{}", word, hint));
  }
}

} // namespace

void checkData(Context &ctx, const std::vector<const ast::DataDecl *> &decls) {
  Model &model = *ctx.model;
  for (const ast::DataDecl *d : decls) {
    int index = static_cast<int>(model.data.size());
    auto [prev, fresh] = ctx.dataNames.insert({d->name.text, index});
    if (!fresh)
      ctx.error(d->name.loc, fmt::format("duplicate data set '{}'", d->name.text))
          .note(ctx.data[prev->second].decl->name.loc, "previous definition is here");
    model.data.emplace_back();
    ctx.data.push_back(DataInfo{d, false, false, false, {}, {}});
    DataSet ds;
    ds.name = d->name.text;
    ds.loc = d->loc;
    bool located = d->loc.file >= 0 && d->loc.file < ctx.sources.fileCount();
    Source src = readSource(ctx, d->source, ds, located ? ctx.sources.name(d->loc.file) : "");
    DataInfo &info = ctx.data.back();
    info.synthetic = ds.kind == DataKind::Synthetic;
    info.badSource = !src.known;
    if (info.synthetic && !d->bindings.empty())
      ctx.error(d->bindings[0].target.loc, "synthetic data takes no bindings: it generates "
                                           "every input and task target itself");
    std::map<std::string, SourceLoc> seen;
    bool hinted = false;
    for (const ast::Binding &ab : d->bindings) {
      if (info.synthetic)
        break;
      reportUnknownModifiers(ctx, ab);
      DataBinding b;
      b.target = ab.target.text;
      b.loc = ab.loc;
      const Symbol *sym = ctx.findSymbol(ab.target.text);
      bool targetOk = sym && (sym->kind == Symbol::Input || sym->kind == Symbol::Task);
      if (!sym) {
        std::vector<std::string> names = ctx.symbolNames(Symbol::Input);
        for (const std::string &t : ctx.symbolNames(Symbol::Task))
          names.push_back(t);
        ctx.error(ab.target.loc, fmt::format("no input or task named '{}'{}", ab.target.text,
                                             didYouMean(ab.target.text, names)));
        info.unresolved = true;
      } else if (!targetOk) {
        ctx.error(ab.target.loc,
                  fmt::format("'{}' is a {}; data binds inputs and task targets", ab.target.text,
                              sym->kind == Symbol::Shared ? "shared block" : "block"));
        info.unresolved = true;
      } else {
        b.isTask = sym->kind == Symbol::Task;
        b.index = sym->index;
        (b.isTask ? info.tasks : info.inputs).insert(sym->index);
        auto [first, isNew] = seen.insert({ab.target.text, ab.target.loc});
        if (!isNew) {
          ctx.error(ab.target.loc,
                    fmt::format("'{}' is bound twice in data set '{}'", ab.target.text, ds.name))
              .note(first->second, "previous binding is here");
          targetOk = false;
        }
      }
      if (info.badSource)
        continue; // what a selection means depends on the source, which is unknown
      bool selOk = false;
      std::optional<int64_t> count = readSelection(ctx, ab.source, ds, src, b, selOk);
      if (selOk && ds.kind == DataKind::Csv)
        checkColumns(ctx, ds, src, b, hinted);
      if (!targetOk)
        continue;
      checkBindingTarget(ctx, ab, b, selOk ? count : std::nullopt);
      ds.bindings.push_back(std::move(b));
    }
    model.data[index] = std::move(ds);
  }
  // An input's ids mean its training vocabulary's values: every data set
  // must read it the same way, as categories or as ids.
  std::map<int, const DataBinding *> firstOfInput;
  for (const DataSet &ds : model.data)
    for (const DataBinding &b : ds.bindings) {
      if (b.isTask)
        continue;
      auto [first, isNew] = firstOfInput.insert({b.index, &b});
      if (!isNew && first->second->asCategory != b.asCategory)
        ctx.error(b.loc, fmt::format("input '{}' is read {} here and {} in another data set; "
                                     "every data set must read it the same way",
                                     b.target, b.asCategory ? "'as category'" : "as ids",
                                     b.asCategory ? "as ids" : "'as category'"))
            .note(first->second->loc, "the other binding is here");
    }
}

} // namespace mtl::sema

// ReplModel.cpp: the REPL's model as source text: load, reload, splice typed items, compile.
//
// The session keeps the main file's text and edits it: an item typed at the
// prompt blanks out the item it replaces (spaces, keeping line breaks, so
// every other location in the file stays where it was) and is inserted
// verbatim, on lines of its own, before the model's closing brace. Compiling
// that text reports locations in the inserted lines back into the input as
// `<repl>:LINE:COL`, so errors read as they would in `mtlc check`.
#include "driver/DataSpecs.h"
#include "repl/ReplSession.h"

#include "frontend/Imports.h"
#include "frontend/Parser.h"

#include <chrono>
#include <filesystem>
#include <fmt/format.h>
#include <set>

namespace mtl::driver {
namespace {

const std::string kWrapper = "model __repl__ {";

// The byte offset of a 1-based line and column (columns count code points).
size_t offsetOf(const std::string &text, int line, int col) {
  size_t at = 0;
  for (int l = 1; l < line && at < text.size(); ++l) {
    size_t nl = text.find('\n', at);
    at = nl == std::string::npos ? text.size() : nl + 1;
  }
  for (int c = 1; c < col && at < text.size() && text[at] != '\n'; ++c) {
    ++at;
    while (at < text.size() && (static_cast<unsigned char>(text[at]) & 0xC0) == 0x80)
      ++at;
  }
  return at;
}

// What an item replaces: items of one kind and name (balance, optimizer,
// regularize and train are one of a kind).
std::string itemKey(const ast::ModelItem &item) {
  return std::visit(
      [](const auto &d) -> std::string {
        using T = std::decay_t<decltype(d)>;
        if constexpr (std::is_same_v<T, ast::InputDecl>)
          return "input " + d.name.text;
        else if constexpr (std::is_same_v<T, ast::DataDecl>)
          return "data " + d.name.text;
        else if constexpr (std::is_same_v<T, ast::BlockDecl>)
          return "block " + d.name.text;
        else if constexpr (std::is_same_v<T, ast::SharedDecl>)
          return "shared " + d.name.text;
        else if constexpr (std::is_same_v<T, ast::TaskDecl>)
          return "task " + d.name.text;
        else if constexpr (std::is_same_v<T, ast::BalanceDecl>)
          return "balance";
        else if constexpr (std::is_same_v<T, ast::RegularizeDecl>)
          return "regularize";
        else if constexpr (std::is_same_v<T, ast::OptimizerDecl>)
          return "optimizer";
        else
          return "train";
      },
      item);
}

SourceLoc itemLoc(const ast::ModelItem &item) {
  return std::visit([](const auto &d) { return d.loc; }, item);
}

// Copies `from`'s diagnostics into `to`, moving each location with `map`.
template <typename Map>
void copyDiagnostics(const DiagnosticEngine &from, DiagnosticEngine &to, Map map) {
  for (const Diagnostic &d : from.diagnostics()) {
    Diagnostic &copy = d.severity == Severity::Warning ? to.warning(map(d.loc), d.message)
                                                       : to.error(map(d.loc), d.message);
    for (const Diagnostic::Note &n : d.notes)
      copy.note(map(n.loc), n.message);
  }
}

int lineCount(const std::string &text) {
  return 1 + static_cast<int>(std::count(text.begin(), text.end(), '\n'));
}

} // namespace

bool ReplSession::needLoaded() const {
  if (c_)
    return true;
  fmt::print("error: no model is loaded; use :load FILE\n");
  return false;
}

bool ReplSession::load(const std::string &path, const std::string &modelName, bool reload) {
  std::string error;
  std::optional<std::string> text = readFile(path, error);
  if (!text) {
    fmt::print("error: cannot read '{}': {}\n", path, error);
    return false;
  }
  std::string oldPath = path_, oldModel = modelName_;
  ReplOverrides oldOverrides = overrides_;
  // A loaded model starts from its own settings and fresh parameters;
  // :reload keeps the :set ones and the parameters.
  if (!reload)
    overrides_ = {};
  path_ = path;
  modelName_ = modelName;
  if (!compile(*text, nullptr, 0, !reload)) {
    path_ = oldPath;
    modelName_ = oldModel;
    overrides_ = std::move(oldOverrides);
    return false;
  }
  return true;
}

bool ReplSession::reload() {
  if (!needLoaded())
    return false;
  return load(path_, modelName_, true);
}

namespace {

/// Where the first '}' of typed items is that closes no '{' of theirs
/// (outside strings and comments): parsed inside the model's braces, it
/// would close those, and the error would be about the wrapper.
std::optional<SourceLoc> strayBrace(const std::string &input) {
  int depth = 0, line = 1, col = 0;
  // Steps over input[from, to): lines, and columns in characters.
  auto pass = [&](size_t from, size_t to) {
    for (size_t k = from; k < to && k < input.size(); ++k)
      if (input[k] == '\n')
        ++line, col = 0;
      else if ((static_cast<unsigned char>(input[k]) & 0xc0) != 0x80)
        ++col;
  };
  for (size_t i = 0; i < input.size();) {
    size_t end = i + 1;    // what this token covers
    if (input[i] == '"') { // to its closing quote, or to the line's end
      while (end < input.size() && input[end] != '"' && input[end] != '\n')
        end += input[end] == '\\' && end + 1 < input.size() && input[end + 1] != '\n' ? 2 : 1;
      end += end < input.size() && input[end] == '"';
    } else if (input.compare(i, 2, "//") == 0) {
      end = std::min(input.find('\n', i), input.size());
    } else if (input.compare(i, 2, "/*") == 0) {
      end = std::min(input.find("*/", i + 2), input.size());
      end = std::min(end + 2, input.size());
    } else if (input[i] == '{') {
      ++depth;
    } else if (input[i] == '}' && depth-- == 0) {
      pass(i, end);
      return SourceLoc{0, line, col, 1};
    }
    pass(i, end);
    i = end;
  }
  return std::nullopt;
}

} // namespace

bool ReplSession::addItems(const std::string &input) {
  if (std::optional<SourceLoc> brace = strayBrace(input)) {
    SourceManager display;
    DiagnosticEngine diags(display);
    brace->file = display.add("<repl>", input);
    diags.error(*brace, "unmatched '}': it closes no '{' typed here (type a model's items "
                        "without the model's braces)");
    diags.flush(stdout, color_);
    return false;
  }
  // Parse the input alone as the items of a model, so syntax errors point into it.
  SourceManager scratch;
  DiagnosticEngine scratchDiags(scratch);
  int id = scratch.add("<repl>", kWrapper + input + "\n}");
  std::optional<ast::File> parsed = parseFile(scratch, id, scratchDiags);
  if (!parsed || scratchDiags.hasErrors()) {
    SourceManager display;
    DiagnosticEngine diags(display);
    int replId = display.add("<repl>", input);
    int last = lineCount(input);
    copyDiagnostics(scratchDiags, diags, [&](SourceLoc loc) {
      if (!loc.valid())
        return loc;
      loc.file = replId;
      if (loc.line == 1)
        loc.col = std::max(1, loc.col - static_cast<int>(kWrapper.size()));
      if (loc.line > last) { // the wrapper's closing brace: the end of the input
        loc.line = last;
        loc.col = static_cast<int>(display.line(replId, last).size()) + 1;
      }
      return loc;
    });
    diags.flush(stdout, color_);
    return false;
  }
  if (!needLoaded())
    return false;
  const auto &newItems = std::get<ast::ModelDecl>(parsed->items.at(0)).items;
  if (newItems.empty())
    return true;
  std::set<std::string> keys;
  for (const ast::ModelItem &item : newItems)
    keys.insert(itemKey(item));

  // Blank the items the input replaces, from each one's start to the next item's.
  const ast::ModelDecl *model = nullptr;
  for (const ast::TopItem &top : c_->files[0].items)
    if (auto *m = std::get_if<ast::ModelDecl>(&top); m && m->name.text == c_->model->name)
      model = m;
  if (!model) {
    fmt::print("error: internal: the current model's syntax tree is missing\n");
    return false;
  }
  std::string text = text_;
  std::vector<size_t> starts;
  for (const ast::ModelItem &item : model->items)
    starts.push_back(offsetOf(text_, itemLoc(item).line, itemLoc(item).col));
  size_t close = offsetOf(text_, model->closeLoc.line, model->closeLoc.col);
  for (size_t i = 0; i < model->items.size(); ++i) {
    if (!keys.count(itemKey(model->items[i])))
      continue;
    size_t end = close;
    for (size_t s : starts)
      if (s > starts[i] && s < end)
        end = s;
    for (size_t k = starts[i]; k < end; ++k)
      if (text[k] != '\n')
        text[k] = ' ';
  }
  std::string prefix = text.substr(0, close);
  if (!prefix.empty() && prefix.back() != '\n')
    prefix += '\n';
  int firstLine = lineCount(prefix);
  std::string spliced = prefix + input + "\n" + text.substr(close);
  return compile(spliced, &input, firstLine);
}

bool ReplSession::compile(const std::string &text, const std::string *replInput, int replLine,
                          bool newModel) {
  PipelineOptions po;
  po.text = text;
  po.modelName = modelName_;
  po.target.cpu = targetCpu_;
  po.taskGradients = overrides_.balance && mtlrt::balanceCombinesGradients(*overrides_.balance);
  po.balance = overrides_.balance;
  std::vector<std::pair<std::string, double>> times;
  po.timings = &times;
  if (!cache_) {
    // Functions compiled by earlier sessions (and runs of mtlc) come from disk.
    auto cache = backend::FunctionCache::create(po.target, backend::DiskCache::defaultRoot());
    if (!cache) {
      fmt::print("error: {}\n", llvm::toString(cache.takeError()));
      return false;
    }
    cache_ = std::move(*cache);
  }
  po.cache = cache_.get();
  auto start = std::chrono::steady_clock::now();
  auto c = std::make_unique<Compilation>();
  bool ok = runPipeline(path_, Stage::Jit, *c, po);
  std::chrono::duration<double, std::milli> ms = std::chrono::steady_clock::now() - start;
  printDiagnostics(*c, replInput, replLine, replInput ? lineCount(*replInput) : 0);
  if (!ok)
    return false;
  // The data the new model trains on; a failure leaves the session as it was.
  std::swap(c, c_);
  if (!loadData()) {
    std::swap(c, c_);
    return false;
  }
  text_ = text;
  compileTimes_ = std::move(times);
  compileMs_ = ms.count();
  cacheReport_ = cache_->report();
  const backend::FunctionCacheReport &r = cacheReport_;
  fmt::print("compiled model '{}' in {:.0f} ms ({} functions: {} compiled, {} reused{})\n",
             c_->model->name, compileMs_, r.functions, r.compiled, r.functions - r.compiled,
             r.indexed ? ", from the model's index" : "");
  // Keep the trained parameters only when the new model lays them out the same way.
  auto sameLayout = [](const mtl_model &a, const mtl_model &b) {
    if (a.num_params != b.num_params || a.num_state != b.num_state ||
        a.params_size != b.params_size || a.state_size != b.state_size)
      return false;
    for (int i = 0; i < a.num_params; ++i)
      if (std::string(a.params[i].name) != b.params[i].name ||
          a.params[i].offset != b.params[i].offset || a.params[i].size != b.params[i].size)
        return false;
    return true;
  };
  if (newModel) {
    forgetParams();
  } else if (!params_.empty() && (!c || !sameLayout(*c->compiled, *c_->compiled))) {
    forgetParams();
    fmt::print("note: the parameters changed shape; the next :train starts from fresh ones\n");
  }
  // Weight overrides of tasks that no longer exist are dropped.
  std::erase_if(overrides_.weights, [&](const auto &w) {
    for (const sema::Task &t : c_->model->tasks)
      if (t.name == w.first)
        return false;
    return true;
  });
  return true;
}

void ReplSession::printDiagnostics(Compilation &c, const std::string *replInput, int replLine,
                                   int replLines) const {
  if (c.diags.diagnostics().empty())
    return;
  if (!replInput) {
    c.diags.flush(stdout, color_);
    return;
  }
  SourceManager display = c.sources;
  DiagnosticEngine diags(display);
  int replId = display.add("<repl>", *replInput);
  int mainId = c.files.empty() ? 0 : c.files[0].fileId;
  copyDiagnostics(c.diags, diags, [&](SourceLoc loc) {
    if (loc.file == mainId && loc.line >= replLine && loc.line < replLine + replLines) {
      loc.file = replId;
      loc.line -= replLine - 1;
    }
    return loc;
  });
  diags.flush(stdout, color_);
}

namespace {

/// What loading a model's data depends on: its data sets, inputs and tasks as
/// the run configuration describes them (not its training settings), and the
/// size and modification time of every file they read.
std::string dataKey(mtlrt::RunConfig config) {
  config.train = mtlrt::TrainOptions{};
  std::string key = mtlrt::runConfigJson(config);
  for (const mtlrt::DataSpec &d : config.data) {
    std::vector<std::string> files = {d.csv.path, d.images, d.labels};
    for (const auto &[name, path] : d.arrays)
      files.push_back(path);
    for (const std::string &f : files) {
      std::error_code ec;
      if (f.empty() || !std::filesystem::exists(f, ec))
        continue;
      const auto size = std::filesystem::file_size(f, ec);
      const auto time = std::filesystem::last_write_time(f, ec).time_since_epoch().count();
      key += fmt::format("\n{} {} {}", f, size, time);
    }
  }
  return key;
}

} // namespace

bool ReplSession::loadData() {
  const mtlrt::RunConfig config = runConfig(*c_->model);
  const std::string key = dataKey(config);
  if (key == dataKey_ && (trainData_ || config.trainData.empty())) {
    ++dataReuses_; // the data read for an earlier model, unchanged
    return true;
  }
  std::optional<mtlrt::Dataset> train, validation;
  // The validation data numbers its labels and categories as the training data does.
  auto load = [&](const std::vector<int> &indices,
                  const mtlrt::RunConfig &read) -> std::optional<mtlrt::Dataset> {
    auto d = mtlrt::loadDataSets(read, indices);
    if (!d) {
      fmt::print("error: {}\n", d.error());
      return std::nullopt;
    }
    for (const std::string &note : d->notes)
      fmt::print("note: {}\n", note);
    return std::move(d.value());
  };
  if (!config.trainData.empty()) { // a model without data compiles; :train says what is missing
    train = load(config.trainData, config);
    if (!train)
      return false;
  }
  if (train && !config.validateData.empty()) {
    validation = load(config.validateData,
                      mtlrt::withVocabularies(config, train->classNames, train->categories));
    if (!validation)
      return false;
  }
  trainData_ = std::move(train);
  validationData_ = std::move(validation);
  dataKey_ = key;
  dataReads_ += trainData_ ? 1 : 0;
  dataReuses_ = 0;
  return true;
}

bool ReplSession::dataFollowsParams() {
  if (!trainData_)
    return true;
  // Only vocabularies that both have: a model's data may leave a slot unread.
  auto differ = [](const auto &mine, const auto &data) {
    for (size_t k = 0; k < mine.size() && k < data.size(); ++k)
      if (!mine[k].empty() && !data[k].empty() && mine[k] != data[k])
        return true;
    return false;
  };
  if (!differ(classNames_, trainData_->classNames) && !differ(categories_, trainData_->categories))
    return true;
  // The heads' outputs and the embeddings' rows of the parameters stand for
  // their classes and categories: the data is read again, numbered by them.
  const mtlrt::RunConfig config =
      mtlrt::withVocabularies(runConfig(*c_->model), classNames_, categories_);
  std::optional<mtlrt::Dataset> train, validation;
  for (int k = 0; k < 2; ++k) {
    const std::vector<int> &indices = k == 0 ? config.trainData : config.validateData;
    if (indices.empty())
      continue;
    auto d = mtlrt::loadDataSets(
        k == 0 ? config : mtlrt::withVocabularies(config, train->classNames, train->categories),
        indices);
    if (!d) {
      fmt::print("error: the parameters were trained on other classes or categories than the "
                 "data has, and the data cannot be read with theirs: {}; :reset to train on "
                 "this data afresh, or :load a checkpoint trained on it\n",
                 d.error());
      return false;
    }
    (k == 0 ? train : validation) = std::move(*d);
  }
  fmt::print("note: read the data again, numbered by the classes and categories of the "
             "parameters\n");
  trainData_ = std::move(train);
  validationData_ = std::move(validation);
  return true;
}

void ReplSession::printData() const {
  if (!trainData_) {
    fmt::print("model '{}' has no data to train on\n", c_->model->name);
    return;
  }
  auto describe = [](const char *role, const mtlrt::Dataset &d) {
    std::string parts;
    if (!d.sources.empty()) {
      std::vector<std::string> counts;
      for (const std::vector<int64_t> &rows : mtlrt::sourceRowLists(d))
        counts.push_back(fmt::format("{} {}", d.sourceNames[counts.size()], rows.size()));
      parts = fmt::format(" ({})", fmt::join(counts, ", "));
    }
    fmt::print("{} data '{}': {} rows{}\n", role, d.name, d.rows, parts);
  };
  describe("training", *trainData_);
  if (validationData_)
    describe("validation", *validationData_);
  fmt::print("read {} time{} in this session; {} later compilation{} reused it unchanged\n",
             dataReads_, dataReads_ == 1 ? "" : "s", dataReuses_, dataReuses_ == 1 ? "" : "s");
}

std::vector<std::string> ReplSession::taskNames() const {
  std::vector<std::string> out;
  if (c_)
    for (const sema::Task &t : c_->model->tasks)
      out.push_back(t.name);
  return out;
}

std::vector<std::string> ReplSession::names() const {
  std::vector<std::string> out;
  if (!c_)
    return out;
  for (const sema::Task &t : c_->model->tasks)
    out.push_back(t.name);
  for (const ast::File &f : c_->files)
    for (const ast::TopItem &top : f.items) {
      if (auto *b = std::get_if<ast::BlockDecl>(&top))
        out.push_back(b->name.text);
      if (auto *m = std::get_if<ast::ModelDecl>(&top))
        for (const ast::ModelItem &item : m->items) {
          if (auto *b = std::get_if<ast::BlockDecl>(&item))
            out.push_back(b->name.text);
          if (auto *s = std::get_if<ast::SharedDecl>(&item))
            out.push_back(s->name.text);
        }
    }
  return out;
}

} // namespace mtl::driver

// Parser.cpp: the textual IR back into a Graph and its StepSignature.
#include "ir/Parser.h"

#include "ir/Verifier.h"

#include <algorithm>
#include <charconv>
#include <fmt/format.h>
#include <map>
#include <optional>

namespace mtl::ir {
namespace {

constexpr int kLastKind = static_cast<int>(OpKind::LossGrad);

std::optional<OpKind> kindNamed(std::string_view name) {
  for (int k = 0; k <= kLastKind; ++k)
    if (name == opName(static_cast<OpKind>(k)))
      return static_cast<OpKind>(k);
  return std::nullopt;
}

/// The attribute keys an op of `kind` with `attrs` is printed with, in order
/// (a huber loss has one more than the others).
std::vector<std::string> keysOf(OpKind kind, const Attrs &attrs) {
  std::string text = formatAttrs(kind, attrs);
  std::vector<std::string> keys;
  for (size_t at = text.find_first_of("{,"); at != std::string::npos; at = text.find(',', at + 1)) {
    size_t begin = text.find_first_not_of(' ', at + 1), end = text.find(' ', begin);
    keys.push_back(text.substr(begin, end - begin));
  }
  return keys;
}

bool isNameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '.';
}

template <typename T> std::optional<T> number(std::string_view s) {
  T value{};
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (ec != std::errc() || end != s.data() + s.size() || s.empty())
    return std::nullopt;
  return value;
}

/// One line, read left to right; the first error stops it.
class LineReader {
public:
  LineReader(std::string_view line, std::string &error) : line_(line), error_(error) {}

  size_t column() const { return pos_ + 1; }
  bool done() const { return pos_ == line_.size(); }
  bool failed() const { return !error_.empty(); }
  bool startsWith(std::string_view s) const { return line_.substr(pos_).starts_with(s); }

  bool fail(std::string message) { return failAt(column(), std::move(message)); }
  bool failAt(size_t column, std::string message) {
    if (error_.empty())
      error_ = fmt::format("{}: {}", column, message);
    return false;
  }
  bool expect(std::string_view s) {
    if (!startsWith(s))
      return fail(fmt::format("expected '{}'", s));
    pos_ += s.size();
    return true;
  }
  bool accept(std::string_view s) {
    if (!startsWith(s))
      return false;
    pos_ += s.size();
    return true;
  }
  std::string_view word() {
    size_t begin = pos_;
    while (pos_ < line_.size() && isNameChar(line_[pos_]))
      ++pos_;
    return line_.substr(begin, pos_ - begin);
  }
  /// Everything up to (not including) the first of `stops`, or to the end.
  std::string_view upTo(std::string_view stops) {
    size_t end = line_.find_first_of(stops, pos_);
    end = end == std::string_view::npos ? line_.size() : end;
    std::string_view s = line_.substr(pos_, end - pos_);
    pos_ = end;
    return s;
  }
  std::string_view rest() { return upTo("\n"); }

private:
  std::string_view line_;
  size_t pos_ = 0;
  std::string &error_;
};

class StepParser {
public:
  StepParser(std::string_view name, SourceManager *sources) : name_(name), sources_(sources) {}

  void line(std::string_view text, int number) {
    std::string error;
    LineReader r(text, error);
    if (r.done() || r.startsWith("//"))
      return;
    if (r.accept("result "))
      result(r);
    else
      op(r);
    if (!r.failed() && !r.done())
      r.fail("unexpected text after the end of the line");
    if (!error.empty())
      out_.errors.push_back(fmt::format("{}:{}:{}", name_, number, error));
  }

  ParsedStep finish() {
    if (out_.errors.empty()) {
      for (const Diagnostic &d : verify(out_.graph))
        out_.errors.push_back(fmt::format("{}: {}", name_, d.message));
    }
    if (out_.errors.empty())
      signature();
    return std::move(out_);
  }

private:
  /// `%7` (the op at position 7) or `%name` (an input or parameter).
  std::optional<ValueId> reference(LineReader &r) {
    const size_t col = r.column();
    if (!r.expect("%"))
      return std::nullopt;
    std::string_view word = r.word();
    if (auto id = number<int64_t>(word)) {
      if (*id < static_cast<int64_t>(out_.graph.size()))
        return static_cast<ValueId>(*id);
      r.failAt(col, fmt::format("%{} is not defined above", word));
      return std::nullopt;
    }
    if (auto it = named_.find(std::string(word)); it != named_.end())
      return it->second;
    r.failAt(col, fmt::format("no input or parameter %{} is defined above", word));
    return std::nullopt;
  }

  void result(LineReader &r) {
    std::string_view name = r.word();
    if (name.empty()) {
      r.fail("expected a result name");
      return;
    }
    if (!r.expect(" = "))
      return;
    if (auto id = reference(r))
      out_.graph.setResult(std::string(name), *id);
  }

  void op(LineReader &r) {
    const auto position = static_cast<ValueId>(out_.graph.size());
    if (!r.expect("%"))
      return;
    const size_t nameCol = r.column();
    std::string_view defined = r.word();
    if (!r.expect(" = "))
      return;
    const size_t kindCol = r.column();
    std::string_view kindName = r.word();
    std::optional<OpKind> kind = kindNamed(kindName);
    if (!kind) {
      r.failAt(kindCol, fmt::format("unknown op '{}'", kindName));
      return;
    }
    Op op;
    op.kind = *kind;
    const bool leaf = isNamedLeaf(op.kind);
    if (auto id = number<int64_t>(defined)) {
      if (leaf || *id != position) {
        r.failAt(nameCol,
                 leaf ? std::string("inputs, parameters and buffers are named, not numbered")
                      : fmt::format("this op is number {}: write %{}", position, position));
        return;
      }
    } else if (!leaf) {
      r.failAt(nameCol,
               fmt::format("only inputs, parameters and buffers are named; write %{}", position));
      return;
    } else if (named_.count(std::string(defined))) {
      r.failAt(nameCol, fmt::format("%{} is defined twice", defined));
      return;
    } else {
      op.name = std::string(defined);
    }
    for (bool first = true; r.startsWith(first ? " %" : ", %"); first = false) {
      r.accept(first ? " " : ", ");
      std::optional<ValueId> operand = reference(r);
      if (!operand)
        return;
      op.operands.push_back(*operand);
    }
    if (r.accept(" {")) {
      if (!attributes(r, op))
        return;
    } else if (!keysOf(op.kind, Attrs{}).empty()) {
      r.fail(fmt::format("'{}' needs its attributes, written{}", opName(op.kind),
                         formatAttrs(op.kind, Attrs{})));
      return;
    }
    if (!r.expect(" : ") || !type(r, op.type))
      return;
    if (op.kind == OpKind::Reshape) // its dims are its type's, which the printer writes
      op.attrs.dims = op.type.dims;
    if (r.accept("  // ") && !location(r, op.loc))
      return;
    if (!op.name.empty())
      named_[op.name] = position;
    out_.graph.append(std::move(op));
  }

  bool attributes(LineReader &r, Op &op) {
    const size_t open = r.column() - 1; // the '{'
    if (keysOf(op.kind, Attrs{}).empty() && !takesActivation(op.kind))
      return r.failAt(open, fmt::format("'{}' takes no attributes", opName(op.kind)));
    std::vector<std::string> seen;
    do {
      const size_t keyCol = r.column();
      std::string key(r.word());
      if (!r.expect(" = "))
        return false;
      const size_t valueCol = r.column();
      if (!attribute(r, op.attrs, key, r.upTo(",}"), keyCol, valueCol))
        return false;
      seen.push_back(key);
    } while (r.accept(", "));
    if (!r.expect("}"))
      return false;
    if (seen != keysOf(op.kind, op.attrs))
      return r.failAt(open, fmt::format("the attributes of '{}' are written{}", opName(op.kind),
                                        formatAttrs(op.kind, op.attrs)));
    return true;
  }

  bool attribute(LineReader &r, Attrs &a, const std::string &key, std::string_view value,
                 size_t keyCol, size_t valueCol) {
    auto bad = [&](std::string message) { return r.failAt(valueCol, std::move(message)); };
    auto real = [&](double &field) {
      if (auto v = number<double>(value))
        return field = *v, true;
      return bad(fmt::format("'{}' is not a number", value));
    };
    if (key == "value")
      return real(a.value);
    if (key == "alpha")
      return real(a.alpha);
    if (key == "eps")
      return real(a.eps);
    if (key == "rate")
      return real(a.rate);
    if (key == "delta")
      return real(a.delta);
    if (key == "seed") {
      if (auto v = number<uint64_t>(value))
        return a.seed = *v, true;
      return bad(fmt::format("seed '{}' is not an unsigned integer", value));
    }
    if (int64_t *field = key == "size"      ? &a.size
                         : key == "begin"   ? &a.begin
                         : key == "kernel"  ? &a.kernel
                         : key == "stride"  ? &a.stride
                         : key == "padding" ? &a.padding
                                            : nullptr) {
      if (auto v = number<int64_t>(value))
        return *field = *v, true;
      return bad(fmt::format("{} '{}' is not an integer", key, value));
    }
    if (key == "axis") {
      for (ReduceAxis axis : {ReduceAxis::All, ReduceAxis::Last, ReduceAxis::Leading})
        if (value == axisName(axis))
          return a.axis = axis, true;
      return bad(fmt::format("axis '{}' is not all, last or leading", value));
    }
    if (key == "activation") {
      if (value == activationName(Activation::Relu))
        return a.activation = Activation::Relu, true;
      return bad(fmt::format("activation '{}' is not {}", value, activationName(Activation::Relu)));
    }
    if (key == "loss") {
      for (LossKind loss : {LossKind::Mse, LossKind::Mae, LossKind::Huber, LossKind::BceLogits,
                            LossKind::CrossEntropy})
        if (value == lossKindName(loss))
          return a.loss = loss, true;
      return bad(fmt::format("unknown loss '{}'", value));
    }
    return r.failAt(keyCol, fmt::format("unknown attribute '{}'", key));
  }

  bool type(LineReader &r, TensorType &t) {
    const size_t col = r.column();
    std::string_view dtype = r.word();
    if (dtype != "f32" && dtype != "i32")
      return r.failAt(col, fmt::format("expected a type such as f32[B, 4], got '{}'", dtype));
    t.dtype = dtype == "i32" ? DType::I32 : DType::F32;
    if (!r.expect("["))
      return false;
    for (bool first = true; !r.accept("]"); first = false) {
      if (!first && !r.expect(", "))
        return false;
      const size_t dimCol = r.column();
      std::string_view dim = r.word();
      if (first && dim == "B") {
        t.batched = true;
        continue;
      }
      std::optional<int64_t> n = number<int64_t>(dim);
      if (!n || *n < 0)
        return r.failAt(dimCol,
                        fmt::format("'{}' is not a dimension (B first, then sizes >= 0)", dim));
      t.dims.push_back(*n);
    }
    return true;
  }

  /// `FILE:LINE:COL` or `LINE:COL`; a file name may itself hold ':'.
  bool location(LineReader &r, SourceLoc &loc) {
    constexpr size_t npos = std::string_view::npos;
    const size_t at = r.column();
    std::string_view text = r.rest();
    size_t colAt = text.rfind(':');
    size_t lineAt = colAt == npos || colAt == 0 ? npos : text.rfind(':', colAt - 1);
    size_t lineBegin = lineAt == npos ? 0 : lineAt + 1;
    std::optional<int> line, col;
    if (colAt != npos) {
      line = number<int>(text.substr(lineBegin, colAt - lineBegin));
      col = number<int>(text.substr(colAt + 1));
    }
    if (!line || !col || *line < 1 || *col < 1)
      return r.failAt(at, fmt::format("'{}' is not a location (FILE:LINE:COL or LINE:COL)", text));
    loc.line = *line;
    loc.col = *col;
    loc.file = lineAt != npos && sources_ ? fileNamed(std::string(text.substr(0, lineAt))) : 0;
    return true;
  }

  int fileNamed(const std::string &file) {
    for (int f = 0; f < sources_->fileCount(); ++f)
      if (sources_->name(f) == file)
        return f;
    return sources_->add(file, "");
  }

  void signature() {
    const Graph &g = out_.graph;
    StepSignature &sig = out_.signature;
    auto input = [&](const std::string &name) { return g.findInput(name).value_or(-1); };
    for (ValueId id : g.inputs()) {
      const std::string &n = g.op(id).name;
      if (n == "train.step")
        sig.step = id;
      else if (!n.starts_with("target.") && !n.starts_with("weight."))
        sig.inputs.push_back(id);
    }
    for (const auto &[name, id] : g.results()) {
      if (name == "loss") {
        sig.loss = id;
      } else if (name == "penalty") {
        sig.penalty = id;
      } else if (name.starts_with("output.")) {
        std::string task = name.substr(7);
        std::optional<ValueId> loss = g.result("loss." + task);
        ValueId target = input("target." + task), weight = input("weight." + task);
        if (!loss || target < 0 || weight < 0) {
          out_.errors.push_back(
              fmt::format("{}: task '{}' needs the result loss.{} and the inputs target.{} and "
                          "weight.{}",
                          name_, task, task, task, task));
          continue;
        }
        sig.outputs.push_back(id);
        sig.taskLosses.push_back(*loss);
        sig.targets.push_back(target);
        sig.taskWeights.push_back(weight);
      } else if (name.starts_with("grad.")) {
        std::optional<ValueId> param = g.findParam(name.substr(5));
        if (!param) {
          out_.errors.push_back(fmt::format("{}: result '{}' names no parameter", name_, name));
          continue;
        }
        sig.gradients.emplace_back(*param, id);
      } else if (name.starts_with("buffer.")) {
        std::optional<ValueId> buffer = g.findBuffer(name.substr(7));
        if (!buffer) {
          out_.errors.push_back(fmt::format("{}: result '{}' names no buffer", name_, name));
          continue;
        }
        sig.buffers.emplace_back(*buffer, id);
      }
    }
    std::sort(sig.buffers.begin(), sig.buffers.end());
    // In the parameters' order, as autodiff lists them: a zero gradient (of a
    // parameter that does not reach the loss) is named after the others.
    std::stable_sort(sig.gradients.begin(), sig.gradients.end(),
                     [](const auto &a, const auto &b) { return a.first < b.first; });
    if (sig.loss < 0)
      out_.errors.push_back(
          fmt::format("{}: a step needs its total loss: write `result loss = %N`", name_));
    splitGradients();
    representationGram();
  }

  /// "repgram.<i>.<j>" (i <= j) results: the Gram matrix of the tasks'
  /// gradients on their shared representation, all of it or none.
  void representationGram() {
    const Graph &g = out_.graph;
    StepSignature &sig = out_.signature;
    const size_t tasks = sig.taskLosses.size();
    std::vector<ValueId> gram(tasks * tasks, -1);
    size_t found = 0;
    for (const auto &[name, id] : g.results()) {
      if (!name.starts_with("repgram."))
        continue;
      std::string_view rest = std::string_view(name).substr(8);
      size_t dot = rest.find('.');
      std::optional<size_t> i =
          dot == std::string_view::npos ? std::nullopt : number<size_t>(rest.substr(0, dot));
      std::optional<size_t> j = i ? number<size_t>(rest.substr(dot + 1)) : std::optional<size_t>();
      if (!i || !j || *i > *j || *j >= tasks) {
        out_.errors.push_back(
            fmt::format("{}: result '{}' names no pair of tasks i <= j", name_, name));
        continue;
      }
      gram[*i * tasks + *j] = gram[*j * tasks + *i] = id;
      ++found;
    }
    if (found == 0)
      return;
    if (found != tasks * (tasks + 1) / 2) {
      out_.errors.push_back(
          fmt::format("{}: repgram results need every pair of tasks i <= j", name_));
      return;
    }
    sig.repGram = std::move(gram);
  }

  /// The per-task results: "weighted.<task>" in task order, then
  /// "taskgrad.<task index>.<param>" and "penaltygrad.<param>".
  void splitGradients() {
    const Graph &g = out_.graph;
    StepSignature &sig = out_.signature;
    for (ValueId loss : sig.taskLosses)
      for (const auto &[name, id] : g.results())
        if (name.starts_with("loss.") && id == loss)
          if (std::optional<ValueId> w = g.result("weighted." + name.substr(5)))
            sig.weightedLosses.push_back(*w);
    std::map<ValueId, ValueId> penalty;
    std::vector<std::map<ValueId, ValueId>> tasks(sig.taskLosses.size());
    for (const auto &[name, id] : g.results()) {
      std::string_view rest = name;
      std::map<ValueId, ValueId> *into = nullptr;
      if (rest.starts_with("penaltygrad.")) {
        rest.remove_prefix(12);
        into = &penalty;
      } else if (rest.starts_with("taskgrad.")) {
        rest.remove_prefix(9);
        size_t dot = rest.find('.');
        std::optional<size_t> t =
            dot == std::string_view::npos ? std::nullopt : number<size_t>(rest.substr(0, dot));
        if (!t || *t >= tasks.size()) {
          out_.errors.push_back(fmt::format("{}: result '{}' names no task", name_, name));
          continue;
        }
        rest.remove_prefix(dot + 1);
        into = &tasks[*t];
      } else {
        continue;
      }
      std::optional<ValueId> param = g.findParam(std::string(rest));
      if (!param) {
        out_.errors.push_back(fmt::format("{}: result '{}' names no parameter", name_, name));
        continue;
      }
      (*into)[*param] = id;
    }
    for (const auto &[param, grad] : penalty)
      sig.sharedParams.push_back(param);
    for (const std::map<ValueId, ValueId> &task : tasks) {
      if (task.size() != penalty.size()) {
        if (!penalty.empty() || !task.empty())
          out_.errors.push_back(fmt::format("{}: every task needs a taskgrad result for each "
                                            "penaltygrad parameter",
                                            name_));
        return;
      }
      sig.taskGradients.emplace_back();
      for (ValueId p : sig.sharedParams) {
        auto it = task.find(p);
        if (it == task.end()) {
          out_.errors.push_back(fmt::format("{}: every task needs a taskgrad result for each "
                                            "penaltygrad parameter",
                                            name_));
          return;
        }
        sig.taskGradients.back().push_back(it->second);
      }
    }
    for (const auto &[param, grad] : penalty)
      sig.penaltyGradients.push_back(grad);
  }

  std::string name_;
  SourceManager *sources_;
  ParsedStep out_;
  std::map<std::string, ValueId> named_;
};

} // namespace

ParsedStep parseStep(std::string_view text, std::string_view name, SourceManager *sources) {
  StepParser parser(name, sources);
  int number = 1;
  for (size_t begin = 0; begin < text.size(); ++number) {
    size_t end = text.find('\n', begin);
    end = end == std::string_view::npos ? text.size() : end;
    std::string_view line = text.substr(begin, end - begin);
    if (line.ends_with('\r'))
      line.remove_suffix(1);
    parser.line(line, number);
    begin = end + 1;
  }
  return parser.finish();
}

} // namespace mtl::ir

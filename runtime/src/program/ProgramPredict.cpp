// ProgramPredict.cpp: `NAME predict --checkpoint CK --input FILE`: one CSV row of predictions per
// input row.
//
// The input file has the layout of the model's training data (the same CSV
// columns, or an IDX image file); label columns may be absent. A model that
// trains on several data sets reads the layout of the first, or of the one
// `--like NAME` names, and predicts the tasks that data set labels. A model
// trained on synthetic data reads a CSV whose columns are its inputs'
// values in order. Rows with a missing input value are skipped with a note,
// so the first column, `row`, says which input row each line predicts (the
// CSV line number, or the IDX item from 0).
#include "mtlrt/AtomicFile.h"
#include "mtlrt/Checkpoint.h"
#include "mtlrt/Predictor.h"
#include "mtlrt/Program.h"
#include "program/ProgramCommands.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <fstream>

namespace mtlrt {
namespace {

struct PredictFlags {
  std::string checkpoint, input, output, like;
  int threads = 2;
};

/// The data set whose layout the input file has: `like`, or the first
/// training data set (null: none, or a synthetic one).
Result<const DataSpec *> layoutOf(const RunConfig &c, const std::string &like) {
  if (like.empty())
    return c.trainData.empty() ? nullptr : &c.data[size_t(c.trainData.front())];
  std::vector<std::string> names;
  for (const DataSpec &d : c.data) {
    if (d.name == like)
      return &d;
    names.push_back(d.name);
  }
  return fail(fmt::format("--like {}: the model has no data set named '{}' (it has: {})", like,
                          like, fmt::join(names, ", ")));
}

/// Which tasks to predict: every task, unless `layout` leaves an input out
/// (a model that trains on several data sets); then the tasks it binds.
std::vector<bool> shownTasks(const RunConfig &c, const DataSpec *layout) {
  std::vector<bool> inputBound(c.inputs.size(), !layout || layout->kind == DataSpec::Synthetic);
  if (layout)
    for (const BindingSpec &b : layout->bindings)
      if (!b.isTask)
        inputBound[size_t(b.slot)] = true;
  // A layout that gives every input feeds every head; otherwise only the
  // tasks it binds are known (mtlc check) to read nothing else.
  const bool all = std::all_of(inputBound.begin(), inputBound.end(), [](bool b) { return b; });
  std::vector<bool> shown(c.tasks.size(), all);
  for (const BindingSpec &b : layout ? layout->bindings : std::vector<BindingSpec>{})
    if (b.isTask)
      shown[size_t(b.slot)] = true;
  return shown;
}

/// How to read prediction inputs from `path`, following the training data.
Result<DataSpec> inputSpec(const RunConfig &c, const DataSpec *train, const std::string &path) {
  DataSpec spec;
  if (train && train->kind != DataSpec::Synthetic) {
    spec = *train;
    // A CSV data set reads csv.path, an IDX one its images, an npz archive
    // csv.path, npy data the array its inputs read; the labels are not needed.
    spec.csv.path = spec.images = path;
    spec.labels.clear();
    std::erase_if(spec.bindings, [](const BindingSpec &b) { return b.isTask; });
    std::vector<std::string> arrays;
    for (const BindingSpec &b : spec.bindings)
      if (std::find(arrays.begin(), arrays.end(), b.array) == arrays.end())
        arrays.push_back(b.array);
    if (spec.kind == DataSpec::Npy && arrays.size() > 1) {
      // One file cannot be every array: an archive holds them by name.
      if (!path.ends_with(".npz"))
        return fail(fmt::format("--input {}: data set '{}' reads its inputs from {} arrays ({}); "
                                "give them in one .npz archive, each under its name "
                                "(numpy.savez(FILE, {}=..., ...))",
                                path, spec.name, arrays.size(), fmt::join(arrays, ", "),
                                arrays.front()));
      spec.kind = DataSpec::Npz;
      spec.arrays.clear();
    }
    for (auto &[name, file] : spec.arrays)
      file = path;
    return spec;
  }
  spec.name = "input";
  spec.csv.path = path;
  int64_t column = 0;
  for (size_t i = 0; i < c.inputs.size(); ++i) {
    BindingSpec b;
    b.target = c.inputs[i].name;
    b.slot = int(i);
    b.width = c.inputs[i].width;
    for (int64_t k = 0; k < b.width; ++k)
      b.columns.push_back({"", column++});
    spec.bindings.push_back(std::move(b));
  }
  return spec;
}

std::string csvCell(const std::string &text) {
  if (text.find_first_of(",\"\n") == std::string::npos)
    return text;
  std::string quoted = "\"";
  for (char ch : text)
    quoted += ch == '"' ? std::string("\"\"") : std::string(1, ch);
  return quoted + "\"";
}

/// Class names of task t when the checkpoint knows them: one per class, or
/// the first ones (training data that had fewer classes than the task).
const std::vector<std::string> *namesOf(const Predictor &p, int32_t t) {
  const auto &all = p.classNames();
  if (size_t(t) >= all.size() || all[size_t(t)].empty())
    return nullptr;
  return &all[size_t(t)];
}

/// Class `k`'s name, or its id where it has none.
std::string classLabel(const std::vector<std::string> &names, int64_t k) {
  return size_t(k) < names.size() ? names[size_t(k)] : std::to_string(k);
}

std::string header(const Predictor &p, const std::vector<bool> &shown) {
  const mtl_model &m = p.model();
  std::vector<std::string> cols{"row"};
  for (int32_t t = 0; t < m.num_tasks; ++t) {
    if (!shown[size_t(t)])
      continue;
    const mtl_task_desc &task = m.tasks[t];
    std::string name = task.name;
    const std::vector<std::string> *names = namesOf(p, t);
    if (task.kind == MTL_CLASSIFY || task.kind == MTL_BINARY) {
      cols.push_back(name + ".class");
      if (names)
        cols.push_back(name + ".label");
    }
    if (task.kind == MTL_CLASSIFY)
      for (int64_t k = 0; k < task.width; ++k)
        cols.push_back(name + ".prob." + (names ? classLabel(*names, k) : std::to_string(k)));
    else if (task.kind == MTL_BINARY)
      cols.push_back(name + ".prob");
    else if (task.kind == MTL_MULTILABEL)
      for (int64_t k = 0; k < task.width; ++k)
        cols.push_back(name + ".prob." + std::to_string(k));
    else if (task.width == 1)
      cols.push_back(name);
    else
      for (int64_t k = 0; k < task.width; ++k)
        cols.push_back(name + "." + std::to_string(k));
  }
  std::string line;
  for (const std::string &c : cols)
    line += (line.empty() ? "" : ",") + csvCell(c);
  return line;
}

std::string rowLine(const Predictor &p, const std::vector<bool> &shown, int64_t source, int64_t r,
                    const std::vector<std::vector<float>> &outputs) {
  const mtl_model &m = p.model();
  std::string line = std::to_string(source);
  for (int32_t t = 0; t < m.num_tasks; ++t) {
    if (!shown[size_t(t)])
      continue;
    const mtl_task_desc &task = m.tasks[t];
    const float *v = outputs[size_t(t)].data() + r * task.width;
    const std::vector<std::string> *names = namesOf(p, t);
    if (task.kind == MTL_CLASSIFY || task.kind == MTL_BINARY) {
      // Probabilities that are not numbers choose no class (predict warns).
      const int64_t cls = predictedClass(task, v);
      if (cls < 0)
        line += names ? ",," : ",";
      else {
        line += fmt::format(",{}", cls);
        if (names)
          line += "," + csvCell(classLabel(*names, cls));
      }
    }
    for (int64_t k = 0; k < task.width; ++k)
      line += fmt::format(",{}", v[k]);
  }
  return line;
}

/// Warns on standard error of the rows whose shown outputs are not all
/// finite (inputs far outside the training data's overflow the model): the
/// first few by row, then how many.
void warnNotFinite(const mtl_model &m, const std::vector<bool> &shown, const Dataset &data,
                   const std::vector<std::vector<float>> &outputs, const std::string &input) {
  constexpr int kNamed = 5;
  int64_t count = 0;
  for (int64_t r = 0; r < data.rows; ++r)
    for (int32_t t = 0; t < m.num_tasks; ++t) {
      const int64_t w = m.tasks[t].width;
      const float *v = outputs[size_t(t)].data() + r * w;
      if (!shown[size_t(t)] || allFinite(v, w))
        continue;
      if (count++ < kNamed)
        fmt::print(stderr,
                   "warning: {}: row {}: task '{}' predicts values that are not finite (its "
                   "inputs may lie far outside the training data's)\n",
                   input, data.sourceRows[size_t(r)], m.tasks[t].name);
      break;
    }
  if (count > kNamed)
    fmt::print(stderr, "warning: {}: {} rows in all predict values that are not finite\n", input,
               count);
}

Status predict(const mtl_model &model, const PredictFlags &f) {
  Result<RunConfig> config = modelRunConfig(model);
  if (!config)
    return config.takeError();
  Result<Checkpoint> ck = readCheckpoint(f.checkpoint);
  if (!ck)
    return ck.takeError();
  auto predictor = Predictor::create(&model, f.threads);
  if (!predictor)
    return predictor.takeError();
  if (Status s = predictor->load(*ck); !s)
    return s;
  if (std::string note = otherModelNote(*ck, model, f.checkpoint); !note.empty())
    std::fprintf(stderr, "%s\n", note.c_str());
  // Inputs read 'as category' are numbered as in training; labels, which
  // predict does not use, are not looked up.
  const RunConfig read = withVocabularies(*config, {}, predictor->categories());
  Result<const DataSpec *> layout = layoutOf(read, f.like);
  if (!layout)
    return layout.takeError();
  const std::vector<bool> shown = shownTasks(read, *layout);
  Result<DataSpec> spec = inputSpec(read, *layout, f.input);
  if (!spec)
    return spec.takeError();
  Result<Dataset> data = loadDataset(*spec, read.inputs, read.tasks);
  if (!data)
    return data.takeError();
  for (const std::string &note : data->notes)
    fmt::print(stderr, "note: {}\n", note);

  std::vector<const float *> inputs;
  for (size_t i = 0; i < data->inputs.size(); ++i) {
    // An input the layout does not bind feeds none of the tasks shown: 0.
    if (i < data->inputGaps.size() && data->inputGaps[i])
      std::ranges::fill(data->inputs[i].write(), 0.0f);
    inputs.push_back(data->inputs[i].data());
  }
  std::vector<std::vector<float>> outputs(size_t(model.num_tasks));
  std::vector<float *> outputPtrs;
  for (int32_t t = 0; t < model.num_tasks; ++t) {
    outputs[size_t(t)].resize(size_t(data->rows * model.tasks[t].width));
    outputPtrs.push_back(outputs[size_t(t)].data());
  }
  if (Status s = predictor->predict(data->rows, inputs, outputPtrs); !s)
    return fail(fmt::format("{}: {}", f.input, s.error()));

  std::string text = header(*predictor, shown) + "\n";
  for (int64_t r = 0; r < data->rows; ++r)
    text += rowLine(*predictor, shown, data->sourceRows[size_t(r)], r, outputs) + "\n";
  warnNotFinite(model, shown, *data, outputs, f.input);
  if (!f.output.empty()) {
    if (Status s = distinctOutput(f.output, {f.input, f.checkpoint}, "--output"); !s)
      return s;
    if (Status s = replacesOnlyItsKind(f.output, {"row,", "row\n"}, "--output",
                                       "a file of predictions (a CSV whose first column is row)");
        !s)
      return s;
    return writeOutputFile(f.output, text, "the predictions");
  }
  if (std::fwrite(text.data(), 1, text.size(), stdout) != text.size() || std::fflush(stdout) != 0)
    return fail(
        fmt::format("cannot write the predictions to standard output: {}", std::strerror(errno)));
  return Ok{};
}

} // namespace

void addPredictCommand(CLI::App &app, const mtl_model &model, int &status) {
  auto f = std::make_shared<PredictFlags>();
  CLI::App *cmd = app.add_subcommand("predict", "Predict every task for the rows of a file (CSV)");
  cmd->add_option("--checkpoint", f->checkpoint, "A checkpoint written by train")->required();
  cmd->add_option("--input", f->input,
                  "Rows to predict: a file laid out as the training data (labels may be absent)")
      ->required();
  cmd->add_option("--output", f->output, "Write the CSV here instead of to standard output");
  cmd->add_option("--like", f->like,
                  "The data set whose layout the input has (default: the first training data "
                  "set); a model trained on several predicts the tasks it labels");
  addThreadsFlag(cmd, f->threads);
  cmd->callback([f, &model, &status] {
    if (Status s = predict(model, *f); !s) {
      fmt::print(stderr, "error: {}\n", s.error());
      status = 1;
      return;
    }
    status = 0;
  });
}

} // namespace mtlrt

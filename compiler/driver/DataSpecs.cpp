// DataSpecs.cpp: sema::Model → mtlrt::RunConfig, field by field.
#include "driver/DataSpecs.h"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <set>

namespace mtl::driver {
namespace {

// The layers of value `v`'s module before its first that is not `flatten`
// (which passes ids on as they are); v must be an Apply.
size_t flattens(const sema::Model &model, const sema::Value &v) {
  const auto &layers = model.modules[v.module].layers;
  size_t k = 0;
  while (k < layers.size() && layers[k].kind == sema::LayerKind::Flatten)
    ++k;
  return k;
}

// Whether value `index` holds input `input`'s ids: the input itself, or
// values that only flatten it.
bool holdsIds(const sema::Model &model, int index, int input) {
  const sema::Value &v = model.values[size_t(index)];
  if (v.kind == sema::Value::InputRef)
    return v.input == input;
  return v.kind == sema::Value::Apply &&
         flattens(model, v) == model.modules[v.module].layers.size() &&
         holdsIds(model, v.arg, input);
}

std::vector<mtlrt::InputSpec> inputSpecs(const sema::Model &model) {
  std::vector<mtlrt::InputSpec> out;
  for (size_t i = 0; i < model.inputs.size(); ++i) {
    const sema::Input &in = model.inputs[i];
    mtlrt::InputSpec s{in.name, sema::elementCount(in.shape), 0, {}};
    // Integer inputs feed embeddings: their ids must fit the smallest table
    // they index (the loader refuses others; the product would read zeros).
    if (in.dtype == sema::DType::I32)
      for (const sema::Value &v : model.values) {
        if (v.kind != sema::Value::Apply || !holdsIds(model, v.arg, static_cast<int>(i)))
          continue;
        const auto &layers = model.modules[v.module].layers;
        const size_t k = flattens(model, v);
        if (k < layers.size() && layers[k].kind == sema::LayerKind::Embedding &&
            (s.vocab == 0 || layers[k].vocab < s.vocab))
          s.vocab = layers[k].vocab;
      }
    out.push_back(s);
  }
  return out;
}

std::vector<mtlrt::TaskSpec> taskSpecs(const sema::Model &model) {
  std::vector<mtlrt::TaskSpec> out;
  for (const sema::Task &t : model.tasks) {
    auto kind = static_cast<mtlrt::TaskSpec::Kind>(static_cast<int>(t.kind));
    out.push_back({t.name, kind, t.width, t.classNames});
  }
  return out;
}

mtlrt::DataSpec dataSpec(const sema::Model &model, int index) {
  const sema::DataSet &d = model.data[index];
  mtlrt::DataSpec s;
  s.name = d.name;
  s.kind = static_cast<mtlrt::DataSpec::Kind>(static_cast<int>(d.kind));
  s.csv.path = d.path;
  s.csv.header = d.header;
  s.csv.separator = d.separator;
  s.csv.na = d.na;
  s.csv.skip = d.skip;
  s.images = d.images;
  s.labels = d.labels;
  s.arrays = d.arrays;
  s.rows = d.rows;
  s.seed = d.seed;
  std::vector<mtlrt::TaskSpec> tasks = taskSpecs(model);
  for (const sema::DataBinding &b : d.bindings) {
    mtlrt::BindingSpec bs;
    bs.target = b.target;
    bs.isTask = b.isTask;
    bs.slot = b.index;
    bs.from = static_cast<mtlrt::BindingSpec::From>(static_cast<int>(b.from));
    bs.array = b.array;
    for (const sema::ColumnRef &c : b.columns)
      bs.columns.push_back({c.name, c.index});
    bs.standardize = b.standardize;
    bs.scale = b.scale;
    bs.asClass = b.asClass;
    bs.asCategory = b.asCategory;
    bs.inSet = b.inSet;
    bs.width = b.isTask ? mtlrt::targetWidth(tasks[b.index])
                        : sema::elementCount(model.inputs[b.index].shape);
    s.bindings.push_back(std::move(bs));
  }
  return s;
}

// Data set `i` of `model`, with every path it names made absolute.
mtlrt::DataSpec absoluteDataSpec(const sema::Model &model, int i) {
  mtlrt::DataSpec d = dataSpec(model, i);
  auto absolute = [](std::string &path) {
    if (!path.empty())
      path = std::filesystem::absolute(path).lexically_normal().string();
  };
  absolute(d.csv.path);
  absolute(d.images);
  absolute(d.labels);
  for (auto &[name, path] : d.arrays)
    absolute(path);
  return d;
}

} // namespace

std::vector<std::string> dataFiles(const sema::Model &model) {
  std::vector<std::string> out;
  for (size_t i = 0; i < model.data.size(); ++i) {
    mtlrt::DataSpec d = absoluteDataSpec(model, static_cast<int>(i));
    for (std::string *path : {&d.csv.path, &d.images, &d.labels})
      if (!path->empty())
        out.push_back(*path);
    for (auto &[name, path] : d.arrays)
      out.push_back(path);
  }
  return out;
}

std::vector<std::string> filesRead(const Checked &c) {
  std::vector<std::string> files = sourceFiles(c);
  for (const sema::Model &model : c.models)
    for (std::string &file : dataFiles(model))
      files.push_back(std::move(file));
  return files;
}

bool runFilesExist(const sema::Model &model, const std::vector<std::string> &dataFlags,
                   bool initReplaced, DiagnosticEngine &diags) {
  std::set<int> read(model.train.trainData.begin(), model.train.trainData.end());
  read.insert(model.train.validateData.begin(), model.train.validateData.end());
  read.insert(model.train.testData.begin(), model.train.testData.end());
  bool all = true;
  for (int i : read) {
    const sema::DataSet &ds = model.data[size_t(i)];
    const bool replaced =
        std::any_of(dataFlags.begin(), dataFlags.end(), [&](const std::string &f) {
          return f.substr(0, f.find_first_of("=.")) == ds.name;
        });
    mtlrt::DataSpec d = absoluteDataSpec(model, i);
    std::vector<std::string> paths = {d.csv.path, d.images, d.labels};
    for (const auto &[name, path] : d.arrays)
      paths.push_back(path);
    for (const std::string &path : paths) {
      std::error_code ec;
      if (replaced || path.empty() || std::filesystem::exists(path, ec))
        continue;
      diags.error(ds.loc, fmt::format("data set '{}' reads '{}', which does not exist; make it, or "
                                      "give another file with --data {}=PATH",
                                      ds.name, path, ds.name));
      all = false;
    }
  }
  std::error_code ec;
  if (!initReplaced && !model.train.init.empty() &&
      !std::filesystem::is_regular_file(model.train.init, ec)) {
    diags.error(model.train.initLoc,
                fmt::format("init names '{}', which is not a file; train the model it comes from "
                            "first, or give another checkpoint with --init-from PATH",
                            model.train.init));
    all = false;
  }
  return all;
}

mtlrt::RunConfig runConfig(const sema::Model &model) {
  mtlrt::RunConfig c;
  c.inputs = inputSpecs(model);
  c.tasks = taskSpecs(model);
  for (size_t i = 0; i < model.data.size(); ++i)
    c.data.push_back(absoluteDataSpec(model, static_cast<int>(i)));
  c.trainData = model.train.trainData;
  c.validateData = model.train.validateData;
  c.testData = model.train.testData;
  mtlrt::TrainOptions &t = c.train;
  t.epochs = model.train.epochs;
  t.batch = model.train.batch;
  t.seed = model.train.seed;
  t.shuffle = model.train.shuffle;
  t.lr = static_cast<float>(model.optimizer.lr);
  t.balance = model.balance.text;
  t.validate = model.train.validateFraction;
  t.test = model.train.testFraction;
  t.earlyStop.enabled = model.train.earlyStop.enabled;
  t.earlyStop.patience = model.train.earlyStop.patience;
  t.earlyStop.monitor = model.train.earlyStop.monitor;
  t.earlyStop.minDelta = model.train.earlyStop.minDelta;
  // Absolute, as the data paths are: a built program finds it from any folder.
  if (!model.train.init.empty())
    t.initFrom = std::filesystem::absolute(model.train.init).lexically_normal().string();
  t.initMap = model.train.initMap;
  t.freeze = model.train.freeze;
  t.unfreezeAfter = model.train.unfreezeAfter;
  t.lrScales = model.train.lrScales;
  t.schedule = model.train.schedule;
  t.clipNorm = model.train.clipNorm;
  t.sampling = model.train.sampling;
  return c;
}

} // namespace mtl::driver

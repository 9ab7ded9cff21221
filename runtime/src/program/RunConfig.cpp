// RunConfig.cpp: the run configuration to and from JSON, field by field.
#include "mtlrt/RunConfig.h"

#include <algorithm>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace mtlrt {
namespace {

// Sorted keys; not `json`, which other files of the runtime alias to ordered_json
// (a unity batch can hold both).
using Json = nlohmann::json;

const char *const kDataKinds[] = {"csv", "idx", "synthetic", "npy", "npz"};
const char *const kTaskKinds[] = {"regress", "binary", "classify", "multilabel"};
const char *const kFromKinds[] = {"columns", "images", "labels", "array"};

template <size_t N> int kindIndex(const char *const (&names)[N], const std::string &name) {
  for (size_t i = 0; i < N; ++i)
    if (name == names[i])
      return static_cast<int>(i);
  throw std::invalid_argument("unknown kind '" + name + "'");
}

Json bindingJson(const BindingSpec &b) {
  Json columns = Json::array();
  for (const ColumnSel &c : b.columns)
    columns.push_back({{"name", c.name}, {"index", c.index}});
  return {{"target", b.target},
          {"task", b.isTask},
          {"slot", b.slot},
          {"from", kFromKinds[b.from]},
          {"columns", columns},
          {"standardize", b.standardize},
          {"scale", b.scale},
          {"as_class", b.asClass},
          {"in", b.inSet},
          {"width", b.width},
          {"as_category", b.asCategory},
          {"array", b.array}};
}

BindingSpec bindingFrom(const Json &j) {
  BindingSpec b;
  b.target = j.at("target").get<std::string>();
  b.isTask = j.at("task").get<bool>();
  b.slot = j.at("slot").get<int>();
  b.from = static_cast<BindingSpec::From>(kindIndex(kFromKinds, j.at("from").get<std::string>()));
  for (const Json &c : j.at("columns"))
    b.columns.push_back({c.at("name").get<std::string>(), c.at("index").get<int64_t>()});
  b.standardize = j.at("standardize").get<bool>();
  b.scale = j.at("scale").get<double>();
  b.asClass = j.at("as_class").get<bool>();
  b.asCategory = j.value("as_category", false); // absent before categories existed
  b.inSet = j.at("in").get<std::vector<double>>();
  b.width = j.at("width").get<int64_t>();
  b.array = j.value("array", std::string());
  return b;
}

Json dataJson(const DataSpec &d) {
  Json bindings = Json::array();
  for (const BindingSpec &b : d.bindings)
    bindings.push_back(bindingJson(b));
  return {{"name", d.name},
          {"kind", kDataKinds[d.kind]},
          {"path", d.csv.path},
          {"header", d.csv.header},
          {"separator", std::string(1, d.csv.separator)},
          {"na", d.csv.na},
          {"skip", d.csv.skip},
          {"images", d.images},
          {"labels", d.labels},
          {"rows", d.rows},
          {"seed", d.seed},
          {"arrays", d.arrays},
          {"bindings", bindings}};
}

DataSpec dataFrom(const Json &j) {
  DataSpec d;
  d.name = j.at("name").get<std::string>();
  d.kind = static_cast<DataSpec::Kind>(kindIndex(kDataKinds, j.at("kind").get<std::string>()));
  d.csv.path = j.at("path").get<std::string>();
  d.csv.header = j.at("header").get<bool>();
  std::string sep = j.at("separator").get<std::string>();
  if (sep.size() != 1)
    throw std::invalid_argument("separator must be one character");
  d.csv.separator = sep[0];
  d.csv.na = j.at("na").get<std::string>();
  d.csv.skip = j.at("skip").get<int64_t>();
  d.images = j.at("images").get<std::string>();
  d.labels = j.at("labels").get<std::string>();
  d.rows = j.at("rows").get<int64_t>();
  d.seed = j.at("seed").get<uint64_t>();
  d.arrays = j.value("arrays", std::vector<std::pair<std::string, std::string>>());
  for (const Json &b : j.at("bindings"))
    d.bindings.push_back(bindingFrom(b));
  return d;
}

Json trainJson(const RunConfig &c) {
  const TrainOptions &t = c.train;
  return {{"data", c.trainData},
          {"validate_data", c.validateData},
          {"test_data", c.testData},
          {"epochs", t.epochs},
          {"batch", t.batch},
          {"seed", t.seed},
          {"shuffle", t.shuffle},
          {"lr", t.lr},
          {"balance", t.balance},
          {"validate", t.validate},
          {"test", t.test},
          {"early_stop",
           {{"enabled", t.earlyStop.enabled},
            {"patience", t.earlyStop.patience},
            {"monitor", t.earlyStop.monitor},
            {"min_delta", t.earlyStop.minDelta}}},
          {"init_from", t.initFrom},
          {"init_map", t.initMap},
          {"freeze", t.freeze},
          {"unfreeze_after", t.unfreezeAfter},
          {"lr_scales", t.lrScales},
          {"schedule", t.schedule},
          {"clip_norm", t.clipNorm},
          {"sampling", t.sampling}};
}

void trainFrom(const Json &j, RunConfig &c) {
  c.trainData = j.at("data").get<std::vector<int>>();
  c.validateData = j.at("validate_data").get<std::vector<int>>();
  c.testData = j.at("test_data").get<std::vector<int>>();
  TrainOptions &t = c.train;
  t.epochs = j.at("epochs").get<int64_t>();
  t.batch = j.at("batch").get<int64_t>();
  t.seed = j.at("seed").get<uint64_t>();
  t.shuffle = j.at("shuffle").get<bool>();
  t.lr = j.at("lr").get<float>();
  t.balance = j.at("balance").get<std::string>();
  t.validate = j.at("validate").get<double>();
  t.test = j.at("test").get<double>();
  const Json &e = j.at("early_stop");
  t.earlyStop.enabled = e.at("enabled").get<bool>();
  t.earlyStop.patience = e.at("patience").get<int64_t>();
  t.earlyStop.monitor = e.at("monitor").get<std::string>();
  t.earlyStop.minDelta = e.at("min_delta").get<double>();
  // Absent in configurations written before transfer settings existed.
  t.initFrom = j.value("init_from", std::string());
  t.initMap = j.value("init_map", std::vector<std::string>());
  t.freeze = j.value("freeze", std::vector<std::string>());
  t.unfreezeAfter = j.value("unfreeze_after", int64_t(0));
  t.lrScales = j.value("lr_scales", std::vector<std::pair<std::string, double>>());
  t.schedule = j.value("schedule", std::string("constant"));
  t.clipNorm = j.value("clip_norm", 0.0);
  t.sampling = j.value("sampling", std::string("proportional"));
}

// Every data index must name a data set.
void checkIndices(const RunConfig &c) {
  int n = static_cast<int>(c.data.size());
  for (const std::vector<int> *list : {&c.trainData, &c.validateData, &c.testData})
    for (int index : *list)
      if (index < 0 || index >= n)
        throw std::invalid_argument(fmt::format("data index {} out of range", index));
}

} // namespace

std::string runConfigJson(const RunConfig &config) {
  Json inputs = Json::array(), tasks = Json::array(), data = Json::array();
  for (const InputSpec &i : config.inputs)
    inputs.push_back({{"name", i.name}, {"width", i.width}, {"vocab", i.vocab}});
  for (const TaskSpec &t : config.tasks)
    tasks.push_back({{"name", t.name},
                     {"kind", kTaskKinds[t.kind]},
                     {"width", t.width},
                     {"classes", t.classes}});
  for (const DataSpec &d : config.data)
    data.push_back(dataJson(d));
  Json j = {{"inputs", inputs}, {"tasks", tasks}, {"data", data}, {"train", trainJson(config)}};
  return j.dump();
}

Result<RunConfig> parseRunConfig(std::string_view text) {
  try {
    Json j = Json::parse(text);
    RunConfig c;
    for (const Json &i : j.at("inputs"))
      c.inputs.push_back({i.at("name").get<std::string>(),
                          i.at("width").get<int64_t>(),
                          i.at("vocab").get<int64_t>(),
                          {}});
    for (const Json &t : j.at("tasks"))
      c.tasks.push_back(
          {t.at("name").get<std::string>(),
           static_cast<TaskSpec::Kind>(kindIndex(kTaskKinds, t.at("kind").get<std::string>())),
           t.at("width").get<int64_t>(), t.at("classes").get<std::vector<std::string>>()});
    for (const Json &d : j.at("data"))
      c.data.push_back(dataFrom(d));
    trainFrom(j.at("train"), c);
    checkIndices(c);
    return c;
  } catch (const std::exception &e) {
    return fail(fmt::format("the model's run configuration is malformed: {}", e.what()));
  }
}

std::vector<double> slotScales(const mtl_model &model, bool tasks) {
  std::vector<double> scales(size_t(std::max(tasks ? model.num_tasks : model.num_inputs, 0)), 1.0);
  std::vector<bool> found(scales.size(), false);
  if (Result<RunConfig> config = modelRunConfig(model))
    for (int d : config->trainData)
      for (const BindingSpec &b : config->data[size_t(d)].bindings)
        if (b.isTask == tasks && b.slot >= 0 && size_t(b.slot) < scales.size() &&
            !found[size_t(b.slot)]) {
          found[size_t(b.slot)] = true;
          scales[size_t(b.slot)] = b.scale;
        }
  return scales;
}

Result<RunConfig> modelRunConfig(const mtl_model &model) {
  if (!model.config)
    return fail(fmt::format("model '{}' carries no run configuration", model.name));
  auto config = parseRunConfig(model.config);
  if (!config)
    return config;
  bool same = config->inputs.size() == static_cast<size_t>(model.num_inputs) &&
              config->tasks.size() == static_cast<size_t>(model.num_tasks);
  for (int i = 0; same && i < model.num_inputs; ++i)
    same = config->inputs[i].name == model.inputs[i].name &&
           config->inputs[i].width == model.inputs[i].elements;
  for (int t = 0; same && t < model.num_tasks; ++t)
    same = config->tasks[t].name == model.tasks[t].name &&
           config->tasks[t].width == model.tasks[t].width;
  if (!same)
    return fail(fmt::format("the run configuration of model '{}' does not match its inputs "
                            "and tasks",
                            model.name));
  return config;
}

Result<Dataset> loadDataSets(const RunConfig &config, std::span<const int> indices) {
  RunConfig c = config;
  std::vector<Dataset> parts;
  for (int index : indices) {
    const DataSpec &spec = c.data[size_t(index)];
    Result<Dataset> data = loadDataset(spec, c.inputs, c.tasks);
    if (!data)
      return data.takeError();
    // The data sets after it number what it binds by its vocabularies.
    for (const BindingSpec &b : spec.bindings) {
      const size_t slot = size_t(b.slot);
      if (b.isTask && c.tasks[slot].classes.empty())
        c.tasks[slot].classes = data->classNames[slot];
      if (!b.isTask && b.asCategory && c.inputs[slot].categories.empty())
        c.inputs[slot].categories = data->categories[slot];
    }
    parts.push_back(std::move(*data));
  }
  return mergeDatasets(std::move(parts), config.inputs, config.tasks);
}

std::vector<std::string> categoryColumnNames(const RunConfig &config, size_t input) {
  for (int d : config.trainData)
    for (const BindingSpec &b : config.data[size_t(d)].bindings)
      if (!b.isTask && b.asCategory && size_t(b.slot) == input) {
        std::vector<std::string> names;
        for (const ColumnSel &sel : b.columns)
          names.push_back(sel.name.empty() ? std::to_string(sel.index) : sel.name);
        return names;
      }
  return {};
}

RunConfig withVocabularies(RunConfig config, const std::vector<std::vector<std::string>> &classes,
                           const std::vector<Categories> &categories) {
  config.tasks = withClasses(std::move(config.tasks), classes);
  config.inputs = withCategories(std::move(config.inputs), categories);
  return config;
}

Status sameDeclaredClasses(const RunConfig &config,
                           const std::vector<std::vector<std::string>> &classes,
                           const std::string &from) {
  for (size_t t = 0; t < config.tasks.size() && t < classes.size(); ++t) {
    const std::vector<std::string> &declared = config.tasks[t].classes;
    if (!declared.empty() && !classes[t].empty() && declared != classes[t])
      return fail(fmt::format("{}: task '{}' declares its classes {}, and the checkpoint's head "
                              "was trained with the classes {}: each output would be read as "
                              "another class; declare them as the checkpoint has them",
                              from, config.tasks[t].name, fmt::join(declared, ", "),
                              fmt::join(classes[t], ", ")));
  }
  return Ok{};
}

} // namespace mtlrt

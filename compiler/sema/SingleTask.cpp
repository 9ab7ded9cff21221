// SingleTask.cpp: cut a checked model down to one task, renumbering what stays.
#include "sema/SingleTask.h"

#include <algorithm>

namespace mtl::sema {
namespace {

/// New indices of the kept entries of a vector (-1: dropped), and the count kept.
struct Renumber {
  std::vector<int> to;
  int kept = 0;
  explicit Renumber(const std::vector<bool> &keep) : to(keep.size(), -1) {
    for (size_t i = 0; i < keep.size(); ++i)
      if (keep[i])
        to[i] = kept++;
  }
};

template <typename T> std::vector<T> keepOnly(const std::vector<T> &from, const Renumber &r) {
  std::vector<T> out;
  for (size_t i = 0; i < from.size(); ++i)
    if (r.to[i] >= 0)
      out.push_back(from[i]);
  return out;
}

/// Maps a list of indices, dropping those that are gone.
std::vector<int> renumbered(const std::vector<int> &list, const Renumber &r) {
  std::vector<int> out;
  for (int i : list)
    if (r.to[size_t(i)] >= 0)
      out.push_back(r.to[size_t(i)]);
  return out;
}

/// Whether a parameter group ("trunk", "trunk.0.*", "a*", "tower.a.*", as
/// freeze, lr_scale and init_map's model side name them) names one of `gone`:
/// its first name (up to a '.' or '*', as sema reads it) is gone, or it lies
/// inside a module that is gone (a soft-shared copy "tower.a").
bool namesGone(const std::string &entry, const std::vector<std::string> &gone) {
  const std::string head = entry.substr(0, entry.find_first_of(".*"));
  for (const std::string &g : gone)
    if (head == g || entry == g || entry.rfind(g + ".", 0) == 0)
      return true;
  return false;
}

/// The model side of an init_map rule "MODEL <- CHECKPOINT".
std::string modelSide(const std::string &rule) {
  std::string left = rule.substr(0, rule.find("<-"));
  left.erase(left.find_last_not_of(" \t") + 1);
  left.erase(0, left.find_first_not_of(" \t"));
  return left;
}

} // namespace

Model singleTaskModel(const Model &model, int task) {
  Model m = model;
  const Task &kept = model.tasks[size_t(task)];

  // The values the head reads; inputs stay, so the data binds as before.
  std::vector<bool> keepValue(model.values.size(), false);
  std::vector<int> stack = {kept.head};
  while (!stack.empty()) {
    int v = stack.back();
    stack.pop_back();
    if (keepValue[size_t(v)])
      continue;
    keepValue[size_t(v)] = true;
    const Value &value = model.values[size_t(v)];
    if (value.arg >= 0)
      stack.push_back(value.arg);
    stack.insert(stack.end(), value.args.begin(), value.args.end());
  }
  for (size_t v = 0; v < model.values.size(); ++v)
    keepValue[v] = keepValue[v] || model.values[v].kind == Value::InputRef;
  std::vector<bool> keepModule(model.modules.size(), false);
  for (size_t v = 0; v < model.values.size(); ++v)
    if (keepValue[v] && model.values[v].module >= 0)
      keepModule[size_t(model.values[v].module)] = true;
  Renumber values(keepValue), modules(keepModule);
  std::vector<std::string> gone;
  for (size_t i = 0; i < model.modules.size(); ++i)
    if (!keepModule[i])
      gone.push_back(model.modules[i].name);
  for (size_t t = 0; t < model.tasks.size(); ++t)
    if (int(t) != task)
      gone.push_back(model.tasks[t].name);

  m.values = keepOnly(model.values, values);
  for (Value &v : m.values) {
    if (v.module >= 0)
      v.module = modules.to[size_t(v.module)];
    if (v.arg >= 0)
      v.arg = values.to[size_t(v.arg)];
    v.args = renumbered(v.args, values);
  }

  std::vector<bool> keepGroup(model.softGroups.size(), false);
  for (size_t g = 0; g < model.softGroups.size(); ++g)
    for (int i : model.softGroups[g].modules)
      keepGroup[g] = keepGroup[g] || keepModule[size_t(i)];
  Renumber groups(keepGroup);
  m.softGroups = keepOnly(model.softGroups, groups);
  for (SoftGroup &g : m.softGroups)
    g.modules = renumbered(g.modules, modules);
  m.modules = keepOnly(model.modules, modules);
  for (Module &mod : m.modules)
    if (mod.softGroup >= 0)
      mod.softGroup = groups.to[size_t(mod.softGroup)];

  m.regularizers.clear();
  for (const Regularizer &r : model.regularizers) {
    Regularizer copy = r;
    copy.modules = renumbered(r.modules, modules);
    if (r.modules.empty() || !copy.modules.empty()) // empty: every module, still
      m.regularizers.push_back(std::move(copy));
  }

  m.tasks = {kept};
  m.tasks[0].head = values.to[size_t(kept.head)];
  m.tasks[0].weight = 1;
  m.balance = Balance{};
  m.balance.loc = model.balance.loc;
  m.experiment = Experiment{};

  // The data: the task's bindings only, and the data sets that bind it.
  std::vector<bool> bindsTask(model.data.size(), false);
  for (size_t d = 0; d < m.data.size(); ++d) {
    std::vector<DataBinding> bindings;
    for (DataBinding b : m.data[d].bindings) {
      if (b.isTask && b.index != task)
        continue;
      if (b.isTask) {
        b.index = 0;
        bindsTask[d] = true;
      }
      bindings.push_back(std::move(b));
    }
    m.data[d].bindings = std::move(bindings);
  }
  for (std::vector<int> *list : {&m.train.trainData, &m.train.validateData, &m.train.testData})
    list->erase(
        std::remove_if(list->begin(), list->end(), [&](int d) { return !bindsTask[size_t(d)]; }),
        list->end());

  TrainConfig &train = m.train;
  auto dropGone = [&](auto &entries, auto name) {
    entries.erase(std::remove_if(entries.begin(), entries.end(),
                                 [&](const auto &e) { return namesGone(name(e), gone); }),
                  entries.end());
  };
  dropGone(train.freeze, [](const std::string &s) { return s; });
  if (train.freeze.empty())
    train.unfreezeAfter = 0; // nothing frozen is left to thaw (a run would refuse it)
  dropGone(train.lrScales, [](const std::pair<std::string, double> &p) { return p.first; });
  dropGone(train.initMap, modelSide);
  const std::string monitorTask =
      train.earlyStop.monitor.substr(0, train.earlyStop.monitor.find('.'));
  if (train.earlyStop.monitor != "loss" && monitorTask != kept.name) {
    train.earlyStop.monitor = "loss";
    train.earlyStop.maximize = false;
  }
  return m;
}

} // namespace mtl::sema

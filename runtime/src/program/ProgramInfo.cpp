// ProgramInfo.cpp: `NAME info`: what the program is: tasks, shapes, parameters, how it was
// compiled.
#include "mtlrt/Program.h"
#include "mtlrt/Report.h"
#include "program/ProgramCommands.h"

#include <algorithm>
#include <fmt/format.h>
#include <fmt/ranges.h>

namespace mtlrt {
namespace {

const char *lossName(int32_t loss) {
  static const char *const names[] = {"mse", "mae", "huber", "bce", "cross_entropy"};
  return loss >= 0 && loss <= MTL_CROSS_ENTROPY ? names[loss] : "?";
}

std::string shape(int32_t rank, const int64_t *dims) {
  return fmt::format("[{}]", fmt::join(dims, dims + rank, ", "));
}

void printInfo(const mtl_model &m) {
  fmt::print("model {}\n", m.name);
  fmt::print("  compiled by mtlc {} for CPU {}, source hash {}\n", m.mtlc_version, m.target_cpu,
             m.source_hash);
  fmt::print("inputs\n");
  for (int32_t i = 0; i < m.num_inputs; ++i)
    fmt::print("  {:<16} {} {}\n", m.inputs[i].name, m.inputs[i].dtype == MTL_I32 ? "i32" : "f32",
               shape(m.inputs[i].rank, m.inputs[i].dims));
  fmt::print("tasks\n");
  for (int32_t t = 0; t < m.num_tasks; ++t) {
    const mtl_task_desc &task = m.tasks[t];
    std::string kind = task.kind == MTL_CLASSIFY || task.kind == MTL_MULTILABEL
                           ? fmt::format("{}({})", taskKindName(task.kind), task.width)
                       : task.kind == MTL_REGRESS && task.width > 1
                           ? fmt::format("regress({})", task.width)
                           : std::string(taskKindName(task.kind));
    std::vector<std::string> metrics = metricNames(task.metrics);
    fmt::print("  {:<16} {:<16} loss {}, weight {}{}{}\n", task.name, kind, lossName(task.loss),
               task.weight, metrics.empty() ? "" : ", metrics ", fmt::join(metrics, ", "));
  }
  fmt::print("parameters\n");
  int64_t total = 0;
  for (int32_t p = 0; p < m.num_params; ++p) {
    fmt::print("  {:<32} {:<12} {:>10}{}\n", m.params[p].name,
               shape(m.params[p].rank, m.params[p].dims), m.params[p].size,
               m.params[p].buffer ? "  buffer, not trained" : "");
    total += m.params[p].buffer ? 0 : m.params[p].size;
  }
  fmt::print("  {:<32} {:<12} {:>10}\n", "total", "", total);
  fmt::print("memory: parameters {} floats, optimizer state {}, workspace {} + {} per row\n",
             m.params_size, m.state_size, m.workspace_fixed, m.workspace_per_row);
  Result<RunConfig> config = modelRunConfig(m);
  if (!config)
    return;
  const RunConfig &c = *config;
  for (size_t d = 0; d < c.data.size(); ++d) {
    const DataSpec &data = c.data[d];
    std::string where = data.kind == DataSpec::Csv   ? data.csv.path
                        : data.kind == DataSpec::Idx ? data.images + ", " + data.labels
                                                     : fmt::format("synthetic, {} rows", data.rows);
    auto in = [&](const std::vector<int> &list) {
      return std::find(list.begin(), list.end(), int(d)) != list.end();
    };
    const char *role = in(c.trainData)      ? " (train)"
                       : in(c.validateData) ? " (validate)"
                       : in(c.testData)     ? " (test)"
                                            : "";
    fmt::print("data {}{}: {}\n", data.name, role, where);
  }
  const TrainOptions &t = c.train;
  fmt::print("train: epochs {}, batch {}, seed {}, lr {}, shuffle {}, validate {}\n", t.epochs,
             t.batch, t.seed, t.lr, t.shuffle, t.validate);
}

} // namespace

void addInfoCommand(CLI::App &app, const mtl_model &model, int &status) {
  CLI::App *cmd =
      app.add_subcommand("info", "Tasks, shapes, parameter counts and how the program was built");
  cmd->callback([&model, &status] {
    printInfo(model);
    status = 0;
  });
}

} // namespace mtlrt

// RunFolder.cpp: choosing a run's folder and its log, and writing its config.json and summary.json.
#include "mtlrt/RunFolder.h"

#include "mtlrt/AtomicFile.h"
#include "mtlrt/Log.h"
#include "report/JsonReader.h"
#include "report/Sections.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <fmt/format.h>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sys/file.h>
#include <unistd.h>

namespace mtlrt {
namespace {
namespace fs = std::filesystem;
using json = nlohmann::ordered_json;

Status writeJson(const std::string &folder, const char *name, const json &j) {
  return writeFileAtomic((fs::path(folder) / name).string(),
                         j.dump(2, ' ', false, json::error_handler_t::replace) + "\n", name);
}

// The files a run writes into its folder, and those of them that make the
// folder hold a run worth keeping.
constexpr const char *kRunFiles[] = {"config.json",      "log.jsonl",    "best.safetensors",
                                     "last.safetensors", "summary.json", "report.html",
                                     "init.safetensors"};
constexpr const char *kKeptFiles[] = {"best.safetensors", "last.safetensors", "summary.json"};

json epochJson(const TrainResult &r, int64_t epoch, const char *checkpoint) {
  json out = {{"epoch", epoch}, {"checkpoint", checkpoint}};
  if (const EpochRecord *record = r.record(epoch)) {
    out["train"] = reportJson(record->train);
    if (record->validation)
      out["validation"] = reportJson(*record->validation);
  }
  return out;
}
} // namespace

Result<std::string> createRunFolder(const std::string &model, const std::string &dir,
                                    const std::string &root) {
  std::error_code ec;
  if (!dir.empty()) {
    fs::create_directories(dir, ec);
    if (ec)
      return fail(fmt::format("{}: cannot create the run folder: {}", dir, ec.message()));
    return dir;
  }
  fs::path parent = fs::path(root) / model;
  fs::create_directories(parent, ec);
  if (ec)
    return fail(
        fmt::format("{}: cannot create the runs folder: {}", parent.string(), ec.message()));
  // Numbers after the highest taken one, so a deleted run's number is not reused mid-series.
  int64_t next = 1;
  for (const fs::directory_entry &entry : fs::directory_iterator(parent, ec)) {
    const std::string name = entry.path().filename().string();
    if (!name.empty() && name.find_first_not_of("0123456789") == std::string::npos &&
        name.size() < 10)
      next = std::max<int64_t>(next, std::stoll(name) + 1);
  }
  for (int64_t n = next; n < next + 1000; ++n) {
    fs::path path = parent / std::to_string(n);
    if (fs::create_directory(path, ec))
      return path.string();
    if (ec)
      return fail(fmt::format("{}: cannot create the run folder: {}", path.string(), ec.message()));
  }
  return fail(fmt::format("{}: cannot find a free run folder", parent.string()));
}

namespace {

/// Whether `dir`'s summary.json is that of a run that failed (one that could
/// not start, or stopped on an error).
bool failedRun(const fs::path &dir) {
  std::ifstream in(dir / "summary.json");
  json j = json::parse(in, nullptr, false);
  return j.is_object() && j.contains("status") && j["status"] == "failed";
}

} // namespace

Status checkRunDir(const std::string &dir, const std::string &resume, bool overwrite) {
  std::error_code ec;
  std::string held;
  bool checkpoints = false, last = fs::exists(fs::path(dir) / "last.safetensors", ec);
  for (const char *name : kKeptFiles)
    if (fs::exists(fs::path(dir) / name, ec)) {
      held += fmt::format("{}{}", held.empty() ? "" : ", ", name);
      checkpoints = checkpoints || std::string_view(name) != "summary.json";
    }
  // A run that failed before writing a checkpoint left nothing to continue:
  // its folder takes the next run as an empty one would.
  if (overwrite || (!held.empty() && !checkpoints && failedRun(dir)))
    return Ok{};
  if (held.empty()) {
    // Other files a run writes, there without a run's checkpoints or
    // summary (the user's own config.json, or a run killed before either),
    // are not replaced unasked either.
    for (const char *name : kRunFiles)
      if (fs::exists(fs::path(dir) / name, ec))
        held += fmt::format("{}{}", held.empty() ? "" : ", ", name);
    if (held.empty())
      return Ok{};
    return fail(fmt::format("--run-dir {}: the folder holds files that a run writes ({}), which "
                            "this run would replace; replace them with --overwrite, or choose "
                            "another folder",
                            dir, held));
  }
  if (!resume.empty()) {
    fs::path from = fs::path(resume).parent_path();
    if (fs::equivalent(from.empty() ? fs::path(".") : from, dir, ec))
      return Ok{};
  }
  return fail(fmt::format("--run-dir {}: the folder holds a run already ({}); {}replace it with "
                          "--overwrite, or choose another folder",
                          dir, held,
                          last ? fmt::format("continue it with --resume {}, ",
                                             (fs::path(dir) / "last.safetensors").string())
                               : std::string()));
}

std::string resumedRunFolder(const std::string &resume) {
  // Only the run's last checkpoint continues it there: one resumed from its
  // best or initial parameters would replace the epochs after them.
  if (fs::path(resume).filename() != "last.safetensors")
    return "";
  fs::path from = fs::path(resume).parent_path();
  if (from.empty())
    from = ".";
  std::error_code ec;
  return fs::is_regular_file(from / "config.json", ec) ? from.string() : std::string();
}

Result<RunFolderLock> RunFolderLock::take(const std::string &folder) {
  int fd = ::open(folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    return fail(fmt::format("{}: cannot open the run folder: {}", folder, std::strerror(errno)));
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    const int error = errno;
    ::close(fd);
    return fail(
        error == EWOULDBLOCK
            ? fmt::format("{}: another run is writing this folder; wait for it, or "
                          "choose another folder with --run-dir",
                          folder)
            : fmt::format("{}: cannot lock the run folder: {}", folder, std::strerror(error)));
  }
  // Held, the folder's temporary files (NAME.tmp-PID, of atomic writes) are
  // what a killed run left: no other process writes here.
  std::error_code ec;
  for (const fs::directory_entry &entry : fs::directory_iterator(folder, ec)) {
    const std::string name = entry.path().filename().string();
    const size_t at = name.rfind(".tmp-");
    if (at != std::string::npos && at + 5 < name.size() &&
        name.find_first_not_of("0123456789", at + 5) == std::string::npos)
      fs::remove(entry.path(), ec);
  }
  return RunFolderLock(fd);
}

RunFolderLock::~RunFolderLock() {
  if (fd_ >= 0)
    ::close(fd_);
}

Status clearRunFolder(const std::string &dir) {
  for (const char *name : kRunFiles) {
    std::error_code ec;
    fs::remove(fs::path(dir) / name, ec);
    if (ec)
      return fail(fmt::format("--overwrite: cannot remove {}: {}", (fs::path(dir) / name).string(),
                              ec.message()));
  }
  return Ok{};
}

Status writeRunSettings(const std::string &folder, const mtl_model &model, const RunConfig &config,
                        const TrainOptions &o) {
  json data = json::object();
  for (const DataSpec &d : config.data) {
    if (d.kind == DataSpec::Csv || d.kind == DataSpec::Npz)
      data[d.name] = d.csv.path;
    else if (d.kind == DataSpec::Npy)
      data[d.name] = json(std::map<std::string, std::string>(d.arrays.begin(), d.arrays.end()));
    else if (d.kind == DataSpec::Idx)
      data[d.name] = {{"images", d.images}, {"labels", d.labels}};
    else
      data[d.name] = {{"synthetic_rows", d.rows}, {"seed", d.seed}};
  }
  std::vector<std::string> weights;
  for (const auto &[task, w] : o.taskWeights)
    weights.push_back(fmt::format("{}={}", task, w));
  json j = {{"model", model.name ? model.name : ""},
            {"source_hash", model.source_hash ? model.source_hash : ""},
            {"mtlc_version", model.mtlc_version ? model.mtlc_version : ""},
            {"target_cpu", model.target_cpu ? model.target_cpu : ""},
            {"data", data},
            {"settings",
             {{"epochs", o.epochs},
              {"batch", o.batch},
              {"seed", o.seed},
              {"shuffle", o.shuffle},
              {"flush_denormals", o.flushDenormals},
              {"lr", o.lr},
              {"validate", o.validate},
              {"test", o.test},
              {"threads", o.threads},
              {"task_weights", weights},
              {"early_stop",
               {{"enabled", o.earlyStop.enabled},
                {"patience", o.earlyStop.patience},
                {"monitor", o.earlyStop.monitor},
                {"min_delta", o.earlyStop.minDelta}}},
              {"resume_from", o.resumeFrom},
              {"init_from", o.initFrom},
              {"init_map", o.initMap},
              {"freeze", o.freeze},
              {"unfreeze_after", o.unfreezeAfter},
              {"lr_scales", o.lrScales},
              {"schedule", o.schedule},
              {"clip_norm", o.clipNorm},
              {"sampling", o.sampling},
              // Absolute: a --resume from another directory continues this log.
              {"log", o.logPath.empty() ? std::string() : fs::absolute(o.logPath).string()}}}};
  return writeJson(folder, "config.json", j);
}

Status writeRunSummary(const std::string &folder, const mtl_model &model,
                       const TrainOptions &options, const Result<TrainResult> &result) {
  json j = {{"model", model.name ? model.name : ""}};
  if (!result) {
    j["status"] = "failed";
    j["error"] = result.error();
    if (fs::exists(fs::path(folder) / "last.safetensors"))
      j["checkpoint"] = "last.safetensors";
    return writeJson(folder, "summary.json", j);
  }
  const TrainResult &r = *result;
  j["status"] = r.interrupted ? "interrupted" : r.stoppedEarly ? "stopped_early" : "finished";
  j["epochs"] = r.lastEpoch; // a resumed run's count includes the epochs before it
  j["steps"] = r.steps;
  j["seconds"] = r.seconds;
  j["monitor"] = options.earlyStop.monitor.empty() ? "loss" : options.earlyStop.monitor;
  j["best_epoch"] = r.bestEpoch;
  j["kept_epoch"] = r.keptEpoch;
  j["kept"] = epochJson(r, r.keptEpoch,
                        r.keptEpoch == r.bestEpoch && r.bestEpoch > 0 ? "best.safetensors"
                                                                      : "last.safetensors");
  j["last"] = epochJson(r, r.lastEpoch, "last.safetensors");
  if (r.test)
    j["test"] = reportJson(*r.test);
  return writeJson(folder, "summary.json", j);
}

bool continuesRun(const std::string &resume, const std::string &folder) {
  std::error_code ec;
  const fs::path from = fs::path(resume).parent_path();
  return !resume.empty() && !folder.empty() &&
         fs::equivalent(from.empty() ? fs::path(".") : from, folder, ec);
}

bool samePath(const std::string &a, const std::string &b) {
  std::error_code ea, eb;
  const fs::path x = fs::weakly_canonical(fs::absolute(a), ea);
  const fs::path y = fs::weakly_canonical(fs::absolute(b), eb);
  return !ea && !eb ? x == y : a == b;
}

Status logBesideRunFiles(const std::string &log, const std::string &folder) {
  for (const char *name : kRunFiles)
    if (!log.empty() && std::string_view(name) != "log.jsonl" &&
        samePath(log, (fs::path(folder) / name).string()))
      return fail(fmt::format("--log {}: the run writes its {} there; write the log to another "
                              "file",
                              log, name));
  return Ok{};
}

Result<std::string> runLogPath(const std::string &folder, bool continuing,
                               const std::string &modelName) {
  const std::string own = (fs::path(folder) / "log.jsonl").string();
  if (!continuing)
    return own;
  const std::string earlier = report::runFolderInputs(folder).back();
  if (samePath(earlier, own))
    return own;
  const std::string which =
      fmt::format("{}: the run's log {} (its --log, as config.json says)", folder, earlier);
  const char *instead = "pass --log FILE to log the rest of the run to FILE";
  if (!fs::path(earlier).is_absolute())
    return fail(fmt::format("{} is relative to the directory the run started in; pass --log with "
                            "its path from here to continue it, or {}",
                            which, instead));
  std::ifstream in(earlier);
  if (!in)
    return fail(fmt::format("{} is not there; put it back to continue it, or {}", which, instead));
  std::string line;
  std::getline(in, line);
  const report::Json start = report::Json::parse(line, nullptr, false);
  if (!start.is_object() || start.value("type", "") != "start" ||
      start.value("model", "") != modelName)
    return fail(fmt::format("{} does not begin with the start of a run of model '{}'; {}", which,
                            modelName, instead));
  return earlier;
}

} // namespace mtlrt

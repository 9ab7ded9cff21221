// ModelKey.cpp: the key of a model's index in the on-disk cache.
#include "driver/ModelKey.h"
#include "driver/CompilerSources.h" // generated: the hash of the compiler's and runtime's sources
#include "driver/DataSpecs.h"

#include <llvm/ADT/StringExtras.h>
#include <llvm/Support/SHA1.h>

#include <sys/stat.h>

#include <algorithm>
#include <ctime>
#include <filesystem>
#include <fmt/format.h>

namespace mtl::driver {
namespace fs = std::filesystem;

std::string modelKey(const Compilation &c, const PipelineOptions &o) {
  if (o.adjust)
    return "";
  std::error_code ec;
  std::string text =
      fmt::format("mtlc model {}\nmodel {}\ngetter {}\ntask gradients {}\n", MTL_COMPILER_SOURCES,
                  c.model->name, getterName(*c.model, o), o.taskGradients);
  text += o.balance ? "balance " + *o.balance + "\n" : "balance of the model\n";
  text += "directory " + fs::current_path(ec).string() + "\n";
  for (int f = 0; f < c.sources.fileCount(); ++f)
    text += fmt::format("file {} {}\n{}\n", fs::absolute(c.sources.name(f), ec).string(),
                        c.sources.text(f).size(), c.sources.text(f));
  // A file's times tick in steps (a scheduler tick, or seconds on some file
  // systems), so a file written twice within one step can keep its times; a
  // model whose data changed in the last 2 s is not keyed, so its index is
  // neither found nor stored until the data's times tell every version apart.
  auto seconds = [](const timespec &t) { return double(t.tv_sec) + double(t.tv_nsec) * 1e-9; };
  timespec now{};
  clock_gettime(CLOCK_REALTIME, &now);
  for (const sema::Model &m : c.models)
    for (const std::string &path : dataFiles(m)) {
      struct stat s {};
      if (stat(path.c_str(), &s) != 0) {
        text += fmt::format("data {} unreadable\n", path);
        continue;
      }
      if (seconds(now) - std::max(seconds(s.st_mtim), seconds(s.st_ctim)) < 2.0)
        return "";
      text += fmt::format("data {} {} {} {} {}.{} {}.{}\n", path, s.st_dev, s.st_ino, s.st_size,
                          s.st_mtim.tv_sec, s.st_mtim.tv_nsec, s.st_ctim.tv_sec, s.st_ctim.tv_nsec);
    }
  return llvm::toHex(llvm::SHA1::hash(llvm::arrayRefFromStringRef(text)), /*LowerCase=*/true);
}

} // namespace mtl::driver

// CmdBuild.cpp: `mtlc build FILE`: a standalone program, a bare object file, or a C library.
#include "driver/CHeader.h"
#include "driver/Commands.h"
#include "driver/DataSpecs.h"
#include "driver/Pipeline.h"
#include "driver/Terminal.h"
#include "driver/Toolchain.h"
#include "mtlrt/AtomicFile.h"

#include "backend/Emit.h"

#include <filesystem>
#include <fmt/format.h>
#include <fstream>
#include <llvm/Support/FileSystem.h>

namespace mtl::driver {
namespace {
namespace fs = std::filesystem;

struct BuildOptions {
  std::string file, output, emit = "exe";
  bool lib = false;
  CompileFlags compile;
};

bool writeFile(const std::string &path, const std::string &bytes, std::string &error) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << bytes;
  out.close();
  if (!out)
    error = fmt::format("cannot write '{}'", path);
  return static_cast<bool>(out);
}

// What the user asked for is written whole or not at all: a failed write
// leaves the file it would replace as it was.
bool writeOutput(const std::string &path, const std::string &bytes, const char *what,
                 std::string &error) {
  mtlrt::Status s = mtlrt::writeOutputFile(path, bytes, what);
  if (!s)
    error = s.error();
  return static_cast<bool>(s);
}

bool buildProgram(const std::vector<std::string> &objects, const std::string &runtime,
                  const std::string &output, std::string &error) {
  std::vector<std::string> paths;
  bool ok = true;
  for (const std::string &object : objects) {
    llvm::SmallString<128> temp;
    if (llvm::sys::fs::createTemporaryFile("mtlc-model", "o", temp)) {
      error = "cannot create a temporary object file";
      ok = false;
      break;
    }
    paths.emplace_back(temp);
    if (!writeFile(paths.back(), object, error)) {
      ok = false;
      break;
    }
  }
  ok = ok && linkProgram(paths, runtime, output, error);
  for (const std::string &path : paths)
    llvm::sys::fs::remove(path);
  return ok;
}

bool buildLibrary(const Compilation &c, const std::string &object, const std::string &runtime,
                  const std::string &dir, const std::string &target, std::string &error) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) {
    error = fmt::format("cannot create '{}': {}", dir, ec.message());
    return false;
  }
  const sema::Model &m = *c.model;
  std::string header =
      modelHeader(m, m.name + "_model", m.sourcePath, hashText(c.sourceText), target);
  return writeModelLibrary(object, m.name + "_model.o", runtime,
                           (fs::path(dir) / ("lib" + m.name + ".a")).string(), error) &&
         writeOutput((fs::path(dir) / (m.name + ".h")).string(), header, "the header", error);
}

// The folder a program or object file goes into must exist (a library's is
// created), and the name must not be a folder: said before anything compiles.
bool outputFolderExists(const BuildOptions &o) {
  if (o.lib || o.output.empty())
    return true;
  std::error_code ec;
  if (fs::is_directory(o.output, ec)) {
    fmt::print(stderr,
               "error: cannot write '{}': it is a folder; name the file to write in it "
               "(-o {}), or build a library into it with --lib\n",
               o.output, (fs::path(o.output) / "NAME").string());
    return false;
  }
  fs::path parent = fs::path(o.output).parent_path();
  if (parent.empty() || fs::is_directory(parent, ec))
    return true;
  if (fs::exists(parent, ec))
    fmt::print(stderr, "error: cannot write '{}': '{}' is a file, not a folder\n", o.output,
               parent.string());
  else
    fmt::print(stderr, "error: cannot write '{}': there is no folder '{}'\n", o.output,
               parent.string());
  return false;
}

int runBuild(const BuildOptions &o, const GlobalOptions &global) {
  if (!outputFolderExists(o))
    return 1;
  if (mtlrt::Status s = mtlrt::distinctOutput(o.output, {o.file}, "-o"); !o.lib && !s) {
    fmt::print(stderr, "error: {}\n", s.error());
    return 1;
  }
  // Programs and libraries need the runtime: find it before compiling.
  std::string error, runtime;
  if (o.lib || o.emit == "exe") {
    runtime = runtimeLibraryDir(error);
    if (runtime.empty()) {
      fmt::print(stderr, "error: {}\n", error);
      return 1;
    }
  }
  PipelineOptions po = pipelineOptions(o.compile, global);
  po.taskGradients = true; // a program's `train --balance` may choose any method
  po.libraryGetter = o.lib;
  // A program links one object per function, compiled on every core and
  // kept in the disk cache as the JIT's are; a library or a bare object file
  // is one module (its symbols must not clash with another model's).
  bool program = !o.lib && o.emit == "exe";
  std::unique_ptr<backend::FunctionCache> functions;
  if (program) {
    auto cache = backend::FunctionCache::create(po.target, po.diskCache);
    if (!cache) {
      fmt::print(stderr, "error: {}\n", llvm::toString(cache.takeError()));
      return 1;
    }
    functions = std::move(*cache);
    po.cache = functions.get();
  }
  Compilation c;
  bool ok = runPipeline(o.file, Stage::Optimize, c, po);
  // Two names that become one C identifier would make a header that does not compile.
  ok = ok && (!o.lib || checkHeaderNames(*c.model, c.diags));
  c.diags.flush(stderr, useColor(global.color, stderr));
  if (!ok)
    return 1;
  if (mtlrt::Status s = mtlrt::distinctOutput(o.output, filesRead(c), "-o"); !o.lib && !s) {
    fmt::print(stderr, "error: {}\n", s.error()); // -o names an imported file
    return 1;
  }
  auto compile = [&]() -> llvm::Expected<std::vector<std::string>> {
    if (program)
      return functions->objects(*c.module);
    auto one = backend::emitMachineCode(*c.module, *c.targetMachine, backend::FileKind::Object);
    if (!one)
      return one.takeError();
    return std::vector<std::string>{std::move(*one)};
  };
  auto objects = compile();
  if (!objects) {
    fmt::print(stderr, "error: {}\n", llvm::toString(objects.takeError()));
    return 1;
  }
  const std::string &name = c.model->name;
  std::string output = o.output;
  bool built = false;
  if (o.lib) {
    output = output.empty() ? name : output;
    built =
        buildLibrary(c, objects->front(), runtime, output, backend::targetLabel(po.target), error);
  } else if (o.emit == "obj") {
    output = output.empty() ? name + ".o" : output;
    built = writeOutput(output, objects->front(), "the object file", error);
  } else {
    output = output.empty() ? name : output;
    built = buildProgram(*objects, runtime, output, error);
  }
  if (!built) {
    fmt::print(stderr, "error: {}\n", error);
    return 1;
  }
  fmt::print(stderr, "mtlc: built {} {} (model '{}', target CPU {})\n",
             o.lib             ? "library"
             : o.emit == "obj" ? "object"
                               : "program",
             output, name, backend::targetLabel(po.target));
  return 0;
}

} // namespace

void addBuildCommand(CLI::App &app, const GlobalOptions &global, int &status) {
  auto o = std::make_shared<BuildOptions>();
  CLI::App *cmd = app.add_subcommand(
      "build", "Compile a model ahead of time into a program (train, eval, predict, info), an "
               "object file, or a static library with a C header");
  cmd->add_option("file", o->file, ".mtl file")->required();
  cmd->add_option("-o,--output", o->output,
                  "The program or object file to write, or the library's folder (default: the "
                  "model's name)");
  auto *lib = cmd->add_flag(
      "--lib", o->lib, "Write libNAME.a and NAME.h into the -o folder (see docs/embedding.md)");
  cmd->add_option("--emit", o->emit, "exe (a program) or obj (the bare object file)")
      ->check(CLI::IsMember({"exe", "obj"}))
      ->capture_default_str()
      ->excludes(lib);
  addCompileFlags(cmd, o->compile);
  cmd->callback([o, &global, &status] { status = runBuild(*o, global); });
}

} // namespace mtl::driver

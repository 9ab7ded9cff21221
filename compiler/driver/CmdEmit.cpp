// CmdEmit.cpp: `mtlc emit STAGE FILE`: print (or write) what one pipeline stage produces.
#include "driver/Commands.h"
#include "driver/DataSpecs.h"
#include "driver/Pipeline.h"
#include "driver/Printers.h"
#include "driver/Terminal.h"
#include "mtlrt/AtomicFile.h"

#include "backend/Emit.h"
#include "frontend/AstPrinter.h"
#include "ir/Printer.h"

#include <cerrno>
#include <cstring>
#include <fmt/format.h>
#include <fstream>
#include <llvm/Support/raw_ostream.h>

namespace mtl::driver {
namespace {

struct EmitOptions {
  std::string stage, file, output;
  CompileFlags compile;
};

} // namespace

Stage emitStage(const std::string &what) {
  if (what == "ast")
    return Stage::Parse;
  if (what == "ir" || what == "update")
    return Stage::Lower;
  if (what == "grad")
    return Stage::Grad;
  if (what == "opt")
    return Stage::Passes;
  if (what == "llvm")
    return Stage::Optimize;
  return Stage::Optimize; // asm, obj: machine code from the optimised module
}

llvm::Expected<std::string> emitText(const std::string &what, Compilation &c) {
  if (what == "ast") {
    std::string text;
    for (const ast::File &f : c.files)
      text += printAst(f, c.sources);
    return text;
  }
  if (what == "ir" || what == "grad" || what == "opt")
    return ir::print(c.step.graph, &c.sources);
  if (what == "update")
    return ir::print(c.step.model.update.graph, &c.sources);
  if (what == "llvm") {
    std::string text;
    llvm::raw_string_ostream os(text);
    c.module->print(os, nullptr);
    return os.str();
  }
  auto kind = what == "asm" ? backend::FileKind::Assembly : backend::FileKind::Object;
  return backend::emitMachineCode(*c.module, *c.targetMachine, kind);
}

namespace {

bool writeOut(const EmitOptions &o, const std::vector<std::string> &read,
              const std::string &bytes) {
  if (o.output.empty() || o.output == "-") {
    std::fwrite(bytes.data(), 1, bytes.size(), stdout);
    return true;
  }
  if (mtlrt::Status s = mtlrt::distinctOutput(o.output, read, "-o"); !s) {
    fmt::print(stderr, "error: {}\n", s.error());
    return false;
  }
  errno = 0;
  std::ofstream out(o.output, std::ios::binary | std::ios::trunc);
  out << bytes;
  if (!out) {
    fmt::print(stderr, "error: cannot write '{}': {}\n", o.output,
               errno ? std::strerror(errno) : "the stream failed");
    return false;
  }
  return true;
}

int runEmit(const EmitOptions &o, const GlobalOptions &global) {
  if (o.stage == "obj" && o.output.empty()) {
    fmt::print(stderr, "error: emit obj writes a binary object file; name it with -o FILE\n");
    return 1;
  }
  PipelineOptions po = pipelineOptions(o.compile, global);
  Compilation c;
  bool ok = runPipeline(o.file, emitStage(o.stage), c, po);
  c.diags.flush(stderr, useColor(global.color, stderr));
  if (!ok)
    return 1;
  auto text = emitText(o.stage, c);
  if (!text) {
    fmt::print(stderr, "error: {}\n", llvm::toString(text.takeError()));
    return 1;
  }
  return writeOut(o, filesRead(c), *text) ? 0 : 1;
}

} // namespace

void addEmitCommand(CLI::App &app, const GlobalOptions &global, int &status) {
  auto o = std::make_shared<EmitOptions>();
  CLI::App *cmd = app.add_subcommand(
      "emit", "Print what a pipeline stage produces: ast, ir (forward and losses), grad (with "
              "gradients), opt (after the IR passes), update (the optimizer's update of one "
              "element), llvm, asm, or obj (-o FILE)");
  cmd->add_option("stage", o->stage, "ast | ir | grad | opt | update | llvm | asm | obj")
      ->required()
      ->check(CLI::IsMember({"ast", "ir", "grad", "opt", "update", "llvm", "asm", "obj"}));
  cmd->add_option("file", o->file, ".mtl file")->required();
  cmd->add_option("-o,--output", o->output, "Write to FILE instead of standard output");
  addCompileFlags(cmd, o->compile);
  cmd->callback([o, &global, &status] { status = runEmit(*o, global); });
}

} // namespace mtl::driver

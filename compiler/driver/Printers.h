// Printers.h: what `mtlc emit` prints, callable by other commands (the REPL).
#pragma once

#include "driver/Pipeline.h"

#include <llvm/Support/Error.h>

#include <string>

namespace mtl::driver {

/// The stage `mtlc emit WHAT` runs the pipeline to (ast, ir, grad, opt, llvm, asm, obj).
Stage emitStage(const std::string &what);

/// What `mtlc emit WHAT` writes for `c`, which ran to emitStage(what): text for
/// every stage but obj (object-file bytes). Consumes c.module for asm and obj.
llvm::Expected<std::string> emitText(const std::string &what, Compilation &c);

} // namespace mtl::driver

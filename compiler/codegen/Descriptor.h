// Descriptor.h: the constant mtl_model descriptor of a generated module.
#pragma once

#include "codegen/Layout.h"
#include "ir/Signature.h"
#include "lower/StepModel.h"

#include <llvm/IR/Module.h>

namespace mtl::codegen {

/// Sizes and entry points that go into the descriptor besides the model itself.
struct DescriptorInfo {
  std::string sourceHash, targetCpu, symbol;
  std::string config; ///< the run configuration's JSON (mtl_model.config)
  int64_t workspaceFixed = 0, workspacePerRow = 0;
  llvm::Function *gradStep = nullptr, *taskGradStep = nullptr, *update = nullptr;
  llvm::Function *repGradStep = nullptr;
  llvm::Function *evalStep = nullptr;
  std::vector<ir::GateProbe> gates; ///< mtl_model.gates
};

/// Emits the descriptor as a private constant laid out as `mtl_model` (with
/// its input, task and tensor tables and strings) and an external function
/// `info.symbol` that returns its address.
void emitDescriptor(llvm::Module &module, const lower::StepModel &model, const ArenaLayout &layout,
                    const DescriptorInfo &info);

} // namespace mtl::codegen

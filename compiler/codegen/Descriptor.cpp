// Descriptor.cpp: the mtl_model constant, built field by field as in Abi.h.
//
// LLVM lays out a non-packed struct with the same alignment rules as the C
// compiler for the target, so mirroring the C field types is enough; the
// codegen tests read every field back through the C header to prove it.
#include "codegen/Descriptor.h"

#include "mtlrt/Abi.h"

#include <llvm/IR/Constants.h>
#include <llvm/IR/IRBuilder.h>

namespace mtl::codegen {
namespace {

class Builder {
public:
  explicit Builder(llvm::Module &m)
      : m_(m), ctx_(m.getContext()), i32_(llvm::Type::getInt32Ty(ctx_)),
        i64_(llvm::Type::getInt64Ty(ctx_)), ptr_(llvm::PointerType::getUnqual(ctx_)),
        dims_(llvm::ArrayType::get(i64_, MTL_MAX_RANK)) {
    inputType_ = llvm::StructType::get(ctx_, {ptr_, i32_, i32_, dims_, i64_});
    taskType_ = llvm::StructType::get(
        ctx_, {ptr_, i32_, i32_, i64_, i64_, llvm::Type::getDoubleTy(ctx_), i32_, i32_});
    tensorType_ = llvm::StructType::get(
        ctx_, {ptr_, i32_, dims_, i64_, i64_, i32_, llvm::Type::getFloatTy(ctx_), ptr_, i32_});
    gateType_ = llvm::StructType::get(ctx_, {ptr_, i32_, i32_, ptr_});
  }

  llvm::Constant *str(const std::string &s) {
    auto *init = llvm::ConstantDataArray::getString(ctx_, s);
    auto *gv = new llvm::GlobalVariable(m_, init->getType(), true,
                                        llvm::GlobalValue::PrivateLinkage, init, "mtl.str");
    gv->setUnnamedAddr(llvm::GlobalValue::UnnamedAddr::Global);
    return gv;
  }
  llvm::Constant *i32(int64_t v) { return llvm::ConstantInt::get(i32_, static_cast<uint64_t>(v)); }
  llvm::Constant *i64(int64_t v) { return llvm::ConstantInt::get(i64_, static_cast<uint64_t>(v)); }
  llvm::Constant *dims(const std::vector<int64_t> &d) {
    std::vector<llvm::Constant *> v;
    for (int k = 0; k < MTL_MAX_RANK; ++k)
      v.push_back(i64(k < static_cast<int>(d.size()) ? d[k] : 0));
    return llvm::ConstantArray::get(dims_, v);
  }
  llvm::Constant *table(llvm::StructType *type, const std::vector<llvm::Constant *> &rows) {
    if (rows.empty())
      return llvm::ConstantPointerNull::get(llvm::cast<llvm::PointerType>(ptr_));
    auto *arrayType = llvm::ArrayType::get(type, rows.size());
    return new llvm::GlobalVariable(m_, arrayType, true, llvm::GlobalValue::PrivateLinkage,
                                    llvm::ConstantArray::get(arrayType, rows), "mtl.table");
  }
  llvm::Constant *array(const std::vector<llvm::Constant *> &ints) {
    if (ints.empty())
      return llvm::ConstantPointerNull::get(llvm::cast<llvm::PointerType>(ptr_));
    auto *arrayType = llvm::ArrayType::get(i32_, ints.size());
    return new llvm::GlobalVariable(m_, arrayType, true, llvm::GlobalValue::PrivateLinkage,
                                    llvm::ConstantArray::get(arrayType, ints), "mtl.indices");
  }
  /// A constant array of string pointers.
  llvm::Constant *strings(const std::vector<std::string> &items) {
    std::vector<llvm::Constant *> ptrs;
    for (const std::string &item : items)
      ptrs.push_back(str(item));
    auto *arrayType = llvm::ArrayType::get(ptr_, ptrs.size());
    return new llvm::GlobalVariable(m_, arrayType, true, llvm::GlobalValue::PrivateLinkage,
                                    llvm::ConstantArray::get(arrayType, ptrs), "mtl.names");
  }
  llvm::Constant *gate(const ir::GateProbe &g) {
    return llvm::ConstantStruct::get(gateType_, {str(g.name), i32(g.task),
                                                 i32(static_cast<int64_t>(g.experts.size())),
                                                 strings(g.experts)});
  }
  llvm::Constant *tensor(const PlacedTensor &t) {
    return llvm::ConstantStruct::get(
        tensorType_,
        {str(t.name), i32(static_cast<int64_t>(t.dims.size())), dims(t.dims), i64(t.offset),
         i64(t.size), i32(t.init), llvm::ConstantFP::get(llvm::Type::getFloatTy(ctx_), t.initScale),
         floats(t.initValues), i32(t.buffer ? 1 : 0)});
  }
  /// A constant array of floats; null when there are none.
  llvm::Constant *floats(const std::vector<float> &values) {
    if (values.empty())
      return llvm::ConstantPointerNull::get(llvm::cast<llvm::PointerType>(ptr_));
    auto *init = llvm::ConstantDataArray::get(ctx_, values);
    return new llvm::GlobalVariable(m_, init->getType(), true, llvm::GlobalValue::PrivateLinkage,
                                    init, "mtl.init");
  }

  llvm::Module &m_;
  llvm::LLVMContext &ctx_;
  llvm::Type *i32_, *i64_, *ptr_;
  llvm::ArrayType *dims_;
  llvm::StructType *inputType_, *taskType_, *tensorType_, *gateType_;
};

uint32_t metricBits(const std::vector<sema::Metric> &metrics) {
  uint32_t bits = 0;
  for (sema::Metric m : metrics) {
    switch (m) {
    case sema::Metric::Accuracy:
      bits |= MTL_ACCURACY;
      break;
    case sema::Metric::Precision:
      bits |= MTL_PRECISION;
      break;
    case sema::Metric::Recall:
      bits |= MTL_RECALL;
      break;
    case sema::Metric::F1:
      bits |= MTL_F1;
      break;
    case sema::Metric::MacroF1:
      bits |= MTL_MACRO_F1;
      break;
    case sema::Metric::Auc:
      bits |= MTL_AUC;
      break;
    case sema::Metric::Mse:
      bits |= MTL_METRIC_MSE;
      break;
    case sema::Metric::Mae:
      bits |= MTL_METRIC_MAE;
      break;
    case sema::Metric::R2:
      bits |= MTL_R2;
      break;
    }
  }
  return bits;
}

int lossCode(sema::Loss l) {
  switch (l) {
  case sema::Loss::Mse:
    return MTL_MSE;
  case sema::Loss::Mae:
    return MTL_MAE;
  case sema::Loss::Huber:
    return MTL_HUBER;
  case sema::Loss::Bce:
    return MTL_BCE;
  case sema::Loss::CrossEntropy:
    return MTL_CROSS_ENTROPY;
  }
  return MTL_MSE;
}

} // namespace

void emitDescriptor(llvm::Module &module, const lower::StepModel &model, const ArenaLayout &layout,
                    const DescriptorInfo &info) {
  Builder c(module);
  std::vector<llvm::Constant *> inputs, tasks, params, state;
  for (const sema::Input &in : model.inputs)
    inputs.push_back(llvm::ConstantStruct::get(
        c.inputType_, {c.str(in.name), c.i32(in.dtype == sema::DType::F32 ? MTL_F32 : MTL_I32),
                       c.i32(static_cast<int64_t>(in.shape.size())), c.dims(in.shape),
                       c.i64(sema::elementCount(in.shape))}));
  for (const sema::Task &t : model.tasks)
    tasks.push_back(llvm::ConstantStruct::get(
        c.taskType_,
        {c.str(t.name), c.i32(static_cast<int>(t.kind)), c.i32(lossCode(t.loss)), c.i64(t.width),
         c.i64(t.classes), llvm::ConstantFP::get(llvm::Type::getDoubleTy(c.ctx_), t.weight),
         c.i32(t.auxiliary ? 1 : 0), c.i32(metricBits(t.metrics))}));
  for (const std::vector<PlacedTensor> *list : {&layout.params, &layout.buffers})
    for (const PlacedTensor &t : *list)
      params.push_back(c.tensor(t));
  for (const PlacedTensor &t : layout.state)
    state.push_back(c.tensor(t));

  std::vector<llvm::Constant *> shared, sharedIndex;
  for (const PlacedTensor &t : layout.shared)
    shared.push_back(c.tensor(t));
  for (int k : layout.sharedIndex)
    sharedIndex.push_back(c.i32(k));
  std::vector<llvm::Constant *> gates;
  for (const ir::GateProbe &g : info.gates)
    gates.push_back(c.gate(g));
  auto *modelType = llvm::StructType::get(
      c.ctx_,
      {c.i32_, c.ptr_, c.ptr_, c.ptr_, c.ptr_, c.i32_, c.ptr_, c.i32_, c.ptr_, c.i32_, c.ptr_,
       c.i32_, c.ptr_, c.i64_, c.i64_, c.i64_, c.i64_, c.i64_, c.i32_, c.ptr_, c.ptr_, c.i64_,
       c.ptr_, c.ptr_, c.ptr_, c.ptr_, c.ptr_, c.i32_, c.ptr_, c.i64_, c.i32_, c.ptr_});
  llvm::Constant *null = llvm::ConstantPointerNull::get(llvm::PointerType::getUnqual(c.ctx_));
  llvm::Constant *fields[] = {c.i32(MTL_ABI_VERSION),
                              c.str(model.name),
                              c.str(info.sourceHash),
                              c.str(MTLC_VERSION),
                              c.str(info.targetCpu),
                              c.i32(static_cast<int64_t>(inputs.size())),
                              c.table(c.inputType_, inputs),
                              c.i32(static_cast<int64_t>(tasks.size())),
                              c.table(c.taskType_, tasks),
                              c.i32(static_cast<int64_t>(params.size())),
                              c.table(c.tensorType_, params),
                              c.i32(static_cast<int64_t>(state.size())),
                              c.table(c.tensorType_, state),
                              c.i64(layout.paramsSize),
                              c.i64(layout.stateSize),
                              c.i64(info.workspaceFixed),
                              c.i64(info.workspacePerRow),
                              c.i64(layout.gradsSize),
                              c.i32(static_cast<int64_t>(shared.size())),
                              c.table(c.tensorType_, shared),
                              c.array(sharedIndex),
                              c.i64(layout.sharedSize),
                              info.gradStep,
                              info.taskGradStep ? info.taskGradStep : null,
                              info.update,
                              info.evalStep,
                              c.str(info.config),
                              c.i32(model.hasPenalty ? 1 : 0),
                              info.repGradStep ? info.repGradStep : null,
                              c.i64(layout.repGramOffset),
                              c.i32(static_cast<int64_t>(gates.size())),
                              c.table(c.gateType_, gates)};
  auto *descriptor =
      new llvm::GlobalVariable(module, modelType, true, llvm::GlobalValue::PrivateLinkage,
                               llvm::ConstantStruct::get(modelType, fields), "mtl.model");
  auto *getterType = llvm::FunctionType::get(c.ptr_, {}, false);
  auto *getter =
      llvm::Function::Create(getterType, llvm::Function::ExternalLinkage, info.symbol, module);
  llvm::IRBuilder<> b(llvm::BasicBlock::Create(c.ctx_, "entry", getter));
  b.CreateRet(descriptor);
}

} // namespace mtl::codegen

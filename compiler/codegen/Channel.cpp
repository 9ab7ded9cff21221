// Channel.cpp: the Channel kinds (batch_norm), per channel over the batch.
#include "codegen/Emitter.h"

namespace mtl::codegen {

void Emitter::emitBatchNorm(const ir::Op &op, ir::ValueId id) {
  // Row by row, channel by channel: each channel's numbers are loaded once
  // and its `size` values (an image's pixels) are one contiguous inner loop.
  const int64_t size = op.attrs.size, channels = graph.type(op.operands[1]).dims[0];
  const int64_t last = channels * size;
  llvm::Value *nrows = b.CreateUDiv(count(op.type), cst(last));
  auto rows = [&](llvm::Value *begin, llvm::Value *end, llvm::Value *) {
    llvm::Value *x = buffers[op.operands[0]], *out = buffers[id];
    loop(begin, end, [&](llvm::Value *r) {
      loop(cst(channels), [&](llvm::Value *c) {
        llvm::Value *mean = load(buffers[op.operands[1]], c);
        llvm::Value *invStd = load(buffers[op.operands[2]], c);
        llvm::Value *weight = load(buffers[op.operands[3]], c);
        llvm::Value *bias = load(buffers[op.operands[4]], c);
        llvm::Value *base = b.CreateAdd(b.CreateMul(r, cst(last)), b.CreateMul(c, cst(size)));
        loop(cst(size), [&](llvm::Value *p) {
          llvm::Value *i = b.CreateAdd(base, p);
          llvm::Value *v =
              b.CreateFMul(b.CreateFMul(b.CreateFSub(load(x, i), mean), invStd), weight);
          v = b.CreateFAdd(v, bias);
          if (op.attrs.activation == ir::Activation::Relu) // fused: passes/Activations.h
            v = unary(ir::OpKind::Relu, op.attrs, v);
          store(v, out, i);
        });
      });
    });
  };
  eachRow(id, op.type, op.type.rowElements(), nrows, count(op.type), rows);
}

} // namespace mtl::codegen

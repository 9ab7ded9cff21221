// shared_kernels_test.cpp: a dense layer's weight gradient reads the length
// of its first operand's rows from the kernel's arguments (Matrix.cpp,
// MatMulTN), so the weight gradients of layers with the same number of
// inputs and different numbers of outputs (a trunk's heads of 3 and 5
// outputs, a 32-wide layer on the same 32 features) are one function, which
// the function cache compiles once. Each element's sum is unchanged, so the
// JIT against the interpreter tests keep their bits.
#include "CompiledText.h"
#include "backend/SameFunction.h"

#include <gtest/gtest.h>
#include <llvm/IR/Module.h>

#include <fstream>
#include <string>
#include <vector>

namespace mtl {
namespace shared_kernels {

// Every weight gradient is [m, 32] with m = 32, 3 and 5: under 128 rows,
// so none copies its blocks (kPackRows), and all read 32-float rows.
constexpr const char *kModel = R"(
model shared_kernels {
  input x : f32[32]
  shared trunk = x -> dense(32) -> relu
  task c : classify(3) { head = trunk -> dense(3) }
  task r : regress(5) { head = trunk -> dense(5) }
}
)";

TEST(SharedKernels, WeightGradientsOfEveryWidthAreOneFunction) {
  const std::string path = test::testFile("shared_kernels");
  std::ofstream(path) << kModel;
  driver::Compilation c;
  ASSERT_TRUE(driver::runPipeline(path, driver::Stage::Llvm, c)) << c.diags.render(false);
  ASSERT_TRUE(c.module);
  std::vector<llvm::Function *> gradients;
  for (llvm::Function &f : *c.module)
    if (f.getName().startswith("mtl.kernel.matmul_tn") && !f.isDeclaration())
      gradients.push_back(&f);
  ASSERT_EQ(gradients.size(), 3u); // the trunk's and the two heads' weight gradients
  llvm::GlobalNumberState numbers;
  for (size_t k = 1; k < gradients.size(); ++k)
    EXPECT_TRUE(backend::sameFunction(*gradients[0], *gradients[k], numbers))
        << gradients[0]->getName().str() << " and " << gradients[k]->getName().str() << " differ";
}

} // namespace shared_kernels
} // namespace mtl

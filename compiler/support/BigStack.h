// BigStack.h: run a function on a thread with a large stack.
#pragma once

#include <functional>

namespace mtl {

/// Runs `fn` to completion on a thread whose stack is `bytes` large (the
/// memory is reserved, not committed). Recursive algorithms over user input
/// (the generated parser, tree walks) run here, so that deep but legal input
/// cannot overflow the 8 MiB main stack. Falls back to calling `fn` directly
/// if no thread can be created.
void runWithBigStack(const std::function<void()> &fn, unsigned long bytes = 512ul << 20);

} // namespace mtl

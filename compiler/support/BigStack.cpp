// BigStack.cpp: a pthread with a chosen stack size, joined before returning.
#include "support/BigStack.h"

#include <pthread.h>

namespace mtl {
namespace {
void *trampoline(void *arg) {
  (*static_cast<const std::function<void()> *>(arg))();
  return nullptr;
}
} // namespace

void runWithBigStack(const std::function<void()> &fn, unsigned long bytes) {
  pthread_attr_t attr;
  pthread_t thread;
  if (pthread_attr_init(&attr) == 0 && pthread_attr_setstacksize(&attr, bytes) == 0 &&
      pthread_create(&thread, &attr, trampoline, const_cast<std::function<void()> *>(&fn)) == 0) {
    pthread_attr_destroy(&attr);
    pthread_join(thread, nullptr);
    return;
  }
  pthread_attr_destroy(&attr);
  fn();
}

} // namespace mtl

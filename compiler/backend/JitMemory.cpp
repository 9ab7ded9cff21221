// JitMemory.cpp: one region of memory for all the objects the JIT links, protected once per lookup.
#include "backend/JitMemory.h"

#include <llvm/Support/Memory.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <sys/mman.h>
#include <unistd.h>

namespace mtl::backend {
namespace {

// Pages made writable at once for a kind of section: a model's code is a
// few hundred kilobytes, so a link takes one or two runs.
constexpr size_t kRunBytes = size_t(256) << 10;

llvm::Error systemError(const char *call) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), "JIT memory: %s failed: %s", call,
                                 std::strerror(errno));
}

uint8_t *roundUp(uint8_t *p, size_t to) {
  auto at = reinterpret_cast<uintptr_t>(p);
  return reinterpret_cast<uint8_t *>((at + to - 1) / to * to);
}

// The memory manager RuntimeDyld asks for, one per object: its sections come
// from the shared region, and finalizing it protects nothing (the region is
// sealed once the lookup that linked the object returns). Frames for
// unwinding are registered as LLVM's own managers do.
class Sections : public llvm::RTDyldMemoryManager {
public:
  explicit Sections(std::shared_ptr<JitMemory> memory) : memory_(std::move(memory)) {}

  uint8_t *allocateCodeSection(uintptr_t size, unsigned alignment, unsigned,
                               llvm::StringRef) override {
    return memory_->allocate(JitMemory::Kind::Code, size, alignment);
  }
  uint8_t *allocateDataSection(uintptr_t size, unsigned alignment, unsigned, llvm::StringRef,
                               bool readOnly) override {
    return memory_->allocate(readOnly ? JitMemory::Kind::ReadOnly : JitMemory::Kind::ReadWrite,
                             size, alignment);
  }
  bool finalizeMemory(std::string *) override { return false; }

private:
  std::shared_ptr<JitMemory> memory_;
};

} // namespace

llvm::Expected<std::shared_ptr<JitMemory>> JitMemory::create(size_t reserveBytes) {
  size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  reserveBytes = (reserveBytes + page - 1) / page * page;
  void *base =
      mmap(nullptr, reserveBytes, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (base == MAP_FAILED)
    return systemError("mmap");
  return std::shared_ptr<JitMemory>(
      new JitMemory(static_cast<uint8_t *>(base), reserveBytes, page));
}

JitMemory::JitMemory(uint8_t *base, size_t bytes, size_t page)
    : base_(base), bytes_(bytes), page_(page), next_(base) {}

JitMemory::~JitMemory() { munmap(base_, bytes_); }

uint8_t *JitMemory::allocate(Kind kind, uintptr_t size, unsigned alignment) {
  std::lock_guard<std::mutex> guard(lock_);
  size_t align = std::max<size_t>(alignment, 16);
  Run &run = open_[static_cast<int>(kind)];
  uint8_t *at = run.used ? roundUp(run.used, align) : nullptr;
  if (!at || at > run.end || size > static_cast<size_t>(run.end - at)) {
    // A new run of pages; what the full one holds is sealed with the rest.
    size_t bytes = std::max(kRunBytes, (size + align + page_ - 1) / page_ * page_);
    if (bytes > static_cast<size_t>(base_ + bytes_ - next_) ||
        mprotect(next_, bytes, PROT_READ | PROT_WRITE) != 0)
      return nullptr; // RuntimeDyld reports that it could not allocate the section
    if (run.used > run.begin)
      unsealed_.emplace_back(kind, run);
    run = {next_, next_, next_ + bytes};
    next_ += bytes;
    at = roundUp(run.used, align);
  }
  run.used = at + size;
  return at;
}

llvm::Error JitMemory::protect(Kind kind, Run &run) {
  if (kind == Kind::ReadWrite || run.used == run.begin)
    return llvm::Error::success();
  // The last page may be partly filled: it is protected too, and the run's
  // next sections start on the page after it.
  uint8_t *end = std::min(roundUp(run.used, page_), run.end);
  int prot = kind == Kind::Code ? PROT_READ | PROT_EXEC : PROT_READ;
  if (mprotect(run.begin, static_cast<size_t>(end - run.begin), prot) != 0)
    return systemError("mprotect");
  if (kind == Kind::Code)
    llvm::sys::Memory::InvalidateInstructionCache(run.begin, static_cast<size_t>(end - run.begin));
  run.begin = run.used = end;
  return llvm::Error::success();
}

llvm::Error JitMemory::seal() {
  std::lock_guard<std::mutex> guard(lock_);
  for (auto &[kind, run] : unsealed_)
    if (auto err = protect(kind, run))
      return err;
  unsealed_.clear();
  for (int k = 0; k < 3; ++k)
    if (auto err = protect(static_cast<Kind>(k), open_[k]))
      return err;
  return llvm::Error::success();
}

std::unique_ptr<llvm::RTDyldMemoryManager>
JitMemory::sectionsFor(std::shared_ptr<JitMemory> memory) {
  return std::make_unique<Sections>(std::move(memory));
}

} // namespace mtl::backend

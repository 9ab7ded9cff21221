// JitMemory.h: one region of memory for all the objects the JIT links, protected once per lookup.
#pragma once

#include <llvm/ExecutionEngine/RTDyldMemoryManager.h>

#include <cstdint>
#include <memory>
#include <mutex>
#include <utility>
#include <vector>

namespace mtl::backend {

/// Where the JIT's linker puts the sections of the objects it links: packed
/// one after another into pages of one reserved address range, instead of
/// pages of their own per object (LLVM's SectionMemoryManager maps, faults
/// in and protects fresh pages for every object: a model of 155 functions
/// is 155 objects). The sections stay writable while they are linked;
/// seal() makes the code read and execute only and the constants read only,
/// and the next sections go to pages after them. The one range keeps every
/// object's code within 32-bit reach of its constants.
class JitMemory {
public:
  enum class Kind { Code, ReadOnly, ReadWrite };

  /// Reserves `reserveBytes` of address space (no memory until used).
  static llvm::Expected<std::shared_ptr<JitMemory>> create(size_t reserveBytes = size_t(1) << 30);
  ~JitMemory();
  JitMemory(const JitMemory &) = delete;
  JitMemory &operator=(const JitMemory &) = delete;

  /// `size` bytes aligned to `alignment` for a section of this kind, or null
  /// when the reserved range is used up.
  uint8_t *allocate(Kind kind, uintptr_t size, unsigned alignment);
  /// Protects what was allocated since the last seal: code read and execute,
  /// constants read only. An error names the failed call.
  llvm::Error seal();

  /// A memory manager for one object that takes its sections from `memory`
  /// (RTDyldObjectLinkingLayer asks for one per object).
  static std::unique_ptr<llvm::RTDyldMemoryManager> sectionsFor(std::shared_ptr<JitMemory> memory);

  /// The host's page size (the unit of seal()'s protections), for tests.
  size_t pageSize() const { return page_; }

private:
  JitMemory(uint8_t *base, size_t bytes, size_t page);

  /// Writable pages of one kind: sealed before `begin`, filled up to `used`.
  struct Run {
    uint8_t *begin = nullptr, *used = nullptr, *end = nullptr;
  };
  llvm::Error protect(Kind kind, Run &run);

  std::mutex lock_;
  uint8_t *base_;
  size_t bytes_, page_;
  uint8_t *next_;                              ///< the first page no run has taken
  Run open_[3];                                ///< per kind, the run being filled
  std::vector<std::pair<Kind, Run>> unsealed_; ///< full runs not yet sealed
};

} // namespace mtl::backend

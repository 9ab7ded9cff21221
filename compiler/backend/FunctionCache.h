// FunctionCache.h: how models are compiled: function by function, content-addressed, cached.
#pragma once

#include "backend/DiskCache.h"
#include "backend/Jit.h"
#include "backend/Target.h"

#include <llvm/IR/LLVMContext.h>
#include <llvm/IR/Module.h>

#include <atomic>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace mtl::backend {

/// The message of the error a cancelled compile fails with (FunctionCache::cancel).
inline constexpr const char *kCancelledMessage = "cancelled";

/// What the last compilation through a FunctionCache did.
struct FunctionCacheReport {
  int functions = 0;    ///< functions of the module that went through the cache
  int reused = 0;       ///< of these, compiled by an earlier compilation of the session
  int loaded = 0;       ///< of these, read from the on-disk cache (compiled by an earlier run)
  int compiled = 0;     ///< of these, optimised and compiled now
  int duplicates = 0;   ///< of these, identical to another function of the same module
  int kept = 0;         ///< functions left in the model's own module (the entry and what it needs)
  bool indexed = false; ///< linkIndexed() found the model: nothing was generated or optimised
};

/// Compiles modules function by function and keeps every compiled function
/// for the rest of the session, keyed by its content. Each function that can
/// stand alone (it uses only constant module-local globals and functions
/// that can stand alone) is moved into a module of its own and named by a
/// SHA-1 of that module's un-optimised bitcode (its own name replaced by a
/// placeholder, callees already renamed, so the key covers what it calls),
/// the target CPU, its features and the optimisation level (a function
/// that sameFunction() finds equal to one keyed before takes its key
/// without being written). A key seen
/// before is not compiled again: the new module calls the existing machine
/// code. New functions are optimised and compiled on a few threads, each
/// with its own LLVMContext and TargetMachine. The optimisation pipeline
/// runs per function, so nothing is inlined across functions; LLVM keeps the
/// exact floating-point operations either way (codegen allows no
/// reassociation), so every level computes the same bits.
class FunctionCache {
public:
  /// A cache whose machine code is for `opts` (CPU and optimisation level).
  /// With a `diskRoot` (see DiskCache), functions not compiled in this
  /// session are looked up on disk first, and what is compiled is stored
  /// there for later runs; empty: no disk cache.
  static llvm::Expected<std::unique_ptr<FunctionCache>> create(const TargetOptions &opts,
                                                               const std::string &diskRoot = "");

  /// The optimise stage: splits `module` (whose functions but `entry` may go
  /// to the cache), optimises the functions not compiled before and compiles
  /// each to machine code on the worker that optimised it (no second pass
  /// over them waits for the slowest), and optimises what stays in `module`
  /// (`entry` and the data it references).
  /// Each distinct function, and what stays, first passes LLVM's verifier
  /// (an error "invalid LLVM IR: ...", never a crash, if not).
  /// `module` is left calling the cached functions by their content names.
  llvm::Error optimize(llvm::Module &module, const std::string &entry);

  /// The JIT stage: stores the functions optimize() compiled on disk, adds
  /// them to the session's library of functions, then compiles `module`
  /// (the rest) and adds it as a library of its own that links against it;
  /// returns `entry`'s address. With a `modelKey` and a disk cache, it also
  /// stores the model's index under that key: the keys of every function
  /// `module` calls, and the rest's object code.
  llvm::Expected<void *> link(llvm::Module &module, const std::string &entry,
                              const std::string &modelKey = "");

  /// What the JIT stages do, without code generation, for a model whose index
  /// link() stored under `modelKey` (a key of everything that decides the
  /// model's code but the target, which this cache adds): when the disk
  /// cache has the index and every function it names is in this session or
  /// on disk, adds them and the rest as link() would and returns `entry`'s
  /// address; otherwise nothing, having added nothing.
  llvm::Expected<std::optional<void *>> linkIndexed(const std::string &modelKey,
                                                    const std::string &entry);

  /// The ahead-of-time alternative to link(), for programs: takes the
  /// functions optimize() compiled (or has from disk), compiles what stays in
  /// `module`, and returns the object files of the whole model, one per
  /// function and one for the rest, to be linked together. Needs a cache
  /// that has compiled nothing into its JIT before (it keeps no object code).
  llvm::Expected<std::vector<std::string>> objects(llvm::Module &module);

  /// Makes an optimize(), link() or objects() running on another thread
  /// fail with "cancelled" before the next function it would compile, and
  /// every later one fail at once (a tiered compile no longer needed).
  void cancel() { cancelled_.store(true, std::memory_order_relaxed); }

  /// What the last optimize() and link() (or objects()) did.
  const FunctionCacheReport &report() const { return report_; }
  /// The report in words, for `mtlc -v`: "N functions at -O2: C compiled,
  /// L from the disk cache (ROOT), ...".
  std::string summary() const;

private:
  /// A function of the model's new to this session: compiled by optimize()
  /// from its bitcode, or read from disk.
  struct Pending {
    std::string key, name;
    std::string bitcode; ///< what the key hashes: the function still named by the placeholder
    std::string object;  ///< machine code: compiled by optimize(), or read from disk
    bool fromDisk = false;
    /// A chunk of op calls (codegen's `mtl.ops`, which only passes pointers
    /// on): its machine code made by the -O0 code generator.
    bool calls = false;
  };

  /// Stores the pending functions optimize() compiled on disk.
  llvm::Error storePending();
  /// storePending(), then `module`'s own object code.
  llvm::Expected<std::string> emitAll(llvm::Module &module);

  /// A worker thread's TargetMachine and object emitter (neither is safe to share).
  struct Worker;

  /// Adds the pending functions to the session's library, then `rest` (the
  /// model's own object code) to a library of its own; `entry`'s address.
  llvm::Expected<void *> addModel(const std::string &rest, const std::string &entry);
  /// The disk cache's key of the index of the model keyed `modelKey` for this target.
  std::string indexKey(const std::string &modelKey) const;

  FunctionCache(TargetOptions opts, std::string target, std::unique_ptr<Jit> jit,
                std::unique_ptr<DiskCache> disk)
      : opts_(opts), target_(std::move(target)), jit_(std::move(jit)), disk_(std::move(disk)) {}

  TargetOptions opts_;
  std::string target_; ///< the CPU, its features and the -O level: part of every key
  std::unique_ptr<Jit> jit_;
  std::unique_ptr<DiskCache> disk_;
  llvm::orc::JITDylib *library_ = nullptr; ///< every cached function, for the session
  std::set<std::string> compiled_;         ///< keys of the functions in the JIT
  std::deque<Pending> pending_; ///< a deque: workers hold pointers to entries while more are added
  std::vector<std::string> keys_; ///< every function the module optimize() split calls
  FunctionCacheReport report_;
  std::atomic<bool> cancelled_{false};
};

} // namespace mtl::backend

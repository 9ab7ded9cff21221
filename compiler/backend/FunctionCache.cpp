// FunctionCache.cpp: split a module per function, key each by its IR, compile only new ones.
//
// Why: a REPL edit usually changes one task head, yet the whole module (the
// step functions and every outlined product kernel) went through LLVM's
// optimiser and code generator again. Keyed by content, an unchanged kernel
// is found in the session's JIT (or in the on-disk cache, from an earlier
// run) and only what changed is compiled; new functions compile on every
// core at once, which is also why `mtlc train` and programs compile this way
// (their optimisation starts on the other cores while the rest are keyed). Functions
// are visited callees first and renamed to their key before their callers
// are keyed, so a caller's key changes when a callee does. Two identical
// functions of one module (the same product in grad_step and eval_step)
// become one. A model's index (the keys of its functions and the object
// code of what stays in its own module) lets a later run of an unchanged
// model skip code generation too.
#include "backend/FunctionCache.h"

#include "backend/Emit.h"
#include "backend/FunctionAlone.h"
#include "backend/Optimize.h"
#include "backend/Parallel.h"
#include "backend/SameFunction.h"
#include "codegen/Chunks.h"

#include <llvm/ADT/StringExtras.h>
#include <llvm/Bitcode/BitcodeReader.h>
#include <llvm/Bitcode/BitcodeWriter.h>
#include <llvm/IR/Verifier.h>
#include <llvm/Support/FormatVariadic.h>
#include <llvm/Support/MemoryBuffer.h>
#include <llvm/Support/SHA1.h>
#include <llvm/Support/raw_ostream.h>
#include <llvm/Transforms/Utils/FunctionComparator.h>
#include <llvm/Transforms/Utils/ValueMapper.h>

#include <algorithm>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <thread>

namespace mtl::backend {
namespace {

const char *kPlaceholder = "mtl.fn";

// What LLVM's verifier (`broken`, writing to the stream) finds wrong with a
// function or module, as an error message; empty if nothing.
std::string verified(const std::function<bool(llvm::raw_ostream &)> &broken) {
  std::string problems;
  llvm::raw_string_ostream os(problems);
  return broken(os) ? "invalid LLVM IR: " + os.str() : "";
}

llvm::Error failure(const std::string &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), "%s", message.c_str());
}

std::string sha1Hex(const std::string &text) {
  return llvm::toHex(llvm::SHA1::hash(llvm::arrayRefFromStringRef(text)), /*LowerCase=*/true);
}

// A model's index: a first line, the number of function keys, the keys (a
// line each), then the object code of the model's own module.
const char *kIndexMagic = "mtlc model index 1\n";

std::string indexPayload(const std::vector<std::string> &keys, const std::string &rest) {
  std::string out = kIndexMagic + std::to_string(keys.size()) + "\n";
  for (const std::string &key : keys)
    out += key + "\n";
  return out + rest;
}

// The keys and the object code of an index, or nothing when it is not one.
std::optional<std::pair<std::vector<std::string>, std::string>>
parseIndex(const std::string &payload) {
  size_t at = std::string(kIndexMagic).size();
  if (payload.compare(0, at, kIndexMagic) != 0)
    return std::nullopt;
  auto line = [&]() -> std::optional<std::string> {
    size_t end = payload.find('\n', at);
    if (end == std::string::npos)
      return std::nullopt;
    std::string text = payload.substr(at, end - at);
    at = end + 1;
    return text;
  };
  auto count = line();
  if (!count || count->empty() || count->size() > 9 ||
      !std::all_of(count->begin(), count->end(), llvm::isDigit))
    return std::nullopt;
  std::vector<std::string> keys;
  for (int i = std::stoi(*count); i > 0; --i) {
    auto key = line();
    if (!key || key->size() != 40)
      return std::nullopt;
    keys.push_back(std::move(*key));
  }
  return std::make_pair(std::move(keys), payload.substr(at));
}

} // namespace

struct FunctionCache::Worker {
  std::unique_ptr<llvm::TargetMachine> machine;
  std::unique_ptr<CodeEmitter> objects; ///< made with the machine, on the worker's first function
  /// The same at -O0, for chunks of calls (Pending::calls), on the first.
  std::unique_ptr<llvm::TargetMachine> callsMachine;
  std::unique_ptr<CodeEmitter> callsObjects;
};

llvm::Expected<std::unique_ptr<FunctionCache>> FunctionCache::create(const TargetOptions &opts,
                                                                     const std::string &diskRoot) {
  std::unique_ptr<DiskCache> disk;
  if (!diskRoot.empty())
    disk = std::make_unique<DiskCache>(diskRoot, DiskCache::defaultMaxBytes());
  auto jit = Jit::create();
  if (!jit)
    return jit.takeError();
  auto library = (*jit)->createLibrary();
  if (!library)
    return library.takeError();
  auto tm = createTargetMachine(opts);
  if (!tm)
    return tm.takeError();
  // The key covers what decides the machine code besides the IR.
  std::string target = (*tm)->getTargetCPU().str() + " " + (*tm)->getTargetFeatureString().str() +
                       " -O" + std::to_string(opts.optLevel);
  std::unique_ptr<FunctionCache> cache(
      new FunctionCache(opts, std::move(target), std::move(*jit), std::move(disk)));
  cache->library_ = *library;
  return cache;
}

llvm::Error FunctionCache::optimize(llvm::Module &module, const std::string &entry) {
  report_ = {};
  pending_.clear();
  keys_.clear();
  auto tm = createTargetMachine(opts_);
  if (!tm)
    return tm.takeError();
  module.setTargetTriple((*tm)->getTargetTriple().str());
  module.setDataLayout((*tm)->createDataLayout());

  // Which defined functions may stand alone, visited callees first.
  std::map<const llvm::Function *, std::set<const llvm::Function *>> callees;
  std::set<const llvm::Function *> alone;
  std::vector<llvm::Function *> order, todo;
  for (llvm::Function &f : module)
    if (!f.isDeclaration() && f.getName() != entry)
      todo.push_back(&f);
  for (llvm::Function *f : todo) {
    References refs = collectReferences(*f);
    bool ok =
        std::all_of(refs.globals.begin(), refs.globals.end(), [](const llvm::GlobalVariable *g) {
          return g->hasLocalLinkage() && g->isConstant() && g->hasInitializer();
        });
    std::set<const llvm::Function *> fns;
    for (const llvm::Function *c : refs.functions)
      if (!c->isDeclaration() && c != f)
        fns.insert(c);
    if (ok)
      callees[f] = fns;
  }
  for (bool progress = true; progress;) {
    progress = false;
    for (llvm::Function *f : todo) {
      if (alone.count(f) || !callees.count(f))
        continue;
      const auto &cs = callees[f];
      if (std::all_of(cs.begin(), cs.end(),
                      [&](const llvm::Function *c) { return alone.count(c); })) {
        alone.insert(f);
        order.push_back(f);
        progress = true;
      }
    }
  }
  report_.kept = 1 + static_cast<int>(todo.size() - order.size());

  // New functions are optimised and compiled to machine code, each in a
  // context of its own, on worker threads that start while the rest are
  // still being keyed here.
  const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  std::vector<Worker> workers(cores);
  std::mutex problemLock;
  std::string problem;
  Overlapped<Pending> optimizing(cores - 1, [&](Pending &p, unsigned w) {
    llvm::Error err = [&]() -> llvm::Error {
      if (cancelled_)
        return failure(kCancelledMessage);
      Worker &worker = workers[w];
      if (!worker.machine) {
        auto machine = createTargetMachine(opts_);
        if (!machine)
          return machine.takeError();
        worker.machine = std::move(*machine);
        worker.objects = std::make_unique<CodeEmitter>(*worker.machine, FileKind::Object);
      }
      if (p.calls && !worker.callsMachine) {
        TargetOptions fast = opts_;
        fast.optLevel = 0;
        auto machine = createTargetMachine(fast);
        if (!machine)
          return machine.takeError();
        worker.callsMachine = std::move(*machine);
        worker.callsObjects = std::make_unique<CodeEmitter>(*worker.callsMachine, FileKind::Object);
      }
      llvm::LLVMContext context;
      auto parsed = llvm::parseBitcodeFile(llvm::MemoryBufferRef(p.bitcode, p.name), context);
      if (!parsed)
        return parsed.takeError();
      llvm::Module &alone = **parsed;
      alone.getFunction(kPlaceholder)->setName(p.name);
      optimizeModule(alone, *worker.machine, opts_.optLevel);
      auto object = (p.calls ? worker.callsObjects : worker.objects)->emit(alone);
      if (!object)
        return object.takeError();
      p.object = std::move(*object);
      return llvm::Error::success();
    }();
    if (err) {
      std::lock_guard<std::mutex> guard(problemLock);
      problem = llvm::toString(std::move(err));
    }
  });
  std::map<std::string, llvm::Function *> byName;
  // Functions already keyed, by functionHash(): a function that is the same
  // as one of them (sameFunction(): the same op on the same shapes, emitted
  // again for another step of a recurrence or another head; product kernels
  // and loops with their loop hints) is that one, with no module of its own
  // to write and hash. Their bodies stay until the end for these comparisons.
  llvm::GlobalNumberState numbers;
  std::multimap<uint64_t, llvm::Function *> keyed;
  for (llvm::Function *f : order) {
    if (cancelled_)
      break; // the workers fail what was queued
    ++report_.functions;
    const bool calls = f->getName().startswith(codegen::kCallChunk);
    uint64_t hash = functionHash(*f);
    llvm::Function *equal = nullptr;
    for (auto [it, end] = keyed.equal_range(hash); it != end && !equal; ++it)
      if (sameFunction(*f, *it->second, numbers))
        equal = it->second;
    if (equal) {
      ++report_.duplicates;
      f->replaceAllUsesWith(equal);
      f->eraseFromParent();
      continue;
    }
    // LLVM's verifier, once per distinct function (the copies found above
    // are the same code): over the whole module, it checked a gru's 24 copies
    // of each op, half of the codegen stage.
    if (std::string invalid = verified([&](auto &os) { return llvm::verifyFunction(*f, &os); });
        !invalid.empty()) {
      std::lock_guard<std::mutex> guard(problemLock);
      problem = invalid;
      break;
    }
    // The function alone in a module, with the constants it reads.
    llvm::ValueToValueMapTy map;
    std::unique_ptr<llvm::Module> alone = functionAlone(module, *f, collectReferences(*f), map);
    alone->setModuleIdentifier(kPlaceholder);
    alone->setSourceFileName(kPlaceholder);
    // Only what the function uses, with names that do not depend on the rest
    // of the module: unused declarations go, constants and local values lose
    // their names (codegen numbers labels across the whole module).
    for (auto it = alone->begin(); it != alone->end();) {
      llvm::Function &g = *it++;
      if (g.isDeclaration() && g.use_empty())
        g.eraseFromParent();
    }
    for (auto it = alone->global_begin(); it != alone->global_end();) {
      llvm::GlobalVariable &g = *it++;
      if (g.isDeclaration() && g.use_empty())
        g.eraseFromParent();
      else if (g.hasLocalLinkage())
        g.setName("mtl.c");
    }
    auto *copy = llvm::cast<llvm::Function>(map[f]);
    for (llvm::Argument &a : copy->args())
      a.setName("");
    for (llvm::BasicBlock &bb : *copy) {
      bb.setName("");
      for (llvm::Instruction &inst : bb)
        inst.setName("");
    }
    copy->setName(kPlaceholder);
    copy->setLinkage(llvm::GlobalValue::ExternalLinkage);
    copy->setVisibility(llvm::GlobalValue::DefaultVisibility);
    // Keyed by its bitcode, which a new function is also compiled from
    // (renamed from the placeholder on the worker).
    std::string bitcode;
    llvm::raw_string_ostream bc(bitcode);
    llvm::WriteBitcodeToFile(*alone, bc);
    bc.flush();
    std::string key = sha1Hex(target_ + "\n" + bitcode);
    std::string name = "mtl.fn." + key;

    if (auto same = byName.find(name); same != byName.end()) {
      ++report_.duplicates;
      f->replaceAllUsesWith(same->second);
      f->eraseFromParent();
      continue;
    }
    f->setName(name);
    keyed.emplace(hash, f);
    byName[name] = f;
    keys_.push_back(key);
    if (compiled_.count(key)) {
      ++report_.reused;
      continue;
    }
    Pending p;
    p.key = key;
    p.name = name;
    p.calls = calls;
    if (auto object = disk_ ? disk_->load(key) : std::nullopt) {
      ++report_.loaded;
      p.object = std::move(*object);
      p.fromDisk = true;
      pending_.push_back(std::move(p));
      continue;
    }
    ++report_.compiled;
    p.bitcode = std::move(bitcode);
    pending_.push_back(std::move(p));
    optimizing.add(pending_.back(), pending_.back().bitcode.size());
  }
  for (auto &[name, f] : byName) {
    f->deleteBody(); // a declaration with external linkage
    f->setVisibility(llvm::GlobalValue::DefaultVisibility);
  }
  // Constants only the moved functions used are dead now.
  for (auto it = module.global_begin(); it != module.global_end();) {
    llvm::GlobalVariable &g = *it++;
    g.removeDeadConstantUsers();
    if (g.hasLocalLinkage() && g.use_empty())
      g.eraseFromParent();
  }

  optimizing.finish();
  if (cancelled_)
    return failure(kCancelledMessage);
  if (!problem.empty())
    return failure(problem);
  if (std::string invalid = verified([&](auto &os) { return llvm::verifyModule(module, &os); });
      !invalid.empty())
    return failure(invalid); // what stays: the entry, the descriptor, functions kept here
  optimizeModule(module, **tm, opts_.optLevel);
  return llvm::Error::success();
}

llvm::Error FunctionCache::storePending() {
  if (cancelled_)
    return failure(kCancelledMessage);
  if (!disk_)
    return llvm::Error::success();
  bool stored = false;
  for (const Pending &p : pending_)
    if (!p.fromDisk) {
      disk_->store(p.key, p.object);
      stored = true;
    }
  if (stored)
    disk_->trim();
  return llvm::Error::success();
}

std::string FunctionCache::summary() const {
  const FunctionCacheReport &r = report_;
  return llvm::formatv("{0} functions at -O{1}: {2} compiled, {3} from the disk cache ({4}), {5} "
                       "reused in this session, {6} identical to another{7}",
                       r.functions, opts_.optLevel, r.compiled, r.loaded,
                       disk_ ? disk_->root() : "off", r.reused, r.duplicates,
                       r.indexed ? "; the model's index was on disk, so no code was generated" : "")
      .str();
}

std::string FunctionCache::indexKey(const std::string &modelKey) const {
  return sha1Hex(target_ + "\n" + modelKey);
}

llvm::Expected<void *> FunctionCache::addModel(const std::string &rest, const std::string &entry) {
  for (Pending &p : pending_) {
    if (auto err = jit_->addObject(*library_, p.object, p.name))
      return err;
    compiled_.insert(p.key);
  }
  pending_.clear();
  auto library = jit_->createLibrary(library_);
  if (!library)
    return library.takeError();
  if (auto err = jit_->addObject(**library, rest, "mtl.model"))
    return err;
  return jit_->lookup(**library, entry);
}

llvm::Expected<std::string> FunctionCache::emitAll(llvm::Module &module) {
  if (auto err = storePending())
    return err;
  auto tm = createTargetMachine(opts_);
  if (!tm)
    return tm.takeError();
  return emitMachineCode(module, **tm, FileKind::Object);
}

llvm::Expected<void *> FunctionCache::link(llvm::Module &module, const std::string &entry,
                                           const std::string &modelKey) {
  auto rest = emitAll(module);
  if (!rest)
    return rest.takeError();
  if (disk_ && !modelKey.empty())
    disk_->store(indexKey(modelKey), indexPayload(keys_, *rest), DiskCache::Kind::Index);
  return addModel(*rest, entry);
}

llvm::Expected<std::optional<void *>> FunctionCache::linkIndexed(const std::string &modelKey,
                                                                 const std::string &entry) {
  report_ = {};
  pending_.clear();
  auto payload = disk_ ? disk_->load(indexKey(modelKey), DiskCache::Kind::Index) : std::nullopt;
  auto index = payload ? parseIndex(*payload) : std::nullopt;
  if (!index)
    return std::nullopt;
  for (const std::string &key : index->first) {
    ++report_.functions;
    if (compiled_.count(key)) {
      ++report_.reused;
      continue;
    }
    auto object = disk_->load(key);
    if (!object) { // evicted or damaged: the caller compiles the model (and indexes it again)
      report_ = {};
      pending_.clear();
      return std::nullopt;
    }
    ++report_.loaded;
    Pending p;
    p.key = key;
    p.name = "mtl.fn." + key;
    p.object = std::move(*object);
    p.fromDisk = true;
    pending_.push_back(std::move(p));
  }
  report_.indexed = true;
  auto address = addModel(index->second, entry);
  if (!address)
    return address.takeError();
  return *address;
}

llvm::Expected<std::vector<std::string>> FunctionCache::objects(llvm::Module &module) {
  if (report_.reused > 0)
    return failure("objects() needs a function cache that has compiled nothing before");
  auto rest = emitAll(module);
  if (!rest)
    return rest.takeError();
  std::vector<std::string> out;
  for (Pending &p : pending_)
    out.push_back(std::move(p.object));
  out.push_back(std::move(*rest));
  pending_.clear();
  return out;
}

} // namespace mtl::backend

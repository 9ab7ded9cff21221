// DiskCache.h: compiled functions kept on disk between runs, keyed by content.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace mtl::backend {

/// What a DiskCache did since it was opened.
struct DiskCacheStats {
  int hits = 0;    ///< entries read back and verified
  int misses = 0;  ///< keys with no entry
  int corrupt = 0; ///< entries that failed verification (removed; the caller recompiles)
  int stored = 0;  ///< entries written
  int evicted = 0; ///< entries removed to keep the cache under its size bound
};

/// A directory of object files, one per key, and of model indexes (see
/// FunctionCache::linkIndexed), shared by every mtlc process of the user. Entries live under
/// `root/VERSION/`, where VERSION names the mtlc version, the LLVM version and a hash of the
/// sources that turn IR into machine code (Optimize.cpp, Emit.cpp, Target.cpp), so another compiler
/// never reads them. Each entry carries a magic, its length and a SHA-1 of its bytes: a truncated
/// or corrupt entry is a miss, and is removed; so is one that is not a regular file (a FIFO, a
/// link to a device), which is never read. Writes go to a temporary file that is renamed into
/// place, so concurrent runs never see half an entry. Problems with the directory itself (not
/// writable, full disk) make the cache a no-op, never an error: it only saves time.
class DiskCache {
public:
  /// `version` defaults to versionTag(); tests pass another to check isolation.
  DiskCache(std::string root, uint64_t maxBytes, std::string version = versionTag());

  /// The directory it was made with.
  const std::string &root() const { return root_; }

  /// What an entry holds, which names its file: KEY.o for a function's object
  /// code, KEY.index for a model's index.
  enum class Kind { Object, Index };

  /// The verified bytes stored under `key`, or nothing.
  std::optional<std::string> load(const std::string &key, Kind kind = Kind::Object);
  /// Stores `bytes` under `key` (best effort).
  void store(const std::string &key, const std::string &bytes, Kind kind = Kind::Object);
  /// Removes the least recently used entries (of every version folder,
  /// `mtlc-*`, directly under the root, and nothing else under it) until
  /// the total is at most the size bound.
  void trim();

  /// The directory this cache's entries are in.
  const std::string &directory() const { return dir_; }
  const DiskCacheStats &stats() const { return stats_; }

  /// mtlc version, LLVM version and machine-code sources' hash, as a directory name.
  static std::string versionTag();
  /// $MTLC_CACHE_DIR, else $XDG_CACHE_HOME/mtlc, else $HOME/.cache/mtlc;
  /// empty when none of these is set.
  static std::string defaultRoot();
  /// $MTLC_CACHE_MAX_MB in bytes, else 1 GiB.
  static uint64_t defaultMaxBytes();

private:
  std::string entryPath(const std::string &key, Kind kind) const;

  std::string root_, dir_;
  uint64_t maxBytes_;
  DiskCacheStats stats_;
};

} // namespace mtl::backend

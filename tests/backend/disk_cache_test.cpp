// disk_cache_test.cpp: entries round-trip, are verified, are isolated by version, and are bounded.
#include "backend/DiskCache.h"

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <sys/stat.h>

namespace mtl::backend {
namespace {
namespace fs = std::filesystem;

// An empty cache root of the test's own.
std::string freshRoot() {
  std::string root = ::testing::TempDir() + "mtl_disk_cache_" +
                     ::testing::UnitTest::GetInstance()->current_test_info()->name();
  fs::remove_all(root);
  return root;
}

TEST(DiskCache, StoresAndLoadsBytes) {
  DiskCache cache(freshRoot(), 1 << 20);
  EXPECT_FALSE(cache.load("k1"));
  std::string bytes("obj\0with\0zeros", 14);
  cache.store("k1", bytes);
  auto back = cache.load("k1");
  ASSERT_TRUE(back);
  EXPECT_EQ(*back, bytes);
  EXPECT_EQ(cache.stats().hits, 1);
  EXPECT_EQ(cache.stats().misses, 1);
  EXPECT_EQ(cache.stats().stored, 1);
  // Another process of the same version sees it.
  DiskCache again(cache.directory().substr(0, cache.directory().rfind('/')), 1 << 20);
  EXPECT_EQ(again.load("k1").value_or(""), bytes);
}

TEST(DiskCache, AnotherVersionSeesNothing) {
  std::string root = freshRoot();
  DiskCache v1(root, 1 << 20, "mtlc-test-1");
  v1.store("k", "machine code");
  DiskCache v2(root, 1 << 20, "mtlc-test-2");
  EXPECT_FALSE(v2.load("k"));
  EXPECT_EQ(DiskCache(root, 1 << 20, "mtlc-test-1").load("k").value_or(""), "machine code");
}

TEST(DiskCache, TruncatedOrAlteredEntriesAreMissesAndRemoved) {
  DiskCache cache(freshRoot(), 1 << 20);
  cache.store("short", std::string(100, 'a'));
  cache.store("flipped", std::string(100, 'b'));
  std::string shortPath = cache.directory() + "/short.o";
  std::string flippedPath = cache.directory() + "/flipped.o";
  fs::resize_file(shortPath, 60);
  {
    std::fstream f(flippedPath, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(80);
    f.put('c');
  }
  EXPECT_FALSE(cache.load("short"));
  EXPECT_FALSE(cache.load("flipped"));
  EXPECT_EQ(cache.stats().corrupt, 2);
  EXPECT_FALSE(fs::exists(shortPath));
  EXPECT_FALSE(fs::exists(flippedPath));
  // A file that is not an entry at all.
  std::ofstream(cache.directory() + "/junk.o") << "not a cache entry";
  EXPECT_FALSE(cache.load("junk"));
  EXPECT_EQ(cache.stats().corrupt, 3);
  // Stored again, it loads.
  cache.store("short", std::string(100, 'a'));
  EXPECT_EQ(cache.load("short").value_or(""), std::string(100, 'a'));
}

TEST(DiskCache, TrimRemovesTheLeastRecentlyUsed) {
  std::string root = freshRoot();
  // Entries of 1000 bytes plus a 36-byte header; room for two.
  DiskCache cache(root, 2100);
  auto age = [&](const std::string &key, int minutes) {
    fs::last_write_time(cache.directory() + "/" + key + ".o",
                        fs::file_time_type::clock::now() - std::chrono::minutes(minutes));
  };
  cache.store("old", std::string(1000, 'o'));
  cache.store("used", std::string(1000, 'u'));
  cache.store("new", std::string(1000, 'n'));
  age("old", 30);
  age("used", 20);
  age("new", 10);
  ASSERT_TRUE(cache.load("used")); // a hit makes it the most recent
  cache.trim();
  EXPECT_EQ(cache.stats().evicted, 1);
  EXPECT_FALSE(fs::exists(cache.directory() + "/old.o"));
  EXPECT_TRUE(cache.load("used"));
  EXPECT_TRUE(cache.load("new"));
}

TEST(DiskCache, TrimRemovesTemporaryFilesOfDeadWriters) {
  DiskCache cache(freshRoot(), 1 << 20);
  cache.store("k", "x");
  std::string stale = cache.directory() + "/a.o.tmp.1.0";
  std::string fresh = cache.directory() + "/b.o.tmp.2.0";
  std::ofstream(stale) << "half";
  std::ofstream(fresh) << "half";
  fs::last_write_time(stale, fs::file_time_type::clock::now() - std::chrono::hours(2));
  cache.trim();
  EXPECT_FALSE(fs::exists(stale));
  EXPECT_TRUE(fs::exists(fresh)); // it may still be renamed into place
}

TEST(DiskCache, TrimRemovesNothingButItsOwnEntries) {
  // A root shared with other work (MTLC_CACHE_DIR=$HOME, a project folder).
  std::string root = freshRoot();
  DiskCache cache(root, 0);
  cache.store("k", "x");
  for (const std::string &foreign :
       {root + "/build/main.o", root + "/notes.index", root + "/other/old.o"}) {
    fs::create_directories(fs::path(foreign).parent_path());
    std::ofstream(foreign) << "the user's";
  }
  cache.trim();
  EXPECT_EQ(cache.stats().evicted, 1);
  EXPECT_FALSE(fs::exists(cache.directory() + "/k.o"));
  for (const char *foreign : {"/build/main.o", "/notes.index", "/other/old.o"})
    EXPECT_TRUE(fs::exists(root + foreign)) << foreign;
}

TEST(DiskCache, AnEntryThatIsNotARegularFileIsAMissNotAHang) {
  // Opening a FIFO blocks until a writer comes, and /dev/zero never ends.
  DiskCache cache(freshRoot(), 1 << 20);
  cache.store("k", "x");
  const std::string fifo = cache.directory() + "/fifo.o", zero = cache.directory() + "/zero.o";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0644), 0);
  fs::create_symlink("/dev/zero", zero);
  EXPECT_FALSE(cache.load("fifo"));
  EXPECT_FALSE(cache.load("zero"));
  EXPECT_EQ(cache.stats().corrupt, 2);
  EXPECT_FALSE(fs::exists(fs::symlink_status(fifo)));
  EXPECT_FALSE(fs::exists(fs::symlink_status(zero)));
  EXPECT_EQ(cache.load("k").value_or(""), "x");
}

TEST(DiskCache, AnUnwritableRootIsANoOp) {
  DiskCache cache("/proc/mtl-no-such-dir", 1 << 20);
  cache.store("k", "bytes");
  EXPECT_EQ(cache.stats().stored, 0);
  EXPECT_FALSE(cache.load("k"));
  cache.trim();
}

TEST(DiskCache, VersionTagNamesCompilerAndLlvm) {
  std::string tag = DiskCache::versionTag();
  EXPECT_EQ(tag.rfind("mtlc-", 0), 0u) << tag;
  EXPECT_NE(tag.find("-llvm-"), std::string::npos) << tag;
}

} // namespace
} // namespace mtl::backend

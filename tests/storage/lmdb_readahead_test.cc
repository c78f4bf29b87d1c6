// tests/storage/lmdb_readahead_test.cc: lmdb_store::readahead and the page counts recovery
// decides it with — on an empty, a small and a multi-window data file; the byte bound; and
// that the whole advised range (not just the kernel's first read-ahead window) reaches the
// page cache. Residency is checked with mincore(2) and a bound that only turns a hang into a
// failure: WILLNEED is asynchronous, and no figure here depends on timing.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "storage/lmdb_store.h"
#include "storage/record.h"
#include "tests/storage/temp_dir.h"

namespace warrant::storage {
namespace {

using testing::temp_dir;

std::unique_ptr<lmdb_store> open_store(const std::string& path) {
  lmdb_options options;
  options.path = path;
  options.map_size_bytes = 256ull << 20;
  return lmdb_store::open(options);
}

// Appends `count` log records of `value_bytes` each, `per_txn` per transaction.
void fill_log(lmdb_store& s, std::uint64_t count, std::size_t value_bytes, std::uint64_t per_txn) {
  const std::string payload(value_bytes, 'r');
  for (std::uint64_t seq = 1; seq <= count;) {
    write_txn* txn = nullptr;
    ASSERT_EQ(s.begin_write(txn), errc::ok);
    for (std::uint64_t i = 0; i < per_txn && seq <= count; ++i, ++seq) {
      ASSERT_EQ(txn->append(table::log, be64_key(seq), encode_record(record_type::log_key_created, payload)), errc::ok);
    }
    ASSERT_EQ(s.commit(), errc::ok);
  }
}

std::size_t page_bytes() { return static_cast<std::size_t>(::sysconf(_SC_PAGESIZE)); }

// Drops data.mdb from the page cache (its pages are clean: every commit synced).
void evict(const std::string& dir) {
  const int fd = ::open((dir + "/data.mdb").c_str(), O_RDONLY | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  ::fdatasync(fd);
  ::posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
  ::close(fd);
}

// How many of the first `bytes` of data.mdb are in the page cache, in OS pages.
std::size_t resident_pages(const std::string& dir, std::size_t bytes) {
  const int fd = ::open((dir + "/data.mdb").c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  void* map = ::mmap(nullptr, bytes, PROT_READ, MAP_SHARED, fd, 0);
  ::close(fd);
  if (map == MAP_FAILED) return 0;
  std::vector<unsigned char> vec((bytes + page_bytes() - 1) / page_bytes());
  std::size_t n = 0;
  if (::mincore(map, bytes, vec.data()) == 0) {
    for (unsigned char v : vec) n += v & 1;
  }
  ::munmap(map, bytes);
  return n;
}

bool eventually_resident(const std::string& dir, std::size_t bytes) {
  const std::size_t want = bytes / page_bytes();
  for (int i = 0; i < 20'000; ++i) {
    if (resident_pages(dir, bytes) >= want) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return resident_pages(dir, bytes) >= want;
}

std::uint64_t count_log(lmdb_store& s) {
  lmdb_store::reader r(s);
  std::uint64_t n = 0;
  EXPECT_EQ(r.scan(table::log, {}, [&](std::string_view, std::string_view) { return ++n, true; }), errc::ok);
  return n;
}

TEST(LmdbReadahead, DefaultBoundIsHalfOfPhysicalMemory) {
  const auto ram = static_cast<std::size_t>(::sysconf(_SC_PHYS_PAGES)) * page_bytes();
  EXPECT_EQ(lmdb_store::readahead_bytes_default(), ram / 2);
}

TEST(LmdbReadahead, EmptyEnvironmentReadsItsFewPages) {
  temp_dir dir;
  auto s = open_store(dir.path());
  const std::size_t used = s->used_pages() * s->stats().page_size;
  EXPECT_GT(used, 0u);  // the meta pages and the tables' roots
  EXPECT_LT(used, lmdb_store::readahead_step_bytes);
  EXPECT_EQ(s->readahead(lmdb_store::readahead_bytes_default()), used);
  EXPECT_EQ(s->readahead(0), 0u);
  lmdb_store::reader r(*s);
  EXPECT_EQ(r.pages(table::log), 0u);
  EXPECT_EQ(r.entries(table::log), 0u);
}

TEST(LmdbReadahead, SmallFileIsReadWholeAndStaysReadable) {
  temp_dir dir;
  auto s = open_store(dir.path());
  fill_log(*s, 200, 100, 50);
  const std::size_t used = s->used_pages() * s->stats().page_size;
  EXPECT_EQ(s->readahead(1ull << 40), used);
  EXPECT_EQ(count_log(*s), 200u);
  lmdb_store::reader r(*s);
  EXPECT_GT(r.pages(table::log), 0u);
  EXPECT_LE(r.pages(table::log), s->used_pages());
}

// Many read-ahead windows: the bound is honoured to the byte, and every page of the advised
// range ends up cached — a single WILLNEED for the whole range would cache only its first
// window (the kernel drops the rest), which is why readahead goes in steps.
TEST(LmdbReadahead, LargeFileIsReadInStepsUpToTheBound) {
  temp_dir dir;
  {
    auto s = open_store(dir.path());
    fill_log(*s, 40'000, 200, 10'000);  // ~10 MiB: ~80 read-ahead steps
  }
  auto s = open_store(dir.path());
  const std::size_t used = s->used_pages() * s->stats().page_size;
  ASSERT_GT(used, 40 * lmdb_store::readahead_step_bytes);

  const std::size_t bound = 3 * lmdb_store::readahead_step_bytes + 12'345;  // not a step multiple
  evict(dir.path());
  EXPECT_EQ(s->readahead(bound), bound);

  evict(dir.path());
  EXPECT_EQ(s->readahead(lmdb_store::readahead_bytes_default()), used);
  EXPECT_TRUE(eventually_resident(dir.path(), used)) << resident_pages(dir.path(), used) << " of "
                                                     << used / page_bytes() << " pages cached";
  EXPECT_EQ(count_log(*s), 40'000u);
  lmdb_store::reader r(*s);
  EXPECT_GE(r.pages(table::log) * 16, s->used_pages());  // the log is most of the file
  EXPECT_LT(r.pages(table::workspaces) * 16, s->used_pages());
}

}  // namespace
}  // namespace warrant::storage

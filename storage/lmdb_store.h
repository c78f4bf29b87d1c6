// storage/lmdb_store.h: the LMDB environment in the data directory.
//
// One environment, one named database per `table`. Writes go through the `store` interface
// and belong to the writer thread alone. Reads may come from any thread through short-lived
// `reader`s (MDB_NOTLS: a read transaction is not bound to its thread's TLS slot, so a shard
// may reuse one handle with reset/renew); nobody keeps a read transaction open across requests,
// so LMDB can always reuse freed pages.
//
// Commits are synchronous (no MDB_NOSYNC): when `commit` returns ok the data is on disk.
// `commit_lazy` sets MDB_NOMETASYNC for its commit (mdb_env_set_flags, which LMDB allows at
// any time; only the writer thread commits): the data pages are flushed, the meta page only
// written, and the next synchronous commit's fdatasync or `sync` (mdb_env_sync) flushes it.
// The map size is fixed at open (--map-size-mb); a full map fails the commit with `map_full`
// (surfaced as 503 STORAGE_FULL) rather than growing under the readers' feet.
//
// MDB_NORDAHEAD makes LMDB map the file MADV_RANDOM: right for serving lookups, but a scan of
// a cold file then faults it in one 4 KiB page at a time, at the disk's random-read rate (a
// 10-million-record log: 20-26 s). Start-up and offline scans call `readahead` first, which
// streams the used part of data.mdb into the page cache at the disk's sequential rate.
#pragma once

#include <lmdb.h>

#include <array>
#include <functional>
#include <memory>
#include <string>

#include "storage/store.h"

namespace warrant::storage {

struct lmdb_options {
  std::string path;                            // a directory (data.mdb, lock.mdb inside)
  std::size_t map_size_bytes = 64ull << 30;    // virtual; the file grows as pages are written
  unsigned max_readers = 512;
};

struct lmdb_stats {
  std::size_t map_size_bytes = 0;
  std::size_t used_bytes = 0;  // pages in use × page size
  std::size_t page_size = 0;
  std::array<std::size_t, table_count> entries{};
  std::uint64_t last_log_sequence = 0;
};

class lmdb_store final : public store {
 public:
  // Opens (creating if needed) and clears stale reader slots. Throws std::runtime_error.
  static std::unique_ptr<lmdb_store> open(const lmdb_options& options, int* stale_readers_cleared = nullptr);
  ~lmdb_store() override;

  errc begin_write(write_txn*& txn) override;
  errc commit() override;
  errc commit_lazy() override;
  errc sync() override;
  void abort() override;
  std::uint64_t last_log_sequence() override;

  // A read-only snapshot. Views are valid until the reader is destroyed or reset.
  class reader {
   public:
    explicit reader(lmdb_store& store);
    ~reader();
    reader(const reader&) = delete;
    reader& operator=(const reader&) = delete;
    std::optional<std::string_view> get(table t, std::string_view key);
    // Calls f(key, value) from `from` (inclusive; empty = first) until f returns false.
    errc scan(table t, std::string_view from, const std::function<bool(std::string_view, std::string_view)>& f);
    std::optional<std::pair<std::string_view, std::string_view>> last(table t);
    std::size_t entries(table t);
    // Pages (branch, leaf and overflow) the table occupies in this snapshot.
    std::size_t pages(table t);
    lmdb_store& owner() { return _store; }

   private:
    lmdb_store& _store;
    MDB_txn* _txn = nullptr;
  };

  // Any thread; meant for start-up and offline scans (recovery, warrantctl verify). Asks the
  // kernel to read the used part of data.mdb, at most its first `bytes_max` bytes, into the
  // page cache: posix_fadvise(POSIX_FADV_WILLNEED) in `readahead_step_bytes` steps, in file
  // order. Returns once the reads are queued; the device queue throttles the loop, so it takes
  // about as long as reading that much sequentially. Advisory: pages may be evicted again under
  // memory pressure, and an error ends it early. Returns the bytes advised.
  std::size_t readahead(std::size_t bytes_max);
  // The bound recovery uses: half of physical memory, so read-ahead never displaces much more
  // than it can keep.
  static std::size_t readahead_bytes_default();
  // The kernel drops whatever a single WILLNEED asks beyond the device's read-ahead window
  // (max(read_ahead_kb, max_sectors_kb); 128 KiB by default): hence steps of that size.
  static constexpr std::size_t readahead_step_bytes = 128 << 10;
  // Pages of data.mdb in use (the last page number + 1), as `reader::pages` counts them.
  std::size_t used_pages();

  lmdb_stats stats();
  // Consistent copy of the environment into directory `dest` (compacted). Safe while writing.
  void copy_to(const std::string& dest);
  MDB_env* env() { return _env; }
  MDB_dbi dbi(table t) const { return _dbis[static_cast<std::size_t>(t)]; }

 private:
  lmdb_store() = default;
  class lmdb_write_txn;
  errc commit_with_meta_sync(bool meta_sync);

  MDB_env* _env = nullptr;
  std::array<MDB_dbi, table_count> _dbis{};
  std::unique_ptr<lmdb_write_txn> _write;
  bool _meta_nosync = false;  // MDB_NOMETASYNC is set on _env
};

errc errc_from_mdb(int rc);

}  // namespace warrant::storage

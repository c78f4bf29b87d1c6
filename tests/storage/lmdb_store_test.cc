// tests/storage/lmdb_store_test.cc: the LMDB environment behind `store`, its readers, stats,
// backup copies, reopening, lazy commits and syncs, and a full map.
#include "storage/lmdb_store.h"

#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "storage/record.h"
#include "tests/storage/temp_dir.h"

namespace warrant::storage {
namespace {

using testing::temp_dir;

std::unique_ptr<lmdb_store> open_store(const std::string& path, std::size_t map_size_bytes = 64ull << 20) {
  lmdb_options options;
  options.path = path;
  options.map_size_bytes = map_size_bytes;
  return lmdb_store::open(options);
}

// Appends log records [from, to] in one committed transaction.
void append_log(lmdb_store& s, std::uint64_t from, std::uint64_t to) {
  write_txn* txn = nullptr;
  ASSERT_EQ(s.begin_write(txn), errc::ok);
  for (std::uint64_t seq = from; seq <= to; ++seq) {
    ASSERT_EQ(txn->append(table::log, be64_key(seq), encode_record(record_type::log_key_created, std::to_string(seq))),
              errc::ok);
  }
  ASSERT_EQ(s.commit(), errc::ok);
}

std::vector<std::uint64_t> scan_log(lmdb_store& s, std::string_view from) {
  std::vector<std::uint64_t> seen;
  lmdb_store::reader r(s);
  EXPECT_EQ(r.scan(table::log, from,
                   [&](std::string_view key, std::string_view) {
                     seen.push_back(be64_value(key));
                     return true;
                   }),
            errc::ok);
  return seen;
}

std::vector<std::uint64_t> range(std::uint64_t from, std::uint64_t to) {
  std::vector<std::uint64_t> v;
  for (std::uint64_t i = from; i <= to; ++i) v.push_back(i);
  return v;
}

TEST(LmdbStore, TableNamesAreTheOnDiskNames) {
  EXPECT_EQ(table_name(table::log), "log");
  EXPECT_EQ(table_name(table::meta), "meta");
  EXPECT_EQ(table_name(table::workspaces), "workspaces");
  EXPECT_EQ(table_name(table::api_keys), "api_keys");
  EXPECT_EQ(table_name(table::idempotency), "idempotency");
}

TEST(LmdbStore, MdbCodesMapToErrc) {
  EXPECT_EQ(errc_from_mdb(MDB_SUCCESS), errc::ok);
  EXPECT_EQ(errc_from_mdb(MDB_NOTFOUND), errc::not_found);
  EXPECT_EQ(errc_from_mdb(MDB_KEYEXIST), errc::exists);
  EXPECT_EQ(errc_from_mdb(MDB_MAP_FULL), errc::map_full);
  EXPECT_EQ(errc_from_mdb(MDB_CORRUPTED), errc::corrupt);
  EXPECT_EQ(errc_from_mdb(MDB_PAGE_NOTFOUND), errc::corrupt);
  EXPECT_EQ(errc_from_mdb(EIO), errc::io_error);
  EXPECT_EQ(errc_from_mdb(ENOSPC), errc::io_error);
}

TEST(LmdbStore, OpenCreatesAnEmptyEnvironment) {
  temp_dir dir;
  const std::string path = dir.sub("nested/env");
  auto s = open_store(path);
  EXPECT_TRUE(std::filesystem::exists(path + "/data.mdb"));
  const lmdb_stats st = s->stats();
  EXPECT_EQ(st.map_size_bytes, 64ull << 20);
  EXPECT_GT(st.page_size, 0u);
  EXPECT_GT(st.used_bytes, 0u);
  EXPECT_LE(st.used_bytes, st.map_size_bytes);
  for (const std::size_t n : st.entries) EXPECT_EQ(n, 0u);
  EXPECT_EQ(st.last_log_sequence, 0u);
  EXPECT_EQ(s->last_log_sequence(), 0u);
  lmdb_store::reader r(*s);
  EXPECT_FALSE(r.last(table::log).has_value());
  EXPECT_FALSE(r.get(table::meta, "missing").has_value());
}

TEST(LmdbStore, OpenOnAFileThrows) {
  temp_dir dir;
  const std::string file = dir.sub("not-a-dir");
  std::ofstream(file) << "x";
  EXPECT_THROW(open_store(file), std::runtime_error);
}

TEST(LmdbStore, PutGetAppendInsideAWriteTxn) {
  temp_dir dir;
  auto s = open_store(dir.path());
  write_txn* txn = nullptr;
  ASSERT_EQ(s->begin_write(txn), errc::ok);
  ASSERT_NE(txn, nullptr);
  EXPECT_FALSE(txn->get(table::workspaces, "w1").has_value());
  ASSERT_EQ(txn->put(table::workspaces, "w1", "first"), errc::ok);
  EXPECT_EQ(txn->get(table::workspaces, "w1"), "first");
  ASSERT_EQ(txn->put(table::workspaces, "w1", "second"), errc::ok);  // overwrite
  EXPECT_EQ(txn->get(table::workspaces, "w1"), "second");
  ASSERT_EQ(txn->append(table::log, be64_key(1), "one"), errc::ok);
  ASSERT_EQ(txn->append(table::log, be64_key(2), "two"), errc::ok);
  EXPECT_EQ(txn->get(table::log, be64_key(2)), "two");
  // Tables are separate namespaces.
  EXPECT_FALSE(txn->get(table::api_keys, "w1").has_value());
  ASSERT_EQ(s->commit(), errc::ok);

  lmdb_store::reader r(*s);
  EXPECT_EQ(r.get(table::workspaces, "w1"), "second");
  EXPECT_EQ(r.get(table::log, be64_key(1)), "one");
  EXPECT_EQ(r.entries(table::log), 2u);
}

TEST(LmdbStore, OneWriteTxnAtATime) {
  temp_dir dir;
  auto s = open_store(dir.path());
  write_txn* txn = nullptr;
  ASSERT_EQ(s->begin_write(txn), errc::ok);
  write_txn* second = nullptr;
  EXPECT_NE(s->begin_write(second), errc::ok);
  s->abort();
  EXPECT_EQ(s->begin_write(second), errc::ok);
  s->abort();
  s->abort();  // a second abort is harmless
}

TEST(LmdbStore, CommitIsVisibleToNewReadersOnly) {
  temp_dir dir;
  auto s = open_store(dir.path());
  lmdb_store::reader before(*s);
  write_txn* txn = nullptr;
  ASSERT_EQ(s->begin_write(txn), errc::ok);
  ASSERT_EQ(txn->put(table::meta, "k", "v"), errc::ok);
  {
    lmdb_store::reader during(*s);  // uncommitted writes are invisible
    EXPECT_FALSE(during.get(table::meta, "k").has_value());
  }
  ASSERT_EQ(s->commit(), errc::ok);
  EXPECT_FALSE(before.get(table::meta, "k").has_value());  // a snapshot stays a snapshot
  lmdb_store::reader after(*s);
  EXPECT_EQ(after.get(table::meta, "k"), "v");
}

TEST(LmdbStore, AbortDiscards) {
  temp_dir dir;
  auto s = open_store(dir.path());
  append_log(*s, 1, 3);
  write_txn* txn = nullptr;
  ASSERT_EQ(s->begin_write(txn), errc::ok);
  ASSERT_EQ(txn->append(table::log, be64_key(4), "four"), errc::ok);
  ASSERT_EQ(txn->put(table::meta, "k", "v"), errc::ok);
  ASSERT_EQ(txn->del(table::log, be64_key(1)), errc::ok);
  s->abort();
  lmdb_store::reader r(*s);
  EXPECT_FALSE(r.get(table::meta, "k").has_value());
  EXPECT_TRUE(r.get(table::log, be64_key(1)).has_value());
  EXPECT_EQ(r.entries(table::log), 3u);
  EXPECT_EQ(s->last_log_sequence(), 3u);
}

TEST(LmdbStore, DeleteRemovesAndMissingIsOk) {
  temp_dir dir;
  auto s = open_store(dir.path());
  write_txn* txn = nullptr;
  ASSERT_EQ(s->begin_write(txn), errc::ok);
  ASSERT_EQ(txn->put(table::api_keys, "a", "1"), errc::ok);
  ASSERT_EQ(txn->del(table::api_keys, "a"), errc::ok);
  EXPECT_FALSE(txn->get(table::api_keys, "a").has_value());
  EXPECT_EQ(txn->del(table::api_keys, "never"), errc::ok);
  ASSERT_EQ(s->commit(), errc::ok);
  lmdb_store::reader r(*s);
  EXPECT_EQ(r.entries(table::api_keys), 0u);
}

TEST(LmdbStore, InsertWritesOnlyAnAbsentKey) {
  temp_dir dir;
  auto s = open_store(dir.path());
  write_txn* txn = nullptr;
  ASSERT_EQ(s->begin_write(txn), errc::ok);
  EXPECT_EQ(txn->insert(table::events, "k", "first"), errc::ok);
  EXPECT_EQ(txn->insert(table::events, "k", "second"), errc::exists);  // nothing written
  EXPECT_EQ(txn->get(table::events, "k"), "first");
  ASSERT_EQ(s->commit(), errc::ok);
  ASSERT_EQ(s->begin_write(txn), errc::ok);
  EXPECT_EQ(txn->insert(table::events, "k", "third"), errc::exists);  // also once committed
  EXPECT_EQ(txn->insert(table::events, "l", "other"), errc::ok);
  ASSERT_EQ(s->commit(), errc::ok);
  lmdb_store::reader r(*s);
  EXPECT_EQ(r.entries(table::events), 2u);
}

TEST(LmdbStore, AppendWithANonIncreasingKeyFails) {
  temp_dir dir;
  auto s = open_store(dir.path());
  write_txn* txn = nullptr;
  ASSERT_EQ(s->begin_write(txn), errc::ok);
  ASSERT_EQ(txn->append(table::log, be64_key(5), "five"), errc::ok);
  EXPECT_EQ(txn->append(table::log, be64_key(5), "again"), errc::exists);
  EXPECT_EQ(txn->append(table::log, be64_key(3), "three"), errc::exists);
  // The refusal leaves the transaction usable.
  ASSERT_EQ(txn->append(table::log, be64_key(6), "six"), errc::ok);
  ASSERT_EQ(s->commit(), errc::ok);

  ASSERT_EQ(s->begin_write(txn), errc::ok);  // also against what is already committed
  EXPECT_EQ(txn->append(table::log, be64_key(4), "four"), errc::exists);
  EXPECT_EQ(txn->append(table::log, be64_key(6), "six"), errc::exists);
  ASSERT_EQ(txn->append(table::log, be64_key(7), "seven"), errc::ok);
  ASSERT_EQ(s->commit(), errc::ok);

  EXPECT_EQ(scan_log(*s, ""), (std::vector<std::uint64_t>{5, 6, 7}));
  lmdb_store::reader r(*s);
  EXPECT_EQ(r.get(table::log, be64_key(5)), "five");
}

TEST(LmdbStore, AppendOrPutTakesKeysInAnyOrder) {
  temp_dir dir;
  auto s = open_store(dir.path());
  write_txn* txn = nullptr;
  ASSERT_EQ(s->begin_write(txn), errc::ok);
  ASSERT_EQ(txn->append_or_put(table::decisions, "b", "1"), errc::ok);
  ASSERT_EQ(txn->append_or_put(table::decisions, "d", "2"), errc::ok);
  ASSERT_EQ(txn->append_or_put(table::decisions, "c", "3"), errc::ok) << "below the last key: put";
  ASSERT_EQ(s->commit(), errc::ok);
  ASSERT_EQ(s->begin_write(txn), errc::ok);  // also against what is already committed
  ASSERT_EQ(txn->append_or_put(table::decisions, "a", "4"), errc::ok);
  ASSERT_EQ(txn->append_or_put(table::decisions, "d", "5"), errc::ok) << "an equal key is replaced, as by put";
  ASSERT_EQ(txn->append_or_put(table::decisions, "e", "6"), errc::ok);
  ASSERT_EQ(s->commit(), errc::ok);
  lmdb_store::reader r(*s);
  std::string seen;
  ASSERT_EQ(r.scan(table::decisions, "",
                   [&](std::string_view key, std::string_view value) {
                     seen.append(key).append(value).push_back(' ');
                     return true;
                   }),
            errc::ok);
  EXPECT_EQ(seen, "a4 b1 c3 d5 e6 ");
}

TEST(LmdbStore, ScanFromAKey) {
  temp_dir dir;
  auto s = open_store(dir.path());
  write_txn* txn = nullptr;
  ASSERT_EQ(s->begin_write(txn), errc::ok);
  for (std::uint64_t seq = 10; seq <= 100; seq += 10) ASSERT_EQ(txn->append(table::log, be64_key(seq), "x"), errc::ok);
  ASSERT_EQ(s->commit(), errc::ok);

  EXPECT_EQ(scan_log(*s, ""), (std::vector<std::uint64_t>{10, 20, 30, 40, 50, 60, 70, 80, 90, 100}));
  EXPECT_EQ(scan_log(*s, be64_key(70)), (std::vector<std::uint64_t>{70, 80, 90, 100}));
  EXPECT_EQ(scan_log(*s, be64_key(71)), (std::vector<std::uint64_t>{80, 90, 100}));  // between keys
  EXPECT_EQ(scan_log(*s, be64_key(0)), (std::vector<std::uint64_t>{10, 20, 30, 40, 50, 60, 70, 80, 90, 100}));
  EXPECT_TRUE(scan_log(*s, be64_key(101)).empty());

  // The callback stops the scan.
  std::vector<std::uint64_t> seen;
  lmdb_store::reader r(*s);
  EXPECT_EQ(r.scan(table::log, be64_key(20),
                   [&](std::string_view key, std::string_view value) {
                     EXPECT_EQ(value, "x");
                     seen.push_back(be64_value(key));
                     return seen.size() < 3;
                   }),
            errc::ok);
  EXPECT_EQ(seen, (std::vector<std::uint64_t>{20, 30, 40}));
  // An empty table scans to nothing.
  int calls = 0;
  EXPECT_EQ(r.scan(table::idempotency, "", [&](auto, auto) { return ++calls, true; }), errc::ok);
  EXPECT_EQ(calls, 0);
}

TEST(LmdbStore, LastAndStats) {
  temp_dir dir;
  auto s = open_store(dir.path());
  append_log(*s, 1, 250);
  write_txn* txn = nullptr;
  ASSERT_EQ(s->begin_write(txn), errc::ok);
  for (int i = 0; i < 7; ++i) ASSERT_EQ(txn->put(table::workspaces, "w" + std::to_string(i), "ws"), errc::ok);
  for (int i = 0; i < 3; ++i) ASSERT_EQ(txn->put(table::api_keys, "k" + std::to_string(i), "key"), errc::ok);
  ASSERT_EQ(s->commit(), errc::ok);

  lmdb_store::reader r(*s);
  const auto last = r.last(table::log);
  ASSERT_TRUE(last.has_value());
  EXPECT_EQ(be64_value(last->first), 250u);
  decoded_record rec;
  ASSERT_EQ(decode_record(last->second, rec), decode_errc::ok);
  EXPECT_EQ(rec.payload, "250");
  const auto last_ws = r.last(table::workspaces);
  ASSERT_TRUE(last_ws.has_value());
  EXPECT_EQ(last_ws->first, "w6");

  const lmdb_stats st = s->stats();
  EXPECT_EQ(st.entries[static_cast<std::size_t>(table::log)], 250u);
  EXPECT_EQ(st.entries[static_cast<std::size_t>(table::workspaces)], 7u);
  EXPECT_EQ(st.entries[static_cast<std::size_t>(table::api_keys)], 3u);
  EXPECT_EQ(st.entries[static_cast<std::size_t>(table::meta)], 0u);
  EXPECT_EQ(st.entries[static_cast<std::size_t>(table::idempotency)], 0u);
  EXPECT_EQ(st.last_log_sequence, 250u);
  EXPECT_EQ(s->last_log_sequence(), 250u);
  EXPECT_GT(st.used_bytes, 250 * 16u);
  EXPECT_EQ(st.used_bytes % st.page_size, 0u);
}

void expect_sample_data(lmdb_store& s) {
  EXPECT_EQ(s.last_log_sequence(), 500u);
  EXPECT_EQ(scan_log(s, ""), range(1, 500));
  lmdb_store::reader r(s);
  EXPECT_EQ(r.get(table::workspaces, "acme"), "workspace-record");
  EXPECT_EQ(r.get(table::meta, "schema"), "1");
  for (std::uint64_t seq : {1ull, 250ull, 500ull}) {
    const auto v = r.get(table::log, be64_key(seq));
    ASSERT_TRUE(v.has_value());
    decoded_record rec;
    ASSERT_EQ(decode_record(*v, rec), decode_errc::ok);
    EXPECT_EQ(rec.payload, std::to_string(seq));
  }
}

void write_sample_data(lmdb_store& s) {
  append_log(s, 1, 300);
  append_log(s, 301, 500);
  write_txn* txn = nullptr;
  ASSERT_EQ(s.begin_write(txn), errc::ok);
  ASSERT_EQ(txn->put(table::workspaces, "acme", "workspace-record"), errc::ok);
  ASSERT_EQ(txn->put(table::meta, "schema", "1"), errc::ok);
  ASSERT_EQ(txn->put(table::meta, "scratch", std::string(10000, 's')), errc::ok);
  ASSERT_EQ(s.commit(), errc::ok);
  ASSERT_EQ(s.begin_write(txn), errc::ok);  // leaves freed pages for the compacting copy to drop
  ASSERT_EQ(txn->del(table::meta, "scratch"), errc::ok);
  ASSERT_EQ(s.commit(), errc::ok);
}

TEST(LmdbStore, ReopenKeepsData) {
  temp_dir dir;
  {
    auto s = open_store(dir.path());
    write_sample_data(*s);
  }
  auto s = open_store(dir.path());
  expect_sample_data(*s);
  append_log(*s, 501, 501);  // and appends continue after the reopened tail
  EXPECT_EQ(s->last_log_sequence(), 501u);
}

bool meta_sync_off(lmdb_store& s) {
  unsigned flags = 0;
  EXPECT_EQ(mdb_env_get_flags(s.env(), &flags), 0);
  return (flags & MDB_NOMETASYNC) != 0;
}

// One put into table decisions, committed lazily or not.
void put_decision(lmdb_store& s, std::string_view key, std::string_view value, bool lazy) {
  write_txn* txn = nullptr;
  ASSERT_EQ(s.begin_write(txn), errc::ok);
  ASSERT_EQ(txn->put(table::decisions, key, value), errc::ok);
  ASSERT_EQ(lazy ? s.commit_lazy() : s.commit(), errc::ok);
}

// A lazy commit leaves the meta page unflushed for that commit only: the next commit flushes
// it as always. Its data is visible at once and, since the page cache outlives the process,
// survives closing the environment without a sync. (A power cut is beyond a unit test; the
// decision-log crash test kills a real server.)
TEST(LmdbStore, ALazyCommitIsVisibleAndTheNextCommitIsSynchronousAgain) {
  temp_dir dir;
  {
    auto s = open_store(dir.path());
    put_decision(*s, "a", "1", true);
    EXPECT_TRUE(meta_sync_off(*s));
    EXPECT_EQ(lmdb_store::reader(*s).get(table::decisions, "a"), "1");
    put_decision(*s, "b", "2", false);
    EXPECT_FALSE(meta_sync_off(*s)) << "a synchronous commit after a lazy one";
    put_decision(*s, "c", "3", true);
    ASSERT_EQ(s->sync(), errc::ok);
    put_decision(*s, "d", "4", true);  // closed with no sync after it
  }
  auto s = open_store(dir.path());
  lmdb_store::reader r(*s);
  EXPECT_EQ(r.get(table::decisions, "a"), "1");
  EXPECT_EQ(r.get(table::decisions, "b"), "2");
  EXPECT_EQ(r.get(table::decisions, "c"), "3");
  EXPECT_EQ(r.get(table::decisions, "d"), "4");
}

TEST(LmdbStore, CopyToProducesAnEnvironmentWithTheSameData) {
  temp_dir dir;
  auto s = open_store(dir.sub("live"));
  write_sample_data(*s);
  s->copy_to(dir.sub("backup"));
  EXPECT_TRUE(std::filesystem::exists(dir.sub("backup/data.mdb")));
  EXPECT_LE(std::filesystem::file_size(dir.sub("backup/data.mdb")),
            std::filesystem::file_size(dir.sub("live/data.mdb")));
  auto copy = open_store(dir.sub("backup"));
  expect_sample_data(*copy);
  EXPECT_EQ(copy->stats().entries, s->stats().entries);
  // The copy is independent of the original.
  append_log(*s, 501, 510);
  EXPECT_EQ(copy->last_log_sequence(), 500u);
}

TEST(LmdbStore, CopyWhileAWriteTxnIsOpenSeesTheCommittedState) {
  temp_dir dir;
  auto s = open_store(dir.sub("live"));
  write_sample_data(*s);
  write_txn* txn = nullptr;
  ASSERT_EQ(s->begin_write(txn), errc::ok);
  ASSERT_EQ(txn->append(table::log, be64_key(501), encode_record(record_type::log_key_created, "501")), errc::ok);
  s->copy_to(dir.sub("backup"));
  ASSERT_EQ(s->commit(), errc::ok);
  auto copy = open_store(dir.sub("backup"));
  expect_sample_data(*copy);
}

TEST(LmdbStore, CopyIntoAnExistingEnvironmentThrows) {
  temp_dir dir;
  auto s = open_store(dir.sub("live"));
  append_log(*s, 1, 1);
  s->copy_to(dir.sub("backup"));
  EXPECT_THROW(s->copy_to(dir.sub("backup")), std::runtime_error);
}

// Writes 1 KiB values in transactions of 32 until the map refuses, on a put or at commit.
TEST(LmdbStore, FullMapGivesMapFullAndStaysUsable) {
  temp_dir dir;
  auto s = open_store(dir.path(), 1ull << 20);
  const std::string value(1024, 'v');
  std::uint64_t committed = 0;
  errc failure = errc::ok;
  for (int round = 0; round < 1000 && failure == errc::ok; ++round) {
    write_txn* txn = nullptr;
    ASSERT_EQ(s->begin_write(txn), errc::ok);
    std::uint64_t seq = committed;
    for (int i = 0; i < 32 && failure == errc::ok; ++i) {
      failure = txn->append(table::log, be64_key(++seq), value);
    }
    if (failure != errc::ok) {
      s->abort();
      break;
    }
    failure = s->commit();
    if (failure == errc::ok) committed = seq;
  }
  ASSERT_EQ(failure, errc::map_full);
  ASSERT_GT(committed, 0u);
  EXPECT_EQ(s->last_log_sequence(), committed);

  // A later, smaller transaction commits.
  write_txn* txn = nullptr;
  ASSERT_EQ(s->begin_write(txn), errc::ok);
  ASSERT_EQ(txn->put(table::meta, "after", "full"), errc::ok);
  ASSERT_EQ(s->commit(), errc::ok);
  {
    lmdb_store::reader r(*s);
    EXPECT_EQ(r.get(table::meta, "after"), "full");
    EXPECT_EQ(r.entries(table::log), committed);
  }
  s.reset();
  auto reopened = open_store(dir.path(), 1ull << 20);
  EXPECT_EQ(reopened->last_log_sequence(), committed);
}

// A reader on another thread always sees a committed prefix of the log: dense 1..n.
TEST(LmdbStore, ConcurrentReadersSeeCommittedPrefixes) {
  temp_dir dir;
  auto s = open_store(dir.path());
  constexpr std::uint64_t txns = 200;
  constexpr std::uint64_t per_txn = 10;
  std::atomic<bool> done{false};
  std::atomic<int> snapshots{0};
  std::thread reader_thread([&] {
    while (!done.load(std::memory_order_acquire) || snapshots.load() == 0) {
      lmdb_store::reader r(*s);
      const std::size_t n = r.entries(table::log);
      std::uint64_t expected = 1;
      bool dense = true;
      r.scan(table::log, "", [&](std::string_view key, std::string_view) {
        dense = dense && be64_value(key) == expected++;
        return true;
      });
      EXPECT_TRUE(dense);
      EXPECT_EQ(expected - 1, n);
      EXPECT_EQ(n % per_txn, 0u);
      snapshots.fetch_add(1);
    }
  });
  for (std::uint64_t t = 0; t < txns; ++t) append_log(*s, t * per_txn + 1, (t + 1) * per_txn);
  done.store(true, std::memory_order_release);
  reader_thread.join();
  EXPECT_GT(snapshots.load(), 0);
  EXPECT_EQ(s->last_log_sequence(), txns * per_txn);
}

}  // namespace
}  // namespace warrant::storage

// storage/store.h: what the writer needs from a storage engine, so a test can stand in.
//
// The writer thread is the only user of `store`: one write transaction at a time, opened by
// `begin_write`, ended by `commit` (synchronously durable when it returns ok), `commit_lazy`
// or `abort`.
//
// `commit_lazy` is for transactions nobody waits on (the decision log's): it flushes the
// transaction's pages but not the page that makes them current (LMDB's meta page), saving one
// of a commit's two disk flushes. The transaction is visible at once and the store stays
// consistent, but a crash of the machine (not of the process) before the next `commit` or
// `sync` may undo it. The next `commit`'s flush, or `sync`, makes it durable.
// `lmdb_store` is the real one; tests wrap it or replace it to inject short batches, EIO,
// ENOSPC and a full map.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace warrant::storage {

// The named databases. Values are on disk as names (table_name), never as numbers.
//   idempotency         stored responses of idempotent writes (engine/idempotency/record.h)
//   idempotency_expiry  be64 expiry + idempotency key: the sweeper's expiry-ordered index
//   test_writes         the test route family's records (--enable-test-routes only)
//   events              evidence events, `<workspace id> 0x00 <inverted event uuid>` (engine/evidence/event.h)
//   claims              evidence claims, `<identity namespace> 0x00 <inverted claim uuid>` (engine/evidence/claim.h)
//   decisions           the policy decision log (engine/evidence/decision_record.h)
enum class table : std::uint8_t { log, meta, workspaces, api_keys, idempotency, idempotency_expiry, test_writes,
                                 events, claims, decisions, agents, spawn_policies, audit };
inline constexpr std::size_t table_count = 13;
std::string_view table_name(table t);

enum class errc : std::uint8_t {
  ok,
  not_found,
  exists,
  map_full,     // the LMDB map is full: 503 STORAGE_FULL until an operator raises --map-size-mb
  io_error,     // EIO, ENOSPC, anything the disk said: 503 STORAGE_UNAVAILABLE
  corrupt,      // a record failed its checksum
  queue_full,   // the writer's queue is at its bound: 503 with Retry-After
  shutting_down,
};
std::string_view errc_name(errc e);

class write_txn {
 public:
  virtual ~write_txn() = default;
  // Views stay valid until the transaction ends or the same key is written.
  virtual std::optional<std::string_view> get(table t, std::string_view key) = 0;
  virtual errc put(table t, std::string_view key, std::string_view value) = 0;
  // `put` only when `key` is absent: errc::exists, nothing written, when it is present. One
  // lookup instead of a `get` then a `put` (a fresh id's record).
  virtual errc insert(table t, std::string_view key, std::string_view value) = 0;
  // Append at the end of an ordered table (keys must increase), e.g. the log.
  virtual errc append(table t, std::string_view key, std::string_view value) = 0;
  // `put` for keys that mostly come in increasing order but need not (time-ordered ids made
  // by several shards): appended at the end without a search when `key` is greater than every
  // key in the table, an ordinary `put` otherwise. Either way the table then maps key to value.
  virtual errc append_or_put(table t, std::string_view key, std::string_view value) = 0;
  virtual errc del(table t, std::string_view key) = 0;
};

class store {
 public:
  virtual ~store() = default;
  virtual errc begin_write(write_txn*& txn) = 0;
  virtual errc commit() = 0;
  virtual errc commit_lazy() = 0;
  // Makes every earlier `commit_lazy` durable.
  virtual errc sync() = 0;
  virtual void abort() = 0;
  // The highest log sequence committed so far (0 for an empty log).
  virtual std::uint64_t last_log_sequence() = 0;
};

}  // namespace warrant::storage

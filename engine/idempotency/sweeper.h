// engine/idempotency/sweeper.h: deleting expired stored responses, a small batch at a time.
//
// A thread of its own wakes every `interval_ms`, reads (short LMDB read transaction) up to
// `batch_max` entries of `idempotency_expiry` whose time has passed — the table is ordered by
// expiry, so they are its first keys — and submits ONE sweep command carrying those keys. The
// writer, in its normal group commit, deletes each entry and the record it names when the
// record still carries that expiry (a record rewritten since has a later expiry and its own
// entry, and stays). A full batch means more may be waiting: the next pass starts at once.
// No transaction is ever long: a sweep is at most `batch_max` deletions of two keys each.
//
// Nothing else depends on the sweeper: an expired record is ignored by lookups the moment it
// expires; sweeping only gives the space back. Start after the writer, stop before it.
//
// Threading: start/stop from the main thread; `sweep_once` from the sweeper thread (or a test,
// with the thread not started).
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>

#include "engine/idempotency/service.h"
#include "storage/lmdb_store.h"
#include "storage/writer.h"

namespace warrant::engine::idempotency {

struct sweeper_options {
  std::int64_t interval_ms = 1000;
  std::size_t batch_max = 256;
};

class sweeper {
 public:
  sweeper(storage::lmdb_store& store, storage::writer& writer, service& svc, const sweeper_options& options,
          std::function<std::int64_t()> clock_ms = {});
  ~sweeper();
  sweeper(const sweeper&) = delete;
  sweeper& operator=(const sweeper&) = delete;

  void start();
  void stop();

  // One pass at `now_ms`: deletes up to batch_max expired records (waiting for the commit).
  // Returns how many expiry entries the committed sweep removed (0 when none were due or the
  // writer refused or failed the command).
  std::size_t sweep_once(std::int64_t now_ms);

 private:
  void run();

  storage::lmdb_store& _store;
  storage::writer& _writer;
  service& _service;
  const sweeper_options _options;
  std::function<std::int64_t()> _clock_ms;

  std::mutex _mutex;
  std::condition_variable _wake;
  bool _stop = false;
  std::thread _thread;
};

}  // namespace warrant::engine::idempotency

// storage/writer.h: the single writer thread and its group commit.
//
// Shards submit `command`s (any thread, lock-free, bounded: a full queue refuses at once with
// `queue_full`, the caller answers 503 + Retry-After). The writer thread drains the queue,
// forms a batch bounded by `batch_commands_max` and `batch_apply_us_max`, applies every
// command in ONE write transaction, commits synchronously, then — in commit order — lets each
// applied command publish its changes to the in-memory indexes, and finally hands every
// command its outcome (`complete`), which usually posts the answer back to its shard.
//
// Waking whoever waits for a command is the costly part of completing it (a futex or eventfd
// wake-up, ~5 us of the writer's time each). A command may name a `completion_waker` (a
// producer thread, a shard): its `complete` then only records the outcome, and the writer
// wakes each distinct waker once per batch, after the `complete` of every command of the batch
// -- one wake-up per waiting thread per batch instead of one per command.
//
// Gathering: after committing a batch of n > 1 commands, the writer waits until n commands
// are queued again before starting the next, but no longer than `batch_gather_us_max` nor a
// quarter of that batch's commit time. Producers answered by the batch mostly come straight
// back (clients waiting for their ack); without the wait, the next batch would start with the
// first few of them and the rest would wait a whole commit, halving the batch size. The
// submit that brings the queue to n wakes the writer; when they do not come back, the cost
// is bounded by the quarter-commit. 0 turns it off.
//
// Lingering: a `lazy` command is durable work nobody waits on (the decision log's batches,
// whose answers have already gone out). While everything queued is lazy, the writer starts
// the next commit no sooner than `lazy_linger_us` after the previous one started, so that a
// stream of lazy commands shares a commit every `lazy_linger_us` instead of forcing one per
// commit time. Commits that take longer than that are not delayed at all: their
// batches are large already. The first submit of a command that is not lazy ends the wait at
// once, and the lazy ones ride along in its commit. A lazy command therefore waits at most
// `lazy_linger_us` longer than it would otherwise. 0 turns it off.
//
// A batch of lazy commands only is committed with `store::commit_lazy`: one disk flush instead
// of two, the commit not yet durable against a machine crash (a process crash loses nothing:
// the page cache outlives it). The next commit's flush makes it durable; when no command comes
// within `lazy_linger_us` after it, the writer calls `sync` (and at stop). So a lazy command
// is durable at most about one `lazy_linger_us` plus one commit after its own commit, and a
// steady stream of decisions costs one flush per commit instead of two.
//
// A failed commit (EIO, ENOSPC, full map) fails every command of the batch: none is
// acknowledged. The writer is then unhealthy (`healthy()` false: /readyz 503, writes 503
// STORAGE_UNAVAILABLE / STORAGE_FULL) until a later commit succeeds; while unhealthy and idle
// it probes the disk with an empty commit every `probe_interval_ms`.
//
// Threading: `submit`, `healthy`, `stats` from any thread; everything else is the writer
// thread's. Commands must validate before they write: a command that returns `rejected`
// from `apply` must not have written anything, because the batch's transaction is shared.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <string>
#include <thread>

#include "storage/record.h"
#include "storage/store.h"

namespace warrant::storage {

// Appends records to the log inside the batch's transaction, numbering them.
class log_appender {
 public:
  log_appender(write_txn& txn, std::uint64_t& next_sequence) : _txn(txn), _next(next_sequence) {}
  // Returns the sequence number given to the record, or 0 on a storage error (`error()`).
  std::uint64_t append(record_type type, std::string_view payload);
  errc error() const { return _error; }

 private:
  write_txn& _txn;
  std::uint64_t& _next;
  errc _error = errc::ok;
  std::string _scratch;
};

// Something that waits for commands' outcomes: a producer thread, a shard. The writer calls
// `wake` once per batch in which at least one command names it, after the `complete` of every
// command of that batch (including its own commands'), from the writer thread. A waker must
// outlive every command naming it until that wake-up has returned; the writer never touches it
// afterwards. Its links below are the writer thread's.
class completion_waker {
 public:
  virtual ~completion_waker() = default;
  virtual void wake() = 0;

 private:
  friend class writer;
  completion_waker* _next_to_wake = nullptr;
  bool _wake_queued = false;
};

enum class apply_status : std::uint8_t { applied, rejected };

enum class outcome : std::uint8_t {
  committed,    // applied and durable
  rejected,     // the command's own validation refused it; nothing was written
  unavailable,  // storage failed: nothing of the batch was written
  full,         // the LMDB map is full: nothing of the batch was written
};

class command {
 public:
  virtual ~command() = default;
  // Writer thread, inside the batch transaction. Validate against `txn` (which already holds
  // the effects of earlier commands of the batch), then write. A failed write needs no
  // handling here: the writer sees it and fails the whole batch.
  virtual apply_status apply(write_txn& txn, log_appender& log) = 0;
  // Writer thread, after a successful commit, in commit order.
  virtual void publish() {}
  // Writer thread, last call; the command may delete itself here. With a `waker`, only record
  // the outcome (and make it visible to the waiting thread): the wake-up comes after.
  virtual void complete(outcome result) = 0;

  completion_waker* waker = nullptr;  // optional; see completion_waker
  bool lazy = false;                  // nobody waits on it: may linger (see "Lingering")
  command* next_in_queue = nullptr;  // intrusive link, owned by the writer's queue
  apply_status verdict = apply_status::rejected;  // set by the writer from apply()
};

struct writer_options {
  std::size_t queue_commands_max = 65536;
  std::size_t batch_commands_max = 4096;
  std::int64_t batch_apply_us_max = 10'000;
  std::int64_t batch_gather_us_max = 1'000;  // see "Gathering" above; 0: never wait
  std::int64_t lazy_linger_us = 0;           // see "Lingering" above; 0: never wait
  std::int64_t probe_interval_ms = 500;
};

// Histogram bucket upper bounds; an implicit last bucket is +Inf.
inline constexpr std::array<std::uint64_t, 12> batch_size_bounds = {1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 4096};
inline constexpr std::array<std::uint64_t, 14> commit_latency_bounds_us = {
    100, 250, 500, 1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000, 500000, 1000000, 5000000};

struct writer_stats {
  std::uint64_t queue_depth = 0;
  std::uint64_t queue_rejections = 0;
  std::uint64_t commits = 0;
  std::uint64_t commit_failures = 0;
  std::uint64_t commands_committed = 0;
  std::uint64_t commands_rejected = 0;
  std::uint64_t commands_failed = 0;
  std::uint64_t last_sequence = 0;
  bool healthy = true;
  bool running = false;
  std::array<std::uint64_t, batch_size_bounds.size() + 1> batch_sizes{};
  std::array<std::uint64_t, commit_latency_bounds_us.size() + 1> commit_latency{};
  std::uint64_t commit_latency_sum_us = 0;
  // Publishing, the after_publish hook, completing and waking, summed over committed batches.
  std::uint64_t completion_sum_us = 0;
  // Gathering: waits, how many ended with the queue refilled (the others ran out their bound,
  // or stop() ended them), and the time spent waiting.
  std::uint64_t gathers = 0;
  std::uint64_t gather_refills = 0;
  std::uint64_t gather_sum_us = 0;
  // Lingering: waits for lazy commands, and the time spent in them.
  std::uint64_t lingers = 0;
  std::uint64_t linger_sum_us = 0;
  // Commits of lazy commands only (`store::commit_lazy`; included in `commits`), and the
  // syncs that made the last of them durable when no commit followed.
  std::uint64_t lazy_commits = 0;
  std::uint64_t syncs = 0;
  std::uint64_t sync_failures = 0;
};

class writer {
 public:
  writer(store& backing, const writer_options& options);
  ~writer();
  writer(const writer&) = delete;
  writer& operator=(const writer&) = delete;

  // Before start: called on the writer thread once per committed batch, after every
  // command's publish() and before any complete(): where indexes publish their new snapshot.
  void set_after_publish(std::function<void()> hook) { _after_publish = std::move(hook); }

  void start();
  // Processes everything already submitted, then stops the thread. Later submits get
  // `shutting_down`.
  void stop();

  // Any thread. On ok the writer owns the command until `complete`; otherwise the caller
  // keeps it (and answers 503).
  errc submit(command* c);

  bool healthy() const { return _healthy.load(std::memory_order_acquire); }
  bool running() const { return _running.load(std::memory_order_acquire); }
  writer_stats stats() const;

  // Writer thread (or before start): the sequence the next log record gets.
  std::uint64_t next_sequence() const { return _next_sequence; }

 private:
  void run();
  // After stop: waits out submits that passed the _accepting check, then processes the rest.
  void finish_queue();
  std::size_t drain(command*& head);
  void process(command* list);
  // Applies and commits one batch starting at `first`; returns the first command left out.
  command* commit_batch(command* first);
  // Completes [first, end) with `result`, or with each command's verdict when `result` is
  // committed, then wakes each distinct waker once.
  static void complete_all(command* first, command* end, outcome result);
  void probe();
  // Idle a linger after a lazy commit, and at stop: makes that commit durable.
  void sync_lazy_commits();
  void wait_for_work_us(std::int64_t timeout_us);  // returns at once when <= 0
  // After a committed batch of n > 1: waits (bounded) until n commands are queued.
  void gather();
  // While only lazy commands are queued: waits until lazy_linger_us after the last commit began.
  void linger();
  void wake();

  store& _store;
  const writer_options _options;
  std::function<void()> _after_publish;
  std::uint64_t _next_sequence = 1;

  alignas(64) std::atomic<command*> _head{nullptr};
  alignas(64) std::atomic<std::size_t> _depth{0};
  // 0 running; sleep_idle: any submit wakes it; sleep_gathering: the submit that brings the
  // queue to _gather_target does; sleep_lingering: any submit of a command that is not lazy.
  std::atomic<std::uint32_t> _sleeping{0};
  std::atomic<std::size_t> _gather_target{0};
  std::atomic<std::size_t> _eager_depth{0};  // queued commands that are not lazy
  // Writer thread: the last committed batch, which gather() waits to see again.
  std::size_t _last_batch_commands = 0;
  std::int64_t _last_commit_us = 0;
  std::int64_t _last_commit_start_us = std::numeric_limits<std::int64_t>::min() / 2;  // none yet
  bool _unsynced = false;  // the last successful commit was lazy; no sync since
  std::atomic<bool> _stop{false};
  std::atomic<bool> _accepting{true};
  std::atomic<std::uint32_t> _submitting{0};  // submits between the _accepting check and the push
  std::atomic<bool> _healthy{true};
  std::atomic<bool> _running{false};

  // Written by the writer thread only; read by stats() with relaxed loads.
  std::atomic<std::uint64_t> _queue_rejections{0};
  std::atomic<std::uint64_t> _commits{0};
  std::atomic<std::uint64_t> _commit_failures{0};
  std::atomic<std::uint64_t> _committed{0};
  std::atomic<std::uint64_t> _rejected{0};
  std::atomic<std::uint64_t> _failed{0};
  std::atomic<std::uint64_t> _last_sequence{0};
  std::array<std::atomic<std::uint64_t>, batch_size_bounds.size() + 1> _batch_sizes{};
  std::array<std::atomic<std::uint64_t>, commit_latency_bounds_us.size() + 1> _commit_latency{};
  std::atomic<std::uint64_t> _commit_latency_sum_us{0};
  std::atomic<std::uint64_t> _completion_sum_us{0};
  std::atomic<std::uint64_t> _gathers{0};
  std::atomic<std::uint64_t> _gather_refills{0};
  std::atomic<std::uint64_t> _gather_sum_us{0};
  std::atomic<std::uint64_t> _lingers{0};
  std::atomic<std::uint64_t> _linger_sum_us{0};
  std::atomic<std::uint64_t> _lazy_commits{0};
  std::atomic<std::uint64_t> _syncs{0};
  std::atomic<std::uint64_t> _sync_failures{0};

  std::thread _thread;
};

}  // namespace warrant::storage

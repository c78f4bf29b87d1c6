#include "storage/writer.h"

#include <linux/futex.h>
#include <pthread.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cassert>
#include <chrono>
#include <ctime>

namespace warrant::storage {
namespace {

constexpr std::uint32_t sleep_idle = 1;
constexpr std::uint32_t sleep_gathering = 2;
constexpr std::uint32_t sleep_lingering = 3;
// Gathering waits at most this fraction of the last commit: its worst-case cost in latency.
constexpr std::int64_t gather_commit_divisor = 4;
// An idle, healthy writer wakes this often even when nobody submits (a stop() always wakes it).
constexpr std::int64_t idle_wait_us = 1'000'000;

long futex(std::atomic<std::uint32_t>& word, int op, std::uint32_t value, const timespec* timeout) {
  return syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&word), op, value, timeout, nullptr, 0);
}

std::int64_t now_us() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000 + ts.tv_nsec / 1000;
}

template <std::size_t N>
std::size_t bucket_of(const std::array<std::uint64_t, N>& bounds, std::uint64_t v) {
  std::size_t i = 0;
  while (i < N && v > bounds[i]) ++i;
  return i;
}

void bump(std::atomic<std::uint64_t>& c, std::uint64_t n = 1) {
  c.store(c.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
}

// Forwards to the real transaction and remembers the first failed write, so that one
// failing command fails the batch without every command checking every put.
class checked_txn final : public write_txn {
 public:
  explicit checked_txn(write_txn& inner) : _inner(inner) {}
  std::optional<std::string_view> get(table t, std::string_view key) override { return _inner.get(t, key); }
  errc put(table t, std::string_view key, std::string_view value) override { return note(_inner.put(t, key, value)); }
  // A key already present is an answer for the caller, not a failure of the batch.
  errc insert(table t, std::string_view key, std::string_view value) override {
    const errc e = _inner.insert(t, key, value);
    return e == errc::exists ? e : note(e);
  }
  errc append(table t, std::string_view key, std::string_view value) override {
    return note(_inner.append(t, key, value));
  }
  errc append_or_put(table t, std::string_view key, std::string_view value) override {
    return note(_inner.append_or_put(t, key, value));
  }
  errc del(table t, std::string_view key) override { return note(_inner.del(t, key)); }
  errc first_error() const { return _error; }

 private:
  errc note(errc e) {
    if (e != errc::ok && _error == errc::ok) _error = e;
    return e;
  }
  write_txn& _inner;
  errc _error = errc::ok;
};

}  // namespace

std::uint64_t log_appender::append(record_type type, std::string_view payload) {
  _scratch.clear();
  encode_record(_scratch, type, payload);
  const std::uint64_t seq = _next;
  const errc e = _txn.append(table::log, be64_key(seq), _scratch);
  if (e != errc::ok) {
    if (_error == errc::ok) _error = e;
    return 0;
  }
  ++_next;
  return seq;
}

writer::writer(store& backing, const writer_options& options) : _store(backing), _options(options) {
  _next_sequence = _store.last_log_sequence() + 1;
  _last_sequence.store(_next_sequence - 1, std::memory_order_relaxed);
}

writer::~writer() { stop(); }

void writer::start() {
  _running.store(true, std::memory_order_release);
  _thread = std::thread([this] { run(); });
}

void writer::stop() {
  _accepting.store(false, std::memory_order_release);
  _stop.store(true, std::memory_order_seq_cst);
  wake();
  if (_thread.joinable()) {
    _thread.join();
  } else {
    finish_queue();  // never started: what was accepted is still owed its completion
  }
  _running.store(false, std::memory_order_release);
}

errc writer::submit(command* c) {
  // Announce the submit before checking _accepting (both seq_cst): finish_queue, which runs
  // after _accepting is false, either sees this count or this submit sees _accepting false.
  _submitting.fetch_add(1, std::memory_order_seq_cst);
  if (!_accepting.load(std::memory_order_seq_cst)) {
    _submitting.fetch_sub(1, std::memory_order_release);
    return errc::shutting_down;
  }
  // seq_cst: gather() and linger() read the depths after announcing that they sleep, and this
  // submit reads _sleeping after counting itself; one of the two sees the other.
  const bool eager = !c->lazy;
  if (eager) _eager_depth.fetch_add(1, std::memory_order_seq_cst);
  const std::size_t depth = _depth.fetch_add(1, std::memory_order_seq_cst) + 1;
  if (depth > _options.queue_commands_max) {
    _depth.fetch_sub(1, std::memory_order_relaxed);
    if (eager) _eager_depth.fetch_sub(1, std::memory_order_relaxed);
    _queue_rejections.fetch_add(1, std::memory_order_relaxed);
    _submitting.fetch_sub(1, std::memory_order_release);
    return errc::queue_full;
  }
  command* head = _head.load(std::memory_order_relaxed);
  do {
    c->next_in_queue = head;
  } while (!_head.compare_exchange_weak(head, c, std::memory_order_seq_cst, std::memory_order_relaxed));
  const std::uint32_t sleeping = _sleeping.load(std::memory_order_seq_cst);
  if (sleeping == sleep_idle || (sleeping == sleep_lingering && eager) ||
      (sleeping == sleep_gathering && depth >= _gather_target.load(std::memory_order_relaxed))) {
    wake();
  }
  _submitting.fetch_sub(1, std::memory_order_release);
  return errc::ok;
}

void writer::wake() {
  _sleeping.store(0, std::memory_order_seq_cst);
  futex(_sleeping, FUTEX_WAKE_PRIVATE, 1, nullptr);
}

void writer::wait_for_work_us(std::int64_t timeout_us) {
  if (timeout_us <= 0) return;
  _sleeping.store(sleep_idle, std::memory_order_seq_cst);
  if (_head.load(std::memory_order_seq_cst) != nullptr || _stop.load(std::memory_order_seq_cst)) {
    _sleeping.store(0, std::memory_order_relaxed);
    return;
  }
  const timespec ts{timeout_us / 1'000'000, (timeout_us % 1'000'000) * 1000};
  // Returns at once if a producer already cleared the flag (EAGAIN).
  futex(_sleeping, FUTEX_WAIT_PRIVATE, sleep_idle, &ts);
  _sleeping.store(0, std::memory_order_relaxed);
}

void writer::gather() {
  const std::size_t want =
      std::min({_last_batch_commands, _options.batch_commands_max, _options.queue_commands_max});
  _last_batch_commands = 0;  // once per batch
  const std::int64_t budget_us = std::min(_options.batch_gather_us_max, _last_commit_us / gather_commit_divisor);
  if (want <= 1 || budget_us <= 0) return;
  auto refilled_or_stopping = [&] {
    return _depth.load(std::memory_order_seq_cst) >= want || _stop.load(std::memory_order_seq_cst);
  };
  if (refilled_or_stopping()) return;
  const std::int64_t start_us = now_us();
  _gather_target.store(want, std::memory_order_relaxed);
  bool refilled = false;
  while (true) {
    const std::int64_t left_us = start_us + budget_us - now_us();
    if (left_us <= 0) break;
    _sleeping.store(sleep_gathering, std::memory_order_seq_cst);  // publishes _gather_target too
    if (refilled_or_stopping()) {
      _sleeping.store(0, std::memory_order_relaxed);
      refilled = _depth.load(std::memory_order_relaxed) >= want;
      break;
    }
    const timespec ts{left_us / 1'000'000, (left_us % 1'000'000) * 1000};
    futex(_sleeping, FUTEX_WAIT_PRIVATE, sleep_gathering, &ts);
    _sleeping.store(0, std::memory_order_relaxed);
  }
  bump(_gathers);
  if (refilled) bump(_gather_refills);
  bump(_gather_sum_us, static_cast<std::uint64_t>(now_us() - start_us));
}

void writer::linger() {
  if (_options.lazy_linger_us <= 0) return;
  auto eager_or_stopping = [&] {
    return _eager_depth.load(std::memory_order_seq_cst) > 0 || _stop.load(std::memory_order_seq_cst);
  };
  if (_head.load(std::memory_order_acquire) == nullptr || eager_or_stopping()) return;
  const std::int64_t start_us = now_us();
  const std::int64_t until_us = _last_commit_start_us + _options.lazy_linger_us;
  if (until_us <= start_us) return;
  while (true) {
    const std::int64_t left_us = until_us - now_us();
    if (left_us <= 0) break;
    _sleeping.store(sleep_lingering, std::memory_order_seq_cst);
    if (eager_or_stopping()) {
      _sleeping.store(0, std::memory_order_relaxed);
      break;
    }
    const timespec ts{left_us / 1'000'000, (left_us % 1'000'000) * 1000};
    futex(_sleeping, FUTEX_WAIT_PRIVATE, sleep_lingering, &ts);
    _sleeping.store(0, std::memory_order_relaxed);
  }
  bump(_lingers);
  bump(_linger_sum_us, static_cast<std::uint64_t>(now_us() - start_us));
}

// Takes everything queued, oldest first. Returns how many.
std::size_t writer::drain(command*& head) {
  command* stack = _head.exchange(nullptr, std::memory_order_acquire);
  command* fifo = nullptr;
  std::size_t n = 0;
  std::size_t eager = 0;
  while (stack != nullptr) {  // the queue is a LIFO stack: reverse it
    command* next = stack->next_in_queue;
    if (!stack->lazy) ++eager;
    stack->next_in_queue = fifo;
    fifo = stack;
    stack = next;
    ++n;
  }
  head = fifo;
  _depth.fetch_sub(n, std::memory_order_relaxed);
  _eager_depth.fetch_sub(eager, std::memory_order_relaxed);
  return n;
}

void writer::run() {
  // Named so that per-thread CPU (top -H, /proc/PID/task, bench/evidence-load.sh) tells it
  // from the shards.
  pthread_setname_np(pthread_self(), "warrant-writer");
  while (true) {
    gather();
    linger();
    command* batch = nullptr;
    if (drain(batch) > 0) {
      process(batch);
      continue;
    }
    if (_stop.load(std::memory_order_seq_cst)) break;
    const bool unhealthy = !_healthy.load(std::memory_order_relaxed);
    if (_unsynced && !unhealthy) {
      // The next commit's flush would make the last lazy commit durable: wait a linger for
      // one, then sync. (Unhealthy, the probe's commit does it.)
      wait_for_work_us(_options.lazy_linger_us);
      if (_head.load(std::memory_order_acquire) == nullptr) sync_lazy_commits();
      continue;
    }
    wait_for_work_us(unhealthy ? _options.probe_interval_ms * 1000 : idle_wait_us);
    if (unhealthy && _head.load(std::memory_order_acquire) == nullptr) probe();
  }
  finish_queue();
}

void writer::finish_queue() {
  // A submit that saw _accepting true before stop() may still be pushing: the last drain must
  // come after it, or its command would never be completed.
  while (_submitting.load(std::memory_order_seq_cst) != 0) std::this_thread::yield();
  command* rest = nullptr;
  if (drain(rest) > 0) process(rest);
  sync_lazy_commits();
}

void writer::sync_lazy_commits() {
  if (!_unsynced) return;
  if (_store.sync() != errc::ok) {
    // Retried before the next wait; the probe's commit, once one succeeds, flushes it too.
    _healthy.store(false, std::memory_order_release);
    bump(_sync_failures);
    return;
  }
  _unsynced = false;
  bump(_syncs);
}

// Splits the drained commands into batches bounded by count and apply time.
void writer::process(command* list) {
  while (list != nullptr) list = commit_batch(list);
}

command* writer::commit_batch(command* first) {
  const std::int64_t start_us = now_us();
  const std::uint64_t sequence_before = _next_sequence;
  command* end = first;  // one past the last command of this batch
  std::size_t count = 0;
  bool lazy_only = true;
  write_txn* raw = nullptr;
  errc failure = _store.begin_write(raw);
  if (failure == errc::ok) {
    checked_txn txn(*raw);
    log_appender log(txn, _next_sequence);
    while (end != nullptr && count < _options.batch_commands_max &&
           (count == 0 || now_us() - start_us <= _options.batch_apply_us_max)) {
      end->verdict = end->apply(txn, log);
      lazy_only = lazy_only && end->lazy;
      end = end->next_in_queue;
      ++count;
      if (txn.first_error() != errc::ok || log.error() != errc::ok) break;
    }
    failure = txn.first_error() != errc::ok ? txn.first_error() : log.error();
    if (failure == errc::ok) {
      failure = lazy_only ? _store.commit_lazy() : _store.commit();
    } else {
      _store.abort();
    }
  } else {
    while (end != nullptr && count < _options.batch_commands_max) {
      end = end->next_in_queue;
      ++count;
    }
  }
  _last_commit_start_us = start_us;
  const auto commit_us = static_cast<std::uint64_t>(now_us() - start_us);
  bump(_batch_sizes[bucket_of(batch_size_bounds, count)]);
  bump(_commit_latency[bucket_of(commit_latency_bounds_us, commit_us)]);
  bump(_commit_latency_sum_us, commit_us);

  if (failure != errc::ok) {
    // Nothing of this batch is durable and nothing is acknowledged.
    _next_sequence = sequence_before;
    _healthy.store(false, std::memory_order_release);
    bump(_commit_failures);
    bump(_failed, count);
    complete_all(first, end, failure == errc::map_full ? outcome::full : outcome::unavailable);
    return end;
  }
  _healthy.store(true, std::memory_order_release);
  _last_batch_commands = count;
  _last_commit_us = static_cast<std::int64_t>(commit_us);
  _unsynced = lazy_only;  // a synchronous commit's flush covers the lazy commits before it
  bump(_commits);
  if (lazy_only) bump(_lazy_commits);
  _last_sequence.store(_next_sequence - 1, std::memory_order_relaxed);
  std::uint64_t applied = 0;
  for (command* c = first; c != end; c = c->next_in_queue) {
    if (c->verdict == apply_status::applied) {
      c->publish();
      ++applied;
    }
  }
  if (_after_publish) _after_publish();
  bump(_committed, applied);
  bump(_rejected, count - applied);
  complete_all(first, end, outcome::committed);
  bump(_completion_sum_us, static_cast<std::uint64_t>(now_us() - start_us) - commit_us);
  return end;
}

void writer::complete_all(command* first, command* end, outcome result) {
  completion_waker* to_wake = nullptr;
  for (command* c = first; c != end;) {
    // complete() may free the command: read what is needed first.
    command* next = c->next_in_queue;
    completion_waker* w = c->waker;
    outcome mine = result;
    if (result == outcome::committed && c->verdict != apply_status::applied) mine = outcome::rejected;
    c->complete(mine);
    if (w != nullptr && !w->_wake_queued) {
      w->_wake_queued = true;
      w->_next_to_wake = to_wake;
      to_wake = w;
    }
    c = next;
  }
  while (to_wake != nullptr) {
    // The waker's owner may free it once woken: unlink first.
    completion_waker* w = to_wake;
    to_wake = w->_next_to_wake;
    w->_next_to_wake = nullptr;
    w->_wake_queued = false;
    w->wake();
  }
}

void writer::probe() {
  write_txn* txn = nullptr;
  errc e = _store.begin_write(txn);
  if (e == errc::ok) {
    e = txn->put(table::meta, "probe", "1");
    e = e == errc::ok ? _store.commit() : (_store.abort(), e);
  }
  if (e == errc::ok) {
    _unsynced = false;
    _healthy.store(true, std::memory_order_release);
  }
}

writer_stats writer::stats() const {
  writer_stats s;
  s.queue_depth = _depth.load(std::memory_order_relaxed);
  s.queue_rejections = _queue_rejections.load(std::memory_order_relaxed);
  s.commits = _commits.load(std::memory_order_relaxed);
  s.commit_failures = _commit_failures.load(std::memory_order_relaxed);
  s.commands_committed = _committed.load(std::memory_order_relaxed);
  s.commands_rejected = _rejected.load(std::memory_order_relaxed);
  s.commands_failed = _failed.load(std::memory_order_relaxed);
  s.last_sequence = _last_sequence.load(std::memory_order_relaxed);
  s.healthy = healthy();
  s.running = running();
  for (std::size_t i = 0; i < s.batch_sizes.size(); ++i) s.batch_sizes[i] = _batch_sizes[i].load(std::memory_order_relaxed);
  for (std::size_t i = 0; i < s.commit_latency.size(); ++i) {
    s.commit_latency[i] = _commit_latency[i].load(std::memory_order_relaxed);
  }
  s.commit_latency_sum_us = _commit_latency_sum_us.load(std::memory_order_relaxed);
  s.completion_sum_us = _completion_sum_us.load(std::memory_order_relaxed);
  s.gathers = _gathers.load(std::memory_order_relaxed);
  s.gather_refills = _gather_refills.load(std::memory_order_relaxed);
  s.gather_sum_us = _gather_sum_us.load(std::memory_order_relaxed);
  s.lingers = _lingers.load(std::memory_order_relaxed);
  s.linger_sum_us = _linger_sum_us.load(std::memory_order_relaxed);
  s.lazy_commits = _lazy_commits.load(std::memory_order_relaxed);
  s.syncs = _syncs.load(std::memory_order_relaxed);
  s.sync_failures = _sync_failures.load(std::memory_order_relaxed);
  return s;
}

}  // namespace warrant::storage

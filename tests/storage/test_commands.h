// tests/storage/test_commands.h: writer commands that record what the writer did to them.
//
// A `test_command` appends one log record (and optionally claims a unique key in the
// workspaces table, refusing when the key is taken — validation against the batch's
// transaction). It records, on the writer thread, how often apply/publish/complete ran, its
// sequence, the outcome, and the order of publish/complete on a shared `event_clock`. The test
// thread reads those fields only after `completion_counter::wait_for` saw the completion (the
// counter's mutex orders the two threads).
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

#include "storage/record.h"
#include "storage/writer.h"

namespace warrant::storage::testing {

class completion_counter {
 public:
  void add() {
    std::lock_guard lock(_mutex);
    ++_count;
    _changed.notify_all();
  }
  // Waits until `target` completions were seen. The deadline only turns a hang (a lost
  // command) into a failure instead of a test timeout; no result depends on timing.
  bool wait_for(std::uint64_t target) {
    std::unique_lock lock(_mutex);
    return _changed.wait_for(lock, std::chrono::seconds(60), [&] { return _count >= target; });
  }
  std::uint64_t count() {
    std::lock_guard lock(_mutex);
    return _count;
  }

 private:
  std::mutex _mutex;
  std::condition_variable _changed;
  std::uint64_t _count = 0;
};

// Orders events on the writer thread (no synchronisation needed: one thread ticks it).
struct event_clock {
  std::uint64_t next = 1;
  std::uint64_t tick() { return next++; }
};

struct test_command_options {
  std::string payload = "payload";
  bool reject = false;     // refuse in apply, writing nothing
  std::string unique_key;  // claim workspaces[unique_key]; refuse if already taken
  std::chrono::microseconds apply_sleep{0};
  record_type type = record_type::log_workspace_created;
  // Asked in publish(): is this sequence durable already? (publish must follow the commit)
  std::function<bool(std::uint64_t)> is_committed;
};

class test_command final : public command {
 public:
  test_command(completion_counter& done, event_clock& clock, test_command_options options = {})
      : _done(done), _clock(clock), _options(std::move(options)) {}

  apply_status apply(write_txn& txn, log_appender& log) override {
    ++apply_calls;
    if (_options.apply_sleep.count() > 0) std::this_thread::sleep_for(_options.apply_sleep);
    if (_options.reject) return apply_status::rejected;
    if (!_options.unique_key.empty()) {
      if (txn.get(table::workspaces, _options.unique_key).has_value()) return apply_status::rejected;
      txn.put(table::workspaces, _options.unique_key, _options.payload);
    }
    sequence = log.append(_options.type, _options.payload);
    return apply_status::applied;
  }

  void publish() override {
    ++publish_calls;
    publish_order = _clock.tick();
    committed_at_publish = _options.is_committed ? _options.is_committed(sequence) : true;
  }

  void complete(outcome o) override {
    ++complete_calls;
    result = o;
    complete_order = _clock.tick();
    _done.add();  // last touch of the writer thread
  }

  const std::string& payload() const { return _options.payload; }

  int apply_calls = 0;
  int publish_calls = 0;
  int complete_calls = 0;
  std::uint64_t sequence = 0;  // given by the log in the last apply (meaningful if committed)
  std::uint64_t publish_order = 0;
  std::uint64_t complete_order = 0;
  bool committed_at_publish = false;
  outcome result = outcome::unavailable;

 private:
  completion_counter& _done;
  event_clock& _clock;
  test_command_options _options;
};

}  // namespace warrant::storage::testing

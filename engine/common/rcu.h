// engine/common/rcu.h: one value read lock-free by every shard, replaced by one writer.
//
// Readers (shard threads) call `read()` and may use the pointer until the end of their
// current reactor loop turn. The writer (the storage writer thread) `publish`es a new value;
// the old one is retired and freed by `reclaim()` once every shard has started a new loop
// turn since (or stopped), which proves no shard still holds it. The turn counters come from
// a sampler installed when the shards exist. Before that, retired values are freed at once
// (no readers: unit tests, start-up) unless `hold_until_sampler()` was called: then they are
// kept, and the first sample after the sampler arrives is their baseline. warrantd's cells
// hold, because its shards start (and may read) a moment before the sampler is installed.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

namespace warrant::engine {

struct reader_turn {
  std::uint64_t turns = 0;
  bool running = false;
};
using turn_sampler = std::function<void(std::vector<reader_turn>&)>;

template <typename T>
class rcu_cell {
 public:
  explicit rcu_cell(std::unique_ptr<T> initial) : _current(initial.release()) {}
  ~rcu_cell() {
    delete _current.load(std::memory_order_relaxed);
    delete _sampler.load(std::memory_order_relaxed);
    for (auto& r : _retired) delete r.value;
  }
  rcu_cell(const rcu_cell&) = delete;
  rcu_cell& operator=(const rcu_cell&) = delete;

  // Any reader thread.
  const T* read() const { return _current.load(std::memory_order_acquire); }

  // Any thread, once: installs the reader turn sampler (the writer may be running).
  void set_sampler(turn_sampler sampler) {
    auto* fresh = new turn_sampler(std::move(sampler));
    delete _sampler.exchange(fresh, std::memory_order_acq_rel);
  }

  // Start-up (before readers or the writer run): keep retired values until a sampler exists.
  void hold_until_sampler() { _hold.store(true, std::memory_order_relaxed); }

  // Writer thread only.
  void publish(std::unique_ptr<T> next) {
    T* old = _current.exchange(next.release(), std::memory_order_seq_cst);
    std::atomic_thread_fence(std::memory_order_seq_cst);  // pairs with the fence after a shard's turn count
    retired r{old, {}, false};
    r.baselined = sample(r.seen) || !_hold.load(std::memory_order_relaxed);
    _retired.push_back(std::move(r));
    reclaim();
  }
  void reclaim() {
    if (_retired.empty()) return;
    std::vector<reader_turn> now;
    const bool sampled = sample(now);
    std::size_t kept = 0;
    for (std::size_t i = 0; i < _retired.size(); ++i) {
      retired& r = _retired[i];
      if (!r.baselined && sampled) {  // retired before the sampler: its baseline is now
        r.seen = now;
        r.baselined = true;
      }
      if (r.baselined && passed(r.seen, now)) {
        delete r.value;
      } else {
        // Never self-move: moving a vector onto itself empties it (libstdc++), and an empty
        // `seen` would pass every later check, freeing a value a reader still holds.
        if (kept != i) _retired[kept] = std::move(r);
        ++kept;
      }
    }
    _retired.resize(kept);
  }
  std::size_t retired_count() const { return _retired.size(); }

 private:
  struct retired {
    T* value;
    std::vector<reader_turn> seen;
    bool baselined;  // false: retired while held and before the sampler; `seen` means nothing yet
  };
  // False when no sampler is installed yet.
  bool sample(std::vector<reader_turn>& out) const {
    out.clear();
    const turn_sampler* f = _sampler.load(std::memory_order_acquire);
    if (f != nullptr) (*f)(out);
    return f != nullptr;
  }
  static bool passed(const std::vector<reader_turn>& then, const std::vector<reader_turn>& now) {
    for (std::size_t i = 0; i < then.size() && i < now.size(); ++i) {
      if (now[i].running && then[i].running && now[i].turns == then[i].turns) return false;
    }
    return true;
  }

  std::atomic<T*> _current;
  std::atomic<turn_sampler*> _sampler{nullptr};
  std::atomic<bool> _hold{false};
  std::vector<retired> _retired;
};

}  // namespace warrant::engine

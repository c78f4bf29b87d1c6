// net/task_queue.h: bounded multi-producer, single-consumer queue of small tasks.
//
// How other threads (the storage writer, the main thread) hand work to a shard: a task is a
// function pointer and an argument, run later on the shard's own thread. The queue has a
// fixed capacity chosen at start-up (`try_push` fails when full: the producer decides between
// retrying and refusing the request), never allocates, and takes no lock. It is Dmitry
// Vyukov's bounded queue: each cell carries a sequence number that says whose turn it is.
#pragma once

#include <atomic>
#include <cassert>
#include <cstddef>
#include <cstdint>
#include <memory>

namespace warrant::net {

class shard;

struct shard_task {
  void (*run)(shard& target, void* arg) = nullptr;
  void* arg = nullptr;
};

class task_queue {
 public:
  // `capacity` is rounded up to a power of two.
  explicit task_queue(std::size_t capacity) {
    std::size_t cap = 2;
    while (cap < capacity) cap <<= 1;
    _mask = cap - 1;
    _cells = std::make_unique<cell[]>(cap);
    for (std::size_t i = 0; i < cap; ++i) _cells[i].sequence.store(i, std::memory_order_relaxed);
  }

  // Any thread. False when the queue is full.
  bool try_push(shard_task task) {
    std::size_t pos = _tail.load(std::memory_order_relaxed);
    while (true) {
      cell& c = _cells[pos & _mask];
      const std::size_t seq = c.sequence.load(std::memory_order_acquire);
      const auto diff = static_cast<std::intptr_t>(seq) - static_cast<std::intptr_t>(pos);
      if (diff == 0) {
        if (_tail.compare_exchange_weak(pos, pos + 1, std::memory_order_relaxed)) {
          c.task = task;
          c.sequence.store(pos + 1, std::memory_order_release);
          return true;
        }
      } else if (diff < 0) {
        return false;
      } else {
        pos = _tail.load(std::memory_order_relaxed);
      }
    }
  }

  // Consumer thread only. False when empty.
  bool try_pop(shard_task& out) {
    cell& c = _cells[_head & _mask];
    const std::size_t seq = c.sequence.load(std::memory_order_acquire);
    if (static_cast<std::intptr_t>(seq) - static_cast<std::intptr_t>(_head + 1) < 0) return false;
    out = c.task;
    c.sequence.store(_head + _mask + 1, std::memory_order_release);
    ++_head;
    return true;
  }

  std::size_t capacity() const { return _mask + 1; }

 private:
  struct alignas(64) cell {
    std::atomic<std::size_t> sequence{0};
    shard_task task;
  };
  std::unique_ptr<cell[]> _cells;
  std::size_t _mask = 0;
  alignas(64) std::atomic<std::size_t> _tail{0};
  alignas(64) std::size_t _head = 0;
};

}  // namespace warrant::net

// engine/common/activity_cell.h: "last seen" times that never move (an agent's lastActivityAt).
//
// WHY. An agent's lastActivityAt changes on every request its key makes; writing it to LMDB
// per request would put the writer on the request path. Instead each agent has an
// `activity_cell` (one atomic on its own cache line, handed out like limiter cells and kept
// across snapshot republishing): the guard touches it after admitting the agent's key, GET
// /v1/agents reads it, and any command that rewrites the agent record carries the value to
// disk (engine/agents/commands.cc). A touch stores only when the time moved on by at least
// `activity_resolution_ms`, so busy keys do not bounce the line between shards.
//
// Threading: `allocate` on the tenancy writer; touch/read from any thread (relaxed).
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>

namespace warrant::engine {

inline constexpr std::int64_t activity_resolution_ms = 1000;

struct alignas(64) activity_cell {
  std::atomic<std::int64_t> at_ms{0};  // 0: never

  void touch(std::int64_t now_ms) {
    if (now_ms - at_ms.load(std::memory_order_relaxed) >= activity_resolution_ms) {
      at_ms.store(now_ms, std::memory_order_relaxed);
    }
  }
  // Raises the time to `ms` (recovery, or a value read from disk); never lowers it.
  void raise(std::int64_t ms) {
    std::int64_t cur = at_ms.load(std::memory_order_relaxed);
    while (ms > cur && !at_ms.compare_exchange_weak(cur, ms, std::memory_order_relaxed)) {
    }
  }
  std::int64_t get() const { return at_ms.load(std::memory_order_relaxed); }
};
static_assert(sizeof(activity_cell) == 64);

class activity_cells {
 public:
  activity_cell* allocate() { return &_cells.emplace_back(); }
  std::size_t size() const { return _cells.size(); }

 private:
  std::deque<activity_cell> _cells;  // never relocates its elements
};

}  // namespace warrant::engine

// engine/common/limiter_cell.h: rate-limiter state that never moves.
//
// A `limiter_cell` is one atomic 64-bit "theoretical arrival time" (GCRA, engine/guard/
// rate_limit.h), alone on its cache line so that two busy workspaces served by different
// shards never share a line. `limiter_cells` hands out cells that stay at the same address
// for the life of the process: tenancy records (workspaces, keys with their own limit) point
// at their cell, and because every republished tenancy snapshot copies the pointer, not the
// state, the limiter state survives snapshot republishing and is shared exactly by all shards.
//
// Threading: `allocate` on the tenancy writer (the storage writer thread, or start-up);
// a cell's atomic from any thread (compare-and-swap on the shard threads).
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>

namespace warrant::engine {

struct alignas(64) limiter_cell {
  std::atomic<std::int64_t> tat_ns{0};  // 0: never used (a full quota)
};
static_assert(sizeof(limiter_cell) == 64);

class limiter_cells {
 public:
  // A fresh cell (full quota). Writer thread.
  limiter_cell* allocate() { return &_cells.emplace_back(); }
  std::size_t size() const { return _cells.size(); }

 private:
  std::deque<limiter_cell> _cells;  // a deque never relocates its elements when it grows
};

}  // namespace warrant::engine

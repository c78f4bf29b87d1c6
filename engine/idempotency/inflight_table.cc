#include "engine/idempotency/inflight_table.h"

#include <cassert>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>

namespace warrant::engine::idempotency {

inflight_table::inflight_table(std::size_t slots) : _slots(new std::atomic<std::uint64_t>[slots]), _mask(slots - 1) {
  if (slots < inflight_window || (slots & (slots - 1)) != 0) {
    throw std::invalid_argument("inflight_table: slots must be a power of two >= the window");
  }
  for (std::size_t i = 0; i < slots; ++i) _slots[i].store(0, std::memory_order_relaxed);
}

bool inflight_table::held_elsewhere(std::size_t home, std::size_t mine, std::uint64_t hash) {
  for (std::size_t i = 0; i < inflight_window; ++i) {
    if (i != mine && at(home, i).load(std::memory_order_seq_cst) == hash) return true;
  }
  return false;
}

inflight_table::claim_result inflight_table::try_claim(std::uint64_t hash) {
  assert(hash != 0);
  const std::size_t home = hash & _mask;
  for (int round = 0; round < inflight_claim_rounds_max; ++round) {
    std::size_t first_free = inflight_window;
    for (std::size_t i = 0; i < inflight_window; ++i) {
      const std::uint64_t v = at(home, i).load(std::memory_order_seq_cst);
      if (v == hash) return {claim_status::in_progress, 0};
      if (v == 0 && first_free == inflight_window) first_free = i;
    }
    if (first_free == inflight_window) return {claim_status::full, 0};
    std::size_t mine = inflight_window;
    for (std::size_t i = first_free; i < inflight_window && mine == inflight_window; ++i) {
      std::uint64_t expected = 0;
      if (at(home, i).compare_exchange_strong(expected, hash, std::memory_order_seq_cst)) {
        mine = i;
      } else if (expected == hash) {
        return {claim_status::in_progress, 0};
      }
    }
    if (mine == inflight_window) return {claim_status::full, 0};
    if (!held_elsewhere(home, mine, hash)) {
      return {claim_status::claimed, static_cast<std::uint32_t>((home + mine) & _mask)};
    }
    at(home, mine).store(0, std::memory_order_seq_cst);  // a concurrent claimer of the same scope: retry
  }
  return {claim_status::in_progress, 0};
}

void inflight_table::release(std::uint32_t slot, std::uint64_t hash) {
  std::atomic<std::uint64_t>& word = _slots[slot & _mask];
  // Only the holder releases, once: anything else would let two requests of one scope run.
  if (word.load(std::memory_order_relaxed) != hash) {
    std::fprintf(stderr, "warrantd: idempotency in-flight slot %u released by a non-holder\n", slot);
    std::abort();
  }
  word.store(0, std::memory_order_seq_cst);
}

std::size_t inflight_table::occupied() const {
  std::size_t n = 0;
  for (std::size_t i = 0; i <= _mask; ++i) n += _slots[i].load(std::memory_order_relaxed) != 0 ? 1 : 0;
  return n;
}

}  // namespace warrant::engine::idempotency

// engine/idempotency/inflight_table.h: which idempotent requests are executing right now.
//
// What it is for: the lock behind `409 IDEMPOTENCY_IN_PROGRESS`. Requests with the same key
// may reach different shards at the same instant; whoever claims the scope's slot first runs,
// the others are told to retry. The claim is held from before the stored-response lookup until
// the request's answer exists (its write committed or failed), then released — on every path:
// replay, 422, validation failure, storage failure, a refused submit, a vanished connection
// (`claim` releases in its destructor, and the write's command owns its claim).
//
// Structure: a fixed array of `inflight_slots` atomic 64-bit words, allocated once; a word is
// 0 (free) or the scope hash (fingerprint.h, never 0) of the request holding it. A scope may
// sit in any free word of its window of `inflight_window` words from `hash mod slots`.
// Claiming, all operations sequentially consistent:
//   1. a word of the window already holds the hash: in progress;
//   2. CAS a free word of the window from 0 to the hash (none free: full, answered 503);
//   3. look at the window again: if another word holds the same hash, a concurrent claimer
//      got in beside us; give the word back and start over (bounded, then: in progress).
// Two claimers of one hash both store before they look (3), so at least one sees the other:
// at most one of them keeps its claim. If both see each other, both retry; the loser of the
// next round sees the winner in step 1. Release is a plain store of 0. No lock, no allocation,
// no tombstones (a released word is free at once).
//
// Threading: any thread (shards claim; the writer thread may release a claim whose command it
// disposes of).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>

namespace warrant::engine::idempotency {

inline constexpr std::size_t inflight_slots = std::size_t{1} << 16;
inline constexpr std::size_t inflight_window = 32;
inline constexpr int inflight_claim_rounds_max = 8;
static_assert((inflight_slots & (inflight_slots - 1)) == 0, "slot count must be a power of two");
static_assert(inflight_window <= inflight_slots);

enum class claim_status : std::uint8_t { claimed, in_progress, full };

class inflight_table {
 public:
  explicit inflight_table(std::size_t slots = inflight_slots);
  inflight_table(const inflight_table&) = delete;
  inflight_table& operator=(const inflight_table&) = delete;

  struct claim_result {
    claim_status status = claim_status::full;
    std::uint32_t slot = 0;  // claimed only
  };
  claim_result try_claim(std::uint64_t hash);
  void release(std::uint32_t slot, std::uint64_t hash);

  // Words in use now (a scan; for /metrics and tests).
  std::size_t occupied() const;
  std::size_t capacity() const { return _mask + 1; }

 private:
  std::atomic<std::uint64_t>& at(std::size_t home, std::size_t i) { return _slots[(home + i) & _mask]; }
  bool held_elsewhere(std::size_t home, std::size_t mine, std::uint64_t hash);

  std::unique_ptr<std::atomic<std::uint64_t>[]> _slots;
  std::size_t _mask;
};

// A held claim; releases it when destroyed. Move-only.
class claim {
 public:
  claim() = default;
  claim(inflight_table& table, std::uint32_t slot, std::uint64_t hash) : _table(&table), _slot(slot), _hash(hash) {}
  claim(claim&& o) noexcept : _table(o._table), _slot(o._slot), _hash(o._hash) { o._table = nullptr; }
  claim& operator=(claim&& o) noexcept {
    if (this != &o) {
      reset();
      _table = o._table;
      _slot = o._slot;
      _hash = o._hash;
      o._table = nullptr;
    }
    return *this;
  }
  claim(const claim&) = delete;
  claim& operator=(const claim&) = delete;
  ~claim() { reset(); }

  bool held() const { return _table != nullptr; }
  void reset() {
    if (_table != nullptr) _table->release(_slot, _hash);
    _table = nullptr;
  }

 private:
  inflight_table* _table = nullptr;
  std::uint32_t _slot = 0;
  std::uint64_t _hash = 0;
};

}  // namespace warrant::engine::idempotency

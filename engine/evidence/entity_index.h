// engine/evidence/entity_index.h: every entity's history facts in memory, for O(1) lock-free
// lookups (GET /v1/history, POST /v1/policy/evaluate).
//
// OWNERSHIP AND CONCURRENCY. The storage writer thread is the only writer: commands update
// the index from their publish() (after their batch committed, so readers never see
// uncommitted state), and start-up recovery fills it before any reader exists. Shard threads
// (any thread) call `lookup`, which is lock-free, wait-free in the absence of a concurrent
// write to the same entity, and allocation-free.
//
// LAYOUT (docs/entity-index.md has the figures):
//   - entries: 104-byte `entity_entry`s in chunks of 16,384 that never move once allocated;
//     a fixed directory of chunk pointers (entities_max / chunk) finds entry i. Each entry
//     has its own seqlock: the writer makes the sequence odd, writes, makes it even; a reader
//     copies the fields and retries if the sequence was odd or changed. Every field a reader
//     copies is a relaxed atomic (no data race), the id is written once before the entry is
//     published and never again.
//   - slots: an open-addressing table (linear probing, power-of-two size, load ≤ 4/5) of
//     8-byte words `tag << 32 | (entry + 1)`, 0 = empty. The home slot is the id's first 8
//     bytes masked; `tag` is their low 32 bits, so a probe rarely touches a foreign entry and
//     growth rehashes from the slots alone. Entities are never removed, so probing needs no
//     tombstones. Growth builds a table twice the size, publishes it with one pointer store
//     (engine/common/rcu.h) and frees the old one once every shard has passed a loop turn;
//     entries stay where they are, so a reader on the old table still finds everything that
//     existed when it started.
//   - partners (distinct workspaces with counted events) are counted in the entry; the set
//     behind the count is the writer's: the first workspace ordinal inline in the entry, the
//     rest (an entity with two or more partners) in a side table. Readers never see it.
//   Per entity: 104 bytes of entry + 8 / load bytes of slot (10-20) ≈ 114-125 bytes, plus a
//   partly filled last chunk; `memory_bytes()` reports the total.
//
// LIMITS: `entities_max` (2^30) entities; `full()` tells a command to refuse a new entity
// before it writes (503) rather than overflow. Counters in an entry are 32-bit and saturate.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "engine/common/rcu.h"
#include "engine/evidence/claims.h"
#include "engine/evidence/entity_id.h"
#include "engine/evidence/tier.h"

namespace warrant::engine::evidence {

// What the index knows of one entity. Times are Unix ms; first/last_event_ms are 0 when the
// entity has no event (only claims).
struct entity_facts {
  std::uint64_t event_count = 0;
  counted_history history;
  claim_summary claims;
  std::int64_t first_event_ms = 0;
  std::int64_t last_event_ms = 0;
};

// One event's effect on its entity.
struct event_effect {
  std::uint32_t workspace_ordinal = 0;  // entity_index::workspace_ordinal of the submitter
  bool counts = false;                  // catalogue: counts toward tier volume
  std::int64_t occurred_at_ms = 0;
  std::int64_t received_at_ms = 0;
};

struct entity_entry {
  std::atomic<std::uint32_t> seq{0};  // odd while the writer writes
  std::atomic<std::uint32_t> partners{0};
  entity_id id{};  // written once, before the entry is published
  std::atomic<std::uint32_t> event_count{0};
  std::atomic<std::uint32_t> counted_events{0};
  std::atomic<std::int64_t> earliest_counted_ms{no_time_ms};
  std::atomic<std::int64_t> first_event_ms{0};
  std::atomic<std::int64_t> last_event_ms{0};
  std::atomic<std::int64_t> latest_upheld_ms{no_time_ms};
  std::array<std::atomic<std::uint32_t>, claim_state_count> claims{};
  std::uint32_t first_partner = 0;  // writer only: ordinal + 1 of the first partner; 0 none
};
static_assert(sizeof(entity_entry) == 104, "docs/entity-index.md documents a 104-byte entry");

class entity_index {
 public:
  static constexpr std::size_t chunk_entries = 16384;
  static constexpr std::size_t entities_max = std::size_t{1} << 30;  // slot tables < 2^32 slots
  static constexpr std::size_t initial_slots = 1024;
  static_assert((chunk_entries & (chunk_entries - 1)) == 0);
  static_assert(entities_max % chunk_entries == 0);

  entity_index();
  ~entity_index();
  entity_index(const entity_index&) = delete;
  entity_index& operator=(const entity_index&) = delete;

  // Any thread: lock-free, allocation-free. False (and `out` untouched) for an unknown entity.
  bool lookup(const entity_id& id, entity_facts& out) const;

  // Writer thread (or start-up, before readers). Each call is one seqlocked write.
  void add_event(const entity_id& id, const event_effect& e);
  // A claim in state `state` appears (filing: open; recovery: its current state, with the
  // time it was upheld when it was).
  void add_claim(const entity_id& id, claim_state state, std::int64_t upheld_at_ms = no_time_ms);
  // A legal transition of one of the entity's claims (claims.h), at `at_ms`.
  void transition_claim(const entity_id& id, claim_state from, claim_state to, std::int64_t at_ms);
  // The ordinal of a workspace (assigned on first use; writer thread).
  std::uint32_t workspace_ordinal(std::string_view workspace_id);
  // Whether `n` more entities would exceed entities_max.
  bool full(std::size_t n = 1) const { return _size + n > entities_max; }
  // Writer thread: hints the CPU to load the id's home slot (bulk rebuild: issue a few ahead).
  void prefetch(const entity_id& id) const;
  // Frees retired slot tables readers have left (writer thread, after each batch).
  void reclaim() { _slots.reclaim(); }
  void set_sampler(turn_sampler sampler) { _slots.set_sampler(std::move(sampler)); }
  // Start-up: keep retired values until the sampler is set (engine/common/rcu.h).
  void hold_until_sampler() { _slots.hold_until_sampler(); }

  // Any thread (approximate while the writer runs).
  std::size_t size() const { return _published_size.load(std::memory_order_relaxed); }
  std::size_t slot_count() const;
  // Writer thread (or start-up): entries (allocated chunks), slots, directory and the
  // writer's partner side table.
  std::size_t memory_bytes() const;
  // Writer thread: calls f(id, facts) for every entity (tests, verification).
  template <typename F>
  void for_each(F&& f) const;

 private:
  struct slot_table {
    explicit slot_table(std::size_t count);
    std::size_t mask;
    std::unique_ptr<std::atomic<std::uint64_t>[]> slots;
  };

  entity_entry* entry_at(std::uint32_t index) const;
  // Writer: the entry of `id` and its index, created (and published) if new.
  std::pair<entity_entry*, std::uint32_t> find_or_insert(const entity_id& id);
  void grow();
  static void read_entry(const entity_entry& e, entity_facts& out);
  // Writer: whether the ordinal is new for the entity's partner set (and records it).
  bool add_partner(std::uint32_t entry_index, entity_entry& e, std::uint32_t ordinal);

  std::unique_ptr<std::atomic<entity_entry*>[]> _chunks;  // entities_max / chunk_entries
  rcu_cell<slot_table> _slots;
  std::size_t _size = 0;  // writer
  std::atomic<std::size_t> _published_size{0};
  std::size_t _chunks_allocated = 0;  // writer
  std::atomic<std::size_t> _slot_count{0};
  struct name_hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  std::unordered_map<std::string, std::uint32_t, name_hash, std::equal_to<>> _ordinals;  // writer
  std::unordered_map<std::uint32_t, std::vector<std::uint32_t>> _partner_overflow;  // writer: entry → more ordinals
};

template <typename F>
void entity_index::for_each(F&& f) const {
  for (std::uint32_t i = 0; i < _size; ++i) {
    const entity_entry* e = entry_at(i);
    entity_facts facts;
    read_entry(*e, facts);
    f(e->id, facts);
  }
}

}  // namespace warrant::engine::evidence

#include "engine/evidence/entity_index.h"

#include <algorithm>
#include <cassert>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>

namespace warrant::engine::evidence {
namespace {

constexpr auto relaxed = std::memory_order_relaxed;

// Checked in every build: a broken invariant here would hand readers wrong facts.
void invariant(bool holds, const char* what) {
  if (holds) return;
  std::fprintf(stderr, "warrantd: entity index invariant broken: %s\n", what);
  std::abort();
}

std::uint64_t home_of(const entity_id& id) {
  std::uint64_t h = 0;
  std::memcpy(&h, id.data(), sizeof h);  // SHA-256 bytes: already uniform
  return h;
}

// The low 32 bits of the home word: a slot's tag alone gives its home in any table of up to
// 2^32 slots, so growth rehashes from the old slots without touching an entry.
std::uint32_t tag_of(const entity_id& id) { return static_cast<std::uint32_t>(home_of(id)); }
static_assert(entity_index::entities_max <= (std::size_t{1} << 31), "slot tables stay under 2^32 slots");

std::uint64_t slot_word(std::uint32_t tag, std::uint32_t entry_index) {  // tag << 32 | entry + 1
  return static_cast<std::uint64_t>(tag) << 32 | (static_cast<std::uint64_t>(entry_index) + 1);
}

void saturating_increment(std::atomic<std::uint32_t>& n) {
  const std::uint32_t v = n.load(relaxed);
  if (v != std::numeric_limits<std::uint32_t>::max()) n.store(v + 1, relaxed);
}

// The writer's side of an entry's seqlock: odd while the fields change.
class write_section {
 public:
  explicit write_section(entity_entry& e) : _e(e), _seq(e.seq.load(relaxed)) {
    invariant(_seq % 2 == 0, "an entry's sequence is even between writes (one writer)");
    _e.seq.store(_seq + 1, relaxed);
    std::atomic_thread_fence(std::memory_order_release);
  }
  ~write_section() { _e.seq.store(_seq + 2, std::memory_order_release); }
  write_section(const write_section&) = delete;
  write_section& operator=(const write_section&) = delete;

 private:
  entity_entry& _e;
  std::uint32_t _seq;
};

claim_summary load_claims(const entity_entry& e) {
  claim_summary s;
  for (std::size_t i = 0; i < claim_state_count; ++i) s.in_state[i] = e.claims[i].load(relaxed);
  s.latest_upheld_ms = e.latest_upheld_ms.load(relaxed);
  return s;
}

void store_claims(entity_entry& e, const claim_summary& s) {
  for (std::size_t i = 0; i < claim_state_count; ++i) e.claims[i].store(s.in_state[i], relaxed);
  e.latest_upheld_ms.store(s.latest_upheld_ms, relaxed);
}

}  // namespace

entity_index::slot_table::slot_table(std::size_t count)
    : mask(count - 1), slots(std::make_unique<std::atomic<std::uint64_t>[]>(count)) {
  assert((count & mask) == 0);
}

entity_index::entity_index()
    : _chunks(std::make_unique<std::atomic<entity_entry*>[]>(entities_max / chunk_entries)),
      _slots(std::make_unique<slot_table>(initial_slots)),
      _slot_count(initial_slots) {}

entity_index::~entity_index() {
  for (std::size_t c = 0; c < _chunks_allocated; ++c) delete[] _chunks[c].load(relaxed);
}

entity_entry* entity_index::entry_at(std::uint32_t index) const {
  entity_entry* chunk = _chunks[index / chunk_entries].load(std::memory_order_acquire);
  return chunk + index % chunk_entries;
}

void entity_index::read_entry(const entity_entry& e, entity_facts& out) {
  for (;;) {
    const std::uint32_t before = e.seq.load(std::memory_order_acquire);
    if (before % 2 != 0) continue;  // the writer is inside; it holds no lock and finishes soon
    out.event_count = e.event_count.load(relaxed);
    out.history.counted_events = e.counted_events.load(relaxed);
    out.history.earliest_counted_ms = e.earliest_counted_ms.load(relaxed);
    out.history.partners = e.partners.load(relaxed);
    out.first_event_ms = e.first_event_ms.load(relaxed);
    out.last_event_ms = e.last_event_ms.load(relaxed);
    out.claims = load_claims(e);
    std::atomic_thread_fence(std::memory_order_acquire);
    if (e.seq.load(relaxed) == before) return;
  }
}

bool entity_index::lookup(const entity_id& id, entity_facts& out) const {
  const slot_table* t = _slots.read();
  const std::uint32_t tag = tag_of(id);
  for (std::uint64_t i = home_of(id) & t->mask;; i = (i + 1) & t->mask) {
    const std::uint64_t w = t->slots[i].load(std::memory_order_acquire);
    if (w == 0) return false;
    if (static_cast<std::uint32_t>(w >> 32) != tag) continue;
    const entity_entry* e = entry_at(static_cast<std::uint32_t>(w) - 1);
    if (e->id == id) {
      read_entry(*e, out);
      return true;
    }
  }
}

std::pair<entity_entry*, std::uint32_t> entity_index::find_or_insert(const entity_id& id) {
  const std::uint32_t tag = tag_of(id);
  {
    const slot_table* t = _slots.read();
    for (std::uint64_t i = home_of(id) & t->mask;; i = (i + 1) & t->mask) {
      const std::uint64_t w = t->slots[i].load(relaxed);
      if (w == 0) break;
      if (static_cast<std::uint32_t>(w >> 32) != tag) continue;
      entity_entry* e = entry_at(static_cast<std::uint32_t>(w) - 1);
      if (e->id == id) return {e, static_cast<std::uint32_t>(w) - 1};
    }
  }
  // Commands refuse new entities with headroom to spare (evidence_routes.h); recovery of a
  // store beyond the limit stops here rather than overflow the directory.
  invariant(!full(), "entities_max reached");
  const auto index = static_cast<std::uint32_t>(_size);
  const std::size_t chunk = index / chunk_entries;
  if (chunk == _chunks_allocated) {
    _chunks[chunk].store(new entity_entry[chunk_entries], std::memory_order_release);
    ++_chunks_allocated;
  }
  entity_entry* e = entry_at(index);
  e->id = id;  // before the slot that publishes it (release below)
  if ((_size + 1) * 5 > slot_count() * 4) grow();
  const slot_table* t = _slots.read();
  std::uint64_t i = home_of(id) & t->mask;
  while (t->slots[i].load(relaxed) != 0) i = (i + 1) & t->mask;
  t->slots[i].store(slot_word(tag, index), std::memory_order_release);
  ++_size;
  _published_size.store(_size, relaxed);
  return {e, index};
}

void entity_index::grow() {
  const slot_table* old = _slots.read();
  const std::size_t count = slot_count() * 2;
  auto next = std::make_unique<slot_table>(count);
  // Old slots in order land in two nearly sequential streams of the new table (home i or
  // i + old size): a rehash at memory speed, no entry read.
  for (std::size_t j = 0; j <= old->mask; ++j) {
    const std::uint64_t w = old->slots[j].load(relaxed);
    if (w == 0) continue;
    std::uint64_t i = (w >> 32) & next->mask;
    while (next->slots[i].load(relaxed) != 0) i = (i + 1) & next->mask;
    next->slots[i].store(w, relaxed);
  }
  _slots.publish(std::move(next));  // seq_cst: readers that see it see its slots
  _slot_count.store(count, relaxed);
}

void entity_index::prefetch(const entity_id& id) const {
  const slot_table* t = _slots.read();
  __builtin_prefetch(&t->slots[home_of(id) & t->mask]);
}

std::size_t entity_index::slot_count() const { return _slot_count.load(relaxed); }

bool entity_index::add_partner(std::uint32_t entry_index, entity_entry& e, std::uint32_t ordinal) {
  if (e.first_partner == 0) {
    e.first_partner = ordinal + 1;
    return true;
  }
  if (e.first_partner == ordinal + 1) return false;
  std::vector<std::uint32_t>& more = _partner_overflow[entry_index];
  if (std::find(more.begin(), more.end(), ordinal) != more.end()) return false;
  more.push_back(ordinal);
  return true;
}

void entity_index::add_event(const entity_id& id, const event_effect& ev) {
  auto [e, index] = find_or_insert(id);
  const bool new_partner = ev.counts && add_partner(index, *e, ev.workspace_ordinal);
  write_section w(*e);
  if (e->event_count.load(relaxed) == 0) {
    e->first_event_ms.store(ev.occurred_at_ms, relaxed);
    e->last_event_ms.store(ev.occurred_at_ms, relaxed);
  } else {
    e->first_event_ms.store(std::min(e->first_event_ms.load(relaxed), ev.occurred_at_ms), relaxed);
    e->last_event_ms.store(std::max(e->last_event_ms.load(relaxed), ev.occurred_at_ms), relaxed);
  }
  saturating_increment(e->event_count);
  if (!ev.counts) return;
  saturating_increment(e->counted_events);
  const std::int64_t t = counted_event_time_ms(ev.occurred_at_ms, ev.received_at_ms);
  e->earliest_counted_ms.store(std::min(e->earliest_counted_ms.load(relaxed), t), relaxed);
  if (new_partner) saturating_increment(e->partners);
}

void entity_index::add_claim(const entity_id& id, claim_state state, std::int64_t upheld_at_ms) {
  entity_entry* e = find_or_insert(id).first;
  write_section w(*e);
  claim_summary s = load_claims(*e);
  ++s.in_state[static_cast<std::size_t>(state)];
  if (state == claim_state::upheld && upheld_at_ms != no_time_ms &&
      (s.latest_upheld_ms == no_time_ms || upheld_at_ms > s.latest_upheld_ms)) {
    s.latest_upheld_ms = upheld_at_ms;
  }
  store_claims(*e, s);
}

void entity_index::transition_claim(const entity_id& id, claim_state from, claim_state to, std::int64_t at_ms) {
  entity_entry* e = find_or_insert(id).first;
  write_section w(*e);
  claim_summary s = load_claims(*e);
  s.on_transition(from, to, at_ms);
  store_claims(*e, s);
}

std::uint32_t entity_index::workspace_ordinal(std::string_view workspace_id) {
  if (const auto it = _ordinals.find(workspace_id); it != _ordinals.end()) return it->second;  // no allocation
  const auto ordinal = static_cast<std::uint32_t>(_ordinals.size());
  _ordinals.emplace(std::string(workspace_id), ordinal);
  return ordinal;
}

std::size_t entity_index::memory_bytes() const {
  std::size_t overflow = 0;
  for (const auto& [index, more] : _partner_overflow) overflow += 48 + more.capacity() * sizeof(std::uint32_t);
  return _chunks_allocated * chunk_entries * sizeof(entity_entry) + slot_count() * sizeof(std::uint64_t) +
         (entities_max / chunk_entries) * sizeof(std::atomic<entity_entry*>) + overflow;
}

}  // namespace warrant::engine::evidence

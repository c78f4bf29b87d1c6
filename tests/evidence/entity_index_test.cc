// tests/evidence/entity_index_test.cc: engine/evidence/entity_index.* — facts per entity,
// partners, claims, growth, memory per entity, allocation-free lookups, and readers racing
// the writer (seqlock and RCU growth).
#include "engine/evidence/entity_index.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <random>
#include <thread>
#include <vector>

#include "tests/evidence/alloc_counter.h"

namespace warrant::engine::evidence {
namespace {

constexpr std::int64_t t0 = 1'780'000'000'000;

entity_id nth_entity(std::uint64_t n) { return compute_entity_id("ns", std::to_string(n)); }

event_effect counted(std::uint32_t ws, std::int64_t occurred, std::int64_t received = t0) {
  return {ws, true, occurred, received};
}

TEST(entity_index, UnknownEntityIsNotFound) {
  entity_index index;
  entity_facts facts;
  facts.event_count = 7;
  EXPECT_FALSE(index.lookup(nth_entity(1), facts));
  EXPECT_EQ(facts.event_count, 7u);  // untouched
}

TEST(entity_index, EventsAccumulateCountsTimesAndPartners) {
  entity_index index;
  const entity_id id = nth_entity(1);
  index.add_event(id, counted(0, t0 - 10 * ms_per_day));
  index.add_event(id, {0, false, t0 - 20 * ms_per_day, t0});  // does not count: no partner, no age
  index.add_event(id, counted(1, t0 + 60'000, t0));             // occurred after receipt: clamped
  index.add_event(id, counted(1, t0 - 5 * ms_per_day));
  index.add_event(id, {2, false, t0, t0});                      // a workspace with no counted event
  entity_facts f;
  ASSERT_TRUE(index.lookup(id, f));
  EXPECT_EQ(f.event_count, 5u);
  EXPECT_EQ(f.history.counted_events, 3u);
  EXPECT_EQ(f.history.partners, 2u);
  EXPECT_EQ(f.history.earliest_counted_ms, t0 - 10 * ms_per_day);
  EXPECT_EQ(f.first_event_ms, t0 - 20 * ms_per_day);
  EXPECT_EQ(f.last_event_ms, t0 + 60'000);
  EXPECT_EQ(index.size(), 1u);
}

TEST(entity_index, ClampsEarliestToReceipt) {
  entity_index index;
  index.add_event(nth_entity(1), counted(0, t0 + 120'000, t0));
  entity_facts f;
  ASSERT_TRUE(index.lookup(nth_entity(1), f));
  EXPECT_EQ(f.history.earliest_counted_ms, t0);
}

TEST(entity_index, PartnersBeyondTheInlineOneAreCountedOnce) {
  entity_index index;
  const entity_id id = nth_entity(9);
  for (std::uint32_t round = 0; round < 3; ++round) {
    for (std::uint32_t ws = 0; ws < 6; ++ws) index.add_event(id, counted(ws, t0));
  }
  entity_facts f;
  ASSERT_TRUE(index.lookup(id, f));
  EXPECT_EQ(f.history.partners, 6u);
  EXPECT_EQ(f.history.counted_events, 18u);
}

TEST(entity_index, WorkspaceOrdinalsAreStable) {
  entity_index index;
  const std::uint32_t a = index.workspace_ordinal("a");
  const std::uint32_t b = index.workspace_ordinal("b");
  EXPECT_NE(a, b);
  EXPECT_EQ(index.workspace_ordinal("a"), a);
}

TEST(entity_index, ClaimsFollowTheLifecycle) {
  entity_index index;
  const entity_id id = nth_entity(3);
  index.add_claim(id, claim_state::open);
  entity_facts f;
  ASSERT_TRUE(index.lookup(id, f));
  EXPECT_EQ(f.event_count, 0u);
  EXPECT_EQ(f.first_event_ms, 0);
  EXPECT_EQ(claim_status_at(f.claims, t0), claim_status::flagged);
  index.transition_claim(id, claim_state::open, claim_state::disputed, t0);
  ASSERT_TRUE(index.lookup(id, f));
  EXPECT_EQ(f.claims.count(claim_state::disputed), 1u);
  EXPECT_EQ(claim_status_at(f.claims, t0), claim_status::contested);
  index.transition_claim(id, claim_state::disputed, claim_state::upheld, t0);
  ASSERT_TRUE(index.lookup(id, f));
  EXPECT_EQ(f.claims.latest_upheld_ms, t0);
  EXPECT_EQ(claim_status_at(f.claims, t0 + 364 * ms_per_day), claim_status::flagged);
  EXPECT_EQ(claim_status_at(f.claims, t0 + 365 * ms_per_day), claim_status::clean);
  // Recovery's form: a claim in its current state.
  index.add_claim(id, claim_state::upheld, t0 + ms_per_day);
  ASSERT_TRUE(index.lookup(id, f));
  EXPECT_EQ(f.claims.count(claim_state::upheld), 2u);
  EXPECT_EQ(f.claims.latest_upheld_ms, t0 + ms_per_day);
}

TEST(entity_index, GrowsAndFindsEveryEntity) {
  entity_index index;
  constexpr std::uint64_t n = 100'000;
  for (std::uint64_t i = 0; i < n; ++i) index.add_event(nth_entity(i), counted(0, t0 + static_cast<std::int64_t>(i)));
  EXPECT_EQ(index.size(), n);
  EXPECT_GE(index.slot_count() * 4, n * 5);  // load <= 4/5
  for (std::uint64_t i = 0; i < n; ++i) {
    entity_facts f;
    ASSERT_TRUE(index.lookup(nth_entity(i), f)) << i;
    ASSERT_EQ(f.first_event_ms, t0 + static_cast<std::int64_t>(i));
  }
  entity_facts none;
  EXPECT_FALSE(index.lookup(nth_entity(n), none));
}

TEST(entity_index, LookupDoesNotAllocate) {
  entity_index index;
  for (std::uint64_t i = 0; i < 1000; ++i) index.add_event(nth_entity(i), counted(0, t0));
  const entity_id hit = nth_entity(500);
  const entity_id miss = nth_entity(5000);
  entity_facts f;
  bool found = false;
  const std::size_t allocations = test::count_allocations([&] {
    for (int i = 0; i < 1000; ++i) found = index.lookup(hit, f) && !index.lookup(miss, f);
  });
  EXPECT_TRUE(found);
  EXPECT_EQ(allocations, 0u);
}

// The memory target: at most 128 bytes per entity, measured on a million entities.
TEST(entity_index, AtMost128BytesPerEntity) {
  entity_index index;
  constexpr std::uint64_t n = 1'000'000;
  std::mt19937_64 rng(7);
  const auto start = std::chrono::steady_clock::now();
  for (std::uint64_t i = 0; i < n; ++i) {
    entity_id id;
    for (std::size_t w = 0; w < id.size(); w += 8) {
      const std::uint64_t r = rng();
      std::memcpy(id.data() + w, &r, 8);
    }
    index.add_event(id, counted(static_cast<std::uint32_t>(i % 3), t0));
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const double per_entity = static_cast<double>(index.memory_bytes()) / static_cast<double>(index.size());
  std::printf("entity index: %zu entities, %zu bytes, %.1f bytes/entity (entry %zu bytes), %zu slots; "
              "%.3f s to insert (%.0f entities/s)\n",
              index.size(), index.memory_bytes(), per_entity, sizeof(entity_entry), index.slot_count(), seconds,
              static_cast<double>(n) / seconds);
  RecordProperty("bytes_per_entity", std::to_string(per_entity));
  EXPECT_EQ(sizeof(entity_entry), 104u);
  EXPECT_LE(per_entity, 128.0);
}

// Readers on other threads while the writer adds events (seqlock) and new entities (growth,
// with the old slot table retired through RCU): every snapshot a reader copies is consistent —
// for the watched entities every event counts, so event_count == counted_events == partners
// count relation holds — and an entity once found is found forever after.
TEST(entity_index, ConcurrentReadersSeeConsistentFactsWhileTheWriterGrowsTheTable) {
  entity_index index;
  constexpr int readers = 3;
  std::array<std::atomic<std::uint64_t>, readers> turns{};
  std::array<std::atomic<bool>, readers> running{};
  for (auto& r : running) r.store(true);
  index.set_sampler([&](std::vector<reader_turn>& out) {
    out.clear();
    for (int i = 0; i < readers; ++i) out.push_back({turns[i].load(), running[i].load()});
  });
  constexpr std::uint64_t watched = 64;
  for (std::uint64_t i = 0; i < watched; ++i) index.add_event(nth_entity(i), counted(0, t0));
  std::atomic<bool> stop{false};
  std::atomic<std::uint64_t> torn{0};
  std::atomic<std::uint64_t> lost{0};
  std::atomic<std::uint64_t> reads{0};
  std::vector<std::thread> threads;
  for (int r = 0; r < readers; ++r) {
    threads.emplace_back([&, r] {
      std::uint64_t n = 0;
      while (!stop.load(std::memory_order_relaxed)) {
        const std::uint64_t i = n++ % watched;
        entity_facts f;
        if (!index.lookup(nth_entity(i), f)) {
          lost.fetch_add(1);
        } else if (f.event_count != f.history.counted_events || f.first_event_ms > f.last_event_ms ||
                   f.history.partners != std::min<std::uint64_t>(f.event_count, 2) ||
                   f.last_event_ms - f.first_event_ms != static_cast<std::int64_t>(f.event_count) - 1) {
          torn.fetch_add(1);
        }
        turns[r].fetch_add(1);  // a "loop turn": nothing of the index is held past it
      }
      reads.fetch_add(n);
      running[r].store(false);
    });
  }
  // Each watched entity gets events at t0, t0+1, t0+2, ... from workspaces 0 then 1: its
  // count, span and partners move together, so a torn copy shows.
  for (std::int64_t step = 1; step < 2000; ++step) {
    for (std::uint64_t i = 0; i < watched; ++i) index.add_event(nth_entity(i), counted(1, t0 + step, t0 + step));
    for (std::uint64_t k = 0; k < 100; ++k) index.add_event(nth_entity(1'000'000 + step * 100 + k), counted(0, t0));
    index.reclaim();
  }
  stop.store(true);
  for (auto& t : threads) t.join();
  index.reclaim();
  EXPECT_EQ(torn.load(), 0u);
  EXPECT_EQ(lost.load(), 0u);
  EXPECT_GT(reads.load(), 0u);
  EXPECT_GT(index.size(), 190'000u);
}

}  // namespace
}  // namespace warrant::engine::evidence

// tests/idempotency/inflight_table_test.cc: engine/idempotency/inflight_table.* — one holder
// per scope at a time, release on every path, a full window refused rather than grown.
#include "engine/idempotency/inflight_table.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

namespace warrant::engine::idempotency {
namespace {

TEST(InflightTable, ClaimsOncePerScopeUntilReleased) {
  inflight_table t;
  const auto first = t.try_claim(42);
  ASSERT_EQ(first.status, claim_status::claimed);
  EXPECT_EQ(t.try_claim(42).status, claim_status::in_progress);
  EXPECT_EQ(t.try_claim(43).status, claim_status::claimed);
  EXPECT_EQ(t.occupied(), 2u);
  t.release(first.slot, 42);
  EXPECT_EQ(t.occupied(), 1u);
  EXPECT_EQ(t.try_claim(42).status, claim_status::claimed);
}

TEST(InflightTable, ClaimReleasesWhenDestroyedOrMoved) {
  inflight_table t;
  {
    const auto r = t.try_claim(7);
    ASSERT_EQ(r.status, claim_status::claimed);
    claim held(t, r.slot, 7);
    claim moved = std::move(held);
    EXPECT_FALSE(held.held());
    EXPECT_TRUE(moved.held());
    EXPECT_EQ(t.try_claim(7).status, claim_status::in_progress);
  }
  EXPECT_EQ(t.occupied(), 0u);
  EXPECT_EQ(t.try_claim(7).status, claim_status::claimed);
}

TEST(InflightTable, CollidingScopesShareAWindow) {
  inflight_table t(1024);
  // Same home slot (hash mod 1024), different scopes: each gets its own word.
  std::vector<std::uint32_t> slots;
  for (std::uint64_t i = 1; i <= inflight_window; ++i) {
    const auto r = t.try_claim(i * 1024 + 5);
    ASSERT_EQ(r.status, claim_status::claimed) << i;
    slots.push_back(r.slot);
  }
  // The window is full: a new scope is refused (503), a held one still says in progress.
  EXPECT_EQ(t.try_claim((inflight_window + 1) * 1024 + 5).status, claim_status::full);
  EXPECT_EQ(t.try_claim(1 * 1024 + 5).status, claim_status::in_progress);
  // A word freed in the middle is reused, and scopes behind it are still found.
  t.release(slots[3], 4 * 1024 + 5);
  EXPECT_EQ(t.try_claim(10 * 1024 + 5).status, claim_status::in_progress);
  EXPECT_EQ(t.try_claim(99 * 1024 + 5).status, claim_status::claimed);
}

TEST(InflightTable, WindowWrapsAroundTheEnd) {
  inflight_table t(inflight_window);
  for (std::uint64_t i = 0; i < inflight_window; ++i) {
    EXPECT_EQ(t.try_claim(inflight_window - 1 + i * inflight_window).status, claim_status::claimed);
  }
  EXPECT_EQ(t.occupied(), inflight_window);
}

// Many threads race to claim the same few scopes; a holder count per scope must never pass 1.
TEST(InflightTable, ConcurrentClaimsNeverOverlap) {
  inflight_table t(1024);
  constexpr int threads = 8;
  constexpr int rounds = 20000;
  constexpr std::uint64_t scopes[] = {11, 11 + 1024, 11 + 2048};  // one window
  std::atomic<int> holders[3] = {};
  std::atomic<bool> overlap{false};
  std::atomic<int> claims{0};
  std::vector<std::thread> pool;
  for (int i = 0; i < threads; ++i) {
    pool.emplace_back([&, i] {
      for (int n = 0; n < rounds; ++n) {
        const std::size_t s = static_cast<std::size_t>(n + i) % 3;
        const auto r = t.try_claim(scopes[s]);
        if (r.status != claim_status::claimed) continue;
        if (holders[s].fetch_add(1) != 0) overlap = true;
        claims.fetch_add(1);
        holders[s].fetch_sub(1);
        t.release(r.slot, scopes[s]);
      }
    });
  }
  for (auto& th : pool) th.join();
  EXPECT_FALSE(overlap.load());
  EXPECT_GT(claims.load(), 0);
  EXPECT_EQ(t.occupied(), 0u);
}

}  // namespace
}  // namespace warrant::engine::idempotency

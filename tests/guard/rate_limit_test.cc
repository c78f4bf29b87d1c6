// engine/guard/rate_limit.*: GCRA decisions with an injected clock (burst, refill, Retry-After,
// clocks going backwards, huge gaps, limits changed mid-stream), exactness under concurrent
// compare-and-swap, per-key limits with refunds, the header forms, and the per-address
// failure limiter.
#include "engine/guard/rate_limit.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

namespace warrant::engine {
namespace {

constexpr std::int64_t ms = 1'000'000;
constexpr std::int64_t s = 1'000'000'000;

// Admits `n` requests at `now` against `tat`; returns how many were allowed.
int spend(std::atomic<std::int64_t>& tat, std::int64_t now, std::uint32_t limit, int n) {
  int allowed = 0;
  for (int i = 0; i < n; ++i) allowed += gcra_admit(tat, now, limit).allowed ? 1 : 0;
  return allowed;
}

TEST(Gcra, ParamsSplitTheMinuteIntoLimitIntervals) {
  EXPECT_EQ(gcra_params_for(2000).interval_ns, 30 * ms);
  EXPECT_EQ(gcra_params_for(2000).window_ns, 60 * s);
  EXPECT_EQ(gcra_params_for(1).interval_ns, 60 * s);
  // 7 does not divide a minute: T rounds down, W = 7T, burst stays exactly 7.
  EXPECT_EQ(gcra_params_for(7).interval_ns, 8'571'428'571);
  EXPECT_EQ(gcra_params_for(7).window_ns, 7 * 8'571'428'571);
  EXPECT_EQ(gcra_params_for(requests_per_minute_max).interval_ns, 6000);
}

TEST(Gcra, FullBurstThenRefusal) {
  for (std::uint32_t limit : {1u, 2u, 7u, 60u, 2000u, 10'000u}) {
    std::atomic<std::int64_t> tat{0};
    const std::int64_t now = 1000 * s;
    for (std::uint32_t i = 0; i < limit; ++i) {
      const gcra_step st = gcra_admit(tat, now, limit);
      ASSERT_TRUE(st.allowed) << limit << " at " << i;
      EXPECT_EQ(st.remaining, limit - 1 - i) << limit;
    }
    const gcra_step refused = gcra_admit(tat, now, limit);
    EXPECT_FALSE(refused.allowed) << limit;
    EXPECT_EQ(refused.remaining, 0u);
    EXPECT_EQ(refused.retry_after_ns, gcra_params_for(limit).interval_ns) << limit;
  }
}

TEST(Gcra, RefillsOneUnitPerInterval) {
  std::atomic<std::int64_t> tat{0};
  std::int64_t now = 5 * s;
  ASSERT_EQ(spend(tat, now, 2000, 2000), 2000);
  EXPECT_EQ(spend(tat, now, 2000, 1), 0);
  now += 30 * ms - 1;  // one nanosecond short of a unit
  EXPECT_EQ(spend(tat, now, 2000, 1), 0);
  now += 1;
  EXPECT_EQ(spend(tat, now, 2000, 5), 1);
  now += 10 * 30 * ms;  // ten units
  EXPECT_EQ(spend(tat, now, 2000, 20), 10);
  now += 60 * s;  // a whole window: the quota is full again, and no more than full
  EXPECT_EQ(spend(tat, now, 2000, 2100), 2000);
}

TEST(Gcra, RetryAfterIsWholeSecondsRoundedUpAndAtLeastOne) {
  std::atomic<std::int64_t> tat{0};
  const std::int64_t now = 100 * s;
  ASSERT_EQ(spend(tat, now, 2000, 2000), 2000);
  EXPECT_EQ(whole_seconds_up(gcra_admit(tat, now, 2000).retry_after_ns, true), 1u);  // 30 ms → 1

  std::atomic<std::int64_t> slow{0};
  ASSERT_EQ(spend(slow, now, 1, 1), 1);
  EXPECT_EQ(whole_seconds_up(gcra_admit(slow, now, 1).retry_after_ns, true), 60u);
  EXPECT_EQ(whole_seconds_up(gcra_admit(slow, now + 500 * ms, 1).retry_after_ns, true), 60u);  // 59.5 → 60
  EXPECT_EQ(whole_seconds_up(gcra_admit(slow, now + 59 * s, 1).retry_after_ns, true), 1u);
  EXPECT_EQ(whole_seconds_up(gcra_admit(slow, now + 60 * s - 1, 1).retry_after_ns, true), 1u);
  EXPECT_TRUE(gcra_admit(slow, now + 60 * s, 1).allowed);

  EXPECT_EQ(whole_seconds_up(0, true), 1u);
  EXPECT_EQ(whole_seconds_up(0, false), 0u);
  EXPECT_EQ(whole_seconds_up(-5, false), 0u);
  EXPECT_EQ(whole_seconds_up(1, false), 1u);
  EXPECT_EQ(whole_seconds_up(s, false), 1u);
  EXPECT_EQ(whole_seconds_up(s + 1, false), 2u);
}

TEST(Gcra, ResetIsTheTimeUntilTheQuotaIsFull) {
  std::atomic<std::int64_t> tat{0};
  const std::int64_t now = 10 * s;
  gcra_step st = gcra_admit(tat, now, 60);  // T = 1 s
  EXPECT_EQ(st.reset_ns, s);
  for (int i = 0; i < 9; ++i) st = gcra_admit(tat, now, 60);
  EXPECT_EQ(st.reset_ns, 10 * s);
  EXPECT_EQ(st.remaining, 50u);
}

TEST(Gcra, ClockGoingBackwardsNeverRefusesForLongerThanAnEmptyQuota) {
  std::atomic<std::int64_t> tat{0};
  const std::int64_t now = 1000 * s;
  ASSERT_EQ(spend(tat, now, 60, 60), 60);  // empty: TAT = now + 60 s
  // The clock jumps back by an hour: the TAT looks an hour + a minute ahead.
  const gcra_step back = gcra_admit(tat, now - 3600 * s, 60);
  EXPECT_FALSE(back.allowed);
  EXPECT_EQ(back.retry_after_ns, s) << "an empty quota waits one interval, not an hour";
  EXPECT_EQ(back.reset_ns, 60 * s);
  // One interval later on the new clock, a request passes.
  EXPECT_TRUE(gcra_admit(tat, now - 3600 * s + s, 60).allowed);
  // A small step back (two shards read the clock a little apart and the later reader wins
  // the race) only makes that one check stricter by the skew.
  std::atomic<std::int64_t> t2{0};
  ASSERT_TRUE(gcra_admit(t2, now, 2).allowed);  // T = 30 s: TAT = now + 30 s
  const gcra_step skewed = gcra_admit(t2, now - ms, 2);
  EXPECT_FALSE(skewed.allowed);
  EXPECT_EQ(skewed.retry_after_ns, ms);
  EXPECT_TRUE(gcra_admit(t2, now, 2).allowed);
}

TEST(Gcra, HugeGapsFindAFullQuotaAndDoNotOverflow) {
  std::atomic<std::int64_t> tat{0};
  EXPECT_EQ(spend(tat, 0, 2000, 2001), 2000) << "time zero is a valid time";
  const std::int64_t far = std::int64_t{1} << 62;
  EXPECT_EQ(spend(tat, far, 2000, 2001), 2000);
  EXPECT_EQ(spend(tat, far + 30 * ms, 2000, 2), 1);
  // A cell that was never used is a full quota at any time.
  std::atomic<std::int64_t> fresh{0};
  EXPECT_EQ(spend(fresh, far, requests_per_minute_max, 3), 3);
}

TEST(Gcra, LimitChangesKeepTheDebtInTime) {
  std::atomic<std::int64_t> tat{0};
  std::int64_t now = 50 * s;
  ASSERT_EQ(spend(tat, now, 2000, 1000), 1000);  // half the window used: TAT = now + 30 s
  // Lowered to 60/min (T = 1 s, W = 60 s): 30 s of debt leave 30 units.
  EXPECT_EQ(spend(tat, now, 60, 100), 30);
  // Raised to 6000/min (T = 10 ms): the quota is empty (TAT = now + 60 s) until it refills.
  EXPECT_EQ(spend(tat, now, 6000, 10), 0);
  now += 100 * ms;
  EXPECT_EQ(spend(tat, now, 6000, 100), 10);
  // Lowered to 1/min while over the new window: refused, and never for more than a minute.
  const gcra_step st = gcra_admit(tat, now, 1);
  EXPECT_FALSE(st.allowed);
  EXPECT_LE(st.retry_after_ns, 60 * s);
}

TEST(Gcra, RefundGivesBackOneUnit) {
  std::atomic<std::int64_t> tat{0};
  const std::int64_t now = 7 * s;
  ASSERT_EQ(spend(tat, now, 10, 10), 10);
  gcra_refund(tat, 10);
  EXPECT_EQ(spend(tat, now, 10, 2), 1);
  // A refund on a full quota does not overfill it.
  std::atomic<std::int64_t> full{0};
  ASSERT_TRUE(gcra_admit(full, now, 10).allowed);
  gcra_refund(full, 10);
  gcra_refund(full, 10);
  EXPECT_EQ(spend(full, now, 10, 20), 10);
}

TEST(Gcra, ConcurrentAdmissionsAreExact) {
  // Many threads, one cell, one instant: exactly the limit passes, whatever the interleaving.
  for (int round = 0; round < 5; ++round) {
    std::atomic<std::int64_t> tat{0};
    std::atomic<int> allowed{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 8; ++t) {
      threads.emplace_back([&] { allowed.fetch_add(spend(tat, 42 * s, 2000, 500)); });
    }
    for (auto& th : threads) th.join();
    EXPECT_EQ(allowed.load(), 2000);
  }
}

// ---- one request: workspace and key -------------------------------------------------------

struct tenancy_fixture {
  limiter_cells cells;
  workspace ws;
  api_key_record key;
  tenancy_fixture(std::uint32_t ws_limit, std::uint32_t key_limit) {
    ws.id = std::string("w");  // moved in: GCC 12 -O3 warns (falsely) on assigning a literal
    ws.requests_per_minute = ws_limit;
    ws.limiter = cells.allocate();
    key.id = std::string("k");
    key.workspace_id = std::string("w");
    key.requests_per_minute = key_limit;
    if (key_limit != 0) key.limiter = cells.allocate();
  }
};

TEST(AdmitRequest, WorkspaceLimitOnly) {
  tenancy_fixture f(3, 0);
  const std::int64_t now = 9 * s;
  for (std::uint32_t i = 0; i < 3; ++i) {
    const rate_decision d = admit_request(f.ws, f.key, now);
    ASSERT_TRUE(d.allowed());
    EXPECT_FALSE(d.has_key_policy);
    EXPECT_EQ(d.workspace.quota, 3u);
    EXPECT_EQ(d.workspace.remaining, 2 - i);
    EXPECT_EQ(d.workspace.reset_s, 20 * (i + 1));
  }
  const rate_decision d = admit_request(f.ws, f.key, now);
  EXPECT_EQ(d.refused, rate_decision::refused_by::workspace);
  EXPECT_EQ(d.retry_after_s, 20u);
  EXPECT_EQ(d.workspace.remaining, 0u);
}

TEST(AdmitRequest, KeyLimitIsCappedByItsWorkspace) {
  tenancy_fixture f(10, 5000);
  EXPECT_EQ(key_requests_per_minute(f.ws, f.key), 10u);
  f.key.requests_per_minute = 4;
  EXPECT_EQ(key_requests_per_minute(f.ws, f.key), 4u);
  f.key.requests_per_minute = 0;
  EXPECT_EQ(key_requests_per_minute(f.ws, f.key), 0u);
}

TEST(AdmitRequest, KeyRefusalDoesNotChargeTheWorkspace) {
  tenancy_fixture f(10, 3);
  const std::int64_t now = 9 * s;
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(admit_request(f.ws, f.key, now).allowed());
  const rate_decision d = admit_request(f.ws, f.key, now);
  EXPECT_EQ(d.refused, rate_decision::refused_by::key);
  EXPECT_TRUE(d.has_key_policy);
  EXPECT_EQ(d.key.quota, 3u);
  EXPECT_EQ(d.key.remaining, 0u);
  EXPECT_EQ(d.retry_after_s, 20u);
  EXPECT_EQ(d.workspace.quota, 10u);
  EXPECT_EQ(d.workspace.remaining, 7u) << "three spent by the key, none by its refusals";
  // Another key of the same workspace still has the workspace's 7.
  api_key_record other;
  other.workspace_id = std::string("w");
  int passed = 0;
  for (int i = 0; i < 20; ++i) passed += admit_request(f.ws, other, now).allowed() ? 1 : 0;
  EXPECT_EQ(passed, 7);
}

TEST(AdmitRequest, WorkspaceRefusalRefundsTheKey) {
  tenancy_fixture f(2, 2);
  api_key_record other;
  other.workspace_id = std::string("w");
  const std::int64_t now = 9 * s;
  ASSERT_TRUE(admit_request(f.ws, other, now).allowed());
  ASSERT_TRUE(admit_request(f.ws, other, now).allowed());
  const rate_decision d = admit_request(f.ws, f.key, now);
  EXPECT_EQ(d.refused, rate_decision::refused_by::workspace);
  EXPECT_EQ(d.key.remaining, 2u) << "the key's unit came back";
  EXPECT_EQ(d.retry_after_s, 30u);
  // Once the workspace refills, the key still has both of its units.
  const std::int64_t later = now + 60 * s;
  EXPECT_TRUE(admit_request(f.ws, f.key, later).allowed());
  EXPECT_TRUE(admit_request(f.ws, f.key, later).allowed());
  EXPECT_EQ(admit_request(f.ws, f.key, later).refused, rate_decision::refused_by::key);
}

TEST(AdmitRequest, RecordsWithoutCellsAreUnlimited) {
  workspace ws;
  api_key_record key;
  key.requests_per_minute = 1;
  for (int i = 0; i < 10; ++i) EXPECT_TRUE(admit_request(ws, key, s).allowed());
}

// ---- headers ------------------------------------------------------------------------------

std::string headers_of(const rate_decision& d) {
  net::http_response res;
  add_rate_limit_headers(res, d);
  return std::string(res.extra_headers());
}

TEST(RateLimitHeaders, WorkspacePolicy) {
  rate_decision d;
  d.workspace = {2000, 1999, 1};
  EXPECT_EQ(headers_of(d), "RateLimit-Policy: \"workspace\";q=2000;w=60\r\nRateLimit: \"workspace\";r=1999;t=1\r\n");
}

TEST(RateLimitHeaders, KeyPolicyListsBoth) {
  rate_decision d;
  d.has_key_policy = true;
  d.workspace = {4294967295u, 4294967295u, 4294967295u};
  d.key = {4294967295u, 0, 60};
  EXPECT_EQ(headers_of(d),
            "RateLimit-Policy: \"workspace\";q=4294967295;w=60, \"key\";q=4294967295;w=60\r\n"
            "RateLimit: \"workspace\";r=4294967295;t=4294967295, \"key\";r=0;t=60\r\n");
}

TEST(RateLimitHeaders, TooManyRequestsAnswer) {
  net::http_response res;
  answer_rate_limited(res, 0);
  EXPECT_EQ(res.status(), 429);
  EXPECT_EQ(res.body().view(), R"({"error":"rate limit exceeded","code":"RATE_LIMITED"})");
  EXPECT_EQ(res.extra_headers(), "Retry-After: 1\r\n");
}

// ---- failed authentications per address ---------------------------------------------------

net::peer_address v4(std::uint8_t a, std::uint8_t b, std::uint8_t c, std::uint8_t d) {
  net::peer_address p;
  p.family = net::peer_address::family_kind::ipv4;
  p.bytes = {a, b, c, d};
  return p;
}

net::peer_address v6(std::uint8_t net_byte, std::uint8_t host_byte) {
  net::peer_address p;
  p.family = net::peer_address::family_kind::ipv6;
  p.bytes = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, net_byte, 0, 0, 0, 0, 0, 0, 0, host_byte};
  return p;
}

TEST(AddressFailureLimiter, LimitsAnAddressAfterItsBudget) {
  address_failure_limiter lim(5);
  const std::int64_t now = 3 * s;
  for (int i = 0; i < 5; ++i) EXPECT_FALSE(lim.record_failure(v4(10, 0, 0, 1), now).limited) << i;
  const auto v = lim.record_failure(v4(10, 0, 0, 1), now);
  EXPECT_TRUE(v.limited);
  EXPECT_EQ(v.retry_after_s, 12u);  // T = 12 s
  EXPECT_FALSE(lim.record_failure(v4(10, 0, 0, 2), now).limited) << "another address has its own budget";
  EXPECT_FALSE(lim.record_failure(v4(10, 0, 0, 1), now + 12 * s).limited) << "refilled";
}

TEST(AddressFailureLimiter, Ipv6CountsPerSlash64) {
  address_failure_limiter lim(3);
  const std::int64_t now = 3 * s;
  for (int i = 0; i < 3; ++i) EXPECT_FALSE(lim.record_failure(v6(1, static_cast<std::uint8_t>(i)), now).limited);
  EXPECT_TRUE(lim.record_failure(v6(1, 200), now).limited) << "same /64, another host";
  EXPECT_FALSE(lim.record_failure(v6(2, 0), now).limited) << "another /64";
}

TEST(AddressFailureLimiter, ZeroNeverLimits) {
  address_failure_limiter lim(0);
  for (int i = 0; i < 1000; ++i) EXPECT_FALSE(lim.record_failure(v4(1, 2, 3, 4), s).limited);
}

TEST(AddressFailureLimiter, AFloodNeitherGrowsNorLocksOutOthers) {
  // Constant memory by construction (a fixed table, nothing per address or per key). 2000
  // addresses try 50 random keys each: every one of them ends up limited, while an innocent
  // address is limited only if both of its cells are among the flooders' (≈ 0.4 % each).
  address_failure_limiter lim(10);
  const std::int64_t now = 3 * s;
  int flooders_limited = 0;
  for (std::uint32_t a = 0; a < 2000; ++a) {
    const net::peer_address addr = v4(100, 1, static_cast<std::uint8_t>(a >> 8), static_cast<std::uint8_t>(a));
    bool limited = false;
    for (int attempt = 0; attempt < 50; ++attempt) limited = lim.record_failure(addr, now).limited;
    flooders_limited += limited ? 1 : 0;
  }
  EXPECT_EQ(flooders_limited, 2000);
  int innocent_limited = 0;
  for (std::uint8_t host = 1; host <= 100; ++host) {
    innocent_limited += lim.record_failure(v4(192, 168, 7, host), now).limited ? 1 : 0;
  }
  EXPECT_LE(innocent_limited, 10);
}

}  // namespace
}  // namespace warrant::engine

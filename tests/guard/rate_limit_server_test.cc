// Per-workspace and per-key rate limits of the real warrantd, on two shards: a burst admits
// exactly the limit (plus what refills while it runs), 429 answers carry Retry-After and the
// RateLimit headers, a key's own limit applies under its workspace's, limits take effect on the
// next request and the limiter state survives every republished tenancy snapshot.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>

#include "tests/guard/guard_fixture.h"

namespace warrant::test {
namespace {

using GuardLimits = guard_fixture;

constexpr std::string_view rate_limited_body = R"({"error":"rate limit exceeded","code":"RATE_LIMITED"})";

struct burst_result {
  int accepted = 0;
  int refused = 0;
  int other = 0;
  double elapsed_s = 0;
  std::vector<std::string> problems;
};

// `total` GET /api/me with `key`, spread over `conns` (one thread each), as fast as answered.
burst_result burst(std::vector<std::unique_ptr<http_client>>& conns, const std::string& key, int total,
                   std::int64_t quota) {
  burst_result out;
  std::mutex mu;
  std::atomic<int> next{0};
  const header_list headers = {{"x-api-key", key}};
  const auto start = std::chrono::steady_clock::now();
  std::vector<std::thread> threads;
  for (auto& c : conns) {
    threads.emplace_back([&, client = c.get()] {
      while (next.fetch_add(1) < total) {
        const auto r = client->request("GET", "/api/me", {}, headers);
        std::lock_guard<std::mutex> lock(mu);
        if (!r) {
          ++out.other;
          out.problems.push_back("a request failed on the wire");
          continue;
        }
        const auto rl = ratelimit_of(*r);
        if (quota_of(*r) != quota || !rl) out.problems.push_back("headers: " + r->header("ratelimit-policy"));
        if (r->status == 200) {
          ++out.accepted;
          if (rl && rl->remaining >= quota) out.problems.push_back("r too large: " + r->header("ratelimit"));
        } else if (r->status == 429) {
          ++out.refused;
          if (r->body != rate_limited_body) out.problems.push_back("429 body: " + r->body);
          if (rl && rl->remaining != 0) out.problems.push_back("429 with r > 0: " + r->header("ratelimit"));
          if (retry_after_of(*r) < 1) out.problems.push_back("Retry-After: " + r->header("retry-after"));
        } else {
          ++out.other;
          out.problems.push_back(std::to_string(r->status) + " " + r->body);
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  out.elapsed_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return out;
}

// What may refill during a burst of `elapsed_s` at `quota` per minute (one unit per 60/quota s),
// plus one for the unit that may be due at the very end.
int refill_allowance(double elapsed_s, std::int64_t quota) {
  return static_cast<int>(elapsed_s * static_cast<double>(quota) / 60.0) + 1;
}

TEST_F(GuardLimits, BurstOf2600AdmitsExactlyTheLimitAcrossShards) {
  const tenant t = new_tenant();
  auto conns = connections_on_both_shards(port());
  const burst_result b = burst(conns, t.key, 2600, 2000);
  for (std::size_t i = 0; i < b.problems.size() && i < 10; ++i) ADD_FAILURE() << b.problems[i];
  EXPECT_EQ(b.other, 0);
  EXPECT_EQ(b.accepted + b.refused, 2600);
  EXPECT_GE(b.accepted, 2000) << "the full quota may be spent at once";
  EXPECT_LE(b.accepted, 2000 + refill_allowance(b.elapsed_s, 2000))
      << "no more than the quota plus what refilled in " << b.elapsed_s << " s";
  EXPECT_EQ(metric(R"(warrant_rate_limited_total{limit="workspace"})"), b.refused);
  // Right after the burst the quota is (nearly) empty: one more request either passes on a
  // refilled unit or waits about one interval (30 ms), which rounds up to Retry-After: 1.
  http_client c(port());
  for (int i = 0; i < 5; ++i) {
    const auto r = me(c, t.key);
    ASSERT_TRUE(r);
    if (r->status == 429) {
      EXPECT_EQ(retry_after_of(*r), 1);
      break;
    }
  }
}

TEST_F(GuardLimits, SmallLimitsGiveRetryAfterInWholeSeconds) {
  const tenant t = new_tenant();
  set_workspace_limit(t.workspace_id, 3);  // one unit every 20 s
  http_client c(port());
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < 3; ++i) {
    const auto r = me(c, t.key);
    ASSERT_TRUE(r);
    ASSERT_EQ(r->status, 200) << i;
    EXPECT_EQ(r->header("ratelimit-policy"), R"("workspace";q=3;w=60)");
    EXPECT_EQ(ratelimit_of(*r)->remaining, 2 - i);
  }
  const auto refused = me(c, t.key);
  const double elapsed_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  ASSERT_TRUE(is_error(refused, 429, "RATE_LIMITED"));
  EXPECT_EQ(refused->body, rate_limited_body);
  // The first unit comes back 20 s after the first request; rounded up.
  const std::int64_t retry = retry_after_of(*refused);
  EXPECT_LE(retry, 20);
  EXPECT_GE(retry, 20 - static_cast<std::int64_t>(elapsed_s) - 1);
  const auto rl = ratelimit_of(*refused);
  ASSERT_TRUE(rl);
  EXPECT_EQ(rl->remaining, 0);
  EXPECT_LE(rl->reset_s, 60);
  EXPECT_GE(rl->reset_s, 60 - static_cast<std::int64_t>(elapsed_s) - 1);
}

TEST_F(GuardLimits, AChangedLimitAppliesOnTheNextRequestOnEveryShard) {
  const tenant t = new_tenant();
  auto conns = connections_on_both_shards(port());
  for (auto& c : conns) EXPECT_EQ(quota_of(*me(*c, t.key)), 2000);
  set_workspace_limit(t.workspace_id, 100000);
  for (auto& c : conns) EXPECT_EQ(quota_of(*me(*c, t.key)), 100000);
  EXPECT_EQ(body_json(admin("GET", "/v1/admin/workspaces/" + t.workspace_id))["requests_per_minute"].integer, 100000);
}

TEST_F(GuardLimits, LimiterStateSurvivesRepublishedSnapshots) {
  const tenant t = new_tenant();
  set_workspace_limit(t.workspace_id, 4);  // one unit every 15 s
  auto conns = connections_on_both_shards(port());
  for (int i = 0; i < 4; ++i) ASSERT_EQ(me(*conns[static_cast<std::size_t>(i) % conns.size()], t.key)->status, 200);
  // Every write republishes the tenancy snapshot: a new workspace, a key, a limits change of
  // another workspace, a new key of this very workspace.
  const tenant other = new_tenant();
  set_workspace_limit(other.workspace_id, 50);
  const std::string second_key = create_key(t.workspace_id, R"(["platform.viewer"])")["key"].string;
  for (auto& c : conns) {
    const auto r = me(*c, second_key);
    ASSERT_TRUE(is_error(r, 429, "RATE_LIMITED")) << "the workspace's quota is still spent";
  }
  EXPECT_EQ(me(*conns[0], other.key)->status, 200);
}

TEST_F(GuardLimits, AKeyWithItsOwnLimit) {
  const tenant t = new_tenant(R"(["platform.viewer"])", R"("requests_per_minute":3)");
  const json listed = body_json(admin("GET", "/v1/admin/workspaces/" + t.workspace_id + "/keys"));
  EXPECT_EQ(listed["keys"].items.at(0)["requests_per_minute"].integer, 3);
  const std::string plain = create_key(t.workspace_id, R"(["platform.viewer"])")["key"].string;
  http_client c(port());
  for (int i = 0; i < 3; ++i) {
    const auto r = me(c, t.key);
    ASSERT_EQ(r->status, 200);
    EXPECT_EQ(r->header("ratelimit-policy"), R"("workspace";q=2000;w=60, "key";q=3;w=60)");
    const auto key_state = ratelimit_of(*r, "key");
    ASSERT_TRUE(key_state) << r->header("ratelimit");
    EXPECT_EQ(key_state->remaining, 2 - i);
    EXPECT_GE(ratelimit_of(*r)->remaining, 1999 - i) << "(or more: a unit refills every 30 ms)";
    EXPECT_LE(ratelimit_of(*r)->remaining, 1999);
  }
  const auto refused = me(c, t.key);
  ASSERT_TRUE(is_error(refused, 429, "RATE_LIMITED"));
  EXPECT_GE(retry_after_of(*refused), 1);
  EXPECT_LE(retry_after_of(*refused), 20);
  EXPECT_EQ(ratelimit_of(*refused, "key")->remaining, 0);
  // The refused request cost the workspace nothing; the other key sees 2000 - 3 - 1.
  const auto other = me(c, plain);
  ASSERT_EQ(other->status, 200);
  EXPECT_EQ(other->header("ratelimit-policy"), R"("workspace";q=2000;w=60)");
  EXPECT_GE(ratelimit_of(*other)->remaining, 1996);
  EXPECT_EQ(metric(R"(warrant_rate_limited_total{limit="key"})"), 1);
}

TEST_F(GuardLimits, AKeyLimitNeverExceedsItsWorkspace) {
  const tenant t = new_tenant(R"(["platform.viewer"])", R"("requests_per_minute":5000)");
  set_workspace_limit(t.workspace_id, 10);
  http_client c(port());
  const auto start = std::chrono::steady_clock::now();
  const auto r = me(c, t.key);
  ASSERT_EQ(r->status, 200);
  EXPECT_EQ(r->header("ratelimit-policy"), R"("workspace";q=10;w=60, "key";q=10;w=60)");
  int accepted = 1;
  for (int i = 0; i < 15; ++i) accepted += me(c, t.key)->status == 200 ? 1 : 0;
  const double elapsed_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_GE(accepted, 10);
  EXPECT_LE(accepted, 10 + refill_allowance(elapsed_s, 10)) << "a unit refills every 6 s";
}

TEST_F(GuardLimits, KeyLimitValidationAndPersistence) {
  const std::string ws = create_workspace("v")["id"].string;
  for (const char* bad : {R"("requests_per_minute":0)", R"("requests_per_minute":10000001)",
                          R"("requests_per_minute":"3")", R"("requests_per_minute":2.5)",
                          R"("requests_per_minute":-1)"}) {
    const http_response r =
        admin("POST", "/v1/admin/workspaces/" + ws + "/keys", std::string(R"({"roles":["platform.viewer"],)") + bad + "}");
    EXPECT_TRUE(is_error(r, 400, "VALIDATION_ERROR")) << bad << " " << r.body;
  }
  const json none = create_key(ws, R"(["platform.viewer"])", R"("requests_per_minute":null)");
  EXPECT_TRUE(none["requests_per_minute"].is_null());
  const json own = create_key(ws, R"(["platform.viewer"])", R"("requests_per_minute":10000000)");
  EXPECT_EQ(own["requests_per_minute"].integer, 10000000);
  stop();
  start();
  const json keys = body_json(admin("GET", "/v1/admin/workspaces/" + ws + "/keys"));
  ASSERT_EQ(keys["keys"].items.size(), 2u);
  EXPECT_TRUE(keys["keys"].items[0]["requests_per_minute"].is_null());
  EXPECT_EQ(keys["keys"].items[1]["requests_per_minute"].integer, 10000000);
}

}  // namespace
}  // namespace warrant::test

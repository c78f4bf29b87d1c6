// The guard in front of the real warrantd (docs/api-common.md "Authentication"): one 401 for
// every bad key, 403 naming the missing role, GET /api/me and /api/health, the router's 404/405
// before any authentication, RateLimit headers on every authenticated answer (deferred ones
// too), revocation on the next request on every shard, and failed authentications limited
// per client address.
#include <gtest/gtest.h>

#include <random>
#include <thread>

#include "engine/tenancy/api_key.h"
#include "tests/guard/guard_fixture.h"

namespace warrant::test {
namespace {

using Guard = guard_fixture;

constexpr std::string_view unauthorized_body = R"({"error":"invalid or missing API key","code":"UNAUTHORIZED"})";
constexpr std::string_view rate_limited_body = R"({"error":"rate limit exceeded","code":"RATE_LIMITED"})";

void expect_unauthorized(const std::optional<http_response>& r, const std::string& what) {
  ASSERT_TRUE(is_error(r, 401, "UNAUTHORIZED")) << what;
  EXPECT_EQ(r->body, unauthorized_body) << what;
  EXPECT_EQ(r->header("www-authenticate"), "Bearer") << what;
  EXPECT_EQ(r->header("ratelimit"), "") << what << ": no workspace is known, so no RateLimit";
  EXPECT_EQ(r->header("ratelimit-policy"), "") << what;
}

TEST_F(Guard, EveryBadKeyGetsTheSame401) {
  const tenant t = new_tenant();
  const tenant gone = new_tenant();
  ASSERT_EQ(admin("POST", "/v1/admin/workspaces/" + gone.workspace_id + "/keys/" + gone.key_id + "/revoke").status,
            200);
  const std::int64_t expires_ms = now_unix_ms() + 1000;
  const std::string expiring =
      create_key(t.workspace_id, R"(["platform.viewer"])", R"("expires_at":)" + json_quote(rfc3339_ms(expires_ms)))["key"]
          .string;
  std::string bad_checksum = t.key;
  bad_checksum.back() = bad_checksum.back() == 'a' ? 'b' : 'a';
  const std::vector<std::pair<std::string, header_list>> bad = {
      {"no key", {}},
      {"empty", {{"x-api-key", ""}}},
      {"short", {{"x-api-key", "wrnt_abc"}}},
      {"bad checksum", {{"x-api-key", bad_checksum}}},
      {"basic scheme", {{"Authorization", "Basic " + t.key}}},
      {"bearer alone", {{"Authorization", "Bearer"}}},
      {"revoked", {{"x-api-key", gone.key}}},
      {"revoked, bearer", {{"Authorization", "Bearer " + gone.key}}},
  };
  http_client c(port());
  for (const std::string path : {"/api/me", "/v1/admin/workspaces"}) {
    for (const auto& [what, headers] : bad) expect_unauthorized(c.request("GET", path, {}, headers), path + " " + what);
  }
  const std::int64_t wait_ms = expires_ms + 100 - now_unix_ms();
  if (wait_ms > 0) std::this_thread::sleep_for(milliseconds(wait_ms));
  expect_unauthorized(me(c, expiring), "expired");
  EXPECT_EQ(metric("warrant_auth_failures_total"), 17);
  EXPECT_EQ(me(c, t.key)->status, 200) << "the valid key of the same workspace still works";
}

TEST_F(Guard, UnprotectedRoutesNeedNoKey) {
  http_client c(port());
  for (const char* path : {"/healthz", "/readyz", "/metrics", "/api/health"}) {
    const auto r = c.request("GET", path);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200) << path;
    EXPECT_EQ(r->header("ratelimit"), "") << path;
    EXPECT_EQ(r->header("ratelimit-policy"), "") << path;
  }
  const auto health = c.request("GET", "/api/health");
  EXPECT_EQ(health->body, R"({"status":"ok"})");
  EXPECT_EQ(health->header("content-type"), "application/json");
  // With a bad key they still answer: they never look at it.
  EXPECT_EQ(c.request("GET", "/api/health", {}, {{"x-api-key", "nope"}})->status, 200);
  EXPECT_EQ(metric("warrant_auth_failures_total"), 0);
}

TEST_F(Guard, TheRouterAnswers404And405BeforeAnyAuthentication) {
  http_client c(port());
  const auto unknown = c.request("GET", "/api/nope");
  ASSERT_TRUE(is_error(unknown, 404, "NOT_FOUND"));
  EXPECT_EQ(unknown->header("www-authenticate"), "");
  const auto wrong = c.request("DELETE", "/api/me");
  ASSERT_TRUE(is_error(wrong, 405, "METHOD_NOT_ALLOWED"));
  EXPECT_EQ(wrong->header("allow"), "GET, HEAD");
  EXPECT_EQ(metric("warrant_auth_failures_total"), 0);
}

TEST_F(Guard, MeDescribesTheKey) {
  const json ws = body_json(admin("POST", "/v1/admin/workspaces", R"({"name":"acme","identity_namespace":"acme-org"})"));
  const json k = create_key(ws["id"].string, R"(["governance.reviewer","platform.viewer"])");
  http_client c(port());
  for (const header_list& h : std::vector<header_list>{{{"Authorization", "Bearer " + k["key"].string}},
                                                       {{"x-api-key", k["key"].string}}}) {
    const auto r = c.request("GET", "/api/me", {}, h);
    ASSERT_TRUE(r);
    ASSERT_EQ(r->status, 200) << r->body;
    const json me = body_json(*r);
    EXPECT_EQ(me.keys(), (std::vector<std::string>{"user_id", "workspace_id", "org_id", "key_prefix", "roles"}));
    EXPECT_EQ(me["user_id"].string, k["id"].string);
    EXPECT_EQ(me["workspace_id"].string, ws["id"].string);
    EXPECT_EQ(me["org_id"].string, "acme-org");
    EXPECT_EQ(me["key_prefix"].string, k["prefix"].string);
    ASSERT_EQ(me["roles"].items.size(), 2u);
    EXPECT_EQ(me["roles"].items[0].string, "platform.viewer");
    EXPECT_EQ(me["roles"].items[1].string, "governance.reviewer");
    EXPECT_EQ(quota_of(*r), 2000);
  }
  // Without an identity namespace, the organisation is the workspace itself.
  const tenant plain = new_tenant();
  EXPECT_EQ(body_json(*me(c, plain.key))["org_id"].string, plain.workspace_id);
  const json boot = body_json(*me(c, admin_key()));
  EXPECT_EQ(boot["workspace_id"].string, "default");
  EXPECT_EQ(boot["org_id"].string, "default");
}

TEST_F(Guard, ForbiddenNamesTheMissingRoleAndIsRateLimitedLikeAnyRequest) {
  const std::string viewer = new_default_key(R"(["platform.viewer","governance.approver"])");
  const tenant foreign_admin = new_tenant(R"(["platform.admin"])");
  http_client c(port());
  for (const std::string& key : {viewer, foreign_admin.key}) {
    const auto r = c.request("GET", "/v1/admin/workspaces", {}, {{"x-api-key", key}});
    ASSERT_TRUE(is_error(r, 403, "FORBIDDEN"));
    EXPECT_EQ(body_json(*r)["error"].string, "this key lacks the role platform.admin");
    EXPECT_EQ(quota_of(*r), 2000) << "a 403 is an authenticated answer";
    ASSERT_TRUE(ratelimit_of(*r));
  }
  EXPECT_EQ(metric("warrant_forbidden_total"), 2);
}

TEST_F(Guard, EveryAuthenticatedAnswerCarriesRateLimitHeaders) {
  // The bootstrap key's workspace `default`, on one connection: each request spends exactly
  // one unit, so `r` counts down by one whatever the status (the fixture's own setup calls
  // spent some before).
  http_client c(port());
  const header_list key = {{"x-api-key", admin_key()}};
  const header_list key_json = {{"x-api-key", admin_key()}, {"Content-Type", "application/json"}};
  struct step {
    std::string method, path, body;
    header_list headers;
    int status;
  };
  const std::vector<step> steps = {
      {"GET", "/api/me", "", key, 200},
      {"POST", "/v1/admin/workspaces", R"({"name":"deferred"})", key_json, 201},  // answered by the writer
      {"GET", "/v1/admin/workspaces/nope", "", key, 404},
      {"POST", "/v1/admin/workspaces", R"({"name":)", key_json, 400},
      {"POST", "/v1/admin/workspaces", R"({"name":"x"})", key, 415},
      {"PUT", "/v1/admin/workspaces/default/limits", R"({"requests_per_minute":2000})", key_json, 200},  // deferred
      {"POST", "/v1/admin/workspaces/default/keys/nope/revoke", "", key, 404},
      {"GET", "/v1/admin/workspaces", "", key, 200},
  };
  std::int64_t previous = -1;
  for (const step& s : steps) {
    const auto r = c.request(s.method, s.path, s.body, s.headers);
    ASSERT_TRUE(r);
    const std::string what = s.method + " " + s.path + " " + r->body;
    EXPECT_EQ(r->status, s.status) << what;
    EXPECT_EQ(r->header("ratelimit-policy"), R"("workspace";q=2000;w=60)") << what;
    const auto rl = ratelimit_of(*r);
    ASSERT_TRUE(rl) << what << " RateLimit: " << r->header("ratelimit");
    EXPECT_GE(rl->reset_s, 1) << what;
    EXPECT_LE(rl->reset_s, 60) << what;
    if (previous >= 0) {
      // Refill may add a unit between two requests (one every 30 ms), never take one.
      EXPECT_GE(rl->remaining, previous - 1) << what;
      EXPECT_LE(rl->remaining, 1999) << what;
    }
    previous = rl->remaining;
  }
}

TEST_F(Guard, RevocationIsEffectiveOnTheNextRequestOnEveryShard) {
  auto conns = connections_on_both_shards(port());
  for (int round = 0; round < 3; ++round) {
    const tenant t = new_tenant();
    for (auto& c : conns) {
      const auto r = me(*c, t.key);
      ASSERT_TRUE(r);
      ASSERT_EQ(r->status, 200) << r->body;
    }
    ASSERT_EQ(admin("POST", "/v1/admin/workspaces/" + t.workspace_id + "/keys/" + t.key_id + "/revoke").status, 200);
    for (std::size_t i = 0; i < conns.size(); ++i) {
      expect_unauthorized(me(*conns[i], t.key), "connection " + std::to_string(i) + " round " + std::to_string(round));
    }
  }
}

// ---- failed authentications per client address ---------------------------------------------

class GuardAddressLimit : public guard_fixture {
 public:
  std::vector<std::string> flags() const override { return {"--auth-failures-per-minute", "5"}; }
};

TEST_F(GuardAddressLimit, AnAddressOverItsFailureBudgetGets429ButItsValidKeysWork) {
  const tenant t = new_tenant();
  std::string wrong = t.key;
  wrong.back() = wrong.back() == 'a' ? 'b' : 'a';
  http_client flooder(port());
  flooder.set_source("127.0.0.2");
  for (int i = 0; i < 5; ++i) expect_unauthorized(me(flooder, wrong), "failure " + std::to_string(i));
  const auto limited = me(flooder, wrong);
  ASSERT_TRUE(is_error(limited, 429, "RATE_LIMITED"));
  EXPECT_EQ(limited->body, rate_limited_body);
  const std::int64_t retry = retry_after_of(*limited);
  EXPECT_GE(retry, 1);
  EXPECT_LE(retry, 12) << "5 per minute: one failure comes back every 12 s";
  EXPECT_EQ(limited->header("ratelimit"), "");

  // A valid key from the same address is not refused for that address's failures.
  const auto valid = me(flooder, t.key);
  ASSERT_TRUE(valid);
  EXPECT_EQ(valid->status, 200);
  // Another address has its own budget.
  http_client neighbour(port());
  neighbour.set_source("127.0.0.3");
  expect_unauthorized(me(neighbour, wrong), "another address");

  // A flood of random keys, malformed and well-formed-but-unknown: all 429 from here on, and
  // the server's memory for it is a fixed table (engine/guard/rate_limit.h).
  std::mt19937_64 rng(7);
  constexpr std::string_view alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
  for (int i = 0; i < 300; ++i) {
    std::string key;
    if (i % 2 == 0) {
      key = engine::generate_api_key().text;
    } else {
      key = "wrnt_";
      while (key.size() < 54) key.push_back(alphabet[rng() % alphabet.size()]);
    }
    const auto r = me(flooder, key);
    ASSERT_TRUE(is_error(r, 429, "RATE_LIMITED")) << i;
  }
  EXPECT_EQ(me(flooder, t.key)->status, 200);
  EXPECT_EQ(metric("warrant_auth_failures_total"), 5 + 1 + 1 + 300);
  EXPECT_EQ(metric(R"(warrant_rate_limited_total{limit="auth_failures"})"), 1 + 300);
}

}  // namespace
}  // namespace warrant::test

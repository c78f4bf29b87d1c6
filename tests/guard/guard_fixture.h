// tests/guard/guard_fixture.h: helpers for the guard's black-box tests against warrantd.
//
// Builds on the admin fixture (tests/admin/admin_fixture.h: a `warrantd --shards 2` per test,
// its bootstrap admin key, shorthands for the admin API) with what the guard tests need:
// connections placed on both shards, the RateLimit header values, and a fresh workspace with a
// key of its own (so that a test's limits start from a full quota).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tests/admin/admin_fixture.h"

namespace warrant::test {

// Opens connections until each of the server's two shards holds at least one of them.
std::vector<std::unique_ptr<http_client>> connections_on_both_shards(std::uint16_t port);

// `"workspace";r=12;t=3[, "key";r=1;t=20]` → the numbers of one policy item.
struct ratelimit_item {
  std::int64_t remaining = -1;
  std::int64_t reset_s = -1;
};
std::optional<ratelimit_item> ratelimit_of(const http_response& r, std::string_view policy = "workspace");
// `"workspace";q=2000;w=60[, ...]` → q of one policy item, or -1.
std::int64_t quota_of(const http_response& r, std::string_view policy = "workspace");
// Retry-After as an integer; -1 when absent or not an integer.
std::int64_t retry_after_of(const http_response& r);

struct tenant {
  std::string workspace_id;
  std::string key_id;
  std::string key;
};

// A fixture whose server runs with `extra` flags.
class guard_fixture : public admin_fixture {
 public:
  void SetUp() override { start(flags()); }
  virtual std::vector<std::string> flags() const { return {}; }

  // A new workspace (optionally with an identity namespace) and a key of it.
  tenant new_tenant(std::string_view roles_json = R"(["platform.viewer"])", std::string_view key_members = {});
  // PUT /v1/admin/workspaces/{id}/limits, checked.
  void set_workspace_limit(const std::string& workspace_id, std::int64_t requests_per_minute);
  // The value of a /metrics series (0 when absent).
  double metric(std::string_view series);
  // GET /api/me with `key` on `c`.
  static std::optional<http_response> me(http_client& c, std::string_view key);
};

}  // namespace warrant::test

// tests/policy/policy_fixture.h: warrantd with a policy file the test can rewrite and reload,
// a workspace of its own and shorthands for the policy routes.
#pragma once

#include <gtest/gtest.h>

#include <fstream>
#include <string>
#include <vector>

#include "tests/admin/admin_fixture.h"

namespace warrant::test {

// A small valid policy named `version`; `extra_action` adds one action line.
inline std::string policy_text(std::string_view version, std::string_view extra_action = {}) {
  std::string s = "version: " + std::string(version) + R"(
tiers:
  tier1: {count: 10, ageDays: 14}
  tier2: {count: 50, ageDays: 30, partners: 2}
  tier3: {count: 200, ageDays: 90, partners: 3}
actions:
  - {action: account.login, risk: low, allowTier: 0}
  - {action: data.export_pii, risk: high, allowTier: 3, stepUpTier: 2}
)";
  if (!extra_action.empty()) s += "  - " + std::string(extra_action) + "\n";
  return s;
}

class policy_fixture : public admin_fixture {
 public:
  void SetUp() override {
    write_policy(policy_text("file-v1"));
    start(flags());
    const json ws = create_workspace("policy-tests");
    workspace_id = ws["id"].string;
    key = create_key(workspace_id, R"(["platform.viewer"])")["key"].string;
  }
  virtual std::vector<std::string> flags() { return {"--policy-file", policy_path()}; }

  std::string policy_path() const { return _dir.path() + "/policy.yaml"; }
  void write_policy(const std::string& text) const {
    std::ofstream f(policy_path(), std::ios::binary | std::ios::trunc);
    f << text;
  }

  http_response evaluate(std::string_view body, std::string_view path = "/v1/policy/evaluate") {
    return call("POST", path, body, key);
  }
  // Polls GET /v1/policy/decisions/{id} with `with_key` until it is not 404 (the log trails the
  // answer by a bounded window), for at most 5 s.
  http_response fetch_decision(const std::string& id, const std::string& with_key);

  std::string workspace_id;
  std::string key;
};

}  // namespace warrant::test

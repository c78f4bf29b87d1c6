// Reloading the policy of a running warrantd: by the admin route and by SIGHUP, policyVersion
// changing in the next decisions, and a bad file keeping the running policy with a
// line-precise error (docs/api-evidence.md, "Reloading the policy").
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <thread>

#include "tests/policy/policy_fixture.h"

namespace warrant::test {
namespace {

using PolicyReload = policy_fixture;

std::string version_in_force(policy_fixture& f) {
  const http_response r = f.evaluate(R"({"actor_id":"u","action":"account.login"})");
  EXPECT_EQ(r.status, 200) << r.body;
  return body_json(r)["policyVersion"].string;
}

TEST_F(PolicyReload, TheAdminRouteSwapsThePolicy) {
  EXPECT_EQ(version_in_force(*this), "file-v1");
  write_policy(policy_text("file-v2", "{action: brand.new, risk: medium, allowTier: 1, stepUpTier: 0}"));
  const http_response r = admin("POST", "/v1/admin/policy/reload", "");
  ASSERT_EQ(r.status, 200) << r.body;
  const json a = body_json(r);
  EXPECT_EQ(a["policyVersion"].string, "file-v2");
  EXPECT_EQ(a["previousPolicyVersion"].string, "file-v1");
  EXPECT_EQ(a["source"].string, policy_path());
  EXPECT_NE(r.header("ratelimit"), "") << "the deferred answer keeps the guard's headers";
  EXPECT_EQ(version_in_force(*this), "file-v2");
  const http_response fresh = evaluate(R"({"actor_id":"u","action":"brand.new"})");
  ASSERT_EQ(fresh.status, 200) << fresh.body;
  EXPECT_EQ(body_json(fresh)["decision"].string, "STEP_UP");
  EXPECT_EQ(call("GET", "/v1/policy/actions/brand.new", {}, key).status, 200);
}

TEST_F(PolicyReload, ABadFileKeepsTheRunningPolicyAndNamesTheLine) {
  // Line 9: an unknown risk.
  write_policy(policy_text("file-bad", "{action: broken, risk: extreme, allowTier: 0}"));
  const http_response r = admin("POST", "/v1/admin/policy/reload", "");
  ASSERT_TRUE(is_error(r, 422, "POLICY_INVALID")) << r.body;
  const json a = body_json(r);
  EXPECT_EQ(a["line"].integer, 9) << r.body;
  EXPECT_NE(a["error"].string.find("line 9"), std::string::npos) << r.body;
  EXPECT_EQ(a["policyVersion"].string, "file-v1");
  EXPECT_EQ(version_in_force(*this), "file-v1");

  write_policy("version: x\ntiers: [\n");
  const http_response syntax = admin("POST", "/v1/admin/policy/reload", "");
  ASSERT_TRUE(is_error(syntax, 422, "POLICY_INVALID")) << syntax.body;
  EXPECT_GT(body_json(syntax)["line"].integer, 0);
  EXPECT_EQ(version_in_force(*this), "file-v1");
}

TEST_F(PolicyReload, SighupReloadsTheFile) {
  write_policy(policy_text("file-hup"));
  server().signal(SIGHUP);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  std::string v;
  while ((v = version_in_force(*this)) != "file-hup" && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(v, "file-hup");

  write_policy("version: broken\n");
  server().signal(SIGHUP);
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (server().stderr_text().find("rejected, keeping file-hup") == std::string::npos &&
         std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_NE(server().stderr_text().find("rejected, keeping file-hup"), std::string::npos) << server().stderr_text();
  EXPECT_EQ(version_in_force(*this), "file-hup");
}

// No --policy-file: the embedded defaults, and a reload re-reads them.
class EmbeddedPolicy : public policy_fixture {
 public:
  std::vector<std::string> flags() override { return {}; }
};

TEST_F(EmbeddedPolicy, DefaultsAreInForceAndReloadKeepsThem) {
  EXPECT_EQ(version_in_force(*this), "evidence-defaults-1");
  const http_response r = admin("POST", "/v1/admin/policy/reload", "");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(body_json(r)["source"].string, "embedded");
  const http_response list = call("GET", "/v1/policy/actions", {}, key);
  EXPECT_EQ(body_json(list)["actions"].items.size(), 14u);
}

TEST(PolicyStartUp, ABadPolicyFileStopsStartUpWithItsLine) {
  temp_dir dir("warrant-policy");
  const std::string path = dir.path() + "/policy.yaml";
  {
    std::ofstream f(path);
    f << policy_text("bad", "{action: broken, risk: extreme, allowTier: 0}");
  }
  const std::string log = dir.path() + "/stderr";
  EXPECT_THROW(warrantd_process(dir.path() + "/data", 1, log, {"--policy-file", path}, 20s), std::runtime_error);
  const std::string text = read_file(log);
  EXPECT_NE(text.find("the policy file was rejected: line 9, column"), std::string::npos) << text;
}

}  // namespace
}  // namespace warrant::test

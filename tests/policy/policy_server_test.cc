// The policy routes against the real warrantd (docs/api-evidence.md): evaluate (prefixed and
// not), its answer's fields and debug signals, every error code, the action registry, and the
// decision log read back (scoped to the workspace), across a restart too.
#include <gtest/gtest.h>

#include <utility>

#include "tests/policy/policy_fixture.h"

namespace warrant::test {
namespace {

using PolicyRoutes = policy_fixture;

const std::vector<std::string> answer_fields = {"decision",    "decision_correlation_id", "tier",   "requiredTier",
                                                "claimStatus", "whyRec",                  "reasons", "action",
                                                "actor",       "policyVersion",           "evaluatedAt"};

TEST_F(PolicyRoutes, EvaluateAnswersEveryFieldInOrder) {
  const http_response r = evaluate(R"({"actor":{"type":"human","id":"emp-12345"},"action":"data.export_pii"})");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.header("content-type"), "application/json");
  EXPECT_NE(r.header("ratelimit"), "");
  const json a = body_json(r);
  EXPECT_EQ(a.keys(), answer_fields);
  EXPECT_EQ(a["decision"].string, "DENY") << "an actor with no events: tier 0";
  EXPECT_TRUE(is_uuid(a["decision_correlation_id"].string));
  EXPECT_EQ(a["tier"].integer, 0);
  EXPECT_EQ(a["requiredTier"].integer, 3);
  EXPECT_EQ(a["claimStatus"].string, "clean");
  EXPECT_EQ(a["whyRec"].string,
            "Tier 0 is below the tier 3 required for data.export_pii; tier 2 or above would allow a step-up.");
  ASSERT_EQ(a["reasons"].items.size(), 1u);
  EXPECT_EQ(a["reasons"].items[0].string, "TIER_BELOW_ALL_BANDS");
  EXPECT_EQ(a["action"].string, "data.export_pii");
  EXPECT_EQ(a["actor"].dump(), R"({"type":"human","id":"emp-12345"})");
  EXPECT_EQ(a["policyVersion"].string, "file-v1");
  EXPECT_TRUE(is_rfc3339_ms(a["evaluatedAt"].string));
  EXPECT_FALSE(a.has("signals"));

  const http_response login = evaluate(R"({"actor_id":"emp-1","action":"account.login"})", "/policy/evaluate");
  ASSERT_EQ(login.status, 200) << login.body;
  EXPECT_EQ(body_json(login)["decision"].string, "ALLOW");
  EXPECT_EQ(body_json(login)["reasons"].items[0].string, "TIER_SUFFICIENT");
}

// evaluatedAt comes from the shard's clock of the loop turn that handled the request, read
// after the request arrived: never before the client sent it, never after the answer came.
// The times compare as text: the harness's rfc3339_ms writes the server's fixed-width form.
TEST_F(PolicyRoutes, EvaluatedAtIsTheTimeOfTheRequest) {
  for (int i = 0; i < 20; ++i) {
    const std::string before = rfc3339_ms(now_unix_ms());
    const http_response single = evaluate(R"({"actor_id":"emp-1","action":"account.login"})");
    const http_response bulk = evaluate(R"({"evaluations":[{"actor_id":"emp-1","action":"account.login"}]})",
                                        "/v1/policy/evaluate/bulk");
    const std::string after = rfc3339_ms(now_unix_ms());
    ASSERT_EQ(single.status, 200) << single.body;
    ASSERT_EQ(bulk.status, 200) << bulk.body;
    const std::string at = body_json(single)["evaluatedAt"].string;
    ASSERT_TRUE(is_rfc3339_ms(at)) << at;
    EXPECT_LE(before, at);
    EXPECT_LE(at, after);
    const std::string bulk_at = body_json(bulk)["results"].items.at(0)["evaluatedAt"].string;
    EXPECT_LE(at, bulk_at) << "a later request is never stamped earlier";
    EXPECT_LE(bulk_at, after);
  }
}

TEST_F(PolicyRoutes, DebugAddsSignals) {
  const http_response r =
      evaluate(R"({"actor":{"type":"service","id":"svc-1"},"action":"data.export_pii"})", "/v1/policy/evaluate?debug=true");
  ASSERT_EQ(r.status, 200) << r.body;
  const json a = body_json(r);
  ASSERT_TRUE(a.has("signals")) << r.body;
  const json& s = a["signals"];
  for (const char* k : {"history", "tierMode", "thresholds", "claims", "actionPolicy", "agentStatus", "steps", "decidingStep"}) {
    EXPECT_TRUE(s.has(k)) << k;
  }
  EXPECT_EQ(s["agentStatus"].string, "none");
  EXPECT_EQ(s["steps"].items.size(), 4u);
  EXPECT_EQ(s["history"]["countedEvents"].integer, 0);
  EXPECT_EQ(a["actor"]["type"].string, "service");
  EXPECT_FALSE(body_json(evaluate(R"({"actor_id":"x","action":"account.login"})", "/v1/policy/evaluate?debug=false"))
                   .has("signals"));
}

TEST_F(PolicyRoutes, MissingActorIsTheSeedsErrorByteForByte) {
  for (const char* body : {R"({"action":"account.login"})", R"({"actor":{"type":"human"},"action":"account.login"})",
                           R"({"actor":{"id":""},"action":"account.login"})", R"({"actor":{"id":null},"action":"x"})"}) {
    const http_response r = evaluate(body);
    EXPECT_EQ(r.status, 400) << body;
    EXPECT_EQ(r.body, R"({"error":"Missing required field: actor.id","hint":"Provide an org-scoped identifier for the actor"})")
        << body;
    EXPECT_EQ(r.header("content-type"), "application/json");
  }
}

TEST_F(PolicyRoutes, EveryErrorCode) {
  http_response r = evaluate(R"({"actor_id":"a","action":"teleport"})");
  ASSERT_TRUE(is_error(r, 400, "UNKNOWN_ACTION")) << r.body;
  EXPECT_NE(body_json(r)["hint"].string.find("GET /v1/policy/actions"), std::string::npos);
  EXPECT_TRUE(is_error(evaluate(R"({"actor_id":"a","action":"account.login","extra":1})"), 400, "UNKNOWN_FIELD"));
  EXPECT_TRUE(is_error(evaluate(R"({"actor_id":"a","action":"account.login")"), 400, "INVALID_JSON"));
  EXPECT_TRUE(is_error(evaluate(R"({"actor_id":"a"})"), 400, "VALIDATION_ERROR"));
  EXPECT_TRUE(is_error(evaluate(R"({"actor":{"id":"a"},"actor_id":"b","action":"account.login"})"), 400,
                       "VALIDATION_ERROR"));
  EXPECT_TRUE(is_error(call("POST", "/v1/policy/evaluate", R"({"actor_id":"a","action":"account.login"})", key,
                            "text/plain"),
                       415, "UNSUPPORTED_MEDIA_TYPE"));
  EXPECT_TRUE(is_error(call("POST", "/v1/policy/evaluate", R"({"actor_id":"a","action":"account.login"})"), 401,
                       "UNAUTHORIZED"));
  r = call("GET", "/v1/policy/evaluate", {}, key);
  EXPECT_TRUE(is_error(r, 405, "METHOD_NOT_ALLOWED")) << r.body;
  EXPECT_NE(r.header("allow").find("POST"), std::string::npos);
  EXPECT_TRUE(is_error(call("POST", "/v1/admin/policy/reload", "", key), 403, "FORBIDDEN")) << "admins only";
}

TEST_F(PolicyRoutes, ActionRegistry) {
  for (const char* path : {"/v1/policy/actions", "/policy/actions"}) {
    const http_response r = call("GET", path, {}, key);
    ASSERT_EQ(r.status, 200) << path << r.body;
    const json a = body_json(r);
    EXPECT_EQ(a["policyVersion"].string, "file-v1");
    ASSERT_EQ(a["actions"].items.size(), 2u);
    EXPECT_EQ(a["actions"].items[1]["action"].string, "data.export_pii");
  }
  const http_response one = call("GET", "/v1/policy/actions/data.export_pii", {}, key);
  ASSERT_EQ(one.status, 200) << one.body;
  EXPECT_EQ(body_json(one)["allowTier"].integer, 3);
  EXPECT_EQ(body_json(one)["stepUpTier"].integer, 2);
  EXPECT_EQ(body_json(one)["risk"].string, "high");
  EXPECT_EQ(call("GET", "/v1/policy/actions/data%2Eexport_pii", {}, key).status, 200) << "percent-decoded";
  const http_response missing = call("GET", "/v1/policy/actions/teleport", {}, key);
  EXPECT_TRUE(is_error(missing, 404, "UNKNOWN_ACTION")) << missing.body;
  EXPECT_TRUE(is_error(call("GET", "/v1/policy/actions"), 401, "UNAUTHORIZED"));
}

TEST_F(PolicyRoutes, DecisionsAreLoggedAndReadableInTheirWorkspaceOnly) {
  const http_response r = evaluate(R"({"actor":{"id":"emp-7"},"action":"account.login"})", "/v1/policy/evaluate?debug=true");
  ASSERT_EQ(r.status, 200) << r.body;
  json answer = body_json(r);
  const std::string id = answer["decision_correlation_id"].string;
  const http_response got = fetch_decision(id, key);
  ASSERT_EQ(got.status, 200) << got.body;
  // The logged answer is the one sent, without the debug signals.
  json without_signals;
  without_signals.type = json::kind::object;
  for (const auto& [k, v] : answer.members) {
    if (k != "signals") without_signals.members.emplace_back(k, v);
  }
  EXPECT_EQ(body_json(got), without_signals);

  const std::string other_ws = create_workspace("other")["id"].string;
  const std::string other_key = create_key(other_ws, R"(["platform.viewer"])")["key"].string;
  EXPECT_TRUE(is_error(call("GET", "/v1/policy/decisions/" + id, {}, other_key), 404, "NOT_FOUND"));
  EXPECT_TRUE(is_error(call("GET", "/v1/policy/decisions/01890f4e-8a6b-7cc3-9d2e-4b5a69788a9b", {}, key), 404,
                       "NOT_FOUND"));
  EXPECT_TRUE(is_error(call("GET", "/v1/policy/decisions/not-a-uuid", {}, key), 404, "NOT_FOUND"));

  const http_response m = call("GET", "/metrics");
  ASSERT_EQ(m.status, 200);
  EXPECT_GE(metric_value(m.body, "warrant_decisions_logged_total").value_or(0), 1);
  EXPECT_EQ(metric_value(m.body, "warrant_decision_log_dropped_total"), 0);
  EXPECT_EQ(metric_value(m.body, "warrant_decisions_refused_total"), 0);
}

TEST_F(PolicyRoutes, ADecisionReadsBackByteForByteAfterAReloadAndARestart) {
  // Rendered again from the stored fields: the same bytes as the answer, even once a policy
  // that words things differently is in force, and after a restart.
  std::vector<std::pair<std::string, std::string>> answered;  // id, body
  for (std::string_view body : {R"({"actor":{"id":"emp-\"7\"\u00e9"},"action":"account.login"})",
                                R"({"actor":{"type":"service","id":"svc-2"},"action":"data.export_pii"})",
                                R"({"actor_id":"u-9","action":"data.export_pii"})"}) {
    const http_response r = evaluate(body);
    ASSERT_EQ(r.status, 200) << r.body;
    answered.emplace_back(body_json(r)["decision_correlation_id"].string, r.body);
  }
  for (const auto& [id, body] : answered) {
    const http_response got = fetch_decision(id, key);
    ASSERT_EQ(got.status, 200) << got.body;
    EXPECT_EQ(got.body, body);
  }
  write_policy(policy_text("file-v2", "{action: brand.new, risk: medium, allowTier: 1, stepUpTier: 0}"));
  ASSERT_EQ(admin("POST", "/v1/admin/policy/reload", "").status, 200);
  for (const auto& [id, body] : answered) EXPECT_EQ(call("GET", "/v1/policy/decisions/" + id, {}, key).body, body);
  stop();
  start(flags());
  for (const auto& [id, body] : answered) EXPECT_EQ(call("GET", "/v1/policy/decisions/" + id, {}, key).body, body);
}

TEST_F(PolicyRoutes, DecisionsAnsweredBeforeShutdownSurviveTheRestart) {
  std::vector<std::string> ids;
  for (int i = 0; i < 20; ++i) {
    const http_response r = evaluate(R"({"actor_id":"u-)" + std::to_string(i) + R"(","action":"account.login"})");
    ASSERT_EQ(r.status, 200) << r.body;
    ids.push_back(body_json(r)["decision_correlation_id"].string);
  }
  stop();  // SIGTERM at once: the log's remaining batches are flushed before the writer stops
  start(flags());
  for (const std::string& id : ids) {
    const http_response got = call("GET", "/v1/policy/decisions/" + id, {}, key);
    EXPECT_EQ(got.status, 200) << id << " " << got.body;
  }
}

}  // namespace
}  // namespace warrant::test

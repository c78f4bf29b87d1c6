// POST /v1/policy/evaluate/bulk against the real warrantd: the summary and per-item results,
// one bad item never failing the batch, every item's decision logged, the cap (default and
// --bulk-max), and back-pressure answering 503 OVERLOADED.
#include <gtest/gtest.h>

#include <utility>
#include <vector>

#include "tests/policy/policy_fixture.h"

namespace warrant::test {
namespace {

using Bulk = policy_fixture;

std::string items(int n, std::string_view item = R"({"actor_id":"u","action":"account.login"})") {
  std::string s = R"({"evaluations":[)";
  for (int i = 0; i < n; ++i) s += (i ? "," : "") + std::string(item);
  return s + "]}";
}

TEST_F(Bulk, EachItemIsEvaluatedIndependently) {
  const http_response r = call("POST", "/v1/policy/evaluate/bulk", R"({"evaluations":[
      {"actor":{"type":"human","id":"a"},"action":"account.login"},
      {"actor":{"id":"b"},"action":"teleport"},
      {"action":"account.login"},
      {"actor_id":"d","action":"data.export_pii"}]})", key);
  ASSERT_EQ(r.status, 200) << r.body;
  const json a = body_json(r);
  EXPECT_EQ(a.keys(), (std::vector<std::string>{"summary", "results"}));
  EXPECT_EQ(a["summary"].dump(), R"({"total":4,"allow":1,"step_up":0,"limit":0,"deny":1,"errors":2})");
  const auto& res = a["results"].items;
  ASSERT_EQ(res.size(), 4u);
  for (std::size_t i = 0; i < res.size(); ++i) EXPECT_EQ(res[i]["index"].integer, static_cast<std::int64_t>(i));
  EXPECT_EQ(res[0]["status"].string, "evaluated");
  EXPECT_EQ(res[0]["decision"].string, "ALLOW");
  EXPECT_EQ(res[0]["policyVersion"].string, "file-v1");
  EXPECT_EQ(res[1]["status"].string, "error");
  EXPECT_EQ(res[1]["error"]["code"].string, "UNKNOWN_ACTION");
  EXPECT_EQ(res[2]["error"].dump(),
            R"({"error":"Missing required field: actor.id","hint":"Provide an org-scoped identifier for the actor"})");
  EXPECT_EQ(res[3]["decision"].string, "DENY");
  EXPECT_FALSE(res[3].has("signals"));

  for (std::size_t i : {0u, 3u}) {
    const http_response got = fetch_decision(res[i]["decision_correlation_id"].string, key);
    ASSERT_EQ(got.status, 200) << got.body;
    EXPECT_EQ(body_json(got)["decision"].string, res[i]["decision"].string);
  }
}

// Evaluated result `i` of a bulk answer's raw text as GET /v1/policy/decisions/{id} answers it:
// {<the item's fields after "status">}; "" when there is no such evaluated item.
std::string item_answer(const std::string& body, std::size_t i) {
  const std::string prefix = R"({"index":)" + std::to_string(i) + R"(,"status":"evaluated",)";
  const std::size_t at = body.find(prefix);
  if (at == std::string::npos) return {};
  const std::size_t from = at + prefix.size();
  const std::size_t end = body.find(R"(Z"})", from);  // evaluatedAt closes every item
  if (end == std::string::npos) return {};
  std::string out = "{";
  out.append(body, from, end + 2 - from);
  out.push_back('}');
  return out;
}

TEST_F(Bulk, EveryItemReadsBackAsAnsweredAlsoAfterARestart) {
  const http_response r = call("POST", "/v1/policy/evaluate/bulk", R"({"evaluations":[
      {"actor":{"type":"human","id":"a\"q\u00e9"},"action":"account.login"},
      {"actor":{"id":"b"},"action":"teleport"},
      {"actor":{"type":"service","id":"svc-1"},"action":"data.export_pii"},
      {"actor_id":"d","action":"data.export_pii"}]})", key);
  ASSERT_EQ(r.status, 200) << r.body;
  const json answer = body_json(r);
  const auto& res = answer["results"].items;
  ASSERT_EQ(res.size(), 4u);
  std::vector<std::pair<std::string, std::string>> expected;  // id, answer
  for (std::size_t i : {0u, 2u, 3u}) {
    expected.emplace_back(res[i]["decision_correlation_id"].string, item_answer(r.body, i));
    ASSERT_FALSE(expected.back().second.empty()) << i;
  }
  for (const auto& [id, answer] : expected) {
    const http_response got = fetch_decision(id, key);
    ASSERT_EQ(got.status, 200) << got.body;
    EXPECT_EQ(got.body, answer) << id;
    EXPECT_EQ(got.header("content-type"), "application/json");
  }
  // Ids of the same group that no decision has: the refused item 1, and past the end.
  const std::string first = expected.front().first;
  for (std::string_view tail : {"001", "004", "fff"}) {
    const std::string id = first.substr(0, 33) + std::string(tail);
    EXPECT_TRUE(is_error(call("GET", "/v1/policy/decisions/" + id, {}, key), 404, "NOT_FOUND")) << id;
  }

  stop();
  start(flags());
  for (const auto& [id, answer] : expected) {
    const http_response got = call("GET", "/v1/policy/decisions/" + id, {}, key);
    ASSERT_EQ(got.status, 200) << got.body;
    EXPECT_EQ(got.body, answer) << id;
  }
}

TEST_F(Bulk, UnprefixedAndDebug) {
  const http_response r = call("POST", "/policy/evaluate/bulk?debug=true", items(2), key);
  ASSERT_EQ(r.status, 200) << r.body;
  const json a = body_json(r);
  EXPECT_EQ(a["summary"]["allow"].integer, 2);
  EXPECT_TRUE(a["results"].items[1].has("signals"));
}

TEST_F(Bulk, TheDefaultCapIs100) {
  EXPECT_EQ(call("POST", "/v1/policy/evaluate/bulk", items(100), key).status, 200);
  const http_response over = call("POST", "/v1/policy/evaluate/bulk", items(101), key);
  EXPECT_TRUE(is_error(over, 400, "BULK_LIMIT_EXCEEDED")) << over.body;
  EXPECT_TRUE(is_error(call("POST", "/v1/policy/evaluate/bulk", R"({"evaluations":[]})", key), 400, "VALIDATION_ERROR"));
  EXPECT_TRUE(is_error(call("POST", "/v1/policy/evaluate/bulk", R"({"items":[]})", key), 400, "UNKNOWN_FIELD"));
  EXPECT_TRUE(is_error(call("POST", "/v1/policy/evaluate/bulk", R"({"evaluations":[{]})", key), 400, "INVALID_JSON"));
}

class BulkCapped : public policy_fixture {
 public:
  std::vector<std::string> flags() override {
    return {"--policy-file", policy_path(), "--bulk-max", "3", "--decision-log-batch-max", "2",
            "--decision-log-pending-max", "4"};
  }
};

TEST_F(BulkCapped, TheFlagLowersTheCap) {
  EXPECT_EQ(call("POST", "/v1/policy/evaluate/bulk", items(3), key).status, 200);
  const http_response over = call("POST", "/v1/policy/evaluate/bulk", items(4), key);
  ASSERT_TRUE(is_error(over, 400, "BULK_LIMIT_EXCEEDED")) << over.body;
  EXPECT_NE(body_json(over)["error"].string.find("at most 3"), std::string::npos);
}

class BulkBackPressure : public policy_fixture {
 public:
  std::vector<std::string> flags() override {
    return {"--policy-file", policy_path(), "--decision-log-batch-max", "1", "--decision-log-pending-max", "1"};
  }
};

TEST_F(BulkBackPressure, MoreDecisionsThanTheLogCanHoldAre503NotDropped) {
  // Two decisions can never fit in a pending bound of 1: refused whole, deterministically.
  const http_response r = call("POST", "/v1/policy/evaluate/bulk", items(2), key);
  ASSERT_TRUE(is_error(r, 503, "OVERLOADED")) << r.body;
  EXPECT_EQ(r.header("retry-after"), "1");
  EXPECT_EQ(evaluate(R"({"actor_id":"u","action":"account.login"})").status, 200) << "one still fits";
  const http_response m = call("GET", "/metrics");
  EXPECT_EQ(metric_value(m.body, "warrant_decisions_refused_total"), 2);
  EXPECT_EQ(metric_value(m.body, "warrant_decision_log_dropped_total"), 0);
}

}  // namespace
}  // namespace warrant::test

// tests/evidence/evaluate_response_test.cc: the 200 answer of POST /v1/policy/evaluate
// (engine/evidence/evaluate_response.*), parsed back with simdjson, with and without the debug
// signals; and the whole evaluate path (parse, decide, serialize) allocating nothing once warm.
#include "engine/evidence/evaluate_response.h"

#include <gtest/gtest.h>
#include <simdjson.h>

#include <string>
#include <vector>

#include "engine/evidence/default_policy.h"
#include "alloc_counter.h"
#include "evidence_test_support.h"

namespace warrant::engine::evidence {
namespace {

using namespace test;

constexpr std::string_view correlation_id = "01890f4e-8a6b-7cc3-9d2e-4b5a69788a9b";

std::string render(const decision_result& r, bool debug, std::string_view actor_id = "emp-12345",
                   actor_type type = actor_type::human) {
  net::byte_buffer out;
  evaluation_response resp;
  resp.result = &r;
  resp.correlation_id = correlation_id;
  resp.actor = type;
  resp.actor_id = actor_id;
  resp.policy_version = "evidence-defaults-1";
  resp.evaluated_at_ms = r.facts.as_of_ms;
  resp.debug = debug;
  append_evaluation_json(out, resp);
  return std::string(out.view());
}

decision_result decided(std::string_view action, const evaluation_facts& f) {
  const auto p = default_policy();
  decision_result r;
  decide(*p, *p->find_action(action), f, {}, r);
  return r;
}

TEST(EvaluateResponse, FieldsInTheSpecOrder) {
  const decision_result r = decided("data.export_pii", facts_for(1));
  const std::string json = render(r, false);
  simdjson::dom::parser parser;
  simdjson::dom::object obj;
  ASSERT_EQ(parser.parse(json).get_object().get(obj), simdjson::SUCCESS) << json;
  const std::vector<std::string_view> keys = {"decision", "decision_correlation_id", "tier", "requiredTier",
                                              "claimStatus", "whyRec", "reasons", "action", "actor",
                                              "policyVersion", "evaluatedAt"};
  std::vector<std::string_view> got;
  for (auto field : obj) got.push_back(field.key);
  EXPECT_EQ(got, keys);
  EXPECT_EQ(std::string_view(obj["decision"]), "DENY");
  EXPECT_EQ(std::string_view(obj["decision_correlation_id"]), correlation_id);
  EXPECT_EQ(int64_t(obj["tier"]), 1);
  EXPECT_EQ(int64_t(obj["requiredTier"]), 3);
  EXPECT_EQ(std::string_view(obj["claimStatus"]), "clean");
  EXPECT_EQ(std::string_view(obj["whyRec"]),
            "Tier 1 is below the tier 3 required for data.export_pii; tier 2 or above would allow a step-up.");
  simdjson::dom::array reasons = obj["reasons"];
  ASSERT_EQ(reasons.size(), 1u);
  EXPECT_EQ(std::string_view(reasons.at(0)), "TIER_BELOW_ALL_BANDS");
  EXPECT_EQ(std::string_view(obj["action"]), "data.export_pii");
  EXPECT_EQ(std::string_view(obj["actor"]["type"]), "human");
  EXPECT_EQ(std::string_view(obj["actor"]["id"]), "emp-12345");
  EXPECT_EQ(std::string_view(obj["policyVersion"]), "evidence-defaults-1");
  EXPECT_EQ(std::string_view(obj["evaluatedAt"]), "2026-05-28T20:26:40.000Z");
  EXPECT_EQ(json.find("signals"), std::string::npos);
}

TEST(EvaluateResponse, ActorIdIsEscaped) {
  const decision_result r = decided("account.login", facts_for(0));
  const std::string json = render(r, false, "a\"b\\c\n\x01", actor_type::service);
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  ASSERT_EQ(parser.parse(json).get(doc), simdjson::SUCCESS) << json;
  EXPECT_EQ(std::string_view(doc["actor"]["id"]), "a\"b\\c\n\x01");
  EXPECT_EQ(std::string_view(doc["actor"]["type"]), "service");
}

// Every special byte at every position of a word and of the tail is escaped; others are not.
TEST(EvaluateResponse, StringsRoundTripWhateverTheirBytes) {
  const decision_result r = decided("account.login", facts_for(0));
  simdjson::dom::parser parser;
  for (std::size_t len = 1; len <= 20; ++len) {
    for (std::size_t at = 0; at < len; ++at) {
      for (const char special : {'"', '\\', '\n', '\x01', '\x1f', ' ', '\x7f', 'z'}) {
        std::string id(len, 'a');
        id[at] = special;
        const std::string json = render(r, false, id);
        simdjson::dom::element doc;
        ASSERT_EQ(parser.parse(json).get(doc), simdjson::SUCCESS) << json;
        ASSERT_EQ(std::string_view(doc["actor"]["id"]), id);
      }
    }
  }
  const std::string utf8 = "\xc3\xa9t\xc3\xa9-\xe2\x82\xac-\xf0\x9f\x98\x80";
  const std::string json = render(r, false, utf8);
  EXPECT_NE(json.find(utf8), std::string::npos);  // written as is, not \u-escaped
}

TEST(EvaluateResponse, DebugSignals) {
  evaluation_facts f = facts_for(2, claim_status::contested);
  f.claims.on_filed();
  f.claims.on_transition(claim_state::open, claim_state::upheld, as_of - 400 * ms_per_day);  // outside the window
  f.mode = tier_mode::marketplace;
  const decision_result r = decided("finance.approve_payment", f);
  ASSERT_EQ(r.outcome, decision::step_up);
  const std::string json = render(r, true);
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  ASSERT_EQ(parser.parse(json).get(doc), simdjson::SUCCESS) << json;
  simdjson::dom::object s = doc["signals"];
  EXPECT_EQ(uint64_t(s["history"]["countedEvents"]), 50u);
  EXPECT_EQ(uint64_t(s["history"]["ageDays"]), 30u);
  EXPECT_EQ(uint64_t(s["history"]["partners"]), 2u);
  EXPECT_EQ(std::string_view(s["history"]["earliestCountedAt"]), "2026-04-28T20:26:40.000Z");
  EXPECT_EQ(std::string_view(s["tierMode"]), "marketplace");
  EXPECT_EQ(uint64_t(s["thresholds"]["tier1"]["count"]), 10u);
  EXPECT_EQ(uint64_t(s["thresholds"]["tier2"]["ageDays"]), 30u);
  EXPECT_EQ(uint64_t(s["thresholds"]["tier3"]["partners"]), 3u);
  EXPECT_EQ(uint64_t(s["claims"]["open"]), 0u);
  EXPECT_EQ(uint64_t(s["claims"]["disputed"]), 1u);
  EXPECT_EQ(uint64_t(s["claims"]["upheld"]), 1u);
  EXPECT_EQ(uint64_t(s["claims"]["dismissed"]), 0u);
  EXPECT_EQ(uint64_t(s["claims"]["withdrawn"]), 0u);
  EXPECT_EQ(std::string_view(s["claims"]["latestUpheldAt"]), "2025-04-23T20:26:40.000Z");
  EXPECT_EQ(std::string_view(s["actionPolicy"]["risk"]), "high");
  EXPECT_EQ(int64_t(s["actionPolicy"]["allowTier"]), 3);
  EXPECT_EQ(int64_t(s["actionPolicy"]["stepUpTier"]), 2);
  EXPECT_EQ(int64_t(s["actionPolicy"]["limitTier"]), 1);
  EXPECT_EQ(std::string_view(s["agentStatus"]), "none");
  EXPECT_EQ(std::string_view(s["decidingStep"]), "tier");
  simdjson::dom::array steps = s["steps"];
  ASSERT_EQ(steps.size(), 4u);
  const char* names[] = {"agent", "tier", "context", "claims"};
  const char* after[] = {"ALLOW", "STEP_UP", "STEP_UP", "STEP_UP"};
  for (std::size_t i = 0; i < 4; ++i) {
    EXPECT_EQ(std::string_view(steps.at(i)["step"]), names[i]);
    EXPECT_TRUE(bool(steps.at(i)["evaluated"]));
    EXPECT_EQ(std::string_view(steps.at(i)["after"]), after[i]) << names[i];
  }
  EXPECT_TRUE(steps.at(0)["reason"].is_null());
  EXPECT_EQ(std::string_view(steps.at(1)["reason"]), "TIER_STEP_UP_BAND");
  EXPECT_EQ(simdjson::dom::array(steps.at(2)["rules"]).size(), 0u);
  EXPECT_EQ(std::string_view(steps.at(3)["reason"]), "CLAIMS_CONTESTED");
  // The signals come last.
  EXPECT_GT(json.find("\"signals\""), json.find("\"evaluatedAt\""));
}

TEST(EvaluateResponse, DebugSignalsOfAnAgentDenialAndOfRules) {
  const decision_result r = decided("account.login", facts_for(0, claim_status::clean, agent_status::revoked));
  const std::string json = render(r, true);
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  ASSERT_EQ(parser.parse(json).get(doc), simdjson::SUCCESS) << json;
  simdjson::dom::array steps = doc["signals"]["steps"];
  EXPECT_EQ(std::string_view(steps.at(0)["reason"]), "AGENT_REVOKED");
  for (std::size_t i = 1; i < 4; ++i) {
    EXPECT_FALSE(bool(steps.at(i)["evaluated"]));
    EXPECT_EQ(steps.at(i)["after"].error(), simdjson::NO_SUCH_FIELD);
  }
  EXPECT_EQ(std::string_view(doc["signals"]["agentStatus"]), "revoked");
  EXPECT_TRUE(doc["signals"]["history"]["earliestCountedAt"].is_null());
  EXPECT_TRUE(doc["signals"]["claims"]["latestUpheldAt"].is_null());

  const auto p = policy_from(std::string(policy_head) + R"(  - action: pay
    risk: low
    allowTier: 0
    rules:
      - {field: amount_usd, gt: 250, atLeast: STEP_UP, reason: HIGH_VALUE}
      - {field: amount_usd, gt: 1000, atLeast: DENY, reason: VERY_HIGH}
)");
  context_values ctx;
  ctx.by_field[0] = {true, value_kind::number, 500, false, {}};
  decision_result with_rules;
  decide(*p, *p->find_action("pay"), facts_for(3), ctx, with_rules);
  const std::string rules_json = render(with_rules, true);
  ASSERT_EQ(parser.parse(rules_json).get(doc), simdjson::SUCCESS) << rules_json;
  simdjson::dom::array rules = doc["signals"]["steps"].at(2)["rules"];
  ASSERT_EQ(rules.size(), 2u);
  EXPECT_EQ(std::string_view(rules.at(0)["field"]), "amount_usd");
  EXPECT_EQ(std::string_view(rules.at(0)["op"]), "gt");
  EXPECT_TRUE(bool(rules.at(0)["matched"]));
  EXPECT_TRUE(bool(rules.at(0)["tightened"]));
  EXPECT_FALSE(bool(rules.at(1)["matched"]));
  EXPECT_EQ(std::string_view(doc["signals"]["decidingStep"]), "context");
  EXPECT_EQ(std::string_view(doc["reasons"].at(1)), "HIGH_VALUE");
}

TEST(EvaluateResponse, BulkItemFieldsHaveNoBraces) {
  const decision_result r = decided("account.login", facts_for(0));
  net::byte_buffer out;
  evaluation_response resp;
  resp.result = &r;
  resp.correlation_id = correlation_id;
  resp.actor_id = "u";
  resp.policy_version = "v";
  resp.evaluated_at_ms = as_of;
  out.append("{\"index\":0,\"status\":\"evaluated\",");
  append_decision_fields(out, resp);
  out.push_back('}');
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  ASSERT_EQ(parser.parse(std::string(out.view())).get(doc), simdjson::SUCCESS) << out.view();
  EXPECT_EQ(std::string_view(doc["decision"]), "ALLOW");
  EXPECT_EQ(int64_t(doc["index"]), 0);
}

TEST(EvaluateResponse, TimeFormat) {
  char buf[time_text_bytes];
  EXPECT_EQ(format_time_ms_into(buf, 0), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(format_time_ms_into(buf, 1'780'000'000'123), "2026-05-28T20:26:40.123Z");
  EXPECT_EQ(format_time_ms_into(buf, 951'782'400'000), "2000-02-29T00:00:00.000Z");
  EXPECT_EQ(format_time_ms_into(buf, -1), "1969-12-31T23:59:59.999Z");
  EXPECT_EQ(format_time_ms_into(buf, 253'402'300'799'999), "9999-12-31T23:59:59.999Z");
  // The per-thread cache of the last second: the same second, another millisecond, and back.
  EXPECT_EQ(format_time_ms_into(buf, 1'780'000'000'000), "2026-05-28T20:26:40.000Z");
  EXPECT_EQ(format_time_ms_into(buf, 1'780'000'000'999), "2026-05-28T20:26:40.999Z");
  EXPECT_EQ(format_time_ms_into(buf, 1'780'000'001'000), "2026-05-28T20:26:41.000Z");
  EXPECT_EQ(format_time_ms_into(buf, -1), "1969-12-31T23:59:59.999Z");
  EXPECT_EQ(format_time_ms_into(buf, -1000), "1969-12-31T23:59:59.000Z");
  EXPECT_EQ(format_time_ms_into(buf, -1001), "1969-12-31T23:59:58.999Z");
}

// The route's whole hot path: parse the body, decide, write the answer. Once the buffers have
// grown, nothing is allocated.
TEST(EvaluatePath, AllocatesNothingInSteadyState) {
  const auto p = policy_from(std::string(policy_head) + R"(  - action: pay
    risk: high
    allowTier: 2
    stepUpTier: 1
    rules:
      - {field: amount_usd, gt: 250, atLeast: STEP_UP, reason: HIGH_VALUE}
      - {field: country, in: [KP, IR], atLeast: DENY, reason: EMBARGO}
)");
  const std::string body =
      R"({"actor":{"type":"human","id":"emp-12345"},"action":"pay","resource":{"id":"inv-9"},)"
      R"("context":{"amount_usd":300,"country":"FR","note":"x"}})";
  net::byte_buffer out;
  const evaluation_facts facts = facts_for(2, claim_status::contested);
  auto once = [&](bool debug) {
    evaluate_request req;
    json_error err;
    if (!parse_evaluate_request(body, *p, req, err)) return false;
    decision_result r;
    decide(*p, *req.action, facts, req.context, r);
    evaluation_response resp{&r, correlation_id, req.actor, req.actor_id, p->version(), facts.as_of_ms, debug};
    out.clear();
    append_evaluation_json(out, resp);
    return true;
  };
  ASSERT_TRUE(once(true));  // warm: thread parser, padded buffer, output capacity
  const std::size_t capacity = out.capacity();
  bool ok = true;
  const std::size_t allocations = test::count_allocations([&] {
    for (int i = 0; i < 1000; ++i) ok = ok && once(i % 2 == 0);
  });
  EXPECT_TRUE(ok);
  EXPECT_EQ(allocations, 0u);
  EXPECT_EQ(out.capacity(), capacity);
  // And it decided what it should: STEP_UP by the rule.
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  ASSERT_TRUE(once(false));
  ASSERT_EQ(parser.parse(std::string(out.view())).get(doc), simdjson::SUCCESS);
  EXPECT_EQ(std::string_view(doc["decision"]), "STEP_UP");
}

}  // namespace
}  // namespace warrant::engine::evidence

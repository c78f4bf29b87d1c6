// tests/evidence/policy_test.cc: loading the policy file (engine/evidence/policy_load.*,
// policy.*, default_policy.*): the shipped defaults, the JSON form, and each validation error
// at the line it names.
#include "engine/evidence/policy_load.h"

#include <gtest/gtest.h>
#include <simdjson.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>
#include <string>

#include "engine/evidence/default_policy.h"

namespace warrant::engine::evidence {
namespace {

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

const std::string shipped_path = std::string(WARRANT_SOURCE_DIR) + "/engine/evidence/default-policy.yaml";

struct band_row {
  risk_level risk;
  int allow;
  int step_up;
  int limit;
};

// spec/evidence.md "Defaults to ship", restated.
const std::map<std::string, band_row> spec_defaults = {
    {"account.login", {risk_level::low, 0, no_band, no_band}},
    {"message.send", {risk_level::low, 1, no_band, 0}},
    {"review.submit", {risk_level::low, 1, no_band, 0}},
    {"listing.create", {risk_level::low, 1, 0, no_band}},
    {"checkout.complete", {risk_level::medium, 1, 0, no_band}},
    {"data.export", {risk_level::medium, 2, no_band, 1}},
    {"payout.request", {risk_level::high, 2, 1, no_band}},
    {"lending.apply", {risk_level::high, 2, 1, no_band}},
    {"credential.rotate", {risk_level::high, 2, 1, no_band}},
    {"api_key.create", {risk_level::high, 2, 1, no_band}},
    {"agent.spawn", {risk_level::high, 2, 1, no_band}},
    {"data.export_pii", {risk_level::high, 3, 2, no_band}},
    {"finance.approve_payment", {risk_level::high, 3, 2, 1}},
    {"admin.role_grant", {risk_level::critical, 3, 2, no_band}},
};

void expect_spec_defaults(const policy& p) {
  EXPECT_EQ(p.actions().size(), spec_defaults.size());
  for (const auto& [name, want] : spec_defaults) {
    const action_policy* a = p.find_action(name);
    ASSERT_NE(a, nullptr) << name;
    EXPECT_EQ(a->name, name);
    EXPECT_EQ(a->risk, want.risk) << name;
    EXPECT_EQ(a->allow_tier, want.allow) << name;
    EXPECT_EQ(a->step_up_tier, want.step_up) << name;
    EXPECT_EQ(a->limit_tier, want.limit) << name;
    EXPECT_TRUE(a->rules.empty()) << name;
  }
  const tier_thresholds& t = p.thresholds();
  EXPECT_EQ(t.at[0].count, 10u);
  EXPECT_EQ(t.at[0].age_days, 14u);
  EXPECT_EQ(t.at[0].partners, 0u);
  EXPECT_EQ(t.at[1].count, 50u);
  EXPECT_EQ(t.at[1].age_days, 30u);
  EXPECT_EQ(t.at[1].partners, 2u);
  EXPECT_EQ(t.at[2].count, 200u);
  EXPECT_EQ(t.at[2].age_days, 90u);
  EXPECT_EQ(t.at[2].partners, 3u);
  EXPECT_EQ(p.default_mode(), tier_mode::enterprise);
  EXPECT_EQ(p.caps().bulk_max, 100u);
  EXPECT_EQ(p.caps().agent_bulk_max, 25u);
}

TEST(DefaultPolicy, EmbeddedTextEqualsTheShippedFile) {
  const std::string shipped = read_file(shipped_path);
  ASSERT_FALSE(shipped.empty()) << shipped_path;
  EXPECT_EQ(default_policy_text, shipped);
}

TEST(DefaultPolicy, LoadsCleanlyAndHoldsTheSpecDefaults) {
  const policy_load_result r = load_policy(default_policy_text);
  ASSERT_TRUE(r.ok()) << r.error.to_string();
  EXPECT_EQ(r.loaded->version(), "evidence-defaults-1");
  expect_spec_defaults(*r.loaded);
  const auto p = default_policy();
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(p, default_policy());  // loaded once
  expect_spec_defaults(*p);
  const policy_load_result from_file = load_policy_file(shipped_path);
  ASSERT_TRUE(from_file.ok()) << from_file.error.to_string();
  EXPECT_EQ(from_file.loaded->actions_json(), p->actions_json());
}

// The defaults written as JSON load to the same policy.
constexpr std::string_view defaults_as_json = R"({
  "version": "evidence-defaults-1",
  "tiers": {
    "tier1": {"count": 10, "ageDays": 14},
    "tier2": {"count": 50, "ageDays": 30, "partners": 2},
    "tier3": {"count": 200, "ageDays": 90, "partners": 3}
  },
  "tierMode": {"default": "enterprise", "namespaces": {}},
  "actions": [
    {"action": "account.login", "risk": "low", "allowTier": 0},
    {"action": "message.send", "risk": "low", "allowTier": 1, "limitTier": 0},
    {"action": "review.submit", "risk": "low", "allowTier": 1, "limitTier": 0},
    {"action": "listing.create", "risk": "low", "allowTier": 1, "stepUpTier": 0},
    {"action": "checkout.complete", "risk": "medium", "allowTier": 1, "stepUpTier": 0},
    {"action": "data.export", "risk": "medium", "allowTier": 2, "limitTier": 1},
    {"action": "payout.request", "risk": "high", "allowTier": 2, "stepUpTier": 1},
    {"action": "lending.apply", "risk": "high", "allowTier": 2, "stepUpTier": 1},
    {"action": "credential.rotate", "risk": "high", "allowTier": 2, "stepUpTier": 1},
    {"action": "api_key.create", "risk": "high", "allowTier": 2, "stepUpTier": 1},
    {"action": "agent.spawn", "risk": "high", "allowTier": 2, "stepUpTier": 1},
    {"action": "data.export_pii", "risk": "high", "allowTier": 3, "stepUpTier": 2},
    {"action": "finance.approve_payment", "risk": "high", "allowTier": 3, "stepUpTier": 2, "limitTier": 1},
    {"action": "admin.role_grant", "risk": "critical", "allowTier": 3, "stepUpTier": 2}
  ],
  "caps": {"bulkMax": 100, "agentBulkMax": 25}
})";

TEST(PolicyLoad, JsonFormIsAccepted) {
  const policy_load_result r = load_policy(defaults_as_json);
  ASSERT_TRUE(r.ok()) << r.error.to_string();
  expect_spec_defaults(*r.loaded);
  EXPECT_EQ(r.loaded->actions_json(), default_policy()->actions_json());
}

TEST(PolicyLoad, JsonErrorsNameTheirLine) {
  std::string json(defaults_as_json);
  json.replace(json.find("\"allowTier\": 3, \"stepUpTier\": 2}"), 14, "\"allowTier\": \"3\"");
  const policy_load_result r = load_policy(json);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error.line, 21) << r.error.to_string();  // data.export_pii
  EXPECT_NE(r.error.message.find("allowTier"), std::string::npos) << r.error.message;
}

constexpr std::string_view minimal = R"(tiers:
  tier1: {count: 10, ageDays: 14}
  tier2: {count: 50, ageDays: 30, partners: 2}
  tier3: {count: 200, ageDays: 90, partners: 3}
actions:
  - {action: a.one, risk: low, allowTier: 1}
)";

TEST(PolicyLoad, WithoutVersionTheContentHashNamesIt) {
  const policy_load_result a = load_policy(minimal);
  ASSERT_TRUE(a.ok()) << a.error.to_string();
  const std::string_view v = a.loaded->version();
  ASSERT_EQ(v.size(), 7u + 16u) << v;
  EXPECT_EQ(v.substr(0, 7), "sha256:");
  EXPECT_EQ(v.find_first_not_of("0123456789abcdef", 7), std::string_view::npos);
  EXPECT_EQ(load_policy(minimal).loaded->version(), v);  // deterministic
  const policy_load_result b = load_policy(std::string(minimal) + "# a comment\n");
  ASSERT_TRUE(b.ok());
  EXPECT_NE(b.loaded->version(), v);  // any change of the file is a new version
  // Optional parts take their defaults.
  EXPECT_EQ(a.loaded->default_mode(), tier_mode::enterprise);
  EXPECT_EQ(a.loaded->caps().bulk_max, 100u);
  EXPECT_EQ(a.loaded->caps().agent_bulk_max, 25u);
  EXPECT_EQ(a.loaded->thresholds().at[0].partners, 0u);
}

TEST(PolicyLoad, NamespaceModes) {
  const policy_load_result r = load_policy(std::string(minimal) + R"(tierMode:
  default: marketplace
  namespaces:
    acme: enterprise
    "shared market": marketplace
    zeta: enterprise
)");
  ASSERT_TRUE(r.ok()) << r.error.to_string();
  EXPECT_EQ(r.loaded->default_mode(), tier_mode::marketplace);
  EXPECT_EQ(r.loaded->mode_for("acme"), tier_mode::enterprise);
  EXPECT_EQ(r.loaded->mode_for("zeta"), tier_mode::enterprise);
  EXPECT_EQ(r.loaded->mode_for("shared market"), tier_mode::marketplace);
  EXPECT_EQ(r.loaded->mode_for("other"), tier_mode::marketplace);
  EXPECT_EQ(r.loaded->mode_for(""), tier_mode::marketplace);
}

TEST(PolicyLoad, RulesAndTheirFields) {
  const policy_load_result r = load_policy(std::string(minimal) + R"(  - action: pay
    risk: medium
    allowTier: 2
    stepUpTier: 1
    rules:
      - {field: amount_usd, gt: 250, atLeast: STEP_UP, reason: HIGH_VALUE}
      - {field: amount_usd, gte: 1e4, atLeast: DENY, reason: TOO_HIGH}
      - {field: country, in: [KP, IR, "CU"], atLeast: DENY, reason: EMBARGO}
      - {field: first_time, eq: true, atLeast: LIMIT, reason: NEW_PAYEE}
      - {field: channel, ne: "api", atLeast: STEP_UP, reason: INTERACTIVE}
      - {field: score, lt: -0.5, atLeast: LIMIT, reason: LOW_SCORE}
      - {field: score, lte: 0.25, atLeast: STEP_UP, reason: MID_SCORE}
)");
  ASSERT_TRUE(r.ok()) << r.error.to_string();
  const policy& p = *r.loaded;
  const action_policy* pay = p.find_action("pay");
  ASSERT_NE(pay, nullptr);
  ASSERT_EQ(pay->rules.size(), 7u);
  EXPECT_EQ(pay->rules[0].op, rule_op::gt);
  EXPECT_EQ(pay->rules[0].values[0].number, 250);
  EXPECT_EQ(pay->rules[0].values[0].text, "250");
  EXPECT_EQ(pay->rules[0].line, 12);
  EXPECT_EQ(pay->rules[1].values[0].text, "10000");
  EXPECT_EQ(pay->rules[2].values.size(), 3u);
  EXPECT_EQ(pay->rules[2].values[2].kind, value_kind::string);
  EXPECT_EQ(pay->rules[2].values[2].text, "CU");
  EXPECT_EQ(pay->rules[3].values[0].kind, value_kind::boolean);
  EXPECT_TRUE(pay->rules[3].values[0].flag);
  EXPECT_EQ(pay->rules[5].values[0].number, -0.5);
  ASSERT_EQ(p.context_fields().size(), 5u);
  EXPECT_EQ(p.context_fields()[0].name, "amount_usd");
  EXPECT_EQ(p.context_fields()[0].kind, value_kind::number);
  EXPECT_EQ(p.context_fields()[1].name, "country");
  EXPECT_EQ(p.context_fields()[1].kind, value_kind::string);
  EXPECT_EQ(p.context_fields()[2].kind, value_kind::boolean);
  EXPECT_EQ(pay->rules[1].field_index, 0);
  EXPECT_EQ(pay->rules[6].field_index, 4);
  EXPECT_EQ(p.find_context_field("score"), 4u);
  EXPECT_FALSE(p.find_context_field("amount").has_value());
}

TEST(PolicyLoad, ActionListingJson) {
  const policy_load_result r = load_policy(std::string(minimal) + R"(  - action: pay
    risk: critical
    allowTier: 3
    stepUpTier: 2
    limitTier: 1
    rules:
      - {field: amount_usd, gt: 250, atLeast: STEP_UP, reason: HIGH_VALUE}
      - {field: country, in: [KP, "a\"b"], atLeast: DENY, reason: EMBARGO}
      - {field: vip, eq: false, atLeast: LIMIT, reason: NOT_VIP}
)");
  ASSERT_TRUE(r.ok()) << r.error.to_string();
  const policy& p = *r.loaded;
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  ASSERT_EQ(parser.parse(p.actions_json().data(), p.actions_json().size()).get(doc), simdjson::SUCCESS)
      << p.actions_json();
  EXPECT_EQ(std::string_view(doc["policyVersion"]), p.version());
  simdjson::dom::array actions = doc["actions"];
  ASSERT_EQ(actions.size(), 2u);
  simdjson::dom::element one = actions.at(0);
  EXPECT_EQ(std::string_view(one["action"]), "a.one");
  EXPECT_EQ(std::string_view(one["risk"]), "low");
  EXPECT_EQ(int64_t(one["allowTier"]), 1);
  EXPECT_TRUE(one["stepUpTier"].is_null());
  EXPECT_TRUE(one["limitTier"].is_null());
  EXPECT_EQ(simdjson::dom::array(one["rules"]).size(), 0u);
  simdjson::dom::element pay = actions.at(1);
  EXPECT_EQ(std::string_view(pay["risk"]), "critical");
  EXPECT_EQ(int64_t(pay["stepUpTier"]), 2);
  EXPECT_EQ(int64_t(pay["limitTier"]), 1);
  simdjson::dom::array rules = pay["rules"];
  ASSERT_EQ(rules.size(), 3u);
  EXPECT_EQ(std::string_view(rules.at(0)["field"]), "amount_usd");
  EXPECT_EQ(int64_t(rules.at(0)["gt"]), 250);
  EXPECT_EQ(std::string_view(rules.at(0)["atLeast"]), "STEP_UP");
  EXPECT_EQ(std::string_view(rules.at(0)["reason"]), "HIGH_VALUE");
  EXPECT_EQ(std::string_view(rules.at(1)["in"].at(1)), "a\"b");
  EXPECT_FALSE(bool(rules.at(2)["eq"]));
  // One action alone is the same object as in the listing.
  const std::string_view single = p.action_json(*p.find_action("pay"));
  EXPECT_NE(p.actions_json().find(single), std::string_view::npos);
  EXPECT_EQ(single.front(), '{');
}

TEST(PolicyLoad, ManyActionsAreAllFound) {
  std::string text(minimal);
  for (int i = 0; i < 1000; ++i) text += "  - {action: act." + std::to_string(i) + ", risk: high, allowTier: 2}\n";
  const policy_load_result r = load_policy(text);
  ASSERT_TRUE(r.ok()) << r.error.to_string();
  for (int i = 0; i < 1000; ++i) {
    const std::string name = "act." + std::to_string(i);
    const action_policy* a = r.loaded->find_action(name);
    ASSERT_NE(a, nullptr) << name;
    EXPECT_EQ(a->name, name);
  }
  EXPECT_EQ(r.loaded->find_action("act.1000"), nullptr);
  EXPECT_EQ(r.loaded->find_action(""), nullptr);
  EXPECT_EQ(r.loaded->find_action("a.one")->risk, risk_level::low);
}

struct bad_policy {
  const char* name;
  std::string text;
  int line;           // 0: no place
  const char* words;  // expected in the message
};

std::string with_action(std::string_view yaml_lines) { return std::string(minimal) + std::string(yaml_lines); }

// Lines 1-6 are `minimal`; an appended action starts on line 7.
const bad_policy bad_policies[] = {
    {"empty file", "", 0, "empty"},
    {"only a comment", "# nothing\n", 0, "empty"},
    {"root is a list", "- a\n- b\n", 1, "must be a mapping"},
    {"root is a scalar", "hello\n", 1, "must be a mapping"},
    {"syntax error", "tiers: {tier1: [\n", 2, "malformed YAML"},
    {"bad indentation", "tiers:\n  tier1: 1\n bad: 2\n", 3, "malformed YAML"},
    {"unknown top key", std::string(minimal) + "extra: 1\n", 7, "unknown key 'extra'"},
    {"duplicate top key", std::string(minimal) + "caps: {}\ncaps: {}\n", 8, "duplicate key 'caps'"},
    {"no tiers", "actions:\n  - {action: a, risk: low, allowTier: 0}\n", 1, "needs 'tiers'"},
    {"no actions", "tiers:\n  tier1: {count: 10, ageDays: 14}\n  tier2: {count: 50, ageDays: 30}\n  tier3: {count: 200, ageDays: 90}\n", 1, "needs 'actions'"},
    {"missing tier2", "tiers:\n  tier1: {count: 10, ageDays: 14}\n  tier3: {count: 200, ageDays: 90}\nactions: []\n", 2, "needs 'tier2'"},
    {"unknown tier", "tiers:\n  tier4: {count: 10, ageDays: 14}\n", 2, "unknown key 'tier4'"},
    {"tier key typo", "tiers:\n  tier1: {count: 10, age_days: 14}\n", 2, "unknown key 'age_days'"},
    {"tier count missing", "tiers:\n  tier1: {ageDays: 14}\n", 2, "needs 'count'"},
    {"tier count zero", "tiers:\n  tier1: {count: 0, ageDays: 14}\n", 2, "'count' must be an integer from 1"},
    {"tier count negative", "tiers:\n  tier1: {count: -5, ageDays: 14}\n", 2, "'count' must be an integer"},
    {"tier count quoted", "tiers:\n  tier1: {count: \"10\", ageDays: 14}\n", 2, "'count' must be an integer"},
    {"tier count float", "tiers:\n  tier1:\n    count: 10.5\n    ageDays: 14\n", 3, "'count' must be an integer"},
    {"tiers decrease", "tiers:\n  tier1: {count: 10, ageDays: 14}\n  tier2: {count: 50, ageDays: 10}\n  tier3: {count: 200, ageDays: 90}\nactions: []\n", 3, "tier2 asks less than tier1"},
    {"partners decrease", "tiers:\n  tier1: {count: 10, ageDays: 14}\n  tier2: {count: 50, ageDays: 30, partners: 4}\n  tier3: {count: 200, ageDays: 90, partners: 3}\nactions: []\n", 4, "tier3 asks less than tier2"},
    {"actions not a list", std::string(minimal.substr(0, minimal.find("actions:"))) + "actions: {a: 1}\n", 5, "must be a list"},
    {"actions empty", std::string(minimal.substr(0, minimal.find("actions:"))) + "actions: []\n", 5, "at least one action"},
    {"action not a mapping", with_action("  - just.a.name\n"), 7, "an action must be a mapping"},
    {"action without name", with_action("  - {risk: low, allowTier: 0}\n"), 7, "needs 'action'"},
    {"action without risk", with_action("  - {action: b, allowTier: 0}\n"), 7, "needs 'risk'"},
    {"action without allowTier", with_action("  - {action: b, risk: low}\n"), 7, "needs 'allowTier'"},
    {"unknown action key", with_action("  - action: b\n    risk: low\n    allowTier: 0\n    denyTier: 0\n"), 10, "unknown key 'denyTier'"},
    {"duplicate action key", with_action("  - action: b\n    risk: low\n    risk: high\n    allowTier: 0\n"), 9, "duplicate key 'risk'"},
    {"unknown risk", with_action("  - action: b\n    risk: extreme\n    allowTier: 0\n"), 8, "'risk' must be low, medium, high or critical"},
    {"risk as list", with_action("  - action: b\n    risk: [low]\n    allowTier: 0\n"), 8, "'risk' must be"},
    {"allowTier 4", with_action("  - action: b\n    risk: low\n    allowTier: 4\n"), 9, "'allowTier' must be an integer from 0 to 3"},
    {"allowTier -1", with_action("  - action: b\n    risk: low\n    allowTier: -1\n"), 9, "'allowTier' must be an integer from 0 to 3"},
    {"allowTier quoted", with_action("  - action: b\n    risk: low\n    allowTier: '2'\n"), 9, "'allowTier' must be an integer"},
    {"allowTier word", with_action("  - action: b\n    risk: low\n    allowTier: two\n"), 9, "'allowTier' must be an integer"},
    {"stepUpTier 9", with_action("  - action: b\n    risk: low\n    allowTier: 3\n    stepUpTier: 9\n"), 10, "'stepUpTier' must be an integer from 0 to 3"},
    {"limitTier null", with_action("  - action: b\n    risk: low\n    allowTier: 3\n    limitTier:\n"), 10, "'limitTier' in an action has no value"},
    {"stepUp equals allow", with_action("  - action: b\n    risk: low\n    allowTier: 2\n    stepUpTier: 2\n"), 10, "stepUpTier (2) must be below allowTier (2)"},
    {"stepUp above allow", with_action("  - action: b\n    risk: low\n    allowTier: 1\n    stepUpTier: 3\n"), 10, "stepUpTier (3) must be below allowTier (1)"},
    {"limit above stepUp", with_action("  - action: b\n    risk: low\n    allowTier: 3\n    stepUpTier: 1\n    limitTier: 2\n"), 11, "limitTier (2) must be below stepUpTier (1)"},
    {"limit equals allow", with_action("  - action: b\n    risk: low\n    allowTier: 1\n    limitTier: 1\n"), 10, "limitTier (1) must be below allowTier (1)"},
    {"duplicate action", with_action("  - {action: b, risk: low, allowTier: 0}\n  - {action: a.one, risk: low, allowTier: 0}\n"), 8, "duplicate action 'a.one' (first at line 6)"},
    {"bad action name", with_action("  - {action: \"two words\", risk: low, allowTier: 0}\n"), 7, "'action' must use only"},
    {"action name too long", with_action("  - {action: " + std::string(129, 'x') + ", risk: low, allowTier: 0}\n"), 7, "'action' must be 1 to 128 bytes"},
    {"rules not a list", with_action("  - action: b\n    risk: low\n    allowTier: 0\n    rules: {}\n"), 10, "'rules' of action 'b' must be a list"},
    {"rule not a mapping", with_action("  - action: b\n    risk: low\n    allowTier: 0\n    rules:\n      - 5\n"), 11, "must be a mapping"},
    {"rule without field", with_action("  - action: b\n    risk: low\n    allowTier: 1\n    rules:\n      - {gt: 1, atLeast: DENY, reason: R}\n"), 11, "needs 'field'"},
    {"rule without comparison", with_action("  - action: b\n    risk: low\n    allowTier: 1\n    rules:\n      - {field: f, atLeast: DENY, reason: R}\n"), 11, "needs one comparison"},
    {"rule with two comparisons", with_action("  - action: b\n    risk: low\n    allowTier: 1\n    rules:\n      - field: f\n        gt: 1\n        lt: 5\n        atLeast: DENY\n        reason: R\n"), 13, "compares more than once"},
    {"rule without atLeast", with_action("  - action: b\n    risk: low\n    allowTier: 1\n    rules:\n      - {field: f, gt: 1, reason: R}\n"), 11, "needs 'atLeast'"},
    {"rule without reason", with_action("  - action: b\n    risk: low\n    allowTier: 1\n    rules:\n      - {field: f, gt: 1, atLeast: DENY}\n"), 11, "needs 'reason'"},
    {"rule atLeast ALLOW", with_action("  - action: b\n    risk: low\n    allowTier: 1\n    rules:\n      - field: f\n        gt: 1\n        atLeast: ALLOW\n        reason: R\n"), 13, "'atLeast' must be STEP_UP, LIMIT or DENY"},
    {"rule atLeast lower case", with_action("  - action: b\n    risk: low\n    allowTier: 1\n    rules:\n      - field: f\n        gt: 1\n        atLeast: deny\n        reason: R\n"), 13, "'atLeast' must be"},
    {"rule reason lower case", with_action("  - action: b\n    risk: low\n    allowTier: 1\n    rules:\n      - field: f\n        gt: 1\n        atLeast: DENY\n        reason: high_value\n"), 14, "'reason' must use only A-Z"},
    {"rule reason reserved", with_action("  - action: b\n    risk: low\n    allowTier: 1\n    rules:\n      - field: f\n        gt: 1\n        atLeast: DENY\n        reason: CLAIMS_FLAGGED\n"), 14, "reserved"},
    {"rule gt a string", with_action("  - action: b\n    risk: low\n    allowTier: 1\n    rules:\n      - field: f\n        gt: lots\n        atLeast: DENY\n        reason: R\n"), 12, "'gt' needs a number"},
    {"rule lte quoted number", with_action("  - action: b\n    risk: low\n    allowTier: 1\n    rules:\n      - field: f\n        lte: \"5\"\n        atLeast: DENY\n        reason: R\n"), 12, "'lte' needs a number"},
    {"rule gt infinity", with_action("  - action: b\n    risk: low\n    allowTier: 1\n    rules:\n      - field: f\n        gt: inf\n        atLeast: DENY\n        reason: R\n"), 12, "'gt' needs a number"},
    {"rule eq a list", with_action("  - action: b\n    risk: low\n    allowTier: 1\n    rules:\n      - field: f\n        eq: [1]\n        atLeast: DENY\n        reason: R\n"), 12, "'eq' takes a number, string or boolean"},
    {"rule in a scalar", with_action("  - action: b\n    risk: low\n    allowTier: 1\n    rules:\n      - field: f\n        in: KP\n        atLeast: DENY\n        reason: R\n"), 12, "'in' must be a list of 1 to 64 values"},
    {"rule in empty", with_action("  - action: b\n    risk: low\n    allowTier: 1\n    rules:\n      - field: f\n        in: []\n        atLeast: DENY\n        reason: R\n"), 12, "'in' must be a list"},
    {"rule in mixed", with_action("  - action: b\n    risk: low\n    allowTier: 1\n    rules:\n      - field: f\n        in:\n          - KP\n          - 5\n        atLeast: DENY\n        reason: R\n"), 14, "all be of one kind"},
    {"rule unknown key", with_action("  - action: b\n    risk: low\n    allowTier: 1\n    rules:\n      - field: f\n        gt: 1\n        between: 2\n"), 13, "unknown key 'between'"},
    {"field kinds conflict", with_action("  - action: b\n    risk: low\n    allowTier: 1\n    rules:\n      - {field: f, gt: 1, atLeast: DENY, reason: R}\n  - action: c\n    risk: low\n    allowTier: 1\n    rules:\n      - {field: f, eq: yes, atLeast: DENY, reason: R}\n"), 16, "field 'f' is compared as a string here but as a number at line 11"},
    {"bad field name", with_action("  - action: b\n    risk: low\n    allowTier: 1\n    rules:\n      - {field: \"a b\", gt: 1, atLeast: DENY, reason: R}\n"), 11, "'field' must use only"},
    {"unknown mode", std::string(minimal) + "tierMode:\n  default: hybrid\n", 8, "'tierMode.default' must be enterprise or marketplace"},
    {"unknown namespace mode", std::string(minimal) + "tierMode:\n  namespaces:\n    acme: open\n", 9, "'tierMode.namespaces.acme' must be"},
    {"duplicate namespace", std::string(minimal) + "tierMode:\n  namespaces:\n    acme: marketplace\n    acme: enterprise\n", 10, "duplicate key 'acme' in tierMode.namespaces (first at line 9)"},
    {"unknown tierMode key", std::string(minimal) + "tierMode:\n  fallback: enterprise\n", 8, "unknown key 'fallback'"},
    {"bulkMax zero", std::string(minimal) + "caps: {bulkMax: 0}\n", 7, "'bulkMax' must be an integer from 1 to 1000"},
    {"bulkMax too big", std::string(minimal) + "caps:\n  bulkMax: 1001\n", 8, "'bulkMax' must be an integer from 1 to 1000"},
    {"agent cap above bulk", std::string(minimal) + "caps:\n  bulkMax: 10\n  agentBulkMax: 25\n", 9, "'agentBulkMax' (25) must not exceed 'bulkMax' (10)"},
    {"unknown caps key", std::string(minimal) + "caps:\n  itemsMax: 10\n", 8, "unknown key 'itemsMax'"},
    {"version with a space", "version: two words\n" + std::string(minimal), 1, "'version' must be printable ASCII"},
    {"version a list", "version: [1]\n" + std::string(minimal), 1, "'version' must be a string"},
    {"version too long", "version: " + std::string(129, 'v') + "\n" + std::string(minimal), 1, "'version' must be 1 to 128 bytes"},
};

TEST(PolicyLoad, EachValidationErrorNamesItsLine) {
  for (const bad_policy& c : bad_policies) {
    const policy_load_result r = load_policy(c.text);
    EXPECT_FALSE(r.ok()) << c.name;
    if (r.ok()) continue;
    EXPECT_EQ(r.error.line, c.line) << c.name << ": " << r.error.to_string();
    EXPECT_NE(r.error.message.find(c.words), std::string::npos) << c.name << ": " << r.error.to_string();
    if (std::getenv("WARRANT_SHOW_POLICY_ERRORS")) std::printf("%-28s %s\n", c.name, r.error.to_string().c_str());
    if (c.line > 0) {
      EXPECT_GT(r.error.column, 0) << c.name;
      EXPECT_EQ(r.error.to_string().rfind("line " + std::to_string(c.line) + ", column ", 0), 0u) << c.name;
    }
  }
}

TEST(PolicyLoad, Limits) {
  // Too many rules on one action.
  std::string text = with_action("  - action: b\n    risk: low\n    allowTier: 1\n    rules:\n");
  for (std::size_t i = 0; i <= rules_per_action_max; ++i) text += "      - {field: f, gt: 1, atLeast: DENY, reason: R}\n";
  policy_load_result r = load_policy(text);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error.message.find("more than 16 rules"), std::string::npos) << r.error.to_string();
  // Too many distinct context fields across all rules.
  text = with_action("");
  for (std::size_t i = 0; i <= context_fields_max; ++i) {
    text += "  - action: b" + std::to_string(i) + "\n    risk: low\n    allowTier: 1\n    rules:\n      - {field: f" +
            std::to_string(i) + ", gt: 1, atLeast: DENY, reason: R}\n";
  }
  r = load_policy(text);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error.message.find("at most 16 distinct context fields"), std::string::npos) << r.error.to_string();
  // Too many actions.
  text = std::string(minimal);
  for (std::size_t i = 0; i < actions_max; ++i) text += "  - {action: x" + std::to_string(i) + ", risk: low, allowTier: 0}\n";
  r = load_policy(text);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error.message.find("more than 1024 actions"), std::string::npos) << r.error.to_string();
  // Too big a file.
  r = load_policy(std::string(minimal) + "#" + std::string(policy_file_bytes_max, 'x') + "\n");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error.line, 0);
  EXPECT_NE(r.error.message.find("larger than"), std::string::npos);
}

TEST(PolicyLoad, TextMustBeUtf8) {
  struct probe {
    std::string bytes;
    bool valid;
  };
  const probe probes[] = {
      {"caf\xc3\xa9", true},          {"\xe2\x82\xac", true},      {"\xf0\x9f\x98\x80", true},
      {"\xf4\x8f\xbf\xbf", true},      {"\x81", false},              {"\xc3", false},
      {"\xc0\xaf", false},             {"\xe0\x80\xaf", false},      {"\xed\xa0\x80", false},
      {"\xf4\x90\x80\x80", false},     {"\xf5\x80\x80\x80", false}, {"\xe2\x82", false},
      {"\xff", false},
  };
  for (const probe& pr : probes) {
    const std::string text = with_action("  - action: b\n    risk: low\n    allowTier: 1\n    rules:\n      - {field: f, eq: \"x" +
                                         pr.bytes + "\", atLeast: DENY, reason: R}\n");
    const policy_load_result r = load_policy(text);
    EXPECT_EQ(r.ok(), pr.valid) << r.error.to_string();
    if (!pr.valid) {
      EXPECT_EQ(r.error.line, 11);
      EXPECT_EQ(r.error.column, 26);  // the byte after `      - {field: f, eq: "x`
      EXPECT_NE(r.error.message.find("not valid UTF-8"), std::string::npos);
    }
  }
}

TEST(PolicyLoad, UnreadableFile) {
  const policy_load_result r = load_policy_file("/nonexistent/policy.yaml");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error.to_string().find("/nonexistent/policy.yaml"), std::string::npos);
}

TEST(PolicyLoad, AliasesDoNotMultiplyWork) {
  // A YAML alias bomb: the loader walks a fixed schema, so shared nodes are read a bounded
  // number of times and the file is refused at the first misplaced list.
  const std::string bomb = std::string(minimal) + R"(caps: &a [x, x, x, x, x, x, x, x, x]
version: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]
tierMode: [*b, *b, *b, *b, *b, *b, *b, *b, *b]
)";
  const policy_load_result r = load_policy(bomb);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error.line, 7) << r.error.to_string();
}

TEST(PolicyNames, RoundTrip) {
  for (auto d : {decision::allow, decision::step_up, decision::limit, decision::deny}) {
    EXPECT_EQ(decision_from_name(decision_name(d)), d);
  }
  for (auto r : {risk_level::low, risk_level::medium, risk_level::high, risk_level::critical}) {
    EXPECT_EQ(risk_from_name(risk_name(r)), r);
  }
  EXPECT_FALSE(decision_from_name("allow").has_value());
  EXPECT_FALSE(risk_from_name("LOW").has_value());
  EXPECT_EQ(tighter(decision::step_up, decision::limit), decision::limit);
  EXPECT_EQ(tighter(decision::deny, decision::allow), decision::deny);
}

}  // namespace
}  // namespace warrant::engine::evidence

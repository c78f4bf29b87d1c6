// tests/evidence/decision_test.cc: every path of the decision function
// (engine/evidence/decision.*, why.cc): each band of each default action, each risk under each
// claimStatus, context rules (tightening, never loosening), agent statuses, the steps recorded
// for ?debug=true, reasons and whyRec sentences.
#include "engine/evidence/decision.h"

#include <gtest/gtest.h>
#include <simdjson.h>

#include <map>
#include <string>
#include <vector>

#include "engine/evidence/default_policy.h"
#include "evidence_test_support.h"

namespace warrant::engine::evidence {
namespace {

using namespace test;
constexpr decision A = decision::allow;
constexpr decision S = decision::step_up;
constexpr decision L = decision::limit;
constexpr decision D = decision::deny;

decision_result run(const policy& p, std::string_view action, const evaluation_facts& f,
                    const context_values& ctx = {}) {
  const action_policy* a = p.find_action(action);
  EXPECT_NE(a, nullptr) << action;
  decision_result r;
  if (a != nullptr) decide(p, *a, f, ctx, r);
  return r;
}

std::vector<std::string_view> reasons_of(const decision_result& r) {
  return {r.reasons.begin(), r.reasons.begin() + static_cast<std::ptrdiff_t>(r.reason_count)};
}

std::string why(const decision_result& r) {
  why_text w;
  render_why(r, w);
  return std::string(w.view());
}

// spec/evidence.md "Defaults to ship" as the outcome at tiers 0..3, clean claims.
const std::map<std::string, std::array<decision, 4>> default_bands = {
    {"account.login", {A, A, A, A}},        {"message.send", {L, A, A, A}},
    {"review.submit", {L, A, A, A}},        {"listing.create", {S, A, A, A}},
    {"checkout.complete", {S, A, A, A}},    {"data.export", {D, L, A, A}},
    {"payout.request", {D, S, A, A}},       {"lending.apply", {D, S, A, A}},
    {"credential.rotate", {D, S, A, A}},    {"api_key.create", {D, S, A, A}},
    {"agent.spawn", {D, S, A, A}},          {"data.export_pii", {D, D, S, A}},
    {"finance.approve_payment", {D, L, S, A}}, {"admin.role_grant", {D, D, S, A}},
};

std::string_view tier_reason_for(const action_policy& a, decision d) {
  switch (d) {
    case decision::allow: return reason::tier_sufficient;
    case decision::step_up: return reason::tier_step_up_band;
    case decision::limit: return reason::tier_limit_band;
    case decision::deny:
      return a.step_up_tier == no_band && a.limit_tier == no_band ? reason::tier_below_allow : reason::tier_below_all_bands;
  }
  return "";
}

TEST(Decision, EveryBandOfEveryDefaultAction) {
  const auto p = default_policy();
  ASSERT_EQ(default_bands.size(), p->actions().size());
  for (const auto& [name, outcomes] : default_bands) {
    const action_policy& a = *p->find_action(name);
    for (int tier = 0; tier <= 3; ++tier) {
      const decision_result r = run(*p, name, facts_for(tier));
      const std::string what = name + " at tier " + std::to_string(tier);
      EXPECT_EQ(r.outcome, outcomes[static_cast<std::size_t>(tier)]) << what;
      EXPECT_EQ(r.tier, tier) << what;
      EXPECT_EQ(r.required_tier, a.allow_tier) << what;
      EXPECT_EQ(r.claims, claim_status::clean) << what;
      EXPECT_EQ(r.deciding_step, decision_step::tier) << what;
      ASSERT_EQ(r.reason_count, 1u) << what;
      EXPECT_EQ(r.reasons[0], tier_reason_for(a, r.outcome)) << what;
      EXPECT_FALSE(why(r).empty()) << what;
    }
  }
}

// spec/evidence.md, step 4, restated: flagged -> low/medium one step tighter, high/critical
// DENY; contested -> medium/high at least STEP_UP, critical DENY, low unchanged.
decision with_claims(decision base, risk_level risk, claim_status s) {
  if (s == claim_status::flagged) {
    if (risk == risk_level::high || risk == risk_level::critical) return D;
    return base == D ? D : static_cast<decision>(static_cast<int>(base) + 1);
  }
  if (s == claim_status::contested) {
    if (risk == risk_level::critical) return D;
    if (risk == risk_level::low) return base;
    return base < S ? S : base;
  }
  return base;
}

TEST(Decision, EveryRiskUnderEveryClaimStatus) {
  const auto p = default_policy();
  int tightened = 0;
  for (const auto& [name, outcomes] : default_bands) {
    const action_policy& a = *p->find_action(name);
    for (int tier = 0; tier <= 3; ++tier) {
      for (claim_status s : {claim_status::clean, claim_status::contested, claim_status::flagged}) {
        const decision_result r = run(*p, name, facts_for(tier, s));
        const decision base = outcomes[static_cast<std::size_t>(tier)];
        const decision want = with_claims(base, a.risk, s);
        const std::string what =
            name + " tier " + std::to_string(tier) + " " + std::string(claim_status_name(s));
        EXPECT_EQ(r.outcome, want) << what;
        EXPECT_EQ(r.claims, s) << what;
        const bool listed = s == claim_status::flagged || (s == claim_status::contested && a.risk != risk_level::low);
        const std::vector<std::string_view> reasons = reasons_of(r);
        ASSERT_EQ(reasons.size(), listed ? 2u : 1u) << what;
        EXPECT_EQ(reasons[0], tier_reason_for(a, base)) << what;
        if (listed) {
          EXPECT_EQ(reasons[1], s == claim_status::flagged ? reason::claims_flagged : reason::claims_contested) << what;
        }
        EXPECT_EQ(r.deciding_step, want > base ? decision_step::claims : decision_step::tier) << what;
        const step_effect& claims = r.step(decision_step::claims);
        EXPECT_TRUE(claims.evaluated);
        EXPECT_EQ(claims.before, base) << what;
        EXPECT_EQ(claims.after, want) << what;
        tightened += want > base;
      }
    }
  }
  EXPECT_GT(tightened, 50);
}

TEST(Decision, ClaimsNeverLoosen) {
  const auto p = default_policy();
  for (const auto& [name, outcomes] : default_bands) {
    for (int tier = 0; tier <= 3; ++tier) {
      for (claim_status s : {claim_status::contested, claim_status::flagged}) {
        EXPECT_GE(run(*p, name, facts_for(tier, s)).outcome, outcomes[static_cast<std::size_t>(tier)]) << name;
      }
    }
  }
}

TEST(Decision, AgentStatusDeniesBeforeAnythingElse) {
  const auto p = default_policy();
  for (agent_status st : {agent_status::suspended, agent_status::revoked}) {
    for (const auto& [name, outcomes] : default_bands) {
      const decision_result r = run(*p, name, facts_for(3, claim_status::clean, st));
      EXPECT_EQ(r.outcome, D) << name;
      EXPECT_EQ(r.tier, 3);  // still reported
      EXPECT_EQ(r.deciding_step, decision_step::agent);
      ASSERT_EQ(r.reason_count, 1u);
      EXPECT_EQ(r.reasons[0], st == agent_status::revoked ? reason::agent_revoked : reason::agent_suspended);
      EXPECT_TRUE(r.step(decision_step::agent).evaluated);
      EXPECT_EQ(r.step(decision_step::agent).after, D);
      EXPECT_FALSE(r.step(decision_step::tier).evaluated);
      EXPECT_FALSE(r.step(decision_step::context).evaluated);
      EXPECT_FALSE(r.step(decision_step::claims).evaluated);
    }
  }
  const decision_result ok = run(*p, "account.login", facts_for(0));
  EXPECT_TRUE(ok.step(decision_step::agent).evaluated);
  EXPECT_EQ(ok.step(decision_step::agent).after, A);
  EXPECT_TRUE(ok.step(decision_step::agent).reason.empty());
}

TEST(Decision, TierComesFromTheFactsModeAndTime) {
  const auto p = default_policy();
  evaluation_facts f = facts_for(0);
  f.history = {200, as_of - 90 * ms_per_day, 1};  // tier 3 volume and age, one partner
  f.mode = tier_mode::enterprise;
  EXPECT_EQ(run(*p, "data.export_pii", f).tier, 3);
  f.mode = tier_mode::marketplace;
  EXPECT_EQ(run(*p, "data.export_pii", f).tier, 1);
  f.mode = tier_mode::enterprise;
  f.as_of_ms -= 1;  // 89 days
  const decision_result r = run(*p, "data.export_pii", f);
  EXPECT_EQ(r.tier, 2);
  EXPECT_EQ(r.signals.age_days, 89u);
  EXPECT_EQ(r.signals.count, 200u);
  EXPECT_EQ(r.signals.partners, 1u);
  EXPECT_EQ(r.outcome, S);
}

TEST(Decision, UpheldClaimFlagsForAYear) {
  const auto p = default_policy();
  evaluation_facts f = facts_for(3);
  f.claims.on_filed();
  f.claims.on_transition(claim_state::open, claim_state::upheld, as_of - 365 * ms_per_day + 1);
  EXPECT_EQ(run(*p, "payout.request", f).outcome, D);
  EXPECT_EQ(run(*p, "payout.request", f).claims, claim_status::flagged);
  f.as_of_ms += 1;
  f.history.earliest_counted_ms += 1;
  EXPECT_EQ(run(*p, "payout.request", f).outcome, A);
  EXPECT_EQ(run(*p, "payout.request", f).claims, claim_status::clean);
}

// ---- context rules --------------------------------------------------------------------------

std::shared_ptr<const policy> rules_policy() {
  return policy_from(std::string(policy_head) + R"(  - action: pay
    risk: low
    allowTier: 2
    stepUpTier: 1
    limitTier: 0
    rules:
      - {field: amount_usd, gt: 250, atLeast: STEP_UP, reason: HIGH_VALUE}
      - {field: amount_usd, gte: 10000, atLeast: DENY, reason: VERY_HIGH_VALUE}
      - {field: country, in: [KP, IR], atLeast: DENY, reason: EMBARGO}
      - {field: first_payee, eq: true, atLeast: LIMIT, reason: NEW_PAYEE}
      - {field: channel, ne: api, atLeast: STEP_UP, reason: INTERACTIVE}
      - {field: score, lt: 0.5, atLeast: STEP_UP, reason: LOW_SCORE}
      - {field: score, lte: 0.1, atLeast: LIMIT, reason: LOW_SCORE}
)");
}

context_values ctx_number(const policy& p, std::string_view field, double v, context_values c = {}) {
  const std::size_t i = *p.find_context_field(field);
  c.by_field[i] = {true, value_kind::number, v, false, {}};
  return c;
}
context_values ctx_string(const policy& p, std::string_view field, std::string_view v, context_values c = {}) {
  const std::size_t i = *p.find_context_field(field);
  c.by_field[i] = {true, value_kind::string, 0, false, v};
  return c;
}
context_values ctx_bool(const policy& p, std::string_view field, bool v, context_values c = {}) {
  const std::size_t i = *p.find_context_field(field);
  c.by_field[i] = {true, value_kind::boolean, 0, v, {}};
  return c;
}

TEST(DecisionContext, EachOperatorAtItsEdge) {
  const auto p = rules_policy();
  const evaluation_facts allow = facts_for(2);
  struct probe {
    const char* name;
    context_values ctx;
    decision want;
    std::vector<std::string_view> reasons;
  };
  const probe probes[] = {
      {"no context", {}, A, {"TIER_SUFFICIENT"}},
      {"gt below", ctx_number(*p, "amount_usd", 250), A, {"TIER_SUFFICIENT"}},
      {"gt above", ctx_number(*p, "amount_usd", 250.01), S, {"TIER_SUFFICIENT", "HIGH_VALUE"}},
      {"gte edge", ctx_number(*p, "amount_usd", 10000), D, {"TIER_SUFFICIENT", "HIGH_VALUE", "VERY_HIGH_VALUE"}},
      {"gte below", ctx_number(*p, "amount_usd", 9999.99), S, {"TIER_SUFFICIENT", "HIGH_VALUE"}},
      {"in hit", ctx_string(*p, "country", "IR"), D, {"TIER_SUFFICIENT", "EMBARGO"}},
      {"in miss", ctx_string(*p, "country", "FR"), A, {"TIER_SUFFICIENT"}},
      {"in is exact", ctx_string(*p, "country", "ir"), A, {"TIER_SUFFICIENT"}},
      {"eq true", ctx_bool(*p, "first_payee", true), L, {"TIER_SUFFICIENT", "NEW_PAYEE"}},
      {"eq false", ctx_bool(*p, "first_payee", false), A, {"TIER_SUFFICIENT"}},
      {"ne differs", ctx_string(*p, "channel", "web"), S, {"TIER_SUFFICIENT", "INTERACTIVE"}},
      {"ne equal", ctx_string(*p, "channel", "api"), A, {"TIER_SUFFICIENT"}},
      {"lt edge", ctx_number(*p, "score", 0.5), A, {"TIER_SUFFICIENT"}},
      {"lt below", ctx_number(*p, "score", 0.49), S, {"TIER_SUFFICIENT", "LOW_SCORE"}},
      {"lte edge, shared reason listed once", ctx_number(*p, "score", 0.1), L, {"TIER_SUFFICIENT", "LOW_SCORE"}},
      {"two fields", ctx_number(*p, "amount_usd", 300, ctx_bool(*p, "first_payee", true)), L,
       {"TIER_SUFFICIENT", "HIGH_VALUE", "NEW_PAYEE"}},
  };
  for (const probe& pr : probes) {
    const decision_result r = run(*p, "pay", allow, pr.ctx);
    EXPECT_EQ(r.outcome, pr.want) << pr.name;
    EXPECT_EQ(reasons_of(r), pr.reasons) << pr.name;
    EXPECT_EQ(r.deciding_step, pr.want == A ? decision_step::tier : decision_step::context) << pr.name;
  }
}

TEST(DecisionContext, RulesOnlyTighten) {
  const auto p = rules_policy();
  // Tier 0 gives LIMIT; a STEP_UP rule that holds leaves it at LIMIT but is still listed.
  const decision_result r = run(*p, "pay", facts_for(0), ctx_number(*p, "amount_usd", 300));
  EXPECT_EQ(r.outcome, L);
  EXPECT_EQ(reasons_of(r), (std::vector<std::string_view>{"TIER_LIMIT_BAND", "HIGH_VALUE"}));
  EXPECT_EQ(r.deciding_step, decision_step::tier);
  EXPECT_EQ(r.rules_matched, 1u);
  EXPECT_EQ(r.rules_tightened, 0u);
  // For every tier and every single rule, the outcome is never below the tier band's.
  const context_values contexts[] = {
      ctx_number(*p, "amount_usd", 1e6), ctx_number(*p, "amount_usd", 1), ctx_string(*p, "country", "KP"),
      ctx_bool(*p, "first_payee", true), ctx_string(*p, "channel", "web"), ctx_number(*p, "score", 0),
  };
  for (int tier = 0; tier <= 3; ++tier) {
    const decision band = run(*p, "pay", facts_for(tier)).outcome;
    for (const context_values& c : contexts) {
      const decision_result with = run(*p, "pay", facts_for(tier), c);
      EXPECT_GE(with.outcome, band) << tier;
      EXPECT_EQ(with.step(decision_step::context).before, band);
      EXPECT_EQ(with.step(decision_step::context).after, with.outcome);
    }
  }
}

TEST(DecisionContext, MatchedAndTightenedMasks) {
  const auto p = rules_policy();
  const decision_result r = run(*p, "pay", facts_for(3), ctx_number(*p, "amount_usd", 20000));
  EXPECT_EQ(r.outcome, D);
  EXPECT_EQ(r.rules_matched, 0b11u);
  EXPECT_EQ(r.rules_tightened, 0b11u);  // STEP_UP first, then DENY
  EXPECT_EQ(r.deciding_rule, 1u);
}

TEST(DecisionContext, ThenClaims) {
  const auto p = rules_policy();  // "pay" is low risk
  const decision_result r = run(*p, "pay", facts_for(3, claim_status::flagged), ctx_number(*p, "amount_usd", 300));
  EXPECT_EQ(r.outcome, L);  // STEP_UP by the rule, one step tighter by the claim
  EXPECT_EQ(reasons_of(r), (std::vector<std::string_view>{"TIER_SUFFICIENT", "HIGH_VALUE", "CLAIMS_FLAGGED"}));
  EXPECT_EQ(r.deciding_step, decision_step::claims);
  EXPECT_EQ(r.step(decision_step::context).after, S);
}

TEST(DecisionContext, RuleMatchingIgnoresAbsentAndMistypedValues) {
  const auto p = rules_policy();
  const context_rule& gt = p->find_action("pay")->rules[0];
  EXPECT_FALSE(rule_matches(gt, context_value{}));
  EXPECT_FALSE(rule_matches(gt, context_value{true, value_kind::string, 0, false, "1000"}));
  EXPECT_TRUE(rule_matches(gt, context_value{true, value_kind::number, 1000, false, {}}));
  const context_rule& ne = p->find_action("pay")->rules[4];
  EXPECT_FALSE(rule_matches(ne, context_value{}));  // absent never matches, even for ne
}

// ---- whyRec ---------------------------------------------------------------------------------

TEST(WhyRec, TierSentences) {
  const auto p = default_policy();
  struct probe {
    const char* action;
    int tier;
    const char* sentence;
  };
  const probe probes[] = {
      {"data.export_pii", 3, "Tier 3 meets the tier 3 required for data.export_pii."},
      {"account.login", 0, "Tier 0 meets the tier 0 required for account.login."},
      {"data.export", 3, "Tier 3 meets the tier 2 required for data.export."},
      {"data.export_pii", 2, "Tier 2 is below the tier 3 required for data.export_pii; a step-up is recommended."},
      {"data.export", 1, "Tier 1 is below the tier 2 required for data.export; limited access is recommended."},
      {"data.export_pii", 1,
       "Tier 1 is below the tier 3 required for data.export_pii; tier 2 or above would allow a step-up."},
      {"finance.approve_payment", 0,
       "Tier 0 is below the tier 3 required for finance.approve_payment; tier 1 or above would allow limited access."},
      {"finance.approve_payment", 1,
       "Tier 1 is below the tier 3 required for finance.approve_payment; limited access is recommended."},
      {"data.export", 0, "Tier 0 is below the tier 2 required for data.export; tier 1 or above would allow limited access."},
  };
  for (const probe& pr : probes) EXPECT_EQ(why(run(*p, pr.action, facts_for(pr.tier))), pr.sentence) << pr.action;
  // An action with no band below allowTier.
  const auto only_allow = policy_from(std::string(policy_head) + "  - {action: vault.open, risk: critical, allowTier: 2}\n");
  const decision_result r = run(*only_allow, "vault.open", facts_for(1));
  EXPECT_EQ(r.outcome, D);
  EXPECT_EQ(reasons_of(r), (std::vector<std::string_view>{"TIER_BELOW_ALLOW"}));
  EXPECT_EQ(why(r), "Tier 1 is below the tier 2 required for vault.open.");
}

TEST(WhyRec, AgentSentences) {
  const auto p = default_policy();
  EXPECT_EQ(why(run(*p, "payout.request", facts_for(3, claim_status::clean, agent_status::suspended))),
            "The acting agent or one of its ancestors is suspended, so payout.request is denied.");
  EXPECT_EQ(why(run(*p, "payout.request", facts_for(3, claim_status::flagged, agent_status::revoked))),
            "The acting agent or one of its ancestors is revoked, so payout.request is denied.");
}

TEST(WhyRec, ClaimSentences) {
  const auto p = default_policy();
  EXPECT_EQ(why(run(*p, "account.login", facts_for(3, claim_status::flagged))),
            "A claim against this entity is open or was upheld in the last 365 days, so the recommendation for "
            "account.login is tightened one step: a step-up is recommended.");
  EXPECT_EQ(why(run(*p, "message.send", facts_for(0, claim_status::flagged))),
            "A claim against this entity is open or was upheld in the last 365 days, so the recommendation for "
            "message.send is tightened one step: it is denied.");
  EXPECT_EQ(why(run(*p, "data.export", facts_for(1, claim_status::flagged))),
            "A claim against this entity is open or was upheld in the last 365 days, so the recommendation for "
            "data.export is tightened one step: it is denied.");
  EXPECT_EQ(why(run(*p, "payout.request", facts_for(3, claim_status::flagged))),
            "A claim against this entity is open or was upheld in the last 365 days, and payout.request is a "
            "high-risk action, so it is denied.");
  EXPECT_EQ(why(run(*p, "checkout.complete", facts_for(3, claim_status::contested))),
            "A claim against this entity is disputed, and checkout.complete is a medium-risk action, so a step-up "
            "is recommended.");
  EXPECT_EQ(why(run(*p, "admin.role_grant", facts_for(3, claim_status::contested))),
            "A claim against this entity is disputed, and admin.role_grant is a critical-risk action, so it is "
            "denied.");
  // Contested on a low-risk action changes nothing: the tier sentence stands.
  EXPECT_EQ(why(run(*p, "account.login", facts_for(3, claim_status::contested))),
            "Tier 3 meets the tier 0 required for account.login.");
  // Already DENY by tier: the claim is listed but the tier decided.
  const decision_result denied = run(*p, "data.export_pii", facts_for(0, claim_status::flagged));
  EXPECT_EQ(denied.deciding_step, decision_step::tier);
  EXPECT_EQ(why(denied), "Tier 0 is below the tier 3 required for data.export_pii; tier 2 or above would allow a step-up.");
}

TEST(WhyRec, ContextSentences) {
  const auto p = rules_policy();
  EXPECT_EQ(why(run(*p, "pay", facts_for(2), ctx_number(*p, "amount_usd", 300))),
            "The context field amount_usd is greater than 250 (HIGH_VALUE), so a step-up is recommended for pay.");
  EXPECT_EQ(why(run(*p, "pay", facts_for(2), ctx_number(*p, "amount_usd", 10000))),
            "The context field amount_usd is at least 10000 (VERY_HIGH_VALUE), so pay is denied.");
  EXPECT_EQ(why(run(*p, "pay", facts_for(2), ctx_string(*p, "country", "KP"))),
            "The context field country is one of the listed values (EMBARGO), so pay is denied.");
  EXPECT_EQ(why(run(*p, "pay", facts_for(2), ctx_bool(*p, "first_payee", true))),
            "The context field first_payee equals true (NEW_PAYEE), so limited access is recommended for pay.");
  EXPECT_EQ(why(run(*p, "pay", facts_for(2), ctx_string(*p, "channel", "web"))),
            "The context field channel does not equal \"api\" (INTERACTIVE), so a step-up is recommended for pay.");
  EXPECT_EQ(why(run(*p, "pay", facts_for(2), ctx_number(*p, "score", 0.3))),
            "The context field score is less than 0.5 (LOW_SCORE), so a step-up is recommended for pay.");
  EXPECT_EQ(why(run(*p, "pay", facts_for(2), ctx_number(*p, "score", 0.1))),
            "The context field score is at most 0.1 (LOW_SCORE), so limited access is recommended for pay.");
}

TEST(WhyRec, IsOneSentenceForEveryDefaultPath) {
  const auto p = default_policy();
  for (const auto& a : p->actions()) {
    for (int tier = 0; tier <= 3; ++tier) {
      for (claim_status s : {claim_status::clean, claim_status::contested, claim_status::flagged}) {
        for (agent_status ag : {agent_status::none, agent_status::suspended}) {
          const std::string w = why(run(*p, a.name, facts_for(tier, s, ag)));
          ASSERT_GT(w.size(), 20u);
          EXPECT_TRUE(w[0] >= 'A' && w[0] <= 'Z') << w;
          EXPECT_EQ(w.back(), '.') << w;
          EXPECT_EQ(w.find(". "), std::string::npos) << w;  // one sentence
          EXPECT_NE(w.find(a.name), std::string::npos) << w;
        }
      }
    }
  }
}

// decide() points at the policy's pre-rendered sentence; it must be the one render_why writes.
void expect_table_matches(const decision_result& r) {
  simdjson::dom::parser parser;
  std::string_view text;
  ASSERT_EQ(parser.parse(std::string(r.why_json)).get_string().get(text), simdjson::SUCCESS) << r.why_json;
  EXPECT_EQ(text, why(r));
}

TEST(WhyRec, PrecomputedSentencesMatchRendering) {
  const auto p = default_policy();
  std::size_t checked = 0;
  for (const auto& a : p->actions()) {
    for (int tier = 0; tier <= 3; ++tier) {
      for (claim_status s : {claim_status::clean, claim_status::contested, claim_status::flagged}) {
        for (agent_status ag : {agent_status::none, agent_status::suspended, agent_status::revoked}) {
          expect_table_matches(run(*p, a.name, facts_for(tier, s, ag)));
          ++checked;
        }
      }
    }
  }
  const auto rules = rules_policy();
  for (int tier = 0; tier <= 3; ++tier) {
    for (claim_status s : {claim_status::clean, claim_status::contested, claim_status::flagged}) {
      for (const context_values& c :
           {ctx_number(*rules, "amount_usd", 300), ctx_number(*rules, "amount_usd", 1e5), ctx_string(*rules, "country", "KP"),
            ctx_bool(*rules, "first_payee", true), ctx_string(*rules, "channel", "web"), ctx_number(*rules, "score", 0.3),
            ctx_number(*rules, "score", 0)}) {
        expect_table_matches(run(*rules, "pay", facts_for(tier, s), c));
        ++checked;
      }
    }
  }
  EXPECT_EQ(checked, 14u * 4 * 3 * 3 + 4 * 3 * 7);
}

TEST(WhyRec, LongestNamesFitTheBuffer) {
  const std::string action(action_name_bytes_max, 'a');
  const std::string field(context_field_bytes_max, 'f');
  const std::string value(rule_string_bytes_max, 'v');
  const auto p = policy_from(std::string(policy_head) + "  - action: " + action +
                             "\n    risk: critical\n    allowTier: 0\n    rules:\n      - {field: " + field +
                             ", ne: \"" + value + "\", atLeast: STEP_UP, reason: " + std::string(reason_bytes_max, 'R') +
                             "}\n");
  const decision_result r = run(*p, action, facts_for(3), ctx_string(*p, field, "x"));
  const std::string w = why(r);
  EXPECT_LT(w.size(), why_bytes_max);
  EXPECT_EQ(w.back(), '.');
}

}  // namespace
}  // namespace warrant::engine::evidence

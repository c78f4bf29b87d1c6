// tests/evidence/evidence_test_support.h: fixtures shared by the evidence tests: facts that give
// a wanted tier under the default thresholds, claim summaries for each claimStatus, policies
// loaded from text, a decision to log.
#pragma once

#include <gtest/gtest.h>

#include <array>
#include <memory>
#include <string_view>

#include "engine/evidence/claims.h"
#include "engine/evidence/decision.h"
#include "engine/evidence/decision_record.h"
#include "engine/evidence/policy_load.h"

namespace warrant::engine::evidence::test {

inline constexpr std::int64_t as_of = 1'780'000'000'000;  // 2026-05-28T20:26:40.000Z

// A history that is exactly at tier `t` of the default thresholds, in either mode.
inline counted_history history_for_tier(int t) {
  switch (t) {
    case 1: return {10, as_of - 14 * ms_per_day, 1};
    case 2: return {50, as_of - 30 * ms_per_day, 2};
    case 3: return {200, as_of - 90 * ms_per_day, 3};
    default: return {};
  }
}

inline claim_summary claims_for(claim_status s) {
  claim_summary c;
  if (s == claim_status::flagged) c.on_filed();
  if (s == claim_status::contested) {
    c.on_filed();
    c.on_transition(claim_state::open, claim_state::disputed, as_of - ms_per_day);
  }
  return c;
}

inline evaluation_facts facts_for(int tier, claim_status claims = claim_status::clean,
                                  agent_status agent = agent_status::none) {
  evaluation_facts f;
  f.history = history_for_tier(tier);
  f.claims = claims_for(claims);
  f.agent = agent;
  f.as_of_ms = as_of;
  return f;
}

inline std::shared_ptr<const policy> policy_from(std::string_view text) {
  policy_load_result r = load_policy(text);
  EXPECT_TRUE(r.ok()) << r.error.to_string();
  return r.loaded;
}

// Default thresholds and one line per action: tests append their actions below.
inline constexpr std::string_view policy_head = R"(version: test-1
tiers:
  tier1: {count: 10, ageDays: 14}
  tier2: {count: 50, ageDays: 30, partners: 2}
  tier3: {count: 200, ageDays: 90, partners: 3}
actions:
)";

// An ALLOW of account.login at tier 0 by `actor_id`, as the decision log stores it.
inline decision_item_view login_decision_item(std::string_view actor_id) {
  static constexpr std::array<std::string_view, 1> reasons = {"TIER_SUFFICIENT"};
  decision_item_view d;
  d.action = "account.login";
  d.actor_id = actor_id;
  d.why_json = R"("Tier 0 meets the tier 0 required for account.login.")";
  d.reasons = reasons.data();
  d.reason_count = reasons.size();
  return d;
}

}  // namespace warrant::engine::evidence::test

// engine/evidence/decision.h: the recommendation for one actor, one action, at one instant
// (spec/evidence.md "Policy"), as a pure function.
//
// What it is for: `POST /v1/policy/evaluate` (and each item of the bulk route) gathers what the
// indexes know about the actor (`evaluation_facts`), parses the body (evaluate_request.h), and
// calls `decide`; evaluate_response.h writes the answer. Steps, in order, each of which may
// only tighten the recommendation (ALLOW < STEP_UP < LIMIT < DENY):
//   1. agent    a service actor that is a registered agent of the workspace, suspended or
//               revoked (itself or through an ancestor; the caller resolves that) -> DENY,
//               AGENT_SUSPENDED / AGENT_REVOKED, and the later steps are skipped;
//   2. tier     tier >= allowTier: ALLOW (TIER_SUFFICIENT); else >= stepUpTier: STEP_UP
//               (TIER_STEP_UP_BAND); else >= limitTier: LIMIT (TIER_LIMIT_BAND); else DENY
//               (TIER_BELOW_ALLOW when the action has no lower band, TIER_BELOW_ALL_BANDS
//               when it has one);
//   3. context  each of the action's rules whose field the request gave and whose comparison
//               holds raises the recommendation to at least its `atLeast`; its reason is listed
//               whether or not it raised anything;
//   4. claims   flagged: low/medium risk one step tighter, high/critical DENY (CLAIMS_FLAGGED,
//               listed for every risk); contested: medium/high at least STEP_UP, critical DENY
//               (CLAIMS_CONTESTED), low unchanged and not listed.
// The deciding step is the last one that raised the recommendation (the tier step when none
// did); `whyRec` is one sentence about it (docs/policy-file.md lists every sentence). An
// action has few possible sentences, so a policy renders them all when it is built
// (`render_why_table`) and a decision only points at one (`decision_result::why_json`).
//
// No allocation: results are fixed-size, views point into the policy (hold its shared_ptr for
// as long as the result is used) or at static strings. Any thread.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "engine/evidence/claims.h"
#include "engine/evidence/policy.h"
#include "engine/evidence/tier.h"

namespace warrant::engine::evidence {

// The actor's agent record, ancestors included: revoked if any is revoked, else suspended if
// any is suspended. `none` for humans, unregistered services and active agents.
enum class agent_status : std::uint8_t { none, suspended, revoked };
std::string_view agent_status_name(agent_status s);  // "none" | "suspended" | "revoked"

enum class decision_step : std::uint8_t { agent, tier, context, claims };
inline constexpr std::size_t decision_step_count = 4;
std::string_view decision_step_name(decision_step s);  // "agent" | "tier" | "context" | "claims"

// Reason codes (stable; documented in docs/policy-file.md). Context rules add their own.
namespace reason {
inline constexpr std::string_view tier_sufficient = "TIER_SUFFICIENT";
inline constexpr std::string_view tier_step_up_band = "TIER_STEP_UP_BAND";
inline constexpr std::string_view tier_limit_band = "TIER_LIMIT_BAND";
inline constexpr std::string_view tier_below_allow = "TIER_BELOW_ALLOW";
inline constexpr std::string_view tier_below_all_bands = "TIER_BELOW_ALL_BANDS";
inline constexpr std::string_view claims_flagged = "CLAIMS_FLAGGED";
inline constexpr std::string_view claims_contested = "CLAIMS_CONTESTED";
inline constexpr std::string_view agent_suspended = "AGENT_SUSPENDED";
inline constexpr std::string_view agent_revoked = "AGENT_REVOKED";
}  // namespace reason

// One context value from the request, by the policy's field index (policy::context_fields()).
struct context_value {
  bool present = false;
  value_kind kind = value_kind::number;
  double number = 0;
  bool flag = false;
  std::string_view text;  // strings; points into the request's parse buffer
};

struct context_values {
  std::array<context_value, context_fields_max> by_field{};
};

// What the indexes know about the actor, at `as_of_ms` (the evaluation's time).
struct evaluation_facts {
  counted_history history;
  claim_summary claims;
  tier_mode mode = tier_mode::enterprise;
  agent_status agent = agent_status::none;
  std::int64_t as_of_ms = 0;
};

inline constexpr std::size_t reasons_max = 2 + rules_per_action_max;

struct step_effect {
  bool evaluated = false;  // false: skipped after an agent DENY
  decision before = decision::allow;
  decision after = decision::allow;
  std::string_view reason;  // agent, tier and claims steps: the code they added, if any
};

struct decision_result {
  decision outcome = decision::allow;
  int tier = 0;
  int required_tier = 0;  // the action's allowTier
  claim_status claims = claim_status::clean;
  std::array<std::string_view, reasons_max> reasons{};
  std::size_t reason_count = 0;
  decision_step deciding_step = decision_step::tier;
  std::size_t deciding_rule = 0;  // when deciding_step == context: the rule's index

  // For whyRec and ?debug=true.
  const action_policy* action = nullptr;
  const tier_thresholds* thresholds = nullptr;
  tier_signals signals;
  evaluation_facts facts;
  std::array<step_effect, decision_step_count> steps{};
  std::uint32_t rules_matched = 0;    // bit i: rule i of the action held
  std::uint32_t rules_tightened = 0;  // bit i: rule i raised the recommendation
  // The whyRec sentence as a JSON string literal (quotes included), from the policy's table.
  std::string_view why_json;

  std::string_view reason_at(std::size_t i) const { return reasons[i]; }
  const step_effect& step(decision_step s) const { return steps[static_cast<std::size_t>(s)]; }
};
static_assert(rules_per_action_max <= 32, "rules_matched is a 32-bit mask");

// The tier step's band for `tier`, and the reason code it lists.
decision tier_band(const action_policy& a, int tier, std::string_view& code);

// Whether `rule` holds for the request's value (absent values never match).
bool rule_matches(const context_rule& rule, const context_value& value);

void decide(const policy& p, const action_policy& action, const evaluation_facts& facts, const context_values& context,
            decision_result& out);

// The whyRec sentence, written into a fixed buffer (no allocation). Longest possible sentence:
// action and field names and a rule's string value at their maximum lengths.
inline constexpr std::size_t why_bytes_max = 1024;
struct why_text {
  std::array<char, why_bytes_max> bytes;  // not zeroed: only the first `size` bytes are read
  std::size_t size = 0;
  std::string_view view() const { return {bytes.data(), size}; }
};
void render_why(const decision_result& r, why_text& out);

// The table of an action's sentences. Slots: 0..3 the tier step at tier 0..3; 4 and 5 the
// agent step (suspended, revoked); 6, 7, 8 claims flagged giving STEP_UP, LIMIT, DENY; 9 and
// 10 claims contested giving STEP_UP, DENY; 11 + i context rule i. Unused slots are empty.
inline constexpr std::size_t why_rule_slot0 = 11;
std::size_t why_slot(const decision_result& r);
// Every slot's sentence as a JSON string literal; `render_why` of a decision in slot s gives
// the same sentence (tests check it on every default path).
std::vector<std::string> render_why_table(const action_policy& a);

}  // namespace warrant::engine::evidence

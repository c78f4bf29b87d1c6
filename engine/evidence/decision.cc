#include "engine/evidence/decision.h"

#include <cassert>

namespace warrant::engine::evidence {

std::string_view agent_status_name(agent_status s) {
  switch (s) {
    case agent_status::none: return "none";
    case agent_status::suspended: return "suspended";
    case agent_status::revoked: return "revoked";
  }
  return "";
}

std::string_view decision_step_name(decision_step s) {
  switch (s) {
    case decision_step::agent: return "agent";
    case decision_step::tier: return "tier";
    case decision_step::context: return "context";
    case decision_step::claims: return "claims";
  }
  return "";
}

namespace {

bool same_value(const rule_value& want, const context_value& got) {
  switch (want.kind) {
    case value_kind::number: return got.number == want.number;
    case value_kind::boolean: return got.flag == want.flag;
    case value_kind::string: return got.text == want.text;
  }
  return false;
}

void add_reason(decision_result& r, std::string_view code) {
  for (std::size_t i = 0; i < r.reason_count; ++i) {
    if (r.reasons[i] == code) return;  // two rules may share a reason: list it once
  }
  assert(r.reason_count < reasons_max);
  if (r.reason_count < reasons_max) r.reasons[r.reason_count++] = code;
}

step_effect& begin_step(decision_result& r, decision_step s, decision current) {
  step_effect& e = r.steps[static_cast<std::size_t>(s)];
  e.evaluated = true;
  e.before = current;
  e.after = current;
  return e;
}

void tier_step(const action_policy& a, decision_result& r) {
  step_effect& e = begin_step(r, decision_step::tier, decision::allow);
  e.after = tier_band(a, r.tier, e.reason);
  add_reason(r, e.reason);
  r.outcome = e.after;
  r.deciding_step = decision_step::tier;
}

void context_step(const action_policy& a, const context_values& context, decision_result& r) {
  step_effect& e = begin_step(r, decision_step::context, r.outcome);
  for (std::size_t i = 0; i < a.rules.size(); ++i) {
    const context_rule& rule = a.rules[i];
    assert(rule.field_index < context_fields_max);
    if (!rule_matches(rule, context.by_field[rule.field_index])) continue;
    r.rules_matched |= 1u << i;
    add_reason(r, rule.reason);
    if (rule.at_least > r.outcome) {
      r.rules_tightened |= 1u << i;
      r.outcome = rule.at_least;
      r.deciding_step = decision_step::context;
      r.deciding_rule = i;
    }
  }
  e.after = r.outcome;
}

decision one_step_tighter(decision d) {
  return d == decision::deny ? decision::deny : static_cast<decision>(static_cast<int>(d) + 1);
}

void claims_step(const action_policy& a, decision_result& r) {
  step_effect& e = begin_step(r, decision_step::claims, r.outcome);
  const bool low_or_medium = a.risk == risk_level::low || a.risk == risk_level::medium;
  decision wanted = r.outcome;
  if (r.claims == claim_status::flagged) {
    wanted = low_or_medium ? one_step_tighter(r.outcome) : decision::deny;
    e.reason = reason::claims_flagged;
  } else if (r.claims == claim_status::contested && a.risk != risk_level::low) {
    wanted = a.risk == risk_level::critical ? decision::deny : tighter(r.outcome, decision::step_up);
    e.reason = reason::claims_contested;
  }
  if (!e.reason.empty()) add_reason(r, e.reason);
  if (wanted > r.outcome) {
    r.outcome = wanted;
    r.deciding_step = decision_step::claims;
  }
  e.after = r.outcome;
}

}  // namespace

decision tier_band(const action_policy& a, int tier, std::string_view& code) {
  if (tier >= a.allow_tier) {
    code = reason::tier_sufficient;
    return decision::allow;
  }
  if (a.step_up_tier != no_band && tier >= a.step_up_tier) {
    code = reason::tier_step_up_band;
    return decision::step_up;
  }
  if (a.limit_tier != no_band && tier >= a.limit_tier) {
    code = reason::tier_limit_band;
    return decision::limit;
  }
  const bool has_lower_band = a.step_up_tier != no_band || a.limit_tier != no_band;
  code = has_lower_band ? reason::tier_below_all_bands : reason::tier_below_allow;
  return decision::deny;
}

bool rule_matches(const context_rule& rule, const context_value& value) {
  if (!value.present || rule.values.empty() || value.kind != rule.values.front().kind) return false;
  const rule_value& first = rule.values.front();
  switch (rule.op) {
    case rule_op::gt: return value.number > first.number;
    case rule_op::gte: return value.number >= first.number;
    case rule_op::lt: return value.number < first.number;
    case rule_op::lte: return value.number <= first.number;
    case rule_op::eq: return same_value(first, value);
    case rule_op::ne: return !same_value(first, value);
    case rule_op::in:
      for (const rule_value& v : rule.values) {
        if (same_value(v, value)) return true;
      }
      return false;
  }
  return false;
}

void decide(const policy& p, const action_policy& action, const evaluation_facts& facts, const context_values& context,
            decision_result& out) {
  out = decision_result{};
  out.action = &action;
  out.thresholds = &p.thresholds();
  out.facts = facts;
  out.signals = tier_signals_at(facts.history, facts.as_of_ms);
  out.tier = tier_of(out.signals, p.thresholds(), facts.mode);
  out.required_tier = action.allow_tier;
  out.claims = claim_status_at(facts.claims, facts.as_of_ms);

  step_effect& agent = begin_step(out, decision_step::agent, decision::allow);
  if (facts.agent != agent_status::none) {
    agent.after = decision::deny;
    agent.reason = facts.agent == agent_status::revoked ? reason::agent_revoked : reason::agent_suspended;
    add_reason(out, agent.reason);
    out.outcome = decision::deny;
    out.deciding_step = decision_step::agent;
  } else {
    tier_step(action, out);
    context_step(action, context, out);
    claims_step(action, out);
  }
  out.why_json = p.why_json(action, why_slot(out));
}

}  // namespace warrant::engine::evidence

// engine/evidence/why.cc: the whyRec sentence of a decision (decision.h, render_why).
//
// One plain English sentence about the deciding step, built from fixed templates so that the
// same decision always reads the same. The full set is listed in docs/policy-file.md
// ("whyRec"); a test pins each one. Written with fmt::format_to_n into a fixed buffer: no
// allocation, and a sentence longer than the buffer is cut rather than overflowing.
#include <fmt/format.h>

#include "engine/evidence/decision.h"
#include "net/byte_buffer.h"
#include "net/http_response.h"

namespace warrant::engine::evidence {

namespace {

// "..., so {outcome}." for each recommendation.
std::string_view outcome_phrase(decision d) {
  switch (d) {
    case decision::allow: return "it is allowed";
    case decision::step_up: return "a step-up is recommended";
    case decision::limit: return "limited access is recommended";
    case decision::deny: return "it is denied";
  }
  return "";
}

// What a band below allowTier would give: "a step-up" / "limited access".
std::string_view band_phrase(decision d) { return d == decision::step_up ? "a step-up" : "limited access"; }

std::string_view comparison_phrase(rule_op op) {
  switch (op) {
    case rule_op::gt: return "is greater than";
    case rule_op::gte: return "is at least";
    case rule_op::lt: return "is less than";
    case rule_op::lte: return "is at most";
    case rule_op::eq: return "equals";
    case rule_op::ne: return "does not equal";
    case rule_op::in: return "is one of the listed values";
  }
  return "";
}

class sentence {
 public:
  explicit sentence(why_text& out) : _out(out) { _out.size = 0; }
  template <typename... Args>
  void add(fmt::format_string<Args...> format, Args&&... args) {
    const std::size_t room = _out.bytes.size() - _out.size;
    const auto r = fmt::format_to_n(_out.bytes.data() + _out.size, room, format, std::forward<Args>(args)...);
    _out.size += r.size < room ? r.size : room;
  }

 private:
  why_text& _out;
};

void tier_sentence(const decision_result& r, sentence& s) {
  const action_policy& a = *r.action;
  if (r.tier >= a.allow_tier) {
    s.add("Tier {} meets the tier {} required for {}.", r.tier, a.allow_tier, a.name);
    return;
  }
  s.add("Tier {} is below the tier {} required for {}", r.tier, a.allow_tier, a.name);
  std::string_view code;
  const decision band = tier_band(a, r.tier, code);
  if (band != decision::deny) {
    s.add("; {}.", band == decision::step_up ? "a step-up is recommended" : "limited access is recommended");
    return;
  }
  // The nearest band above the actor's tier: the lowest tier that would give something.
  if (a.limit_tier != no_band) {
    s.add("; tier {} or above would allow {}.", a.limit_tier, band_phrase(decision::limit));
  } else if (a.step_up_tier != no_band) {
    s.add("; tier {} or above would allow {}.", a.step_up_tier, band_phrase(decision::step_up));
  } else {
    s.add(".");
  }
}

void context_sentence(const decision_result& r, sentence& s) {
  const action_policy& a = *r.action;
  const context_rule& rule = a.rules[r.deciding_rule];
  s.add("The context field {} {}", rule.field, comparison_phrase(rule.op));
  if (rule.op != rule_op::in) {
    const rule_value& v = rule.values.front();
    if (v.kind == value_kind::string) {
      s.add(" \"{}\"", v.text);
    } else {
      s.add(" {}", v.text);
    }
  }
  if (rule.at_least == decision::deny) {
    s.add(" ({}), so {} is denied.", rule.reason, a.name);
  } else {
    s.add(" ({}), so {} for {}.", rule.reason, outcome_phrase(rule.at_least), a.name);
  }
}

void claims_sentence(const decision_result& r, sentence& s) {
  const action_policy& a = *r.action;
  if (r.claims == claim_status::flagged) {
    s.add("A claim against this entity is open or was upheld in the last 365 days");
  } else {
    s.add("A claim against this entity is disputed");
  }
  const bool one_step = r.claims == claim_status::flagged && (a.risk == risk_level::low || a.risk == risk_level::medium);
  if (one_step) {
    s.add(", so the recommendation for {} is tightened one step: {}.", a.name, outcome_phrase(r.outcome));
  } else {
    s.add(", and {} is a {}-risk action, so {}.", a.name, risk_name(a.risk), outcome_phrase(r.outcome));
  }
}

}  // namespace

void render_why(const decision_result& r, why_text& out) {
  sentence s(out);
  if (r.action == nullptr) return;
  switch (r.deciding_step) {
    case decision_step::agent:
      s.add("The acting agent or one of its ancestors is {}, so {} is denied.",
            r.facts.agent == agent_status::revoked ? "revoked" : "suspended", r.action->name);
      return;
    case decision_step::tier: tier_sentence(r, s); return;
    case decision_step::context: context_sentence(r, s); return;
    case decision_step::claims: claims_sentence(r, s); return;
  }
}

std::size_t why_slot(const decision_result& r) {
  switch (r.deciding_step) {
    case decision_step::agent: return r.facts.agent == agent_status::revoked ? 5 : 4;
    case decision_step::tier: return static_cast<std::size_t>(r.tier);
    case decision_step::context: return why_rule_slot0 + r.deciding_rule;
    case decision_step::claims:
      if (r.claims == claim_status::contested) return r.outcome == decision::deny ? 10 : 9;
      return r.outcome == decision::step_up ? 6 : r.outcome == decision::limit ? 7 : 8;
  }
  return 0;
}

std::vector<std::string> render_why_table(const action_policy& a) {
  std::vector<std::string> table(why_rule_slot0 + a.rules.size());
  const auto put = [&table](const decision_result& r) {
    why_text text;
    render_why(r, text);
    net::byte_buffer json;
    net::append_json_string(json, text.view());
    table[why_slot(r)].assign(json.view());
  };
  decision_result r;
  r.action = &a;
  r.deciding_step = decision_step::tier;
  for (int tier = 0; tier <= tier_max; ++tier) {
    r.tier = tier;
    put(r);
  }
  r.deciding_step = decision_step::agent;
  for (agent_status s : {agent_status::suspended, agent_status::revoked}) {
    r.facts.agent = s;
    put(r);
  }
  r.deciding_step = decision_step::claims;
  const bool low_or_medium = a.risk == risk_level::low || a.risk == risk_level::medium;
  r.claims = claim_status::flagged;
  for (decision d : {decision::step_up, decision::limit, decision::deny}) {
    if (!low_or_medium && d != decision::deny) continue;  // flagged high/critical: DENY only
    r.outcome = d;
    put(r);
  }
  r.claims = claim_status::contested;
  if (a.risk != risk_level::low) {
    r.outcome = a.risk == risk_level::critical ? decision::deny : decision::step_up;
    put(r);
  }
  r.deciding_step = decision_step::context;
  for (std::size_t i = 0; i < a.rules.size(); ++i) {
    r.deciding_rule = i;
    put(r);
  }
  return table;
}

}  // namespace warrant::engine::evidence

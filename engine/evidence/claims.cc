#include "engine/evidence/claims.h"

#include <cassert>

namespace warrant::engine::evidence {

std::string_view claim_state_name(claim_state s) {
  switch (s) {
    case claim_state::open: return "open";
    case claim_state::disputed: return "disputed";
    case claim_state::upheld: return "upheld";
    case claim_state::dismissed: return "dismissed";
    case claim_state::withdrawn: return "withdrawn";
  }
  return "";
}

std::string_view claim_action_name(claim_action a) {
  switch (a) {
    case claim_action::dispute: return "dispute";
    case claim_action::uphold: return "uphold";
    case claim_action::dismiss: return "dismiss";
    case claim_action::withdraw: return "withdraw";
  }
  return "";
}

std::string_view claim_status_name(claim_status s) {
  switch (s) {
    case claim_status::clean: return "clean";
    case claim_status::contested: return "contested";
    case claim_status::flagged: return "flagged";
  }
  return "";
}

std::optional<claim_action> claim_action_from_name(std::string_view name) {
  for (const claim_transition& t : claim_transitions) {
    if (claim_action_name(t.action) == name) return t.action;
  }
  return std::nullopt;
}

claim_transition_result check_claim_transition(claim_state from, claim_action action, bool actor_is_filer) {
  for (const claim_transition& t : claim_transitions) {
    if (t.action != action) continue;
    if (t.who == claim_actor::filing_workspace && !actor_is_filer) return {claim_transition_errc::not_filer, from};
    if ((t.from_states & state_bit(from)) == 0) return {claim_transition_errc::illegal_transition, from};
    return {claim_transition_errc::ok, t.to};
  }
  return {claim_transition_errc::illegal_transition, from};
}

void claim_summary::on_transition(claim_state from, claim_state to, std::int64_t at_ms) {
  std::uint32_t& leaving = in_state[static_cast<std::size_t>(from)];
  assert(leaving > 0);
  if (leaving > 0) --leaving;
  ++in_state[static_cast<std::size_t>(to)];
  if (to == claim_state::upheld && (latest_upheld_ms == no_time_ms || at_ms > latest_upheld_ms)) {
    latest_upheld_ms = at_ms;
  }
}

claim_status claim_status_at(const claim_summary& s, std::int64_t as_of_ms) {
  if (s.count(claim_state::open) > 0) return claim_status::flagged;
  // as_of < upheld + window, written so that it cannot overflow.
  if (s.latest_upheld_ms != no_time_ms && as_of_ms - upheld_flag_window_ms < s.latest_upheld_ms) {
    return claim_status::flagged;
  }
  if (s.count(claim_state::disputed) > 0) return claim_status::contested;
  return claim_status::clean;
}

}  // namespace warrant::engine::evidence

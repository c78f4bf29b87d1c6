// engine/evidence/claims.h: the claim lifecycle and an entity's claimStatus (spec/evidence.md
// "Claims"), as data and pure functions.
//
// Lifecycle (`claim_transitions`, the one table the routes read):
//   dispute   open            -> disputed   any workspace
//   uphold    open | disputed -> upheld     the filing workspace only
//   dismiss   open | disputed -> dismissed  the filing workspace only
//   withdraw  open | disputed -> withdrawn  the filing workspace only
// Anything else is illegal (409). Upheld, dismissed and withdrawn are terminal.
//
// claimStatus at `as_of`:
//   flagged    if any claim is open (filed, not disputed), or was upheld within 365 days
//              before as_of: as_of < upheld_at + 365 days (an uphold dated after as_of counts);
//   contested  else, if any claim is disputed;
//   clean      otherwise.
// `claim_summary` is what the entity index keeps per entity to answer that in O(1): a count
// per state and the time of the most recent uphold. Upheld is terminal and only the newest
// uphold can be inside the window if any is, so the maximum uphold time makes the window test
// exact. Each filing and each transition is an O(1) update of the summary.
//
// Pure data and functions: any thread.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string_view>

#include "engine/evidence/tier.h"

namespace warrant::engine::evidence {

inline constexpr std::int64_t upheld_flag_window_ms = 365 * ms_per_day;

enum class claim_state : std::uint8_t { open, disputed, upheld, dismissed, withdrawn };
inline constexpr std::size_t claim_state_count = 5;
enum class claim_action : std::uint8_t { dispute, uphold, dismiss, withdraw };
enum class claim_status : std::uint8_t { clean, contested, flagged };
// Who may take a claim action.
enum class claim_actor : std::uint8_t { any_workspace, filing_workspace };

std::string_view claim_state_name(claim_state s);    // "open", "disputed", ...
std::string_view claim_action_name(claim_action a);  // "dispute", "uphold", ...
std::string_view claim_status_name(claim_status s);  // "clean" | "contested" | "flagged"
std::optional<claim_action> claim_action_from_name(std::string_view name);

constexpr std::uint8_t state_bit(claim_state s) { return static_cast<std::uint8_t>(1u << static_cast<unsigned>(s)); }

struct claim_transition {
  claim_action action;
  std::uint8_t from_states;  // state_bit()s
  claim_state to;
  claim_actor who;
};

inline constexpr std::array<claim_transition, 4> claim_transitions = {{
    {claim_action::dispute, state_bit(claim_state::open), claim_state::disputed, claim_actor::any_workspace},
    {claim_action::uphold, state_bit(claim_state::open) | state_bit(claim_state::disputed), claim_state::upheld,
     claim_actor::filing_workspace},
    {claim_action::dismiss, state_bit(claim_state::open) | state_bit(claim_state::disputed), claim_state::dismissed,
     claim_actor::filing_workspace},
    {claim_action::withdraw, state_bit(claim_state::open) | state_bit(claim_state::disputed), claim_state::withdrawn,
     claim_actor::filing_workspace},
}};

enum class claim_transition_errc : std::uint8_t {
  ok,
  not_filer,           // only the filing workspace may do this (checked first)
  illegal_transition,  // not from this state: 409
};

struct claim_transition_result {
  claim_transition_errc error = claim_transition_errc::ok;
  claim_state to = claim_state::open;  // when ok
  bool ok() const { return error == claim_transition_errc::ok; }
};

claim_transition_result check_claim_transition(claim_state from, claim_action action, bool actor_is_filer);

struct claim_summary {
  std::array<std::uint32_t, claim_state_count> in_state{};  // indexed by claim_state
  std::int64_t latest_upheld_ms = no_time_ms;                // no_time_ms: never upheld

  std::uint32_t count(claim_state s) const { return in_state[static_cast<std::size_t>(s)]; }
  // A new claim (always open).
  void on_filed() { ++in_state[static_cast<std::size_t>(claim_state::open)]; }
  // A legal transition (check_claim_transition said ok), taking effect at `at_ms`.
  void on_transition(claim_state from, claim_state to, std::int64_t at_ms);
};

claim_status claim_status_at(const claim_summary& s, std::int64_t as_of_ms);

}  // namespace warrant::engine::evidence

// engine/evidence/tier.h: an entity's history tier (spec/evidence.md "Tier"), a pure function.
//
// What it is for: `GET /v1/history/{id}` and `POST /v1/policy/evaluate` report the tier of the
// entity at `as_of` (the request's time, injected so that tests repeat). The entity index
// keeps a `counted_history` per entity and updates it in O(1) per counted event:
//   counted_events      += 1
//   earliest_counted_ms  = min(earliest_counted_ms, counted_event_time_ms(occurred, received))
//   partners             = number of distinct workspaces among the counted events
// and the tier follows from that summary, the policy's thresholds and the namespace's mode.
//
//   count    = counted events
//   age_days = floor((as_of - earliest counted occurredAt, clamped to its receivedAt) / 86400 s)
//              (0 when there is no counted event or as_of is before it)
//   partners = distinct workspaces that contributed counted events
//   tier     = the highest t in 3..1 whose thresholds are all met (partners only in
//              marketplace mode), else 0. Tier 0 means "no history yet", never negative.
//
// Pure data and functions: any thread.
#pragma once

#include <array>
#include <cstdint>
#include <limits>
#include <string_view>

namespace warrant::engine::evidence {

inline constexpr int tier_max = 3;
inline constexpr std::int64_t ms_per_day = 86'400'000;
// earliest_counted_ms when the entity has no counted event.
inline constexpr std::int64_t no_time_ms = std::numeric_limits<std::int64_t>::max();

// Whether partner diversity is required for a tier (policy file, per identity namespace).
enum class tier_mode : std::uint8_t { enterprise, marketplace };
std::string_view tier_mode_name(tier_mode m);  // "enterprise" | "marketplace"

// What tier t (1..3) requires; partners only counts in marketplace mode.
struct tier_threshold {
  std::uint64_t count = 0;
  std::uint32_t age_days = 0;
  std::uint32_t partners = 0;
};

// at[t - 1] is tier t's threshold.
struct tier_thresholds {
  std::array<tier_threshold, tier_max> at{};
};

// The entity index's per-entity summary of its counted events.
struct counted_history {
  std::uint64_t counted_events = 0;
  std::int64_t earliest_counted_ms = no_time_ms;
  std::uint32_t partners = 0;
};

// The measures a tier is decided on, at one instant.
struct tier_signals {
  std::uint64_t count = 0;
  std::uint32_t age_days = 0;
  std::uint32_t partners = 0;
};

// The time a counted event contributes to the history's age: its occurredAt, clamped so it is
// never later than its receivedAt (occurredAt may lead receipt by up to 5 minutes).
constexpr std::int64_t counted_event_time_ms(std::int64_t occurred_at_ms, std::int64_t received_at_ms) {
  return occurred_at_ms < received_at_ms ? occurred_at_ms : received_at_ms;
}

// Whole days from `earliest_ms` to `as_of_ms`, rounded down; 0 if there is no earliest time
// or it is after as_of.
std::uint32_t history_age_days(std::int64_t earliest_ms, std::int64_t as_of_ms);

tier_signals tier_signals_at(const counted_history& h, std::int64_t as_of_ms);

int tier_of(const tier_signals& s, const tier_thresholds& thresholds, tier_mode mode);

inline int tier_at(const counted_history& h, std::int64_t as_of_ms, const tier_thresholds& thresholds,
                   tier_mode mode) {
  return tier_of(tier_signals_at(h, as_of_ms), thresholds, mode);
}

}  // namespace warrant::engine::evidence

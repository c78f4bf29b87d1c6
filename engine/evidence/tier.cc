#include "engine/evidence/tier.h"

namespace warrant::engine::evidence {

std::string_view tier_mode_name(tier_mode m) {
  return m == tier_mode::marketplace ? "marketplace" : "enterprise";
}

std::uint32_t history_age_days(std::int64_t earliest_ms, std::int64_t as_of_ms) {
  if (earliest_ms == no_time_ms || as_of_ms <= earliest_ms) return 0;
  // as_of > earliest, so the true difference is below 2^64: unsigned subtraction gets it
  // without signed overflow. A day count above 2^32 is beyond any real history and saturates.
  const std::uint64_t span_ms = static_cast<std::uint64_t>(as_of_ms) - static_cast<std::uint64_t>(earliest_ms);
  const std::uint64_t days = span_ms / static_cast<std::uint64_t>(ms_per_day);
  return days > std::numeric_limits<std::uint32_t>::max() ? std::numeric_limits<std::uint32_t>::max()
                                                          : static_cast<std::uint32_t>(days);
}

tier_signals tier_signals_at(const counted_history& h, std::int64_t as_of_ms) {
  tier_signals s;
  s.count = h.counted_events;
  s.age_days = h.counted_events == 0 ? 0 : history_age_days(h.earliest_counted_ms, as_of_ms);
  s.partners = h.partners;
  return s;
}

int tier_of(const tier_signals& s, const tier_thresholds& thresholds, tier_mode mode) {
  for (int t = tier_max; t >= 1; --t) {
    const tier_threshold& need = thresholds.at[static_cast<std::size_t>(t - 1)];
    const bool partners_ok = mode == tier_mode::enterprise || s.partners >= need.partners;
    if (s.count >= need.count && s.age_days >= need.age_days && partners_ok) return t;
  }
  return 0;
}

}  // namespace warrant::engine::evidence

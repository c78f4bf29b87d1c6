// tests/evidence/tier_test.cc: the tier function (engine/evidence/tier.*), table-driven at every
// boundary of the default thresholds, in both modes, and the per-entity summary an index keeps.
#include "engine/evidence/tier.h"

#include <gtest/gtest.h>

#include <limits>
#include <set>
#include <string>
#include <vector>

#include "engine/evidence/catalogue.h"

namespace warrant::engine::evidence {
namespace {

constexpr std::int64_t as_of = 1'780'000'000'000;  // 2026-05-28T20:26:40Z
constexpr std::int64_t day = ms_per_day;

tier_thresholds defaults() {
  tier_thresholds t;
  t.at[0] = {10, 14, 0};
  t.at[1] = {50, 30, 2};
  t.at[2] = {200, 90, 3};
  return t;
}

struct tier_case {
  const char* name;
  std::uint64_t count;
  std::uint32_t age_days;
  std::uint32_t partners;
  int enterprise;
  int marketplace;
};

TEST(Tier, EveryBoundaryOfTheDefaultThresholds) {
  const tier_case cases[] = {
      {"nothing", 0, 0, 0, 0, 0},
      {"one event", 1, 400, 1, 0, 0},
      {"tier1 exactly", 10, 14, 1, 1, 1},
      {"tier1 one event short", 9, 14, 1, 0, 0},
      {"tier1 one day short", 10, 13, 1, 0, 0},
      {"tier1 needs no partners", 10, 14, 0, 1, 1},
      {"tier2 exactly", 50, 30, 2, 2, 2},
      {"tier2 one event short", 49, 30, 2, 1, 1},
      {"tier2 one day short", 50, 29, 2, 1, 1},
      {"tier2 one partner", 50, 30, 1, 2, 1},
      {"tier3 exactly", 200, 90, 3, 3, 3},
      {"tier3 one event short", 199, 90, 3, 2, 2},
      {"tier3 one day short", 200, 89, 3, 2, 2},
      {"tier3 two partners", 200, 90, 2, 3, 2},
      {"tier3 one partner", 200, 90, 1, 3, 1},
      {"volume without age", 100000, 0, 50, 0, 0},
      {"age without volume", 5, 10000, 50, 0, 0},
      {"far above", 1'000'000, 5000, 100, 3, 3},
  };
  for (const tier_case& c : cases) {
    const tier_signals s{c.count, c.age_days, c.partners};
    EXPECT_EQ(tier_of(s, defaults(), tier_mode::enterprise), c.enterprise) << c.name;
    EXPECT_EQ(tier_of(s, defaults(), tier_mode::marketplace), c.marketplace) << c.name;
  }
}

TEST(Tier, AgeIsWholeDaysRoundedDown) {
  EXPECT_EQ(history_age_days(as_of, as_of), 0u);
  EXPECT_EQ(history_age_days(as_of - 1, as_of), 0u);
  EXPECT_EQ(history_age_days(as_of - day + 1, as_of), 0u);
  EXPECT_EQ(history_age_days(as_of - day, as_of), 1u);
  EXPECT_EQ(history_age_days(as_of - 14 * day, as_of), 14u);
  EXPECT_EQ(history_age_days(as_of - 14 * day + 1, as_of), 13u);
  EXPECT_EQ(history_age_days(as_of - 90 * day - 1, as_of), 90u);
  // Before the earliest event, or with none: no age, never negative.
  EXPECT_EQ(history_age_days(as_of + day, as_of), 0u);
  EXPECT_EQ(history_age_days(no_time_ms, as_of), 0u);
  // Absurd spans saturate instead of wrapping.
  EXPECT_EQ(history_age_days(-(std::int64_t{1} << 62), std::int64_t{1} << 62), 0xffffffffu);
  EXPECT_EQ(history_age_days(std::numeric_limits<std::int64_t>::min(), std::numeric_limits<std::int64_t>::max() - 1),
            0xffffffffu);
}

TEST(Tier, SignalsFromTheSummary) {
  counted_history h;
  EXPECT_EQ(tier_signals_at(h, as_of).count, 0u);
  EXPECT_EQ(tier_signals_at(h, as_of).age_days, 0u);
  h = {10, as_of - 14 * day, 1};
  EXPECT_EQ(tier_signals_at(h, as_of).age_days, 14u);
  EXPECT_EQ(tier_at(h, as_of, defaults(), tier_mode::enterprise), 1);
  EXPECT_EQ(tier_at(h, as_of - 1, defaults(), tier_mode::enterprise), 0);  // one ms earlier: 13 days
  // A summary with no counted event has no age, whatever its time says.
  h = {0, as_of - 400 * day, 0};
  EXPECT_EQ(tier_signals_at(h, as_of).age_days, 0u);
}

TEST(Tier, OccurredAtIsClampedToReceivedAt) {
  // Backfilled: occurred long before receipt; the occurrence counts.
  EXPECT_EQ(counted_event_time_ms(as_of - 100 * day, as_of - day), as_of - 100 * day);
  // Ahead of receipt (allowed up to 5 minutes): receipt counts, so age never comes from the future.
  EXPECT_EQ(counted_event_time_ms(as_of + 5 * 60'000, as_of), as_of);
  EXPECT_EQ(counted_event_time_ms(as_of, as_of), as_of);
}

TEST(Tier, ThresholdsComeFromThePolicy) {
  tier_thresholds t;
  t.at[0] = {1, 0, 0};
  t.at[1] = {2, 1, 1};
  t.at[2] = {3, 2, 5};
  EXPECT_EQ(tier_of({1, 0, 0}, t, tier_mode::enterprise), 1);
  EXPECT_EQ(tier_of({2, 1, 0}, t, tier_mode::enterprise), 2);
  EXPECT_EQ(tier_of({2, 1, 0}, t, tier_mode::marketplace), 1);
  EXPECT_EQ(tier_of({3, 2, 4}, t, tier_mode::marketplace), 2);
  EXPECT_EQ(tier_of({3, 2, 5}, t, tier_mode::marketplace), 3);
  EXPECT_EQ(tier_of({0, 99, 99}, t, tier_mode::marketplace), 0);
}

TEST(Tier, ModeNames) {
  EXPECT_EQ(tier_mode_name(tier_mode::enterprise), "enterprise");
  EXPECT_EQ(tier_mode_name(tier_mode::marketplace), "marketplace");
}

// How an entity index folds events into its summary, with the catalogue deciding what counts:
// negative and neutral-uncounted events change nothing, partners are distinct workspaces.
struct event {
  std::string_view type;
  std::int64_t occurred_ms;
  std::int64_t received_ms;
  std::string workspace;
};

counted_history fold(const std::vector<event>& events) {
  counted_history h;
  std::set<std::string> partners;
  for (const event& e : events) {
    const auto id = find_event_type(e.type);
    if (!id || !event_type(*id).counts) continue;
    ++h.counted_events;
    const std::int64_t t = counted_event_time_ms(e.occurred_ms, e.received_ms);
    if (t < h.earliest_counted_ms) h.earliest_counted_ms = t;
    partners.insert(e.workspace);
    h.partners = static_cast<std::uint32_t>(partners.size());
  }
  return h;
}

TEST(Tier, FoldedHistoryCountsOnlyCountedTypesAndDistinctPartners) {
  std::vector<event> events;
  // 9 counted events from workspace a over 20 days, plus noise that never counts.
  for (int i = 0; i < 9; ++i) events.push_back({"transaction.completed", as_of - (20 - i) * day, as_of - (20 - i) * day, "a"});
  events.push_back({"transaction.chargeback", as_of - 300 * day, as_of - 300 * day, "b"});
  events.push_back({"signal.fraud_suspected", as_of - 300 * day, as_of - 300 * day, "c"});
  events.push_back({"transaction.initiated", as_of - 300 * day, as_of - 300 * day, "d"});
  counted_history h = fold(events);
  EXPECT_EQ(h.counted_events, 9u);
  EXPECT_EQ(h.partners, 1u);
  EXPECT_EQ(tier_signals_at(h, as_of).age_days, 20u);
  EXPECT_EQ(tier_at(h, as_of, defaults(), tier_mode::enterprise), 0);
  // The tenth counted event, from another workspace, occurred "in the future" of its receipt:
  // clamped to receipt, so it does not make the history older.
  events.push_back({"rating.received", as_of + 4 * 60'000, as_of - day, "b"});
  h = fold(events);
  EXPECT_EQ(h.counted_events, 10u);
  EXPECT_EQ(h.partners, 2u);
  EXPECT_EQ(tier_at(h, as_of, defaults(), tier_mode::enterprise), 1);
  EXPECT_EQ(tier_at(h, as_of, defaults(), tier_mode::marketplace), 1);
}

}  // namespace
}  // namespace warrant::engine::evidence

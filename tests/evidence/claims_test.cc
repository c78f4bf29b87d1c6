// tests/evidence/claims_test.cc: the claim lifecycle table and claimStatus
// (engine/evidence/claims.*), with the 365-day window probed at its edges.
#include "engine/evidence/claims.h"

#include <gtest/gtest.h>

namespace warrant::engine::evidence {
namespace {

using cs = claim_state;
using ca = claim_action;
using te = claim_transition_errc;

constexpr std::int64_t t0 = 1'780'000'000'000;
constexpr std::int64_t day = ms_per_day;

constexpr cs all_states[] = {cs::open, cs::disputed, cs::upheld, cs::dismissed, cs::withdrawn};
constexpr ca all_actions[] = {ca::dispute, ca::uphold, ca::dismiss, ca::withdraw};

struct expected_transition {
  bool legal;
  cs to;
  bool filer_only;
};

// spec/evidence.md "Claims", restated: open -> disputed; open|disputed -> upheld | dismissed |
// withdrawn; only the filing workspace may uphold, dismiss or withdraw.
expected_transition spec(cs from, ca action) {
  switch (action) {
    case ca::dispute: return {from == cs::open, cs::disputed, false};
    case ca::uphold: return {from == cs::open || from == cs::disputed, cs::upheld, true};
    case ca::dismiss: return {from == cs::open || from == cs::disputed, cs::dismissed, true};
    case ca::withdraw: return {from == cs::open || from == cs::disputed, cs::withdrawn, true};
  }
  return {};
}

TEST(ClaimTransitions, EveryStateActionAndActor) {
  int legal = 0;
  for (cs from : all_states) {
    for (ca action : all_actions) {
      for (bool filer : {true, false}) {
        const expected_transition want = spec(from, action);
        const claim_transition_result got = check_claim_transition(from, action, filer);
        const std::string what = std::string(claim_state_name(from)) + " " + std::string(claim_action_name(action)) +
                                 (filer ? " by filer" : " by other");
        if (want.filer_only && !filer) {
          EXPECT_EQ(got.error, te::not_filer) << what;
        } else if (!want.legal) {
          EXPECT_EQ(got.error, te::illegal_transition) << what;
        } else {
          ASSERT_TRUE(got.ok()) << what;
          EXPECT_EQ(got.to, want.to) << what;
          ++legal;
        }
      }
    }
  }
  // dispute from open by either; uphold/dismiss/withdraw from open or disputed by the filer.
  EXPECT_EQ(legal, 2 + 3 * 2);
}

TEST(ClaimTransitions, TerminalStatesAcceptNothing) {
  for (cs from : {cs::upheld, cs::dismissed, cs::withdrawn}) {
    for (ca action : all_actions) EXPECT_FALSE(check_claim_transition(from, action, true).ok());
  }
}

TEST(ClaimTransitions, ActionNamesRoundTrip) {
  for (ca action : all_actions) EXPECT_EQ(claim_action_from_name(claim_action_name(action)), action);
  EXPECT_FALSE(claim_action_from_name("reopen").has_value());
  EXPECT_FALSE(claim_action_from_name("").has_value());
}

TEST(ClaimStatus, CleanContestedFlagged) {
  claim_summary s;
  EXPECT_EQ(claim_status_at(s, t0), claim_status::clean);
  s.on_filed();
  EXPECT_EQ(claim_status_at(s, t0), claim_status::flagged);  // open and undisputed
  s.on_transition(cs::open, cs::disputed, t0);
  EXPECT_EQ(claim_status_at(s, t0), claim_status::contested);
  s.on_filed();
  EXPECT_EQ(claim_status_at(s, t0), claim_status::flagged);  // flagged beats contested
  s.on_transition(cs::open, cs::dismissed, t0);
  EXPECT_EQ(claim_status_at(s, t0), claim_status::contested);
  s.on_transition(cs::disputed, cs::withdrawn, t0);
  EXPECT_EQ(claim_status_at(s, t0), claim_status::clean);
  EXPECT_EQ(s.count(cs::dismissed), 1u);
  EXPECT_EQ(s.count(cs::withdrawn), 1u);
  EXPECT_EQ(s.count(cs::open) + s.count(cs::disputed), 0u);
}

TEST(ClaimStatus, UpheldFlagsForExactly365Days) {
  claim_summary s;
  s.on_filed();
  s.on_transition(cs::open, cs::upheld, t0);
  EXPECT_EQ(s.latest_upheld_ms, t0);
  struct probe {
    std::int64_t as_of;
    claim_status want;
  };
  const probe probes[] = {
      {t0 - day, claim_status::flagged},  // an uphold dated after as_of still flags
      {t0, claim_status::flagged},
      {t0 + 364 * day, claim_status::flagged},
      {t0 + 365 * day - 1, claim_status::flagged},
      {t0 + 365 * day, claim_status::clean},
      {t0 + 365 * day + 1, claim_status::clean},
      {t0 + 10 * 365 * day, claim_status::clean},
  };
  for (const probe& p : probes) EXPECT_EQ(claim_status_at(s, p.as_of), p.want) << (p.as_of - t0);
}

TEST(ClaimStatus, ExpiredUpholdLeavesDisputesContested) {
  claim_summary s;
  s.on_filed();
  s.on_filed();
  s.on_transition(cs::open, cs::upheld, t0);
  s.on_transition(cs::open, cs::disputed, t0);
  EXPECT_EQ(claim_status_at(s, t0 + 365 * day - 1), claim_status::flagged);
  EXPECT_EQ(claim_status_at(s, t0 + 365 * day), claim_status::contested);
}

TEST(ClaimStatus, TheLatestUpholdDecides) {
  claim_summary s;
  for (int i = 0; i < 3; ++i) s.on_filed();
  s.on_transition(cs::open, cs::upheld, t0 + 100 * day);
  s.on_transition(cs::open, cs::upheld, t0);  // applied later, dated earlier: the max is kept
  EXPECT_EQ(s.latest_upheld_ms, t0 + 100 * day);
  s.on_transition(cs::open, cs::dismissed, t0 + 200 * day);
  EXPECT_EQ(s.count(cs::upheld), 2u);
  EXPECT_EQ(claim_status_at(s, t0 + 465 * day - 1), claim_status::flagged);
  EXPECT_EQ(claim_status_at(s, t0 + 465 * day), claim_status::clean);
}

TEST(ClaimStatus, Names) {
  EXPECT_EQ(claim_status_name(claim_status::clean), "clean");
  EXPECT_EQ(claim_status_name(claim_status::contested), "contested");
  EXPECT_EQ(claim_status_name(claim_status::flagged), "flagged");
  EXPECT_EQ(claim_state_name(cs::withdrawn), "withdrawn");
}

}  // namespace
}  // namespace warrant::engine::evidence

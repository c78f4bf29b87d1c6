// engine/evidence/decision_record.*: the stored form of a logged decision.
#include "engine/evidence/decision_record.h"

#include <gtest/gtest.h>

#include <array>

#include "storage/record.h"

namespace warrant::engine::evidence {
namespace {

decision_record_view sample(const std::array<std::string_view, 2>& reasons) {
  decision_record_view d;
  d.correlation_id = "01890f4e-8a6b-7cc3-9d2e-4b5a69788a9b";
  d.workspace_id = "ws-1";
  d.evaluated_at_ms = 1'780'000'000'123;
  d.decision = "STEP_UP";
  d.action = "data.export_pii";
  d.actor_type = "human";
  d.actor_id = "emp-12345";
  d.policy_version = "evidence-defaults-1";
  d.tier = 2;
  d.required_tier = 3;
  d.claim_status = "contested";
  d.reasons = reasons.data();
  d.reason_count = reasons.size();
  d.answer = R"({"decision":"STEP_UP"})";
  return d;
}

TEST(DecisionRecord, RoundTrips) {
  const std::array<std::string_view, 2> reasons = {"TIER_STEP_UP_BAND", "CLAIMS_CONTESTED"};
  std::string payload;
  encode_decision_payload(payload, sample(reasons));
  const auto d = decode_decision_payload(payload);
  ASSERT_TRUE(d);
  EXPECT_EQ(d->version, decision_record_version);
  EXPECT_EQ(d->correlation_id, "01890f4e-8a6b-7cc3-9d2e-4b5a69788a9b");
  EXPECT_EQ(d->workspace_id, "ws-1");
  EXPECT_EQ(d->evaluated_at_ms, 1'780'000'000'123);
  EXPECT_EQ(d->decision, "STEP_UP");
  EXPECT_EQ(d->action, "data.export_pii");
  EXPECT_EQ(d->actor_type, "human");
  EXPECT_EQ(d->actor_id, "emp-12345");
  EXPECT_EQ(d->policy_version, "evidence-defaults-1");
  EXPECT_EQ(d->tier, 2);
  EXPECT_EQ(d->required_tier, 3);
  EXPECT_EQ(d->claim_status, "contested");
  EXPECT_EQ(d->reasons, (std::vector<std::string>{"TIER_STEP_UP_BAND", "CLAIMS_CONTESTED"}));
  EXPECT_EQ(d->answer, R"({"decision":"STEP_UP"})");
}

TEST(DecisionRecord, EnvelopeChecksumCatchesCorruption) {
  const std::array<std::string_view, 2> reasons = {"A", "B"};
  std::string payload;
  encode_decision_payload(payload, sample(reasons));
  std::string rec = storage::encode_record(storage::record_type::policy_decision, payload);
  storage::decoded_record out;
  ASSERT_EQ(storage::decode_record(rec, out), storage::decode_errc::ok);
  EXPECT_EQ(out.type, storage::record_type::policy_decision);
  rec[rec.size() - 3] ^= 0x20;
  EXPECT_EQ(storage::decode_record(rec, out), storage::decode_errc::bad_checksum);
}

TEST(DecisionRecord, UnknownFieldsAreSkippedAndMissingOnesRefused) {
  const std::array<std::string_view, 2> reasons = {"A", "B"};
  std::string payload;
  encode_decision_payload(payload, sample(reasons));
  std::string newer = payload;
  newer.push_back(static_cast<char>(200));  // a field a newer writer added
  newer.push_back(static_cast<char>(3));
  newer.append("xyz");
  EXPECT_TRUE(decode_decision_payload(newer));
  EXPECT_FALSE(decode_decision_payload(payload.substr(0, payload.size() - 2))) << "truncated";
  EXPECT_FALSE(decode_decision_payload("")) << "no version, no id";
}

TEST(DecisionRecord, KeyIsScopedToTheWorkspace) {
  EXPECT_EQ(decision_key("ws-1", "id-9"), std::string("ws-1\0id-9", 9));
  EXPECT_NE(decision_key("ws-1", "x"), decision_key("ws-2", "x"));
}

}  // namespace
}  // namespace warrant::engine::evidence

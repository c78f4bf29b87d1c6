// engine/evidence/decision_record.*: the stored forms of logged decisions: groups (written
// now), single records (written before groups, still read), and the ids of a bulk's items.
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

decision_item_view item(const std::array<std::string_view, 2>& reasons, std::string_view actor_id) {
  decision_item_view d;
  d.outcome = decision::step_up;
  d.tier = 2;
  d.required_tier = 3;
  d.claims = claim_status::contested;
  d.actor = actor_type::service;
  d.action = "data.export_pii";
  d.actor_id = actor_id;
  d.why_json = R"("Tier 2 is below \"3\".")";
  d.reasons = reasons.data();
  d.reason_count = reasons.size();
  return d;
}

TEST(DecisionGroup, RoundTripsEveryItem) {
  const std::array<std::string_view, 2> reasons = {"TIER_STEP_UP_BAND", "CLAIMS_CONTESTED"};
  std::string payload;
  decision_group_writer w(payload, 1'780'000'000'123, "evidence-defaults-1");
  w.add(item(reasons, "svc-0"));
  w.skip();
  w.add(item(reasons, "svc-2"));
  EXPECT_EQ(w.items(), 3u);
  const std::string_view literal = R"("Tier 2 is below \"3\".")";
  EXPECT_EQ(payload.find(literal), payload.rfind(literal)) << "a repeated whyRec is written once";
  for (std::size_t i : {0u, 2u}) {
    decision_group_header h;
    stored_decision d;
    ASSERT_TRUE(decode_decision_group(payload, i, h, d));
    EXPECT_EQ(h.version, decision_group_version);
    EXPECT_EQ(h.evaluated_at_ms, 1'780'000'000'123);
    EXPECT_EQ(h.policy_version, "evidence-defaults-1");
    EXPECT_EQ(h.items, 3u);
    ASSERT_TRUE(d.decided);
    EXPECT_EQ(d.outcome, decision::step_up);
    EXPECT_EQ(d.tier, 2);
    EXPECT_EQ(d.required_tier, 3);
    EXPECT_EQ(d.claims, claim_status::contested);
    EXPECT_EQ(d.actor, actor_type::service);
    EXPECT_EQ(d.action, "data.export_pii");
    EXPECT_EQ(d.actor_id, i == 0 ? "svc-0" : "svc-2");
    EXPECT_EQ(d.why_json, R"("Tier 2 is below \"3\".")");
    ASSERT_EQ(d.reason_count, 2u);
    EXPECT_EQ(d.reasons[0], "TIER_STEP_UP_BAND");
    EXPECT_EQ(d.reasons[1], "CLAIMS_CONTESTED");
  }
  decision_group_header h;
  stored_decision d;
  ASSERT_TRUE(decode_decision_group(payload, 1, h, d));
  EXPECT_FALSE(d.decided) << "a skipped index holds no decision";
  ASSERT_TRUE(decode_decision_group(payload, 3, h, d));
  EXPECT_FALSE(d.decided) << "past the end";
}

TEST(DecisionGroup, ReusedStringsAreClearedAndMalformedPayloadsRefused) {
  const std::array<std::string_view, 2> reasons = {"A", "B"};
  std::string payload = "stale";
  {
    decision_group_writer w(payload, 5, "v");
    w.add(item(reasons, "x"));
  }
  decision_group_header h;
  stored_decision d;
  ASSERT_TRUE(decode_decision_group(payload, 0, h, d));
  EXPECT_EQ(d.actor_id, "x");
  EXPECT_FALSE(decode_decision_group(payload.substr(0, payload.size() - 2), 0, h, d)) << "truncated";
  EXPECT_FALSE(decode_decision_group("", 0, h, d)) << "no version, no items";
  std::string newer = payload;
  newer.push_back(static_cast<char>(200));  // a field a newer writer added
  newer.push_back(static_cast<char>(1));
  newer.push_back('z');
  EXPECT_TRUE(decode_decision_group(newer, 0, h, d));

  // An item whose whyRec is not a JSON string literal is refused (it is rendered raw). The
  // writer asserts that it never writes one, so the stored literal is damaged afterwards, in
  // place (same length: the field lengths stay right).
  decision_item_view good = item(reasons, "x");
  std::string p2;
  {
    decision_group_writer w(p2, 5, "v");
    w.add(good);
  }
  const std::size_t at = p2.find(good.why_json);
  ASSERT_NE(at, std::string::npos);
  p2[at] = 'x';  // no opening quote
  EXPECT_FALSE(decode_decision_group(p2, 0, h, d));
}

TEST(DecisionGroup, BulkItemIdsDeriveFromTheGroupId) {
  char group[37] = "01890f4e-8a6b-7cc3-9d2e-4b5a69788a9b";
  make_bulk_group_id(group);
  EXPECT_EQ(std::string_view(group, 36), "01890f4e-8a6b-7cc3-9d2e-4b5a69788000");
  char id[36];
  bulk_item_id(group, 0, id);
  EXPECT_EQ(std::string_view(id, 36), "01890f4e-8a6b-7cc3-9d2e-4b5a69788000");
  bulk_item_id(group, 999, id);
  EXPECT_EQ(std::string_view(id, 36), "01890f4e-8a6b-7cc3-9d2e-4b5a697883e7");

  std::string g;
  std::size_t index = 0;
  ASSERT_TRUE(group_of(std::string_view(id, 36), g, index));
  EXPECT_EQ(g, "01890f4e-8a6b-7cc3-9d2e-4b5a69788000");
  EXPECT_EQ(index, 999u);
  EXPECT_FALSE(group_of("01890f4e-8a6b-7cc3-9d2e-4b5a69788000", g, index)) << "its own group: looked up already";
  EXPECT_FALSE(group_of("01890f4e-8a6b-7cc3-9d2e-4b5a697883E7", g, index)) << "ids are lower-case";
  EXPECT_FALSE(group_of("short", g, index));
}

TEST(DecisionRecord, KeyIsScopedToTheWorkspace) {
  EXPECT_EQ(decision_key("ws-1", "id-9"), std::string("ws-1\0id-9", 9));
  EXPECT_NE(decision_key("ws-1", "x"), decision_key("ws-2", "x"));
}

}  // namespace
}  // namespace warrant::engine::evidence

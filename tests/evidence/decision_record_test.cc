// engine/evidence/decision_record.*: the stored forms of logged decisions: groups (written
// now), single records (written before groups, still read), and the ids of a bulk's items.
#include "engine/evidence/decision_record.h"

#include <gtest/gtest.h>

#include <array>
#include <string>
#include <vector>

#include "engine/common/ids.h"
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

// The fields `item` (below) writes, as a group reads them back.
void expect_sample_item(const stored_decision& d, std::string_view actor_id, std::string_view why_json) {
  ASSERT_TRUE(d.decided);
  EXPECT_EQ(d.outcome, decision::step_up);
  EXPECT_EQ(d.tier, 2);
  EXPECT_EQ(d.required_tier, 3);
  EXPECT_EQ(d.claims, claim_status::contested);
  EXPECT_EQ(d.actor, actor_type::service);
  EXPECT_EQ(d.action, "data.export_pii");
  EXPECT_EQ(d.actor_id, actor_id);
  EXPECT_EQ(d.why_json, why_json);
  ASSERT_EQ(d.reason_count, 2u);
  EXPECT_EQ(d.reasons[0], "TIER_STEP_UP_BAND");
  EXPECT_EQ(d.reasons[1], "CLAIMS_CONTESTED");
}

TEST(DecisionGroup, RoundTripsEveryItem) {
  const std::array<std::string_view, 2> reasons = {"TIER_STEP_UP_BAND", "CLAIMS_CONTESTED"};
  std::string payload;
  decision_group_writer w(payload, 1'780'000'000'123, "evidence-defaults-1", "ws-7");
  w.add(item(reasons, "svc-0"));
  w.skip();
  w.add(item(reasons, "svc-2"));
  EXPECT_EQ(w.items(), 3u);
  for (const std::string_view literal : {std::string_view(R"("Tier 2 is below \"3\".")"), std::string_view("data.export_pii"),
                                         std::string_view("TIER_STEP_UP_BAND"), std::string_view("CLAIMS_CONTESTED")}) {
    EXPECT_NE(payload.find(literal), std::string::npos) << literal;
    EXPECT_EQ(payload.find(literal), payload.rfind(literal)) << "a repeated string is written once: " << literal;
  }
  for (std::size_t i : {0u, 2u}) {
    decision_group_header h;
    stored_decision d;
    ASSERT_TRUE(decode_decision_group(payload, i, h, d));
    EXPECT_EQ(h.version, decision_group_version);
    EXPECT_EQ(h.evaluated_at_ms, 1'780'000'000'123);
    EXPECT_EQ(h.policy_version, "evidence-defaults-1");
    EXPECT_EQ(h.workspace_id, "ws-7");
    EXPECT_EQ(h.items, 3u);
    expect_sample_item(d, i == 0 ? "svc-0" : "svc-2", R"("Tier 2 is below \"3\".")");
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
    decision_group_writer w(payload, 5, "v", "ws");
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
    decision_group_writer w(p2, 5, "v", "ws");
    w.add(good);
  }
  const std::size_t at = p2.find(good.why_json);
  ASSERT_NE(at, std::string::npos);
  p2[at] = 'x';  // no opening quote
  EXPECT_FALSE(decode_decision_group(p2, 0, h, d));
}

// Version 1 groups (every code its own field; actions and reasons always in full) were
// written before version 2 and are still read. Built here byte by byte, as that writer did.
class group_v1 {
 public:
  group_v1() { _group.u64(1, 1).u64(2, 1'780'000'000'123).bytes(3, "evidence-defaults-1"); }  // version 1
  // One v1 item; `why_ref` names an earlier whyRec literal instead of writing `why`.
  void item(std::string_view actor_id, std::string_view why, int why_ref = -1) {
    storage::field_writer it;
    it.u64(1, 1).u64(2, 2).u64(3, 3).u64(4, 1);  // STEP_UP, tier 2, requiredTier 3, contested
    it.bytes(5, "data.export_pii").u64(6, 1).bytes(7, actor_id);  // service
    if (why_ref >= 0) {
      it.u64(10, static_cast<std::uint64_t>(why_ref));
    } else {
      it.bytes(8, why);
    }
    it.bytes(9, "TIER_STEP_UP_BAND").bytes(9, "CLAIMS_CONTESTED");
    _group.bytes(4, it.str());
  }
  const std::string& payload() const { return _group.str(); }

 private:
  storage::field_writer _group;
};

TEST(DecisionGroup, VersionOneGroupsAreStillRead) {
  group_v1 g;
  g.item("svc-0", R"("Tier 2 is below 3.")");
  g.item("svc-1", "", 0);
  for (std::size_t i : {0u, 1u}) {
    decision_group_header h;
    stored_decision d;
    ASSERT_TRUE(decode_decision_group(g.payload(), i, h, d));
    EXPECT_EQ(h.version, 1u);
    EXPECT_EQ(h.items, 2u);
    EXPECT_EQ(h.policy_version, "evidence-defaults-1");
    expect_sample_item(d, i == 0 ? "svc-0" : "svc-1", R"("Tier 2 is below 3.")");
  }
  group_v1 dangling;
  dangling.item("svc-0", "", 0);  // names a whyRec no item has written
  decision_group_header h;
  stored_decision d;
  EXPECT_FALSE(decode_decision_group(dangling.payload(), 0, h, d));
}

TEST(DecisionGroup, RepeatedStringsAreNamedAndTheItemsStaySmall) {
  // 100 items as a bulk writes them: 3 actions, 2 sentences and 3 reason codes between them.
  const std::array<std::string_view, 3> actions = {"data.export_pii", "account.delete", "payment.refund"};
  const std::array<std::string_view, 2> whys = {R"("Tier 3 meets the tier 3 required.")", R"("Tier 1 is below 2.")"};
  const std::array<std::string_view, 3> codes = {"TIER_SUFFICIENT", "TIER_STEP_UP_BAND", "CLAIMS_CONTESTED"};
  std::vector<std::string> ids;
  for (int i = 0; i < 100; ++i) ids.push_back("u-" + std::to_string(1000 + i));
  std::string payload;
  decision_group_writer w(payload, 7, "v", "ws");
  for (std::size_t i = 0; i < 100; ++i) {
    const std::array<std::string_view, 2> reasons = {codes[i % 3], codes[(i + 1) % 3]};
    decision_item_view d;
    d.outcome = static_cast<decision>(i % 4);
    d.tier = static_cast<int>(i % 4);
    d.required_tier = i == 7 ? 1'000'000 : 2;
    d.claims = static_cast<claim_status>(i % 3);
    d.actor = static_cast<actor_type>(i % 2);
    d.action = actions[i % 3];
    d.actor_id = ids[i];
    d.why_json = whys[i % 2];
    d.reasons = reasons.data();
    d.reason_count = 1 + i % 2;
    w.add(d);
  }
  // Each item: its codes (7 bytes), action, why and reasons by number (3 bytes each), its
  // 6-byte actor id (8) and its own field header (2): 26 to 29 bytes.
  EXPECT_LT(payload.size(), 100u * 30) << "a bulk of 100 fits one LMDB overflow page";
  for (std::size_t i = 0; i < 100; ++i) {
    decision_group_header h;
    stored_decision d;
    ASSERT_TRUE(decode_decision_group(payload, i, h, d)) << i;
    EXPECT_EQ(h.version, decision_group_version);
    EXPECT_EQ(d.outcome, static_cast<decision>(i % 4));
    EXPECT_EQ(d.tier, static_cast<int>(i % 4));
    EXPECT_EQ(d.required_tier, i == 7 ? 1'000'000 : 2);
    EXPECT_EQ(d.claims, static_cast<claim_status>(i % 3));
    EXPECT_EQ(d.actor, static_cast<actor_type>(i % 2));
    EXPECT_EQ(d.action, actions[i % 3]);
    EXPECT_EQ(d.actor_id, ids[i]);
    EXPECT_EQ(d.why_json, whys[i % 2]);
    ASSERT_EQ(d.reason_count, 1 + i % 2) << i;
    EXPECT_EQ(d.reasons[0], codes[i % 3]);
    if (i % 2 == 1) {
      EXPECT_EQ(d.reasons[1], codes[(i + 1) % 3]);
    }
  }
}

TEST(DecisionGroup, MoreDistinctStringsThanRememberedAreWrittenOut) {
  // 40 distinct actions (more than the writer remembers), each twice.
  std::vector<std::string> names;
  for (int i = 0; i < 40; ++i) names.push_back("action." + std::to_string(i));
  const std::array<std::string_view, 2> reasons = {"A", "A"};  // the same code twice in one item
  std::string payload;
  decision_group_writer w(payload, 7, "v", "ws");
  for (int round = 0; round < 2; ++round) {
    for (int i = 0; i < 40; ++i) {
      decision_item_view d = item(reasons, "x");
      d.action = names[static_cast<std::size_t>(i)];
      w.add(d);
    }
  }
  for (std::size_t i = 0; i < 80; ++i) {
    decision_group_header h;
    stored_decision d;
    ASSERT_TRUE(decode_decision_group(payload, i, h, d)) << i;
    EXPECT_EQ(d.action, names[i % 40]);
    ASSERT_EQ(d.reason_count, 2u);
    EXPECT_EQ(d.reasons[0], "A");
    EXPECT_EQ(d.reasons[1], "A");
  }
}

TEST(DecisionGroup, MalformedCodesAreRefused) {
  const std::array<std::string_view, 2> reasons = {"A", "B"};
  std::string payload;
  {
    decision_group_writer w(payload, 5, "v", "ws");
    w.add(item(reasons, "x"));
  }
  // The codes field is the item's first: group item tag, item length, codes tag, codes length,
  // then decision, claim status, actor type.
  const std::size_t item_at = payload.find(static_cast<char>(4), payload.find("v") + 1);
  ASSERT_NE(item_at, std::string::npos);
  const std::size_t codes_at = item_at + 2;
  ASSERT_EQ(payload[codes_at], static_cast<char>(11));
  decision_group_header h;
  stored_decision d;
  ASSERT_TRUE(decode_decision_group(payload, 0, h, d));
  for (std::size_t byte = 0; byte < 3; ++byte) {
    std::string bad = payload;
    bad[codes_at + 2 + byte] = static_cast<char>(9);  // no such decision, claim status or actor type
    EXPECT_FALSE(decode_decision_group(bad, 0, h, d)) << byte;
  }
  std::string unterminated = payload;
  unterminated[codes_at + 2 + 4] = static_cast<char>(0x83);  // requiredTier's varint runs past the field
  EXPECT_FALSE(decode_decision_group(unterminated, 0, h, d));
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

TEST(DecisionRecord, AGroupsKeyIsItsIdsSixteenBytesInTheIdsOrder) {
  std::string key = "prefix";
  ASSERT_TRUE(append_decision_group_key(key, "01890f4e-8a6b-7cc3-9d2e-4b5a69788000"));
  EXPECT_EQ(key, "prefix" + std::string("\x01\x89\x0f\x4e\x8a\x6b\x7c\xc3\x9d\x2e\x4b\x5a\x69\x78\x80\x00", 16));
  // Ids made later sort later as keys too: the log is written at the table's end.
  std::string earlier;
  std::string later;
  std::string made = new_uuid_v7();
  for (int i = 0; i < 1000; ++i) {
    earlier.clear();
    later.clear();
    ASSERT_TRUE(append_decision_group_key(earlier, made));
    made = new_uuid_v7();
    ASSERT_TRUE(append_decision_group_key(later, made));
    ASSERT_LT(earlier, later) << made;
  }
  for (const std::string_view bad : {"", "01890f4e-8a6b-7cc3-9d2e-4b5a6978800", "01890f4e-8a6b-7cc3-9d2e-4b5a697880000",
                                     "01890F4E-8A6B-7CC3-9D2E-4B5A69788000", "01890f4e08a6b-7cc3-9d2e-4b5a69788000",
                                     "01890f4e-8a6b-7cc3-9d2e-4b5a6978800g"}) {
    std::string out = "x";
    EXPECT_FALSE(append_decision_group_key(out, bad)) << bad;
    EXPECT_EQ(out, "x") << "nothing appended";
  }
}

TEST(DecisionRecord, KeyIsScopedToTheWorkspace) {
  EXPECT_EQ(decision_key("ws-1", "id-9"), std::string("ws-1\0id-9", 9));
  EXPECT_NE(decision_key("ws-1", "x"), decision_key("ws-2", "x"));
}

}  // namespace
}  // namespace warrant::engine::evidence

// tests/evidence/claim_record_test.cc: engine/evidence/claim.* — POST /v1/claims and action
// bodies, the record codec, keys, the JSON form.
#include "engine/evidence/claim.h"

#include <gtest/gtest.h>

// GCC 12 at -O3 reports a false -Wrestrict inside std::string concatenation (GCC PR 105329).
#pragma GCC diagnostic ignored "-Wrestrict"

#include "engine/common/ids.h"
#include "engine/evidence/event.h"

namespace warrant::engine::evidence {
namespace {

TEST(claim_request, ValidAndDefaults) {
  claim_request r;
  json_error err;
  ASSERT_TRUE(parse_claim_request(R"({"userExternalId":"u","claimType":"chargeback"})", r, err)) << err.message;
  EXPECT_EQ(r.type, claim_type::chargeback);
  EXPECT_FALSE(r.occurred_at_ms);
  EXPECT_TRUE(r.reference.empty());
  ASSERT_TRUE(parse_claim_request(
      R"({"userExternalId":"u","claimType":"identity_dispute","occurredAt":"2026-05-01T00:00:00Z","reference":"case-9"})",
      r, err));
  EXPECT_EQ(r.type, claim_type::identity_dispute);
  EXPECT_EQ(r.reference, "case-9");
  EXPECT_TRUE(r.occurred_at_ms);
}

TEST(claim_request, Errors) {
  auto code = [](std::string_view body) {
    claim_request r;
    json_error err;
    EXPECT_FALSE(parse_claim_request(body, r, err)) << body;
    return err.code;
  };
  EXPECT_EQ(code(R"({"userExternalId":"u","claimType":"fraud","note":"x"})"), "UNKNOWN_FIELD");
  EXPECT_EQ(code(R"({"userExternalId":"u","claimType":"theft"})"), "VALIDATION_ERROR");
  EXPECT_EQ(code(R"({"userExternalId":"u"})"), "VALIDATION_ERROR");
  EXPECT_EQ(code(R"({"claimType":"fraud"})"), "VALIDATION_ERROR");
  EXPECT_EQ(code(R"({"userExternalId":"u","claimType":"fraud","occurredAt":"soon"})"), "VALIDATION_ERROR");
  EXPECT_EQ(code(R"({"userExternalId":"u","claimType":"fraud","reference":")" + std::string(129, 'r') + "\"}"),
            "VALIDATION_ERROR");
  EXPECT_EQ(code("{"), "INVALID_JSON");
  EXPECT_EQ(code(R"({"userExternalId":"u","claimType":"fraud","claimType":"abuse"})"), "INVALID_JSON");
}

TEST(claim_action_body, EmptyOrReasonForDisputeOnly) {
  std::string reason;
  json_error err;
  EXPECT_TRUE(parse_claim_action_body("", claim_action::uphold, reason, err));
  EXPECT_TRUE(parse_claim_action_body("{}", claim_action::withdraw, reason, err));
  EXPECT_TRUE(parse_claim_action_body(R"({"reason":"not me"})", claim_action::dispute, reason, err));
  EXPECT_EQ(reason, "not me");
  EXPECT_FALSE(parse_claim_action_body(R"({"reason":"x"})", claim_action::uphold, reason, err));
  EXPECT_EQ(err.code, "UNKNOWN_FIELD");
  EXPECT_FALSE(parse_claim_action_body(R"({"reason":")" + std::string(501, 'x') + "\"}", claim_action::dispute,
                                       reason, err));
  EXPECT_EQ(err.code, "VALIDATION_ERROR");
}

TEST(claim_record, CodecRoundTripsAndKeysByNamespace) {
  claim_record c;
  c.id = new_uuid_v7();
  c.workspace_id = std::string("ws-a");
  c.identity_namespace = std::string("shared");
  c.entity = compute_entity_id("shared", "u");
  c.type = claim_type::abuse;
  c.state = claim_state::upheld;
  c.filed_at_ms = 1000;
  c.occurred_at_ms = 900;
  c.reference = std::string("ref");
  c.updated_at_ms = 2000;
  c.upheld_at_ms = 2000;
  c.dispute_reason = std::string("why");
  const auto d = decode_claim(encode_claim(c));
  ASSERT_TRUE(d);
  EXPECT_EQ(encode_claim(*d), encode_claim(c));
  EXPECT_EQ(d->state, claim_state::upheld);
  EXPECT_EQ(d->dispute_reason, "why");
  EXPECT_FALSE(decode_claim(""));
  EXPECT_TRUE(claim_key("shared", c.id)->starts_with(key_prefix("shared")));
  EXPECT_FALSE(claim_key("shared", "../etc"));
  net::byte_buffer out;
  render_claim(out, c);
  const std::string json(out.view());
  EXPECT_NE(json.find(R"("status":"upheld")"), std::string::npos);
  EXPECT_NE(json.find(R"("filedBy":"ws-a")"), std::string::npos);
  EXPECT_NE(json.find(R"("claimType":"abuse")"), std::string::npos);
}

TEST(claim_record, StateNames) {
  for (std::size_t i = 0; i < claim_state_count; ++i) {
    const auto s = static_cast<claim_state>(i);
    EXPECT_EQ(claim_state_from_name(claim_state_name(s)), s);
  }
  EXPECT_FALSE(claim_state_from_name("closed"));
  for (std::size_t i = 0; i < claim_type_count; ++i) {
    const auto t = static_cast<claim_type>(i);
    EXPECT_EQ(claim_type_from_name(claim_type_name(t)), t);
  }
}

}  // namespace
}  // namespace warrant::engine::evidence

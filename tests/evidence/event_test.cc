// tests/evidence/event_test.cc: engine/evidence/event.* and entity_id.* — strict validation of
// POST /v1/events bodies (every error code), the record codec, newest-first keys, the JSON form.
#include "engine/evidence/event.h"

#include <gtest/gtest.h>
#include <simdjson.h>

#include <string>

#include "engine/common/ids.h"
#include "storage/record.h"

namespace warrant::engine::evidence {
namespace {

constexpr std::int64_t now = 1'780'000'000'000;  // 2026-05-28T20:26:40.000Z

json_error parse_fails(std::string_view body) {
  event_request r;
  json_error err;
  EXPECT_FALSE(parse_event_request(body, now, r, err)) << body;
  return err;
}

TEST(entity_id, IsSha256OfNamespaceColonUser) {
  // echo -n "ns:user-1" | sha256sum
  EXPECT_EQ(entity_id_hex(compute_entity_id("ns", "user-1")),
            "0d21baa425580768b99a9b5072ce0309047c47694241aa2b17a02a1c1dc41696");
  EXPECT_NE(compute_entity_id("ns", "user-1"), compute_entity_id("other", "user-1"));
  EXPECT_NE(compute_entity_id("ns", "user-1"), compute_entity_id("ns", "user-2"));
  const entity_id id = compute_entity_id("ns", "u");
  EXPECT_EQ(entity_id_from_hex(entity_id_hex(id)), id);
  EXPECT_EQ(entity_id_hex(id).size(), 64u);
  EXPECT_FALSE(entity_id_from_hex("zz"));
  EXPECT_EQ(entity_id_from_bytes(entity_id_bytes_view(id)), id);
}

TEST(event_request, MinimalBodyGetsDefaults) {
  event_request r;
  json_error err;
  ASSERT_TRUE(parse_event_request(R"({"userExternalId":"u1","eventType":"review.submitted"})", now, r, err))
      << err.message;
  EXPECT_EQ(r.user_external_id, "u1");
  EXPECT_EQ(event_type(r.type).name, "review.submitted");
  EXPECT_FALSE(r.occurred_at_ms);
  EXPECT_EQ(r.level, significance::normal);
  EXPECT_EQ(r.actor, event_actor::unknown);
  EXPECT_EQ(r.batch, batch_type::live);
}

TEST(event_request, FullBody) {
  event_request r;
  json_error err;
  ASSERT_TRUE(parse_event_request(R"({"userExternalId":"u1","eventType":"gig.paid","occurredAt":"2026-05-28T20:00:00Z",)"
                                  R"("significance":"high","actorType":"AGENT","batchType":"LIVE"})",
                                  now, r, err))
      << err.message;
  EXPECT_EQ(*r.occurred_at_ms, parse_time_ms("2026-05-28T20:00:00.000Z"));
  EXPECT_EQ(r.level, significance::high);
  EXPECT_EQ(r.actor, event_actor::agent);
}

TEST(event_request, UnknownFieldsAreRefused) {
  EXPECT_EQ(parse_fails(R"({"userExternalId":"u","eventType":"gig.paid","metadata":{}})").code, "UNKNOWN_FIELD");
  EXPECT_EQ(parse_fails(R"({"userExternalId":"u","eventType":"gig.paid","amount":1})").code, "UNKNOWN_FIELD");
}

TEST(event_request, UnknownEventType) {
  EXPECT_EQ(parse_fails(R"({"userExternalId":"u","eventType":"gig.teleported"})").code, "INVALID_EVENT_TYPE");
  EXPECT_EQ(parse_fails(R"({"userExternalId":"u","eventType":""})").code, "INVALID_EVENT_TYPE");
}

// The refusal quotes the unknown name clipped to the longest known one (+1): never in the
// middle of a UTF-8 character, or the JSON error would not be valid JSON (found by the fuzzer).
TEST(event_request, AnUnknownEventTypeIsQuotedWithoutSplittingACharacter) {
  const std::string cyrillic_e = "\xd0\xad";  // U+042D, two bytes
  for (std::size_t lead = event_type_name_bytes_max - 3; lead <= event_type_name_bytes_max + 1; ++lead) {
    const std::string name = std::string(lead, 'g') + cyrillic_e + "L";
    const json_error err = parse_fails(R"({"userExternalId":"u","eventType":")" + name + R"("})");
    EXPECT_EQ(err.code, "INVALID_EVENT_TYPE");
    EXPECT_TRUE(simdjson::validate_utf8(err.message.data(), err.message.size())) << lead << ": " << err.message;
    EXPECT_LE(err.message.size(), event_type_name_bytes_max + 1 + std::string_view("'' is not an event type").size());
  }
}

TEST(event_request, WrongTypesAndMissingFields) {
  for (std::string_view body : {
           R"({"userExternalId":1,"eventType":"gig.paid"})",
           R"({"userExternalId":"","eventType":"gig.paid"})",
           R"({"userExternalId":"u","eventType":7})",
           R"({"userExternalId":"u","eventType":"gig.paid","occurredAt":12})",
           R"({"userExternalId":"u","eventType":"gig.paid","occurredAt":"yesterday"})",
           R"({"userExternalId":"u","eventType":"gig.paid","occurredAt":null})",
           R"({"userExternalId":"u","eventType":"gig.paid","significance":"urgent"})",
           R"({"userExternalId":"u","eventType":"gig.paid","actorType":"human"})",
           R"({"userExternalId":"u","eventType":"gig.paid","batchType":true})",
           R"({"eventType":"gig.paid"})",
           R"({"userExternalId":"u"})",
       }) {
    EXPECT_EQ(parse_fails(body).code, "VALIDATION_ERROR") << body;
  }
  const std::string long_id(256, 'x');
  EXPECT_EQ(parse_fails(R"({"userExternalId":")" + long_id + R"(","eventType":"gig.paid"})").code, "VALIDATION_ERROR");
}

TEST(event_request, MalformedJson) {
  EXPECT_EQ(parse_fails(R"({"userExternalId":"u",)").code, "INVALID_JSON");
  EXPECT_EQ(parse_fails(R"({"userExternalId":"u","userExternalId":"v","eventType":"gig.paid"})").code, "INVALID_JSON");
  EXPECT_EQ(parse_fails(R"([1,2])").code, "INVALID_JSON");
}

TEST(event_request, OccurredAtWindow) {
  auto body = [](std::int64_t t, std::string_view batch = {}) {
    std::string b = R"({"userExternalId":"u","eventType":"gig.paid","occurredAt":")" + format_time_ms(t) + "\"";
    if (!batch.empty()) b += R"(,"batchType":")" + std::string(batch) + "\"";
    return b + "}";
  };
  event_request r;
  json_error err;
  EXPECT_TRUE(parse_event_request(body(now + 5 * 60'000), now, r, err));
  EXPECT_EQ(parse_fails(body(now + 5 * 60'000 + 1)).code, "OCCURRED_AT_IN_FUTURE");
  EXPECT_TRUE(parse_event_request(body(now - 30 * ms_per_day), now, r, err));
  EXPECT_EQ(parse_fails(body(now - 30 * ms_per_day - 1)).code, "BACKFILL_REQUIRED");
  EXPECT_EQ(parse_fails(body(now - 30 * ms_per_day - 1, "LIVE")).code, "BACKFILL_REQUIRED");
  EXPECT_TRUE(parse_event_request(body(now - 400 * ms_per_day, "BACKFILL"), now, r, err));
  // An RFC 3339 offset is honoured.
  event_request o;
  ASSERT_TRUE(parse_event_request(R"({"userExternalId":"u","eventType":"gig.paid","occurredAt":"2026-05-28T22:00:00+02:00"})",
                                  now, o, err));
  EXPECT_EQ(*o.occurred_at_ms, *parse_time_ms("2026-05-28T20:00:00Z"));
}

event_record sample_event() {
  event_record e;
  e.id = new_uuid_v7(now);
  e.workspace_id = "ws-1";
  e.entity = compute_entity_id("ns", "u");
  e.type = *find_event_type("lending.paid_off");
  e.occurred_at_ms = now - 1000;
  e.received_at_ms = now;
  e.level = significance::low;
  e.actor = event_actor::human;
  e.batch = batch_type::backfill;
  return e;
}

TEST(event_record, CodecRoundTrips) {
  const event_record e = sample_event();
  const auto d = decode_event(encode_event(e));
  ASSERT_TRUE(d);
  EXPECT_EQ(d->id, e.id);
  EXPECT_EQ(d->workspace_id, e.workspace_id);
  EXPECT_EQ(d->entity, e.entity);
  EXPECT_EQ(d->type, e.type);
  EXPECT_EQ(d->occurred_at_ms, e.occurred_at_ms);
  EXPECT_EQ(d->received_at_ms, e.received_at_ms);
  EXPECT_EQ(d->level, e.level);
  EXPECT_EQ(d->actor, e.actor);
  EXPECT_EQ(d->batch, e.batch);
  // Through the checksummed envelope.
  storage::decoded_record rec;
  const std::string stored = storage::encode_record(storage::record_type::event, encode_event(e));
  ASSERT_EQ(storage::decode_record(stored, rec), storage::decode_errc::ok);
  EXPECT_EQ(rec.type, storage::record_type::event);
  EXPECT_TRUE(decode_event(rec.payload));
}

TEST(event_record, DecodeRefusesBrokenPayloads) {
  EXPECT_FALSE(decode_event(""));
  std::string enc = encode_event(sample_event());
  EXPECT_FALSE(decode_event(std::string_view(enc).substr(0, enc.size() - 1)));
  storage::field_writer f;
  f.bytes(1, "id").bytes(2, "ws").bytes(3, "short").bytes(4, "gig.paid");
  EXPECT_FALSE(decode_event(f.str()));  // entity id of the wrong size
}

TEST(event_record, NewerEventsSortFirstWithinAWorkspace) {
  const std::string a = new_uuid_v7(now);
  const std::string b = new_uuid_v7(now + 1);
  const auto ka = inverted_id_key("ws", a);
  const auto kb = inverted_id_key("ws", b);
  ASSERT_TRUE(ka && kb);
  EXPECT_LT(*kb, *ka);
  EXPECT_TRUE(ka->starts_with(key_prefix("ws")));
  EXPECT_FALSE(ka->starts_with(key_prefix("w")));
  EXPECT_FALSE(inverted_id_key("ws", "not-a-uuid"));
}

TEST(event_record, RendersTheSpecFields) {
  event_record e = sample_event();
  e.id = "01890000-0000-7000-8000-000000000000";
  e.occurred_at_ms = *parse_time_ms("2026-05-20T10:00:00Z");
  e.received_at_ms = *parse_time_ms("2026-05-20T10:00:01Z");
  net::byte_buffer out;
  render_event(out, e);
  EXPECT_EQ(std::string(out.view()),
            R"({"id":"01890000-0000-7000-8000-000000000000","entityId":")" + entity_id_hex(e.entity) +
                R"(","eventType":"lending.paid_off","occurredAt":"2026-05-20T10:00:00.000Z","receivedAt":"2026-05-20T10:00:01.000Z",)"
                R"("significance":"low","actorType":"HUMAN","batchType":"BACKFILL","partnerId":"ws-1"})");
}

}  // namespace
}  // namespace warrant::engine::evidence

// tests/idempotency/fingerprint_test.cc: engine/idempotency/fingerprint.* and record.* — the
// digests that name and compare idempotent requests, and the stored record's codec and keys.
#include "engine/idempotency/fingerprint.h"

#include <gtest/gtest.h>

#include "engine/idempotency/canonical_json.h"
#include "engine/idempotency/record.h"

namespace warrant::engine::idempotency {
namespace {

digest fingerprint_of(std::string_view method, std::string_view route, std::string_view body) {
  std::string canonical;
  EXPECT_TRUE(canonicalize(body, canonical).ok());
  return request_fingerprint(method, route, canonical);
}

TEST(Fingerprint, SameRequestSpelledDifferentlyIsTheSame) {
  EXPECT_EQ(fingerprint_of("POST", "/v1/events", R"({"a":1,"b":[1.0,"\u0041"]})"),
            fingerprint_of("POST", "/v1/events", " { \"b\" : [ 1e0 , \"A\" ] , \"a\" : 1.00 } "));
}

TEST(Fingerprint, AnyDifferenceChangesIt) {
  const digest base = fingerprint_of("POST", "/v1/events", R"({"a":1})");
  EXPECT_NE(base, fingerprint_of("POST", "/v1/events", R"({"a":2})"));
  EXPECT_NE(base, fingerprint_of("POST", "/v1/events", R"({"a":"1"})"));
  EXPECT_NE(base, fingerprint_of("POST", "/v1/claims", R"({"a":1})"));
  EXPECT_NE(base, fingerprint_of("PUT", "/v1/events", R"({"a":1})"));
  EXPECT_NE(base, fingerprint_of("POST", "/v1/events", R"({"a":1,"b":null})"));
}

TEST(Fingerprint, FieldsAreFramed) {
  // Moving bytes between fields never gives the same digest.
  EXPECT_NE(request_fingerprint("POST", "/v1/x", "{}"), request_fingerprint("POST/", "v1/x", "{}"));
  EXPECT_NE(hash_fields({"ab", "c"}), hash_fields({"a", "bc"}));
  EXPECT_NE(hash_fields({"", "x"}), hash_fields({"x", ""}));
}

TEST(ScopeDigest, NamesWorkspaceRouteKindAndKey) {
  const digest base = scope_digest("ws-a", "POST", "/v1/events", key_kind::client, "k1");
  EXPECT_EQ(base, scope_digest("ws-a", "POST", "/v1/events", key_kind::client, "k1"));
  EXPECT_NE(base, scope_digest("ws-b", "POST", "/v1/events", key_kind::client, "k1"));
  EXPECT_NE(base, scope_digest("ws-a", "POST", "/v1/claims", key_kind::client, "k1"));
  EXPECT_NE(base, scope_digest("ws-a", "POST", "/v1/events", key_kind::automatic, "k1"));
  EXPECT_NE(base, scope_digest("ws-a", "POST", "/v1/events", key_kind::client, "k2"));
  EXPECT_NE(scope_hash(base), 0u);
  EXPECT_EQ(hex(base).size(), 64u);
}

TEST(IdempotencyRecord, RoundTrips) {
  record r;
  r.workspace_id = "ws";
  r.method = "POST";
  r.route_pattern = "/v1/test/writes";
  r.kind = key_kind::automatic;
  r.key = "abc";
  r.fingerprint = hash_fields({"x"});
  r.response.status = 201;
  r.response.headers = {{"Location", "/v1/test/writes/1"}, {"X-Other", ""}};
  r.response.body = std::string("{\"a\":\"\0\"}", 9);
  r.created_at_ms = 1'700'000'000'000;
  r.expires_at_ms = 1'700'086'400'000;
  const auto back = decode_record(encode_record(r));
  ASSERT_TRUE(back);
  EXPECT_EQ(back->workspace_id, r.workspace_id);
  EXPECT_EQ(back->method, r.method);
  EXPECT_EQ(back->route_pattern, r.route_pattern);
  EXPECT_EQ(back->kind, r.kind);
  EXPECT_EQ(back->key, r.key);
  EXPECT_EQ(back->fingerprint, r.fingerprint);
  EXPECT_EQ(back->response.status, 201);
  EXPECT_EQ(back->response.content_type, "application/json");
  EXPECT_EQ(back->response.headers, r.response.headers);
  EXPECT_EQ(back->response.body, r.response.body);
  EXPECT_EQ(back->created_at_ms, r.created_at_ms);
  EXPECT_EQ(back->expires_at_ms, r.expires_at_ms);
  EXPECT_FALSE(back->expired_at(r.expires_at_ms - 1));
  EXPECT_TRUE(back->expired_at(r.expires_at_ms));
}

TEST(IdempotencyRecord, RefusesIncompletePayloads) {
  EXPECT_FALSE(decode_record(""));
  EXPECT_FALSE(decode_record("\x01\x05"));  // truncated field
}

TEST(IdempotencyRecord, KeysArePrefixedByWorkspaceAndOrderedByExpiry) {
  const digest d = hash_fields({"scope"});
  const std::string key = record_key("ws-a", d);
  EXPECT_EQ(key.substr(0, 5), std::string("ws-a\0", 5));
  EXPECT_EQ(key.size(), 5 + d.size());
  const std::string early = expiry_key(1000, key);
  const std::string late = expiry_key(256'000, record_key("aaa", d));
  EXPECT_LT(early, late);  // LMDB's byte order is expiry order
  std::int64_t at = 0;
  std::string_view back;
  ASSERT_TRUE(split_expiry_key(early, at, back));
  EXPECT_EQ(at, 1000);
  EXPECT_EQ(back, key);
  EXPECT_FALSE(split_expiry_key("short", at, back));
}

}  // namespace
}  // namespace warrant::engine::idempotency

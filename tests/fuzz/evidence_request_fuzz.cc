// tests/fuzz/evidence_request_fuzz.cc: libFuzzer target for the evidence write and query
// parsers (engine/evidence/event.*, claim.*, query.*): POST /v1/events and /v1/claims bodies,
// claim action bodies, stored event and claim records, query strings.
//
// The first byte picks the parser; the rest is its input. Properties:
//   - a refused body is a 4xx with a code and a message that stays valid JSON; an accepted event or claim re-encodes
//     to a record that decodes to the same fields;
//   - a stored payload either decodes or is refused, and what decodes re-encodes identically;
//   - percent-decoding never grows its input and a decoded parameter is found again.
#include <simdjson.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "engine/evidence/claim.h"
#include "engine/evidence/entity_id.h"
#include "engine/evidence/event.h"
#include "engine/evidence/query.h"
#include "net/http_response.h"
#include "tests/fuzz/fuzz_check.h"
#include "tests/fuzz/json_refusal.h"

namespace {

using namespace warrant::engine::evidence;
using warrant::engine::json_error;

constexpr std::int64_t now_ms = 1'790'000'000'000;  // a fixed receipt time: runs repeat

void fuzz_event(std::string_view body) {
  event_request req;
  json_error err;
  if (!parse_event_request(body, now_ms, req, err)) return check_json_refusal(err);
  FUZZ_CHECK(!req.user_external_id.empty());
  event_record e;
  e.id = "0190a0b0-c0d0-7e00-8f00-000000000001";
  e.workspace_id = "ws";
  e.entity = compute_entity_id("ns", req.user_external_id);
  e.type = req.type;
  e.occurred_at_ms = req.occurred_at_ms.value_or(now_ms);
  e.received_at_ms = now_ms;
  e.level = req.level;
  e.actor = req.actor;
  e.batch = req.batch;
  const std::string stored = encode_event(e);
  const auto back = decode_event(stored);
  FUZZ_CHECK(back.has_value());
  FUZZ_CHECK(encode_event(*back) == stored);
}

void fuzz_claim(std::string_view body) {
  claim_request req;
  json_error err;
  if (!parse_claim_request(body, req, err)) return check_json_refusal(err);
  FUZZ_CHECK(!req.user_external_id.empty());
  FUZZ_CHECK(req.reference.size() <= 128);
  claim_record c;
  c.id = "0190a0b0-c0d0-7e00-8f00-000000000002";
  c.workspace_id = "ws";
  c.identity_namespace = "ns";
  c.entity = compute_entity_id("ns", req.user_external_id);
  c.type = req.type;
  c.filed_at_ms = now_ms;
  c.updated_at_ms = now_ms;
  c.occurred_at_ms = req.occurred_at_ms.value_or(0);
  c.reference = req.reference;
  const std::string stored = encode_claim(c);
  const auto back = decode_claim(stored);
  FUZZ_CHECK(back.has_value());
  FUZZ_CHECK(encode_claim(*back) == stored);
}

void fuzz_claim_action(std::string_view body, std::uint8_t selector) {
  const claim_action action = static_cast<claim_action>(selector % 4);
  std::string reason;
  json_error err;
  if (!parse_claim_action_body(body, action, reason, err)) return check_json_refusal(err);
  FUZZ_CHECK(reason.size() <= 500);
  if (action != claim_action::dispute) FUZZ_CHECK(reason.empty());
}

void fuzz_records(std::string_view payload) {
  if (const auto e = decode_event(payload)) {
    const std::string again = encode_event(*e);
    const auto twice = decode_event(again);
    FUZZ_CHECK(twice.has_value() && encode_event(*twice) == again);
  }
  if (const auto c = decode_claim(payload)) {
    const std::string again = encode_claim(*c);
    const auto twice = decode_claim(again);
    FUZZ_CHECK(twice.has_value() && encode_claim(*twice) == again);
  }
}

void fuzz_query(std::string_view query) {
  for (std::string_view name : {"userExternalId", "eventType", "since", "until", "limit", "cursor", "status"}) {
    std::string_view raw;
    if (!query_param(query, name, raw)) continue;
    FUZZ_CHECK(raw.size() <= query.size());
    std::string decoded;
    if (percent_decode(raw, true, decoded)) FUZZ_CHECK(decoded.size() <= raw.size());
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::uint8_t selector = data[0];
  const std::string_view input(reinterpret_cast<const char*>(data + 1), size - 1);
  switch (selector % 5) {
    case 0: fuzz_event(input); break;
    case 1: fuzz_claim(input); break;
    case 2: fuzz_claim_action(input, static_cast<std::uint8_t>(selector / 5)); break;
    case 3: fuzz_records(input); break;
    default: fuzz_query(input); break;
  }
  return 0;
}

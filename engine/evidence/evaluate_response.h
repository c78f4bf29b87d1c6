// engine/evidence/evaluate_response.h: the 200 answer of `POST /v1/policy/evaluate`.
//
//   {"decision":"STEP_UP","decision_correlation_id":"<uuid>","tier":2,"requiredTier":3,
//    "claimStatus":"clean","whyRec":"...","reasons":["TIER_STEP_UP_BAND"],
//    "action":"data.export_pii","actor":{"type":"human","id":"emp-12345"},
//    "policyVersion":"evidence-defaults-1","evaluatedAt":"2026-05-20T10:00:00.000Z"}
// plus "signals" with ?debug=true (shape in docs/policy-file.md, "Debug signals").
//
// This is the hottest path of the product, so it writes straight into the response's
// byte_buffer: the fixed fields through one cursor into room reserved once (an upper bound
// counted from the strings' lengths), numbers with std::to_chars, whyRec as the policy
// pre-rendered it, strings escaped only when a word-at-a-time scan finds a byte that needs
// it. Once the buffer has grown to a response's size nothing is allocated. Any thread (a
// per-thread cache holds the date and time of the last second formatted).
#pragma once

#include <cstdint>
#include <string_view>

#include "engine/evidence/decision.h"
#include "engine/evidence/evaluate_request.h"
#include "net/byte_buffer.h"

namespace warrant::engine::evidence {

struct evaluation_response {
  const decision_result* result = nullptr;
  std::string_view correlation_id;  // the decision's UUIDv7
  actor_type actor = actor_type::human;
  std::string_view actor_id;
  std::string_view policy_version;
  std::int64_t evaluated_at_ms = 0;  // = the facts' as_of_ms
  bool debug = false;                // add "signals"
};

// What an answer shows of one decision, flat: from a decision_result (the evaluate and bulk
// routes) or from a stored record (GET /v1/policy/decisions/{id}, decision_record.h). Both go
// through the one function below, so a decision read back is byte-identical to its answer.
struct decision_fields {
  decision outcome = decision::allow;
  std::string_view correlation_id;  // a UUID (rendered without escaping)
  int tier = 0;
  int required_tier = 0;
  claim_status claims = claim_status::clean;
  std::string_view why_json;   // whyRec as a JSON string literal, quotes included
  std::string_view why_plain;  // or, when why_json is empty, the sentence to escape
  const std::string_view* reasons = nullptr;
  std::size_t reason_count = 0;
  std::string_view action;
  actor_type actor = actor_type::human;
  std::string_view actor_id;
  std::string_view policy_version;
  std::int64_t evaluated_at_ms = 0;
};
// "decision":...,"evaluatedAt":... without braces and without "signals".
void append_decision_fields(net::byte_buffer& out, const decision_fields& f);

// The fields alone, "decision":...,"evaluatedAt":...[,"signals":{...}] without braces, for
// the bulk route's result items ({"index":0,"status":"evaluated",<fields>}).
void append_decision_fields(net::byte_buffer& out, const evaluation_response& r);
// The whole object.
void append_evaluation_json(net::byte_buffer& out, const evaluation_response& r);

// "2026-05-20T10:00:00.000Z" into `buf` (24 bytes), returning the view. Years 0..9999.
inline constexpr std::size_t time_text_bytes = 24;
std::string_view format_time_ms_into(char (&buf)[time_text_bytes], std::int64_t unix_ms);

}  // namespace warrant::engine::evidence

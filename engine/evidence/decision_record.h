// engine/evidence/decision_record.h: one logged policy decision, as stored in table
// `decisions` (docs/storage-format.md, "Decision records").
//
// Every answer of `POST /v1/policy/evaluate` (and every evaluated item of the bulk route) is
// appended to the decision log (decision_log.h) and readable at
// `GET /v1/policy/decisions/{decision_correlation_id}`. The record keeps the decision's facts
// as fields (for offline tools) and the exact JSON object the client received without
// `signals` (`answer`), which the GET route returns byte for byte.
//
// Key: `<workspace id> 0x00 <decision_correlation_id>` (a point lookup scoped to the
// workspace: another workspace's id is simply not found). Value: a record envelope
// (storage/record.h) of type `policy_decision` around the payload below.
//
// `encode_decision_payload` appends into a caller's string (whose capacity is reused: no
// allocation once it has grown); decoding allocates (read path). Pure functions, any thread.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace warrant::engine::evidence {

inline constexpr std::uint8_t decision_record_version = 1;

// The fields of one decision, as views (into the request, the policy, the response buffer).
struct decision_record_view {
  std::string_view correlation_id;
  std::string_view workspace_id;
  std::int64_t evaluated_at_ms = 0;
  std::string_view decision;  // "ALLOW" ...
  std::string_view action;
  std::string_view actor_type;  // "human" | "service"
  std::string_view actor_id;
  std::string_view policy_version;
  int tier = 0;
  int required_tier = 0;
  std::string_view claim_status;
  const std::string_view* reasons = nullptr;
  std::size_t reason_count = 0;
  std::string_view answer;  // the JSON object sent, without "signals"
};

struct decision_record {
  std::uint64_t version = 0;
  std::string correlation_id;
  std::string workspace_id;
  std::int64_t evaluated_at_ms = 0;
  std::string decision;
  std::string action;
  std::string actor_type;
  std::string actor_id;
  std::string policy_version;
  int tier = 0;
  int required_tier = 0;
  std::string claim_status;
  std::vector<std::string> reasons;
  std::string answer;
};

// Appends the payload (not the envelope) to `out`.
void encode_decision_payload(std::string& out, const decision_record_view& d);
std::optional<decision_record> decode_decision_payload(std::string_view payload);

// `<workspace id> 0x00 <id>`, appended to `out`.
void append_decision_key(std::string& out, std::string_view workspace_id, std::string_view correlation_id);
std::string decision_key(std::string_view workspace_id, std::string_view correlation_id);

}  // namespace warrant::engine::evidence

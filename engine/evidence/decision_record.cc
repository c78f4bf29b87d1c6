#include "engine/evidence/decision_record.h"

#include <type_traits>

#include "storage/record.h"

namespace warrant::engine::evidence {
namespace {

// Field tags (on disk, never reused): docs/storage-format.md, "Decision records".
enum : std::uint8_t {
  tag_version = 1,
  tag_correlation_id = 2,
  tag_workspace_id = 3,
  tag_evaluated_at = 4,
  tag_decision = 5,
  tag_action = 6,
  tag_actor_type = 7,
  tag_actor_id = 8,
  tag_policy_version = 9,
  tag_tier = 10,
  tag_required_tier = 11,
  tag_claim_status = 12,
  tag_reason = 13,  // repeated, in order
  tag_answer = 14,
};

void put_bytes(std::string& out, std::uint8_t tag, std::string_view v) {
  out.push_back(static_cast<char>(tag));
  storage::append_varint(out, v.size());
  out.append(v);
}

void put_u64(std::string& out, std::uint8_t tag, std::uint64_t v) {
  char buf[10];
  std::size_t n = 0;
  do {
    std::uint8_t b = v & 0x7f;
    v >>= 7;
    if (v != 0) b |= 0x80;
    buf[n++] = static_cast<char>(b);
  } while (v != 0);
  put_bytes(out, tag, {buf, n});
}

}  // namespace

void encode_decision_payload(std::string& out, const decision_record_view& d) {
  put_u64(out, tag_version, decision_record_version);
  put_bytes(out, tag_correlation_id, d.correlation_id);
  put_bytes(out, tag_workspace_id, d.workspace_id);
  put_u64(out, tag_evaluated_at, static_cast<std::uint64_t>(d.evaluated_at_ms));
  put_bytes(out, tag_decision, d.decision);
  put_bytes(out, tag_action, d.action);
  put_bytes(out, tag_actor_type, d.actor_type);
  put_bytes(out, tag_actor_id, d.actor_id);
  put_bytes(out, tag_policy_version, d.policy_version);
  put_u64(out, tag_tier, static_cast<std::uint64_t>(d.tier));
  put_u64(out, tag_required_tier, static_cast<std::uint64_t>(d.required_tier));
  put_bytes(out, tag_claim_status, d.claim_status);
  for (std::size_t i = 0; i < d.reason_count; ++i) put_bytes(out, tag_reason, d.reasons[i]);
  put_bytes(out, tag_answer, d.answer);
}

std::optional<decision_record> decode_decision_payload(std::string_view payload) {
  decision_record d;
  storage::field_reader r(payload);
  std::uint8_t tag = 0;
  std::string_view v;
  auto number = [&v](auto& into) {
    const auto n = storage::field_reader::as_u64(v);
    if (!n) return false;
    into = static_cast<std::remove_reference_t<decltype(into)>>(*n);
    return true;
  };
  while (r.next(tag, v)) {
    bool ok = true;
    switch (tag) {
      case tag_version: ok = number(d.version); break;
      case tag_correlation_id: d.correlation_id = v; break;
      case tag_workspace_id: d.workspace_id = v; break;
      case tag_evaluated_at: ok = number(d.evaluated_at_ms); break;
      case tag_decision: d.decision = v; break;
      case tag_action: d.action = v; break;
      case tag_actor_type: d.actor_type = v; break;
      case tag_actor_id: d.actor_id = v; break;
      case tag_policy_version: d.policy_version = v; break;
      case tag_tier: ok = number(d.tier); break;
      case tag_required_tier: ok = number(d.required_tier); break;
      case tag_claim_status: d.claim_status = v; break;
      case tag_reason: d.reasons.emplace_back(v); break;
      case tag_answer: d.answer = v; break;
      default: break;  // a newer writer's field
    }
    if (!ok) return std::nullopt;
  }
  if (r.malformed() || d.version == 0 || d.correlation_id.empty() || d.workspace_id.empty() || d.answer.empty()) {
    return std::nullopt;
  }
  return d;
}

void append_decision_key(std::string& out, std::string_view workspace_id, std::string_view correlation_id) {
  out.append(workspace_id);
  out.push_back('\0');
  out.append(correlation_id);
}

std::string decision_key(std::string_view workspace_id, std::string_view correlation_id) {
  std::string key;
  append_decision_key(key, workspace_id, correlation_id);
  return key;
}

}  // namespace warrant::engine::evidence

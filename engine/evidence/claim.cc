#include "engine/evidence/claim.h"

#include <fmt/format.h>

#include "engine/common/json_out.h"
#include "engine/common/ids.h"
#include "engine/evidence/event.h"
#include "storage/record.h"

namespace warrant::engine::evidence {
namespace {

using storage::field_reader;
using storage::field_writer;

// Field tags of a claim record (on disk, never reused).
enum : std::uint8_t {
  tag_id = 1,
  tag_workspace_id = 2,
  tag_namespace = 3,
  tag_entity_id = 4,
  tag_claim_type = 5,
  tag_state = 6,
  tag_filed_at = 7,
  tag_occurred_at = 8,
  tag_reference = 9,
  tag_updated_at = 10,
  tag_upheld_at = 11,
  tag_dispute_reason = 12,
};

constexpr std::array<std::string_view, claim_type_count> claim_type_names = {
    "chargeback", "fraud", "policy_violation", "abuse", "suspension", "identity_dispute"};

bool validation_error(json_error& err, std::string message, std::string_view hint = {}) {
  err = {400, "VALIDATION_ERROR", std::move(message), std::string(hint)};
  return false;
}

bool unknown_member(std::string_view key, std::string_view hint, json_error& err) {
  err = {400, "UNKNOWN_FIELD", fmt::format("unknown field '{}'", utf8_clip(key, identifier_bytes_max)),
         std::string(hint)};
  return false;
}

std::optional<std::int64_t> as_i64(std::string_view v) {
  const auto n = field_reader::as_u64(v);
  if (!n) return std::nullopt;
  return static_cast<std::int64_t>(*n);
}

}  // namespace

std::string_view claim_type_name(claim_type t) { return claim_type_names[static_cast<std::size_t>(t)]; }

std::optional<claim_type> claim_type_from_name(std::string_view name) {
  for (std::size_t i = 0; i < claim_type_count; ++i) {
    if (claim_type_names[i] == name) return static_cast<claim_type>(i);
  }
  return std::nullopt;
}

std::optional<claim_state> claim_state_from_name(std::string_view name) {
  for (std::size_t i = 0; i < claim_state_count; ++i) {
    if (claim_state_name(static_cast<claim_state>(i)) == name) return static_cast<claim_state>(i);
  }
  return std::nullopt;
}

bool parse_claim_request(std::string_view body, claim_request& out, json_error& err) {
  bool have_user = false, have_type = false, have_occurred = false, have_reference = false;
  auto once = [&](bool& seen, std::string_view key) {
    if (!seen) return seen = true;
    err = {400, "INVALID_JSON", fmt::format("field '{}' is given twice", key), "send each member once"};
    return false;
  };
  const bool ok = for_each_member(body, err, [&](std::string_view key, simdjson::ondemand::value& v) {
    if (key == "userExternalId") {
      if (!once(have_user, key) || !get_string(v, key, user_external_id_bytes_max, out.user_external_id, err)) {
        return false;
      }
      return out.user_external_id.empty() ? validation_error(err, "field 'userExternalId' must not be empty") : true;
    }
    if (key == "claimType") {
      if (!once(have_type, key)) return false;
      std::string_view s;
      const auto t = v.get_string().get(s) == simdjson::SUCCESS ? claim_type_from_name(s) : std::nullopt;
      if (!t) {
        return validation_error(err, "field 'claimType' must be one of chargeback, fraud, policy_violation, abuse, "
                                     "suspension, identity_dispute");
      }
      out.type = *t;
      return true;
    }
    if (key == "occurredAt") {
      if (!once(have_occurred, key)) return false;
      std::string_view s;
      const auto t = v.get_string().get(s) == simdjson::SUCCESS ? parse_time_ms(s) : std::nullopt;
      if (!t) return validation_error(err, "field 'occurredAt' must be an RFC 3339 time");
      out.occurred_at_ms = *t;
      return true;
    }
    if (key == "reference") {
      return once(have_reference, key) && get_string(v, key, claim_reference_bytes_max, out.reference, err);
    }
    return unknown_member(key, "accepted fields: userExternalId, claimType, occurredAt, reference", err);
  });
  if (!ok) return false;
  if (!have_user) return missing_field("userExternalId", err);
  if (!have_type) return missing_field("claimType", err);
  return true;
}

bool parse_claim_action_body(std::string_view body, claim_action action, std::string& reason, json_error& err) {
  if (body.find_first_not_of(" \t\r\n") == std::string_view::npos) return true;
  bool have_reason = false;
  return for_each_member(body, err, [&](std::string_view key, simdjson::ondemand::value& v) {
    if (key == "reason" && action == claim_action::dispute) {
      if (have_reason) {
        err = {400, "INVALID_JSON", "field 'reason' is given twice", "send each member once"};
        return false;
      }
      have_reason = true;
      return get_string(v, key, dispute_reason_bytes_max, reason, err);
    }
    return unknown_member(key, action == claim_action::dispute ? "accepted fields: reason" : "send an empty body", err);
  });
}

std::string encode_claim(const claim_record& c) {
  field_writer f;
  f.bytes(tag_id, c.id).bytes(tag_workspace_id, c.workspace_id).bytes(tag_namespace, c.identity_namespace);
  f.bytes(tag_entity_id, entity_id_bytes_view(c.entity));
  f.u64(tag_claim_type, static_cast<std::uint64_t>(c.type)).u64(tag_state, static_cast<std::uint64_t>(c.state));
  f.i64(tag_filed_at, c.filed_at_ms).i64(tag_occurred_at, c.occurred_at_ms);
  if (!c.reference.empty()) f.bytes(tag_reference, c.reference);
  f.i64(tag_updated_at, c.updated_at_ms).i64(tag_upheld_at, c.upheld_at_ms);
  if (!c.dispute_reason.empty()) f.bytes(tag_dispute_reason, c.dispute_reason);
  return f.take();
}

std::optional<claim_record> decode_claim(std::string_view payload) {
  claim_record c;
  bool have_entity = false, have_type = false, have_state = false;
  field_reader r(payload);
  std::uint8_t tag = 0;
  std::string_view v;
  while (r.next(tag, v)) {
    std::optional<std::int64_t> n;
    switch (tag) {
      case tag_id: c.id = v; break;
      case tag_workspace_id: c.workspace_id = v; break;
      case tag_namespace: c.identity_namespace = v; break;
      case tag_entity_id: {
        const auto id = entity_id_from_bytes(v);
        if (!id) return std::nullopt;
        c.entity = *id;
        have_entity = true;
        break;
      }
      case tag_claim_type:
        if (n = as_i64(v); !n || *n < 0 || *n >= static_cast<std::int64_t>(claim_type_count)) return std::nullopt;
        c.type = static_cast<claim_type>(*n);
        have_type = true;
        break;
      case tag_state:
        if (n = as_i64(v); !n || *n < 0 || *n >= static_cast<std::int64_t>(claim_state_count)) return std::nullopt;
        c.state = static_cast<claim_state>(*n);
        have_state = true;
        break;
      case tag_filed_at:
      case tag_occurred_at:
      case tag_updated_at:
      case tag_upheld_at:
        if (n = as_i64(v); !n) return std::nullopt;
        (tag == tag_filed_at ? c.filed_at_ms
         : tag == tag_occurred_at ? c.occurred_at_ms
         : tag == tag_updated_at ? c.updated_at_ms
                                 : c.upheld_at_ms) = *n;
        break;
      case tag_reference: c.reference = v; break;
      case tag_dispute_reason: c.dispute_reason = v; break;
      default: break;
    }
  }
  if (r.malformed() || c.id.empty() || c.workspace_id.empty() || !have_entity || !have_type || !have_state) {
    return std::nullopt;
  }
  return c;
}

std::optional<std::string> claim_key(std::string_view identity_namespace, std::string_view id) {
  return inverted_id_key(identity_namespace, id);
}

void render_claim(net::byte_buffer& out, const claim_record& c) {
  out.append(R"({"id":)");
  net::append_json_string(out, c.id);
  out.append(R"(,"entityId":")");
  std::string hex;
  append_entity_id_hex(hex, c.entity);
  out.append(hex);
  out.append(R"(","claimType":")");
  out.append(claim_type_name(c.type));
  out.append(R"(","status":")");
  out.append(claim_state_name(c.state));
  out.append(R"(","filedAt":)");
  put_time_or_null(out, c.filed_at_ms);
  out.append(R"(,"filedBy":)");
  net::append_json_string(out, c.workspace_id);
  out.append(R"(,"occurredAt":)");
  put_time_or_null(out, c.occurred_at_ms);
  out.append(R"(,"reference":)");
  if (c.reference.empty()) {
    out.append("null");
  } else {
    net::append_json_string(out, c.reference);
  }
  out.append(R"(,"updatedAt":)");
  put_time_or_null(out, c.updated_at_ms);
  out.push_back('}');
}

}  // namespace warrant::engine::evidence

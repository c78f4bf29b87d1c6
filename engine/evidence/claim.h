// engine/evidence/claim.h: a claim against an entity (spec/evidence.md "Claims") — the
// requests' strict validation, the stored record, its storage key and its JSON form. The
// lifecycle itself (which action moves which state, who may take it) is claims.h's table.
//
// Storage (docs/storage-format.md "Evidence claims"): table `claims`, key
// `<identity namespace of the filer> 0x00 <claim id's 16 UUID bytes, inverted>`. Claims are
// facts about an entity, and an entity lives in an identity namespace, so the namespace is
// the claim's tenant boundary: a workspace of the same namespace may find a claim by id
// (to dispute it), a workspace of another namespace cannot (404). Listing (GET /v1/claims)
// is a newest-first range scan of the caller's namespace showing the caller's own claims.
// The record is rewritten in place on each transition; the entity index is rebuilt from
// the current states (engine/evidence/evidence_recovery.h).
//
// Pure data and functions, any thread.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "engine/common/json.h"
#include "engine/evidence/claims.h"
#include "engine/evidence/entity_id.h"
#include "net/byte_buffer.h"

namespace warrant::engine::evidence {

inline constexpr std::size_t claim_reference_bytes_max = 128;
inline constexpr std::size_t dispute_reason_bytes_max = 500;

// Values are stored (docs/storage-format.md): never renumber.
enum class claim_type : std::uint8_t { chargeback, fraud, policy_violation, abuse, suspension, identity_dispute };
inline constexpr std::size_t claim_type_count = 6;
std::string_view claim_type_name(claim_type t);
std::optional<claim_type> claim_type_from_name(std::string_view name);
std::optional<claim_state> claim_state_from_name(std::string_view name);

// A validated POST /v1/claims body.
struct claim_request {
  std::string user_external_id;
  claim_type type{};
  std::optional<std::int64_t> occurred_at_ms;
  std::string reference;  // empty: none
};

// Unknown members 400 UNKNOWN_FIELD; a member given twice 400 INVALID_JSON; wrong types, a
// missing userExternalId or
// claimType, an unknown claimType, occurredAt not RFC 3339 or a reference over 128 bytes:
// 400 VALIDATION_ERROR.
bool parse_claim_request(std::string_view body, claim_request& out, json_error& err);
// The body of POST /v1/claims/{id}/{action}: empty, or an object; `reason` (≤ 500 bytes) only
// for dispute. Same error codes.
bool parse_claim_action_body(std::string_view body, claim_action action, std::string& reason, json_error& err);

struct claim_record {
  std::string id;                  // UUIDv7
  std::string workspace_id;        // the filing workspace (filedBy)
  std::string identity_namespace;  // the filer's, where the entity lives
  entity_id entity{};
  claim_type type{};
  claim_state state = claim_state::open;
  std::int64_t filed_at_ms = 0;
  std::int64_t occurred_at_ms = 0;  // 0: not given
  std::string reference;
  std::int64_t updated_at_ms = 0;   // the last transition (= filed_at when none)
  std::int64_t upheld_at_ms = 0;    // 0: never upheld
  std::string dispute_reason;
};

std::string encode_claim(const claim_record& c);
std::optional<claim_record> decode_claim(std::string_view payload);
// nullopt when `id` is not a UUID (no claim can have that id).
std::optional<std::string> claim_key(std::string_view identity_namespace, std::string_view id);

// {"id","entityId","claimType","status","filedAt","filedBy","occurredAt","reference","updatedAt"}
void render_claim(net::byte_buffer& out, const claim_record& c);

}  // namespace warrant::engine::evidence

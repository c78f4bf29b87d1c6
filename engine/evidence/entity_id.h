// engine/evidence/entity_id.h: the identity of an entity (spec/evidence.md "Entities").
//
// entityId = SHA-256(identity_namespace + ":" + userExternalId), 32 bytes, shown as 64
// lower-case hex characters. The namespace is the workspace's (its own id by default), so
// workspaces an operator puts in one namespace name the same entity for the same
// userExternalId and share its history; the plaintext userExternalId is never stored.
//
// Pure functions, any thread, no allocation except `entity_id_hex`'s string.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace warrant::engine::evidence {

inline constexpr std::size_t entity_id_bytes = 32;
using entity_id = std::array<std::uint8_t, entity_id_bytes>;

entity_id compute_entity_id(std::string_view identity_namespace, std::string_view user_external_id);

// 64 lower-case hex characters.
std::string entity_id_hex(const entity_id& id);
void append_entity_id_hex(std::string& out, const entity_id& id);
std::optional<entity_id> entity_id_from_hex(std::string_view hex);
// The raw 32 bytes as a view (storage fields).
inline std::string_view entity_id_bytes_view(const entity_id& id) {
  return {reinterpret_cast<const char*>(id.data()), id.size()};
}
std::optional<entity_id> entity_id_from_bytes(std::string_view raw);

}  // namespace warrant::engine::evidence

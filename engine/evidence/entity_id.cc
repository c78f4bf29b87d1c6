#include "engine/evidence/entity_id.h"

// The low-level SHA-256 calls are allocation-free (engine/tenancy/api_key.cc says why);
// an entity id is computed on every event and every history lookup.
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/sha.h>

#include <cstring>

namespace warrant::engine::evidence {
namespace {

constexpr char hex_digits[] = "0123456789abcdef";

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

entity_id compute_entity_id(std::string_view identity_namespace, std::string_view user_external_id) {
  static_assert(entity_id_bytes == SHA256_DIGEST_LENGTH);
  entity_id out{};
  SHA256_CTX ctx;
  SHA256_Init(&ctx);
  SHA256_Update(&ctx, identity_namespace.data(), identity_namespace.size());
  SHA256_Update(&ctx, ":", 1);
  SHA256_Update(&ctx, user_external_id.data(), user_external_id.size());
  SHA256_Final(out.data(), &ctx);
  return out;
}

void append_entity_id_hex(std::string& out, const entity_id& id) {
  for (std::uint8_t b : id) {
    out.push_back(hex_digits[b >> 4]);
    out.push_back(hex_digits[b & 0xf]);
  }
}

std::string entity_id_hex(const entity_id& id) {
  std::string out;
  out.reserve(2 * entity_id_bytes);
  append_entity_id_hex(out, id);
  return out;
}

std::optional<entity_id> entity_id_from_hex(std::string_view hex) {
  if (hex.size() != 2 * entity_id_bytes) return std::nullopt;
  entity_id out{};
  for (std::size_t i = 0; i < entity_id_bytes; ++i) {
    const int hi = hex_value(hex[2 * i]);
    const int lo = hex_value(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out[i] = static_cast<std::uint8_t>(hi << 4 | lo);
  }
  return out;
}

std::optional<entity_id> entity_id_from_bytes(std::string_view raw) {
  if (raw.size() != entity_id_bytes) return std::nullopt;
  entity_id out{};
  std::memcpy(out.data(), raw.data(), entity_id_bytes);
  return out;
}

}  // namespace warrant::engine::evidence

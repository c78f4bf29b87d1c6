// engine/idempotency/fingerprint.h: the two digests of an idempotent request.
//
//   scope digest  SHA-256 over (workspace id, method, route pattern, key kind, key): names the stored response
//                 (storage key `<workspace id> 0x00 <scope digest>`, record.h) and, by its first
//                 8 bytes, the request's slot in the in-flight table (inflight_table.h). The
//                 workspace is inside, so two workspaces using the same key never meet.
//   fingerprint   SHA-256 over (method, route pattern, canonical JSON of the body): a repeat
//                 with the same key must carry the same fingerprint, else 422 KEY_REUSED.
// Fields are length-prefixed before hashing, so no two different tuples hash the same bytes.
// The route pattern is the one registered on the router (e.g. "/v1/test/writes"), not the path.
//
// Pure functions, any thread (OpenSSL EVP, one digest context per thread).
#pragma once

#include <array>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>

namespace warrant::engine::idempotency {

using digest = std::array<unsigned char, 32>;

// A key the client sent, or one a route derived from the request (auto-dedup): the two live in
// different namespaces, so a client key can never name an automatic one.
enum class key_kind : std::uint8_t { client = 1, automatic = 2 };

digest scope_digest(std::string_view workspace_id, std::string_view method, std::string_view route_pattern,
                    key_kind kind, std::string_view key);
digest request_fingerprint(std::string_view method, std::string_view route_pattern, std::string_view canonical_body);

// The in-flight table's hash of a scope: the digest's first 8 bytes, never 0 (0 marks a free slot).
std::uint64_t scope_hash(const digest& d);

// SHA-256 of length-prefixed fields, for derived keys (auto-dedup) and the digests above.
digest hash_fields(std::initializer_list<std::string_view> fields);

std::string hex(const digest& d);

}  // namespace warrant::engine::idempotency

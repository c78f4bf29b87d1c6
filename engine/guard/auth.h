// engine/guard/auth.h: who is calling — the API key of a request, checked against the index.
//
// The key comes from `x-api-key: K` or `Authorization: Bearer K` (scheme case-insensitive,
// RFC 9110 §11.1). Malformed, unknown, revoked and expired keys are indistinguishable to the
// caller: the same 401. A lookup is a shape check (prefix, length, alphabet — not the checksum,
// see auth.cc), one SHA-256 and one probe of the snapshot's key table; no lock, no allocation.
// The guard (engine/guard/guard.h) is the only caller on the request path. Shard threads.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

#include "engine/tenancy/index.h"
#include "net/http_parser.h"
#include "net/http_response.h"

namespace warrant::engine {

// The presented key, or empty. `x-api-key` wins when both headers are present.
std::string_view presented_key(const net::http_request& req);

// The request path: the key table entry whose key's SHA-256 is `h`, if it is usable at
// `now_ms`, or nullptr.
const key_admission* find_usable_key(const key_hash& h, const tenancy_snapshot& snapshot, std::int64_t now_ms);

// The keys of one loop turn's receives, hashed before their requests are handled (guard.h,
// "Warming"), in arrival order, with the connection each came from. One per shard; shard
// thread only; no allocation after construction.
class warmed_keys {
 public:
  struct entry {
    std::uint32_t conn_slot = 0;
    std::uint32_t conn_generation = 0;
    key_hash hash{};
    std::array<char, api_key_chars> text{};
    const key_admission* candidate = nullptr;  // key_table::prefetch_entry's answer
  };
  static constexpr std::size_t capacity = 64;  // = net::receive_batch_max

  void clear() { _count = _next = 0; }
  // Hashes `key` (api_key_shaped) received on the connection and keeps it; false when full.
  bool add(std::uint32_t conn_slot, std::uint32_t conn_generation, std::string_view key);
  entry* begin() { return _entries.data(); }
  entry* end() { return _entries.data() + _count; }

  // The SHA-256 of `key` (api_key_shaped) presented on the connection: the kept one when this
  // connection's warmed key is the same text (compared in constant time), else computed.
  // Entries are consumed in order: one of a connection that comes before is skipped.
  key_hash hash(std::uint32_t conn_slot, std::uint32_t conn_generation, std::string_view key);

 private:
  std::array<entry, capacity> _entries{};
  std::size_t _count = 0;
  std::size_t _next = 0;
};

// The usable key record for this request, or nullptr, from the snapshot's maps (snapshots that
// were not published, such as tests' and offline tools').
const api_key_record* authenticate(const net::http_request& req, const tenancy_snapshot& snapshot,
                                   std::int64_t now_ms);

// 401 {"error":"invalid or missing API key","code":"UNAUTHORIZED"} + WWW-Authenticate: Bearer.
void answer_unauthorized(net::http_response& res);
// 403 FORBIDDEN with `message` (access.h's denial_message: it names the missing role or scope).
void answer_forbidden(net::http_response& res, std::string_view message);

}  // namespace warrant::engine

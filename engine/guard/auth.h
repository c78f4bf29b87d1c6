// engine/guard/auth.h: who is calling — the API key of a request, checked against the index.
//
// The key comes from `x-api-key: K` or `Authorization: Bearer K` (scheme case-insensitive,
// RFC 9110 §11.1). Malformed, unknown, revoked and expired keys are indistinguishable to the
// caller: the same 401. A lookup is a shape check (prefix, length, alphabet — not the checksum,
// see auth.cc), one SHA-256 and one probe of the snapshot's key table; no lock, no allocation.
// The guard (engine/guard/guard.h) is the only caller on the request path. Shard threads.
#pragma once

#include <cstdint>
#include <string_view>

#include "engine/tenancy/index.h"
#include "net/http_parser.h"
#include "net/http_response.h"

namespace warrant::engine {

// The presented key, or empty. `x-api-key` wins when both headers are present.
std::string_view presented_key(const net::http_request& req);

// The request path: the key table slot of this request's usable key, or nullptr.
const key_admission* find_usable_key(const net::http_request& req, const tenancy_snapshot& snapshot,
                                     std::int64_t now_ms);

// The usable key record for this request, or nullptr, from the snapshot's maps (snapshots that
// were not published, such as tests' and offline tools').
const api_key_record* authenticate(const net::http_request& req, const tenancy_snapshot& snapshot,
                                   std::int64_t now_ms);

// 401 {"error":"invalid or missing API key","code":"UNAUTHORIZED"} + WWW-Authenticate: Bearer.
void answer_unauthorized(net::http_response& res);
// 403 FORBIDDEN with `message` (access.h's denial_message: it names the missing role or scope).
void answer_forbidden(net::http_response& res, std::string_view message);

}  // namespace warrant::engine

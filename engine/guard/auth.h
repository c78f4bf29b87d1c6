// engine/guard/auth.h: who is calling — the API key of a request, checked against the index.
//
// The key comes from `x-api-key: K` or `Authorization: Bearer K`. Malformed, unknown,
// revoked and expired keys are indistinguishable to the caller: the same 401. A lookup is a
// SHA-256 and one hash-map probe in the current tenancy snapshot; no lock, no allocation.
// Shard threads.
#pragma once

#include <cstdint>
#include <string_view>

#include "engine/tenancy/index.h"
#include "net/http_parser.h"
#include "net/http_response.h"

namespace warrant::engine {

// The presented key, or empty.
std::string_view presented_key(const net::http_request& req);

// The usable key record for this request, or nullptr.
const api_key_record* authenticate(const net::http_request& req, const tenancy_snapshot& snapshot,
                                   std::int64_t now_ms);

void answer_unauthorized(net::http_response& res);
void answer_forbidden(net::http_response& res, std::string_view missing_role);

// Admin routes: a usable key of workspace `default` with platform.admin. Answers 401/403
// itself and returns nullptr when the caller may not proceed.
const api_key_record* require_platform_admin(const net::http_request& req, net::http_response& res,
                                             const tenancy_snapshot& snapshot, std::int64_t now_ms);

}  // namespace warrant::engine

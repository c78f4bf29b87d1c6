#include "engine/guard/auth.h"

namespace warrant::engine {

std::string_view presented_key(const net::http_request& req) {
  std::string_view key = req.header("x-api-key");
  if (!key.empty()) return key;
  std::string_view auth = req.header("authorization");
  constexpr std::string_view bearer = "bearer ";
  if (auth.size() <= bearer.size()) return {};
  for (std::size_t i = 0; i < bearer.size(); ++i) {
    const char c = auth[i];
    const char lower = c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
    if (lower != bearer[i]) return {};
  }
  auth.remove_prefix(bearer.size());
  while (!auth.empty() && (auth.front() == ' ' || auth.front() == '\t')) auth.remove_prefix(1);
  return auth;
}

// Shape only (prefix, length, alphabet), not the checksum: a key whose checksum is wrong was
// never generated, so it is in no index and gets the same 401 after one lookup; verifying the
// checksum would cost a second SHA-256 on every request to answer the same thing earlier.
const key_admission* find_usable_key(const net::http_request& req, const tenancy_snapshot& snapshot,
                                     std::int64_t now_ms) {
  const std::string_view key = presented_key(req);
  if (!api_key_shaped(key)) return nullptr;
  const key_admission* slot = snapshot.usable_keys.find(hash_api_key(key));
  if (slot == nullptr || !slot->usable_at(now_ms)) return nullptr;
  return slot;
}

const api_key_record* authenticate(const net::http_request& req, const tenancy_snapshot& snapshot,
                                   std::int64_t now_ms) {
  const std::string_view key = presented_key(req);
  if (!api_key_shaped(key)) return nullptr;
  const api_key_record* record = snapshot.find_key(hash_api_key(key));
  if (record == nullptr || !record->usable_at(now_ms)) return nullptr;
  return record;
}

void answer_unauthorized(net::http_response& res) {
  res.set_error(401, "UNAUTHORIZED", "invalid or missing API key");
  res.add_header("WWW-Authenticate", "Bearer");
}

void answer_forbidden(net::http_response& res, std::string_view message) {
  res.set_error(403, "FORBIDDEN", message, "use a key that carries it");
}

}  // namespace warrant::engine

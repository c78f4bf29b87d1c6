#include "engine/guard/auth.h"

#include "engine/guard/raw_head.h"

#include <cassert>
#include <cstring>

namespace warrant::engine {

std::string_view presented_key(const net::http_request& req) {
  const std::string_view key = req.header("x-api-key");
  if (!key.empty()) return key;
  return bearer_token(req.header("authorization"));
}

const key_admission* find_usable_key(const key_hash& h, const tenancy_snapshot& snapshot, std::int64_t now_ms) {
  const key_admission* slot = snapshot.usable_keys.find(h);
  if (slot == nullptr || !slot->usable_at(now_ms)) return nullptr;
  return slot;
}

namespace {

// Equality of two api_key_chars-long texts in constant time (both came from one connection,
// but the kept text must not become a timing oracle all the same): 8-byte words, XORed and
// ORed, the last word overlapping the one before; CRYPTO_memcmp's byte loop cost ~4x more.
bool same_key_text(const char* a, const char* b) {
  static_assert(api_key_chars >= 8);
  std::uint64_t diff = 0;
  const auto word_diff = [&](std::size_t at) {
    std::uint64_t x = 0;
    std::uint64_t y = 0;
    std::memcpy(&x, a + at, 8);
    std::memcpy(&y, b + at, 8);
    diff |= x ^ y;
  };
  for (std::size_t at = 0; at + 8 <= api_key_chars; at += 8) word_diff(at);
  word_diff(api_key_chars - 8);
  return diff == 0;
}

}  // namespace

bool warmed_keys::add(std::uint32_t conn_slot, std::uint32_t conn_generation, std::string_view key) {
  assert(key.size() == api_key_chars);
  if (_count == _entries.size()) return false;
  entry& e = _entries[_count++];
  e.conn_slot = conn_slot;
  e.conn_generation = conn_generation;
  e.hash = hash_api_key(key);
  std::memcpy(e.text.data(), key.data(), api_key_chars);
  e.candidate = nullptr;
  return true;
}

key_hash warmed_keys::hash(std::uint32_t conn_slot, std::uint32_t conn_generation, std::string_view key) {
  assert(key.size() == api_key_chars);
  for (std::size_t i = _next; i < _count; ++i) {
    const entry& e = _entries[i];
    if (e.conn_slot != conn_slot || e.conn_generation != conn_generation) continue;
    _next = i + 1;
    if (same_key_text(e.text.data(), key.data())) return e.hash;
    break;
  }
  return hash_api_key(key);
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

#include "engine/idempotency/key.h"

namespace warrant::engine::idempotency {
namespace {

bool printable(char c) { return c >= 0x20 && c <= 0x7e; }

bool iequals(std::string_view a, std::string_view lower) {
  if (a.size() != lower.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    const char c = (a[i] >= 'A' && a[i] <= 'Z') ? static_cast<char>(a[i] + 32) : a[i];
    if (c != lower[i]) return false;
  }
  return true;
}

}  // namespace

bool parse_key(std::string_view v, parsed_key& out) {
  out._size = 0;
  if (v.empty()) return false;
  if (v.front() != '"') {
    if (v.size() > key_bytes_max) return false;
    for (const char c : v) {
      if (!printable(c)) return false;
      out._bytes[out._size++] = c;
    }
    return true;
  }
  // RFC 8941 §4.2.5: DQUOTE *( unescaped / "\" ( DQUOTE / "\" ) ) DQUOTE, nothing after.
  for (std::size_t i = 1; i < v.size(); ++i) {
    char c = v[i];
    if (c == '"') return i + 1 == v.size() && out._size > 0;
    if (c == '\\') {
      if (++i == v.size()) return false;
      c = v[i];
      if (c != '"' && c != '\\') return false;
    } else if (!printable(c)) {
      return false;
    }
    if (out._size == key_bytes_max) return false;
    out._bytes[out._size++] = c;
  }
  return false;  // no closing quote
}

key_presence read_key(const net::http_request& req, parsed_key& out) {
  std::string_view value;
  bool seen = false;
  for (std::size_t i = 0; i < req.header_count; ++i) {
    if (!iequals(req.headers[i].name, key_header)) continue;
    if (seen) return key_presence::invalid;
    seen = true;
    value = req.headers[i].value;
  }
  if (!seen) return key_presence::absent;
  return parse_key(value, out) ? key_presence::valid : key_presence::invalid;
}

}  // namespace warrant::engine::idempotency

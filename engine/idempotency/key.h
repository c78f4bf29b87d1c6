// engine/idempotency/key.h: the Idempotency-Key request header (spec/common.md "Idempotency").
//
// A key is 1-255 printable ASCII characters (0x20-0x7E), sent either as they are or as an
// RFC 8941 sf-string (`"..."`, with `\"` and `\\` the only escapes). A value that starts with
// a double quote is read as an sf-string and must be a well-formed one; its unquoted content is
// the key, so `abc` and `"abc"` name the same key. An empty value, a longer one, any other
// byte, or the header sent more than once is `400 INVALID_IDEMPOTENCY_KEY`.
//
// Pure functions, any thread. The parsed key is copied into a caller-owned fixed buffer: no
// allocation.
#pragma once

#include <array>
#include <cstddef>
#include <string_view>

#include "net/http_parser.h"

namespace warrant::engine::idempotency {

inline constexpr std::size_t key_bytes_max = 255;
inline constexpr std::string_view key_header = "idempotency-key";

// A key that passed validation; `view()` is valid while this object lives.
class parsed_key {
 public:
  std::string_view view() const { return {_bytes.data(), _size}; }
  bool empty() const { return _size == 0; }

 private:
  friend bool parse_key(std::string_view header_value, parsed_key& out);
  std::array<char, key_bytes_max> _bytes{};
  std::size_t _size = 0;
};

// Validates one header value (already stripped of surrounding whitespace by the HTTP parser).
bool parse_key(std::string_view header_value, parsed_key& out);

enum class key_presence : unsigned char { absent, valid, invalid };

// The request's Idempotency-Key: absent, valid (filled into `out`), or invalid (also when the
// header appears more than once: two keys cannot both be honoured).
key_presence read_key(const net::http_request& req, parsed_key& out);

}  // namespace warrant::engine::idempotency

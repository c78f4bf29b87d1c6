// engine/common/json.h: reading JSON request bodies strictly, and the error they produce.
//
// Bodies are parsed with simdjson's on-demand API, error codes only. `for_each_member`
// accepts exactly one JSON object (nesting at most json_depth_max, nothing after it) and
// hands each member to the caller, who reads the value with the typed getters below and
// refuses unknown fields. Any failure fills a `json_error`: malformed JSON says the byte
// offset where it broke (400 INVALID_JSON); a wrong field says which (400 VALIDATION_ERROR).
// One parser and one padded copy of the body per thread, reused: no allocation in steady state.
#pragma once

#include <simdjson.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "net/http_parser.h"
#include "net/http_response.h"

namespace warrant::engine {

inline constexpr std::size_t json_depth_max = 64;
inline constexpr std::size_t identifier_bytes_max = 255;

struct json_error {
  int status = 400;
  std::string code;
  std::string message;
  std::string hint;
};

void answer_json_error(const json_error& e, net::http_response& res);

// 415 unless Content-Type is application/json (parameters allowed). True when acceptable.
bool require_json_content_type(const net::http_request& req, net::http_response& res);

namespace json_detail {
simdjson::ondemand::parser& thread_parser();
// Copies `body` into this thread's padded buffer.
simdjson::padded_string_view padded(std::string_view body);
void malformed(json_error& err, std::string_view body, const char* where, simdjson::error_code code);
// Well-formed JSON that is not an object: says which byte the value starts at.
void not_an_object(json_error& err, std::string_view body);
// Where the document's iterator stands, as a pointer into `body` (nullptr at the end).
inline const char* location(simdjson::ondemand::document& doc, const simdjson::padded_string_view& input,
                            std::string_view body) {
  const char* at = nullptr;
  if (doc.current_location().get(at) != simdjson::SUCCESS || at == nullptr) return nullptr;
  return at - input.data() + body.data();
}
// Whether the string whose first byte (after the opening quote) is `first` has no escape;
// if so, `out` is its bytes, in place. Stage 1 has already refused the whole input for
// invalid UTF-8 or a raw control character in a string, so without a backslash the bytes
// between the quotes are the string: unescaping them would only copy them.
inline bool unescaped_in_place(const char* first, std::string_view& out) {
  const char* p = first;
  while (*p != '"') {
    if (*p == '\\') return false;
    ++p;
  }
  out = {first, static_cast<std::size_t>(p - first)};
  return true;
}
}  // namespace json_detail

// A member's key, unescaped, as `field.unescaped_key()` gives it, but read in place (no copy
// into the parser's string buffer) when it has no escape, as nearly every key has. Either
// view lives until this thread parses another body.
inline simdjson::error_code read_key(simdjson::ondemand::field& field, std::string_view& out) {
  if (json_detail::unescaped_in_place(field.key().raw(), out)) return simdjson::SUCCESS;
  return field.unescaped_key().get(out);
}

// The same for the fields an object's iteration hands out (they carry its error).
inline simdjson::error_code read_key(simdjson::simdjson_result<simdjson::ondemand::field>& field,
                                     std::string_view& out) {
  if (field.error() != simdjson::SUCCESS) return field.error();
  return read_key(field.value_unsafe(), out);
}

// A string value, as `v.get_string()` gives it (INCORRECT_TYPE when not a string), read in
// place when it has no escape.
inline simdjson::error_code read_string(simdjson::ondemand::value& v, std::string_view& out) {
  const std::string_view token = v.raw_json_token();
  if (!token.empty() && token.front() == '"' && json_detail::unescaped_in_place(token.data() + 1, out)) {
    return simdjson::SUCCESS;
  }
  return v.get_string().get(out);
}

// Calls on_member(key, value) -> bool for each member of the top-level object; a false
// return stops with `err` as the member left it. A callback that also takes a `const char*`
// gets the padded copy's first byte, to turn a value's location into an offset in `body`.
template <typename F>
bool for_each_member(std::string_view body, json_error& err, F&& on_member) {
  auto& parser = json_detail::thread_parser();
  const simdjson::padded_string_view input = json_detail::padded(body);
  simdjson::ondemand::document doc;
  if (auto e = parser.iterate(input).get(doc); e) {
    json_detail::malformed(err, body, nullptr, e);
    return false;
  }
  simdjson::ondemand::object obj;
  if (auto e = doc.get_object().get(obj); e) {
    if (e == simdjson::INCORRECT_TYPE) {
      json_detail::not_an_object(err, body);
    } else {
      json_detail::malformed(err, body, json_detail::location(doc, input, body), e);
    }
    return false;
  }
  for (auto field : obj) {
    std::string_view key;
    if (auto e = read_key(field, key); e) {
      json_detail::malformed(err, body, json_detail::location(doc, input, body), e);
      return false;
    }
    simdjson::ondemand::value value;
    if (auto e = field.value().get(value); e) {
      json_detail::malformed(err, body, json_detail::location(doc, input, body), e);
      return false;
    }
    bool go_on = false;
    if constexpr (std::is_invocable_v<F, std::string_view, simdjson::ondemand::value&, const char*>) {
      go_on = on_member(key, value, input.data());
    } else {
      go_on = on_member(key, value);
    }
    if (!go_on) {
      if (err.code.empty()) err = {400, "INVALID_JSON", "malformed JSON", ""};
      return false;
    }
  }
  // After the object, the document must be exhausted: a location means trailing content.
  if (const char* trailing = json_detail::location(doc, input, body); trailing != nullptr) {
    json_detail::malformed(err, body, trailing, simdjson::TRAILING_CONTENT);
    return false;
  }
  return true;
}

// How much of a client's key or value an error message quotes.
inline constexpr std::size_t quoted_bytes_max = 64;
// At most `bytes_max` bytes of valid UTF-8 `text`, never splitting a character: a message that
// quotes a clipped key must stay valid UTF-8, or its JSON error is not JSON.
inline std::string_view utf8_clip(std::string_view text, std::size_t bytes_max = quoted_bytes_max) {
  if (text.size() <= bytes_max) return text;
  std::size_t n = bytes_max;
  while (n > 0 && (static_cast<unsigned char>(text[n]) & 0xc0) == 0x80) --n;
  return text.substr(0, n);
}

// Typed getters: fill `out` or `err` (naming `field`) and return success.
bool get_string(simdjson::ondemand::value& v, std::string_view field, std::size_t bytes_max, std::string& out,
                json_error& err);
bool get_uint(simdjson::ondemand::value& v, std::string_view field, std::uint64_t min, std::uint64_t max,
              std::uint64_t& out, json_error& err);
bool get_string_array(simdjson::ondemand::value& v, std::string_view field, std::size_t items_max,
                      std::size_t bytes_max, std::vector<std::string>& out, json_error& err);
bool unknown_field(std::string_view field, json_error& err);
// Whether `v` is JSON null, without throwing: `v.is_null()` converted to bool throws on a
// malformed atom (`nul`, `nullK`), which on a shard would end the process. A malformed atom is
// "not null" here, and the typed getter that follows refuses it with a 400.
inline bool is_json_null(simdjson::ondemand::value& v) {
  bool null = false;
  return v.is_null().get(null) == simdjson::SUCCESS && null;
}
bool missing_field(std::string_view field, json_error& err);

}  // namespace warrant::engine

// tools/ctl_json.h: the little JSON warrantctl writes — reports, export lines, request bodies.
//
// `json_out` appends tokens to a string and places the commas itself; it checks nothing else,
// so callers keep objects and arrays balanced. `pretty_json` re-indents a JSON text without
// parsing numbers or unescaping strings (the server's answers are printed as the server wrote
// them, only laid out). Single-threaded tool code.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace warrant::tools {

// Appends `s` as a quoted JSON string (control characters, quote and backslash escaped; other
// bytes, UTF-8 included, as they are).
void append_json_string(std::string& out, std::string_view s);

class json_out {
 public:
  json_out& begin_object();
  json_out& end_object();
  json_out& begin_array();
  json_out& end_array();
  json_out& key(std::string_view k);
  json_out& str(std::string_view v);
  json_out& num(std::uint64_t v);
  json_out& num(std::int64_t v);
  json_out& boolean(bool v);
  json_out& null();
  // RFC 3339 with milliseconds, or null when `unix_ms` is 0 ("none" on disk).
  json_out& time_or_null(std::int64_t unix_ms);
  // A JSON text produced elsewhere, inserted as one value.
  json_out& raw(std::string_view json);

  // Shorthands for a member.
  json_out& member(std::string_view k, std::string_view v) { return key(k).str(v); }
  json_out& member(std::string_view k, const char* v) { return key(k).str(v); }
  json_out& member(std::string_view k, std::uint64_t v) { return key(k).num(v); }
  json_out& member(std::string_view k, bool v) { return key(k).boolean(v); }

  const std::string& text() const { return _out; }
  std::string take() { return std::move(_out); }

 private:
  void before_value();
  std::string _out;
  std::vector<bool> _has_items;  // per open container: a comma is due before the next item
  bool _after_key = false;
};

// Two-space indentation, one member or element per line; empty containers stay `{}` / `[]`.
// Input that is not JSON comes back re-spaced but otherwise intact.
std::string pretty_json(std::string_view json);

}  // namespace warrant::tools

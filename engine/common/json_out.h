// engine/common/json_out.h: small pieces of the hand-written JSON answers that records render
// (workspaces, keys, agents, audit entries, claims, history): a number, a string or null, a
// time or null. Hot answers (evaluate, bulk) have their own writers (evidence/evaluate_response.h).
//
// Pure functions, any thread; no allocation beyond the buffer's growth.
#pragma once

#include <charconv>
#include <cstdint>
#include <string>
#include <string_view>

#include "engine/common/ids.h"
#include "net/byte_buffer.h"
#include "net/http_response.h"

namespace warrant::engine {

inline void put_number(net::byte_buffer& out, std::uint64_t v) {
  char buf[24];
  const auto end = std::to_chars(buf, buf + sizeof buf, v).ptr;
  out.append(buf, static_cast<std::size_t>(end - buf));
}

// `v`, or null when 0 ("none", e.g. a limit that is not set).
inline void put_number_or_null(net::byte_buffer& out, std::uint64_t v) {
  if (v == 0) return out.append("null");
  put_number(out, v);
}

// `s` as a JSON string, or null when empty.
inline void put_string_or_null(net::byte_buffer& out, std::string_view s) {
  if (s.empty()) return out.append("null");
  net::append_json_string(out, s);
}

// "2026-05-20T10:00:00.000Z" in quotes, or null when `ms` is 0 ("none").
inline void put_time_or_null(net::byte_buffer& out, std::int64_t ms) {
  if (ms == 0) return out.append("null");
  thread_local std::string t;
  t.clear();
  append_time_ms(t, ms);
  out.push_back('"');
  out.append(t);
  out.push_back('"');
}

}  // namespace warrant::engine

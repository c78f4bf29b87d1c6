#include "engine/evidence/query.h"

#include <fmt/format.h>

#include <charconv>

#include "engine/common/ids.h"
#include "engine/evidence/list_page.h"

namespace warrant::engine::evidence {
namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

bool query_param(std::string_view query, std::string_view name, std::string_view& raw) {
  while (!query.empty()) {
    const std::size_t amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    const std::size_t eq = pair.find('=');
    if (pair.substr(0, eq) == name) {
      raw = eq == std::string_view::npos ? std::string_view{} : pair.substr(eq + 1);
      return true;
    }
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return false;
}

bool percent_decode(std::string_view raw, bool plus_is_space, std::string& out) {
  out.clear();
  for (std::size_t i = 0; i < raw.size(); ++i) {
    const char c = raw[i];
    if (c == '%') {
      if (i + 2 >= raw.size()) return false;
      const int hi = hex_value(raw[i + 1]);
      const int lo = hex_value(raw[i + 2]);
      if (hi < 0 || lo < 0) return false;
      out.push_back(static_cast<char>(hi << 4 | lo));
      i += 2;
    } else {
      out.push_back(plus_is_space && c == '+' ? ' ' : c);
    }
  }
  return true;
}

bool decoded_param(std::string_view query, std::string_view name, std::string& out, bool& present,
                   net::http_response& res) {
  std::string_view raw;
  present = query_param(query, name, raw);
  if (!present) return true;
  if (!percent_decode(raw, true, out)) {
    res.set_error(400, "VALIDATION_ERROR", fmt::format("query parameter '{}' has a bad percent-escape", name));
    return false;
  }
  return true;
}

bool parse_limit(std::string_view query, std::size_t& limit, net::http_response& res) {
  std::string_view text;
  limit = list_limit_default;
  if (!query_param(query, "limit", text)) return true;
  std::size_t v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() || v < 1 || v > list_limit_max) {
    res.set_error(400, "VALIDATION_ERROR", fmt::format("limit must be an integer from 1 to {}", list_limit_max));
    return false;
  }
  limit = v;
  return true;
}

bool parse_time_param(std::string_view query, std::string_view name, std::int64_t& out, net::http_response& res) {
  std::string text;
  bool present = false;
  if (!decoded_param(query, name, text, present, res)) return false;
  if (!present) return true;
  const auto t = parse_time_ms(text);
  if (!t) {
    res.set_error(400, "VALIDATION_ERROR", fmt::format("query parameter '{}' must be an RFC 3339 time", name),
                  "e.g. 2026-05-20T10:00:00.000Z (percent-encode '+' as %2B)");
    return false;
  }
  out = *t;
  return true;
}

bool parse_page_start(std::string_view query, std::string_view owner, std::string& from, net::http_response& res) {
  std::string_view cursor;
  const bool present = query_param(query, "cursor", cursor);
  auto key = page_start_key(owner, present ? std::optional<std::string_view>(cursor) : std::nullopt);
  if (!key) {
    res.set_error(400, "VALIDATION_ERROR", "invalid cursor", "pass nextCursor from the previous page unchanged");
    return false;
  }
  from = std::move(*key);
  return true;
}

}  // namespace warrant::engine::evidence

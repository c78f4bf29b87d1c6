#include "engine/guard/raw_head.h"

namespace warrant::engine {
namespace {

bool starts_with_ci(std::string_view s, std::string_view lower_prefix) {
  if (s.size() < lower_prefix.size()) return false;
  for (std::size_t i = 0; i < lower_prefix.size(); ++i) {
    const char c = s[i];
    if ((c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c) != lower_prefix[i]) return false;
  }
  return true;
}

std::string_view trim_ows(std::string_view v) {
  while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
  while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.remove_suffix(1);
  return v;
}

}  // namespace

std::string_view bearer_token(std::string_view authorization) {
  constexpr std::string_view bearer = "bearer ";
  if (authorization.size() <= bearer.size() || !starts_with_ci(authorization, bearer)) return {};
  return trim_ows(authorization.substr(bearer.size()));
}

std::string_view presented_key_in_head(std::string_view bytes) {
  constexpr std::string_view api_key_name = "x-api-key:";
  constexpr std::string_view authorization_name = "authorization:";
  bool api_key_seen = false;
  bool authorization_seen = false;
  std::string_view bearer_key;
  // Empty lines before the request line are skipped, as the parser does (RFC 9112 §2.2);
  // then the request line itself.
  std::size_t first = 0;
  while (first < bytes.size() && (bytes[first] == '\r' || bytes[first] == '\n')) ++first;
  std::size_t end = bytes.find('\n', first);
  while (end != std::string_view::npos) {
    const std::size_t start = end + 1;
    end = bytes.find('\n', start);
    if (end == std::string_view::npos) break;  // a line not received whole
    std::string_view line = bytes.substr(start, end - start);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) break;  // the end of the head
    // Only the first of each header counts, as http_request::header finds it.
    if (!api_key_seen && starts_with_ci(line, api_key_name)) {
      api_key_seen = true;
      const std::string_view key = trim_ows(line.substr(api_key_name.size()));
      if (!key.empty()) return key;  // an empty one is absent
    } else if (!authorization_seen && starts_with_ci(line, authorization_name)) {
      authorization_seen = true;
      bearer_key = bearer_token(trim_ows(line.substr(authorization_name.size())));
    }
  }
  return bearer_key;
}

}  // namespace warrant::engine

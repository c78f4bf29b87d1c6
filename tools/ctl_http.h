// tools/ctl_http.h: a small blocking HTTP/1.1 client for warrantctl's online commands.
//
// One request per connection (`Connection: close`), plain TCP, no TLS: warrantctl talks to a
// warrantd it can reach directly (or through a proxy that terminates TLS). Hosts are IPv4 or
// IPv6 literals (`http://[::1]:8080`) or names the system resolver knows (`localhost`); each
// resolved address is tried in turn. The whole exchange is bounded by one deadline, and the
// response by `response_header_bytes_max` / `response_body_bytes_max`. Bodies are read by
// Content-Length, or to the end of the stream when the server sends none; chunked transfer
// coding is refused (warrantd never uses it). Single-threaded, blocking; no signals are used
// (timeouts come from poll), and SIGPIPE is avoided with MSG_NOSIGNAL.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace warrant::tools {

inline constexpr std::size_t response_header_bytes_max = 64 * 1024;
inline constexpr std::size_t response_body_bytes_max = 64 * 1024 * 1024;
inline constexpr std::uint16_t default_http_port = 80;

struct http_url {
  std::string host;       // without brackets: "127.0.0.1", "::1", "localhost"
  std::uint16_t port = default_http_port;
  std::string base_path;  // "" or "/prefix" (no trailing slash), put before every target

  // "host:port", with brackets around an IPv6 literal: the Host header and messages.
  std::string authority() const;
};

// Parses "http://HOST[:PORT][/PATH]". nullopt with `error` set for anything else (https://,
// user info, a query, a bad port).
std::optional<http_url> parse_http_url(std::string_view text, std::string& error);

// Percent-encodes one path segment (RFC 3986 unreserved characters stay as they are).
std::string encode_path_segment(std::string_view segment);

struct http_request {
  std::string_view method;  // "GET", "POST", "PUT"
  std::string_view target;  // "/v1/admin/workspaces" (base_path is prepended)
  std::string_view body;    // sent with Content-Type: application/json when not empty
  std::vector<std::pair<std::string, std::string>> headers;  // extra headers
};

struct http_response {
  int status = 0;
  std::string reason;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;

  // The first header of that name (ASCII case-insensitive), or "".
  std::string header(std::string_view name) const;
};

enum class http_errc : std::uint8_t {
  ok,
  resolve_failed,      // the host name is unknown
  connect_failed,      // every address refused or was unreachable
  timed_out,           // the deadline passed (connecting, sending or receiving)
  io_error,            // send/recv failed, or the peer closed before a whole response
  malformed_response,  // not HTTP/1.x, bad Content-Length, chunked
  response_too_large,  // over response_header_bytes_max or response_body_bytes_max
};
std::string_view http_errc_name(http_errc e);

struct http_outcome {
  http_errc code = http_errc::ok;
  std::string message;  // for a person, naming the address when there is one
  bool ok() const { return code == http_errc::ok; }
};

// Sends `request` and reads one response within `timeout_ms`.
http_outcome http_call(const http_url& url, const http_request& request, int timeout_ms, http_response& out);

// Splits a complete response head ("HTTP/1.1 200 OK\r\nName: value\r\n...\r\n\r\n", the
// final empty line included) into `out`. False when it is not an HTTP/1.x head.
bool parse_response_head(std::string_view head, http_response& out);

}  // namespace warrant::tools

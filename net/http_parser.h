// net/http_parser.h: incremental, zero-copy HTTP/1.1 request parser.
//
// What it is for: turning the bytes a connection has received into one request at a time,
// pointing into the caller's buffer (no copies, no allocation). It knows the limits of
// spec/common.md ("Limits") and reports every violation as an `http_errc`, which the
// connection turns into the JSON error answer of `http_error_status`.
//
// Contract:
//   - `parse(data, req)` looks at the front of `data`, which must hold every byte received
//     since the current request began (the caller keeps unconsumed bytes contiguous).
//   - `need_more`: nothing is complete yet; call again with the same prefix plus new bytes.
//     Once the header block is complete, `headers_done()` is true and `req` describes the
//     headers (the caller may send `100 Continue` and switch to the body timeout).
//   - `complete`: `req` is filled, its views point into `data`, and `consumed` bytes belong
//     to this request. Call `reset()` before parsing the next one.
//   - `error`: the stream cannot be trusted past this point; answer and close.
//
// Ownership: one parser per connection, used by the connection's shard thread only.
// Request bodies use Content-Length. `Transfer-Encoding: chunked` is refused with
// 411 LENGTH_REQUIRED (any other transfer coding with 501), documented in docs/api-common.md.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace warrant::net {

enum class http_method : std::uint8_t { get, head, post, put, patch, del, options, other };
inline constexpr std::size_t http_method_count = 8;
std::string_view http_method_name(http_method m);
http_method http_method_from(std::string_view name);

// Hard capacity of a request's header array; the configurable limit may be lower.
inline constexpr std::size_t http_header_slots = 100;

struct http_limits {
  std::size_t header_bytes_max = 16 * 1024;  // request line + headers + final CRLF
  std::size_t headers_max = http_header_slots;
  std::size_t url_bytes_max = 8 * 1024;
  std::size_t body_bytes_max = 1024 * 1024;
};

struct http_header {
  std::string_view name;
  std::string_view value;
};

struct http_request {
  http_method method = http_method::other;
  std::string_view method_name;
  std::string_view target;  // raw request-target
  std::string_view path;    // target up to '?', absolute-form reduced to its path
  std::string_view query;   // after '?', without it
  std::uint8_t version_minor = 1;
  bool keep_alive = true;
  bool expect_continue = false;
  std::uint16_t header_count = 0;
  std::size_t header_bytes = 0;  // bytes of the header block, final CRLF included
  std::size_t content_length = 0;
  std::string_view body;
  std::array<http_header, http_header_slots> headers;

  // First header with this name (ASCII case-insensitive), or an empty view.
  std::string_view header(std::string_view name) const;
  bool has_header(std::string_view name) const;
};

enum class http_errc : std::uint8_t {
  none,
  bad_request_line,
  bad_target,
  bad_version,           // not HTTP/1.x at all
  unsupported_version,   // HTTP/2.0 and friends on this port
  bad_header,
  bare_lf,
  missing_host,
  duplicate_host,
  bad_content_length,
  conflicting_framing,   // Content-Length together with Transfer-Encoding
  chunked_not_supported,
  unsupported_transfer_encoding,
  url_too_long,
  header_too_large,
  too_many_headers,
  body_too_large,
  transfer_encoding_in_http10,  // RFC 9112 6.1: faulty framing, answered 400 and closed
};

enum class parse_status : std::uint8_t { complete, need_more, error };

struct parse_result {
  parse_status status = parse_status::need_more;
  http_errc error = http_errc::none;
  std::size_t consumed = 0;  // complete: bytes of this request, leading empty lines included
};

// The HTTP status, machine code and message for a parse error (spec/common.md "Errors").
struct http_error_info {
  int status;
  std::string_view code;
  std::string_view message;
};
http_error_info http_error_status(http_errc e);

class http_parser {
 public:
  explicit http_parser(const http_limits& limits = {}) : _limits(limits) {}

  parse_result parse(std::string_view data, http_request& req);
  void reset();

  bool headers_done() const { return _headers_done; }
  // Total bytes the current request occupies once its headers are known (else 0).
  std::size_t expected_bytes() const { return _headers_done ? _skip + _header_bytes + _content_length : 0; }

 private:
  parse_result find_header_end(std::string_view data);
  http_errc parse_head(std::string_view head, http_request& req) const;

  http_limits _limits;
  std::size_t _skip = 0;          // leading CRLFs before the request line
  std::size_t _scan_pos = 0;      // next byte to search for '\n'
  std::size_t _line_start = 0;    // start of the line being scanned
  bool _request_line_seen = false;
  bool _headers_done = false;
  std::size_t _header_bytes = 0;
  std::size_t _content_length = 0;
};

}  // namespace warrant::net

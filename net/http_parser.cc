#include "net/http_parser.h"

#include <cstring>

namespace warrant::net {
namespace {

// RFC 9110 tchar: the characters of a token (method, header name).
constexpr std::array<bool, 256> make_tchar_table() {
  std::array<bool, 256> t{};
  for (int c = '0'; c <= '9'; ++c) t[c] = true;
  for (int c = 'a'; c <= 'z'; ++c) t[c] = true;
  for (int c = 'A'; c <= 'Z'; ++c) t[c] = true;
  for (char c : std::string_view("!#$%&'*+-.^_`|~")) t[static_cast<unsigned char>(c)] = true;
  return t;
}
constexpr auto tchar = make_tchar_table();

// Header field value bytes: VCHAR, obs-text, SP and HTAB; no other control characters.
constexpr bool is_field_byte(unsigned char c) { return c == '\t' || (c >= 0x20 && c != 0x7f); }
// Request-target bytes: visible ASCII and obs-text, no space or controls.
constexpr bool is_target_byte(unsigned char c) { return c > 0x20 && c != 0x7f; }

constexpr char ascii_lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; }

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (ascii_lower(a[i]) != ascii_lower(b[i])) return false;
  }
  return true;
}

std::string_view trim_ows(std::string_view v) {
  while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
  while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.remove_suffix(1);
  return v;
}

// Calls f(token) for each comma-separated, trimmed, non-empty element of a header value.
template <typename F>
void for_each_token(std::string_view v, F&& f) {
  while (!v.empty()) {
    std::size_t comma = v.find(',');
    std::string_view item = trim_ows(v.substr(0, comma));
    if (!item.empty()) f(item);
    if (comma == std::string_view::npos) break;
    v.remove_prefix(comma + 1);
  }
}

bool parse_decimal(std::string_view v, std::size_t& out) {
  if (v.empty() || v.size() > 18) return false;  // 18 digits cannot overflow 64 bits
  std::size_t n = 0;
  for (char c : v) {
    if (c < '0' || c > '9') return false;
    n = n * 10 + static_cast<std::size_t>(c - '0');
  }
  out = n;
  return true;
}

// Splits a request-target into path and query; absolute-form keeps only its path.
bool split_target(std::string_view target, std::string_view& path, std::string_view& query) {
  if (target == "*") {
    path = target;
    query = {};
    return true;
  }
  std::string_view rest = target;
  if (rest.front() != '/') {
    std::size_t scheme_end = rest.find("://");
    if (scheme_end == std::string_view::npos) return false;
    std::string_view scheme = rest.substr(0, scheme_end);
    if (!iequals(scheme, "http") && !iequals(scheme, "https")) return false;
    rest.remove_prefix(scheme_end + 3);
    std::size_t slash = rest.find_first_of("/?");
    if (slash == std::string_view::npos) {
      path = "/";
      query = {};
      return true;
    }
    rest.remove_prefix(slash);
    if (rest.front() == '?') {
      path = "/";
      query = rest.substr(1);
      return true;
    }
  }
  std::size_t q = rest.find('?');
  path = rest.substr(0, q);
  query = q == std::string_view::npos ? std::string_view{} : rest.substr(q + 1);
  return true;
}

}  // namespace

std::string_view http_method_name(http_method m) {
  switch (m) {
    case http_method::get: return "GET";
    case http_method::head: return "HEAD";
    case http_method::post: return "POST";
    case http_method::put: return "PUT";
    case http_method::patch: return "PATCH";
    case http_method::del: return "DELETE";
    case http_method::options: return "OPTIONS";
    case http_method::other: break;
  }
  return "OTHER";
}

http_method http_method_from(std::string_view name) {
  switch (name.size()) {
    case 3:
      if (name == "GET") return http_method::get;
      if (name == "PUT") return http_method::put;
      break;
    case 4:
      if (name == "POST") return http_method::post;
      if (name == "HEAD") return http_method::head;
      break;
    case 5:
      if (name == "PATCH") return http_method::patch;
      break;
    case 6:
      if (name == "DELETE") return http_method::del;
      break;
    case 7:
      if (name == "OPTIONS") return http_method::options;
      break;
    default:
      break;
  }
  return http_method::other;
}

std::string_view http_request::header(std::string_view name) const {
  for (std::size_t i = 0; i < header_count; ++i) {
    if (iequals(headers[i].name, name)) return headers[i].value;
  }
  return {};
}

bool http_request::has_header(std::string_view name) const {
  for (std::size_t i = 0; i < header_count; ++i) {
    if (iequals(headers[i].name, name)) return true;
  }
  return false;
}

http_error_info http_error_status(http_errc e) {
  switch (e) {
    case http_errc::none: break;
    case http_errc::bad_request_line: return {400, "BAD_REQUEST", "malformed request line"};
    case http_errc::bad_target: return {400, "BAD_REQUEST", "malformed request target"};
    case http_errc::bad_version: return {400, "BAD_REQUEST", "malformed HTTP version"};
    case http_errc::unsupported_version:
      return {505, "HTTP_VERSION_NOT_SUPPORTED", "only HTTP/1.0 and HTTP/1.1 are supported"};
    case http_errc::bad_header: return {400, "BAD_REQUEST", "malformed header field"};
    case http_errc::bare_lf: return {400, "BAD_REQUEST", "lines must end with CRLF"};
    case http_errc::missing_host: return {400, "BAD_REQUEST", "HTTP/1.1 requests need a Host header"};
    case http_errc::duplicate_host: return {400, "BAD_REQUEST", "more than one Host header"};
    case http_errc::bad_content_length: return {400, "BAD_REQUEST", "invalid Content-Length"};
    case http_errc::conflicting_framing:
      return {400, "BAD_REQUEST", "Content-Length and Transfer-Encoding together"};
    case http_errc::chunked_not_supported:
      return {411, "LENGTH_REQUIRED", "chunked request bodies are not accepted; send Content-Length"};
    case http_errc::unsupported_transfer_encoding:
      return {501, "NOT_IMPLEMENTED", "unsupported Transfer-Encoding"};
    case http_errc::url_too_long: return {414, "URI_TOO_LONG", "request URL too long"};
    case http_errc::header_too_large:
      return {431, "HEADERS_TOO_LARGE", "request header block too large"};
    case http_errc::too_many_headers: return {431, "HEADERS_TOO_LARGE", "too many request headers"};
    case http_errc::body_too_large: return {413, "PAYLOAD_TOO_LARGE", "request body too large"};
    case http_errc::transfer_encoding_in_http10:
      return {400, "BAD_REQUEST", "Transfer-Encoding is not defined for HTTP/1.0; send Content-Length"};
  }
  return {500, "INTERNAL", "internal error"};
}

void http_parser::reset() {
  _skip = 0;
  _scan_pos = 0;
  _line_start = 0;
  _request_line_seen = false;
  _headers_done = false;
  _header_bytes = 0;
  _content_length = 0;
}

// Finds the empty line that ends the header block, scanning each byte once across calls.
// Enforces the URL and header-block limits before the block is complete, so a client
// cannot make us buffer more than the limits allow.
parse_result http_parser::find_header_end(std::string_view data) {
  const char* base = data.data();
  const std::size_t n = data.size();
  // RFC 9112 2.2: ignore empty lines before the request line.
  while (!_request_line_seen && _scan_pos == _skip && _skip < n) {
    if (base[_skip] == '\r' || base[_skip] == '\n') {
      if (_skip >= 2 * 16) return {parse_status::error, http_errc::bad_request_line, 0};
      ++_skip;
      _scan_pos = _line_start = _skip;
    } else {
      break;
    }
  }
  while (_scan_pos < n) {
    const void* nl = std::memchr(base + _scan_pos, '\n', n - _scan_pos);
    if (nl == nullptr) {
      _scan_pos = n;
      break;
    }
    std::size_t pos = static_cast<std::size_t>(static_cast<const char*>(nl) - base);
    std::size_t line_len = pos - _line_start;  // bytes before '\n'
    _scan_pos = pos + 1;
    if (!_request_line_seen) {
      _request_line_seen = true;
      // Method, two spaces and "HTTP/1.1\r" around the target.
      if (line_len > _limits.url_bytes_max + 32) return {parse_status::error, http_errc::url_too_long, 0};
    } else if (line_len == 0 || (line_len == 1 && base[_line_start] == '\r')) {
      _header_bytes = pos + 1 - _skip;
      if (_header_bytes > _limits.header_bytes_max) {
        return {parse_status::error, http_errc::header_too_large, 0};
      }
      return {parse_status::complete, http_errc::none, 0};
    }
    _line_start = pos + 1;
  }
  if (!_request_line_seen && n - _skip > _limits.url_bytes_max + 32) {
    return {parse_status::error, http_errc::url_too_long, 0};
  }
  if (n - _skip > _limits.header_bytes_max) return {parse_status::error, http_errc::header_too_large, 0};
  return {parse_status::need_more, http_errc::none, 0};
}

http_errc http_parser::parse_head(std::string_view head, http_request& req) const {
  // Every line ends in CRLF; `head` ends with the empty line's CRLF.
  std::size_t eol = head.find('\n');
  if (eol == 0 || head[eol - 1] != '\r') return http_errc::bare_lf;
  std::string_view line = head.substr(0, eol - 1);
  head.remove_prefix(eol + 1);

  // request-line = method SP request-target SP HTTP-version
  std::size_t sp1 = line.find(' ');
  if (sp1 == std::string_view::npos || sp1 == 0) return http_errc::bad_request_line;
  std::string_view method = line.substr(0, sp1);
  for (char c : method) {
    if (!tchar[static_cast<unsigned char>(c)]) return http_errc::bad_request_line;
  }
  std::size_t sp2 = line.rfind(' ');
  if (sp2 == sp1) return http_errc::bad_request_line;
  std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  std::string_view version = line.substr(sp2 + 1);
  if (target.empty()) return http_errc::bad_target;
  if (target.size() > _limits.url_bytes_max) return http_errc::url_too_long;
  for (char c : target) {
    if (!is_target_byte(static_cast<unsigned char>(c))) return http_errc::bad_target;
  }
  if (version.size() != 8 || version.substr(0, 5) != "HTTP/" || version[6] != '.' || version[5] < '0' ||
      version[5] > '9' || version[7] < '0' || version[7] > '9') {
    return http_errc::bad_version;
  }
  if (version[5] != '1' || (version[7] != '0' && version[7] != '1')) return http_errc::unsupported_version;

  req.method_name = method;
  req.method = http_method_from(method);
  req.target = target;
  if (!split_target(target, req.path, req.query)) return http_errc::bad_target;
  req.version_minor = static_cast<std::uint8_t>(version[7] - '0');

  bool conn_close = false;
  bool conn_keep_alive = false;
  bool have_length = false;
  bool have_te = false;
  bool chunked = false;
  int host_count = 0;
  req.header_count = 0;
  req.content_length = 0;
  req.expect_continue = false;

  while (true) {
    eol = head.find('\n');
    // parse() only hands over a block that ends in an empty line, so eol exists.
    if (eol == 0 || head[eol - 1] != '\r') return http_errc::bare_lf;
    line = head.substr(0, eol - 1);
    head.remove_prefix(eol + 1);
    if (line.empty()) break;
    if (req.header_count >= _limits.headers_max || req.header_count >= http_header_slots) {
      return http_errc::too_many_headers;
    }
    std::size_t colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) return http_errc::bad_header;
    std::string_view name = line.substr(0, colon);
    for (char c : name) {
      if (!tchar[static_cast<unsigned char>(c)]) return http_errc::bad_header;  // includes obs-fold
    }
    std::string_view value = line.substr(colon + 1);
    for (char c : value) {
      if (!is_field_byte(static_cast<unsigned char>(c))) return http_errc::bad_header;
    }
    value = trim_ows(value);
    req.headers[req.header_count++] = {name, value};

    switch (name.size()) {
      case 4:
        if (iequals(name, "host")) ++host_count;
        break;
      case 6:
        if (iequals(name, "expect") && iequals(value, "100-continue")) req.expect_continue = true;
        break;
      case 10:
        if (iequals(name, "connection")) {
          for_each_token(value, [&](std::string_view t) {
            if (iequals(t, "close")) conn_close = true;
            if (iequals(t, "keep-alive")) conn_keep_alive = true;
          });
        }
        break;
      case 14:
        if (iequals(name, "content-length")) {
          std::size_t len = 0;
          if (!parse_decimal(value, len)) return http_errc::bad_content_length;
          if (have_length && len != req.content_length) return http_errc::bad_content_length;
          have_length = true;
          req.content_length = len;
        }
        break;
      case 17:
        if (iequals(name, "transfer-encoding")) {
          have_te = true;
          for_each_token(value, [&](std::string_view t) { chunked = chunked || iequals(t, "chunked"); });
        }
        break;
      default:
        break;
    }
  }

  if (req.version_minor == 1 && host_count == 0) return http_errc::missing_host;
  if (host_count > 1) return http_errc::duplicate_host;
  if (have_te) {
    if (have_length) return http_errc::conflicting_framing;
    if (req.version_minor == 0) return http_errc::transfer_encoding_in_http10;
    return chunked ? http_errc::chunked_not_supported : http_errc::unsupported_transfer_encoding;
  }
  if (req.content_length > _limits.body_bytes_max) return http_errc::body_too_large;
  req.keep_alive = req.version_minor == 1 ? !conn_close : (conn_keep_alive && !conn_close);
  if (req.version_minor == 0) req.expect_continue = false;
  return http_errc::none;
}

parse_result http_parser::parse(std::string_view data, http_request& req) {
  if (!_headers_done) {
    parse_result r = find_header_end(data);
    if (r.status != parse_status::complete) return r;
    http_errc e = parse_head(data.substr(_skip, _header_bytes), req);
    if (e != http_errc::none) return {parse_status::error, e, 0};
    req.header_bytes = _header_bytes;
    _content_length = req.content_length;
    _headers_done = true;
  } else if (data.size() >= expected_bytes()) {
    // The views from the first pass may point into a buffer that has since moved.
    http_errc e = parse_head(data.substr(_skip, _header_bytes), req);
    if (e != http_errc::none) return {parse_status::error, e, 0};
    req.header_bytes = _header_bytes;
  }
  const std::size_t total = expected_bytes();
  if (data.size() < total) return {parse_status::need_more, http_errc::none, 0};
  req.body = data.substr(_skip + _header_bytes, _content_length);
  return {parse_status::complete, http_errc::none, total};
}

}  // namespace warrant::net

// tests/net/http_parser_errors_test.cc: net/http_parser.* — every limit, at and over it,
// malformed input of every kind (whole and byte by byte), and the error-status mapping.
#include <gtest/gtest.h>

#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "net/http_parser.h"

namespace warrant::net {
namespace {

struct outcome {
  parse_status status = parse_status::need_more;
  http_errc error = http_errc::none;
  std::size_t consumed = 0;
  std::size_t header_bytes = 0;  // of a complete request
  std::size_t header_count = 0;
  std::size_t body_bytes = 0;
};

outcome parse_once(std::string_view data, const http_limits& limits = {}) {
  http_parser p(limits);
  http_request req;
  const parse_result r = p.parse(data, req);
  outcome o{r.status, r.error, r.consumed};
  if (r.status == parse_status::complete) {
    o.header_bytes = req.header_bytes;
    o.header_count = req.header_count;
    o.body_bytes = req.body.size();
  }
  return o;
}

// A heap copy of exactly `n` bytes, so ASan reports any read past the bytes handed over.
std::unique_ptr<char[]> exact_copy(std::string_view s, std::size_t n) {
  auto p = std::make_unique<char[]>(n == 0 ? 1 : n);
  std::memcpy(p.get(), s.data(), n);
  return p;
}

// ---- limits -------------------------------------------------------------------------------

std::string get_with_target(std::size_t target_bytes) {
  return "GET /" + std::string(target_bytes - 1, 'a') + " HTTP/1.1\r\nHost: h\r\n\r\n";
}

// A request whose header block (request line through the final CRLF) is exactly `bytes`.
std::string with_header_block(std::size_t bytes, std::string body_headers = "") {
  const std::string head = "POST /h HTTP/1.1\r\nHost: h\r\n" + body_headers + "X-Fill: ";
  const std::size_t fixed = head.size() + 4;  // "\r\n\r\n"
  return head + std::string(bytes - fixed, 'f') + "\r\n\r\n";
}

TEST(HttpParserLimits, UrlAtAndOverLimit) {
  const http_limits limits;
  EXPECT_EQ(parse_once(get_with_target(limits.url_bytes_max)).status, parse_status::complete);
  const outcome over = parse_once(get_with_target(limits.url_bytes_max + 1));
  EXPECT_EQ(over.status, parse_status::error);
  EXPECT_EQ(over.error, http_errc::url_too_long);
}

TEST(HttpParserLimits, UrlTooLongBeforeLineEnds) {
  const http_limits limits;
  // A request line with no CRLF yet: waiting is fine up to the limit...
  std::string partial = "GET /" + std::string(limits.url_bytes_max, 'a');
  EXPECT_EQ(parse_once(partial).status, parse_status::need_more);
  // ...but not much past it: the parser must not wait for the line to end.
  partial += std::string(64, 'a');
  const outcome o = parse_once(partial);
  EXPECT_EQ(o.status, parse_status::error);
  EXPECT_EQ(o.error, http_errc::url_too_long);
}

TEST(HttpParserLimits, HeaderBlockAtAndOverLimit) {
  const http_limits limits;
  const std::string at = with_header_block(limits.header_bytes_max);
  const outcome ok = parse_once(at);
  ASSERT_EQ(ok.status, parse_status::complete);
  EXPECT_EQ(ok.header_bytes, limits.header_bytes_max);
  // Leading empty lines are not part of the header block.
  EXPECT_EQ(parse_once("\r\n" + at).status, parse_status::complete);

  const outcome over = parse_once(with_header_block(limits.header_bytes_max + 1));
  EXPECT_EQ(over.status, parse_status::error);
  EXPECT_EQ(over.error, http_errc::header_too_large);
}

TEST(HttpParserLimits, HeaderBlockTooLargeBeforeTerminator) {
  const http_limits limits;
  const std::string block = with_header_block(limits.header_bytes_max + 100);
  // Everything up to the limit, no terminator yet: still waiting.
  EXPECT_EQ(parse_once(std::string_view(block).substr(0, limits.header_bytes_max)).status, parse_status::need_more);
  // One byte more without the terminator: refused before it arrives.
  const outcome o = parse_once(std::string_view(block).substr(0, limits.header_bytes_max + 1));
  EXPECT_EQ(o.status, parse_status::error);
  EXPECT_EQ(o.error, http_errc::header_too_large);
}

std::string with_headers(std::size_t count) {
  std::string s = "GET / HTTP/1.1\r\nHost: h\r\n";
  for (std::size_t i = 1; i < count; ++i) s += "X-H" + std::to_string(i) + ": v\r\n";
  return s + "\r\n";
}

TEST(HttpParserLimits, HeaderCount) {
  const outcome ok = parse_once(with_headers(http_header_slots));
  ASSERT_EQ(ok.status, parse_status::complete);
  EXPECT_EQ(ok.header_count, http_header_slots);
  const outcome over = parse_once(with_headers(http_header_slots + 1));
  EXPECT_EQ(over.status, parse_status::error);
  EXPECT_EQ(over.error, http_errc::too_many_headers);
}

TEST(HttpParserLimits, BodyAtAndOverLimit) {
  const http_limits limits;
  const std::string body(limits.body_bytes_max, 'b');
  const std::string at = "POST /b HTTP/1.1\r\nHost: h\r\nContent-Length: " + std::to_string(body.size()) +
                         "\r\n\r\n" + body;
  const outcome ok = parse_once(at);
  ASSERT_EQ(ok.status, parse_status::complete);
  EXPECT_EQ(ok.body_bytes, limits.body_bytes_max);
  // Over the limit: refused as soon as the headers are in, before any body byte.
  const std::string over_head =
      "POST /b HTTP/1.1\r\nHost: h\r\nContent-Length: " + std::to_string(limits.body_bytes_max + 1) + "\r\n\r\n";
  const outcome over = parse_once(over_head);
  EXPECT_EQ(over.status, parse_status::error);
  EXPECT_EQ(over.error, http_errc::body_too_large);
}

TEST(HttpParserLimits, CustomSmallerLimits) {
  const http_limits limits{.header_bytes_max = 256, .headers_max = 4, .url_bytes_max = 64, .body_bytes_max = 10};
  struct limit_case {
    const char* name;
    std::string raw;
    parse_status status;
    http_errc error;
  };
  const std::vector<limit_case> cases = {
      {"url at limit", get_with_target(64), parse_status::complete, http_errc::none},
      {"url over", get_with_target(65), parse_status::error, http_errc::url_too_long},
      {"url over, no line end", "GET /" + std::string(200, 'a'), parse_status::error, http_errc::url_too_long},
      {"block at limit", with_header_block(256), parse_status::complete, http_errc::none},
      {"block over", with_header_block(257), parse_status::error, http_errc::header_too_large},
      {"block over, no end", with_header_block(300).substr(0, 257), parse_status::error, http_errc::header_too_large},
      {"4 headers", with_headers(4), parse_status::complete, http_errc::none},
      {"5 headers", with_headers(5), parse_status::error, http_errc::too_many_headers},
      {"body at limit", "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 10\r\n\r\n0123456789", parse_status::complete,
       http_errc::none},
      {"body over", "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 11\r\n\r\n", parse_status::error,
       http_errc::body_too_large},
  };
  for (const limit_case& c : cases) {
    SCOPED_TRACE(c.name);
    const outcome o = parse_once(c.raw, limits);
    EXPECT_EQ(o.status, c.status);
    EXPECT_EQ(o.error, c.error);
  }
}

TEST(HttpParserLimits, TooManyLeadingEmptyLines) {
  EXPECT_EQ(parse_once(std::string(8, '\n') + "GET / HTTP/1.0\r\n\r\n").status, parse_status::complete);
  const outcome o = parse_once(std::string(1000, '\n') + "GET / HTTP/1.0\r\n\r\n");
  EXPECT_EQ(o.status, parse_status::error);
  EXPECT_EQ(o.error, http_errc::bad_request_line);
}

// ---- malformed ----------------------------------------------------------------------------

struct bad_case {
  const char* name;
  std::string raw;
  http_errc error;
};

std::string request_line(std::string line) { return line + "\r\nHost: h\r\n\r\n"; }
std::string with_header(std::string header) { return "GET / HTTP/1.1\r\nHost: h\r\n" + header + "\r\n\r\n"; }

const std::vector<bad_case>& bad_cases() {
  using std::string_literals::operator""s;
  static const std::vector<bad_case> cases = {
      {"bad method char", request_line("G@T / HTTP/1.1"), http_errc::bad_request_line},
      {"method with slash", request_line("GET/ HTTP/1.1"), http_errc::bad_request_line},
      {"leading space", request_line(" GET / HTTP/1.1"), http_errc::bad_request_line},
      {"one space only", request_line("GET /HTTP/1.1"), http_errc::bad_request_line},
      {"no spaces", request_line("GET"), http_errc::bad_request_line},
      {"empty target", request_line("GET  HTTP/1.1"), http_errc::bad_target},
      {"space in target", request_line("GET /a b HTTP/1.1"), http_errc::bad_target},
      {"control in target", request_line("GET /a\x01z HTTP/1.1"), http_errc::bad_target},
      {"tab in target", request_line("GET /a\tb HTTP/1.1"), http_errc::bad_target},
      {"del in target", request_line("GET /a\x7f HTTP/1.1"), http_errc::bad_target},
      {"relative target", request_line("GET a/b HTTP/1.1"), http_errc::bad_target},
      {"other scheme", request_line("GET ftp://h/a HTTP/1.1"), http_errc::bad_target},
      {"lowercase version", request_line("GET / http/1.1"), http_errc::bad_version},
      {"short version", request_line("GET / HTTP/1"), http_errc::bad_version},
      {"long version", request_line("GET / HTTP/1.10"), http_errc::bad_version},
      {"trailing space", request_line("GET / HTTP/1.1 "), http_errc::bad_target},  // target "/ HTTP/1.1"
      {"letter version", request_line("GET / HTTP/x.1"), http_errc::bad_version},
      {"http/1.2", request_line("GET / HTTP/1.2"), http_errc::unsupported_version},
      {"http/1.9", request_line("GET / HTTP/1.9"), http_errc::unsupported_version},
      {"http/2.0", request_line("GET / HTTP/2.0"), http_errc::unsupported_version},
      {"http/0.9", request_line("GET / HTTP/0.9"), http_errc::unsupported_version},
      {"header without colon", with_header("X-No-Colon"), http_errc::bad_header},
      {"space before colon", with_header("X-A : v"), http_errc::bad_header},
      {"empty header name", with_header(": v"), http_errc::bad_header},
      {"obs-fold", with_header("X-A: v\r\n continued"), http_errc::bad_header},
      {"obs-fold with colon", with_header("X-A: v\r\n\tX-B: w"), http_errc::bad_header},
      {"control in value", with_header("X-A: a\x01z"), http_errc::bad_header},
      {"nul in value", with_header("X-A: a"s + '\0' + "z"), http_errc::bad_header},
      {"cr in value", with_header("X-A: a\rz"), http_errc::bad_header},
      {"del in value", with_header("X-A: a\x7f"), http_errc::bad_header},
      {"bare lf after request line", "GET / HTTP/1.1\nHost: h\r\n\r\n", http_errc::bare_lf},
      {"bare lf after header", "GET / HTTP/1.1\r\nHost: h\n\r\n", http_errc::bare_lf},
      {"bare lf terminator", "GET / HTTP/1.1\r\nHost: h\r\n\n", http_errc::bare_lf},
      {"bare lf everywhere", "GET / HTTP/1.1\nHost: h\n\n", http_errc::bare_lf},
      {"content-length letters", with_header("Content-Length: abc"), http_errc::bad_content_length},
      {"content-length negative", with_header("Content-Length: -1"), http_errc::bad_content_length},
      {"content-length plus", with_header("Content-Length: +1"), http_errc::bad_content_length},
      {"content-length empty", with_header("Content-Length:"), http_errc::bad_content_length},
      {"content-length list", with_header("Content-Length: 3, 3"), http_errc::bad_content_length},
      {"content-length inner space", with_header("Content-Length: 1 2"), http_errc::bad_content_length},
      {"content-length overflow", with_header("Content-Length: 99999999999999999999999"),
       http_errc::bad_content_length},
      {"content-length 19 digits", with_header("Content-Length: 1000000000000000000"), http_errc::bad_content_length},
      {"content-length conflicting", with_header("Content-Length: 3\r\nContent-Length: 4"),
       http_errc::bad_content_length},
      {"cl and te", with_header("Content-Length: 3\r\nTransfer-Encoding: chunked"), http_errc::conflicting_framing},
      {"te and cl", with_header("Transfer-Encoding: gzip\r\nContent-Length: 3"), http_errc::conflicting_framing},
      {"chunked", with_header("Transfer-Encoding: chunked"), http_errc::chunked_not_supported},
      {"chunked mixed case in list", with_header("Transfer-Encoding: gzip, Chunked"),
       http_errc::chunked_not_supported},
      {"gzip", with_header("Transfer-Encoding: gzip"), http_errc::unsupported_transfer_encoding},
      {"chunked on 1.0", "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n",
       http_errc::transfer_encoding_in_http10},
      {"missing host", "GET / HTTP/1.1\r\nX-A: b\r\n\r\n", http_errc::missing_host},
      {"no headers at all", "GET / HTTP/1.1\r\n\r\n", http_errc::missing_host},
      {"duplicate host", with_header("host: other"), http_errc::duplicate_host},
      {"duplicate host on 1.0", "GET / HTTP/1.0\r\nHost: a\r\nHost: a\r\n\r\n", http_errc::duplicate_host},
  };
  return cases;
}

TEST(HttpParserMalformed, Table) {
  for (const bad_case& c : bad_cases()) {
    SCOPED_TRACE(c.name);
    const outcome o = parse_once(c.raw);
    EXPECT_EQ(o.status, parse_status::error);
    EXPECT_EQ(o.error, c.error);
    EXPECT_EQ(o.consumed, 0u);
  }
}

// Fed byte by byte, a malformed request gives the same error, and never before its bytes
// can show it (need_more up to then, error from then on — never complete).
TEST(HttpParserMalformed, SameErrorWhenFedByteByByte) {
  for (const bad_case& c : bad_cases()) {
    SCOPED_TRACE(c.name);
    http_parser p;
    http_request req;
    parse_result r;
    for (std::size_t n = 0; n <= c.raw.size(); ++n) {
      auto buf = exact_copy(c.raw, n);
      r = p.parse({buf.get(), n}, req);
      if (r.status != parse_status::need_more) break;
    }
    EXPECT_EQ(r.status, parse_status::error);
    EXPECT_EQ(r.error, c.error);
  }
}

// ---- error statuses -----------------------------------------------------------------------

TEST(HttpParser, ErrorStatusForEveryErrc) {
  struct status_case {
    http_errc error;
    int status;
    std::string_view code;
  };
  const std::vector<status_case> cases = {
      {http_errc::bad_request_line, 400, "BAD_REQUEST"},
      {http_errc::bad_target, 400, "BAD_REQUEST"},
      {http_errc::bad_version, 400, "BAD_REQUEST"},
      {http_errc::unsupported_version, 505, "HTTP_VERSION_NOT_SUPPORTED"},
      {http_errc::bad_header, 400, "BAD_REQUEST"},
      {http_errc::bare_lf, 400, "BAD_REQUEST"},
      {http_errc::missing_host, 400, "BAD_REQUEST"},
      {http_errc::duplicate_host, 400, "BAD_REQUEST"},
      {http_errc::bad_content_length, 400, "BAD_REQUEST"},
      {http_errc::conflicting_framing, 400, "BAD_REQUEST"},
      {http_errc::chunked_not_supported, 411, "LENGTH_REQUIRED"},
      {http_errc::unsupported_transfer_encoding, 501, "NOT_IMPLEMENTED"},
      {http_errc::url_too_long, 414, "URI_TOO_LONG"},
      {http_errc::header_too_large, 431, "HEADERS_TOO_LARGE"},
      {http_errc::too_many_headers, 431, "HEADERS_TOO_LARGE"},
      {http_errc::body_too_large, 413, "PAYLOAD_TOO_LARGE"},
      {http_errc::transfer_encoding_in_http10, 400, "BAD_REQUEST"},
  };
  // Every errc but `none` is listed exactly once.
  ASSERT_EQ(cases.size(), static_cast<std::size_t>(http_errc::transfer_encoding_in_http10));
  for (std::size_t i = 0; i < cases.size(); ++i) {
    const status_case& c = cases[i];
    SCOPED_TRACE(static_cast<int>(c.error));
    EXPECT_EQ(static_cast<std::size_t>(c.error), i + 1);
    const http_error_info info = http_error_status(c.error);
    EXPECT_EQ(info.status, c.status);
    EXPECT_EQ(info.code, c.code);
    EXPECT_FALSE(info.message.empty());
  }
  EXPECT_EQ(http_error_status(http_errc::none).status, 500);
}

}  // namespace
}  // namespace warrant::net

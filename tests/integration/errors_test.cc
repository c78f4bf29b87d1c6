// Every error a request can get before it reaches a handler (spec/common.md "Errors",
// "Limits"): a JSON body with Content-Type application/json, `Connection: close`, and the
// connection closed after the answer, readable even while the client is still sending.
#include <cstring>

// GCC 12 at -O3 reports a false -Wrestrict inside std::string concatenation (GCC PR 105329).
#pragma GCC diagnostic ignored "-Wrestrict"

#include "tests/integration/harness.h"

namespace warrant::integration {
namespace {

struct bad_request_case {
  std::string name;
  std::string bytes;
  int status;
  std::string code;
};

// Sends `bytes` on a fresh connection; expects one JSON error answer and then EOF.
void expect_error_and_close(std::uint16_t port, const bad_request_case& t) {
  SCOPED_TRACE(t.name);
  client c(port);
  ASSERT_TRUE(c.connected());
  ASSERT_TRUE(c.send(t.bytes));
  http_message m;
  ASSERT_EQ(c.read_response(m), read_status::ok) << to_string(c.last_read());
  EXPECT_TRUE(is_json_error(m, t.status, t.code));
  EXPECT_EQ(m.header("Connection"), "close");
  EXPECT_EQ(c.wait_closed(), read_status::eof);
  EXPECT_TRUE(c.buffered().empty()) << "bytes after the error answer: " << c.buffered();
}

std::vector<bad_request_case> malformed_requests() {
  const std::string host = "Host: warrant.test\r\n";
  return {
      {"garbage request line", "NOT A REQUEST\r\n\r\n", 400, "BAD_REQUEST"},
      {"missing target", "GET  HTTP/1.1\r\n" + host + "\r\n", 400, "BAD_REQUEST"},
      {"no version", "GET /healthz\r\n" + host + "\r\n", 400, "BAD_REQUEST"},
      {"lowercase version", "GET /healthz http/1.1\r\n" + host + "\r\n", 400, "BAD_REQUEST"},
      {"relative target", "GET healthz HTTP/1.1\r\n" + host + "\r\n", 400, "BAD_REQUEST"},
      {"control byte in target", std::string("GET /heal\x01thz HTTP/1.1\r\n") + host + "\r\n", 400, "BAD_REQUEST"},
      {"space in header name", "GET /healthz HTTP/1.1\r\n" + host + "Bad Header: x\r\n\r\n", 400, "BAD_REQUEST"},
      {"space before colon", "GET /healthz HTTP/1.1\r\n" + host + "Accept : x\r\n\r\n", 400, "BAD_REQUEST"},
      {"header without colon", "GET /healthz HTTP/1.1\r\n" + host + "NoColon\r\n\r\n", 400, "BAD_REQUEST"},
      {"obs-fold", "GET /healthz HTTP/1.1\r\n" + host + "X-A: 1\r\n  folded\r\n\r\n", 400, "BAD_REQUEST"},
      {"control byte in value", "GET /healthz HTTP/1.1\r\n" + host + std::string("X-A: a\x01z\r\n\r\n"), 400,
       "BAD_REQUEST"},
      {"bare LF", "GET /healthz HTTP/1.1\nHost: warrant.test\n\n", 400, "BAD_REQUEST"},
      {"bare LF in a header", "GET /healthz HTTP/1.1\r\nHost: warrant.test\nX-A: 1\r\n\r\n", 400, "BAD_REQUEST"},
      {"missing Host on HTTP/1.1", "GET /healthz HTTP/1.1\r\n\r\n", 400, "BAD_REQUEST"},
      {"two Host headers", "GET /healthz HTTP/1.1\r\n" + host + host + "\r\n", 400, "BAD_REQUEST"},
      {"Content-Length not a number", "GET /healthz HTTP/1.1\r\n" + host + "Content-Length: abc\r\n\r\n", 400,
       "BAD_REQUEST"},
      {"negative Content-Length", "GET /healthz HTTP/1.1\r\n" + host + "Content-Length: -1\r\n\r\n", 400,
       "BAD_REQUEST"},
      {"Content-Length with sign", "GET /healthz HTTP/1.1\r\n" + host + "Content-Length: +5\r\n\r\nhello", 400,
       "BAD_REQUEST"},
      {"Content-Length list", "GET /healthz HTTP/1.1\r\n" + host + "Content-Length: 1, 2\r\n\r\nab", 400,
       "BAD_REQUEST"},
      {"conflicting Content-Lengths",
       "GET /healthz HTTP/1.1\r\n" + host + "Content-Length: 1\r\nContent-Length: 2\r\n\r\nab", 400,
       "BAD_REQUEST"},
      {"huge Content-Length", "GET /healthz HTTP/1.1\r\n" + host + "Content-Length: 99999999999999999999999\r\n\r\n",
       400, "BAD_REQUEST"},
      {"Content-Length with Transfer-Encoding",
       "POST /healthz HTTP/1.1\r\n" + host + "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400,
       "BAD_REQUEST"},
      {"chunked body", "POST /healthz HTTP/1.1\r\n" + host + "Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
       411, "LENGTH_REQUIRED"},
      {"gzip, chunked body",
       "POST /healthz HTTP/1.1\r\n" + host + "Transfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n", 411,
       "LENGTH_REQUIRED"},
      {"gzip transfer coding", "POST /healthz HTTP/1.1\r\n" + host + "Transfer-Encoding: gzip\r\n\r\n", 501,
       "NOT_IMPLEMENTED"},
      {"HTTP/2.0 request line", "GET /healthz HTTP/2.0\r\n" + host + "\r\n", 505, "HTTP_VERSION_NOT_SUPPORTED"},
      {"HTTP/1.2", "GET /healthz HTTP/1.2\r\n" + host + "\r\n", 505, "HTTP_VERSION_NOT_SUPPORTED"},
      {"HTTP/3.1", "GET /healthz HTTP/3.1\r\n" + host + "\r\n", 505, "HTTP_VERSION_NOT_SUPPORTED"},
      {"HTTP/2 connection preface", "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 505, "HTTP_VERSION_NOT_SUPPORTED"},
  };
}

TEST(Errors, MalformedRequestsGetJsonErrorsAndClose) {
  server_process server({"--shards", "2"});
  ASSERT_TRUE(server.ready()) << server.stderr_text();
  const auto cases = malformed_requests();
  for (const bad_request_case& t : cases) expect_error_and_close(server.port(), t);
  const std::string text = scrape_metrics(server.port());
  EXPECT_EQ(metric_value(text, "warrant_http_parse_errors_total"), static_cast<double>(cases.size()));
}

TEST(Errors, MalformedRequestAfterGoodOnesOnTheSameConnection) {
  server_process server({"--shards", "1"});
  ASSERT_TRUE(server.ready()) << server.stderr_text();
  client c(server.port());
  ASSERT_TRUE(c.connected());
  ASSERT_TRUE(c.roundtrip(get("/healthz")));
  // A good request, a bad one, and one that must never be answered, in one write.
  ASSERT_TRUE(c.send(get("/readyz") + "GET /healthz HTTP/1.1\r\nBad Header: x\r\n\r\n" + get("/healthz")));
  http_message m;
  ASSERT_EQ(c.read_response(m), read_status::ok);
  EXPECT_EQ(m.status, 200);
  ASSERT_EQ(c.read_response(m), read_status::ok);
  EXPECT_TRUE(is_json_error(m, 400, "BAD_REQUEST"));
  EXPECT_EQ(m.header("Connection"), "close");
  EXPECT_EQ(c.wait_closed(), read_status::eof);
  EXPECT_TRUE(c.buffered().empty());
}

TEST(Errors, UrlLimit) {
  server_process server({"--shards", "1"});
  ASSERT_TRUE(server.ready()) << server.stderr_text();
  // Exactly at the limit: routed (and not found).
  const std::string at_limit = std::string(8192, 'a').replace(0, 1, "/");
  const auto ok = fetch(server.port(), get(at_limit));
  ASSERT_TRUE(ok);
  EXPECT_TRUE(is_json_error(*ok, 404, "NOT_FOUND"));
  expect_error_and_close(server.port(), {"one byte over", get(at_limit + "b"), 414, "URI_TOO_LONG"});
  expect_error_and_close(server.port(), {"query counts too", get("/healthz?" + std::string(9000, 'q')), 414,
                                         "URI_TOO_LONG"});
  // An endless request line is refused once it passes the limit, without waiting for its end.
  client c(server.port());
  ASSERT_TRUE(c.connected());
  std::string endless = "GET /";
  endless.append(12000, 'a');
  ASSERT_TRUE(c.send(endless));
  http_message m;
  ASSERT_EQ(c.read_response(m), read_status::ok);
  EXPECT_TRUE(is_json_error(m, 414, "URI_TOO_LONG"));
  EXPECT_EQ(c.wait_closed(), read_status::eof);
}

TEST(Errors, UrlLimitFlag) {
  server_process server({"--shards", "1", "--url-bytes-max", "100"});
  ASSERT_TRUE(server.ready()) << server.stderr_text();
  const auto ok = fetch(server.port(), get("/healthz?" + std::string(91, 'q')));  // 100 bytes
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 200);
  expect_error_and_close(server.port(), {"101 bytes", get("/healthz?" + std::string(92, 'q')), 414, "URI_TOO_LONG"});
}

// A request whose header block (request line to final CRLF) is exactly `bytes` long.
std::string request_with_header_block(std::size_t bytes) {
  std::string r = get("/healthz", "X-Pad: ");
  // get() ends with "X-Pad: " + "\r\n" (the empty line); the padding goes before it, and a
  // CRLF ends the X-Pad line.
  r.resize(r.size() - 2);
  const std::size_t fixed = r.size() + 4;
  r.append(bytes - fixed, 'p');
  r.append("\r\n\r\n");
  return r;
}

TEST(Errors, HeaderBlockLimit) {
  server_process server({"--shards", "1"});
  ASSERT_TRUE(server.ready()) << server.stderr_text();
  const std::string at_limit = request_with_header_block(16384);
  ASSERT_EQ(at_limit.size(), 16384u);
  const auto ok = fetch(server.port(), at_limit);
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 200);
  expect_error_and_close(server.port(),
                         {"one byte over", request_with_header_block(16385), 431, "HEADERS_TOO_LARGE"});
  // Headers that never end are refused once past the limit.
  client c(server.port());
  ASSERT_TRUE(c.connected());
  std::string endless = get("/healthz");
  endless.resize(endless.size() - 2);
  for (int i = 0; i < 1000; ++i) endless += "X-Header-" + std::to_string(i) + ": some value\r\n";
  ASSERT_GT(endless.size(), 16384u);
  ASSERT_TRUE(c.send(endless));
  http_message m;
  ASSERT_EQ(c.read_response(m), read_status::ok);
  EXPECT_TRUE(is_json_error(m, 431, "HEADERS_TOO_LARGE"));
  EXPECT_EQ(c.wait_closed(), read_status::eof);
}

std::string request_with_headers(int count) {
  std::string extra;
  for (int i = 1; i < count; ++i) extra += "X-H" + std::to_string(i) + ": v\r\n";  // plus Host
  return get("/healthz", extra);
}

TEST(Errors, HeaderCountLimit) {
  server_process server({"--shards", "1"});
  ASSERT_TRUE(server.ready()) << server.stderr_text();
  const auto ok = fetch(server.port(), request_with_headers(100));
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 200);
  expect_error_and_close(server.port(), {"101 headers", request_with_headers(101), 431, "HEADERS_TOO_LARGE"});
  expect_error_and_close(server.port(), {"500 headers", request_with_headers(500), 431, "HEADERS_TOO_LARGE"});
}

TEST(Errors, HeaderCountLimitFlag) {
  server_process server({"--shards", "1", "--headers-max", "10"});
  ASSERT_TRUE(server.ready()) << server.stderr_text();
  const auto ok = fetch(server.port(), request_with_headers(10));
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 200);
  expect_error_and_close(server.port(), {"11 headers", request_with_headers(11), 431, "HEADERS_TOO_LARGE"});
}

TEST(Errors, BodyLimitByContentLength) {
  server_process server({"--shards", "1", "--body-bytes-max", "1024"});
  ASSERT_TRUE(server.ready()) << server.stderr_text();
  const auto ok = fetch(server.port(), get("/healthz", "Content-Length: 1024\r\n") + std::string(1024, 'b'));
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 200);
  // Refused on the header alone: no body bytes are sent.
  expect_error_and_close(server.port(),
                         {"1025 announced", get("/healthz", "Content-Length: 1025\r\n"), 413, "PAYLOAD_TOO_LARGE"});
}

TEST(Errors, OversizedBodyBeingSentStillGets413) {
  // The default 1 MiB limit and a 2 MiB body that the client sends in full before reading:
  // the answer must survive the unread input (no reset before the client reads it).
  server_process server({"--shards", "1"});
  ASSERT_TRUE(server.ready()) << server.stderr_text();
  constexpr std::size_t body_bytes = 2 << 20;
  for (std::string_view method : {"POST", "GET"}) {
    SCOPED_TRACE(method);
    client c(server.port());
    ASSERT_TRUE(c.connected());
    ASSERT_TRUE(c.send(request(method, "/healthz", "Content-Length: " + std::to_string(body_bytes) + "\r\n")));
    const std::string body(body_bytes, 'x');
    ASSERT_TRUE(c.send(body)) << "the server must keep reading (and discarding) while the client sends: "
                              << std::strerror(c.last_errno());
    http_message m;
    ASSERT_EQ(c.read_response(m), read_status::ok) << to_string(c.last_read());
    EXPECT_TRUE(is_json_error(m, 413, "PAYLOAD_TOO_LARGE"));
    EXPECT_EQ(m.header("Connection"), "close");
    EXPECT_EQ(c.wait_closed(), read_status::eof);
  }
  EXPECT_EQ(fetch(server.port(), get("/healthz"))->status, 200);
}

TEST(Errors, ErrorIsReadableWhileTheClientKeepsSending) {
  // A malformed request followed by a stream of junk: the client never stops to read until
  // it has sent everything, and still finds the 400.
  server_process server({"--shards", "1"});
  ASSERT_TRUE(server.ready()) << server.stderr_text();
  client c(server.port());
  ASSERT_TRUE(c.connected());
  ASSERT_TRUE(c.send("GARBAGE\r\n\r\n"));
  const std::string junk(64 * 1024, 'j');
  for (int i = 0; i < 16; ++i) ASSERT_TRUE(c.send(junk)) << i << ": " << std::strerror(c.last_errno());
  http_message m;
  ASSERT_EQ(c.read_response(m), read_status::ok) << to_string(c.last_read());
  EXPECT_TRUE(is_json_error(m, 400, "BAD_REQUEST"));
  EXPECT_EQ(c.wait_closed(), read_status::eof);
}

TEST(Errors, ServerStaysHealthyAfterErrors) {
  server_process server({"--shards", "2"});
  ASSERT_TRUE(server.ready()) << server.stderr_text();
  for (const bad_request_case& t : malformed_requests()) {
    client c(server.port());
    ASSERT_TRUE(c.connected());
    c.send(t.bytes);
    c.reset();  // without reading the answer
  }
  const auto m = fetch(server.port(), get("/healthz"));
  ASSERT_TRUE(m);
  EXPECT_EQ(m->status, 200);
  EXPECT_TRUE(wait_until([&] { return open_connections(server.port()) == 1.0; }, 5s));
}

}  // namespace
}  // namespace warrant::integration

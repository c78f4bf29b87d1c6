// tests/net/http_response_test.cc: net/http_response.* — exact wire bytes of responses,
// the JSON error shape, JSON string escaping and the Date line.
#include "net/http_response.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace warrant::net {
namespace {

constexpr std::string_view date = "Date: Thu, 01 Jan 1970 00:00:00 GMT\r\n";

std::string written(const http_response& res, response_framing framing) {
  if (framing.date_line.empty()) framing.date_line = date;
  byte_buffer out;
  write_response(out, res, framing);
  return std::string(out.view());
}

std::string json(std::string_view s) {
  byte_buffer out;
  append_json_string(out, s);
  return std::string(out.view());
}

TEST(HttpResponse, Ok200Json) {
  http_response res;
  res.reset();
  res.set_json(R"({"ok":true})");
  EXPECT_EQ(written(res, {}),
            "HTTP/1.1 200 OK\r\nServer: warrant\r\n"
            "Date: Thu, 01 Jan 1970 00:00:00 GMT\r\n"
            "Content-Type: application/json\r\nContent-Length: 11\r\n\r\n"
            R"({"ok":true})");
}

TEST(HttpResponse, EmptyBodyHasLengthButNoType) {
  http_response res;
  res.set_status(201);
  EXPECT_EQ(written(res, {}),
            "HTTP/1.1 201 Created\r\nServer: warrant\r\n"
            "Date: Thu, 01 Jan 1970 00:00:00 GMT\r\n"
            "Content-Length: 0\r\n\r\n");
}

TEST(HttpResponse, NoContent204HasNoLength) {
  http_response res;
  res.set_status(204);
  EXPECT_EQ(written(res, {}),
            "HTTP/1.1 204 No Content\r\nServer: warrant\r\n"
            "Date: Thu, 01 Jan 1970 00:00:00 GMT\r\n\r\n");
}

TEST(HttpResponse, HeadHasLengthButNoBody) {
  http_response res;
  res.set_json("[1,2,3]");
  EXPECT_EQ(written(res, {.head_request = true}),
            "HTTP/1.1 200 OK\r\nServer: warrant\r\n"
            "Date: Thu, 01 Jan 1970 00:00:00 GMT\r\n"
            "Content-Type: application/json\r\nContent-Length: 7\r\n\r\n");
}

TEST(HttpResponse, Http10KeepAlive) {
  http_response res;
  res.set_content_type("text/plain");
  res.body().append("hi");
  EXPECT_EQ(written(res, {.version_minor = 0, .keep_alive = true}),
            "HTTP/1.0 200 OK\r\nServer: warrant\r\n"
            "Date: Thu, 01 Jan 1970 00:00:00 GMT\r\n"
            "Content-Type: text/plain\r\nContent-Length: 2\r\n"
            "Connection: keep-alive\r\n\r\nhi");
}

TEST(HttpResponse, Http10Close) {
  http_response res;
  res.body().append("x");
  EXPECT_EQ(written(res, {.version_minor = 0, .keep_alive = false}),
            "HTTP/1.0 200 OK\r\nServer: warrant\r\n"
            "Date: Thu, 01 Jan 1970 00:00:00 GMT\r\n"
            "Content-Type: application/json\r\nContent-Length: 1\r\n"
            "Connection: close\r\n\r\nx");
}

TEST(HttpResponse, ConnectionClose) {
  http_response res;
  res.set_status(404);
  EXPECT_EQ(written(res, {.keep_alive = false}),
            "HTTP/1.1 404 Not Found\r\nServer: warrant\r\n"
            "Date: Thu, 01 Jan 1970 00:00:00 GMT\r\n"
            "Content-Length: 0\r\nConnection: close\r\n\r\n");
}

TEST(HttpResponse, ExtraHeadersAfterFraming) {
  http_response res;
  res.set_status(405);
  res.add_header("Allow", "GET, HEAD");
  res.add_header("X-Request-Id", "abc");
  EXPECT_EQ(res.extra_headers(), "Allow: GET, HEAD\r\nX-Request-Id: abc\r\n");
  EXPECT_EQ(written(res, {}),
            "HTTP/1.1 405 Method Not Allowed\r\nServer: warrant\r\n"
            "Date: Thu, 01 Jan 1970 00:00:00 GMT\r\n"
            "Content-Length: 0\r\nAllow: GET, HEAD\r\nX-Request-Id: abc\r\n\r\n");
}

TEST(HttpResponse, UnknownStatusAndInformational) {
  http_response res;
  res.set_status(299);
  EXPECT_EQ(written(res, {}).substr(0, 30), "HTTP/1.1 299 Unknown\r\nServer: ");
  res.set_status(100);  // no body framing for 1xx
  EXPECT_EQ(written(res, {}),
            "HTTP/1.1 100 Continue\r\nServer: warrant\r\n"
            "Date: Thu, 01 Jan 1970 00:00:00 GMT\r\n\r\n");
}

TEST(HttpResponse, AppendsToExistingOutput) {
  http_response a;
  a.set_json("1");
  http_response b;
  b.set_json("22");
  byte_buffer out;
  write_response(out, a, {.date_line = date});
  const std::size_t first = out.size();
  write_response(out, b, {.date_line = date});
  EXPECT_EQ(out.view().substr(0, first), written(a, {}));
  EXPECT_EQ(out.view().substr(first), written(b, {}));
}

TEST(HttpResponse, LargeBody) {
  http_response res;
  const std::string body(100'000, 'z');
  res.body().append(body);
  const std::string out = written(res, {});
  EXPECT_NE(out.find("Content-Length: 100000\r\n"), std::string::npos);
  EXPECT_EQ(out.substr(out.size() - body.size()), body);
}

// write_response_moving_body must put exactly write_response's bytes on the wire, whether it
// moves the body (empty, large-enough output; head in the room) or falls back to copying.
struct moving_case {
  std::string name;
  std::size_t out_capacity;   // bytes in `out` beforehand (0: a fresh buffer)
  std::string out_before;     // bytes already in `out`
  bool head_request = false;
  std::string extra_header;   // value of one extra header
  std::size_t body_bytes = 40'000;
  bool expect_moved = true;
};

TEST(HttpResponse, MovingTheBodyWritesTheSameBytes) {
  const std::vector<moving_case> cases = {
      {"moved", 1 << 20, "", false, "v", 40'000, true},
      {"empty body", 1 << 20, "", false, "", 0, true},
      {"output not empty", 1 << 20, "earlier answer", false, "", 40'000, false},
      {"output too small", 0, "", false, "", 40'000, false},
      {"head request", 1 << 20, "", true, "", 40'000, false},
      {"head over the room", 1 << 20, "", false, std::string(2000, 'h'), 40'000, false},
  };
  for (const moving_case& c : cases) {
    SCOPED_TRACE(c.name);
    http_response res;
    res.reset();
    if (!c.extra_header.empty()) res.add_header("X-Extra", c.extra_header);
    res.body().prepare(64 * 1024);  // grown by earlier answers: the room survives the writing
    res.clear_body_leaving_head_room();
    const std::string body(c.body_bytes, 'b');
    res.body().append(body);
    const response_framing framing{1, true, c.head_request, date};
    const std::string expected = std::string(c.out_before) + written(res, framing);

    byte_buffer out;
    if (c.out_capacity > 0) out.prepare(c.out_capacity);
    out.append(c.out_before);
    const char* body_at = res.body().data();
    write_response_moving_body(out, res, framing);
    EXPECT_EQ(out.view(), expected);
    const bool moved = out.data() + (out.size() - body.size()) == body_at && !body.empty();
    if (!body.empty()) {
      EXPECT_EQ(moved, c.expect_moved);
    }
    if (c.expect_moved) {
      EXPECT_TRUE(res.body().empty());
    }
  }
}

TEST(HttpResponse, ResetClearsEverything) {
  http_response res;
  res.set_status(500);
  res.set_content_type("text/plain");
  res.add_header("X", "y");
  res.body().append("body");
  res.set_close();
  res.reset();
  EXPECT_EQ(res.status(), 200);
  EXPECT_EQ(res.content_type(), "application/json");
  EXPECT_EQ(res.extra_headers(), "");
  EXPECT_TRUE(res.body().empty());
  EXPECT_FALSE(res.close_requested());
}

TEST(HttpResponse, ErrorBodyShape) {
  http_response res;
  res.set_content_type("text/plain");
  res.body().append("old");
  res.set_error(404, "NOT_FOUND", "no such route");
  EXPECT_EQ(res.status(), 404);
  EXPECT_EQ(res.content_type(), "application/json");
  EXPECT_EQ(res.body().view(), R"({"error":"no such route","code":"NOT_FOUND"})");

  res.set_error(400, "BAD_REQUEST", "bad \"thing\"", "see docs\\api");
  EXPECT_EQ(res.status(), 400);
  EXPECT_EQ(res.body().view(), R"({"error":"bad \"thing\"","code":"BAD_REQUEST","hint":"see docs\\api"})");
  EXPECT_EQ(written(res, {.keep_alive = false}),
            "HTTP/1.1 400 Bad Request\r\nServer: warrant\r\n"
            "Date: Thu, 01 Jan 1970 00:00:00 GMT\r\n"
            "Content-Type: application/json\r\nContent-Length: 69\r\nConnection: close\r\n\r\n"
            R"({"error":"bad \"thing\"","code":"BAD_REQUEST","hint":"see docs\\api"})");
}

TEST(JsonString, Escaping) {
  using std::string_literals::operator""s;
  struct escape_case {
    std::string in;
    std::string out;
  };
  const std::vector<escape_case> cases = {
      {"", R"("")"},
      {"plain text", R"("plain text")"},
      {"say \"hi\"", R"("say \"hi\"")"},
      {"back\\slash", R"("back\\slash")"},
      {"a\nb\rc\td", R"("a\nb\rc\td")"},
      {"\x01\x1f", R"("\u0001\u001f")"},
      {"\b\f", R"("\u0008\u000c")"},
      {"nul"s + '\0' + "x", R"("nul\u0000x")"},
      {"\x7f", "\"\x7f\""},                                   // DEL needs no escape in JSON
      {"/", R"("/")"},                                        // nor does the solidus
      {"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\""},  // UTF-8 as is
      {"\"\\\n", R"("\"\\\n")"},
  };
  for (const escape_case& c : cases) {
    SCOPED_TRACE(c.out);
    EXPECT_EQ(json(c.in), c.out);
  }
}

TEST(JsonString, AppendsAfterExistingBytes) {
  byte_buffer out;
  out.append("x=");
  append_json_string(out, "q\"");
  EXPECT_EQ(out.view(), R"(x="q\"")");
}

TEST(HttpDateCache, ImfFixdate) {
  http_date_cache cache;
  EXPECT_EQ(cache.line(0), "Date: Thu, 01 Jan 1970 00:00:00 GMT\r\n");
  EXPECT_EQ(cache.line(784111777), "Date: Sun, 06 Nov 1994 08:49:37 GMT\r\n");  // RFC 9110's example
  EXPECT_EQ(cache.line(1709251199), "Date: Thu, 29 Feb 2024 23:59:59 GMT\r\n");
  EXPECT_EQ(cache.line(1709251200), "Date: Fri, 01 Mar 2024 00:00:00 GMT\r\n");
  // The same second again: the cached line, the same bytes.
  const std::string_view a = cache.line(1709251200);
  const std::string_view b = cache.line(1709251200);
  EXPECT_EQ(a.data(), b.data());
  EXPECT_EQ(a, b);
}

TEST(HttpReason, KnownAndUnknown) {
  EXPECT_EQ(http_reason(200), "OK");
  EXPECT_EQ(http_reason(411), "Length Required");
  EXPECT_EQ(http_reason(413), "Content Too Large");
  EXPECT_EQ(http_reason(414), "URI Too Long");
  EXPECT_EQ(http_reason(431), "Request Header Fields Too Large");
  EXPECT_EQ(http_reason(505), "HTTP Version Not Supported");
  EXPECT_EQ(http_reason(599), "Unknown");
  EXPECT_EQ(http_continue_line, "HTTP/1.1 100 Continue\r\n\r\n");
}

}  // namespace
}  // namespace warrant::net

// tests/net/http_parser_test.cc: net/http_parser.* — valid requests, every split point,
// arbitrary chunking and pipelining. Limits and malformed input: http_parser_errors_test.cc.
#include "net/http_parser.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <ostream>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "net/byte_buffer.h"

namespace warrant::net {
namespace {

// An owned copy of a parsed request, so results from different buffers can be compared.
struct snapshot {
  http_method method = http_method::other;
  std::string method_name, target, path, query, body;
  int version_minor = 0;
  bool keep_alive = false;
  bool expect_continue = false;
  std::size_t content_length = 0;
  std::size_t header_bytes = 0;
  std::vector<std::pair<std::string, std::string>> headers;
  bool operator==(const snapshot&) const = default;
};

void PrintTo(const snapshot& s, std::ostream* os) {
  *os << s.method_name << " " << s.target << " (path=" << s.path << " query=" << s.query << ") HTTP/1."
      << s.version_minor << " keep_alive=" << s.keep_alive << " headers=" << s.headers.size()
      << " body=" << s.body.size();
}

snapshot snap(const http_request& r) {
  snapshot s{r.method, std::string(r.method_name), std::string(r.target), std::string(r.path),
             std::string(r.query), std::string(r.body), r.version_minor, r.keep_alive, r.expect_continue,
             r.content_length, r.header_bytes, {}};
  for (std::size_t i = 0; i < r.header_count; ++i) {
    s.headers.emplace_back(std::string(r.headers[i].name), std::string(r.headers[i].value));
  }
  return s;
}

bool inside(std::string_view v, std::string_view buf) {
  return v.empty() || (v.data() >= buf.data() && v.data() + v.size() <= buf.data() + buf.size());
}

// Every view of a complete request points into the buffer it was parsed from.
void expect_views_inside(const http_request& r, std::string_view buf) {
  EXPECT_TRUE(inside(r.method_name, buf));
  EXPECT_TRUE(inside(r.target, buf));
  // An absolute-form target without a path gets the static path "/".
  EXPECT_TRUE(inside(r.path, buf) || (r.path == "/" && r.target.front() != '/'));
  EXPECT_TRUE(inside(r.query, buf));
  EXPECT_TRUE(inside(r.body, buf));
  for (std::size_t i = 0; i < r.header_count; ++i) {
    EXPECT_TRUE(inside(r.headers[i].name, buf));
    EXPECT_TRUE(inside(r.headers[i].value, buf));
  }
}

struct outcome {
  parse_status status = parse_status::need_more;
  http_errc error = http_errc::none;
  std::size_t consumed = 0;
  snapshot req;
};

outcome parse_once(std::string_view data, const http_limits& limits = {}) {
  http_parser p(limits);
  http_request req;
  const parse_result r = p.parse(data, req);
  outcome o{r.status, r.error, r.consumed, {}};
  if (r.status == parse_status::complete) {
    expect_views_inside(req, data);
    o.req = snap(req);
  }
  return o;
}

// A heap copy of exactly `n` bytes, so ASan reports any read past the bytes handed over.
std::unique_ptr<char[]> exact_copy(std::string_view s, std::size_t n) {
  auto p = std::make_unique<char[]>(n == 0 ? 1 : n);
  std::memcpy(p.get(), s.data(), n);
  return p;
}

// ---- valid requests -----------------------------------------------------------------------

struct valid_case {
  const char* name;
  std::string raw;
  http_method method;
  const char* path;
  const char* query;
  int version_minor;
  bool keep_alive;
  bool expect_continue;
  const char* body;
};

const std::vector<valid_case>& valid_cases() {
  static const std::vector<valid_case> cases = {
      {"get", "GET /index HTTP/1.1\r\nHost: example.com\r\n\r\n", http_method::get, "/index", "", 1, true, false, ""},
      {"query", "GET /search?q=a%20b&n=1 HTTP/1.1\r\nHost: h\r\n\r\n", http_method::get, "/search", "q=a%20b&n=1",
       1, true, false, ""},
      {"empty query", "GET /p? HTTP/1.1\r\nHost: h\r\n\r\n", http_method::get, "/p", "", 1, true, false, ""},
      {"post body",
       "POST /items HTTP/1.1\r\nHost: h\r\nContent-Type: application/json\r\nContent-Length: 13\r\n\r\n"
       "{\"a\":\"hello\"}",
       http_method::post, "/items", "", 1, true, false, "{\"a\":\"hello\"}"},
      {"head", "HEAD /x HTTP/1.1\r\nHost: h\r\n\r\n", http_method::head, "/x", "", 1, true, false, ""},
      {"put", "PUT /x HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\n\r\nok", http_method::put, "/x", "", 1, true,
       false, "ok"},
      {"patch", "PATCH /x HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n", http_method::patch, "/x", "", 1, true,
       false, ""},
      {"delete", "DELETE /x/1 HTTP/1.1\r\nHost: h\r\n\r\n", http_method::del, "/x/1", "", 1, true, false, ""},
      {"options star", "OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n", http_method::options, "*", "", 1, true, false, ""},
      {"unknown method", "PURGE /x HTTP/1.1\r\nHost: h\r\n\r\n", http_method::other, "/x", "", 1, true, false, ""},
      {"http/1.0 closes", "GET / HTTP/1.0\r\n\r\n", http_method::get, "/", "", 0, false, false, ""},
      {"http/1.0 keep-alive", "GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", http_method::get, "/", "", 0, true,
       false, ""},
      {"http/1.0 keep-alive list", "GET / HTTP/1.0\r\nConnection: foo, keep-alive\r\n\r\n", http_method::get, "/", "",
       0, true, false, ""},
      {"http/1.0 keep-alive then close", "GET / HTTP/1.0\r\nConnection: keep-alive, close\r\n\r\n", http_method::get,
       "/", "", 0, false, false, ""},
      {"connection close", "GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n", http_method::get, "/", "", 1,
       false, false, ""},
      {"connection close mixed case", "GET / HTTP/1.1\r\nhost: h\r\nCONNECTION: Upgrade ,  CLOSE\r\n\r\n",
       http_method::get, "/", "", 1, false, false, ""},
      {"expect continue",
       "POST /u HTTP/1.1\r\nHost: h\r\nExpect: 100-Continue\r\nContent-Length: 3\r\n\r\nabc", http_method::post, "/u",
       "", 1, true, true, "abc"},
      {"expect continue ignored on 1.0", "POST /u HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 1\r\n\r\nz",
       http_method::post, "/u", "", 0, false, false, "z"},
      {"absolute form", "GET http://example.com:8080/a/b?c=d HTTP/1.1\r\nHost: example.com\r\n\r\n", http_method::get,
       "/a/b", "c=d", 1, true, false, ""},
      {"absolute form no path", "GET HTTPS://example.com HTTP/1.1\r\nHost: h\r\n\r\n", http_method::get, "/", "", 1,
       true, false, ""},
      {"absolute form query only", "GET http://h?x=1 HTTP/1.1\r\nHost: h\r\n\r\n", http_method::get, "/", "x=1", 1,
       true, false, ""},
      {"duplicate identical content-length",
       "POST /d HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\ncontent-length: 3\r\n\r\nxyz", http_method::post, "/d", "",
       1, true, false, "xyz"},
      {"leading empty lines", "\r\n\r\n\nGET /l HTTP/1.1\r\nHost: h\r\n\r\n", http_method::get, "/l", "", 1, true,
       false, ""},
      {"obs-text in value", "GET / HTTP/1.1\r\nHost: h\r\nX-Name: caf\xc3\xa9\r\n\r\n", http_method::get, "/", "", 1,
       true, false, ""},
      {"empty host", "GET / HTTP/1.1\r\nHost:\r\n\r\n", http_method::get, "/", "", 1, true, false, ""},
  };
  return cases;
}

TEST(HttpParser, ValidRequests) {
  for (const valid_case& c : valid_cases()) {
    SCOPED_TRACE(c.name);
    const outcome o = parse_once(c.raw);
    ASSERT_EQ(o.status, parse_status::complete);
    EXPECT_EQ(o.error, http_errc::none);
    EXPECT_EQ(o.consumed, c.raw.size());
    EXPECT_EQ(o.req.method, c.method);
    EXPECT_EQ(o.req.path, c.path);
    EXPECT_EQ(o.req.query, c.query);
    EXPECT_EQ(o.req.version_minor, c.version_minor);
    EXPECT_EQ(o.req.keep_alive, c.keep_alive);
    EXPECT_EQ(o.req.expect_continue, c.expect_continue);
    EXPECT_EQ(o.req.body, c.body);
    EXPECT_EQ(o.req.content_length, std::string_view(c.body).size());
  }
}

TEST(HttpParser, RequestFieldsAndHeaderLookup) {
  const std::string raw =
      "PURGE http://h/a?b HTTP/1.1\r\nHost: h\r\nX-Pad: \t value with  inner space \t \r\nX-Empty:\r\n"
      "x-pad: second\r\n\r\n";
  http_parser p;
  http_request req;
  const parse_result r = p.parse(raw, req);
  ASSERT_EQ(r.status, parse_status::complete);
  EXPECT_EQ(req.method_name, "PURGE");
  EXPECT_EQ(req.target, "http://h/a?b");
  EXPECT_EQ(req.header_count, 4);
  EXPECT_EQ(req.header_bytes, raw.size());
  EXPECT_EQ(req.headers[1].name, "X-Pad");
  EXPECT_EQ(req.headers[1].value, "value with  inner space");  // OWS trimmed, inner kept
  EXPECT_EQ(req.header("x-pad"), "value with  inner space");   // first of the duplicates
  EXPECT_EQ(req.header("X-PAD"), "value with  inner space");
  EXPECT_TRUE(req.has_header("x-empty"));
  EXPECT_EQ(req.header("X-Empty"), "");
  EXPECT_FALSE(req.has_header("X-Missing"));
  EXPECT_EQ(req.header("X-Missing"), "");
  EXPECT_FALSE(req.has_header("X-Pa"));
  EXPECT_TRUE(p.headers_done());
  EXPECT_EQ(p.expected_bytes(), raw.size());
}

TEST(HttpParser, MethodNames) {
  for (http_method m : {http_method::get, http_method::head, http_method::post, http_method::put, http_method::patch,
                        http_method::del, http_method::options}) {
    EXPECT_EQ(http_method_from(http_method_name(m)), m);
  }
  EXPECT_EQ(http_method_from("get"), http_method::other);  // methods are case-sensitive
  EXPECT_EQ(http_method_from(""), http_method::other);
  EXPECT_EQ(http_method_name(http_method::other), "OTHER");
}

// ---- split points -------------------------------------------------------------------------

// Feeds `raw` prefix by prefix (each length 0..N) to one parser, every prefix in a fresh
// exact-size buffer (the connection's buffer may move between calls), and checks need_more
// until the full length, then the same result as a one-shot parse.
void check_every_split(const std::string& raw) {
  const outcome whole = parse_once(raw);
  ASSERT_EQ(whole.status, parse_status::complete);
  ASSERT_EQ(whole.consumed, raw.size());
  const std::size_t header_end = raw.size() - whole.req.body.size();
  http_parser p;
  http_request req;
  for (std::size_t n = 0; n < raw.size(); ++n) {
    auto buf = exact_copy(raw, n);
    const parse_result r = p.parse({buf.get(), n}, req);
    ASSERT_EQ(r.status, parse_status::need_more) << "prefix " << n;
    ASSERT_EQ(p.headers_done(), n >= header_end) << "prefix " << n;
    if (p.headers_done()) {
      ASSERT_EQ(p.expected_bytes(), raw.size());
    }
  }
  auto buf = exact_copy(raw, raw.size());
  const std::string_view data(buf.get(), raw.size());
  const parse_result r = p.parse(data, req);
  ASSERT_EQ(r.status, parse_status::complete);
  EXPECT_EQ(r.consumed, raw.size());
  expect_views_inside(req, data);
  EXPECT_EQ(snap(req), whole.req);
}

TEST(HttpParser, EverySplitPoint) {
  for (const valid_case& c : valid_cases()) {
    SCOPED_TRACE(c.name);
    check_every_split(c.raw);
  }
}

// A connection's view: bytes arrive in chunks of arbitrary size into a growing buffer; each
// complete request is consumed from the front. Returns the requests in order.
std::vector<snapshot> parse_stream(const std::string& stream, std::mt19937& rng, std::size_t chunk_max) {
  std::vector<snapshot> out;
  byte_buffer in;
  http_parser p;
  http_request req;
  std::size_t fed = 0;
  std::uniform_int_distribution<std::size_t> chunk(1, chunk_max);
  while (fed < stream.size() || !in.empty()) {
    const std::size_t n = std::min(chunk(rng), stream.size() - fed);
    in.append(stream.data() + fed, n);
    fed += n;
    while (!in.empty()) {
      const parse_result r = p.parse(in.view(), req);
      EXPECT_NE(r.status, parse_status::error);
      if (r.status != parse_status::complete) break;
      expect_views_inside(req, in.view());
      out.push_back(snap(req));
      in.consume(r.consumed);
      p.reset();
    }
    if (fed == stream.size() && !in.empty()) break;  // an incomplete tail: caller will notice
  }
  return out;
}

TEST(HttpParser, ArbitraryChunkSizes) {
  std::string stream;
  std::vector<snapshot> expected;
  for (const valid_case& c : valid_cases()) {
    stream += c.raw;
    expected.push_back(parse_once(c.raw).req);
  }
  std::mt19937 rng(20240601);
  for (std::size_t chunk_max : {1, 2, 7, 64, 300, 5000}) {
    SCOPED_TRACE(chunk_max);
    for (int round = 0; round < 20; ++round) EXPECT_EQ(parse_stream(stream, rng, chunk_max), expected);
  }
}

// ---- pipelining ---------------------------------------------------------------------------

TEST(HttpParser, PipelinedBatch) {
  const std::vector<std::string> parts = {
      "GET /a HTTP/1.1\r\nHost: h\r\n\r\n",
      "POST /b HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhello",
      "\r\nHEAD /c?x HTTP/1.1\r\nHost: h\r\n\r\n",  // an empty line between requests is allowed
      "POST /d HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n",
      "GET /e HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n",
  };
  std::string batch;
  for (const std::string& s : parts) batch += s;
  http_parser p;
  http_request req;
  std::size_t offset = 0;
  std::vector<std::string> paths;
  for (const std::string& part : parts) {
    const parse_result r = p.parse(std::string_view(batch).substr(offset), req);
    ASSERT_EQ(r.status, parse_status::complete);
    EXPECT_EQ(r.consumed, part.size());
    expect_views_inside(req, std::string_view(batch).substr(offset, r.consumed));
    paths.emplace_back(req.path);
    if (req.path == "/b") {
      EXPECT_EQ(req.body, "hello");
    }
    offset += r.consumed;
    p.reset();
  }
  EXPECT_EQ(offset, batch.size());
  EXPECT_EQ(paths, (std::vector<std::string>{"/a", "/b", "/c", "/d", "/e"}));
  EXPECT_EQ(p.parse(std::string_view(batch).substr(offset), req).status, parse_status::need_more);
}

TEST(HttpParser, PipelinedBatchStopsAtBadRequest) {
  const std::string good = "GET /a HTTP/1.1\r\nHost: h\r\n\r\n";
  const std::string batch = good + "GET /b HTTP/9.9\r\nHost: h\r\n\r\n" + good;
  http_parser p;
  http_request req;
  parse_result r = p.parse(batch, req);
  ASSERT_EQ(r.status, parse_status::complete);
  EXPECT_EQ(r.consumed, good.size());
  p.reset();
  r = p.parse(std::string_view(batch).substr(r.consumed), req);
  EXPECT_EQ(r.status, parse_status::error);
  EXPECT_EQ(r.error, http_errc::unsupported_version);
}

}  // namespace
}  // namespace warrant::net

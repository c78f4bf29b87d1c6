// tests/fuzz/http_parser_fuzz.cc: libFuzzer target for net/http_parser.*.
//
// For every input, parses the stream of pipelined requests twice: once with each request
// handed over whole, once fed incrementally (split at points derived from the data, every
// prefix in a fresh exact-size heap buffer, as a connection whose buffer moves would).
// Both must agree on every request (status, error, consumed, method, path, query, header
// count, body) and every view must lie inside the buffer it was parsed from.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string_view>

#include "net/http_parser.h"
#include "tests/fuzz/fuzz_check.h"

namespace {

using warrant::net::http_limits;
using warrant::net::http_parser;
using warrant::net::http_request;
using warrant::net::parse_result;
using warrant::net::parse_status;

// Default limits, and small ones so the fuzzer reaches every limit with short inputs.
// header_bytes_max stays above url_bytes_max + the request line's slack (a block can
// only be as long as its first line).
http_limits limits_for(std::uint8_t selector) {
  if (selector & 1) return {};
  return {.header_bytes_max = 256, .headers_max = 8, .url_bytes_max = 64, .body_bytes_max = 64};
}

bool inside(std::string_view v, std::string_view buf) {
  return v.empty() || (v.data() >= buf.data() && v.data() + v.size() <= buf.data() + buf.size());
}

void check_views(const http_request& r, std::string_view buf) {
  FUZZ_CHECK(inside(r.method_name, buf));
  FUZZ_CHECK(inside(r.target, buf));
  // An absolute-form target without a path gets the static path "/".
  FUZZ_CHECK(inside(r.path, buf) || (r.path == "/" && !r.target.empty() && r.target.front() != '/'));
  FUZZ_CHECK(inside(r.query, buf));
  FUZZ_CHECK(inside(r.body, buf));
  FUZZ_CHECK(r.header_count <= warrant::net::http_header_slots);
  for (std::size_t i = 0; i < r.header_count; ++i) {
    FUZZ_CHECK(inside(r.headers[i].name, buf));
    FUZZ_CHECK(inside(r.headers[i].value, buf));
  }
  FUZZ_CHECK(r.body.size() == r.content_length);
}

// What one request parse produced, comparable across buffers.
struct summary {
  parse_status status;
  warrant::net::http_errc error;
  std::size_t consumed;
  warrant::net::http_method method;
  std::string_view method_name, path, query, body;
  std::size_t header_count;
  bool keep_alive;

  bool same_as(const summary& o) const {
    if (status != o.status || error != o.error || consumed != o.consumed) return false;
    if (status != parse_status::complete) return true;
    return method == o.method && method_name == o.method_name && path == o.path && query == o.query &&
           body == o.body && header_count == o.header_count && keep_alive == o.keep_alive;
  }
};

summary summarize(const parse_result& r, const http_request& req) {
  summary s{r.status, r.error, r.consumed, {}, {}, {}, {}, {}, 0, false};
  if (r.status == parse_status::complete) {
    s = {r.status, r.error, r.consumed, req.method, req.method_name, req.path,
         req.query, req.body, req.header_count, req.keep_alive};
  }
  return s;
}

void check_result(const parse_result& r, std::string_view data) {
  if (r.status == parse_status::complete) {
    FUZZ_CHECK(r.consumed > 0);
    FUZZ_CHECK(r.consumed <= data.size());
    FUZZ_CHECK(r.error == warrant::net::http_errc::none);
  } else {
    FUZZ_CHECK(r.consumed == 0);
    FUZZ_CHECK((r.status == parse_status::error) == (r.error != warrant::net::http_errc::none));
  }
  if (r.status == parse_status::error) {
    const auto info = warrant::net::http_error_status(r.error);
    FUZZ_CHECK(info.status >= 400 && info.status < 600);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  const http_limits limits = limits_for(data[0]);
  const std::uint8_t split_seed = data[1];
  const std::string_view stream(reinterpret_cast<const char*>(data) + 2, size - 2);

  http_parser whole(limits);
  http_parser pieces(limits);
  http_request req_whole;
  http_request req_pieces;
  std::size_t offset = 0;
  for (int n = 0; n < 64 && offset < stream.size(); ++n) {
    const std::string_view rest = stream.substr(offset);

    // One shot: everything that is left.
    const parse_result a = whole.parse(rest, req_whole);
    check_result(a, rest);
    if (a.status == parse_status::complete) check_views(req_whole, rest);

    // Incrementally: prefixes growing by data-derived steps, each in its own exact buffer.
    parse_result b;
    std::unique_ptr<char[]> buf;
    std::string_view view;
    std::size_t len = 0;
    std::uint32_t step_state = split_seed + 1u + static_cast<std::uint32_t>(n) * 7919u;
    while (true) {
      step_state = step_state * 1103515245u + 12345u;
      const std::size_t step = 1 + (step_state >> 16) % (1 + (rest.size() >> ((split_seed & 3) + 1)));
      len = std::min(rest.size(), len + step);
      buf = std::make_unique<char[]>(len);
      std::memcpy(buf.get(), rest.data(), len);
      view = std::string_view(buf.get(), len);
      b = pieces.parse(view, req_pieces);
      check_result(b, view);
      if (b.status != parse_status::need_more || len == rest.size()) break;
    }
    if (b.status == parse_status::complete) check_views(req_pieces, view);

    FUZZ_CHECK(summarize(a, req_whole).same_as(summarize(b, req_pieces)));
    if (a.status != parse_status::complete) break;
    offset += a.consumed;
    whole.reset();
    pieces.reset();
  }
  return 0;
}

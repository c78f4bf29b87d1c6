// tests/fuzz/raw_head_fuzz.cc: libFuzzer target for engine/guard/raw_head.* (the API key read
// from a raw head before parsing, for the guard's warming).
//
// For every input: the answer is a view inside the input, holds no line break and no
// surrounding whitespace. And whenever the HTTP parser accepts the input's first request, the
// answer is the key presented_key (engine/guard/auth.cc) would take from the parsed request:
// the first x-api-key header if not empty, else the first Authorization header's Bearer token
// (the header choice restated here on the parsed headers, so that this target needs no
// tenancy code; the Bearer rule is the shared bearer_token).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "engine/guard/raw_head.h"
#include "net/http_parser.h"
#include "tests/fuzz/fuzz_check.h"

namespace {

// presented_key's choice of header (engine/guard/auth.cc), on the parsed request.
std::string_view key_of_parsed(const warrant::net::http_request& req) {
  const std::string_view key = req.header("x-api-key");
  if (!key.empty()) return key;
  return warrant::engine::bearer_token(req.header("authorization"));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  const std::string_view key = warrant::engine::presented_key_in_head(in);
  if (!key.empty()) {
    FUZZ_CHECK(key.data() >= in.data() && key.data() + key.size() <= in.data() + in.size());
    FUZZ_CHECK(key.find('\n') == std::string_view::npos);
    FUZZ_CHECK(key.front() != ' ' && key.front() != '\t' && key.back() != ' ' && key.back() != '\t');
  }
  warrant::net::http_parser parser;
  warrant::net::http_request req;
  const warrant::net::parse_result r = parser.parse(in, req);
  if (r.status == warrant::net::parse_status::complete) FUZZ_CHECK(key == key_of_parsed(req));
  return 0;
}

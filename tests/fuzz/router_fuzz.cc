// tests/fuzz/router_fuzz.cc: libFuzzer target for net/router.* — arbitrary methods and
// paths against a fixed router. Checks the match invariants: a found route really fits
// the path, parameters point into the path and are never empty, a 405 names at least one
// method and never the requested one.
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "net/router.h"
#include "tests/fuzz/fuzz_check.h"

namespace {

using warrant::net::http_method;
using warrant::net::match_status;
using warrant::net::route_match;
using warrant::net::router;

const router& fixed_router() {
  static const router* r = [] {
    auto* rt = new router();
    auto noop = [](warrant::net::request_context&) {};
    rt->add(http_method::get, "/", noop);
    rt->add(http_method::get, "/health", noop);
    rt->add(http_method::get, "/v1/items", noop);
    rt->add(http_method::post, "/v1/items", noop);
    rt->add(http_method::get, "/v1/items/{id}", noop);
    rt->add(http_method::put, "/v1/items/{id}", noop);
    rt->add(http_method::del, "/v1/items/{id}", noop);
    rt->add(http_method::get, "/v1/items/special", noop);
    rt->add(http_method::get, "/v1/items/{id}/tags/{tag}", noop);
    rt->add(http_method::get, "/a/b", noop);
    rt->add(http_method::get, "/a/{x}/c", noop);
    rt->add(http_method::post, "/a/{x}/{y}", noop);
    rt->add(http_method::head, "/h", noop);
    rt->add(http_method::options, "/dir/", noop);
    rt->add(http_method::get, "/{a}/{b}/{c}/{d}/{e}/{f}/{g}/{h}", noop);
    return rt;
  }();
  return *r;
}

bool inside(std::string_view v, std::string_view buf) {
  return v.data() >= buf.data() && v.data() + v.size() <= buf.data() + buf.size();
}

// Does `pattern` fit `path` segment by segment ({name} matches any non-empty segment)?
bool pattern_fits(std::string_view pattern, std::string_view path) {
  while (true) {
    if (pattern.empty() || path.empty() || pattern.front() != '/' || path.front() != '/') return false;
    pattern.remove_prefix(1);
    path.remove_prefix(1);
    const std::size_t ps = pattern.find('/');
    const std::size_t qs = path.find('/');
    const std::string_view pseg = pattern.substr(0, ps);
    const std::string_view qseg = path.substr(0, qs);
    const bool param = pseg.size() > 2 && pseg.front() == '{' && pseg.back() == '}';
    if (param ? qseg.empty() : pseg != qseg) return false;
    if (ps == std::string_view::npos || qs == std::string_view::npos) return ps == qs;
    pattern.remove_prefix(ps);
    path.remove_prefix(qs);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const auto method = static_cast<http_method>(data[0] % warrant::net::http_method_count);
  const std::string_view path(reinterpret_cast<const char*>(data) + 1, size - 1);
  const router& r = fixed_router();
  const route_match m = r.match(method, path);
  switch (m.status) {
    case match_status::found: {
      FUZZ_CHECK(m.matched != nullptr);
      FUZZ_CHECK(m.matched->method == method ||
                 (method == http_method::head && m.matched->method == http_method::get));
      FUZZ_CHECK(pattern_fits(m.matched->pattern, path));
      FUZZ_CHECK(m.params.count <= warrant::net::route_params_max);
      for (std::size_t i = 0; i < m.params.count; ++i) {
        FUZZ_CHECK(!m.params.values[i].empty());
        FUZZ_CHECK(inside(m.params.values[i], path));
        FUZZ_CHECK(m.params.values[i].find('/') == std::string_view::npos);
        FUZZ_CHECK(m.params.get(m.params.names[i]) == m.params.values[i]);
      }
      break;
    }
    case match_status::method_not_allowed: {
      FUZZ_CHECK(m.matched == nullptr);
      FUZZ_CHECK(m.allowed_mask != 0);
      FUZZ_CHECK((m.allowed_mask & (1u << static_cast<unsigned>(method))) == 0);
      std::array<char, router::allow_header_bytes_max> buf{};
      FUZZ_CHECK(!router::allow_header(m.allowed_mask, buf).empty());
      // Every allowed method has a route that fits the path.
      std::uint32_t fitting = 0;
      for (const auto& route : r.routes()) {
        if (pattern_fits(route->pattern, path)) fitting |= 1u << static_cast<unsigned>(route->method);
      }
      if (fitting & (1u << static_cast<unsigned>(http_method::get))) fitting |= 1u << static_cast<unsigned>(http_method::head);
      FUZZ_CHECK(fitting == m.allowed_mask);
      break;
    }
    case match_status::not_found:
      FUZZ_CHECK(m.matched == nullptr);
      FUZZ_CHECK(m.allowed_mask == 0);
      break;
  }
  // No route may fit a path the router did not find (for any method, if not found).
  if (m.status == match_status::not_found) {
    for (const auto& route : r.routes()) FUZZ_CHECK(!pattern_fits(route->pattern, path));
  }
  return 0;
}

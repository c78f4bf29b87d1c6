// tests/net/router_test.cc: net/router.* — static and parameter routes, precedence and
// backtracking, 404 versus 405 with Allow, HEAD through GET, registration errors.
#include "net/router.h"

#include <gtest/gtest.h>

#include <stdexcept>
#include <string>
#include <vector>

namespace warrant::net {
namespace {

std::string pattern_of(const route_match& m) { return m.matched ? m.matched->pattern : std::string("<none>"); }

std::string allow_of(const route_match& m) {
  std::array<char, router::allow_header_bytes_max> buf{};
  return std::string(router::allow_header(m.allowed_mask, buf));
}

void noop(request_context&) {}

class RouterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    r.add(http_method::get, "/", noop);
    r.add(http_method::get, "/health", noop);
    r.add(http_method::get, "/v1/items", noop);
    r.add(http_method::post, "/v1/items", noop);
    r.add(http_method::get, "/v1/items/{id}", noop);
    r.add(http_method::put, "/v1/items/{id}", noop);
    r.add(http_method::del, "/v1/items/{id}", noop);
    r.add(http_method::get, "/v1/items/special", noop);
    r.add(http_method::get, "/v1/items/{id}/tags/{tag}", noop);
    r.add(http_method::get, "/v1/ws/{ws}/docs/{doc}/rev/{rev}", noop);
    // Backtracking: "/a/b" exists as a literal, "/a/{x}/c" must still match "/a/b/c".
    r.add(http_method::get, "/a/b", noop);
    r.add(http_method::get, "/a/{x}/c", noop);
    r.add(http_method::post, "/m/{x}", noop);
    r.add(http_method::get, "/m/lit", noop);
    r.add(http_method::head, "/only-head", noop);
    r.add(http_method::options, "/dir/", noop);
  }
  router r;
};

TEST_F(RouterTest, StaticRoutes) {
  struct static_case {
    http_method method;
    const char* path;
    const char* pattern;
  };
  const std::vector<static_case> cases = {
      {http_method::get, "/", "/"},
      {http_method::get, "/health", "/health"},
      {http_method::get, "/v1/items", "/v1/items"},
      {http_method::post, "/v1/items", "/v1/items"},
      {http_method::get, "/v1/items/special", "/v1/items/special"},
      {http_method::head, "/only-head", "/only-head"},
      {http_method::options, "/dir/", "/dir/"},
  };
  for (const static_case& c : cases) {
    SCOPED_TRACE(c.path);
    const route_match m = r.match(c.method, c.path);
    ASSERT_EQ(m.status, match_status::found);
    EXPECT_EQ(pattern_of(m), c.pattern);
    EXPECT_EQ(m.matched->method, c.method);
    EXPECT_EQ(m.params.count, 0u);
  }
}

TEST_F(RouterTest, RouteIdsAreDenseAndPatternsKept) {
  const auto& routes = r.routes();
  ASSERT_EQ(routes.size(), 16u);
  for (std::size_t i = 0; i < routes.size(); ++i) EXPECT_EQ(routes[i]->id, i);
  EXPECT_EQ(routes[4]->pattern, "/v1/items/{id}");
}

TEST_F(RouterTest, ParamValuesAndNames) {
  const route_match m = r.match(http_method::get, "/v1/items/42");
  ASSERT_EQ(m.status, match_status::found);
  EXPECT_EQ(pattern_of(m), "/v1/items/{id}");
  ASSERT_EQ(m.params.count, 1u);
  EXPECT_EQ(m.params.names[0], "id");
  EXPECT_EQ(m.params.values[0], "42");
  EXPECT_EQ(m.params.get("id"), "42");
  EXPECT_EQ(m.params.get("nope"), "");
  // Values are raw: percent-encoding is left to the handler.
  EXPECT_EQ(r.match(http_method::put, "/v1/items/a%2Fb").params.get("id"), "a%2Fb");
}

TEST_F(RouterTest, MultipleParams) {
  route_match m = r.match(http_method::get, "/v1/items/7/tags/red");
  ASSERT_EQ(m.status, match_status::found);
  EXPECT_EQ(pattern_of(m), "/v1/items/{id}/tags/{tag}");
  ASSERT_EQ(m.params.count, 2u);
  EXPECT_EQ(m.params.get("id"), "7");
  EXPECT_EQ(m.params.get("tag"), "red");

  m = r.match(http_method::get, "/v1/ws/w1/docs/d2/rev/3");
  ASSERT_EQ(m.status, match_status::found);
  ASSERT_EQ(m.params.count, 3u);
  EXPECT_EQ(m.params.names[0], "ws");
  EXPECT_EQ(m.params.names[1], "doc");
  EXPECT_EQ(m.params.names[2], "rev");
  EXPECT_EQ(m.params.values[0], "w1");
  EXPECT_EQ(m.params.values[1], "d2");
  EXPECT_EQ(m.params.values[2], "3");
}

TEST_F(RouterTest, LiteralBeatsParam) {
  route_match m = r.match(http_method::get, "/v1/items/special");
  ASSERT_EQ(m.status, match_status::found);
  EXPECT_EQ(pattern_of(m), "/v1/items/special");
  EXPECT_EQ(m.params.count, 0u);
  // "special" exists only for GET: a PUT falls back to the parameter route.
  m = r.match(http_method::put, "/v1/items/special");
  ASSERT_EQ(m.status, match_status::found);
  EXPECT_EQ(pattern_of(m), "/v1/items/{id}");
  EXPECT_EQ(m.params.get("id"), "special");
}

TEST_F(RouterTest, Backtracking) {
  route_match m = r.match(http_method::get, "/a/b/c");
  ASSERT_EQ(m.status, match_status::found);
  EXPECT_EQ(pattern_of(m), "/a/{x}/c");
  EXPECT_EQ(m.params.get("x"), "b");

  m = r.match(http_method::get, "/a/b");
  ASSERT_EQ(m.status, match_status::found);
  EXPECT_EQ(pattern_of(m), "/a/b");

  // "/m/lit" has only GET; POST backtracks to "/m/{x}".
  m = r.match(http_method::post, "/m/lit");
  ASSERT_EQ(m.status, match_status::found);
  EXPECT_EQ(pattern_of(m), "/m/{x}");
  EXPECT_EQ(m.params.get("x"), "lit");

  // A failed literal branch leaves no parameter behind.
  m = r.match(http_method::get, "/v1/items/special/tags/x");
  ASSERT_EQ(m.status, match_status::found);
  EXPECT_EQ(m.params.count, 2u);
  EXPECT_EQ(m.params.get("id"), "special");
  EXPECT_EQ(m.params.get("tag"), "x");
}

TEST_F(RouterTest, NotFound) {
  for (const char* path : {"/nope", "/v1", "/v1/items/1/tags", "/v1/items/1/other/x", "/a/b/d", "/health/x", "",
                           "health", "/a/b/c/d"}) {
    SCOPED_TRACE(path);
    const route_match m = r.match(http_method::get, path);
    EXPECT_EQ(m.status, match_status::not_found);
    EXPECT_EQ(m.matched, nullptr);
    EXPECT_EQ(m.allowed_mask, 0u);
  }
}

TEST_F(RouterTest, MethodNotAllowedWithAllow) {
  struct allow_case {
    http_method method;
    const char* path;
    const char* allow;
  };
  const std::vector<allow_case> cases = {
      {http_method::del, "/v1/items", "GET, HEAD, POST"},
      {http_method::post, "/v1/items/5", "GET, HEAD, PUT, DELETE"},
      {http_method::post, "/health", "GET, HEAD"},
      {http_method::get, "/only-head", "HEAD"},
      {http_method::get, "/dir/", "OPTIONS"},
      {http_method::other, "/v1/items", "GET, HEAD, POST"},
      // Both "/m/lit" (GET) and "/m/{x}" (POST) match the path: Allow lists them all.
      {http_method::patch, "/m/lit", "GET, HEAD, POST"},
      {http_method::put, "/a/b/c", "GET, HEAD"},
  };
  for (const allow_case& c : cases) {
    SCOPED_TRACE(c.path);
    const route_match m = r.match(c.method, c.path);
    ASSERT_EQ(m.status, match_status::method_not_allowed);
    EXPECT_EQ(m.matched, nullptr);
    EXPECT_EQ(allow_of(m), c.allow);
  }
}

TEST(RouterAllow, EveryMethod) {
  std::array<char, router::allow_header_bytes_max> buf{};
  EXPECT_EQ(router::allow_header(0xffffffffu, buf), "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS");
  EXPECT_EQ(router::allow_header(0, buf), "");
}

TEST_F(RouterTest, HeadAnsweredByGet) {
  route_match m = r.match(http_method::head, "/v1/items/9");
  ASSERT_EQ(m.status, match_status::found);
  EXPECT_EQ(m.matched->method, http_method::get);
  EXPECT_EQ(m.params.get("id"), "9");
  // An explicit HEAD route wins over GET.
  router own;
  own.add(http_method::get, "/x", noop);
  own.add(http_method::head, "/x", noop);
  m = own.match(http_method::head, "/x");
  ASSERT_EQ(m.status, match_status::found);
  EXPECT_EQ(m.matched->method, http_method::head);
  // GET is not answered by a HEAD route.
  EXPECT_EQ(r.match(http_method::get, "/only-head").status, match_status::method_not_allowed);
}

TEST_F(RouterTest, TrailingSlashAndEmptySegments) {
  // A trailing slash is an empty last segment: a different path.
  EXPECT_EQ(r.match(http_method::get, "/health/").status, match_status::not_found);
  EXPECT_EQ(r.match(http_method::get, "/v1/items/").status, match_status::not_found);  // {id} never empty
  EXPECT_EQ(r.match(http_method::options, "/dir").status, match_status::not_found);
  EXPECT_EQ(r.match(http_method::get, "//health").status, match_status::not_found);
  EXPECT_EQ(r.match(http_method::get, "/v1//items").status, match_status::not_found);
  EXPECT_EQ(r.match(http_method::get, "/v1/items//tags/x").status, match_status::not_found);
  EXPECT_EQ(r.match(http_method::get, "/v1/items/1/tags/").status, match_status::not_found);
}

std::string path_with_segments(std::size_t n, const char* seg = "s") {
  std::string p;
  for (std::size_t i = 0; i < n; ++i) p += std::string("/") + seg;
  return p;
}

TEST(RouterSegments, TooManySegments) {
  router r;
  const std::string longest = path_with_segments(route_segments_max);
  r.add(http_method::get, longest, noop);
  EXPECT_EQ(r.match(http_method::get, longest).status, match_status::found);
  EXPECT_EQ(r.match(http_method::get, longest + "/s").status, match_status::not_found);
  EXPECT_EQ(r.match(http_method::get, path_with_segments(10'000)).status, match_status::not_found);
  EXPECT_THROW(r.add(http_method::get, longest + "/s", noop), std::invalid_argument);
}

TEST(RouterSegments, DeepParamRouteMatchesEveryDepth) {
  router r;
  std::string pattern;
  for (std::size_t i = 0; i < route_params_max; ++i) pattern += "/{p" + std::to_string(i) + "}";
  r.add(http_method::get, pattern, noop);
  const std::string path = path_with_segments(route_params_max, "v");  // params point into it
  const route_match m = r.match(http_method::get, path);
  ASSERT_EQ(m.status, match_status::found);
  EXPECT_EQ(m.params.count, route_params_max);
  EXPECT_EQ(m.params.get("p7"), "v");
}

TEST(RouterRegistration, DuplicateAndMalformedThrow) {
  router r;
  r.add(http_method::get, "/x/{id}", noop);
  struct bad_pattern {
    http_method method;
    const char* pattern;
  };
  const std::vector<bad_pattern> cases = {
      {http_method::get, "/x/{id}"},          // duplicate
      {http_method::get, "/x/{other}"},       // same shape, different parameter name
      {http_method::get, ""},                 // empty
      {http_method::get, "x/y"},              // not absolute
      {http_method::get, "/{}"},              // empty parameter name
      {http_method::get, "/{id"},             // unbalanced
      {http_method::get, "/id}"},             // unbalanced
      {http_method::get, "/a{id}"},           // parameter inside a literal
      {http_method::get, "/{a}{b}"},          // two parameters in one segment
      {http_method::get, "/{a}/{a}"},         // the same name twice
      {http_method::other, "/fine"},          // no such method
      {http_method::get, "/{a}/{b}/{c}/{d}/{e}/{f}/{g}/{h}/{i}"},  // more than route_params_max
  };
  for (const bad_pattern& c : cases) {
    SCOPED_TRACE(c.pattern);
    EXPECT_THROW(r.add(c.method, c.pattern, noop), std::invalid_argument);
  }
  // Different method, same pattern: fine.
  EXPECT_NO_THROW(r.add(http_method::put, "/x/{id}", noop));
  // A failed registration added no route.
  EXPECT_EQ(r.routes().size(), 2u);
}

}  // namespace
}  // namespace warrant::net

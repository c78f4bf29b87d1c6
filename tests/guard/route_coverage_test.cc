// Every route warrantd serves is either one of the unprotected operations routes or goes
// through the guard with a rule from the access table — checked on the real route set, built
// the way tools/warrantd.cc builds it. And the table names no route that is not served.
#include <gtest/gtest.h>

#include <set>
#include <string>

#include "engine/app.h"
#include "engine/guard/access.h"
#include "engine/ops_routes.h"
#include "net/router.h"
#include "storage/data_dir.h"
#include "tests/storage/temp_dir.h"

namespace warrant::engine {
namespace {

const std::set<std::string> unprotected = {"/healthz", "/readyz", "/metrics", "/api/health"};

TEST(RouteCoverage, EveryRouteIsGuardedOrAnOperationsRoute) {
  storage::testing::temp_dir dir;
  storage::data_dir data = storage::data_dir::open(dir.sub("data"));
  app_options options;
  options.map_size_bytes = 64ull << 20;
  app engine_app(data, options);
  net::router routes;
  ops_state ops;
  register_ops_routes(routes, ops);
  engine_app.register_routes(routes);

  std::set<std::pair<net::http_method, std::string>> served;
  for (const auto& r : routes.routes()) {
    served.emplace(r->method, r->pattern);
    if (unprotected.count(r->pattern) != 0) {
      EXPECT_FALSE(engine_app.access_guard().guards(*r)) << r->pattern;
      EXPECT_EQ(find_route_access(r->method, r->pattern), nullptr) << r->pattern;
    } else {
      EXPECT_TRUE(engine_app.access_guard().guards(*r)) << net::http_method_name(r->method) << " " << r->pattern;
    }
  }
  for (const route_access& entry : route_access_table()) {
    EXPECT_EQ(served.count({entry.method, std::string(entry.pattern)}), 1u)
        << "the access table names a route nobody serves: " << entry.pattern;
  }
  engine_app.stop();
}

TEST(RouteCoverage, ARouteWithoutARuleIsRefusedAtStartUp) {
  tenancy_index idx;
  guard g(idx, guard_options{});
  net::router routes;
  EXPECT_THROW(g.route(routes, net::http_method::get, "/v1/unlisted", [](net::request_context&, const principal&) {}),
               std::logic_error);
  EXPECT_THROW(g.route(routes, net::http_method::get, "/v1/bad", access_rule{0, 0, true},
                       [](net::request_context&, const principal&) {}),
               std::logic_error)
      << "an operator-workspace rule must name its roles";
  EXPECT_NO_THROW(g.route(routes, net::http_method::get, "/v1/test/explicit", any_valid_key,
                          [](net::request_context&, const principal&) {}));
  ASSERT_EQ(routes.routes().size(), 1u);
  EXPECT_TRUE(g.guards(*routes.routes()[0]));
}

}  // namespace
}  // namespace warrant::engine

// The guard's admission allocates nothing per request (STYLE.md 4): authentication (format
// check, SHA-256, index probe), the rate limiter, the RateLimit headers, the access check and
// the 401/403/429 answers — counted with a replaced global operator new that counts only while
// a request is being admitted on this thread. The request runs through a real (not started)
// shard, the way the reactor calls a route.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <new>
#include <string>

#include "engine/guard/guard.h"
#include "engine/guard/identity_routes.h"
#include "net/http_parser.h"
#include "net/metrics.h"
#include "net/shard.h"

namespace {

thread_local bool counting = false;
thread_local std::size_t allocations = 0;

}  // namespace

// GCC 12 cannot see that every form of new and delete here agrees on malloc/free.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
void* operator new(std::size_t n) {
  if (counting) ++allocations;
  if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
  throw std::bad_alloc();
}
// The nothrow form too (shared libraries such as simdjson use it): every form of new and
// delete this binary sees must agree on malloc/free, or AddressSanitizer reports a mismatch.
void* operator new(std::size_t n, const std::nothrow_t&) noexcept {
  if (counting) ++allocations;
  return std::malloc(n == 0 ? 1 : n);
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
#pragma GCC diagnostic pop

namespace warrant::engine {
namespace {

struct hot_path_fixture {
  tenancy_index index;
  std::string admin_key;
  std::string viewer_key;
  std::string limited_key;

  hot_path_fixture() {
    index.stage_workspace(workspace{"default", "default", "default", 2000, 1});
    index.stage_workspace(workspace{"tiny", "tiny", "tiny", 1, 1});
    admin_key = add_key("default", "k-admin", role_platform_admin);
    viewer_key = add_key("default", "k-viewer", role_platform_viewer);
    limited_key = add_key("tiny", "k-tiny", role_platform_viewer);
    index.publish();
  }
  std::string add_key(const char* ws, const char* id, std::uint32_t roles) {
    generated_key g = generate_api_key();
    api_key_record k;
    k.id = id;
    k.workspace_id = ws;
    k.hash = g.hash;
    k.prefix = g.prefix;
    k.last4 = g.last4;
    k.roles = roles;
    index.stage_key(k);
    return g.text;
  }
};

// Runs one request through the router's handler as the shard would; returns the status and
// how many allocations it made.
struct run_result {
  int status = 0;
  std::size_t allocations = 0;
};

class harness {
 public:
  explicit harness(net::router& routes)
      : _routes(routes), _metrics(routes.routes().size()), _shard(0, config(), routes, _metrics, -1) {}

  static std::string request(const std::string& path, const std::string& key) {
    std::string text = "GET " + path + " HTTP/1.1\r\nHost: h\r\n";
    if (!key.empty()) text += "Authorization: Bearer " + key + "\r\n";
    return text + "\r\n";
  }

  // With `warming`: the guard is first warmed with `warm_bytes` as this connection's receive,
  // as the shard's receive hook does (guard.h, "Warming").
  run_result run(const std::string& path, const std::string& key, guard* warming = nullptr,
                 const std::string& warm_bytes = {}) {
    _text = request(path, key);
    net::http_parser parser;
    EXPECT_EQ(parser.parse(_text, _req).status, net::parse_status::complete);
    _res.reset();
    allocations = 0;
    counting = true;
    if (warming != nullptr) {
      const net::received_bytes received{0, 0, warm_bytes};
      warming->warm(0, &received, 1);
    }
    const net::route_match m = _routes.match(_req.method, _req.path);
    net::request_context ctx{_req, m.params, _res, _shard, 0, 0};
    m.matched->handler(ctx);
    counting = false;
    return {_res.status(), allocations};
  }
  const net::http_response& response() const { return _res; }

 private:
  static net::shard_config config() {
    net::shard_config c;
    c.connections_max = 4;
    c.task_queue_capacity = 16;
    return c;
  }
  net::router& _routes;
  net::shard_metrics _metrics;
  net::shard _shard;
  std::string _text;
  net::http_request _req;
  net::http_response _res;
};

TEST(GuardHotPath, TheCounterCounts) {
  allocations = 0;
  counting = true;
  auto* p = new std::string(100, 'x');
  counting = false;
  delete p;
  EXPECT_EQ(allocations, 2u);  // the string object and its characters
}

TEST(GuardHotPath, AdmissionAllocatesNothing) {
  hot_path_fixture f;
  guard_options options;
  options.auth_failures_per_minute = 3;
  guard g(f.index, options);
  net::router routes;
  register_identity_routes(routes, g);
  g.route(routes, net::http_method::get, "/v1/admin/workspaces", [](net::request_context& ctx, const principal&) {
    ctx.res.set_json("{}");
  });
  harness h(routes);

  // The first run of each kind warms the response buffers up (they keep their capacity).
  const std::string unknown = generate_api_key().text;
  struct call {
    std::string path, key;
    int status;
  };
  const std::vector<call> calls = {
      {"/api/me", f.admin_key, 200},
      {"/v1/admin/workspaces", f.admin_key, 200},
      {"/v1/admin/workspaces", f.viewer_key, 403},
      {"/api/me", f.limited_key, 200},
      {"/api/me", f.limited_key, 429},  // 1 per minute
      {"/api/me", unknown, 401},
      {"/api/me", "", 401},
      {"/api/me", "wrnt_malformed", 401},  // 3 failures: the address's budget is spent
      {"/api/me", unknown, 429},
  };
  for (const call& c : calls) h.run(c.path, c.key);  // warm-up (spends quotas too)
  for (int round = 0; round < 3; ++round) {
    for (const call& c : calls) {
      if (c.key == f.limited_key || c.status == 401) continue;  // their state changed above
      const run_result r = h.run(c.path, c.key);
      EXPECT_EQ(r.status, c.status) << c.path;
      EXPECT_EQ(r.allocations, 0u) << c.path << " answered " << r.status;
    }
    const run_result limited = h.run("/api/me", f.limited_key);
    EXPECT_EQ(limited.status, 429);
    EXPECT_EQ(limited.allocations, 0u);
    const run_result failed = h.run("/api/me", unknown);
    EXPECT_EQ(failed.status, 429) << "the (unknown) test address is over its budget";
    EXPECT_EQ(failed.allocations, 0u);
  }
  EXPECT_NE(h.response().extra_headers().find("Retry-After"), std::string_view::npos);
}

// Warmed (the shard's receive hook ran first): the same answers, still no allocation, and
// the key that authenticates is always the one the request presents, whatever was warmed.
TEST(GuardHotPath, WarmedAdmissionAllocatesNothingAndAuthenticatesThePresentedKey) {
  hot_path_fixture f;
  guard g(f.index, guard_options{});
  net::router routes;
  register_identity_routes(routes, g);
  harness h(routes);
  ASSERT_EQ(h.run("/api/me", f.admin_key).status, 200);
  const std::string admin_identity(h.response().body().view());
  ASSERT_EQ(h.run("/api/me", f.viewer_key).status, 200);
  const std::string viewer_identity(h.response().body().view());
  ASSERT_NE(admin_identity, viewer_identity);
  h.run("/api/me", f.admin_key, &g, harness::request("/api/me", f.admin_key));  // the first warm allocates its table

  for (int round = 0; round < 3; ++round) {
    run_result r = h.run("/api/me", f.admin_key, &g, harness::request("/api/me", f.admin_key));
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.allocations, 0u);
    EXPECT_EQ(h.response().body().view(), admin_identity);
    // Warmed with the viewer's key, the request presents the admin's: the admin it is.
    r = h.run("/api/me", f.admin_key, &g, harness::request("/api/me", f.viewer_key));
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(h.response().body().view(), admin_identity);
    r = h.run("/api/me", f.viewer_key, &g, harness::request("/api/me", f.admin_key));
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(h.response().body().view(), viewer_identity);
    // Warmed with a valid key, the request presents an unknown one, or none.
    EXPECT_EQ(h.run("/api/me", generate_api_key().text, &g, harness::request("/api/me", f.admin_key)).status, 401);
    EXPECT_EQ(h.run("/api/me", "", &g, harness::request("/api/me", f.admin_key)).status, 401);
    // Warmed with bytes that hold no key, or half a head.
    r = h.run("/api/me", f.admin_key, &g, "GET /api/me HTTP/1.1\r\nx-api-");
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.allocations, 0u);
    EXPECT_EQ(h.response().body().view(), admin_identity);
  }
}

}  // namespace
}  // namespace warrant::engine

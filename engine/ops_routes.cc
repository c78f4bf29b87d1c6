#include "engine/ops_routes.h"

#include <array>

#include "net/shard.h"

namespace warrant::engine {

void register_ops_routes(net::router& routes, ops_state& state) {
  routes.add(net::http_method::get, "/healthz", [](net::request_context& ctx) { ctx.res.set_json(healthz_body); });
  // The compliance family's liveness probe (its clients' own test calls it): same meaning.
  routes.add(net::http_method::get, "/api/health",
             [](net::request_context& ctx) { ctx.res.set_json(api_health_body); });

  routes.add(net::http_method::get, "/readyz", [&state](net::request_context& ctx) {
    std::array<bool, readiness_checks_max> results{};
    bool ready = !state.draining.load(std::memory_order_relaxed) && !ctx.owner.stopping();
    for (std::size_t i = 0; i < state.checks.size(); ++i) {
      results[i] = state.checks[i].ok();
      ready = ready && results[i];
    }
    net::byte_buffer& body = ctx.res.body();
    body.clear();
    body.append(ready ? R"({"status":"ready","checks":{)" : R"({"status":"unready","checks":{)");
    for (std::size_t i = 0; i < state.checks.size(); ++i) {
      if (i > 0) body.push_back(',');
      net::append_json_string(body, state.checks[i].name);
      body.append(results[i] ? ":\"ok\"" : ":\"failing\"");
    }
    body.push_back('}');
    if (!ready) {
      // The common error fields, beside the checks so a probe can see which one failed.
      body.append(R"(,"error":"not ready","code":"NOT_READY")");
      ctx.res.set_status(503);
      ctx.res.add_header("Retry-After", "1");
    }
    body.push_back('}');
  });

  routes.add(net::http_method::get, "/metrics", [&state](net::request_context& ctx) {
    ctx.res.set_content_type("text/plain; version=0.0.4; charset=utf-8");
    ctx.res.body().clear();
    if (state.metrics != nullptr) state.metrics->render(ctx.res.body());
  });
}

}  // namespace warrant::engine

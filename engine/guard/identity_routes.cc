#include "engine/guard/identity_routes.h"

namespace warrant::engine {

void register_identity_routes(net::router& routes, guard& g) {
  g.route(routes, net::http_method::get, "/api/me", [](net::request_context& ctx, const principal& who) {
    // Rendered when the key's snapshot was published (engine/tenancy/key_table.h): one copy.
    net::byte_buffer& out = ctx.res.body();
    out.clear();
    out.append(who.identity_json);
  });
}

}  // namespace warrant::engine

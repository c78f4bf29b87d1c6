#include "engine/guard/identity_routes.h"

namespace warrant::engine {

void register_identity_routes(net::router& routes, guard& g) {
  g.route(routes, net::http_method::get, "/api/me", [](net::request_context& ctx, const principal& who) {
    net::byte_buffer& out = ctx.res.body();
    out.clear();
    out.append(R"({"user_id":)");
    net::append_json_string(out, who.key.id);
    out.append(R"(,"workspace_id":)");
    net::append_json_string(out, who.ws.id);
    out.append(R"(,"org_id":)");
    net::append_json_string(out, who.ws.identity_namespace.empty() ? who.ws.id : who.ws.identity_namespace);
    out.append(R"(,"key_prefix":)");
    net::append_json_string(out, who.key.prefix);
    out.append(R"(,"roles":[)");
    bool first = true;
    for_each_role(who.key.roles, [&](std::string_view name) {
      if (!first) out.push_back(',');
      first = false;
      net::append_json_string(out, name);
    });
    out.append("]}");
  });
}

}  // namespace warrant::engine

#include "engine/tenancy/admin_routes.h"

#include <algorithm>
#include <charconv>

#include "engine/common/ids.h"
#include "engine/common/json.h"
#include "engine/tenancy/commands.h"
#include "net/shard.h"

namespace warrant::engine {
namespace {

using net::request_context;

// Query parameter `name` (raw, not percent-decoded: cursors and limits need no decoding).
std::string_view query_param(std::string_view query, std::string_view name) {
  while (!query.empty()) {
    const std::size_t amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    const std::size_t eq = pair.find('=');
    if (pair.substr(0, eq) == name) return eq == std::string_view::npos ? std::string_view{} : pair.substr(eq + 1);
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return {};
}

bool parse_limit(request_context& ctx, std::size_t& limit) {
  const std::string_view text = query_param(ctx.req.query, "limit");
  limit = list_limit_default;
  if (text.empty()) return true;
  std::size_t v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size() || v < 1 || v > list_limit_max) {
    ctx.res.set_error(400, "VALIDATION_ERROR", "limit must be an integer from 1 to 500");
    return false;
  }
  limit = v;
  return true;
}

void create_workspace(admin_api& api, request_context& ctx, const principal&) {
  if (!require_json_content_type(ctx.req, ctx.res)) return;
  workspace w;
  bool have_name = false;
  json_error err;
  const bool ok = for_each_member(ctx.req.body, err, [&](std::string_view key, simdjson::ondemand::value& v) {
    if (key == "name") return have_name = get_string(v, key, identifier_bytes_max, w.name, err);
    if (key == "identity_namespace") return get_string(v, key, identifier_bytes_max, w.identity_namespace, err);
    return unknown_field(key, err);
  });
  if (ok && (!have_name || w.name.empty())) missing_field("name", err);
  if (!err.code.empty()) return answer_json_error(err, ctx.res);
  const std::int64_t now = unix_now_ms();
  w.id = new_uuid_v7(now);
  if (w.identity_namespace.empty()) w.identity_namespace = w.id;
  w.requests_per_minute = default_requests_per_minute;
  w.created_at_ms = now;
  const net::deferred_response token = ctx.defer();
  submit(api.writer, ctx, make_create_workspace(ctx.owner, token, api.index, std::move(w)));
}

void list_workspaces(admin_api&, request_context& ctx, const principal& who) {
  const tenancy_snapshot* snap = &who.snapshot;
  std::size_t limit = 0;
  if (!parse_limit(ctx, limit)) return;
  // Newest first; the cursor is the id of the last workspace of the previous page.
  std::vector<const workspace*> all;
  all.reserve(snap->workspaces.size());
  for (const auto& [id, w] : snap->workspaces) all.push_back(&w);
  auto newer = [](const workspace* a, const workspace* b) {
    return a->created_at_ms != b->created_at_ms ? a->created_at_ms > b->created_at_ms : a->id > b->id;
  };
  std::sort(all.begin(), all.end(), newer);
  std::size_t start = 0;
  const std::string_view cursor = query_param(ctx.req.query, "cursor");
  if (!cursor.empty()) {
    const workspace* after = snap->find_workspace(cursor);
    if (after == nullptr) return ctx.res.set_error(400, "VALIDATION_ERROR", "unknown cursor");
    start = static_cast<std::size_t>(std::upper_bound(all.begin(), all.end(), after, newer) - all.begin());
  }
  net::byte_buffer& out = ctx.res.body();
  out.append(R"({"workspaces":[)");
  std::size_t end = std::min(all.size(), start + limit);
  for (std::size_t i = start; i < end; ++i) {
    if (i > start) out.push_back(',');
    render_workspace(out, *all[i]);
  }
  out.append(R"(],"next_cursor":)");
  if (end < all.size()) {
    net::append_json_string(out, all[end - 1]->id);
  } else {
    out.append("null");
  }
  out.push_back('}');
}

void get_workspace(admin_api&, request_context& ctx, const principal& who) {
  const workspace* w = who.snapshot.find_workspace(ctx.params.get("id"));
  if (w == nullptr) return ctx.res.set_error(404, "NOT_FOUND", "workspace not found");
  render_workspace(ctx.res.body(), *w);
}

void create_key(admin_api& api, request_context& ctx, const principal& who) {
  if (!require_json_content_type(ctx.req, ctx.res)) return;
  const std::string_view ws = ctx.params.get("id");
  if (who.snapshot.find_workspace(ws) == nullptr) return ctx.res.set_error(404, "NOT_FOUND", "workspace not found");
  api_key_record k;
  std::vector<std::string> roles;
  std::string expires;
  bool have_roles = false;
  json_error err;
  const bool ok = for_each_member(ctx.req.body, err, [&](std::string_view key, simdjson::ondemand::value& v) {
    if (key == "name") return get_string(v, key, identifier_bytes_max, k.name, err);
    if (key == "roles") return have_roles = get_string_array(v, key, roles_per_key_max, identifier_bytes_max, roles, err);
    if (key == "expires_at") {
      if (is_json_null(v)) return true;
      return get_string(v, key, 64, expires, err);
    }
    if (key == "requests_per_minute") {
      if (is_json_null(v)) return true;
      std::uint64_t rpm = 0;
      if (!get_uint(v, key, 1, requests_per_minute_max, rpm, err)) return false;
      k.requests_per_minute = static_cast<std::uint32_t>(rpm);
      return true;
    }
    return unknown_field(key, err);
  });
  if (ok && (!have_roles || roles.empty())) missing_field("roles", err);
  if (!err.code.empty()) return answer_json_error(err, ctx.res);
  for (const std::string& r : roles) {
    auto bit = role_from_name(r);
    if (!bit) {
      return ctx.res.set_error(400, "VALIDATION_ERROR", "unknown role '" + r + "'",
                               "roles: platform.admin, platform.operator, platform.viewer, governance.approver, "
                               "governance.reviewer");
    }
    k.roles |= *bit;
  }
  const std::int64_t now = unix_now_ms();
  if (!expires.empty()) {
    auto t = parse_time_ms(expires);
    if (!t) return ctx.res.set_error(400, "VALIDATION_ERROR", "expires_at must be an RFC 3339 time");
    if (*t <= now) return ctx.res.set_error(400, "VALIDATION_ERROR", "expires_at must be in the future");
    k.expires_at_ms = *t;
  }
  generated_key g = generate_api_key();
  k.id = new_uuid_v7(now);
  k.workspace_id = ws;
  k.hash = g.hash;
  k.prefix = g.prefix;
  k.last4 = g.last4;
  k.created_at_ms = now;
  const net::deferred_response token = ctx.defer();
  submit(api.writer, ctx, make_create_key(ctx.owner, token, api.index, std::move(k), std::move(g.text)));
}

void list_keys(admin_api&, request_context& ctx, const principal& who) {
  const tenancy_snapshot* snap = &who.snapshot;
  const std::string_view ws = ctx.params.get("id");
  if (snap->find_workspace(ws) == nullptr) return ctx.res.set_error(404, "NOT_FOUND", "workspace not found");
  net::byte_buffer& out = ctx.res.body();
  out.append(R"({"keys":[)");
  bool first = true;
  for (const api_key_record* k : snap->keys_of(ws)) {
    if (!first) out.push_back(',');
    first = false;
    render_key(out, *k);
  }
  out.append("]}");
}

void revoke_key(admin_api& api, request_context& ctx, const principal& who) {
  const std::string_view ws = ctx.params.get("id");
  const std::string_view key_id = ctx.params.get("key_id");
  if (who.snapshot.find_key(ws, key_id) == nullptr) return ctx.res.set_error(404, "NOT_FOUND", "key not found");
  const net::deferred_response token = ctx.defer();
  submit(api.writer, ctx,
         make_revoke_key(ctx.owner, token, api.index, std::string(ws), std::string(key_id), unix_now_ms()));
}

void set_limits(admin_api& api, request_context& ctx, const principal& who) {
  if (!require_json_content_type(ctx.req, ctx.res)) return;
  const std::string_view ws = ctx.params.get("id");
  if (who.snapshot.find_workspace(ws) == nullptr) return ctx.res.set_error(404, "NOT_FOUND", "workspace not found");
  std::uint64_t rpm = 0;
  bool have = false;
  json_error err;
  const bool ok = for_each_member(ctx.req.body, err, [&](std::string_view key, simdjson::ondemand::value& v) {
    if (key == "requests_per_minute") return have = get_uint(v, key, 1, requests_per_minute_max, rpm, err);
    return unknown_field(key, err);
  });
  if (ok && !have) missing_field("requests_per_minute", err);
  if (!err.code.empty()) return answer_json_error(err, ctx.res);
  const net::deferred_response token = ctx.defer();
  submit(api.writer, ctx,
         make_set_limits(ctx.owner, token, api.index, std::string(ws), static_cast<std::uint32_t>(rpm)));
}

}  // namespace

void register_admin_routes(net::router& routes, guard& g, admin_api& api) {
  using net::http_method;
  auto bind = [&api](void (*fn)(admin_api&, request_context&, const principal&)) {
    return [&api, fn](request_context& ctx, const principal& who) { fn(api, ctx, who); };
  };
  // Access: platform.admin keys of workspace `default`, from the table in engine/guard/access.cc.
  g.route(routes, http_method::post, "/v1/admin/workspaces", bind(create_workspace));
  g.route(routes, http_method::get, "/v1/admin/workspaces", bind(list_workspaces));
  g.route(routes, http_method::get, "/v1/admin/workspaces/{id}", bind(get_workspace));
  g.route(routes, http_method::post, "/v1/admin/workspaces/{id}/keys", bind(create_key));
  g.route(routes, http_method::get, "/v1/admin/workspaces/{id}/keys", bind(list_keys));
  g.route(routes, http_method::post, "/v1/admin/workspaces/{id}/keys/{key_id}/revoke", bind(revoke_key));
  g.route(routes, http_method::put, "/v1/admin/workspaces/{id}/limits", bind(set_limits));
}

}  // namespace warrant::engine

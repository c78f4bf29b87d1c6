#include "tools/ctl_online.h"

#include <fmt/format.h>
#include <simdjson.h>

#include <cstdio>

#include "tools/ctl_http.h"
#include "tools/ctl_json.h"

namespace warrant::tools {
namespace {

// The most pages `workspaces list --all` follows: a server that keeps answering next_cursor
// must not keep warrantctl busy forever.
constexpr std::size_t list_pages_max = 100'000;
constexpr std::uint32_t list_page_limit_max = 500;

const std::string admin_base = "/v1/admin/workspaces";

struct session {
  http_url url;
  std::string key;
  int timeout_ms = default_timeout_ms;
  bool pretty = false;
};

session open_session(const ctl_options& o) {
  session s;
  const std::string text = resolve_url(o);
  std::string error;
  auto url = parse_http_url(text, error);
  if (!url) throw ctl_error(exit_usage, fmt::format("--url: {}", error));
  s.url = std::move(*url);
  s.key = resolve_key(o);
  s.timeout_ms = o.timeout_ms;
  s.pretty = o.pretty;
  return s;
}

// Throws ctl_error(exit_unreachable) when no HTTP answer came back.
http_response call(const session& s, std::string_view method, const std::string& target, const std::string& body = {}) {
  http_request req;
  req.method = method;
  req.target = target;
  req.body = body;
  req.headers.emplace_back("x-api-key", s.key);
  http_response res;
  const http_outcome o = http_call(s.url, req, s.timeout_ms, res);
  if (!o.ok()) {
    throw ctl_error(exit_unreachable, fmt::format("cannot reach warrantd: {}", o.message));
  }
  return res;
}

// Prints the answer where it belongs; the exit status.
int report(const session& s, const http_response& res) {
  if (res.status >= 200 && res.status < 300) {
    print_json(res.body, s.pretty);
    return exit_ok;
  }
  if (res.body.empty()) {
    std::fprintf(stderr, "warrantd answered HTTP %d %s with no body\n", res.status, res.reason.c_str());
  } else {
    print_json(res.body, s.pretty, /*to_stderr=*/true);
  }
  return exit_failed;
}

std::string workspace_path(const std::string& id) { return admin_base + "/" + encode_path_segment(id); }

std::string list_target(std::uint32_t limit, const std::string& cursor) {
  std::string target = admin_base;
  char sep = '?';
  if (limit != 0) {
    target += fmt::format("{}limit={}", sep, limit);
    sep = '&';
  }
  if (!cursor.empty()) target += fmt::format("{}cursor={}", sep, encode_path_segment(cursor));
  return target;
}

// Follows next_cursor from page to page and prints one {"workspaces":[...],"next_cursor":null}.
int workspaces_list_all(const session& s, const workspace_list_args& a) {
  simdjson::dom::parser parser;
  json_out all;
  all.begin_object().key("workspaces").begin_array();
  std::string cursor = a.cursor;
  for (std::size_t page = 0;; ++page) {
    if (page == list_pages_max) throw ctl_error(exit_failed, "workspaces list --all: too many pages");
    const http_response res = call(s, "GET", list_target(a.limit != 0 ? a.limit : list_page_limit_max, cursor));
    if (res.status != 200) return report(s, res);
    simdjson::dom::element doc;
    simdjson::dom::array items;
    if (parser.parse(res.body).get(doc) || doc["workspaces"].get_array().get(items)) {
      throw ctl_error(exit_failed, "workspaces list: the server's answer is not a workspace list");
    }
    for (simdjson::dom::element w : items) all.raw(simdjson::minify(w));
    std::string_view next;
    if (doc["next_cursor"].get_string().get(next) || next.empty()) break;
    if (next == cursor) throw ctl_error(exit_failed, "workspaces list --all: the server repeated its cursor");
    cursor = std::string(next);
  }
  all.end_array().key("next_cursor").null().end_object();
  print_json(all.text(), s.pretty);
  return exit_ok;
}

}  // namespace

int workspaces_list(const ctl_options& o, const workspace_list_args& a) {
  const session s = open_session(o);
  if (a.all) return workspaces_list_all(s, a);
  return report(s, call(s, "GET", list_target(a.limit, a.cursor)));
}

int workspaces_get(const ctl_options& o, const std::string& workspace_id) {
  const session s = open_session(o);
  return report(s, call(s, "GET", workspace_path(workspace_id)));
}

int workspaces_create(const ctl_options& o, const std::string& name, const std::string& identity_namespace) {
  const session s = open_session(o);
  json_out body;
  body.begin_object().member("name", name);
  if (!identity_namespace.empty()) body.member("identity_namespace", identity_namespace);
  body.end_object();
  return report(s, call(s, "POST", admin_base, body.text()));
}

int keys_list(const ctl_options& o, const std::string& workspace_id) {
  const session s = open_session(o);
  return report(s, call(s, "GET", workspace_path(workspace_id) + "/keys"));
}

int keys_create(const ctl_options& o, const key_create_args& a) {
  const session s = open_session(o);
  json_out body;
  body.begin_object();
  if (!a.name.empty()) body.member("name", a.name);
  body.key("roles").begin_array();
  for (const std::string& r : a.roles) body.str(r);
  body.end_array();
  if (!a.expires_at.empty()) body.member("expires_at", a.expires_at);
  if (a.requests_per_minute != 0) body.member("requests_per_minute", std::uint64_t{a.requests_per_minute});
  body.end_object();
  return report(s, call(s, "POST", workspace_path(a.workspace_id) + "/keys", body.text()));
}

int keys_revoke(const ctl_options& o, const std::string& workspace_id, const std::string& key_id) {
  const session s = open_session(o);
  return report(s, call(s, "POST", workspace_path(workspace_id) + "/keys/" + encode_path_segment(key_id) + "/revoke"));
}

int limits_set(const ctl_options& o, const std::string& workspace_id, std::uint32_t requests_per_minute) {
  const session s = open_session(o);
  json_out body;
  body.begin_object().member("requests_per_minute", std::uint64_t{requests_per_minute}).end_object();
  return report(s, call(s, "PUT", workspace_path(workspace_id) + "/limits", body.text()));
}

}  // namespace warrant::tools

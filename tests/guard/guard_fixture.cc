#include "tests/guard/guard_fixture.h"

#include <charconv>
#include <stdexcept>

namespace warrant::test {
namespace {

// The value of `name=` inside one `"policy";a=1;b=2` item of a structured-field list.
std::int64_t param_of(std::string_view value, std::string_view policy, std::string_view name) {
  std::string quoted;  // built by appending: GCC 12 warns (falsely) about '"' + s + '"'
  quoted.push_back('"');
  quoted.append(policy);
  quoted.push_back('"');
  std::size_t at = value.find(quoted);
  if (at == std::string_view::npos) return -1;
  std::string_view item = value.substr(at + quoted.size());
  item = item.substr(0, item.find(','));
  std::string key(";");
  key.append(name);
  key.push_back('=');
  at = item.find(key);
  if (at == std::string_view::npos) return -1;
  item.remove_prefix(at + key.size());
  std::int64_t n = -1;
  const auto [end, ec] = std::from_chars(item.data(), item.data() + item.size(), n);
  if (ec != std::errc() || (end != item.data() + item.size() && *end != ';')) return -1;
  return n;
}

}  // namespace

std::vector<std::unique_ptr<http_client>> connections_on_both_shards(std::uint16_t port) {
  std::vector<std::unique_ptr<http_client>> out;
  while (out.size() < 64) {
    for (int i = 0; i < 4; ++i) {
      out.push_back(std::make_unique<http_client>(port));
      if (!out.back()->connect()) throw std::runtime_error("connect failed");
    }
    // The scrape and the fixture's own connection count too, hence "≥ 3".
    http_client scraper(port);
    auto m = scraper.request("GET", "/metrics");
    if (!m || m->status != 200) throw std::runtime_error("no /metrics");
    const auto s0 = metric_value(m->body, R"(warrant_connections_open{shard="0"})");
    const auto s1 = metric_value(m->body, R"(warrant_connections_open{shard="1"})");
    if (s0 && s1 && *s0 >= 3 && *s1 >= 3) return out;
  }
  throw std::runtime_error("could not place connections on both shards");
}

std::optional<ratelimit_item> ratelimit_of(const http_response& r, std::string_view policy) {
  const std::string v = r.header("ratelimit");
  if (v.empty()) return std::nullopt;
  ratelimit_item item{param_of(v, policy, "r"), param_of(v, policy, "t")};
  if (item.remaining < 0 || item.reset_s < 0) return std::nullopt;
  return item;
}

std::int64_t quota_of(const http_response& r, std::string_view policy) {
  const std::string v = r.header("ratelimit-policy");
  if (param_of(v, policy, "w") != 60) return -1;
  return param_of(v, policy, "q");
}

std::int64_t retry_after_of(const http_response& r) {
  const std::string v = r.header("retry-after");
  std::int64_t n = -1;
  const auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
  if (v.empty() || ec != std::errc() || end != v.data() + v.size()) return -1;
  return n;
}

tenant guard_fixture::new_tenant(std::string_view roles_json, std::string_view key_members) {
  tenant t;
  t.workspace_id = create_workspace("tenant")["id"].string;
  const json k = create_key(t.workspace_id, roles_json, key_members);
  t.key_id = k["id"].string;
  t.key = k["key"].string;
  return t;
}

void guard_fixture::set_workspace_limit(const std::string& workspace_id, std::int64_t requests_per_minute) {
  const http_response r = admin("PUT", "/v1/admin/workspaces/" + workspace_id + "/limits",
                                R"({"requests_per_minute":)" + std::to_string(requests_per_minute) + "}");
  if (r.status != 200) throw std::runtime_error("set limits: " + std::to_string(r.status) + " " + r.body);
}

double guard_fixture::metric(std::string_view series) {
  const http_response r = call("GET", "/metrics");
  return metric_value(r.body, series).value_or(0);
}

std::optional<http_response> guard_fixture::me(http_client& c, std::string_view key) {
  return c.request("GET", "/api/me", {}, {{"Authorization", "Bearer " + std::string(key)}});
}

}  // namespace warrant::test

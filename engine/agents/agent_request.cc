#include "engine/agents/agent_request.h"

#include <fmt/format.h>

#include "engine/tenancy/model.h"

namespace warrant::engine {
namespace {

bool get_bool(simdjson::ondemand::value& v, std::string_view field, bool& out, json_error& err) {
  if (v.get_bool().get(out) == simdjson::SUCCESS) return true;
  err = {400, "VALIDATION_ERROR", fmt::format("{} must be true or false", field), ""};
  return false;
}

}  // namespace

bool parse_agent_body(std::string_view body, agent_body& b, json_error& err) {
  auto str = [&](simdjson::ondemand::value& v, std::string_view key, std::size_t max, std::optional<std::string>& out) {
    std::string s;
    if (!get_string(v, key, max, s, err)) return false;
    out = std::move(s);
    return true;
  };
  const bool ok = for_each_member(body, err, [&](std::string_view key, simdjson::ondemand::value& v) {
    if (key == "name") return str(v, key, agent_text_bytes_max, b.name);
    if (key == "type") return str(v, key, agent_enum_bytes_max, b.type);
    if (key == "preset") return str(v, key, agent_enum_bytes_max, b.preset);
    if (key == "owner") return str(v, key, agent_text_bytes_max, b.owner);
    if (key == "model_version") return str(v, key, agent_text_bytes_max, b.model_version);
    if (key == "endpoint") return str(v, key, agent_endpoint_bytes_max, b.endpoint);
    if (key == "rootAuthorizer") return str(v, key, agent_text_bytes_max, b.root_authorizer);
    if (key == "operational_state") return str(v, key, agent_text_bytes_max, b.operational_state);
    if (key == "allowedEventTypes") {
      std::vector<std::string> list;
      if (!get_string_array(v, key, agent_allowlist_items_max, agent_allowlist_item_bytes_max, list, err)) return false;
      b.allowed = std::move(list);
      return true;
    }
    if (key == "requireIdempotency") {
      bool flag = false;
      if (!get_bool(v, key, flag, err)) return false;
      b.require_idempotency = flag;
      return true;
    }
    if (key == "rateLimitPerMinute") {
      if (is_json_null(v)) return true;
      std::uint64_t n = 0;
      if (!get_uint(v, key, 1, requests_per_minute_max, n, err)) return false;
      b.rate_limit = static_cast<std::uint32_t>(n);
      return true;
    }
    return unknown_field(key, err);
  });
  if (ok && (!b.name || b.name->empty())) missing_field("name", err);
  return err.code.empty();
}

bool parse_spawn_policy_body(std::string_view body, spawn_policy& p, json_error& err) {
  p.enabled = false;
  p.max_depth = spawn_max_depth_default;
  p.approval_depth = 0;
  p.max_children = spawn_max_children_default;
  bool have_enabled = false;
  auto bounded = [&](simdjson::ondemand::value& v, std::string_view key, std::uint64_t max, std::uint32_t& out) {
    std::uint64_t n = 0;
    if (!get_uint(v, key, 0, max, n, err)) return false;
    out = static_cast<std::uint32_t>(n);
    return true;
  };
  const bool ok = for_each_member(body, err, [&](std::string_view key, simdjson::ondemand::value& v) {
    if (key == "enabled") return have_enabled = get_bool(v, key, p.enabled, err);
    if (key == "maxDepth") return bounded(v, key, spawn_depth_max, p.max_depth);
    if (key == "approvalDepth") return bounded(v, key, spawn_depth_max, p.approval_depth);
    if (key == "maxChildren") return bounded(v, key, spawn_children_max, p.max_children);
    return unknown_field(key, err);
  });
  if (ok && !have_enabled) missing_field("enabled", err);
  return err.code.empty();
}

}  // namespace warrant::engine

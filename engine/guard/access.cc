#include "engine/guard/access.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <bit>

namespace warrant::engine {
namespace {

using net::http_method;

// ---- THE TABLE ----------------------------------------------------------------------------
// Every protected route, by method and pattern as registered. Families add their routes here
// together with the routes themselves (evidence: /v1/events, /v1/agents...; authority:
// /v1/evaluate with platform.operator|platform.admin, control-plane writes with scopes...;
// compliance: /api/workspaces/{id}/governance/...). Unprotected routes (/healthz, /readyz,
// /metrics, /api/health) are not in it: they never reach the guard.
constexpr std::array route_table{
    // Identity (spec/compliance.md): any valid key may ask who it is.
    route_access{http_method::get, "/api/me", any_valid_key},
    // Admin API (spec/common.md "Admin API"): the operator's platform.admin keys.
    route_access{http_method::post, "/v1/admin/workspaces", platform_admin_of_default},
    route_access{http_method::get, "/v1/admin/workspaces", platform_admin_of_default},
    route_access{http_method::get, "/v1/admin/workspaces/{id}", platform_admin_of_default},
    route_access{http_method::post, "/v1/admin/workspaces/{id}/keys", platform_admin_of_default},
    route_access{http_method::get, "/v1/admin/workspaces/{id}/keys", platform_admin_of_default},
    route_access{http_method::post, "/v1/admin/workspaces/{id}/keys/{key_id}/revoke", platform_admin_of_default},
    route_access{http_method::put, "/v1/admin/workspaces/{id}/limits", platform_admin_of_default},
    route_access{http_method::post, "/v1/admin/policy/reload", platform_admin_of_default},
    // Evidence policy (spec/evidence.md "Policy"): any valid key of a workspace evaluates for
    // that workspace and reads its own decisions; the seed also shows the routes unprefixed.
    route_access{http_method::post, "/v1/policy/evaluate", any_valid_key},
    route_access{http_method::post, "/policy/evaluate", any_valid_key},
    route_access{http_method::post, "/v1/policy/evaluate/bulk", any_valid_key},
    route_access{http_method::post, "/policy/evaluate/bulk", any_valid_key},
    route_access{http_method::get, "/v1/policy/actions", any_valid_key},
    route_access{http_method::get, "/policy/actions", any_valid_key},
    route_access{http_method::get, "/v1/policy/actions/{action}", any_valid_key},
    route_access{http_method::get, "/v1/policy/decisions/{id}", any_valid_key},
    // Evidence (spec/evidence.md): any valid key of the workspace; everything is scoped to the
    // key's workspace (events, claims) or its identity namespace (history). Agent presets
    // (issue 6) will narrow these for agent keys.
    route_access{http_method::get, "/v1/events/types", any_valid_key},
    route_access{http_method::post, "/v1/events", any_valid_key},
    route_access{http_method::get, "/v1/events", any_valid_key},
    route_access{http_method::post, "/v1/claims", any_valid_key},
    route_access{http_method::get, "/v1/claims", any_valid_key},
    route_access{http_method::post, "/v1/claims/{id}/dispute", any_valid_key},
    route_access{http_method::post, "/v1/claims/{id}/uphold", any_valid_key},
    route_access{http_method::post, "/v1/claims/{id}/dismiss", any_valid_key},
    route_access{http_method::post, "/v1/claims/{id}/withdraw", any_valid_key},
    route_access{http_method::get, "/events/types", any_valid_key},
    route_access{http_method::post, "/events", any_valid_key},
    route_access{http_method::get, "/events", any_valid_key},
    route_access{http_method::post, "/claims", any_valid_key},
    route_access{http_method::get, "/claims", any_valid_key},
    route_access{http_method::post, "/claims/{id}/dispute", any_valid_key},
    route_access{http_method::post, "/claims/{id}/uphold", any_valid_key},
    route_access{http_method::post, "/claims/{id}/dismiss", any_valid_key},
    route_access{http_method::post, "/claims/{id}/withdraw", any_valid_key},
    route_access{http_method::get, "/v1/history/{userExternalId}", any_valid_key},
    // Audit trail (spec/evidence.md "Agents and genealogy"): the workspace's readers.
    route_access{http_method::get, "/v1/audit", platform_readers},
};

// ---- scopes and roles ---------------------------------------------------------------------

constexpr std::array<std::string_view, scope_count> scope_names = {
    "controlplane:apply",
    "controlplane:plan",
    "capability:write",
    "process:write",
    "businessservice:write",
    "businessservicecapability:write",
    "businessservicerelationship:write",
    "surface:write",
    "profile:write",
    "agent:write",
    "grant:write",
    "governanceexpectation:write",
    "aisystem:write",
    "aisystemversion:write",
    "aisystembinding:write",
    "surface:approve",
    "surface:deprecate",
    "profile:approve",
    "profile:deprecate",
    "governanceexpectation:approve",
    "grant:suspend",
    "grant:revoke",
    "grant:reinstate",
};

// Authority reference §4.3: platform.admin = all permissions; governance.approver = the
// three approvals; operator, viewer, reviewer = none (their access is by role gate).
constexpr std::array role_bundles{
    role_scopes{role_platform_admin, scopes_all},
    role_scopes{role_platform_operator, 0},
    role_scopes{role_platform_viewer, 0},
    role_scopes{role_governance_approver,
                scope_surface_approve | scope_profile_approve | scope_governanceexpectation_approve},
    role_scopes{role_governance_reviewer, 0},
};
static_assert(role_bundles.size() == static_cast<std::size_t>(std::popcount(roles_all)), "every role has a bundle");

// One entry per (method, pattern): checked at compile time.
constexpr bool table_has_duplicates() {
  for (std::size_t i = 0; i < route_table.size(); ++i) {
    for (std::size_t j = i + 1; j < route_table.size(); ++j) {
      if (route_table[i].method == route_table[j].method && route_table[i].pattern == route_table[j].pattern) {
        return true;
      }
    }
  }
  return false;
}
static_assert(!table_has_duplicates(), "a route appears twice in the access table");

}  // namespace

std::string_view scope_name(scope_set bit) {
  if (std::popcount(bit) != 1 || (bit & scopes_all) == 0) return {};
  return scope_names[static_cast<std::size_t>(std::countr_zero(bit))];
}

std::optional<scope_set> scope_from_name(std::string_view name) {
  for (std::size_t i = 0; i < scope_names.size(); ++i) {
    if (scope_names[i] == name) return scope_set{1} << i;
  }
  return std::nullopt;
}

std::span<const role_scopes> role_scope_bundles() { return role_bundles; }

scope_set scopes_of_roles(std::uint32_t roles) {
  scope_set out = 0;
  for (const role_scopes& b : role_bundles) {
    if (roles & b.role) out |= b.scopes;
  }
  return out;
}

std::span<const route_access> route_access_table() { return route_table; }

const access_rule* find_route_access(net::http_method method, std::string_view pattern) {
  for (const route_access& r : route_table) {
    if (r.method == method && r.pattern == pattern) return &r.rule;
  }
  return nullptr;
}

access_denial check_access(const access_rule& rule, std::string_view workspace_id, std::uint32_t roles) {
  return check_access_in_workspace(rule, workspace_id == default_workspace_id, roles);
}

access_denial check_access_in_workspace(const access_rule& rule, bool in_default_workspace, std::uint32_t roles) {
  const bool in_scope_workspace = !rule.operator_workspace || in_default_workspace;
  if (rule.roles_any != 0 && (!in_scope_workspace || (roles & rule.roles_any) == 0)) {
    return {access_denial::kind::role, rule.roles_any, 0};
  }
  const scope_set missing = rule.scopes_all & ~scopes_of_roles(roles);
  if (missing != 0) return {access_denial::kind::scope, 0, missing & (~missing + 1)};  // the lowest one
  return {};
}

std::string_view denial_message(const access_denial& d, std::span<char, denial_message_bytes_max> buf) {
  std::size_t n = 0;
  auto put = [&](std::string_view s) {
    const std::size_t take = std::min(s.size(), buf.size() - n);
    std::copy_n(s.data(), take, buf.data() + n);
    n += take;
  };
  if (d.what == access_denial::kind::scope) {
    put("this key lacks the scope ");
    put(scope_name(d.scope));
  } else if (d.what == access_denial::kind::role) {
    put(std::popcount(d.roles) == 1 ? "this key lacks the role " : "this key lacks one of the roles ");
    bool first = true;
    for_each_role(d.roles, [&](std::string_view name) {
      if (!first) put(", ");
      first = false;
      put(name);
    });
  }
  return {buf.data(), n};
}

}  // namespace warrant::engine

#include "engine/guard/access.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <bit>

namespace warrant::engine {
namespace {

using net::http_method;

constexpr access_rule needs(scope_set scopes) { return access_rule{0, scopes, false}; }

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
    // Evidence policy (spec/evidence.md "Policy"): keys of a workspace evaluate for that
    // workspace and read its own decisions; the seed also shows the routes unprefixed.
    route_access{http_method::post, "/v1/policy/evaluate", needs(scope_policy_evaluate)},
    route_access{http_method::post, "/policy/evaluate", needs(scope_policy_evaluate)},
    route_access{http_method::post, "/v1/policy/evaluate/bulk", needs(scope_policy_evaluate)},
    route_access{http_method::post, "/policy/evaluate/bulk", needs(scope_policy_evaluate)},
    route_access{http_method::get, "/v1/policy/actions", any_valid_key},
    route_access{http_method::get, "/policy/actions", any_valid_key},
    route_access{http_method::get, "/v1/policy/actions/{action}", any_valid_key},
    route_access{http_method::get, "/v1/policy/decisions/{id}", needs(scope_policy_evaluate)},
    // Evidence (spec/evidence.md): everything is scoped to the key's workspace (events, claims)
    // or its identity namespace (history). Workspace keys hold every evidence scope; agent keys
    // their preset's.
    route_access{http_method::get, "/v1/events/types", any_valid_key},
    route_access{http_method::post, "/v1/events", needs(scope_events_write)},
    route_access{http_method::get, "/v1/events", needs(scope_events_read)},
    route_access{http_method::post, "/v1/claims", needs(scope_claims_write)},
    route_access{http_method::get, "/v1/claims", needs(scope_claims_read)},
    route_access{http_method::post, "/v1/claims/{id}/dispute", needs(scope_claims_write)},
    route_access{http_method::post, "/v1/claims/{id}/uphold", needs(scope_claims_resolve)},
    route_access{http_method::post, "/v1/claims/{id}/dismiss", needs(scope_claims_resolve)},
    route_access{http_method::post, "/v1/claims/{id}/withdraw", needs(scope_claims_resolve)},
    route_access{http_method::get, "/events/types", any_valid_key},
    route_access{http_method::post, "/events", needs(scope_events_write)},
    route_access{http_method::get, "/events", needs(scope_events_read)},
    route_access{http_method::post, "/claims", needs(scope_claims_write)},
    route_access{http_method::get, "/claims", needs(scope_claims_read)},
    route_access{http_method::post, "/claims/{id}/dispute", needs(scope_claims_write)},
    route_access{http_method::post, "/claims/{id}/uphold", needs(scope_claims_resolve)},
    route_access{http_method::post, "/claims/{id}/dismiss", needs(scope_claims_resolve)},
    route_access{http_method::post, "/claims/{id}/withdraw", needs(scope_claims_resolve)},
    route_access{http_method::get, "/v1/history/{userExternalId}", needs(scope_history_read)},
    // Agents and genealogy (spec/evidence.md "Agents and genealogy"; engine/agents/agent_routes.h).
    // Spawn also needs the caller to be the parent agent itself or to hold agents:write (checked
    // by the handler: the rule can only say "agents:spawn").
    route_access{http_method::post, "/v1/agents", needs(scope_agents_write)},
    route_access{http_method::get, "/v1/agents", needs(scope_agents_read)},
    route_access{http_method::get, "/v1/agents/tree", needs(scope_agents_read)},
    route_access{http_method::get, "/v1/agents/spawn-policy", needs(scope_agents_read)},
    route_access{http_method::put, "/v1/agents/spawn-policy", needs(scope_agents_write)},
    route_access{http_method::get, "/v1/agents/{id}", needs(scope_agents_read)},
    route_access{http_method::get, "/v1/agents/{id}/lineage", needs(scope_agents_read)},
    route_access{http_method::post, "/v1/agents/{id}/suspend", needs(scope_agents_write)},
    route_access{http_method::post, "/v1/agents/{id}/reactivate", needs(scope_agents_write)},
    route_access{http_method::post, "/v1/agents/{id}/revoke", needs(scope_agents_write)},
    route_access{http_method::post, "/v1/agents/{id}/approve", needs(scope_agents_write)},
    route_access{http_method::post, "/v1/agents/{id}/key/rotate", needs(scope_agents_write)},
    route_access{http_method::post, "/v1/agents/{id}/revoke-descendants", needs(scope_agents_write)},
    route_access{http_method::post, "/v1/agents/{id}/spawn", needs(scope_agents_spawn)},
    // Audit trail (spec/evidence.md "Agents and genealogy"): audit:read, which workspace keys
    // hold through a reader role (platform.viewer, .operator, .admin: key_scopes) and agent keys
    // through the operator and admin presets.
    route_access{http_method::get, "/v1/audit", needs(scope_audit_read)},
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
    "events:read",
    "events:write",
    "claims:read",
    "claims:write",
    "claims:resolve",
    "history:read",
    "policy:evaluate",
    "agents:read",
    "agents:write",
    "agents:spawn",
    "audit:read",
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

// Agent presets (spec/evidence.md "Agents and genealogy"), each a superset of the previous:
// read_only reads and evaluates; standard also writes events and files/disputes claims;
// operator also resolves claims, spawns children and reads the audit trail; admin also
// manages the registry (agents:write). No preset holds a platform or authority scope.
constexpr scope_set preset_read_only =
    scope_events_read | scope_claims_read | scope_history_read | scope_policy_evaluate | scope_agents_read;
constexpr scope_set preset_standard = preset_read_only | scope_events_write | scope_claims_write;
constexpr scope_set preset_operator = preset_standard | scope_claims_resolve | scope_agents_spawn | scope_audit_read;
constexpr scope_set preset_admin = preset_operator | scope_agents_write;
static_assert(preset_admin == evidence_scopes, "the admin preset holds every evidence scope");
constexpr std::array preset_bundles{
    preset_scopes{agent_preset::read_only, preset_read_only},
    preset_scopes{agent_preset::standard, preset_standard},
    preset_scopes{agent_preset::operator_, preset_operator},
    preset_scopes{agent_preset::admin, preset_admin},
};

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

std::span<const preset_scopes> preset_scope_bundles() { return preset_bundles; }

scope_set scopes_of_preset(agent_preset p) { return preset_bundles[static_cast<std::size_t>(p)].scopes; }

scope_set key_scopes(std::uint32_t roles, const agent_record* agent) {
  if (agent != nullptr) return scopes_of_preset(agent->preset);
  // The audit trail is for the workspace's readers (the roles of platform_readers).
  const scope_set audit = (roles & platform_readers.roles_any) != 0 ? scope_set{scope_audit_read} : scope_set{0};
  return scopes_of_roles(roles) | (evidence_scopes & ~scope_audit_read) | audit;
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
  return check_access_with_scopes(rule, in_default_workspace, roles, key_scopes(roles, nullptr));
}

access_denial check_access_with_scopes(const access_rule& rule, bool in_default_workspace, std::uint32_t roles,
                                       scope_set scopes) {
  const bool in_scope_workspace = !rule.operator_workspace || in_default_workspace;
  if (rule.roles_any != 0 && (!in_scope_workspace || (roles & rule.roles_any) == 0)) {
    return {access_denial::kind::role, rule.roles_any, 0};
  }
  const scope_set missing = rule.scopes_all & ~scopes;
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

// engine/guard/access.h: who may call which route — the one roles/scopes table.
//
// A key carries roles (engine/tenancy/model.h; spec/authority.md "Roles"). Roles grant scopes
// through fixed bundles (`role_scope_bundles`, from the authority reference §4.3: platform.admin
// holds every permission, governance.approver the three approvals, the others none), and every
// workspace (non-agent) key also holds all of the evidence family's scopes (it is the
// workspace's own key: roles narrow the platform and authority routes only). Agent keys carry
// no role: they hold exactly the scopes of their agent's preset (`preset_scope_bundles`:
// read_only ⊂ standard ⊂ operator ⊂ admin). A key's scope set is resolved once per publish into
// its key-table entry (`key_scopes`), never per request.
//
// Every protected route has exactly one entry in `route_access_table()` (access.cc), keyed by
// method and pattern as registered on the router: the roles of which the key needs one, the
// scopes it needs all of, and whether the key must belong to the operator's workspace
// `default` (the admin API). Each API family adds its routes to that table when it adds the
// routes; guard::route refuses to register a route the table does not name, so no route can
// be served without a rule. A missing role or scope is a 403 naming it.
//
// Pure data and functions, any thread.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "engine/agents/model.h"
#include "engine/tenancy/model.h"
#include "net/http_parser.h"

namespace warrant::engine {

// A set of scopes, bit per scope.
using scope_set = std::uint64_t;

// Scopes, in the authority reference's spelling (§4.3). Bits are not stored anywhere (keys
// store roles), so they may be renumbered; names are the contract.
enum scope : scope_set {
  scope_controlplane_apply = 1ull << 0,
  scope_controlplane_plan = 1ull << 1,
  scope_capability_write = 1ull << 2,
  scope_process_write = 1ull << 3,
  scope_businessservice_write = 1ull << 4,
  scope_businessservicecapability_write = 1ull << 5,
  scope_businessservicerelationship_write = 1ull << 6,
  scope_surface_write = 1ull << 7,
  scope_profile_write = 1ull << 8,
  scope_agent_write = 1ull << 9,
  scope_grant_write = 1ull << 10,
  scope_governanceexpectation_write = 1ull << 11,
  scope_aisystem_write = 1ull << 12,
  scope_aisystemversion_write = 1ull << 13,
  scope_aisystembinding_write = 1ull << 14,
  scope_surface_approve = 1ull << 15,
  scope_surface_deprecate = 1ull << 16,
  scope_profile_approve = 1ull << 17,
  scope_profile_deprecate = 1ull << 18,
  scope_governanceexpectation_approve = 1ull << 19,
  scope_grant_suspend = 1ull << 20,
  scope_grant_revoke = 1ull << 21,
  scope_grant_reinstate = 1ull << 22,
  // The evidence family (spec/evidence.md; docs/api-evidence.md "Scopes").
  scope_events_read = 1ull << 23,
  scope_events_write = 1ull << 24,
  scope_claims_read = 1ull << 25,
  scope_claims_write = 1ull << 26,
  scope_claims_resolve = 1ull << 27,
  scope_history_read = 1ull << 28,
  scope_policy_evaluate = 1ull << 29,
  scope_agents_read = 1ull << 30,
  scope_agents_write = 1ull << 31,
  scope_agents_spawn = 1ull << 32,
  scope_audit_read = 1ull << 33,
};
inline constexpr std::size_t scope_count = 34;
static_assert(scope_count <= 64);
inline constexpr scope_set evidence_scopes =
    scope_events_read | scope_events_write | scope_claims_read | scope_claims_write | scope_claims_resolve |
    scope_history_read | scope_policy_evaluate | scope_agents_read | scope_agents_write | scope_agents_spawn |
    scope_audit_read;
inline constexpr scope_set scopes_all = (1ull << scope_count) - 1;

// "controlplane:apply" for one scope bit; "" for anything else.
std::string_view scope_name(scope_set single_scope_bit);
std::optional<scope_set> scope_from_name(std::string_view name);

struct role_scopes {
  std::uint32_t role;
  scope_set scopes;
};
// The bundle of every role (one entry per role bit).
std::span<const role_scopes> role_scope_bundles();
scope_set scopes_of_roles(std::uint32_t roles);

struct preset_scopes {
  agent_preset preset;
  scope_set scopes;
};
// The bundle of every agent preset, read_only first; each includes the previous one.
std::span<const preset_scopes> preset_scope_bundles();
scope_set scopes_of_preset(agent_preset p);
// A key's scopes: its agent's preset's (agent keys), else its roles' plus the evidence scopes.
scope_set key_scopes(std::uint32_t roles, const agent_record* agent);

// What a route requires of a key. The default rule admits any valid key.
struct access_rule {
  std::uint32_t roles_any = 0;       // the key carries at least one of these roles (0: no role needed)
  scope_set scopes_all = 0;          // and every one of these scopes, granted by its roles
  bool operator_workspace = false;   // and belongs to workspace `default` (platform routes;
                                     // needs roles_any: the denial names those roles)
};

inline constexpr access_rule any_valid_key{};
inline constexpr access_rule platform_admin_of_default{role_platform_admin, 0, true};
// The authority reference's read gate (§4.2): viewers, operators and admins.
inline constexpr access_rule platform_readers{role_platform_viewer | role_platform_operator | role_platform_admin};

struct route_access {
  net::http_method method;
  std::string_view pattern;  // exactly as registered on the router
  access_rule rule;
};

std::span<const route_access> route_access_table();
// The table's rule for a route, or nullptr when it has none.
const access_rule* find_route_access(net::http_method method, std::string_view pattern);

// Why a key may not use a route: nothing (allowed), or the first missing role or scope.
struct access_denial {
  enum class kind : std::uint8_t { none, role, scope };
  kind what = kind::none;
  std::uint32_t roles = 0;  // kind::role: the acceptable roles
  scope_set scope = 0;      // kind::scope: the first missing scope
  bool allowed() const { return what == kind::none; }
};

// A key of workspace `workspace_id` with `roles` against `rule`. A key outside `default` on an
// operator route is denied the rule's role, as if it lacked it (the roles of another
// workspace's key say nothing about the platform).
access_denial check_access(const access_rule& rule, std::string_view workspace_id, std::uint32_t roles);
// The same, with the workspace test already made (`in_default_workspace`: the key belongs to
// workspace `default`), as the guard's key table holds it. (A name of its own: an overload on
// bool would catch string literals meant for the one above.)
access_denial check_access_in_workspace(const access_rule& rule, bool in_default_workspace, std::uint32_t roles);
// The same with the key's scopes already resolved (the guard: key_admission::scopes).
access_denial check_access_with_scopes(const access_rule& rule, bool in_default_workspace, std::uint32_t roles,
                                       scope_set scopes);

// "this key lacks the role platform.admin" / "this key lacks one of the roles a, b" /
// "this key lacks the scope controlplane:apply", into `buf`; the view points into it.
inline constexpr std::size_t denial_message_bytes_max = 256;
std::string_view denial_message(const access_denial& d, std::span<char, denial_message_bytes_max> buf);

}  // namespace warrant::engine

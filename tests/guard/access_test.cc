// engine/guard/access.*: the roles/scopes table, the role bundles, access decisions and the
// 403 messages that name what is missing.
#include "engine/guard/access.h"

#include <gtest/gtest.h>

#include <array>
#include <bit>
#include <set>
#include <string>

namespace warrant::engine {
namespace {

using net::http_method;

std::string message(const access_denial& d) {
  std::array<char, denial_message_bytes_max> buf{};
  return std::string(denial_message(d, buf));
}

TEST(AccessTable, AdminRoutesNeedPlatformAdminOfDefault) {
  const std::set<std::pair<http_method, std::string_view>> admin = {
      {http_method::post, "/v1/admin/workspaces"},
      {http_method::get, "/v1/admin/workspaces"},
      {http_method::get, "/v1/admin/workspaces/{id}"},
      {http_method::post, "/v1/admin/workspaces/{id}/keys"},
      {http_method::get, "/v1/admin/workspaces/{id}/keys"},
      {http_method::post, "/v1/admin/workspaces/{id}/keys/{key_id}/revoke"},
      {http_method::put, "/v1/admin/workspaces/{id}/limits"},
  };
  for (const auto& [method, pattern] : admin) {
    const access_rule* rule = find_route_access(method, pattern);
    ASSERT_NE(rule, nullptr) << pattern;
    EXPECT_EQ(rule->roles_any, role_platform_admin) << pattern;
    EXPECT_TRUE(rule->operator_workspace) << pattern;
    EXPECT_EQ(rule->scopes_all, 0u) << pattern;
  }
}

TEST(AccessTable, MeIsOpenToAnyValidKey) {
  const access_rule* rule = find_route_access(http_method::get, "/api/me");
  ASSERT_NE(rule, nullptr);
  EXPECT_EQ(rule->roles_any, 0u);
  EXPECT_EQ(rule->scopes_all, 0u);
  EXPECT_FALSE(rule->operator_workspace);
}

TEST(AccessTable, UnprotectedAndUnknownRoutesHaveNoEntry) {
  for (std::string_view p : {"/healthz", "/readyz", "/metrics", "/api/health", "/nope"}) {
    EXPECT_EQ(find_route_access(http_method::get, p), nullptr) << p;
  }
  EXPECT_EQ(find_route_access(http_method::del, "/api/me"), nullptr) << "keyed by method too";
}

TEST(AccessTable, EntriesAreWellFormed) {
  std::set<std::pair<http_method, std::string_view>> seen;
  for (const route_access& r : route_access_table()) {
    EXPECT_TRUE(seen.emplace(r.method, r.pattern).second) << r.pattern;
    EXPECT_EQ(r.pattern.front(), '/') << r.pattern;
    EXPECT_EQ(r.rule.roles_any & ~roles_all, 0u) << r.pattern;
    EXPECT_EQ(r.rule.scopes_all & ~scopes_all, 0u) << r.pattern;
    if (r.rule.operator_workspace) {
      EXPECT_NE(r.rule.roles_any, 0u) << r.pattern;
    }
  }
}

TEST(Scopes, NamesRoundTrip) {
  std::set<std::string_view> names;
  for (std::size_t i = 0; i < scope_count; ++i) {
    const scope_set bit = scope_set{1} << i;
    const std::string_view name = scope_name(bit);
    ASSERT_FALSE(name.empty()) << i;
    EXPECT_NE(name.find(':'), std::string_view::npos) << name;
    EXPECT_TRUE(names.insert(name).second) << name;
    EXPECT_EQ(scope_from_name(name), bit) << name;
  }
  EXPECT_EQ(scope_name(0), "");
  EXPECT_EQ(scope_name(scope_controlplane_apply | scope_controlplane_plan), "");
  EXPECT_EQ(scope_name(scope_set{1} << scope_count), "");
  EXPECT_EQ(scope_from_name("controlplane:destroy"), std::nullopt);
  EXPECT_EQ(scope_name(scope_grant_reinstate), "grant:reinstate");
}

TEST(Scopes, RoleBundlesFollowTheAuthorityReference) {
  EXPECT_EQ(scopes_of_roles(role_platform_admin), scopes_all);
  EXPECT_EQ(std::popcount(scopes_all), 34);  // 23 of the authority reference, 11 of the evidence family
  EXPECT_EQ(std::popcount(scopes_all & ~evidence_scopes), 23);
  EXPECT_EQ(scopes_of_roles(role_governance_approver),
            scope_surface_approve | scope_profile_approve | scope_governanceexpectation_approve);
  EXPECT_EQ(scopes_of_roles(role_platform_operator | role_platform_viewer | role_governance_reviewer), 0u);
  EXPECT_EQ(scopes_of_roles(0), 0u);
  EXPECT_EQ(role_scope_bundles().size(), 5u);
}

TEST(CheckAccess, AnyValidKey) {
  EXPECT_TRUE(check_access(any_valid_key, "w", 0).allowed());
  EXPECT_TRUE(check_access(any_valid_key, "default", role_platform_viewer).allowed());
}

TEST(CheckAccess, PlatformAdminOfDefault) {
  EXPECT_TRUE(check_access(platform_admin_of_default, "default", role_platform_admin).allowed());
  EXPECT_TRUE(check_access(platform_admin_of_default, "default", roles_all).allowed());
  const access_denial viewer = check_access(platform_admin_of_default, "default", role_platform_viewer);
  EXPECT_EQ(viewer.what, access_denial::kind::role);
  EXPECT_EQ(message(viewer), "this key lacks the role platform.admin");
  // An admin of another workspace is no platform admin.
  const access_denial foreign = check_access(platform_admin_of_default, "acme", role_platform_admin);
  EXPECT_EQ(foreign.what, access_denial::kind::role);
  EXPECT_EQ(message(foreign), "this key lacks the role platform.admin");
}

TEST(CheckAccess, RoleGateWithSeveralRoles) {
  EXPECT_TRUE(check_access(platform_readers, "w", role_platform_viewer).allowed());
  EXPECT_TRUE(check_access(platform_readers, "w", role_platform_operator).allowed());
  const access_denial d = check_access(platform_readers, "w", role_governance_reviewer);
  EXPECT_EQ(message(d), "this key lacks one of the roles platform.admin, platform.operator, platform.viewer");
}

TEST(CheckAccess, ScopesAreGrantedByRoles) {
  const access_rule approve{0, scope_surface_approve, false};
  EXPECT_TRUE(check_access(approve, "w", role_governance_approver).allowed());
  EXPECT_TRUE(check_access(approve, "w", role_platform_admin).allowed());
  const access_denial d = check_access(approve, "w", role_platform_operator);
  EXPECT_EQ(d.what, access_denial::kind::scope);
  EXPECT_EQ(d.scope, scope_surface_approve);
  EXPECT_EQ(message(d), "this key lacks the scope surface:approve");

  const access_rule two{0, scope_controlplane_plan | scope_surface_approve, false};
  const access_denial first_missing = check_access(two, "w", role_governance_approver);
  EXPECT_EQ(message(first_missing), "this key lacks the scope controlplane:plan");
}

TEST(CheckAccess, RolesAndScopesTogether) {
  const access_rule rule{role_platform_operator | role_platform_admin, scope_controlplane_apply, false};
  EXPECT_TRUE(check_access(rule, "w", role_platform_admin).allowed());
  EXPECT_EQ(check_access(rule, "w", role_platform_operator).what, access_denial::kind::scope);
  EXPECT_EQ(check_access(rule, "w", role_governance_approver).what, access_denial::kind::role);
}

TEST(DenialMessage, FitsItsBuffer) {
  access_denial all{access_denial::kind::role, roles_all, 0};
  const std::string m = message(all);
  EXPECT_EQ(m,
            "this key lacks one of the roles platform.admin, platform.operator, platform.viewer, "
            "governance.approver, governance.reviewer");
  EXPECT_LE(m.size(), denial_message_bytes_max);
  EXPECT_EQ(message(access_denial{}), "");
}

}  // namespace
}  // namespace warrant::engine

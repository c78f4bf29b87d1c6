// Admin routes (docs/api-admin.md, spec/common.md "Admin API"): every route, its answers and
// its validation errors, against the real warrantd.
#include <gtest/gtest.h>

#include <set>
#include <string>

#include "tests/admin/admin_fixture.h"

namespace warrant::test {
namespace {

using AdminApi = admin_fixture;

const std::string ws_path = "/v1/admin/workspaces";

void expect_workspace_shape(const json& w) {
  EXPECT_EQ(w.keys(),
            (std::vector<std::string>{"id", "name", "identity_namespace", "requests_per_minute", "created_at"}));
  if (w["id"].string != "default") {
    EXPECT_TRUE(is_uuid(w["id"].string)) << w["id"].string;
  }
  EXPECT_EQ(w["requests_per_minute"].type, json::kind::integer);
  EXPECT_TRUE(is_rfc3339_ms(w["created_at"].string)) << w["created_at"].string;
}

const std::vector<std::string> key_fields = {"id",         "workspace_id", "name",       "prefix",
                                             "last4",      "roles",        "requests_per_minute",
                                             "created_at", "expires_at",   "revoked_at"};

void expect_key_shape(const json& k, bool with_secret) {
  std::vector<std::string> fields = key_fields;
  if (with_secret) fields.insert(fields.begin() + 2, "key");
  EXPECT_EQ(k.keys(), fields);
  EXPECT_TRUE(is_uuid(k["id"].string)) << k["id"].string;
  EXPECT_TRUE(is_rfc3339_ms(k["created_at"].string));
  EXPECT_EQ(k["prefix"].string.size(), 9u);
  EXPECT_EQ(k["prefix"].string.rfind("wrnt_", 0), 0u);
  EXPECT_EQ(k["last4"].string.size(), 4u);
  if (with_secret) {
    const std::string& secret = k["key"].string;
    ASSERT_EQ(secret.size(), 54u) << secret;
    EXPECT_EQ(secret.substr(0, 9), k["prefix"].string);
    EXPECT_EQ(secret.substr(50), k["last4"].string);
  }
}

std::vector<std::string> role_names(const json& k) {
  std::vector<std::string> out;
  for (const json& r : k["roles"].items) out.push_back(r.string);
  return out;
}

// ---- workspaces ---------------------------------------------------------------------------

TEST_F(AdminApi, CreateWorkspaceAnswers201WithTheWorkspace) {
  const std::int64_t before = now_unix_ms();
  const http_response r = admin("POST", ws_path, R"({"name":"acme","identity_namespace":"acme-users"})");
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(r.header("content-type"), "application/json");
  const json w = body_json(r);
  expect_workspace_shape(w);
  EXPECT_EQ(w["name"].string, "acme");
  EXPECT_EQ(w["identity_namespace"].string, "acme-users");
  EXPECT_EQ(w["requests_per_minute"].integer, 2000);
  EXPECT_GE(w["created_at"].string, rfc3339_ms(before - 1000));  // same clock; loose bound

  const http_response got = admin("GET", ws_path + "/" + w["id"].string);
  ASSERT_EQ(got.status, 200);
  EXPECT_EQ(got.body, r.body);
}

TEST_F(AdminApi, IdentityNamespaceDefaultsToTheWorkspaceId) {
  const json w = create_workspace("plain");
  EXPECT_EQ(w["identity_namespace"].string, w["id"].string);
}

TEST_F(AdminApi, CreateWorkspaceAcceptsJsonWithParameters) {
  const http_response r = call("POST", ws_path, R"({"name":"x"})", admin_key(), "Application/JSON; charset=utf-8");
  EXPECT_EQ(r.status, 201) << r.body;
}

TEST_F(AdminApi, CreateWorkspaceValidation) {
  EXPECT_TRUE(is_error(call("POST", ws_path, R"({"name":"x"})", admin_key(), ""), 415, "UNSUPPORTED_MEDIA_TYPE"));
  EXPECT_TRUE(
      is_error(call("POST", ws_path, R"({"name":"x"})", admin_key(), "text/plain"), 415, "UNSUPPORTED_MEDIA_TYPE"));
  for (const char* body :
       {R"({})", R"({"name":""})", R"({"name":7})", R"({"name":null})", R"({"name":["a"]})",
        R"({"name":"a","identity_namespace":5})", R"({"name":"a","plan":"pro"})", R"({"Name":"a"})"}) {
    const http_response r = admin("POST", ws_path, body);
    EXPECT_TRUE(is_error(r, 400, "VALIDATION_ERROR")) << body << " → " << r.body;
  }
  // Identifiers and names: at most 255 bytes.
  EXPECT_EQ(admin("POST", ws_path, R"({"name":)" + json_quote(std::string(255, 'n')) + "}").status, 201);
  EXPECT_TRUE(is_error(admin("POST", ws_path, R"({"name":)" + json_quote(std::string(256, 'n')) + "}"), 400,
                       "VALIDATION_ERROR"));
  EXPECT_TRUE(
      is_error(admin("POST", ws_path, R"({"name":"a","identity_namespace":)" + json_quote(std::string(256, 'n')) + "}"),
               400, "VALIDATION_ERROR"));
}

TEST_F(AdminApi, MalformedJsonIs400WithTheByteOffset) {
  const json w = create_workspace("target");
  const std::string id = w["id"].string;
  struct route {
    std::string method, path, valid_body;
  };
  for (const route& rt : {route{"POST", ws_path, R"({"name":"x"})"},
                          route{"POST", ws_path + "/" + id + "/keys", R"({"roles":["platform.viewer"]})"},
                          route{"PUT", ws_path + "/" + id + "/limits", R"({"requests_per_minute":5})"}}) {
    for (const std::string& body : std::vector<std::string>{R"({"name":)", R"({"name" "x"})", R"({"roles":[}])", "{,}",
                                                            "{", rt.valid_body + "]", rt.valid_body + " {}"}) {
      const http_response r = admin(rt.method, rt.path, body);
      EXPECT_TRUE(is_error(r, 400, "INVALID_JSON")) << rt.path << " " << body << " → " << r.body;
      EXPECT_NE(body_json(r)["error"].string.find("at byte "), std::string::npos) << r.body;
    }
    // Not an object at all. (The answer names no byte offset for these: simdjson's on-demand
    // parser only sees "not an object" — reported to the lead as a small deviation.)
    for (const char* body : {"nope", "[1]", "\"text\"", "42"}) {
      EXPECT_TRUE(is_error(admin(rt.method, rt.path, body), 400, "INVALID_JSON")) << rt.path << " " << body;
    }
    EXPECT_TRUE(is_error(admin(rt.method, rt.path, ""), 400, "INVALID_JSON")) << rt.path;
  }
  // None of them wrote anything.
  EXPECT_EQ(body_json(admin("GET", ws_path))["workspaces"].items.size(), 2u);
  EXPECT_TRUE(body_json(admin("GET", ws_path + "/" + id + "/keys"))["keys"].items.empty());
  EXPECT_EQ(body_json(admin("GET", ws_path + "/" + id))["requests_per_minute"].integer, 2000);
}

TEST_F(AdminApi, GetUnknownWorkspaceIs404) {
  EXPECT_TRUE(is_error(admin("GET", ws_path + "/01a209f3-8045-7b72-958f-662560d5077b"), 404, "NOT_FOUND"));
  EXPECT_TRUE(is_error(admin("GET", ws_path + "/nope"), 404, "NOT_FOUND"));
  EXPECT_EQ(admin("GET", ws_path + "/default").status, 200);
}

TEST_F(AdminApi, ListWorkspacesNewestFirstWithPaging) {
  std::vector<std::string> created;  // oldest first
  for (int i = 0; i < 20; ++i) created.push_back(create_workspace("ws-" + std::to_string(i))["id"].string);
  created.insert(created.begin(), "default");

  const http_response all = admin("GET", ws_path);
  ASSERT_EQ(all.status, 200) << all.body;
  const json whole = body_json(all);
  EXPECT_EQ(whole.keys(), (std::vector<std::string>{"workspaces", "next_cursor"}));
  ASSERT_EQ(whole["workspaces"].items.size(), created.size());
  EXPECT_TRUE(whole["next_cursor"].is_null());
  for (std::size_t i = 0; i < created.size(); ++i) {
    EXPECT_EQ(whole["workspaces"].items[i]["id"].string, created[created.size() - 1 - i]) << i;
    expect_workspace_shape(whole["workspaces"].items[i]);
  }

  for (std::size_t limit : {1u, 3u, 8u}) {
    std::vector<std::string> paged;
    std::string cursor;
    int pages = 0;
    while (true) {
      std::string target = ws_path + "?limit=" + std::to_string(limit);
      if (!cursor.empty()) target += "&cursor=" + cursor;
      const http_response r = admin("GET", target);
      ASSERT_EQ(r.status, 200) << r.body;
      const json page = body_json(r);
      EXPECT_LE(page["workspaces"].items.size(), limit);
      for (const json& w : page["workspaces"].items) paged.push_back(w["id"].string);
      ++pages;
      if (page["next_cursor"].is_null()) break;
      cursor = page["next_cursor"].string;
      ASSERT_LT(pages, 40);
    }
    EXPECT_EQ(pages, static_cast<int>((created.size() + limit - 1) / limit)) << "limit " << limit;
    std::vector<std::string> expected(created.rbegin(), created.rend());
    EXPECT_EQ(paged, expected) << "limit " << limit;
  }
}

TEST_F(AdminApi, ListWorkspacesValidatesLimitAndCursor) {
  for (const char* q : {"?limit=0", "?limit=501", "?limit=abc", "?limit=-1", "?limit=1.5",
                        "?limit=", "?cursor=01a209f3-8045-7b72-958f-662560d5077b"}) {
    if (std::string_view(q) == "?limit=") continue;  // empty means the default
    EXPECT_TRUE(is_error(admin("GET", ws_path + q), 400, "VALIDATION_ERROR")) << q;
  }
  EXPECT_EQ(admin("GET", ws_path + "?limit=500").status, 200);
  EXPECT_EQ(admin("GET", ws_path + "?limit=1").status, 200);
}

TEST_F(AdminApi, ListWorkspacesDefaultLimitIs100) {
  for (int i = 0; i < 101; ++i) create_workspace(std::string("w").append(std::to_string(i)));
  const json page = body_json(admin("GET", ws_path));
  EXPECT_EQ(page["workspaces"].items.size(), 100u);
  ASSERT_TRUE(page["next_cursor"].is_string());
  const json rest = body_json(admin("GET", ws_path + "?cursor=" + page["next_cursor"].string));
  ASSERT_EQ(rest["workspaces"].items.size(), 2u);  // w0 and default
  EXPECT_EQ(rest["workspaces"].items[1]["id"].string, "default");
  EXPECT_TRUE(rest["next_cursor"].is_null());
}

// ---- keys ---------------------------------------------------------------------------------

TEST_F(AdminApi, CreateKeyAnswers201WithTheSecretOnce) {
  const std::string ws = create_workspace("keys")["id"].string;
  const http_response r =
      admin("POST", ws_path + "/" + ws + "/keys", R"({"name":"ci","roles":["platform.viewer","platform.operator"]})");
  ASSERT_EQ(r.status, 201) << r.body;
  const json k = body_json(r);
  expect_key_shape(k, true);
  EXPECT_EQ(k["workspace_id"].string, ws);
  EXPECT_EQ(k["name"].string, "ci");
  EXPECT_EQ(role_names(k), (std::vector<std::string>{"platform.operator", "platform.viewer"}));
  EXPECT_TRUE(k["expires_at"].is_null());
  EXPECT_TRUE(k["revoked_at"].is_null());

  const http_response list = admin("GET", ws_path + "/" + ws + "/keys");
  ASSERT_EQ(list.status, 200);
  EXPECT_EQ(list.body.find(k["key"].string), std::string::npos) << "the secret is shown once only";
  const json keys = body_json(list);
  EXPECT_EQ(keys.keys(), (std::vector<std::string>{"keys"}));
  ASSERT_EQ(keys["keys"].items.size(), 1u);
  expect_key_shape(keys["keys"].items[0], false);
  for (const std::string& f : key_fields) {
    EXPECT_EQ(keys["keys"].items[0][f].string, k[f].string) << f;
  }
}

TEST_F(AdminApi, CreateKeyWithoutNameAndWithExpiry) {
  const std::string ws = create_workspace("keys")["id"].string;
  const std::int64_t expires = now_unix_ms() + 86'400'000;
  const json k = create_key(ws, R"(["governance.approver"])", R"("expires_at":)" + json_quote(rfc3339_ms(expires)));
  EXPECT_TRUE(k["name"].is_null());
  EXPECT_EQ(k["expires_at"].string, rfc3339_ms(expires));
  const json k2 = create_key(ws, R"(["governance.reviewer"])", R"("expires_at":null)");
  EXPECT_TRUE(k2["expires_at"].is_null());
  // Another RFC 3339 spelling is accepted and answered in canonical form.
  const json k3 = create_key(ws, R"(["platform.viewer"])", R"("expires_at":"2099-01-02T03:04:05+00:00")");
  EXPECT_EQ(k3["expires_at"].string, "2099-01-02T03:04:05.000Z");
  // A malformed null atom is a 400 and the server goes on (simdjson's is_null() used to throw).
  for (std::string_view member : {R"("expires_at":nul)", R"("requests_per_minute":nullK)"}) {
    const http_response r = admin("POST", "/v1/admin/workspaces/" + ws + "/keys",
                                  R"({"roles":["platform.viewer"],)" + std::string(member) + "}");
    EXPECT_EQ(r.status, 400) << member << ": " << r.body;
  }
  EXPECT_EQ(admin("GET", "/v1/admin/workspaces/" + ws).status, 200);
}

TEST_F(AdminApi, EveryRoleIsAccepted) {
  const std::string ws = create_workspace("roles")["id"].string;
  const std::vector<std::string> all = {"platform.admin", "platform.operator", "platform.viewer", "governance.approver",
                                        "governance.reviewer"};
  for (const std::string& role : all) {
    EXPECT_EQ(role_names(create_key(ws, std::string("[").append(json_quote(role)).append("]"))),
              std::vector<std::string>{role});
  }
  std::string every = "[";
  for (auto it = all.rbegin(); it != all.rend(); ++it)
    every.append(every.size() > 1 ? "," : "").append(json_quote(*it));
  EXPECT_EQ(role_names(create_key(ws, every + "]")), all);
}

TEST_F(AdminApi, CreateKeyValidation) {
  const std::string ws = create_workspace("v")["id"].string;
  const std::string path = ws_path + "/" + ws + "/keys";
  const std::string past = json_quote(rfc3339_ms(now_unix_ms() - 1000));
  for (const std::string& body : std::vector<std::string>{
           R"({})", R"({"roles":[]})", R"({"roles":["root"]})", R"({"roles":["platform.viewer","root"]})",
           R"({"roles":"platform.viewer"})", R"({"roles":[1]})", R"({"roles":null})",
           R"({"roles":["platform.viewer"],"scopes":[]})", R"({"roles":["platform.viewer"],"name":1})",
           R"({"roles":["platform.viewer"],"expires_at":"tomorrow"})",
           R"({"roles":["platform.viewer"],"expires_at":5})",
           R"({"roles":["platform.viewer"],"expires_at":)" + past + "}",
           R"({"roles":["platform.viewer"],"name":)" + json_quote(std::string(256, 'k')) + "}"}) {
    EXPECT_TRUE(is_error(admin("POST", path, body), 400, "VALIDATION_ERROR")) << body;
  }
  EXPECT_TRUE(is_error(call("POST", path, R"({"roles":["platform.viewer"]})", admin_key(), "text/plain"), 415,
                       "UNSUPPORTED_MEDIA_TYPE"));
  EXPECT_TRUE(is_error(admin("POST", ws_path + "/nope/keys", R"({"roles":["platform.viewer"]})"), 404, "NOT_FOUND"));
  const json keys = body_json(admin("GET", path));
  EXPECT_TRUE(keys["keys"].items.empty()) << "a refused create wrote nothing";
}

TEST_F(AdminApi, ListKeysOldestFirstAndUnknownWorkspace) {
  const std::string ws = create_workspace("list")["id"].string;
  std::vector<std::string> ids;
  for (int i = 0; i < 20; ++i) ids.push_back(create_key(ws, R"(["platform.viewer"])")["id"].string);
  const json keys = body_json(admin("GET", ws_path + "/" + ws + "/keys"));
  std::vector<std::string> listed;
  for (const json& k : keys["keys"].items) listed.push_back(k["id"].string);
  EXPECT_EQ(listed, ids);
  EXPECT_TRUE(is_error(admin("GET", ws_path + "/nope/keys"), 404, "NOT_FOUND"));
  // Another workspace's keys are not listed here.
  const std::string other = create_workspace("other")["id"].string;
  EXPECT_TRUE(body_json(admin("GET", ws_path + "/" + other + "/keys"))["keys"].items.empty());
}

TEST_F(AdminApi, RevokeKeyAnswersTheKeyAndIsIdempotent) {
  const std::string ws = create_workspace("revoke")["id"].string;
  const json k = create_key(ws, R"(["platform.viewer"])", R"("name":"r")");
  const std::string path = ws_path + "/" + ws + "/keys/" + k["id"].string + "/revoke";
  const http_response first = call("POST", path, "", admin_key(), "");
  ASSERT_EQ(first.status, 200) << first.body;
  const json revoked = body_json(first);
  expect_key_shape(revoked, false);
  EXPECT_TRUE(is_rfc3339_ms(revoked["revoked_at"].string));
  EXPECT_EQ(revoked["id"].string, k["id"].string);
  EXPECT_EQ(revoked["name"].string, "r");

  const http_response second = call("POST", path, "", admin_key(), "");
  ASSERT_EQ(second.status, 200) << second.body;
  EXPECT_EQ(body_json(second)["revoked_at"].string, revoked["revoked_at"].string);
  EXPECT_EQ(second.body, first.body);

  const json listed = body_json(admin("GET", ws_path + "/" + ws + "/keys"))["keys"].items.at(0);
  EXPECT_EQ(listed["revoked_at"].string, revoked["revoked_at"].string);
}

TEST_F(AdminApi, RevokeUnknownKeyOrWorkspaceIs404) {
  const std::string ws = create_workspace("a")["id"].string;
  const std::string other = create_workspace("b")["id"].string;
  const std::string key_id = create_key(ws, R"(["platform.viewer"])")["id"].string;
  EXPECT_TRUE(is_error(admin("POST", ws_path + "/" + ws + "/keys/01a209f3-815c-7738-91ab-d45cf27eeb8d/revoke"), 404,
                       "NOT_FOUND"));
  EXPECT_TRUE(is_error(admin("POST", ws_path + "/nope/keys/" + key_id + "/revoke"), 404, "NOT_FOUND"));
  // The key exists, but not in that workspace.
  EXPECT_TRUE(is_error(admin("POST", ws_path + "/" + other + "/keys/" + key_id + "/revoke"), 404, "NOT_FOUND"));
  EXPECT_TRUE(body_json(admin("GET", ws_path + "/" + ws + "/keys"))["keys"].items.at(0)["revoked_at"].is_null());
}

// ---- limits -------------------------------------------------------------------------------

TEST_F(AdminApi, SetLimitsAnswersAndIsVisible) {
  const std::string ws = create_workspace("limits")["id"].string;
  const std::string path = ws_path + "/" + ws + "/limits";
  for (std::int64_t rpm : {5000, 1, 10'000'000}) {
    const http_response r = admin("PUT", path, R"({"requests_per_minute":)" + std::to_string(rpm) + "}");
    ASSERT_EQ(r.status, 200) << r.body;
    const json j = body_json(r);
    EXPECT_EQ(j.keys(), (std::vector<std::string>{"workspace_id", "requests_per_minute"}));
    EXPECT_EQ(j["workspace_id"].string, ws);
    EXPECT_EQ(j["requests_per_minute"].integer, rpm);
    EXPECT_EQ(body_json(admin("GET", ws_path + "/" + ws))["requests_per_minute"].integer, rpm);
  }
  const json listed = body_json(admin("GET", ws_path + "?limit=1"))["workspaces"].items.at(0);
  EXPECT_EQ(listed["requests_per_minute"].integer, 10'000'000);
}

TEST_F(AdminApi, SetLimitsValidation) {
  const std::string ws = create_workspace("limits")["id"].string;
  const std::string path = ws_path + "/" + ws + "/limits";
  for (const char* body :
       {R"({})", R"({"requests_per_minute":0})", R"({"requests_per_minute":10000001})", R"({"requests_per_minute":-1})",
        R"({"requests_per_minute":"5"})", R"({"requests_per_minute":1.5})", R"({"requests_per_minute":null})",
        R"({"requests_per_minute":5,"burst":2})", R"({"rpm":5})"}) {
    EXPECT_TRUE(is_error(admin("PUT", path, body), 400, "VALIDATION_ERROR")) << body;
  }
  EXPECT_TRUE(
      is_error(call("PUT", path, R"({"requests_per_minute":5})", admin_key(), ""), 415, "UNSUPPORTED_MEDIA_TYPE"));
  EXPECT_TRUE(is_error(admin("PUT", ws_path + "/nope/limits", R"({"requests_per_minute":5})"), 404, "NOT_FOUND"));
  EXPECT_EQ(body_json(admin("GET", ws_path + "/" + ws))["requests_per_minute"].integer, 2000);
}

// ---- routing ------------------------------------------------------------------------------

TEST_F(AdminApi, WrongMethodIs405WithAllow) {
  const http_response r = admin("DELETE", ws_path);
  EXPECT_TRUE(is_error(r, 405, "METHOD_NOT_ALLOWED")) << r.body;
  EXPECT_NE(r.header("allow").find("GET"), std::string::npos) << r.header("allow");
  EXPECT_NE(r.header("allow").find("POST"), std::string::npos) << r.header("allow");
  const http_response limits = admin("POST", ws_path + "/default/limits", R"({"requests_per_minute":5})");
  EXPECT_EQ(limits.status, 405);
  EXPECT_EQ(limits.header("allow"), "PUT");
}

TEST_F(AdminApi, WorkspaceIdsAreUnique) {
  std::set<std::string> ids;
  for (int i = 0; i < 50; ++i) ids.insert(create_workspace("same-name")["id"].string);
  EXPECT_EQ(ids.size(), 50u);
}

}  // namespace
}  // namespace warrant::test

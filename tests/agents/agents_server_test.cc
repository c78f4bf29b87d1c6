// tests/agents/agents_server_test.cc: the agent registry end to end against the real warrantd
// (engine/agents/agent_routes.h; docs/api-evidence.md "Agents"): every route, the AI_AGENT
// guardrails, presets as scopes, the lifecycle and its 409s, keys shown once and dead at once,
// idempotent creation, event and bulk guardrails, policy step 1, workspaces kept apart, and
// restarts that recover the registry.
#include <gtest/gtest.h>

#pragma GCC diagnostic ignored "-Wrestrict"

#include <algorithm>
#include <set>

#include "tests/agents/agents_fixture.h"

namespace warrant::test {
namespace {

using agents = agents_fixture;

bool has_reason(const json& decision, std::string_view code) {
  for (const json& r : decision["reasons"].items) {
    if (r.string == code) return true;
  }
  return false;
}

std::string event_body(std::string_view type) {
  return R"({"userExternalId":"u-1","eventType":)" + json_quote(type) + "}";
}

TEST_F(agents, CreateShowsTheKeyOnceAndTheRecordCarriesEveryField) {
  const http_response r = req("POST", "/v1/agents",
                              R"({"name":"bot","type":"AI_AGENT","preset":"standard",)"
                              R"("allowedEventTypes":["ai.task.completed"],"owner":"team-a","model_version":"m-1",)"
                              R"("endpoint":"https://bot.example","rootAuthorizer":"alice"})");
  ASSERT_EQ(r.status, 201) << r.body;
  const json j = body_json(r);
  const json& a = j["agent"];
  EXPECT_TRUE(is_uuid(a["id"].string));
  EXPECT_EQ(j["apiKey"].string.substr(0, 5), "wrnt_");
  EXPECT_EQ(a["type"].string, "AI_AGENT");
  EXPECT_EQ(a["preset"].string, "standard");
  EXPECT_EQ(a["status"].string, "ACTIVE");
  EXPECT_EQ(a["effectiveStatus"].string, "ACTIVE");
  EXPECT_EQ(a["requireIdempotency"].boolean, true);  // AI_AGENT default
  EXPECT_EQ(a["owner"].string, "team-a");
  EXPECT_EQ(a["model_version"].string, "m-1");
  EXPECT_EQ(a["endpoint"].string, "https://bot.example");
  EXPECT_TRUE(a["operational_state"].is_null());
  EXPECT_EQ(a["rootAuthorizer"].string, "alice");
  EXPECT_EQ(a["depth"].integer, 0);
  EXPECT_EQ(a["membershipSource"].string, "registered");
  EXPECT_EQ(a["rootId"].string, a["id"].string);
  EXPECT_TRUE(a["parentId"].is_null());
  EXPECT_EQ(a["authMode"].string, "api_key");
  EXPECT_EQ(a["keyLast4"].string, j["apiKey"].string.substr(j["apiKey"].string.size() - 4));
  ASSERT_EQ(a["allowedEventTypes"].items.size(), 1u);
  EXPECT_TRUE(a["lastActivityAt"].is_null());
  bool has_events_write = false;
  for (const json& s : a["scopes"].items) has_events_write |= s.string == "events:write";
  EXPECT_TRUE(has_events_write);

  const json got = get_agent(a["id"].string);
  EXPECT_FALSE(got.has("apiKey"));
  EXPECT_EQ(got["id"].string, a["id"].string);
  // The key authenticates as the agent.
  EXPECT_EQ(auth_status(j["apiKey"].string), 200);

  const agent_handle svc = create(R"({"name":"svc","type":"SERVICE_ACCOUNT","preset":"admin"})");
  EXPECT_EQ(svc.agent["requireIdempotency"].boolean, false);
  EXPECT_EQ(svc.agent["allowedEventTypes"].items.size(), 0u);
}

TEST_F(agents, GuardrailsAndValidation) {
  EXPECT_TRUE(is_error(req("POST", "/v1/agents", R"({"name":"b","type":"AI_AGENT","preset":"standard"})"), 400,
                       "AGENT_ALLOWLIST_REQUIRED"));
  EXPECT_TRUE(is_error(req("POST", "/v1/agents",
                           R"({"name":"b","type":"AI_AGENT","preset":"standard","allowedEventTypes":[]})"),
                       400, "AGENT_ALLOWLIST_REQUIRED"));
  EXPECT_TRUE(is_error(req("POST", "/v1/agents",
                           R"({"name":"b","type":"AI_AGENT","preset":"admin","allowedEventTypes":["ai.escalated"]})"),
                       400, "AGENT_ADMIN_PRESET_FORBIDDEN"));
  EXPECT_TRUE(is_error(req("POST", "/v1/agents",
                           R"({"name":"b","type":"AI_AGENT","preset":"standard","allowedEventTypes":["nope.x"]})"),
                       400, "INVALID_EVENT_TYPE"));
  EXPECT_TRUE(is_error(req("POST", "/v1/agents", R"({"name":"b","type":"ROBOT","preset":"standard"})"), 400,
                       "VALIDATION_ERROR"));
  EXPECT_TRUE(is_error(req("POST", "/v1/agents", R"({"name":"b","type":"SERVICE_ACCOUNT","preset":"root"})"), 400,
                       "VALIDATION_ERROR"));
  EXPECT_TRUE(is_error(req("POST", "/v1/agents", R"({"type":"SERVICE_ACCOUNT","preset":"admin"})"), 400,
                       "VALIDATION_ERROR"));
  EXPECT_TRUE(is_error(req("POST", "/v1/agents", R"({"name":"b","type":"SERVICE_ACCOUNT"})"), 400,
                       "VALIDATION_ERROR"));
  EXPECT_TRUE(is_error(req("POST", "/v1/agents", R"({"name":"b","type":"SERVICE_ACCOUNT","preset":"admin","x":1})"),
                       400, "VALIDATION_ERROR"));
  EXPECT_TRUE(is_error(req("POST", "/v1/agents", R"({"name":"b",)"), 400, "INVALID_JSON"));
  // A malformed null atom where null is allowed is a 400, not a crash (found by
  // tests/fuzz/agent_request_fuzz.cc: simdjson's is_null() threw on it).
  for (std::string_view atom : {"nullK", "nul", "nulll"}) {
    const http_response r = req("POST", "/v1/agents",
                                R"({"name":"b","type":"SERVICE_ACCOUNT","preset":"admin","rateLimitPerMinute":)" +
                                    std::string(atom) + "}");
    EXPECT_EQ(r.status, 400) << atom << ": " << r.body;
  }
  EXPECT_TRUE(is_error(req("PUT", "/v1/agents/spawn-policy", R"({"enabled":nul})"), 400, "VALIDATION_ERROR"));
  EXPECT_TRUE(is_error(req("POST", "/v1/agents",
                           R"({"name":"b","type":"SERVICE_ACCOUNT","preset":"admin","rateLimitPerMinute":2001})"),
                       400, "RATE_LIMIT_ABOVE_WORKSPACE"));
  EXPECT_EQ(req("GET", "/v1/agents/" + std::string("0190a0b0-0000-7000-8000-000000000000")).status, 404);
}

TEST_F(agents, CreationIsIdempotentAndTheReplayNeverShowsTheKey) {
  const std::string body = R"({"name":"idem","type":"SERVICE_ACCOUNT","preset":"read_only"})";
  const http_response first = req("POST", "/v1/agents", body, {}, "create-1");
  ASSERT_EQ(first.status, 201) << first.body;
  const http_response again = req("POST", "/v1/agents", body, {}, "create-1");
  ASSERT_EQ(again.status, 201) << again.body;
  EXPECT_EQ(again.header("X-Idempotency-Replay"), "true");
  EXPECT_EQ(body_json(again)["agent"]["id"].string, body_json(first)["agent"]["id"].string);
  EXPECT_TRUE(body_json(again)["apiKey"].is_null());
  EXPECT_FALSE(body_json(first)["apiKey"].is_null());
  EXPECT_TRUE(is_error(req("POST", "/v1/agents", R"({"name":"other","type":"SERVICE_ACCOUNT","preset":"read_only"})",
                           {}, "create-1"),
                       422, "IDEMPOTENCY_KEY_REUSED"));
  const json list = body_json(req("GET", "/v1/agents"));
  EXPECT_EQ(list["agents"].items.size(), 1u);
}

TEST_F(agents, PresetsAreScopes) {
  const agent_handle ro = create(R"({"name":"ro","type":"SERVICE_ACCOUNT","preset":"read_only"})");
  EXPECT_EQ(req("GET", "/v1/events", {}, ro.key).status, 200);
  const http_response w = req("POST", "/v1/events", event_body("ai.task.completed"), ro.key);
  ASSERT_TRUE(is_error(w, 403, "FORBIDDEN"));
  EXPECT_NE(w.body.find("events:write"), std::string::npos) << w.body;
  EXPECT_TRUE(is_error(req("POST", "/v1/agents", R"({"name":"x","type":"SERVICE_ACCOUNT","preset":"read_only"})",
                           ro.key),
                       403, "FORBIDDEN"));
  EXPECT_EQ(req("GET", "/v1/agents", {}, ro.key).status, 200);
  EXPECT_EQ(req("POST", "/v1/policy/evaluate", R"({"actor":{"type":"human","id":"h"},"action":"account.login"})", ro.key)
                .status,
            200);
  // Only admin (agents:write) manages the registry; only operator and above resolve claims.
  const agent_handle std_ = create(R"({"name":"std","type":"SERVICE_ACCOUNT","preset":"standard"})");
  EXPECT_EQ(req("POST", "/v1/events", event_body("ai.task.completed"), std_.key).status, 201);
  const http_response res = req("POST", "/v1/claims/0190a0b0-0000-7000-8000-000000000000/uphold", "{}", std_.key);
  EXPECT_TRUE(is_error(res, 403, "FORBIDDEN")) << res.body;
  const agent_handle adm = create(R"({"name":"adm","type":"SERVICE_ACCOUNT","preset":"admin"})");
  EXPECT_EQ(req("POST", "/v1/agents", R"({"name":"by-agent","type":"SERVICE_ACCOUNT","preset":"read_only"})",
                adm.key)
                .status,
            201);
  // Workspace keys keep every evidence route.
  EXPECT_EQ(req("POST", "/v1/events", event_body("account.created")).status, 201);
}

TEST_F(agents, LifecycleTransitionsAndTheirConflicts) {
  const agent_handle a = create_ai("life");
  const std::string base = "/v1/agents/" + a.id;
  EXPECT_EQ(auth_status(a.key), 200);

  http_response r = req("POST", base + "/suspend");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(body_json(r)["status"].string, "SUSPENDED");
  EXPECT_EQ(auth_status(a.key), 401);  // the next request already sees it
  r = req("POST", base + "/suspend");
  ASSERT_TRUE(is_error(r, 409, "INVALID_AGENT_TRANSITION"));
  EXPECT_EQ(body_json(r)["status"].string, "SUSPENDED");
  r = req("POST", base + "/approve");
  ASSERT_TRUE(is_error(r, 409, "INVALID_AGENT_TRANSITION"));

  r = req("POST", base + "/reactivate");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(body_json(r)["status"].string, "ACTIVE");
  EXPECT_EQ(auth_status(a.key), 200);
  r = req("POST", base + "/reactivate");
  ASSERT_TRUE(is_error(r, 409, "INVALID_AGENT_TRANSITION"));
  EXPECT_EQ(body_json(r)["status"].string, "ACTIVE");

  // Rotation: the new key works at once, the old one is dead at once.
  r = req("POST", base + "/key/rotate");
  ASSERT_EQ(r.status, 200) << r.body;
  const std::string rotated = body_json(r)["apiKey"].string;
  EXPECT_NE(rotated, a.key);
  EXPECT_EQ(auth_status(a.key), 401);
  EXPECT_EQ(auth_status(rotated), 200);
  EXPECT_EQ(get_agent(a.id)["keyLast4"].string, rotated.substr(rotated.size() - 4));

  r = req("POST", base + "/revoke");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(body_json(r)["status"].string, "REVOKED");
  EXPECT_EQ(body_json(r)["keyActive"].boolean, false);
  EXPECT_EQ(auth_status(rotated), 401);
  for (const char* action : {"/suspend", "/reactivate", "/revoke", "/approve", "/key/rotate"}) {
    r = req("POST", base + action);
    ASSERT_TRUE(is_error(r, 409, "INVALID_AGENT_TRANSITION")) << action << " " << r.body;
    EXPECT_EQ(body_json(r)["status"].string, "REVOKED") << action;
  }
  // The revoked key's record is erased: the admin key list no longer has it.
  const json keys = body_json(admin("GET", "/v1/admin/workspaces/" + ws_id + "/keys"));
  for (const json& k : keys["keys"].items) EXPECT_NE(k["last4"].string, rotated.substr(rotated.size() - 4));
}

TEST_F(agents, AnotherWorkspacesAgentIsNotFound) {
  const agent_handle a = create_ai("mine");
  const json other_ws = create_workspace("other");
  const std::string other_key = create_key(other_ws["id"].string, R"(["platform.operator"])")["key"].string;
  for (const char* suffix : {"", "/lineage"}) {
    EXPECT_TRUE(is_error(req("GET", "/v1/agents/" + a.id + suffix, {}, other_key), 404, "NOT_FOUND"));
  }
  for (const char* action : {"/suspend", "/reactivate", "/revoke", "/approve", "/key/rotate", "/revoke-descendants"}) {
    EXPECT_TRUE(is_error(req("POST", "/v1/agents/" + a.id + action, {}, other_key), 404, "NOT_FOUND")) << action;
  }
  EXPECT_TRUE(is_error(req("POST", "/v1/agents/" + a.id + "/spawn", R"({"name":"c"})", other_key), 404, "NOT_FOUND"));
  EXPECT_EQ(body_json(req("GET", "/v1/agents", {}, other_key))["agents"].items.size(), 0u);
  EXPECT_TRUE(is_error(req("GET", "/v1/agents/tree?rootId=" + a.id, {}, other_key), 404, "NOT_FOUND"));
  // Another workspace's suspended agent is not "a registered agent of this workspace".
  ASSERT_EQ(req("POST", "/v1/agents/" + a.id + "/suspend").status, 200);
  EXPECT_EQ(evaluate_service(a.id, other_key)["decision"].string, "ALLOW");
  EXPECT_EQ(evaluate_service(a.id)["decision"].string, "DENY");
}

TEST_F(agents, ListFiltersAndPages) {
  const agent_handle a1 = create_ai("a1");
  const agent_handle s1 = create(R"({"name":"s1","type":"SERVICE_ACCOUNT","preset":"read_only"})");
  const agent_handle a2 = create_ai("a2", "standard");
  ASSERT_EQ(req("POST", "/v1/agents/" + a2.id + "/suspend").status, 200);

  json page = body_json(req("GET", "/v1/agents?limit=2"));
  ASSERT_EQ(page["agents"].items.size(), 2u);
  EXPECT_EQ(page["agents"].items[0]["id"].string, a2.id);  // newest first
  EXPECT_EQ(page["agents"].items[1]["id"].string, s1.id);
  ASSERT_TRUE(page["nextCursor"].is_string());
  json next = body_json(req("GET", "/v1/agents?limit=2&cursor=" + page["nextCursor"].string));
  ASSERT_EQ(next["agents"].items.size(), 1u);
  EXPECT_EQ(next["agents"].items[0]["id"].string, a1.id);
  EXPECT_TRUE(next["nextCursor"].is_null());

  auto ids = [&](std::string_view query) {
    std::vector<std::string> out;
    const http_response r = req("GET", "/v1/agents?" + std::string(query));
    EXPECT_EQ(r.status, 200) << r.body;
    const json list = body_json(r);
    for (const json& a : list["agents"].items) out.push_back(a["id"].string);
    return out;
  };
  EXPECT_EQ(ids("status=SUSPENDED"), std::vector<std::string>{a2.id});
  EXPECT_EQ(ids("type=SERVICE_ACCOUNT"), std::vector<std::string>{s1.id});
  EXPECT_EQ(ids("preset=operator"), std::vector<std::string>{a1.id});
  EXPECT_EQ(ids("depth=0").size(), 3u);
  EXPECT_EQ(ids("depth=1").size(), 0u);
  EXPECT_EQ(ids("authMode=api_key").size(), 3u);
  EXPECT_EQ(ids("authMode=oauth").size(), 0u);
  EXPECT_EQ(ids("parentId=" + a1.id).size(), 0u);
  EXPECT_TRUE(is_error(req("GET", "/v1/agents?status=BORED"), 400, "VALIDATION_ERROR"));
  EXPECT_TRUE(is_error(req("GET", "/v1/agents?limit=0"), 400, "VALIDATION_ERROR"));
  EXPECT_TRUE(is_error(req("GET", "/v1/agents?cursor=zzz"), 400, "VALIDATION_ERROR"));

  // lastActivityAt: maintained in memory on admission, filterable.
  const std::int64_t before = now_unix_ms() - 1000;
  EXPECT_EQ(auth_status(a1.key), 200);
  const json got = get_agent(a1.id);
  ASSERT_TRUE(got["lastActivityAt"].is_string()) << got.dump();
  EXPECT_EQ(ids("lastActivityAt=" + rfc3339_ms(before)), std::vector<std::string>{a1.id});
}

TEST_F(agents, EventGuardrailsForAgentKeys) {
  const agent_handle a = create_ai("ingest", "standard");
  EXPECT_TRUE(is_error(req("POST", "/v1/events", event_body("ai.task.completed"), a.key), 400,
                       "AGENT_IDEMPOTENCY_REQUIRED"));
  EXPECT_TRUE(is_error(req("POST", "/v1/events", event_body("transaction.completed"), a.key, "k-1"), 403,
                       "EVENT_TYPE_NOT_ALLOWED"));
  EXPECT_EQ(req("POST", "/v1/events", event_body("ai.task.completed"), a.key, "k-2").status, 201);
  // Refusals were not stored: the same key now succeeds with an allowed type.
  EXPECT_EQ(req("POST", "/v1/events", event_body("ai.tool.invoked"), a.key, "k-1").status, 201);
  const agent_handle relaxed = create_ai("relaxed", "standard", R"(["ai.task.completed"])",
                                         R"("requireIdempotency":false)");
  EXPECT_EQ(req("POST", "/v1/events", event_body("ai.task.completed"), relaxed.key).status, 201);
}

TEST_F(agents, BulkCapIs25ForAiAgentKeys) {
  auto items = [](int n) {
    std::string b = R"({"evaluations":[)";
    for (int i = 0; i < n; ++i) {
      if (i) b += ",";
      b += R"({"actor":{"type":"human","id":"u"},"action":"account.login"})";
    }
    return b + "]}";
  };
  const agent_handle ai = create_ai("bulk", "read_only");
  const agent_handle svc = create(R"({"name":"svc","type":"SERVICE_ACCOUNT","preset":"read_only"})");
  EXPECT_EQ(req("POST", "/v1/policy/evaluate/bulk", items(25), ai.key).status, 200);
  EXPECT_TRUE(is_error(req("POST", "/v1/policy/evaluate/bulk", items(26), ai.key), 400, "BULK_LIMIT_EXCEEDED"));
  EXPECT_EQ(req("POST", "/v1/policy/evaluate/bulk", items(26), svc.key).status, 200);
}

TEST_F(agents, AnAgentKeyHasItsOwnRateLimit) {
  const agent_handle a = create(R"({"name":"slow","type":"SERVICE_ACCOUNT","preset":"read_only","rateLimitPerMinute":3})");
  for (int i = 0; i < 3; ++i) EXPECT_EQ(auth_status(a.key), 200);
  const http_response r = req("GET", "/api/me", {}, a.key);
  EXPECT_TRUE(is_error(r, 429, "RATE_LIMITED"));
  EXPECT_EQ(auth_status(ws_key), 200);  // the workspace's own budget is untouched
}

TEST_F(agents, PolicyStepOneDeniesSuspendedAndRevokedAgents) {
  const agent_handle a = create_ai("actor");
  EXPECT_EQ(evaluate_service(a.id)["decision"].string, "ALLOW");
  ASSERT_EQ(req("POST", "/v1/agents/" + a.id + "/suspend").status, 200);
  json d = evaluate_service(a.id);
  EXPECT_EQ(d["decision"].string, "DENY");
  EXPECT_TRUE(has_reason(d, "AGENT_SUSPENDED")) << d.dump();
  ASSERT_EQ(req("POST", "/v1/agents/" + a.id + "/revoke").status, 200);
  d = evaluate_service(a.id);
  EXPECT_EQ(d["decision"].string, "DENY");
  EXPECT_TRUE(has_reason(d, "AGENT_REVOKED")) << d.dump();
  // A human actor with the same id is not an agent.
  const http_response h = req("POST", "/v1/policy/evaluate",
                              R"({"actor":{"type":"human","id":)" + json_quote(a.id) + R"(},"action":"account.login"})");
  EXPECT_EQ(body_json(h)["decision"].string, "ALLOW");
}

TEST_F(agents, SpawnPolicyDefaultsToDisabled) {
  const agent_handle a = create_ai("parent");
  json p = body_json(req("GET", "/v1/agents/spawn-policy"));
  EXPECT_EQ(p["enabled"].boolean, false);
  EXPECT_TRUE(is_error(spawn_raw(a.id, R"({"name":"c"})", a.key), 403, "SPAWN_DISABLED"));
  EXPECT_TRUE(is_error(req("PUT", "/v1/agents/spawn-policy", R"({"maxDepth":2})"), 400, "VALIDATION_ERROR"));
  EXPECT_TRUE(is_error(req("PUT", "/v1/agents/spawn-policy", R"({"enabled":true,"maxDepth":99})"), 400,
                       "VALIDATION_ERROR"));
  set_spawn_policy(R"({"enabled":true,"maxDepth":1,"approvalDepth":1,"maxChildren":1})");
  p = body_json(req("GET", "/v1/agents/spawn-policy"));
  EXPECT_EQ(p["enabled"].boolean, true);
  EXPECT_EQ(p["maxDepth"].integer, 1);
  // approvalDepth 1: the child waits for approval, and cannot act until then.
  const agent_handle c = spawn(a.id, R"({"name":"c"})", a.key);
  EXPECT_EQ(c.agent["status"].string, "PENDING_APPROVAL");
  EXPECT_EQ(c.agent["depth"].integer, 1);
  EXPECT_EQ(c.agent["membershipSource"].string, "spawned");
  EXPECT_EQ(c.agent["parentId"].string, a.id);
  EXPECT_EQ(auth_status(c.key), 401);
  EXPECT_TRUE(has_reason(evaluate_service(c.id), "AGENT_SUSPENDED"));
  http_response r = req("POST", "/v1/agents/" + c.id + "/approve");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(body_json(r)["status"].string, "ACTIVE");
  EXPECT_EQ(auth_status(c.key), 200);
  EXPECT_TRUE(is_error(req("POST", "/v1/agents/" + c.id + "/approve"), 409, "INVALID_AGENT_TRANSITION"));
  // maxChildren 1 and maxDepth 1.
  EXPECT_TRUE(is_error(spawn_raw(a.id, R"({"name":"c2"})", a.key), 403, "SPAWN_CHILDREN_EXCEEDED"));
  EXPECT_TRUE(is_error(spawn_raw(c.id, R"({"name":"gc"})", c.key), 403, "SPAWN_DEPTH_EXCEEDED"));
}

TEST_F(agents, SpawnIsIdempotentAndNeedsTheParentsOwnKey) {
  set_spawn_policy(R"({"enabled":true,"maxDepth":3,"maxChildren":5})");
  const agent_handle p1 = create_ai("p1");
  const agent_handle p2 = create_ai("p2");
  const std::string body = R"({"name":"kid"})";
  const http_response first = req("POST", "/v1/agents/" + p1.id + "/spawn", body, p1.key, "s-1");
  ASSERT_EQ(first.status, 201) << first.body;
  const http_response again = req("POST", "/v1/agents/" + p1.id + "/spawn", body, p1.key, "s-1");
  ASSERT_EQ(again.status, 201);
  EXPECT_EQ(again.header("X-Idempotency-Replay"), "true");
  EXPECT_EQ(body_json(again)["agent"]["id"].string, body_json(first)["agent"]["id"].string);
  EXPECT_EQ(get_agent(p1.id)["childrenCount"].integer, 1);
  // AI parents require idempotency for their writes, spawn included.
  EXPECT_TRUE(is_error(req("POST", "/v1/agents/" + p1.id + "/spawn", body, p1.key), 400,
                       "AGENT_IDEMPOTENCY_REQUIRED"));
  // An agent key spawns only under its own agent; a workspace key may spawn under any.
  EXPECT_TRUE(is_error(spawn_raw(p2.id, body, p1.key), 403, "FORBIDDEN"));
  EXPECT_EQ(spawn_raw(p2.id, body, ws_key).status, 201);
  // The lineage shows both sides.
  const json lin = body_json(req("GET", "/v1/agents/" + body_json(first)["agent"]["id"].string + "/lineage"));
  ASSERT_EQ(lin["ancestors"].items.size(), 1u);
  EXPECT_EQ(lin["ancestors"].items[0]["id"].string, p1.id);
  EXPECT_EQ(lin["children"].items.size(), 0u);
  const json plin = body_json(req("GET", "/v1/agents/" + p1.id + "/lineage"));
  EXPECT_EQ(plin["children"].items.size(), 1u);
  EXPECT_EQ(plin["self"]["id"].string, p1.id);
}

// Every registry, lifecycle and spawn action leaves one audit entry per changed object, with the
// actor (the agent id for an agent key), the target, before/after status.
TEST_F(agents, EveryActionIsAudited) {
  set_spawn_policy(R"({"enabled":true,"maxDepth":2,"approvalDepth":2,"maxChildren":5})");
  const agent_handle root = create_ai("audited");
  const agent_handle kid = spawn(root.id, R"({"name":"kid"})", root.key);
  const agent_handle grandkid = spawn(kid.id, R"({"name":"grandkid"})", kid.key);  // PENDING_APPROVAL
  for (const char* action : {"/approve"}) ASSERT_EQ(req("POST", "/v1/agents/" + grandkid.id + action).status, 200);
  ASSERT_EQ(req("POST", "/v1/agents/" + root.id + "/suspend").status, 200);
  ASSERT_EQ(req("POST", "/v1/agents/" + root.id + "/reactivate").status, 200);
  ASSERT_EQ(req("POST", "/v1/agents/" + root.id + "/key/rotate").status, 200);
  ASSERT_EQ(req("POST", "/v1/agents/" + kid.id + "/revoke").status, 200);
  const http_response rv = req("POST", "/v1/agents/" + root.id + "/revoke-descendants");
  ASSERT_EQ(rv.status, 200) << rv.body;
  EXPECT_EQ(body_json(rv)["revoked"].integer, 2);  // root and grandkid; kid was already revoked
  // A refused transition writes nothing.
  ASSERT_EQ(req("POST", "/v1/agents/" + root.id + "/suspend").status, 409);

  auto trail = [&](const std::string& target) {
    std::vector<std::string> out;
    const http_response r = req("GET", "/v1/audit?target_id=" + target);
    EXPECT_EQ(r.status, 200) << r.body;
    const json j = body_json(r);
    for (const json& e : j["entries"].items) {
      out.push_back(e["action"].string + ":" + (e["beforeStatus"].is_null() ? "" : e["beforeStatus"].string) + ">" +
                    e["afterStatus"].string);
    }
    std::reverse(out.begin(), out.end());  // oldest first
    return out;
  };
  EXPECT_EQ(trail(root.id), (std::vector<std::string>{"agent.created:>ACTIVE", "agent.suspended:ACTIVE>SUSPENDED",
                                                      "agent.reactivated:SUSPENDED>ACTIVE",
                                                      "agent.key_rotated:ACTIVE>ACTIVE", "agent.revoked:ACTIVE>REVOKED"}));
  EXPECT_EQ(trail(kid.id), (std::vector<std::string>{"agent.spawned:>ACTIVE", "agent.revoked:ACTIVE>REVOKED"}));
  EXPECT_EQ(trail(grandkid.id), (std::vector<std::string>{"agent.spawned:>PENDING_APPROVAL",
                                                          "agent.approved:PENDING_APPROVAL>ACTIVE",
                                                          "agent.revoked:ACTIVE>REVOKED"}));
  EXPECT_EQ(trail(ws_id), (std::vector<std::string>{"spawn_policy.updated:DISABLED>ENABLED"}));
  // Who acted: the spawn of the grandkid was made with the kid's own key.
  const json spawned = body_json(req("GET", "/v1/audit?action=agent.spawned&target_id=" + grandkid.id));
  ASSERT_EQ(spawned["entries"].items.size(), 1u);
  EXPECT_EQ(spawned["entries"].items[0]["actorId"].string, kid.id);
  EXPECT_EQ(spawned["entries"].items[0]["targetType"].string, "agent");
  // Agent keys read the trail with an operator preset; read_only lacks audit:read.
  const agent_handle ro = create(R"({"name":"ro","type":"SERVICE_ACCOUNT","preset":"read_only"})");
  EXPECT_TRUE(is_error(req("GET", "/v1/audit", {}, ro.key), 403, "FORBIDDEN"));
  const agent_handle op = create(R"({"name":"op","type":"SERVICE_ACCOUNT","preset":"operator"})");
  EXPECT_EQ(req("GET", "/v1/audit", {}, op.key).status, 200);
}

TEST_F(agents, RegistrySurvivesARestart) {
  set_spawn_policy(R"({"enabled":true,"maxDepth":3,"maxChildren":5})");
  const agent_handle root = create_ai("root");
  const agent_handle kid = spawn(root.id, R"({"name":"kid"})", root.key);
  const agent_handle other = create_ai("other");
  ASSERT_EQ(req("POST", "/v1/agents/" + root.id + "/suspend").status, 200);
  ASSERT_EQ(req("POST", "/v1/agents/" + other.id + "/revoke").status, 200);
  EXPECT_EQ(auth_status(kid.key), 401);
  stop();
  start();
  EXPECT_EQ(auth_status(kid.key), 401);
  EXPECT_EQ(auth_status(root.key), 401);
  EXPECT_EQ(auth_status(other.key), 401);
  EXPECT_EQ(get_agent(kid.id)["status"].string, "ACTIVE");
  EXPECT_EQ(get_agent(kid.id)["effectiveStatus"].string, "SUSPENDED");
  EXPECT_EQ(get_agent(other.id)["status"].string, "REVOKED");
  EXPECT_EQ(body_json(req("GET", "/v1/agents/spawn-policy"))["maxChildren"].integer, 5);
  EXPECT_EQ(get_agent(root.id)["childrenCount"].integer, 1);
  ASSERT_EQ(req("POST", "/v1/agents/" + root.id + "/reactivate").status, 200);
  EXPECT_EQ(auth_status(kid.key), 200);
  EXPECT_EQ(auth_status(root.key), 200);
}

}  // namespace
}  // namespace warrant::test

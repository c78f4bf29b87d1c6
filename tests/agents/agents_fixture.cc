#include "tests/agents/agents_fixture.h"

// GCC 12 at -O3 reports a false -Wrestrict inside std::string concatenation (GCC PR 105329).
#pragma GCC diagnostic ignored "-Wrestrict"

namespace warrant::test {

void agents_fixture::SetUp() {
  admin_fixture::SetUp();
  const http_response r = admin("POST", "/v1/admin/workspaces", R"({"name":"agents-ws"})");
  ASSERT_EQ(r.status, 201) << r.body;
  ws_id = body_json(r)["id"].string;
  ws_key = create_key(ws_id, R"(["platform.operator"])")["key"].string;
}

http_response agents_fixture::req(std::string_view method, std::string_view path, std::string_view body,
                                  std::string_view key, std::string_view idempotency_key) {
  header_list h{{"x-api-key", std::string(key.empty() ? std::string_view(ws_key) : key)}};
  if (method == "POST" || method == "PUT") h.emplace_back("Content-Type", "application/json");
  if (!idempotency_key.empty()) h.emplace_back("Idempotency-Key", std::string(idempotency_key));
  auto r = _client->request(method, path, body, h);
  if (!r) throw std::runtime_error("request failed on the wire");
  return *r;
}

agent_handle agents_fixture::create(std::string_view body, std::string_view key) {
  const http_response r = req("POST", "/v1/agents", body, key);
  if (r.status != 201) throw std::runtime_error("create agent: " + std::to_string(r.status) + " " + r.body);
  const json j = body_json(r);
  return {j["agent"]["id"].string, j["apiKey"].string, j["agent"]};
}

agent_handle agents_fixture::create_ai(std::string_view name, std::string_view preset, std::string_view allowed,
                                       std::string_view extra) {
  std::string body = R"({"name":)" + json_quote(name) + R"(,"type":"AI_AGENT","preset":)" + json_quote(preset) +
                     R"(,"allowedEventTypes":)" + std::string(allowed);
  if (!extra.empty()) body += "," + std::string(extra);
  return create(body + "}");
}

http_response agents_fixture::spawn_raw(std::string_view parent, std::string_view body, std::string_view key) {
  return req("POST", "/v1/agents/" + std::string(parent) + "/spawn", body, key,
             "spawn-" + std::to_string(++idem_counter));
}

agent_handle agents_fixture::spawn(std::string_view parent, std::string_view body, std::string_view key) {
  const http_response r = spawn_raw(parent, body, key);
  if (r.status != 201) throw std::runtime_error("spawn: " + std::to_string(r.status) + " " + r.body);
  const json j = body_json(r);
  return {j["agent"]["id"].string, j["apiKey"].string, j["agent"]};
}

void agents_fixture::set_spawn_policy(std::string_view body) {
  const http_response r = req("PUT", "/v1/agents/spawn-policy", body);
  ASSERT_EQ(r.status, 200) << r.body;
}

json agents_fixture::evaluate_service(std::string_view actor_id, std::string_view key) {
  const std::string body =
      R"({"actor":{"type":"service","id":)" + json_quote(actor_id) + R"(},"action":"account.login"})";
  const http_response r = req("POST", "/v1/policy/evaluate", body, key);
  if (r.status != 200) throw std::runtime_error("evaluate: " + std::to_string(r.status) + " " + r.body);
  return body_json(r);
}

int agents_fixture::auth_status(std::string_view key) { return req("GET", "/api/me", {}, key).status; }

json agents_fixture::get_agent(std::string_view id) {
  const http_response r = req("GET", "/v1/agents/" + std::string(id));
  if (r.status != 200) throw std::runtime_error("get agent: " + std::to_string(r.status) + " " + r.body);
  return body_json(r);
}

}  // namespace warrant::test

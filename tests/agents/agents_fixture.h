// tests/agents/agents_fixture.h: the agent registry against the real warrantd (two shards).
//
// Each test gets a fresh server (admin_fixture) and a workspace with a workspace key
// (platform.operator: a workspace key holds every evidence scope). Shorthands register agents,
// spawn children, change the spawn policy and evaluate policy for a `service` actor.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <string_view>

#include "tests/admin/admin_fixture.h"

namespace warrant::test {

struct agent_handle {
  std::string id;
  std::string key;  // the secret, shown once
  json agent;
};

class agents_fixture : public admin_fixture {
 public:
  void SetUp() override;

  // A request with `key` (the workspace key when empty) and optional Idempotency-Key.
  http_response req(std::string_view method, std::string_view path, std::string_view body = {},
                    std::string_view key = {}, std::string_view idempotency_key = {});
  // POST /v1/agents with `body`; expects 201.
  agent_handle create(std::string_view body, std::string_view key = {});
  // An AI_AGENT named `name` with `preset` and allowlist `allowed` (JSON array text).
  agent_handle create_ai(std::string_view name, std::string_view preset = "operator",
                         std::string_view allowed = R"(["ai.task.completed","ai.tool.invoked"])",
                         std::string_view extra = {});
  // POST /v1/agents/{parent}/spawn with `body` and `key` (an Idempotency-Key is always sent).
  http_response spawn_raw(std::string_view parent, std::string_view body, std::string_view key);
  agent_handle spawn(std::string_view parent, std::string_view body, std::string_view key);
  void set_spawn_policy(std::string_view body);
  // The decision for a `service` actor `actor_id` (account.login: ALLOW for anyone active).
  json evaluate_service(std::string_view actor_id, std::string_view key = {});
  // Whether `key` authenticates (GET /v1/agents/{self} or /api/me): 200 vs 401.
  int auth_status(std::string_view key);
  json get_agent(std::string_view id);

  std::string ws_id;
  std::string ws_key;
  int idem_counter = 0;
};

}  // namespace warrant::test

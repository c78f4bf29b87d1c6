// engine/agents/agent_request.h: the request bodies of the agent registry
// (spec/evidence.md "Agents and genealogy"; docs/api-evidence.md "Agents").
//
//   POST /v1/agents, POST /v1/agents/{id}/spawn   agent_body: every member optional but
//       `name`; enumerations (type, preset) and the allowlist's names are kept as text here and
//       checked by the route, which knows the parent's values for a spawn.
//   PUT /v1/agents/spawn-policy                   spawn_policy: `enabled` required; maxDepth,
//       approvalDepth (0..spawn_depth_max), maxChildren (0..spawn_children_max) default to
//       3, 0 and 10.
//
// Strict: unknown members are 400 UNKNOWN_FIELD, wrong types and out-of-range numbers 400
// VALIDATION_ERROR, malformed JSON 400 INVALID_JSON with the byte offset (engine/common/json.h).
// Pure functions, any thread. Fuzzed by tests/fuzz/agent_request_fuzz.cc.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/agents/model.h"
#include "engine/common/json.h"

namespace warrant::engine {

// Bounds of the allowlist as a request gives it.
inline constexpr std::size_t agent_allowlist_items_max = 64;
inline constexpr std::size_t agent_allowlist_item_bytes_max = 64;
inline constexpr std::size_t agent_enum_bytes_max = 32;

// The spawn policy's defaults for members a PUT leaves out.
inline constexpr std::uint32_t spawn_max_depth_default = 3;
inline constexpr std::uint32_t spawn_max_children_default = 10;

struct agent_body {
  std::optional<std::string> name, type, preset, owner, model_version, endpoint, root_authorizer, operational_state;
  std::optional<std::vector<std::string>> allowed;
  std::optional<bool> require_idempotency;
  std::optional<std::uint32_t> rate_limit;  // rateLimitPerMinute; null: absent
};

// False with `err` set (4xx) when the body is refused.
bool parse_agent_body(std::string_view body, agent_body& b, json_error& err);
// Fills `p`'s enabled and bounds (its workspace and time are the caller's). False with `err`.
bool parse_spawn_policy_body(std::string_view body, spawn_policy& p, json_error& err);

}  // namespace warrant::engine

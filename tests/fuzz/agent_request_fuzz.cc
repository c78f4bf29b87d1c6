// tests/fuzz/agent_request_fuzz.cc: libFuzzer target for the agent registry's parsers and
// codecs (engine/agents/agent_request.*, model.*): POST /v1/agents and spawn bodies, the
// spawn-policy body, stored agent and spawn-policy records.
//
// The first byte picks the parser; the rest is its input. Properties:
//   - a refused body is a 4xx with a code and a message that stays valid JSON;
//   - an accepted agent body has a name within bounds and an allowlist within bounds, and an
//     agent record made from it re-encodes and decodes to the same fields;
//   - an accepted spawn-policy body is within its bounds and round-trips through its codec;
//   - a stored payload either decodes or is refused, and what decodes re-encodes stably.
#include <simdjson.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "engine/agents/agent_request.h"
#include "engine/agents/model.h"
#include "net/http_response.h"
#include "tests/fuzz/fuzz_check.h"
#include "tests/fuzz/json_refusal.h"

namespace {

using namespace warrant::engine;

bool same_agent(const agent_record& a, const agent_record& b) {
  return a.id == b.id && a.workspace_id == b.workspace_id && a.name == b.name && a.type == b.type &&
         a.preset == b.preset && a.allowed_event_types == b.allowed_event_types &&
         a.require_idempotency == b.require_idempotency && a.requests_per_minute == b.requests_per_minute &&
         a.owner == b.owner && a.model_version == b.model_version && a.endpoint == b.endpoint &&
         a.operational_state == b.operational_state && a.root_authorizer == b.root_authorizer &&
         a.status == b.status && a.parent_id == b.parent_id && a.root_id == b.root_id && a.depth == b.depth &&
         a.source == b.source && a.key_id == b.key_id && a.key_prefix == b.key_prefix && a.key_last4 == b.key_last4 &&
         a.children == b.children && a.created_at_ms == b.created_at_ms && a.updated_at_ms == b.updated_at_ms &&
         a.last_activity_at_ms == b.last_activity_at_ms;
}

void fuzz_agent_body(std::string_view body) {
  agent_body b;
  json_error err;
  if (!parse_agent_body(body, b, err)) return check_json_refusal(err);
  FUZZ_CHECK(b.name && !b.name->empty() && b.name->size() <= agent_text_bytes_max);
  if (b.endpoint) FUZZ_CHECK(b.endpoint->size() <= agent_endpoint_bytes_max);
  if (b.rate_limit) FUZZ_CHECK(*b.rate_limit >= 1);
  agent_record a;
  a.id = "0190a0b0-c0d0-7e00-8f00-000000000001";
  a.workspace_id = "ws";
  a.name = *b.name;
  a.root_id = a.id;
  if (b.type) a.type = agent_type_from_name(*b.type).value_or(agent_type::service_account);
  if (b.preset) a.preset = agent_preset_from_name(*b.preset).value_or(agent_preset::standard);
  if (b.allowed) {
    FUZZ_CHECK(b.allowed->size() <= agent_allowlist_items_max);
    std::string unknown;
    if (!event_types_mask(*b.allowed, a.allowed_event_types, unknown)) {
      FUZZ_CHECK(std::find(b.allowed->begin(), b.allowed->end(), unknown) != b.allowed->end());
      a.allowed_event_types = 0;
    }
  }
  a.require_idempotency = b.require_idempotency.value_or(false);
  a.requests_per_minute = b.rate_limit.value_or(0);
  a.owner = b.owner.value_or("");
  a.model_version = b.model_version.value_or("");
  a.endpoint = b.endpoint.value_or("");
  a.operational_state = b.operational_state.value_or("");
  a.root_authorizer = b.root_authorizer.value_or("");
  const auto back = decode_agent(encode_agent(a));
  FUZZ_CHECK(back && same_agent(*back, a));
  // Every name the mask gives back is one the mask accepts.
  std::vector<std::string> names;
  for (std::string_view n : event_type_names(a.allowed_event_types)) names.emplace_back(n);
  std::uint64_t again = 0;
  std::string unknown;
  FUZZ_CHECK(event_types_mask(names, again, unknown) && again == a.allowed_event_types);
}

void fuzz_spawn_policy_body(std::string_view body) {
  spawn_policy p;
  json_error err;
  if (!parse_spawn_policy_body(body, p, err)) return check_json_refusal(err);
  FUZZ_CHECK(p.max_depth <= spawn_depth_max && p.approval_depth <= spawn_depth_max);
  FUZZ_CHECK(p.max_children <= spawn_children_max);
  p.workspace_id = "ws";
  p.updated_at_ms = 1'790'000'000'000;
  const auto back = decode_spawn_policy(encode_spawn_policy(p));
  FUZZ_CHECK(back && back->workspace_id == p.workspace_id && back->enabled == p.enabled &&
             back->max_depth == p.max_depth && back->approval_depth == p.approval_depth &&
             back->max_children == p.max_children && back->updated_at_ms == p.updated_at_ms);
}

void fuzz_stored_agent(std::string_view payload) {
  const auto a = decode_agent(payload);
  if (!a) return;
  const std::string once = encode_agent(*a);
  const auto b = decode_agent(once);
  FUZZ_CHECK(b && same_agent(*a, *b) && encode_agent(*b) == once);
}

void fuzz_stored_spawn_policy(std::string_view payload) {
  const auto p = decode_spawn_policy(payload);
  if (!p) return;
  const std::string once = encode_spawn_policy(*p);
  const auto q = decode_spawn_policy(once);
  FUZZ_CHECK(q && encode_spawn_policy(*q) == once);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 4) {
    case 0: fuzz_agent_body(input); break;
    case 1: fuzz_spawn_policy_body(input); break;
    case 2: fuzz_stored_agent(input); break;
    case 3: fuzz_stored_spawn_policy(input); break;
  }
  return 0;
}

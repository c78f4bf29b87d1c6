// engine/agents/model.h: the agent registry's records (spec/evidence.md "Agents and genealogy")
// and the pure rules over them: presets, the lifecycle's legal transitions, effective status.
//
// An agent is an AI agent or a service account of one workspace, with its own API key (an
// api_key_record whose `agent_id` names it, engine/tenancy/model.h). Registered agents are
// roots (depth 0); spawned ones name their parent and root. Storage keeps each agent's OWN
// status only; the status that counts for authentication and policy (`effective_status`) folds
// in the ancestors (revoked beats suspended beats pending) and is computed when the tenancy
// snapshot is published (engine/tenancy/index.h), O(depth) per agent, so that suspending or
// revoking an agent disables its whole subtree without rewriting a child.
//
// Storage: table `agents` under `<workspace id> 0x00 <agent id>`, table `spawn_policies` under
// the workspace id; payloads (storage/record.h field codec, tags never reused) are documented in
// docs/storage-format.md. Pure data and codecs, any thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace warrant::engine {

enum class agent_type : std::uint8_t { ai_agent, service_account };
// Ordered: each preset's scopes include the previous one's (engine/guard/access.cc).
enum class agent_preset : std::uint8_t { read_only, standard, operator_, admin };
enum class agent_state : std::uint8_t { active, suspended, revoked, pending_approval };
enum class membership_source : std::uint8_t { registered, spawned };

std::string_view agent_type_name(agent_type t);            // "AI_AGENT" | "SERVICE_ACCOUNT"
std::string_view agent_preset_name(agent_preset p);        // "read_only" | ... | "admin"
std::string_view agent_state_name(agent_state s);        // "ACTIVE" | ... | "PENDING_APPROVAL"
std::string_view membership_source_name(membership_source m);  // "registered" | "spawned"
std::optional<agent_type> agent_type_from_name(std::string_view s);
std::optional<agent_preset> agent_preset_from_name(std::string_view s);
std::optional<agent_state> agent_state_from_name(std::string_view s);
std::optional<membership_source> membership_source_from_name(std::string_view s);

// Bounds (named limits: docs/api-evidence.md "Agents").
inline constexpr std::size_t agent_text_bytes_max = 255;      // name, owner, model_version, ...
inline constexpr std::size_t agent_endpoint_bytes_max = 2048;
inline constexpr std::uint32_t spawn_depth_max = 32;          // maxDepth / approvalDepth ceiling
inline constexpr std::uint32_t spawn_children_max = 1000;     // maxChildren ceiling
inline constexpr std::size_t revoke_descendants_max = 100'000;  // agents one revoke-descendants may touch

struct agent_record {
  std::string id;  // UUIDv7
  std::string workspace_id;
  std::string name;
  agent_type type = agent_type::ai_agent;
  agent_preset preset = agent_preset::read_only;
  std::uint64_t allowed_event_types = 0;  // bit per catalogue row (stored as names)
  bool require_idempotency = false;
  std::uint32_t requests_per_minute = 0;  // its key's own limit; 0: the workspace's
  std::string owner;
  std::string model_version;
  std::string endpoint;
  std::string operational_state;  // free text for the authority family ("" until set)
  std::string root_authorizer;
  agent_state status = agent_state::active;  // its own, never an ancestor's
  std::string parent_id;  // "" for registered agents
  std::string root_id;    // itself for registered agents
  std::uint32_t depth = 0;
  membership_source source = membership_source::registered;
  std::string key_id;  // its current key ("" once revoked: the key record is erased)
  std::string key_prefix;
  std::string key_last4;
  std::vector<std::string> children;  // spawned children's ids, in spawn order
  std::int64_t created_at_ms = 0;
  std::int64_t updated_at_ms = 0;
  std::int64_t last_activity_at_ms = 0;  // as of the last write of this record (see index.h)
};

struct spawn_policy {
  std::string workspace_id;
  bool enabled = false;  // never set: disabled
  std::uint32_t max_depth = 0;
  std::uint32_t approval_depth = 0;  // 0: no approval needed
  std::uint32_t max_children = 0;
  std::int64_t updated_at_ms = 0;
};

std::string encode_agent(const agent_record& a);
std::optional<agent_record> decode_agent(std::string_view payload);
std::string encode_spawn_policy(const spawn_policy& p);
std::optional<spawn_policy> decode_spawn_policy(std::string_view payload);
std::string agent_storage_key(std::string_view workspace_id, std::string_view agent_id);

// The allowlist as catalogue names, in catalogue order; and back (false on an unknown name).
std::vector<std::string_view> event_type_names(std::uint64_t mask);
bool event_types_mask(const std::vector<std::string>& names, std::uint64_t& mask, std::string& unknown);

// ---- lifecycle ----------------------------------------------------------------------------
enum class agent_action : std::uint8_t { suspend, reactivate, revoke, approve };
std::string_view agent_action_name(agent_action a);  // "suspend" | ...
// The status after `action` from `from`, or nullopt when illegal (409 with the current status):
//   suspend:     ACTIVE → SUSPENDED
//   reactivate:  SUSPENDED → ACTIVE
//   revoke:      ACTIVE | SUSPENDED | PENDING_APPROVAL → REVOKED (terminal)
//   approve:     PENDING_APPROVAL → ACTIVE
std::optional<agent_state> agent_transition(agent_state from, agent_action action);
// Audit action names ("agent.suspended", ...).
std::string_view agent_audit_action(agent_action a);

// The status that counts: the worst of the agent's own and its ancestors' (revoked beats
// suspended beats pending approval beats active). `parent_of(id)` returns the parent's record
// or nullptr (a missing parent — never expected — counts as revoked). O(depth).
template <typename ParentOf>
agent_state effective_status(const agent_record& a, ParentOf&& parent_of) {
  auto rank = [](agent_state s) {
    switch (s) {
      case agent_state::revoked: return 3;
      case agent_state::suspended: return 2;
      case agent_state::pending_approval: return 1;
      case agent_state::active: return 0;
    }
    return 3;
  };
  agent_state worst = a.status;
  const agent_record* at = &a;
  for (std::uint32_t hops = 0; !at->parent_id.empty(); ++hops) {
    if (hops > spawn_depth_max + 1) return agent_state::revoked;  // a cycle: never written
    at = parent_of(at->parent_id);
    if (at == nullptr) return agent_state::revoked;
    if (rank(at->status) > rank(worst)) worst = at->status;
    if (worst == agent_state::revoked) break;
  }
  return worst;
}

}  // namespace warrant::engine

// engine/agents/commands.h: the durable changes to the agent registry (spec/evidence.md
// "Agents and genealogy"; docs/api-evidence.md "Agents").
//
// The tenancy pattern (engine/tenancy/commands.h): a command is built on a shard from a
// validated request (ids and key secrets made there), applied by the writer thread inside the
// group-commit transaction — where it re-validates against the transaction, which is the only
// authoritative state (a spawn and its parent's revocation may share a batch) — then published
// to the tenancy index after the commit, and answered on its shard. Every command writes, in
// its one transaction: the materialised records (tables `agents`, `api_keys`,
// `spawn_policies`), their log records (log_agent_written, log_key_created, log_key_erased,
// log_spawn_policy_set: docs/storage-format.md) and one audit entry per changed object
// (engine/audit/audit.h). So a crash leaves all of a command or none of it.
//
// Create and spawn are idempotent (engine/idempotency/command.h). Their stored answer never
// holds the new key (keys are stored only as SHA-256): the first answer carries it, a replay
// answers `"apiKey": null` with X-Idempotency-Replay.
//
// Threading: factories on shard threads; apply/publish on the writer; respond on the shard.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "engine/agents/model.h"
#include "engine/idempotency/service.h"
#include "engine/tenancy/index.h"
#include "engine/write_path.h"

namespace warrant::engine {

// Who asked (for the audit entries): the key, and who holds it (the agent id for an agent key,
// else the key id).
struct audit_actor {
  std::string key_id;
  std::string actor_id;
};

// A new agent and its key (not yet stored); the key's secret is shown once.
struct new_agent {
  agent_record agent;
  api_key_record key;
  std::string secret;
};

std::unique_ptr<request_command> make_create_agent(net::shard& s, net::deferred_response t, idempotency::ticket tk,
                                                   tenancy_index& idx, audit_actor actor, new_agent a);
// `child.agent.parent_id` names the parent; depth, root and status are decided in apply().
std::unique_ptr<request_command> make_spawn_agent(net::shard& s, net::deferred_response t, idempotency::ticket tk,
                                                  tenancy_index& idx, audit_actor actor, new_agent child);
std::unique_ptr<request_command> make_agent_transition(net::shard& s, net::deferred_response t, tenancy_index& idx,
                                                       audit_actor actor, std::string workspace_id,
                                                       std::string agent_id, agent_action action);
std::unique_ptr<request_command> make_rotate_agent_key(net::shard& s, net::deferred_response t, tenancy_index& idx,
                                                       audit_actor actor, std::string workspace_id,
                                                       std::string agent_id, api_key_record key, std::string secret);
std::unique_ptr<request_command> make_revoke_descendants(net::shard& s, net::deferred_response t, tenancy_index& idx,
                                                         audit_actor actor, std::string workspace_id,
                                                         std::string agent_id);
std::unique_ptr<request_command> make_set_spawn_policy(net::shard& s, net::deferred_response t, tenancy_index& idx,
                                                       audit_actor actor, spawn_policy p);

// JSON renderings shared by commands and read routes (docs/api-evidence.md "Agents").
void render_agent(net::byte_buffer& out, const agent_record& a, agent_state effective, std::int64_t last_activity_ms);
void render_agent(net::byte_buffer& out, const indexed_agent& a);
void render_spawn_policy(net::byte_buffer& out, const spawn_policy& p);
// 409 INVALID_AGENT_TRANSITION with the agent's current status in "status".
void answer_invalid_transition(net::http_response& res, std::string_view message, agent_state current);

}  // namespace warrant::engine

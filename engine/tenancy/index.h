// engine/tenancy/index.h: workspaces and API keys in memory, for lock-free lookups.
//
// Single writer, many readers. The writer thread mutates a private staging copy (`stage_*`,
// from commands' publish()) and, once per committed batch, `publish()` turns it into a new
// immutable snapshot that readers pick up with one atomic load (engine/common/rcu.h).
// Readers (shards) call `current()` and may use the snapshot until their loop turn ends.
// Start-up recovery fills the staging copy from LMDB before any reader exists.
//
// `publish()` also builds the new snapshot's key table (engine/tenancy/key_table.h), the
// guard's one lookup per request; revocations, expiry and limit changes reach it with the
// publish that carries them.
//
// AGENTS (engine/agents/model.h) are tenancy too: the agent records and the workspaces' spawn
// policies are staged and published with the keys, so one atomic publish makes a suspension,
// revocation or key rotation visible to every shard on its next request. publish() derives
// each agent's effective status (its own folded with its ancestors', O(depth) per agent) and
// leaves out of the key table every agent key whose effective status is not ACTIVE: the
// request path then does the same single probe for agent keys as for workspace keys, and a
// suspended ancestor disables its subtree without a child being rewritten.
//
// Staging also gives each workspace (and each key with a limit of its own) a rate-limiter
// cell that never moves (engine/common/limiter_cell.h); re-staging a record keeps its cell, so
// limiter state outlives every snapshot. Cells are never freed before the index.
#pragma once

#include <algorithm>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "engine/common/activity_cell.h"
#include "engine/common/rcu.h"
#include "engine/tenancy/agent_entry.h"
#include "engine/tenancy/key_table.h"
#include "engine/tenancy/model.h"

namespace warrant::engine {

// Heterogeneous lookup by string_view (no temporary string on the request path).
struct string_hash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
};

struct tenancy_snapshot {
  std::map<std::string, workspace, std::less<>> workspaces;
  std::unordered_map<key_hash, api_key_record, key_hash_hasher, key_hash_equal> keys_by_hash;
  std::map<std::string, key_hash, std::less<>> key_hash_by_id;  // api_key_storage_key → hash
  // The request path's table of usable keys (engine/tenancy/key_table.h), built by publish()
  // for each published snapshot; empty in the staging copy and in copies.
  key_table usable_keys;
  // Agents by id (ids are UUIDv7, unique across workspaces), and their storage keys
  // (`<workspace> 0x00 <id>`) in order: a workspace's agents oldest first.
  std::unordered_map<std::string, indexed_agent, string_hash, std::equal_to<>> agents;
  std::set<std::string, std::less<>> agent_keys;
  std::map<std::string, spawn_policy, std::less<>> spawn_policies;  // by workspace id; absent: disabled

  const workspace* find_workspace(std::string_view id) const;
  const api_key_record* find_key(const key_hash& h) const;
  const api_key_record* find_key(std::string_view workspace_id, std::string_view key_id) const;
  // Keys of one workspace, oldest first.
  std::vector<const api_key_record*> keys_of(std::string_view workspace_id) const;
  // The agent `id` of workspace `workspace_id`, or nullptr (another workspace's agent too).
  const indexed_agent* find_agent(std::string_view workspace_id, std::string_view id) const;
  const indexed_agent* find_agent(std::string_view id) const;
  // Agents of one workspace, oldest first.
  std::vector<const indexed_agent*> agents_of(std::string_view workspace_id) const;
  // The workspace's spawn policy (disabled when never set).
  spawn_policy spawn_policy_of(std::string_view workspace_id) const;
};

// Sets every agent's `effective` status from its own and its ancestors' (publish(); offline
// snapshots and tests call it themselves).
void derive_effective_statuses(tenancy_snapshot& s);

class tenancy_index {
 public:
  tenancy_index();

  // Readers.
  const tenancy_snapshot& current() const { return *_cell.read(); }

  // Writer thread (or start-up).
  void stage_workspace(const workspace& w);
  void stage_key(const api_key_record& k);
  // Removes a key (an agent's rotated or revoked key): not even its hash stays in memory.
  void erase_key(std::string_view workspace_id, std::string_view key_id);
  void stage_agent(const agent_record& a);
  void stage_spawn_policy(const spawn_policy& p);
  // The agent's activity cell (writer thread: commands carry its value to disk).
  const activity_cell* activity_of(std::string_view agent_id) const;
  const tenancy_snapshot& staged() const { return _staging; }
  // Publishes the staged state if anything changed since the last publish.
  void publish();
  void set_sampler(turn_sampler sampler) { _cell.set_sampler(std::move(sampler)); }
  // Start-up: keep retired values until the sampler is set (engine/common/rcu.h).
  void hold_until_sampler() { _cell.hold_until_sampler(); }

 private:
  limiter_cells _limiter_cells;  // before _staging and _cell: records point into it
  activity_cells _activity_cells;
  tenancy_snapshot _staging;
  bool _dirty = false;
  rcu_cell<tenancy_snapshot> _cell;
};

}  // namespace warrant::engine

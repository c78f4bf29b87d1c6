#include "engine/tenancy/index.h"

namespace warrant::engine {

const workspace* tenancy_snapshot::find_workspace(std::string_view id) const {
  auto it = workspaces.find(id);
  return it == workspaces.end() ? nullptr : &it->second;
}

const api_key_record* tenancy_snapshot::find_key(const key_hash& h) const {
  auto it = keys_by_hash.find(h);
  return it == keys_by_hash.end() ? nullptr : &it->second;
}

const api_key_record* tenancy_snapshot::find_key(std::string_view workspace_id, std::string_view key_id) const {
  auto it = key_hash_by_id.find(api_key_storage_key(workspace_id, key_id));
  return it == key_hash_by_id.end() ? nullptr : find_key(it->second);
}

std::vector<const api_key_record*> tenancy_snapshot::keys_of(std::string_view workspace_id) const {
  std::vector<const api_key_record*> out;
  const std::string from = api_key_storage_key(workspace_id, "");
  for (auto it = key_hash_by_id.lower_bound(from); it != key_hash_by_id.end(); ++it) {
    if (it->first.compare(0, from.size(), from) != 0) break;
    if (const api_key_record* k = find_key(it->second)) out.push_back(k);
  }
  std::sort(out.begin(), out.end(), [](const api_key_record* a, const api_key_record* b) {
    return a->created_at_ms != b->created_at_ms ? a->created_at_ms < b->created_at_ms : a->id < b->id;
  });
  return out;
}

const indexed_agent* tenancy_snapshot::find_agent(std::string_view id) const {
  auto it = agents.find(id);
  return it == agents.end() ? nullptr : &it->second;
}

const indexed_agent* tenancy_snapshot::find_agent(std::string_view workspace_id, std::string_view id) const {
  const indexed_agent* a = find_agent(id);
  return a != nullptr && a->rec.workspace_id == workspace_id ? a : nullptr;
}

std::vector<const indexed_agent*> tenancy_snapshot::agents_of(std::string_view workspace_id) const {
  std::vector<const indexed_agent*> out;
  std::string from(workspace_id);
  from.push_back('\0');
  for (auto it = agent_keys.lower_bound(from); it != agent_keys.end() && it->starts_with(from); ++it) {
    if (const indexed_agent* a = find_agent(std::string_view(*it).substr(from.size()))) out.push_back(a);
  }
  return out;
}

spawn_policy tenancy_snapshot::spawn_policy_of(std::string_view workspace_id) const {
  auto it = spawn_policies.find(workspace_id);
  if (it != spawn_policies.end()) return it->second;
  spawn_policy p;
  p.workspace_id = workspace_id;
  return p;
}

tenancy_index::tenancy_index() : _cell(std::make_unique<tenancy_snapshot>()) {}

void tenancy_index::stage_workspace(const workspace& w) {
  workspace& staged = _staging.workspaces[w.id];
  limiter_cell* cell = staged.limiter;  // an update keeps the limiter state of the workspace
  staged = w;
  staged.limiter = cell != nullptr ? cell : _limiter_cells.allocate();
  _dirty = true;
}

void tenancy_index::stage_key(const api_key_record& k) {
  api_key_record& staged = _staging.keys_by_hash[k.hash];
  limiter_cell* cell = staged.limiter;
  staged = k;
  staged.limiter = cell != nullptr || k.requests_per_minute == 0 ? cell : _limiter_cells.allocate();
  _staging.key_hash_by_id[api_key_storage_key(k.workspace_id, k.id)] = k.hash;
  _dirty = true;
}

void tenancy_index::erase_key(std::string_view workspace_id, std::string_view key_id) {
  auto it = _staging.key_hash_by_id.find(api_key_storage_key(workspace_id, key_id));
  if (it == _staging.key_hash_by_id.end()) return;
  _staging.keys_by_hash.erase(it->second);
  _staging.key_hash_by_id.erase(it);
  _dirty = true;
}

void tenancy_index::stage_agent(const agent_record& a) {
  auto [it, fresh] = _staging.agents.try_emplace(a.id);
  indexed_agent& staged = it->second;
  staged.rec = a;
  if (fresh) {
    staged.activity = _activity_cells.allocate();
    _staging.agent_keys.insert(agent_storage_key(a.workspace_id, a.id));
  }
  staged.activity->raise(a.last_activity_at_ms);
  _dirty = true;
}

void tenancy_index::stage_spawn_policy(const spawn_policy& p) {
  _staging.spawn_policies[p.workspace_id] = p;
  _dirty = true;
}

const activity_cell* tenancy_index::activity_of(std::string_view agent_id) const {
  const indexed_agent* a = _staging.find_agent(agent_id);
  return a == nullptr ? nullptr : a->activity;
}

// Each agent's effective status, O(depth) per agent, on the snapshot about to be published.
void derive_effective_statuses(tenancy_snapshot& s) {
  for (auto& [id, a] : s.agents) {
    a.effective = effective_status(a.rec, [&s](std::string_view parent) -> const agent_record* {
      const indexed_agent* p = s.find_agent(parent);
      return p == nullptr ? nullptr : &p->rec;
    });
  }
}

void tenancy_index::publish() {
  if (!_dirty) {
    _cell.reclaim();
    return;
  }
  auto next = std::make_unique<tenancy_snapshot>(_staging);  // copied without a key table
  derive_effective_statuses(*next);
  const tenancy_snapshot& records = *next;
  next->usable_keys.build(
      records.keys_by_hash, [&](std::string_view id) { return records.find_workspace(id); },
      [&](std::string_view agent_id) { return records.find_agent(agent_id); });
  _cell.publish(std::move(next));
  _dirty = false;
}

}  // namespace warrant::engine

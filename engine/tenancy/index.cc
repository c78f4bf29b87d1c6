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

void tenancy_index::publish() {
  if (!_dirty) {
    _cell.reclaim();
    return;
  }
  auto next = std::make_unique<tenancy_snapshot>(_staging);  // copied without a key table
  const tenancy_snapshot& records = *next;
  next->usable_keys.build(records.keys_by_hash, [&](std::string_view id) { return records.find_workspace(id); });
  _cell.publish(std::move(next));
  _dirty = false;
}

}  // namespace warrant::engine

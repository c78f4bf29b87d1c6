#include "tests/durability/crash_checks.h"

#include <stdexcept>

#include "engine/common/ids.h"
#include "storage/lmdb_store.h"

namespace warrant::test {
namespace {

const std::string ws_path = "/v1/admin/workspaces";

json get_json(http_client& c, const std::string& target, const std::string& key) {
  const auto r = c.request("GET", target, {}, {{"x-api-key", key}});
  if (!r || r->status != 200) {
    throw std::runtime_error("GET " + target + " failed: " + (r ? std::to_string(r->status) + " " + r->body : "wire"));
  }
  return body_json(*r);
}

json time_or_null(std::int64_t ms) { return ms == 0 ? json{} : json::of(engine::format_time_ms(ms)); }

}  // namespace

api_dump fetch_dump(std::uint16_t port, const std::string& admin_key) {
  api_dump dump;
  http_client c(port);
  std::string cursor;
  while (true) {
    const json page = get_json(c, ws_path + "?limit=500" + (cursor.empty() ? "" : "&cursor=" + cursor), admin_key);
    for (const json& w : page["workspaces"].items) dump.workspaces.push_back(w);
    if (page["next_cursor"].is_null()) break;
    cursor = page["next_cursor"].string;
  }
  for (const json& w : dump.workspaces) {
    const json keys = get_json(c, ws_path + "/" + w["id"].string + "/keys", admin_key);
    dump.key_count += keys["keys"].items.size();
    dump.keys_by_workspace[w["id"].string] = keys["keys"].items;
  }
  return dump;
}

void check_gets(std::uint16_t port, const std::string& admin_key, const api_dump& dump, const std::string& name_part,
                std::vector<std::string>& errors) {
  http_client c(port);
  for (const json& w : dump.workspaces) {
    if (w["name"].string.find(name_part) == std::string::npos) continue;
    const json got = get_json(c, ws_path + "/" + w["id"].string, admin_key);
    if (got != w) errors.push_back("GET answered " + got.dump() + ", the list " + w.dump());
  }
}

offline_state check_offline(const std::string& db_dir, std::vector<std::string>& errors) {
  offline_state out;
  storage::lmdb_options options;
  options.path = db_dir;
  auto store = storage::lmdb_store::open(options);  // throws if the environment does not open cleanly
  engine::tenancy_index index;
  out.recovered = engine::recover_tenancy(*store, index);
  engine::tenancy_snapshot replayed;
  out.replayed = engine::replay_log(*store, replayed);
  out.snapshot = index.current();

  if (std::string d = engine::compare_snapshots(out.snapshot, replayed); !d.empty()) {
    errors.push_back("tables and log replay differ: " + d);
  }
  if (std::string d = engine::compare_snapshots(replayed, out.snapshot); !d.empty()) {
    errors.push_back("log replay and tables differ: " + d);
  }
  const engine::replay_report& r = out.replayed;
  if (!r.sequences_dense || r.first_sequence != 1 || r.last_sequence != r.records) {
    errors.push_back("log sequence not dense: first " + std::to_string(r.first_sequence) + ", last " +
                     std::to_string(r.last_sequence) + ", records " + std::to_string(r.records));
  }
  if (out.recovered.last_sequence != r.last_sequence || out.recovered.log_records != r.records) {
    errors.push_back("recovery saw another log tail than the replay");
  }
  if (out.recovered.workspaces != out.snapshot.workspaces.size() ||
      out.recovered.keys != out.snapshot.keys_by_hash.size() ||
      out.snapshot.keys_by_hash.size() != out.snapshot.key_hash_by_id.size()) {
    errors.push_back("recovery counts disagree with the snapshot (duplicate ids or key hashes?)");
  }
  return out;
}

json render(const engine::workspace& w) {
  json j;
  j.type = json::kind::object;
  j.set("id", json::of(w.id));
  j.set("name", json::of(w.name));
  j.set("identity_namespace", json::of(w.identity_namespace));
  j.set("requests_per_minute", json::of(std::int64_t{w.requests_per_minute}));
  j.set("created_at", time_or_null(w.created_at_ms));
  return j;
}

json render(const engine::api_key_record& k) {
  json j;
  j.type = json::kind::object;
  j.set("id", json::of(k.id));
  j.set("workspace_id", json::of(k.workspace_id));
  j.set("name", k.name.empty() ? json{} : json::of(k.name));
  j.set("prefix", json::of(k.prefix));
  j.set("last4", json::of(k.last4));
  json roles;
  roles.type = json::kind::array;
  engine::for_each_role(k.roles, [&](std::string_view r) { roles.items.push_back(json::of(r)); });
  j.set("roles", roles);
  j.set("requests_per_minute", k.requests_per_minute == 0 ? json{} : json::of(std::int64_t{k.requests_per_minute}));
  j.set("created_at", time_or_null(k.created_at_ms));
  j.set("expires_at", time_or_null(k.expires_at_ms));
  j.set("revoked_at", time_or_null(k.revoked_at_ms));
  return j;
}

void compare_dump_with_snapshot(const api_dump& dump, const engine::tenancy_snapshot& snapshot,
                                std::vector<std::string>& errors) {
  if (dump.workspaces.size() != snapshot.workspaces.size() || dump.key_count != snapshot.keys_by_hash.size()) {
    errors.push_back("the API listed " + std::to_string(dump.workspaces.size()) + " workspaces and " +
                     std::to_string(dump.key_count) + " keys; the tables hold " +
                     std::to_string(snapshot.workspaces.size()) + " and " +
                     std::to_string(snapshot.keys_by_hash.size()));
  }
  for (const json& w : dump.workspaces) {
    const engine::workspace* stored = snapshot.find_workspace(w["id"].string);
    if (stored == nullptr || render(*stored) != w) {
      errors.push_back("API workspace " + w.dump() + " vs stored " + (stored ? render(*stored).dump() : "none"));
    }
  }
  for (const auto& [workspace_id, keys] : dump.keys_by_workspace) {
    for (const json& k : keys) {
      const engine::api_key_record* stored = snapshot.find_key(workspace_id, k["id"].string);
      if (stored == nullptr || render(*stored) != k) {
        errors.push_back("API key " + k.dump() + " vs stored " + (stored ? render(*stored).dump() : "none"));
      }
    }
  }
}

}  // namespace warrant::test

#include "engine/tenancy/recovery.h"

#include <fmt/format.h>

#include <chrono>
#include <stdexcept>

#include "storage/record.h"

namespace warrant::engine {

using storage::record_type;
using storage::table;

namespace {

storage::decoded_record checked(std::string_view where, std::string_view key, std::string_view bytes) {
  storage::decoded_record rec;
  const storage::decode_errc e = storage::decode_record(bytes, rec);
  if (e != storage::decode_errc::ok) {
    throw std::runtime_error(fmt::format("corrupt record in {} (key of {} bytes): {}", where, key.size(),
                                         storage::decode_errc_name(e)));
  }
  return rec;
}

[[noreturn]] void undecodable(std::string_view where, std::uint64_t seq = 0) {
  throw std::runtime_error(fmt::format("undecodable record in {}{}", where, seq ? fmt::format(" at sequence {}", seq) : ""));
}

// A cold scan faults pages one at a time, at the disk's random-read rate; reading the whole
// used file ahead streams it at the sequential rate, which is 15-70 times faster on common
// disks (docs/PERFORMANCE.md: ~13 k random pages/s against 1.4 GB/s here). It pays off once
// the scan covers about 1/16 of the file, and costs a start-up over a large log and small
// tables nothing.
constexpr std::size_t readahead_min_share = 16;

std::size_t read_ahead_for_scan(storage::lmdb_store::reader& r, std::size_t scanned_pages) {
  storage::lmdb_store& store = r.owner();
  if (scanned_pages * readahead_min_share < store.used_pages()) return 0;
  return store.readahead(storage::lmdb_store::readahead_bytes_default());
}

void stage_key(tenancy_snapshot& s, const api_key_record& k) {
  s.keys_by_hash[k.hash] = k;
  s.key_hash_by_id[api_key_storage_key(k.workspace_id, k.id)] = k.hash;
}

}  // namespace

recovery_report recover_tenancy(storage::lmdb_store& store, tenancy_index& index) {
  storage::lmdb_store::reader r(store);
  return recover_tenancy(r, index);
}

recovery_report recover_tenancy(storage::lmdb_store::reader& r, tenancy_index& index) {
  const auto start = std::chrono::steady_clock::now();
  recovery_report report;
  report.readahead_bytes = read_ahead_for_scan(
      r, r.pages(table::workspaces) + r.pages(table::api_keys) + r.pages(table::agents));
  r.scan(table::workspaces, {}, [&](std::string_view key, std::string_view value) {
    const auto rec = checked("workspaces", key, value);
    auto w = rec.type == record_type::workspace ? decode_workspace(rec.payload) : std::nullopt;
    if (!w) undecodable("workspaces");
    index.stage_workspace(*w);
    ++report.workspaces;
    ++report.records_read;
    return true;
  });
  r.scan(table::api_keys, {}, [&](std::string_view key, std::string_view value) {
    const auto rec = checked("api_keys", key, value);
    auto k = rec.type == record_type::api_key ? decode_api_key(rec.payload) : std::nullopt;
    if (!k) undecodable("api_keys");
    index.stage_key(*k);
    ++report.keys;
    ++report.records_read;
    return true;
  });
  r.scan(table::agents, {}, [&](std::string_view key, std::string_view value) {
    const auto rec = checked("agents", key, value);
    auto a = rec.type == record_type::agent ? decode_agent(rec.payload) : std::nullopt;
    if (!a) undecodable("agents");
    index.stage_agent(*a);
    ++report.agents;
    ++report.records_read;
    return true;
  });
  r.scan(table::spawn_policies, {}, [&](std::string_view key, std::string_view value) {
    const auto rec = checked("spawn_policies", key, value);
    auto p = rec.type == record_type::spawn_policy ? decode_spawn_policy(rec.payload) : std::nullopt;
    if (!p) undecodable("spawn_policies");
    index.stage_spawn_policy(*p);
    ++report.records_read;
    return true;
  });
  report.log_records = r.entries(table::log);
  if (auto last = r.last(table::log)) {
    checked("log", last->first, last->second);  // the tail, where a torn write would show
    report.last_sequence = storage::be64_value(last->first);
    ++report.records_read;
  }
  index.publish();
  report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return report;
}

replay_report replay_log(storage::lmdb_store& store, tenancy_snapshot& out) {
  storage::lmdb_store::reader r(store);
  return replay_log(r, out);
}

replay_report replay_log(storage::lmdb_store::reader& r, tenancy_snapshot& out) {
  replay_report report;
  report.readahead_bytes = read_ahead_for_scan(r, r.pages(table::log));
  r.scan(table::log, {}, [&](std::string_view key, std::string_view value) {
    const std::uint64_t seq = storage::be64_value(key);
    if (report.records == 0) report.first_sequence = seq;
    if (report.records > 0 && seq != report.last_sequence + 1) report.sequences_dense = false;
    report.last_sequence = seq;
    ++report.records;
    const auto rec = checked("log", key, value);
    switch (rec.type) {
      case record_type::log_workspace_created: {
        auto w = decode_workspace(rec.payload);
        if (!w) undecodable("log", seq);
        out.workspaces[w->id] = *w;
        break;
      }
      case record_type::log_key_created: {
        auto k = decode_api_key(rec.payload);
        if (!k) undecodable("log", seq);
        stage_key(out, *k);
        break;
      }
      case record_type::log_key_revoked: {
        auto rv = decode_key_revocation(rec.payload);
        if (!rv) undecodable("log", seq);
        auto it = out.key_hash_by_id.find(api_key_storage_key(rv->workspace_id, rv->key_id));
        if (it == out.key_hash_by_id.end()) undecodable("log (revocation of an unknown key)", seq);
        out.keys_by_hash[it->second].revoked_at_ms = rv->revoked_at_ms;
        break;
      }
      case record_type::log_key_erased: {
        auto e = decode_key_erasure(rec.payload);
        if (!e) undecodable("log", seq);
        auto it = out.key_hash_by_id.find(api_key_storage_key(e->workspace_id, e->key_id));
        if (it == out.key_hash_by_id.end()) undecodable("log (erasure of an unknown key)", seq);
        out.keys_by_hash.erase(it->second);
        out.key_hash_by_id.erase(it);
        break;
      }
      case record_type::log_agent_written: {
        auto a = decode_agent(rec.payload);
        if (!a) undecodable("log", seq);
        out.agent_keys.insert(agent_storage_key(a->workspace_id, a->id));
        out.agents[a->id].rec = std::move(*a);
        break;
      }
      case record_type::log_spawn_policy_set: {
        auto p = decode_spawn_policy(rec.payload);
        if (!p) undecodable("log", seq);
        out.spawn_policies[p->workspace_id] = *p;
        break;
      }
      case record_type::log_limits_set: {
        auto c = decode_limits_change(rec.payload);
        if (!c) undecodable("log", seq);
        auto it = out.workspaces.find(c->workspace_id);
        if (it == out.workspaces.end()) undecodable("log (limits of an unknown workspace)", seq);
        it->second.requests_per_minute = c->requests_per_minute;
        break;
      }
      default:
        break;  // records of other families are folded by their own modules
    }
    return true;
  });
  return report;
}

std::string compare_snapshots(const tenancy_snapshot& a, const tenancy_snapshot& b) {
  if (a.workspaces.size() != b.workspaces.size()) {
    return fmt::format("workspace count {} vs {}", a.workspaces.size(), b.workspaces.size());
  }
  for (const auto& [id, w] : a.workspaces) {
    const workspace* o = b.find_workspace(id);
    if (o == nullptr) return fmt::format("workspace {} missing", id);
    if (encode_workspace(w) != encode_workspace(*o)) return fmt::format("workspace {} differs", id);
  }
  if (a.keys_by_hash.size() != b.keys_by_hash.size() || a.key_hash_by_id.size() != b.key_hash_by_id.size()) {
    return fmt::format("key count {} vs {}", a.keys_by_hash.size(), b.keys_by_hash.size());
  }
  for (const auto& [hash, k] : a.keys_by_hash) {
    const api_key_record* o = b.find_key(hash);
    if (o == nullptr) return fmt::format("key {} missing", k.id);
    if (encode_api_key(k) != encode_api_key(*o)) return fmt::format("key {} differs", k.id);
  }
  if (a.agents.size() != b.agents.size() || a.agent_keys != b.agent_keys) {
    return fmt::format("agent count {} vs {}", a.agents.size(), b.agents.size());
  }
  for (const auto& [id, agent] : a.agents) {
    const indexed_agent* o = b.find_agent(id);
    if (o == nullptr) return fmt::format("agent {} missing", id);
    if (encode_agent(agent.rec) != encode_agent(o->rec)) return fmt::format("agent {} differs", id);
  }
  if (a.spawn_policies.size() != b.spawn_policies.size()) {
    return fmt::format("spawn policy count {} vs {}", a.spawn_policies.size(), b.spawn_policies.size());
  }
  for (const auto& [ws, p] : a.spawn_policies) {
    auto it = b.spawn_policies.find(ws);
    if (it == b.spawn_policies.end() || encode_spawn_policy(p) != encode_spawn_policy(it->second)) {
      return fmt::format("spawn policy of {} differs", ws);
    }
  }
  return {};
}

}  // namespace warrant::engine

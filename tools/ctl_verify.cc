#include "tools/ctl_verify.h"

#include <fmt/format.h>

#include <stdexcept>

#include "engine/agents/model.h"
#include "engine/audit/audit.h"
#include "engine/evidence/claim.h"
#include "engine/evidence/decision_record.h"
#include "engine/evidence/event.h"
#include "engine/tenancy/model.h"
#include "engine/tenancy/recovery.h"
#include "storage/record.h"
#include "tools/ctl_json.h"
#include "tools/ctl_records.h"

namespace warrant::tools {
namespace {

using storage::record_type;
using storage::table;

constexpr std::size_t sequence_key_bytes = 8;

std::string printable_key(table t, std::string_view key) {
  if (t == table::log && key.size() == sequence_key_bytes) return std::to_string(storage::be64_value(key));
  std::string out;
  for (const char c : key) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '\0') {
      out.push_back('/');
    } else if (u < 0x20 || u == 0x7f) {
      out.append(fmt::format("\\x{:02x}", static_cast<unsigned>(u)));
    } else {
      out.push_back(c);
    }
  }
  return out;
}

bool type_belongs(table t, record_type type) {
  const auto v = static_cast<std::uint8_t>(type);
  switch (t) {
    // 16..31: log records, of any family; 59..63: the agent registry's (storage/record.h)
    case table::log: return (v >= 16 && v < 32) || (v >= 59 && v <= 63);
    case table::workspaces: return type == record_type::workspace;
    case table::api_keys: return type == record_type::api_key;
    case table::idempotency: return type == record_type::idempotent_response;
    case table::idempotency_expiry: return type == record_type::idempotency_expiry;
    case table::test_writes: return type == record_type::test_write;
    case table::decisions: return type == record_type::policy_decision || type == record_type::policy_decision_group;
    case table::events: return type == record_type::event;
    case table::claims: return type == record_type::claim;
    case table::agents: return type == record_type::agent;
    case table::spawn_policies: return type == record_type::spawn_policy;
    case table::audit: return type == record_type::audit_entry;
    case table::meta: return true;
  }
  return false;
}

// The content-level check of one well-formed record: "" when it holds, else what is wrong.
std::string check_content(table t, std::string_view key, const storage::decoded_record& rec) {
  if (t == table::workspaces) {
    const auto w = engine::decode_workspace(rec.payload);
    if (!w) return "undecodable workspace payload";
    if (w->id != key) return fmt::format("stored under a key other than its id '{}'", w->id);
  } else if (t == table::api_keys) {
    const auto k = engine::decode_api_key(rec.payload);
    if (!k) return "undecodable api key payload";
    if (engine::api_key_storage_key(k->workspace_id, k->id) != key) {
      return fmt::format("stored under a key other than '{}/{}'", k->workspace_id, k->id);
    }
  } else if (t == table::agents) {
    const auto a = engine::decode_agent(rec.payload);
    if (!a) return "undecodable agent payload";
    if (engine::agent_storage_key(a->workspace_id, a->id) != key) {
      return fmt::format("stored under a key other than agent '{}/{}'", a->workspace_id, a->id);
    }
  } else if (t == table::events) {
    const auto e = engine::evidence::decode_event(rec.payload);
    if (!e) return "undecodable event payload";
    if (engine::evidence::inverted_id_key(e->workspace_id, e->id) != key) {
      return fmt::format("stored under a key other than event '{}/{}'", e->workspace_id, e->id);
    }
  } else if (t == table::claims) {
    const auto c = engine::evidence::decode_claim(rec.payload);
    if (!c) return "undecodable claim payload";
    if (engine::evidence::claim_key(c->identity_namespace, c->id) != key) {
      return fmt::format("stored under a key other than claim '{}/{}'", c->identity_namespace, c->id);
    }
  } else if (t == table::audit) {
    const auto e = engine::decode_audit_entry(rec.payload);
    if (!e) return "undecodable audit entry payload";
    if (engine::audit_storage_key(e->workspace_id, e->id) != key) {
      return fmt::format("stored under a key other than audit entry '{}/{}'", e->workspace_id, e->id);
    }
  } else if (t == table::decisions && rec.type == record_type::policy_decision_group) {
    engine::evidence::decision_group_header h;
    engine::evidence::stored_decision d;
    if (!engine::evidence::decode_decision_group(rec.payload, 0, h, d)) return "undecodable decision group payload";
    // Keyed by group id (16 bytes), a group must name its workspace: reads check it.
    if (key.size() == engine::evidence::decision_group_key_bytes && h.workspace_id.empty()) {
      return "decision group keyed by its group id names no workspace";
    }
  } else if (t == table::decisions) {
    const auto d = engine::evidence::decode_decision_payload(rec.payload);
    if (!d) return "undecodable decision payload";
    if (engine::evidence::decision_key(d->workspace_id, d->correlation_id) != key) {
      return fmt::format("stored under a key other than decision '{}/{}'", d->workspace_id, d->correlation_id);
    }
  } else if (t == table::log) {
    if (key.size() != sequence_key_bytes) return fmt::format("log key of {} bytes, not an 8-byte sequence", key.size());
    std::string scratch;
    std::string error;
    if (!append_log_record_json(scratch, storage::be64_value(key), rec, error)) return error;
  }
  return {};
}

class record_checker {
 public:
  explicit record_checker(verify_report& report) : _report(report) {}

  // Called for every key/value of table `t`, in key order.
  void check(table t, std::string_view key, std::string_view value) {
    const auto i = static_cast<std::size_t>(t);
    ++_report.entries[i];
    if (t == table::meta) return;  // meta values are not records (docs/storage-format.md)
    if (t == table::log) check_sequence(key);
    storage::decoded_record rec;
    const storage::decode_errc e = storage::decode_record(value, rec);
    std::string detail;
    if (e != storage::decode_errc::ok) {
      detail = std::string(storage::decode_errc_name(e));
    } else if (!type_belongs(t, rec.type)) {
      detail = fmt::format("record type {} does not belong in this table", static_cast<unsigned>(rec.type));
    } else {
      detail = check_content(t, key, rec);
    }
    if (detail.empty()) return;
    ++_report.bad_records[i];
    _report.add({"record", std::string(storage::table_name(t)), printable_key(t, key), detail});
  }

 private:
  void check_sequence(std::string_view key) {
    if (key.size() != sequence_key_bytes) return;  // reported by the content check
    const std::uint64_t seq = storage::be64_value(key);
    const std::uint64_t expected = _have_sequence ? _report.last_sequence + 1 : 1;
    if (!_have_sequence) _report.first_sequence = seq;
    if (seq != expected) {
      _report.sequences_dense = false;
      _report.add({"sequence", "log", std::to_string(seq), fmt::format("expected sequence {}", expected)});
    }
    _have_sequence = true;
    _report.last_sequence = seq;
  }

  verify_report& _report;
  bool _have_sequence = false;
};

void check_records(storage::lmdb_store::reader& r, verify_report& report) {
  record_checker checker(report);
  for (std::size_t i = 0; i < storage::table_count; ++i) {
    const auto t = static_cast<table>(i);
    const storage::errc e = r.scan(t, {}, [&](std::string_view key, std::string_view value) {
      checker.check(t, key, value);
      return true;
    });
    if (e != storage::errc::ok) {
      report.add({"lmdb", std::string(storage::table_name(t)), "", fmt::format("reading the table: {}", storage::errc_name(e))});
    }
  }
}

void check_tenancy(storage::lmdb_store::reader& r, verify_report& report) {
  engine::tenancy_index recovered;
  bool recovered_ok = false;
  try {
    const engine::recovery_report rr = engine::recover_tenancy(r, recovered);
    report.workspaces = rr.workspaces;
    report.keys = rr.keys;
    recovered_ok = true;
  } catch (const std::exception& e) {
    report.add({"recovery", "", "", e.what()});
  }
  engine::tenancy_snapshot replayed;
  bool replayed_ok = false;
  try {
    engine::replay_log(r, replayed);
    report.replayed_workspaces = replayed.workspaces.size();
    report.replayed_keys = replayed.keys_by_hash.size();
    replayed_ok = true;
  } catch (const std::exception& e) {
    report.add({"replay", "log", "", e.what()});
  }
  if (recovered_ok && replayed_ok) {
    const std::string diff = engine::compare_snapshots(recovered.staged(), replayed);
    if (!diff.empty()) report.add({"compare", "", "", "materialised tables vs replayed log: " + diff});
  }
}

}  // namespace

void verify_report::add(verify_problem p) {
  ++problems_total;
  if (problems.size() < verify_problems_max) problems.push_back(std::move(p));
}

verify_report verify_store(storage::lmdb_store& store) {
  verify_report report;
  storage::lmdb_store::reader r(store);  // one snapshot for every check below
  check_records(r, report);
  check_tenancy(r, report);
  return report;
}

std::string render_verify_report(const verify_report& r, const std::string& data_dir) {
  json_out j;
  j.begin_object().member("consistent", r.consistent()).member("data_dir", data_dir);
  j.key("tables").begin_object();
  for (std::size_t i = 0; i < storage::table_count; ++i) {
    j.key(storage::table_name(static_cast<table>(i))).begin_object();
    j.member("entries", r.entries[i]).member("bad_records", r.bad_records[i]).end_object();
  }
  j.end_object();
  j.key("log").begin_object().member("first_sequence", r.first_sequence).member("last_sequence", r.last_sequence);
  j.member("dense", r.sequences_dense).end_object();
  j.key("recovered").begin_object().member("workspaces", r.workspaces).member("keys", r.keys).end_object();
  j.key("replayed").begin_object().member("workspaces", r.replayed_workspaces).member("keys", r.replayed_keys).end_object();
  j.member("problems_total", r.problems_total);
  j.key("problems").begin_array();
  for (const verify_problem& p : r.problems) {
    j.begin_object().member("check", p.check);
    if (!p.table.empty()) j.member("table", p.table);
    if (!p.key.empty()) j.member("key", p.key);
    j.member("detail", p.detail).end_object();
  }
  j.end_array().end_object();
  return j.take();
}

}  // namespace warrant::tools

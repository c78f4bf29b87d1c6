#include "tests/durability/crash_model.h"

#include <cstdlib>

namespace warrant::test {
namespace {

std::string fmt_error(const std::string& what, const json& detail) { return what + ": " + detail.dump(); }

json without(json j, std::string_view member) {
  std::erase_if(j.members, [&](const auto& kv) { return kv.first == member; });
  return j;
}

void merge_workspace_create(model& m, int owner, const op_record& op, std::vector<std::string>& errors) {
  if (!op.acknowledged) {
    m.workspace_creates_unanswered[op.name] = {"", owner};
    return;
  }
  const std::string& id = op.answer["id"].string;
  if (op.answer["name"].string != op.name) errors.push_back(fmt_error("create answered another name", op.answer));
  if (!m.workspaces.emplace(id, workspace_model{op.answer, owner, {}}).second) {
    errors.push_back(fmt_error("two acknowledged creates share workspace id " + id, op.answer));
  }
}

void merge_key_create(model& m, int owner, const op_record& op, std::vector<std::string>& errors) {
  if (!op.acknowledged) {
    m.key_creates_unanswered[op.name] = {op.workspace_id, owner};
    return;
  }
  const std::string& id = op.answer["id"].string;
  if (op.answer["workspace_id"].string != op.workspace_id || op.answer["name"].string != op.name) {
    errors.push_back(fmt_error("key create answered another workspace or name", op.answer));
  }
  if (!m.keys.emplace(id, key_model{without(op.answer, "key"), false}).second) {
    errors.push_back(fmt_error("two acknowledged creates share key id " + id, op.answer));
  }
}

void merge_revoke(model& m, const op_record& op, std::vector<std::string>& errors) {
  auto it = m.keys.find(op.key_id);
  if (it == m.keys.end()) {
    errors.push_back("revoked a key the model does not know: " + op.key_id);
    return;
  }
  key_model& k = it->second;
  if (!op.acknowledged) {
    k.revoke_pending = true;
    return;
  }
  if (!op.answer["revoked_at"].is_string()) errors.push_back(fmt_error("revoke answered no revoked_at", op.answer));
  if (without(op.answer, "revoked_at") != without(k.acknowledged, "revoked_at")) {
    errors.push_back(fmt_error("revoke answered another key than was created: " + k.acknowledged.dump(), op.answer));
  }
  if (k.acknowledged["revoked_at"].is_string() && k.acknowledged["revoked_at"] != op.answer["revoked_at"]) {
    errors.push_back(fmt_error("a second revoke changed revoked_at of " + k.acknowledged.dump(), op.answer));
  }
  k.acknowledged = op.answer;
  k.revoke_pending = false;
}

void merge_limits(model& m, const op_record& op, std::vector<std::string>& errors) {
  auto it = m.workspaces.find(op.workspace_id);
  if (it == m.workspaces.end()) {
    errors.push_back("limited a workspace the model does not know: " + op.workspace_id);
    return;
  }
  workspace_model& w = it->second;
  if (!op.acknowledged) {
    w.limits_pending.push_back(op.requests_per_minute);
    return;
  }
  if (op.answer["workspace_id"].string != op.workspace_id ||
      op.answer["requests_per_minute"].integer != op.requests_per_minute) {
    errors.push_back(fmt_error("limits answered another change", op.answer));
  }
  w.acknowledged.set("requests_per_minute", json::of(op.requests_per_minute));
  w.limits_pending.clear();  // the same thread sent the earlier ones, and they were answered or lost first
}

void check_workspace(model& m, const json& w, check_counts& counts, std::vector<std::string>& errors) {
  const std::string& id = w["id"].string;
  auto it = m.workspaces.find(id);
  if (it == m.workspaces.end()) {
    auto created = m.workspace_creates_unanswered.find(w["name"].string);
    if (created == m.workspace_creates_unanswered.end()) {
      errors.push_back(fmt_error("a workspace nobody created (or created twice)", w));
      return;
    }
    ++counts.unanswered_creates_present;
    m.workspaces.emplace(id, workspace_model{w, created->second.owner, {}});
    m.workspace_creates_unanswered.erase(created);
    return;
  }
  workspace_model& model_w = it->second;
  const std::int64_t rpm = w["requests_per_minute"].integer;
  if (without(w, "requests_per_minute") != without(model_w.acknowledged, "requests_per_minute")) {
    errors.push_back(fmt_error("workspace differs from its acknowledgement " + model_w.acknowledged.dump(), w));
  }
  if (rpm != model_w.acknowledged["requests_per_minute"].integer) {
    bool pending = false;
    for (std::int64_t v : model_w.limits_pending) pending = pending || v == rpm;
    if (!pending) {
      errors.push_back(fmt_error("LOST LIMIT: acknowledged " + model_w.acknowledged.dump(), w));
    } else {
      ++counts.unanswered_updates_applied;
    }
  }
  model_w.acknowledged = w;
  model_w.limits_pending.clear();
}

void check_key(model& m, const std::string& workspace_id, const json& k, check_counts& counts,
               std::vector<std::string>& errors) {
  if (k["workspace_id"].string != workspace_id) errors.push_back(fmt_error("listed under " + workspace_id, k));
  if (k.has("key")) errors.push_back(fmt_error("a listed key shows its secret", k));
  const std::string& id = k["id"].string;
  auto it = m.keys.find(id);
  if (it == m.keys.end()) {
    auto created = m.key_creates_unanswered.find(k["name"].string);
    if (created == m.key_creates_unanswered.end() || created->second.workspace_id != workspace_id) {
      errors.push_back(fmt_error("a key nobody created (or created twice)", k));
      return;
    }
    ++counts.unanswered_creates_present;
    m.keys.emplace(id, key_model{k, false});
    m.key_creates_unanswered.erase(created);
    return;
  }
  key_model& model_k = it->second;
  if (without(k, "revoked_at") != without(model_k.acknowledged, "revoked_at")) {
    errors.push_back(fmt_error("key differs from its acknowledgement " + model_k.acknowledged.dump(), k));
  }
  const json& acked = model_k.acknowledged["revoked_at"];
  if (acked.is_string() && k["revoked_at"] != acked) {
    errors.push_back(fmt_error("LOST REVOCATION: acknowledged " + model_k.acknowledged.dump(), k));
  } else if (acked.is_null() && !k["revoked_at"].is_null()) {
    if (!model_k.revoke_pending) errors.push_back(fmt_error("revoked without any revoke sent", k));
    ++counts.unanswered_updates_applied;
  }
  model_k.acknowledged = k;
  model_k.revoke_pending = false;
}

}  // namespace

std::string unique_name(char what, int cycle, int thread, int n) {
  return std::string(1, what) + "-c" + std::to_string(cycle) + "-t" + std::to_string(thread) + "-n" + std::to_string(n);
}

int owner_of_name(const std::string& name) {
  const std::size_t t = name.find("-t");
  return t == std::string::npos ? -1 : std::atoi(name.c_str() + t + 2);
}

merge_counts merge(model& m, const std::vector<client_log>& logs, std::vector<std::string>& errors) {
  merge_counts counts;
  for (std::size_t owner = 0; owner < logs.size(); ++owner) {
    for (const std::string& e : logs[owner].errors) errors.push_back("client " + std::to_string(owner) + ": " + e);
    for (const op_record& op : logs[owner].ops) {
      if (op.acknowledged) {
        ++counts.acknowledged;
        ++counts.acknowledged_by_kind[op.kind];
      } else {
        ++counts.unacknowledged;
      }
      switch (op.kind) {
        case op_kind::create_workspace:
          merge_workspace_create(m, static_cast<int>(owner), op, errors);
          break;
        case op_kind::create_key:
          merge_key_create(m, static_cast<int>(owner), op, errors);
          break;
        case op_kind::revoke_key:
          merge_revoke(m, op, errors);
          break;
        case op_kind::set_limits:
          merge_limits(m, op, errors);
          break;
      }
    }
  }
  return counts;
}

check_counts check_and_adopt(model& m, const api_dump& dump, std::vector<std::string>& errors) {
  check_counts counts;
  std::set<std::string> workspace_ids;
  std::set<std::string> names;
  for (const json& w : dump.workspaces) {
    if (!workspace_ids.insert(w["id"].string).second) errors.push_back(fmt_error("workspace listed twice", w));
    if (!names.insert(w["name"].string).second) errors.push_back(fmt_error("workspace name listed twice", w));
    check_workspace(m, w, counts, errors);
  }
  for (const auto& [id, w] : m.workspaces) {
    if (!workspace_ids.count(id)) errors.push_back(fmt_error("LOST acknowledged workspace", w.acknowledged));
  }
  std::set<std::string> key_ids;
  for (const auto& [workspace_id, keys] : dump.keys_by_workspace) {
    for (const json& k : keys) {
      if (!key_ids.insert(k["id"].string).second) errors.push_back(fmt_error("key listed twice", k));
      check_key(m, workspace_id, k, counts, errors);
    }
  }
  for (const auto& [id, k] : m.keys) {
    if (!key_ids.count(id)) errors.push_back(fmt_error("LOST acknowledged key", k.acknowledged));
  }
  // Whatever was not there now never will be: the server that might have written it is gone.
  m.workspace_creates_unanswered.clear();
  m.key_creates_unanswered.clear();
  return counts;
}

}  // namespace warrant::test

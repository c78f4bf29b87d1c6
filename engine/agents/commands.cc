#include "engine/agents/commands.h"

#include <fmt/format.h>

#include <algorithm>
#include <deque>

#include "engine/common/json_out.h"
#include "engine/audit/audit.h"
#include "engine/common/ids.h"
#include "engine/guard/access.h"
#include "engine/idempotency/command.h"
#include "storage/record.h"

namespace warrant::engine {

using storage::apply_status;
using storage::outcome;
using storage::record_type;
using storage::table;

namespace {

// ---- reading and writing inside the writer's transaction ----------------------------------

std::optional<agent_record> load_agent(storage::write_txn& txn, std::string_view ws, std::string_view id) {
  auto raw = txn.get(table::agents, agent_storage_key(ws, id));
  if (!raw) return std::nullopt;
  storage::decoded_record rec;
  if (storage::decode_record(*raw, rec) != storage::decode_errc::ok || rec.type != record_type::agent) {
    return std::nullopt;
  }
  return decode_agent(rec.payload);
}

spawn_policy load_spawn_policy(storage::write_txn& txn, std::string_view ws) {
  spawn_policy p;
  p.workspace_id = ws;
  auto raw = txn.get(table::spawn_policies, ws);
  if (!raw) return p;
  storage::decoded_record rec;
  if (storage::decode_record(*raw, rec) != storage::decode_errc::ok || rec.type != record_type::spawn_policy) return p;
  return decode_spawn_policy(rec.payload).value_or(p);
}

void write_agent(storage::write_txn& txn, storage::log_appender& log, const agent_record& a) {
  const std::string payload = encode_agent(a);
  txn.put(table::agents, agent_storage_key(a.workspace_id, a.id), storage::encode_record(record_type::agent, payload));
  log.append(record_type::log_agent_written, payload);
}

void write_new_key(storage::write_txn& txn, storage::log_appender& log, const api_key_record& k) {
  const std::string payload = encode_api_key(k);
  txn.put(table::api_keys, api_key_storage_key(k.workspace_id, k.id), storage::encode_record(record_type::api_key, payload));
  log.append(record_type::log_key_created, payload);
}

// Deletes the key record: not even its hash remains (revocation, rotation).
void erase_key(storage::write_txn& txn, storage::log_appender& log, std::string_view ws, std::string_view key_id) {
  if (key_id.empty()) return;
  const std::string k = api_key_storage_key(ws, key_id);
  if (!txn.get(table::api_keys, k)) return;
  txn.del(table::api_keys, k);
  log.append(record_type::log_key_erased, encode_key_erasure({std::string(ws), std::string(key_id)}));
}

// The agent's effective status inside the transaction (ancestors read from it: O(depth)).
agent_state effective_in_txn(storage::write_txn& txn, const agent_record& a) {
  std::deque<agent_record> held;  // the walk's records (stable addresses)
  return effective_status(a, [&](std::string_view parent) -> const agent_record* {
    auto p = load_agent(txn, a.workspace_id, parent);
    if (!p) return nullptr;
    held.push_back(std::move(*p));
    return &held.back();
  });
}

void audit(storage::write_txn& txn, const audit_actor& who, std::string_view ws, std::string_view target_type,
           std::string_view target_id, std::string_view action, std::string_view before, std::string_view after,
           std::int64_t now_ms) {
  audit_entry e;
  e.id = new_uuid_v7(now_ms);
  e.workspace_id = ws;
  e.actor_key_id = who.key_id;
  e.actor_id = who.actor_id;
  e.target_type = target_type;
  e.target_id = target_id;
  e.action = action;
  e.before_status = before;
  e.after_status = after;
  e.at_ms = now_ms;
  append_audit(txn, e);
}

// lastActivityAt as known now: the stored value or the live cell's (writer thread).
std::int64_t live_activity(const tenancy_index& idx, const agent_record& a) {
  const activity_cell* cell = idx.activity_of(a.id);
  return std::max(a.last_activity_at_ms, cell != nullptr ? cell->get() : 0);
}

// ---- rendering ----------------------------------------------------------------------------

void render_created(net::byte_buffer& out, const agent_record& a, agent_state effective, std::string_view secret) {
  out.append(R"({"agent":)");
  render_agent(out, a, effective, a.last_activity_at_ms);
  out.append(R"(,"apiKey":)");
  put_string_or_null(out, secret);
  out.push_back('}');
}

void answer_not_found(net::http_response& res) {
  res.set_error(404, "NOT_FOUND", "agent not found", "GET /v1/agents lists the workspace's agents");
}

// ---- create and spawn (idempotent) --------------------------------------------------------

enum class spawn_refusal : std::uint8_t { none, parent_missing, parent_inactive, disabled, depth, children };

class create_agent_cmd final : public idempotency::idempotent_command {
 public:
  create_agent_cmd(net::shard& s, net::deferred_response t, idempotency::ticket tk, tenancy_index& idx,
                   audit_actor actor, new_agent a, bool spawn)
      : idempotent_command(s, t, std::move(tk)), _idx(idx), _actor(std::move(actor)), _a(std::move(a)), _spawn(spawn) {}
  ~create_agent_cmd() override { std::fill(_a.secret.begin(), _a.secret.end(), '\0'); }

 protected:
  apply_status apply_write(storage::write_txn& txn, storage::log_appender& log,
                           idempotency::stored_response& answer) override {
    agent_record& a = _a.agent;
    if (!txn.get(table::workspaces, a.workspace_id)) return reject(spawn_refusal::parent_missing);
    if (txn.get(table::agents, agent_storage_key(a.workspace_id, a.id))) return reject(spawn_refusal::parent_missing);
    agent_state effective = a.status;
    if (_spawn && !decide_spawn(txn, log, a, effective)) return apply_status::rejected;
    write_new_key(txn, log, _a.key);
    write_agent(txn, log, a);
    if (_spawn) write_agent(txn, log, *_parent);
    audit(txn, _actor, a.workspace_id, "agent", a.id, _spawn ? "agent.spawned" : "agent.created", "",
          agent_state_name(a.status), a.created_at_ms);
    answer.status = 201;
    answer.content_type = "application/json";
    net::byte_buffer body;
    render_created(body, a, effective, {});  // stored without the key
    answer.body.assign(body.view());
    _effective = effective;
    return apply_status::applied;
  }

  void publish() override {
    _idx.stage_key(_a.key);
    _idx.stage_agent(_a.agent);
    if (_parent) _idx.stage_agent(*_parent);
  }

  void respond_committed(const idempotency::stored_response& stored, net::http_response& res) override {
    idempotency::stored_response first = stored;
    net::byte_buffer body;
    render_created(body, _a.agent, _effective, _a.secret);
    first.body.assign(body.view());
    write_response(first, res);
  }

  void respond_rejected(net::http_response& res) override {
    switch (_refusal) {
      case spawn_refusal::none:
      case spawn_refusal::parent_missing: return answer_not_found(res);
      case spawn_refusal::parent_inactive:
        return answer_invalid_transition(res, "the parent agent is not active: it cannot spawn", _parent_state);
      case spawn_refusal::disabled:
        return res.set_error(403, "SPAWN_DISABLED", "the workspace's spawn policy does not allow spawning",
                             "an operator enables it with PUT /v1/agents/spawn-policy");
      case spawn_refusal::depth:
        return res.set_error(403, "SPAWN_DEPTH_EXCEEDED",
                             fmt::format("a child of this agent would be at depth {}, past the spawn policy's "
                                         "maxDepth {}",
                                         _a.agent.depth, _policy.max_depth));
      case spawn_refusal::children:
        return res.set_error(403, "SPAWN_CHILDREN_EXCEEDED",
                             fmt::format("this agent already has {} children, the spawn policy's maxChildren",
                                         _policy.max_children));
    }
  }

 private:
  apply_status reject(spawn_refusal r) {
    _refusal = r;
    return apply_status::rejected;
  }

  // The spawn rules against the transaction: the parent exists and is effectively active, the
  // policy allows it, depth and children within the policy. Fills the child's lineage and the
  // parent's new children list.
  bool decide_spawn(storage::write_txn& txn, storage::log_appender&, agent_record& child, agent_state& effective) {
    auto parent = load_agent(txn, child.workspace_id, child.parent_id);
    if (!parent) return reject(spawn_refusal::parent_missing), false;
    _parent_state = effective_in_txn(txn, *parent);
    if (_parent_state != agent_state::active) return reject(spawn_refusal::parent_inactive), false;
    _policy = load_spawn_policy(txn, child.workspace_id);
    child.depth = parent->depth + 1;
    child.root_id = parent->root_id;
    if (!_policy.enabled) return reject(spawn_refusal::disabled), false;
    if (child.depth > _policy.max_depth) return reject(spawn_refusal::depth), false;
    if (parent->children.size() >= _policy.max_children) return reject(spawn_refusal::children), false;
    child.status = _policy.approval_depth != 0 && child.depth >= _policy.approval_depth ? agent_state::pending_approval
                                                                                          : agent_state::active;
    effective = child.status;
    parent->children.push_back(child.id);
    parent->updated_at_ms = child.created_at_ms;
    parent->last_activity_at_ms = live_activity(_idx, *parent);
    _parent = std::move(parent);
    return true;
  }

  tenancy_index& _idx;
  audit_actor _actor;
  new_agent _a;
  bool _spawn;
  std::optional<agent_record> _parent;
  spawn_policy _policy;
  agent_state _parent_state = agent_state::active;
  agent_state _effective = agent_state::active;
  spawn_refusal _refusal = spawn_refusal::none;
};

// ---- lifecycle ----------------------------------------------------------------------------

class transition_cmd final : public request_command {
 public:
  transition_cmd(net::shard& s, net::deferred_response t, tenancy_index& idx, audit_actor actor, std::string ws,
                 std::string id, agent_action action)
      : request_command(s, t), _idx(idx), _actor(std::move(actor)), _ws(std::move(ws)), _id(std::move(id)),
        _action(action) {}

  apply_status apply(storage::write_txn& txn, storage::log_appender& log) override {
    auto a = load_agent(txn, _ws, _id);
    if (!a) return apply_status::rejected;
    _a = std::move(*a);
    const auto next = agent_transition(_a.status, _action);
    if (!next) {
      _illegal = true;
      return apply_status::rejected;
    }
    const agent_state before = _a.status;
    const std::int64_t now = unix_now_ms();
    _a.status = *next;
    _a.updated_at_ms = now;
    _a.last_activity_at_ms = live_activity(_idx, _a);
    if (*next == agent_state::revoked) {
      erase_key(txn, log, _ws, _a.key_id);
      _erased_key = std::move(_a.key_id);
      _a.key_id.clear();
    }
    write_agent(txn, log, _a);
    audit(txn, _actor, _ws, "agent", _id, agent_audit_action(_action), agent_state_name(before),
          agent_state_name(*next), now);
    _effective = effective_in_txn(txn, _a);
    return apply_status::applied;
  }
  void publish() override {
    _idx.stage_agent(_a);
    if (!_erased_key.empty()) _idx.erase_key(_ws, _erased_key);
  }
  void respond(outcome result, net::http_response& res) override {
    if (result != outcome::committed) {
      if (!_illegal) return answer_not_found(res);
      return answer_invalid_transition(
          res, fmt::format("cannot {} an agent that is {}", agent_action_name(_action), agent_state_name(_a.status)),
          _a.status);
    }
    render_agent(res.body(), _a, _effective, _a.last_activity_at_ms);
  }

 private:
  tenancy_index& _idx;
  audit_actor _actor;
  std::string _ws;
  std::string _id;
  agent_action _action;
  agent_record _a;
  std::string _erased_key;
  agent_state _effective = agent_state::active;
  bool _illegal = false;
};

class rotate_key_cmd final : public request_command {
 public:
  rotate_key_cmd(net::shard& s, net::deferred_response t, tenancy_index& idx, audit_actor actor, std::string ws,
                 std::string id, api_key_record key, std::string secret)
      : request_command(s, t), _idx(idx), _actor(std::move(actor)), _ws(std::move(ws)), _id(std::move(id)),
        _key(std::move(key)), _secret(std::move(secret)) {}
  ~rotate_key_cmd() override { std::fill(_secret.begin(), _secret.end(), '\0'); }

  apply_status apply(storage::write_txn& txn, storage::log_appender& log) override {
    auto a = load_agent(txn, _ws, _id);
    if (!a) return apply_status::rejected;
    _a = std::move(*a);
    if (_a.status == agent_state::revoked) {
      _illegal = true;
      return apply_status::rejected;
    }
    erase_key(txn, log, _ws, _a.key_id);
    _old_key = _a.key_id;
    write_new_key(txn, log, _key);
    _a.key_id = _key.id;
    _a.key_prefix = _key.prefix;
    _a.key_last4 = _key.last4;
    _a.updated_at_ms = _key.created_at_ms;
    _a.last_activity_at_ms = live_activity(_idx, _a);
    write_agent(txn, log, _a);
    audit(txn, _actor, _ws, "agent", _id, "agent.key_rotated", agent_state_name(_a.status),
          agent_state_name(_a.status), _key.created_at_ms);
    _effective = effective_in_txn(txn, _a);
    return apply_status::applied;
  }
  void publish() override {
    if (!_old_key.empty()) _idx.erase_key(_ws, _old_key);
    _idx.stage_key(_key);
    _idx.stage_agent(_a);
  }
  void respond(outcome result, net::http_response& res) override {
    if (result != outcome::committed) {
      if (!_illegal) return answer_not_found(res);
      return answer_invalid_transition(res, "a revoked agent's key cannot be rotated", _a.status);
    }
    render_created(res.body(), _a, _effective, _secret);
  }

 private:
  tenancy_index& _idx;
  audit_actor _actor;
  std::string _ws;
  std::string _id;
  api_key_record _key;
  std::string _secret;
  agent_record _a;
  std::string _old_key;
  agent_state _effective = agent_state::active;
  bool _illegal = false;
};

// Revokes the agent and every descendant in this one transaction (one audit entry each).
// Descendants are found through the children lists stored in the records, read from the
// transaction, so a child spawned earlier in the same batch is included.
class revoke_descendants_cmd final : public request_command {
 public:
  revoke_descendants_cmd(net::shard& s, net::deferred_response t, tenancy_index& idx, audit_actor actor,
                         std::string ws, std::string id)
      : request_command(s, t), _idx(idx), _actor(std::move(actor)), _ws(std::move(ws)), _id(std::move(id)) {}

  apply_status apply(storage::write_txn& txn, storage::log_appender& log) override {
    auto root = load_agent(txn, _ws, _id);
    if (!root) return apply_status::rejected;
    const std::int64_t now = unix_now_ms();
    std::deque<agent_record> queue;
    queue.push_back(std::move(*root));
    std::size_t visited = 0;
    while (!queue.empty()) {
      agent_record a = std::move(queue.front());
      queue.pop_front();
      if (++visited > revoke_descendants_max) {
        _too_many = true;
        _changed.clear();
        _erased.clear();
        return apply_status::rejected;  // nothing has been written yet: see below
      }
      for (const std::string& c : a.children) {
        if (auto child = load_agent(txn, _ws, c)) queue.push_back(std::move(*child));
      }
      if (a.status == agent_state::revoked) continue;
      const agent_state before = a.status;
      a.status = agent_state::revoked;
      a.updated_at_ms = now;
      a.last_activity_at_ms = live_activity(_idx, a);
      _erased.push_back(a.key_id);
      a.key_id.clear();
      _changed.push_back(std::move(a));
      _before.push_back(before);
    }
    // Written only once the whole tree is known, so a refusal above leaves nothing written.
    for (std::size_t i = 0; i < _changed.size(); ++i) {
      const agent_record& a = _changed[i];
      erase_key(txn, log, _ws, _erased[i]);
      write_agent(txn, log, a);
      audit(txn, _actor, _ws, "agent", a.id, "agent.revoked", agent_state_name(_before[i]),
            agent_state_name(agent_state::revoked), now);
    }
    return apply_status::applied;
  }
  void publish() override {
    for (std::size_t i = 0; i < _changed.size(); ++i) {
      _idx.stage_agent(_changed[i]);
      if (!_erased[i].empty()) _idx.erase_key(_ws, _erased[i]);
    }
  }
  void respond(outcome result, net::http_response& res) override {
    if (result != outcome::committed) {
      if (_too_many) {
        return res.set_error(422, "TOO_MANY_DESCENDANTS",
                             fmt::format("more than {} agents in this subtree", revoke_descendants_max));
      }
      return answer_not_found(res);
    }
    net::byte_buffer& out = res.body();
    out.append(R"({"revoked":)");
    put_number(out, _changed.size());
    out.append(R"(,"ids":[)");
    for (std::size_t i = 0; i < _changed.size(); ++i) {
      if (i) out.push_back(',');
      net::append_json_string(out, _changed[i].id);
    }
    out.append("]}");
  }

 private:
  tenancy_index& _idx;
  audit_actor _actor;
  std::string _ws;
  std::string _id;
  std::vector<agent_record> _changed;
  std::vector<agent_state> _before;
  std::vector<std::string> _erased;
  bool _too_many = false;
};

class set_spawn_policy_cmd final : public request_command {
 public:
  set_spawn_policy_cmd(net::shard& s, net::deferred_response t, tenancy_index& idx, audit_actor actor, spawn_policy p)
      : request_command(s, t), _idx(idx), _actor(std::move(actor)), _p(std::move(p)) {}

  apply_status apply(storage::write_txn& txn, storage::log_appender& log) override {
    if (!txn.get(table::workspaces, _p.workspace_id)) return apply_status::rejected;
    const spawn_policy before = load_spawn_policy(txn, _p.workspace_id);
    const std::string payload = encode_spawn_policy(_p);
    txn.put(table::spawn_policies, _p.workspace_id, storage::encode_record(record_type::spawn_policy, payload));
    log.append(record_type::log_spawn_policy_set, payload);
    audit(txn, _actor, _p.workspace_id, "spawn_policy", _p.workspace_id, "spawn_policy.updated",
          before.enabled ? "ENABLED" : "DISABLED", _p.enabled ? "ENABLED" : "DISABLED", _p.updated_at_ms);
    return apply_status::applied;
  }
  void publish() override { _idx.stage_spawn_policy(_p); }
  void respond(outcome result, net::http_response& res) override {
    if (result != outcome::committed) return res.set_error(404, "NOT_FOUND", "workspace not found");
    render_spawn_policy(res.body(), _p);
  }

 private:
  tenancy_index& _idx;
  audit_actor _actor;
  spawn_policy _p;
};

}  // namespace

std::unique_ptr<request_command> make_create_agent(net::shard& s, net::deferred_response t, idempotency::ticket tk,
                                                   tenancy_index& idx, audit_actor actor, new_agent a) {
  return std::make_unique<create_agent_cmd>(s, t, std::move(tk), idx, std::move(actor), std::move(a), false);
}

std::unique_ptr<request_command> make_spawn_agent(net::shard& s, net::deferred_response t, idempotency::ticket tk,
                                                  tenancy_index& idx, audit_actor actor, new_agent child) {
  return std::make_unique<create_agent_cmd>(s, t, std::move(tk), idx, std::move(actor), std::move(child), true);
}

std::unique_ptr<request_command> make_agent_transition(net::shard& s, net::deferred_response t, tenancy_index& idx,
                                                       audit_actor actor, std::string workspace_id,
                                                       std::string agent_id, agent_action action) {
  return std::make_unique<transition_cmd>(s, t, idx, std::move(actor), std::move(workspace_id), std::move(agent_id),
                                          action);
}

std::unique_ptr<request_command> make_rotate_agent_key(net::shard& s, net::deferred_response t, tenancy_index& idx,
                                                       audit_actor actor, std::string workspace_id,
                                                       std::string agent_id, api_key_record key, std::string secret) {
  return std::make_unique<rotate_key_cmd>(s, t, idx, std::move(actor), std::move(workspace_id), std::move(agent_id),
                                          std::move(key), std::move(secret));
}

std::unique_ptr<request_command> make_revoke_descendants(net::shard& s, net::deferred_response t, tenancy_index& idx,
                                                         audit_actor actor, std::string workspace_id,
                                                         std::string agent_id) {
  return std::make_unique<revoke_descendants_cmd>(s, t, idx, std::move(actor), std::move(workspace_id),
                                                  std::move(agent_id));
}

std::unique_ptr<request_command> make_set_spawn_policy(net::shard& s, net::deferred_response t, tenancy_index& idx,
                                                       audit_actor actor, spawn_policy p) {
  return std::make_unique<set_spawn_policy_cmd>(s, t, idx, std::move(actor), std::move(p));
}

void render_agent(net::byte_buffer& out, const agent_record& a, agent_state effective, std::int64_t last_activity_ms) {
  out.append(R"({"id":)");
  net::append_json_string(out, a.id);
  out.append(R"(,"workspaceId":)");
  net::append_json_string(out, a.workspace_id);
  out.append(R"(,"name":)");
  net::append_json_string(out, a.name);
  out.append(R"(,"type":")");
  out.append(agent_type_name(a.type));
  out.append(R"(","preset":")");
  out.append(agent_preset_name(a.preset));
  out.append(R"(","scopes":[)");
  bool first = true;
  const scope_set scopes = scopes_of_preset(a.preset);
  for (std::size_t i = 0; i < scope_count; ++i) {
    const scope_set bit = scope_set{1} << i;
    if ((scopes & bit) == 0) continue;
    if (!first) out.push_back(',');
    first = false;
    net::append_json_string(out, scope_name(bit));
  }
  out.append(R"(],"allowedEventTypes":[)");
  first = true;
  for (std::string_view t : event_type_names(a.allowed_event_types)) {
    if (!first) out.push_back(',');
    first = false;
    net::append_json_string(out, t);
  }
  out.append(R"(],"requireIdempotency":)");
  out.append(a.require_idempotency ? "true" : "false");
  out.append(R"(,"rateLimitPerMinute":)");
  put_number_or_null(out, a.requests_per_minute);
  out.append(R"(,"owner":)");
  put_string_or_null(out, a.owner);
  out.append(R"(,"model_version":)");
  put_string_or_null(out, a.model_version);
  out.append(R"(,"endpoint":)");
  put_string_or_null(out, a.endpoint);
  out.append(R"(,"operational_state":)");
  put_string_or_null(out, a.operational_state);
  out.append(R"(,"rootAuthorizer":)");
  put_string_or_null(out, a.root_authorizer);
  out.append(R"(,"status":")");
  out.append(agent_state_name(a.status));
  out.append(R"(","effectiveStatus":")");
  out.append(agent_state_name(effective));
  out.append(R"(","parentId":)");
  put_string_or_null(out, a.parent_id);
  out.append(R"(,"rootId":)");
  net::append_json_string(out, a.root_id);
  out.append(R"(,"depth":)");
  put_number(out, a.depth);
  out.append(R"(,"membershipSource":")");
  out.append(membership_source_name(a.source));
  out.append(R"(","authMode":"api_key","keyPrefix":)");
  put_string_or_null(out, a.key_prefix);
  out.append(R"(,"keyLast4":)");
  put_string_or_null(out, a.key_last4);
  out.append(R"(,"keyActive":)");
  out.append(a.key_id.empty() ? "false" : "true");
  out.append(R"(,"childrenCount":)");
  put_number(out, a.children.size());
  out.append(R"(,"createdAt":)");
  put_time_or_null(out, a.created_at_ms);
  out.append(R"(,"updatedAt":)");
  put_time_or_null(out, a.updated_at_ms);
  out.append(R"(,"lastActivityAt":)");
  put_time_or_null(out, last_activity_ms);
  out.push_back('}');
}

void render_agent(net::byte_buffer& out, const indexed_agent& a) {
  render_agent(out, a.rec, a.effective, a.last_activity_at_ms());
}

void render_spawn_policy(net::byte_buffer& out, const spawn_policy& p) {
  out.append(fmt::format(R"({{"enabled":{},"maxDepth":{},"approvalDepth":{},"maxChildren":{},"updatedAt":)",
                         p.enabled ? "true" : "false", p.max_depth, p.approval_depth, p.max_children));
  put_time_or_null(out, p.updated_at_ms);
  out.push_back('}');
}

void answer_invalid_transition(net::http_response& res, std::string_view message, agent_state current) {
  res.set_status(409);
  res.set_content_type("application/json");
  net::byte_buffer& out = res.body();
  out.clear();
  out.append(R"({"error":)");
  net::append_json_string(out, message);
  out.append(R"(,"code":"INVALID_AGENT_TRANSITION","status":")");
  out.append(agent_state_name(current));
  out.append(R"(","hint":"GET /v1/agents/{id} shows the agent's status; revoked is terminal"})");
}

}  // namespace warrant::engine

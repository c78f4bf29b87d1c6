#include "engine/tenancy/commands.h"

#include <fmt/format.h>

#include <future>
#include <stdexcept>

#include "engine/common/json_out.h"
#include "engine/common/ids.h"
#include "storage/record.h"

namespace warrant::engine {

using storage::apply_status;
using storage::outcome;
using storage::record_type;
using storage::table;

namespace {

template <typename T, typename Decode>
std::optional<T> load(storage::write_txn& txn, table t, std::string_view key, record_type type, Decode decode) {
  auto raw = txn.get(t, key);
  if (!raw) return std::nullopt;
  storage::decoded_record rec;
  if (storage::decode_record(*raw, rec) != storage::decode_errc::ok || rec.type != type) return std::nullopt;
  return decode(rec.payload);
}

std::optional<workspace> load_workspace(storage::write_txn& txn, std::string_view id) {
  return load<workspace>(txn, table::workspaces, id, record_type::workspace, decode_workspace);
}

std::optional<api_key_record> load_key(storage::write_txn& txn, std::string_view ws, std::string_view id) {
  return load<api_key_record>(txn, table::api_keys, api_key_storage_key(ws, id), record_type::api_key,
                              decode_api_key);
}

// Writes the materialised record and its log record. Errors surface through the writer.
void write_workspace(storage::write_txn& txn, storage::log_appender& log, const workspace& w, record_type log_type,
                     std::string_view log_payload) {
  const std::string payload = encode_workspace(w);
  txn.put(table::workspaces, w.id, storage::encode_record(record_type::workspace, payload));
  log.append(log_type, log_payload.empty() ? std::string_view(payload) : log_payload);
}

void write_key(storage::write_txn& txn, storage::log_appender& log, const api_key_record& k, record_type log_type,
               std::string_view log_payload) {
  const std::string payload = encode_api_key(k);
  txn.put(table::api_keys, api_key_storage_key(k.workspace_id, k.id),
          storage::encode_record(record_type::api_key, payload));
  log.append(log_type, log_payload.empty() ? std::string_view(payload) : log_payload);
}

void answer_workspace_missing(net::http_response& res) {
  res.set_error(404, "NOT_FOUND", "workspace not found");
}

class create_workspace_cmd final : public request_command {
 public:
  create_workspace_cmd(net::shard& s, net::deferred_response t, tenancy_index& idx, workspace w)
      : request_command(s, t), _idx(idx), _w(std::move(w)) {}
  apply_status apply(storage::write_txn& txn, storage::log_appender& log) override {
    if (txn.get(table::workspaces, _w.id)) return apply_status::rejected;
    write_workspace(txn, log, _w, record_type::log_workspace_created, {});
    return apply_status::applied;
  }
  void publish() override { _idx.stage_workspace(_w); }
  void respond(outcome result, net::http_response& res) override {
    if (result != outcome::committed) {
      res.set_error(409, "CONFLICT", "a workspace with this id exists");
      return;
    }
    res.set_status(201);
    render_workspace(res.body(), _w);
  }

 private:
  tenancy_index& _idx;
  workspace _w;
};

class create_key_cmd final : public request_command {
 public:
  create_key_cmd(net::shard& s, net::deferred_response t, tenancy_index& idx, api_key_record k, std::string secret)
      : request_command(s, t), _idx(idx), _k(std::move(k)), _secret(std::move(secret)) {}
  ~create_key_cmd() override { std::fill(_secret.begin(), _secret.end(), '\0'); }
  apply_status apply(storage::write_txn& txn, storage::log_appender& log) override {
    if (!load_workspace(txn, _k.workspace_id)) return apply_status::rejected;
    write_key(txn, log, _k, record_type::log_key_created, {});
    return apply_status::applied;
  }
  void publish() override { _idx.stage_key(_k); }
  void respond(outcome result, net::http_response& res) override {
    if (result != outcome::committed) return answer_workspace_missing(res);
    res.set_status(201);
    render_key(res.body(), _k, _secret);
  }

 private:
  tenancy_index& _idx;
  api_key_record _k;
  std::string _secret;
};

class revoke_key_cmd final : public request_command {
 public:
  revoke_key_cmd(net::shard& s, net::deferred_response t, tenancy_index& idx, std::string ws, std::string id,
                 std::int64_t now_ms)
      : request_command(s, t), _idx(idx), _ws(std::move(ws)), _id(std::move(id)), _now_ms(now_ms) {}
  apply_status apply(storage::write_txn& txn, storage::log_appender& log) override {
    auto k = load_key(txn, _ws, _id);
    if (!k) return apply_status::rejected;
    _k = std::move(*k);
    if (_k.revoked_at_ms != 0) return apply_status::applied;  // revoking twice changes nothing
    _k.revoked_at_ms = _now_ms;
    _changed = true;
    write_key(txn, log, _k, record_type::log_key_revoked,
              encode_key_revocation({_k.workspace_id, _k.id, _k.revoked_at_ms}));
    return apply_status::applied;
  }
  void publish() override {
    if (_changed) _idx.stage_key(_k);
  }
  void respond(outcome result, net::http_response& res) override {
    if (result != outcome::committed) {
      res.set_error(404, "NOT_FOUND", "key not found");
      return;
    }
    render_key(res.body(), _k);
  }

 private:
  tenancy_index& _idx;
  std::string _ws;
  std::string _id;
  std::int64_t _now_ms;
  api_key_record _k;
  bool _changed = false;
};

class set_limits_cmd final : public request_command {
 public:
  set_limits_cmd(net::shard& s, net::deferred_response t, tenancy_index& idx, std::string ws, std::uint32_t rpm)
      : request_command(s, t), _idx(idx), _ws(std::move(ws)), _rpm(rpm) {}
  apply_status apply(storage::write_txn& txn, storage::log_appender& log) override {
    auto w = load_workspace(txn, _ws);
    if (!w) return apply_status::rejected;
    _w = std::move(*w);
    _w.requests_per_minute = _rpm;
    write_workspace(txn, log, _w, record_type::log_limits_set, encode_limits_change({_ws, _rpm}));
    return apply_status::applied;
  }
  void publish() override { _idx.stage_workspace(_w); }
  void respond(outcome result, net::http_response& res) override {
    if (result != outcome::committed) return answer_workspace_missing(res);
    res.body().append(fmt::format(R"({{"workspace_id":)"));
    net::append_json_string(res.body(), _w.id);
    res.body().append(fmt::format(R"(,"requests_per_minute":{}}})", _w.requests_per_minute));
  }

 private:
  tenancy_index& _idx;
  std::string _ws;
  std::uint32_t _rpm;
  workspace _w;
};

class bootstrap_cmd final : public storage::command {
 public:
  bootstrap_cmd(tenancy_index& idx, workspace w, api_key_record k) : _idx(idx), _w(std::move(w)), _k(std::move(k)) {}
  apply_status apply(storage::write_txn& txn, storage::log_appender& log) override {
    if (txn.get(table::workspaces, _w.id)) return apply_status::rejected;
    write_workspace(txn, log, _w, record_type::log_workspace_created, {});
    write_key(txn, log, _k, record_type::log_key_created, {});
    return apply_status::applied;
  }
  void publish() override {
    _idx.stage_workspace(_w);
    _idx.stage_key(_k);
  }
  void complete(outcome result) override { _done.set_value(result); }
  std::future<outcome> result() { return _done.get_future(); }

 private:
  tenancy_index& _idx;
  workspace _w;
  api_key_record _k;
  std::promise<outcome> _done;
};

}  // namespace

std::unique_ptr<request_command> make_create_workspace(net::shard& s, net::deferred_response t, tenancy_index& idx,
                                                       workspace w) {
  return std::make_unique<create_workspace_cmd>(s, t, idx, std::move(w));
}

std::unique_ptr<request_command> make_create_key(net::shard& s, net::deferred_response t, tenancy_index& idx,
                                                 api_key_record k, std::string secret) {
  return std::make_unique<create_key_cmd>(s, t, idx, std::move(k), std::move(secret));
}

std::unique_ptr<request_command> make_revoke_key(net::shard& s, net::deferred_response t, tenancy_index& idx,
                                                 std::string workspace_id, std::string key_id, std::int64_t now_ms) {
  return std::make_unique<revoke_key_cmd>(s, t, idx, std::move(workspace_id), std::move(key_id), now_ms);
}

std::unique_ptr<request_command> make_set_limits(net::shard& s, net::deferred_response t, tenancy_index& idx,
                                                 std::string workspace_id, std::uint32_t requests_per_minute) {
  return std::make_unique<set_limits_cmd>(s, t, idx, std::move(workspace_id), requests_per_minute);
}

std::optional<std::string> bootstrap_default_workspace(storage::writer& writer, tenancy_index& idx,
                                                       const std::function<void(const std::string&)>& persist_key) {
  if (idx.staged().find_workspace(default_workspace_id) != nullptr) return std::nullopt;
  const std::int64_t now = unix_now_ms();
  workspace w{std::string(default_workspace_id), "default", std::string(default_workspace_id),
              default_requests_per_minute, now};
  generated_key g = generate_api_key();
  api_key_record k;
  k.id = new_uuid_v7(now);
  k.workspace_id = w.id;
  k.name = "bootstrap-admin";
  k.hash = g.hash;
  k.prefix = g.prefix;
  k.last4 = g.last4;
  k.roles = role_platform_admin;
  k.created_at_ms = now;
  persist_key(g.text);
  auto* cmd = new bootstrap_cmd(idx, w, k);
  std::future<outcome> done = cmd->result();
  std::unique_ptr<bootstrap_cmd> owner(cmd);
  if (writer.submit(cmd) != storage::errc::ok) throw std::runtime_error("bootstrap: the writer refused the command");
  const outcome result = done.get();
  if (result == outcome::rejected) return std::nullopt;  // someone else created it first
  if (result != outcome::committed) throw std::runtime_error("bootstrap: storage failed to commit");
  return g.text;
}

void render_workspace(net::byte_buffer& out, const workspace& w) {
  out.append(R"({"id":)");
  net::append_json_string(out, w.id);
  out.append(R"(,"name":)");
  net::append_json_string(out, w.name);
  out.append(R"(,"identity_namespace":)");
  net::append_json_string(out, w.identity_namespace);
  out.append(R"(,"requests_per_minute":)");
  put_number(out, w.requests_per_minute);
  out.append(R"(,"created_at":)");
  put_time_or_null(out, w.created_at_ms);
  out.push_back('}');
}

void render_key(net::byte_buffer& out, const api_key_record& k, std::string_view secret) {
  out.append(R"({"id":)");
  net::append_json_string(out, k.id);
  out.append(R"(,"workspace_id":)");
  net::append_json_string(out, k.workspace_id);
  if (!secret.empty()) {
    out.append(R"(,"key":)");
    net::append_json_string(out, secret);
  }
  out.append(R"(,"name":)");
  if (k.name.empty()) {
    out.append("null");
  } else {
    net::append_json_string(out, k.name);
  }
  out.append(R"(,"prefix":)");
  net::append_json_string(out, k.prefix);
  out.append(R"(,"last4":)");
  net::append_json_string(out, k.last4);
  out.append(R"(,"roles":[)");
  bool first = true;
  for_each_role(k.roles, [&](std::string_view name) {
    if (!first) out.push_back(',');
    first = false;
    net::append_json_string(out, name);
  });
  out.append(R"(],"requests_per_minute":)");
  put_number_or_null(out, k.requests_per_minute);
  out.append(R"(,"created_at":)");
  put_time_or_null(out, k.created_at_ms);
  out.append(R"(,"expires_at":)");
  put_time_or_null(out, k.expires_at_ms);
  out.append(R"(,"revoked_at":)");
  put_time_or_null(out, k.revoked_at_ms);
  out.push_back('}');
}

}  // namespace warrant::engine

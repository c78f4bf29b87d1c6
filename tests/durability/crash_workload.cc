#include "tests/durability/crash_workload.h"

#include <random>

namespace warrant::test {
namespace {

const std::string ws_path = "/v1/admin/workspaces";
const std::vector<std::string> all_roles = {"platform.admin", "platform.operator", "platform.viewer",
                                            "governance.approver", "governance.reviewer"};

std::string roles_json(std::mt19937_64& rng) {
  std::uint64_t mask = 0;
  while (mask == 0) mask = rng() & 31;
  std::string out = "[";
  for (std::size_t i = 0; i < all_roles.size(); ++i) {
    if ((mask >> i & 1) == 0) continue;
    if (out.size() > 1) out.push_back(',');
    out.append("\"").append(all_roles[i]).append("\"");
  }
  out.push_back(']');
  return out;
}

// A connection accepted while the server drains is answered 503 SHUTTING_DOWN and closed: the
// request never ran. It counts like an unanswered one (written or not, both are allowed).
std::optional<http_response> unless_refused_while_draining(std::optional<http_response> r) {
  if (!r || r->status != 503 || r->body.find("\"SHUTTING_DOWN\"") == std::string::npos) return r;
  return std::nullopt;
}

}  // namespace

workload::workload(const model& m, workload_options options) : _options(std::move(options)) {
  _slots.resize(static_cast<std::size_t>(_options.threads));
  for (const auto& [id, w] : m.workspaces) {
    if (w.owner >= 0 && w.owner < _options.threads) _slots[static_cast<std::size_t>(w.owner)].workspaces.push_back(id);
  }
  for (const auto& [id, k] : m.keys) {
    const std::string& ws = k.acknowledged["workspace_id"].string;
    auto owner = m.workspaces.find(ws);
    if (owner == m.workspaces.end() || owner->second.owner < 0 || owner->second.owner >= _options.threads) continue;
    if (!k.acknowledged["revoked_at"].is_null()) continue;
    _slots[static_cast<std::size_t>(owner->second.owner)].live_keys.emplace_back(ws, id);
  }
}

workload::~workload() {
  for (std::thread& t : _threads) {
    if (t.joinable()) t.join();
  }
}

void workload::start() {
  _deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(run_ms_max);
  for (int i = 0; i < _options.threads; ++i) _threads.emplace_back([this, i] { run(i); });
}

std::vector<client_log> workload::join() {
  for (std::thread& t : _threads) t.join();
  _threads.clear();
  std::vector<client_log> logs;
  for (slot& s : _slots) logs.push_back(std::move(s.log));
  return logs;
}

void workload::run(int index) {
  slot& me = _slots[static_cast<std::size_t>(index)];
  std::mt19937_64 rng(_options.seed * 1000003 + static_cast<std::uint64_t>(index));
  const header_list headers = {{"x-api-key", _options.admin_key}, {"Content-Type", "application/json"}};
  http_client client(_options.port, std::chrono::seconds(30));
  if (!client.connect()) return;
  int n = 0;
  while (std::chrono::steady_clock::now() < _deadline) {
    ++n;
    op_record op;
    std::string method = "POST";
    std::string path;
    std::string body;
    const std::uint64_t dice = rng() % 100;
    if (dice < 35 || me.workspaces.empty()) {
      op.kind = op_kind::create_workspace;
      op.name = unique_name('w', _options.cycle, index, n);
      path = ws_path;
      body = R"({"name":")" + op.name + "\"";
      if (rng() % 2 == 0) body += R"(,"identity_namespace":"ns-)" + op.name + "\"";
      body += "}";
    } else if (dice < 70 || (dice < 85 && me.live_keys.empty())) {
      op.kind = op_kind::create_key;
      op.name = unique_name('k', _options.cycle, index, n);
      op.workspace_id = me.workspaces[rng() % me.workspaces.size()];
      path = ws_path + "/" + op.workspace_id + "/keys";
      body = R"({"name":")" + op.name + R"(","roles":)" + roles_json(rng);
      if (rng() % 4 == 0) {
        const std::int64_t expires = now_unix_ms() + 30LL * 86'400'000 + static_cast<std::int64_t>(rng() % 86'400'000);
        body += R"(,"expires_at":")" + rfc3339_ms(expires) + "\"";
      }
      body += "}";
    } else if (dice < 85) {
      op.kind = op_kind::revoke_key;
      const std::size_t pick = rng() % me.live_keys.size();
      op.workspace_id = me.live_keys[pick].first;
      op.key_id = me.live_keys[pick].second;
      me.live_keys[pick] = me.live_keys.back();  // whatever the outcome, never revoked twice
      me.live_keys.pop_back();
      path = ws_path + "/" + op.workspace_id + "/keys/" + op.key_id + "/revoke";
    } else {
      op.kind = op_kind::set_limits;
      op.workspace_id = me.workspaces[rng() % me.workspaces.size()];
      op.requests_per_minute = std::int64_t{_options.cycle} * 100'000 + index * 10'000 + n % 10'000 + 1;
      method = "PUT";
      path = ws_path + "/" + op.workspace_id + "/limits";
      body = R"({"requests_per_minute":)" + std::to_string(op.requests_per_minute) + "}";
    }

    const std::optional<http_response> r = unless_refused_while_draining(client.request(method, path, body, headers));
    if (r && r->status >= 200 && r->status < 300) {
      auto answer = json::parse(r->body);
      if (!answer) {
        me.log.errors.push_back("2xx with a body that is not JSON: " + r->body);
      } else {
        op.acknowledged = true;
        op.answer = std::move(*answer);
        _acknowledged.fetch_add(1, std::memory_order_relaxed);
        if (op.kind == op_kind::create_workspace) me.workspaces.push_back(op.answer["id"].string);
        if (op.kind == op_kind::create_key) me.live_keys.emplace_back(op.workspace_id, op.answer["id"].string);
      }
    } else if (!r) {
      op.failed_at = std::chrono::steady_clock::now();
    } else {
      // No correct server answers these valid writes otherwise; it may or may not have written.
      me.log.errors.push_back(method + " " + path + " answered " + std::to_string(r->status) + ": " + r->body);
    }
    me.log.ops.push_back(std::move(op));
    if (!r && !client.connect()) return;  // the server is gone
  }
}

}  // namespace warrant::test

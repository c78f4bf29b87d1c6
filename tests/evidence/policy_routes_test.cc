// engine/evidence/policy_routes.*, in process: the evaluate route over an in-memory facts
// source (a map), run through the guard and a real (not started) shard the way the reactor
// calls a route, with the decision log on a real LMDB store and writer. Facts are looked up by
// the workspace's identity namespace (workspaces sharing one share entities); the whole
// evaluate path allocates nothing once warm; logged decisions read back; bulk items are
// isolated.
#include "engine/evidence/policy_routes.h"

#include <gtest/gtest.h>

#include <array>
#include <atomic>
#include <chrono>
#include <map>
#include <thread>
#include <vector>

#include "alloc_counter.h"
#include "engine/common/ids.h"
#include "engine/evidence/default_policy.h"
#include "engine/tenancy/api_key.h"
#include "net/http_parser.h"
#include "net/metrics.h"
#include "net/shard.h"
#include "storage/lmdb_store.h"
#include "evidence_test_support.h"
#include "tests/storage/temp_dir.h"

namespace warrant::engine::evidence {
namespace {

using namespace std::chrono_literals;

constexpr std::int64_t day_ms = ms_per_day;

// The test's facts source: (identity namespace, actor id) -> facts.
class map_facts_source final : public facts_source {
 public:
  struct facts {
    counted_history history;
    claim_summary claims;
  };
  void put(std::string ns, std::string actor, facts f) { _facts[{std::move(ns), std::move(actor)}] = f; }
  bool lookup(std::string_view ns, std::string_view actor, counted_history& history,
              claim_summary& claims) const override {
    // Heterogeneous lookup would avoid the key copies; a test source need not.
    const auto it = _facts.find({std::string(ns), std::string(actor)});
    if (it == _facts.end()) return false;
    history = it->second.history;
    claims = it->second.claims;
    return true;
  }

 private:
  std::map<std::pair<std::string, std::string>, facts> _facts;
};

class PolicyRoutesInProcess : public ::testing::Test {
 protected:
  PolicyRoutesInProcess()
      : _store(open_store()),
        _writer(*_store, storage::writer_options{}),
        _guard(_tenancy, guard_options{}),
        _policies(default_policy()),
        _reloader(_policies),
        _log(_writer, decision_log_options{}),
        _api{_policies, _reloader, _log, _facts, *_store, policy_routes_options{}} {
    _tenancy.stage_workspace(workspace{"ws-a", "a", "shared", 1'000'000, 1});
    _tenancy.stage_workspace(workspace{"ws-b", "b", "shared", 1'000'000, 1});
    _tenancy.stage_workspace(workspace{"ws-c", "c", "ws-c", 1'000'000, 1});
    key_a = add_key("ws-a");
    key_b = add_key("ws-b");
    key_c = add_key("ws-c");
    _tenancy.publish();
    _writer.start();
    register_policy_routes(_routes, _guard, _api);
    _metrics = std::make_unique<net::shard_metrics>(_routes.routes().size());
    _shard = std::make_unique<net::shard>(0, shard_config(), _routes, *_metrics, -1);

    const std::int64_t now = unix_now_ms();
    _facts.put("shared", "veteran", {{250, now - 120 * day_ms, 3}, {}});
    map_facts_source::facts flagged{{250, now - 120 * day_ms, 3}, {}};
    flagged.claims.on_filed();
    _facts.put("shared", "flagged", flagged);
  }
  ~PolicyRoutesInProcess() override {
    _reloader.stop();
    _log.flush_stopped();
    _writer.stop();
  }

  std::unique_ptr<storage::lmdb_store> open_store() {
    storage::lmdb_options o;
    o.path = _dir.path();
    o.map_size_bytes = 64ull << 20;
    return storage::lmdb_store::open(o);
  }
  std::string add_key(const char* ws) {
    generated_key g = generate_api_key();
    api_key_record k;
    k.id = std::string("k-") + ws;
    k.workspace_id = ws;
    k.hash = g.hash;
    k.prefix = g.prefix;
    k.last4 = g.last4;
    k.roles = role_platform_viewer;
    _tenancy.stage_key(k);
    return g.text;
  }
  static net::shard_config shard_config() {
    net::shard_config c;
    c.connections_max = 4;
    c.task_queue_capacity = 16;
    return c;
  }

  struct answer {
    int status = 0;
    std::string body;
    std::size_t allocations = 0;
  };
  answer run(std::string_view method, std::string_view target, std::string_view key, std::string_view body = {}) {
    _text = std::string(method) + " " + std::string(target) + " HTTP/1.1\r\nHost: h\r\nx-api-key: " + std::string(key) +
            "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" +
            std::string(body);
    net::http_parser parser;
    EXPECT_EQ(parser.parse(_text, _req).status, net::parse_status::complete);
    _res.reset();
    const std::size_t allocations = test::count_allocations([&] {
      const net::route_match m = _routes.match(_req.method, _req.path);
      net::request_context ctx{_req, m.params, _res, *_shard, 0, 0};
      m.matched->handler(ctx);
    });
    return {_res.status(), std::string(_res.body().view()), allocations};
  }
  answer evaluate(std::string_view key, std::string_view body, std::string_view path = "/v1/policy/evaluate") {
    return run("POST", path, key, body);
  }
  static std::string field(const std::string& json, const std::string& name) {
    const std::string tag = "\"" + name + "\":\"";
    const std::size_t at = json.find(tag);
    if (at == std::string::npos) return {};
    return json.substr(at + tag.size(), json.find('"', at + tag.size()) - at - tag.size());
  }

  storage::testing::temp_dir _dir;
  std::unique_ptr<storage::lmdb_store> _store;
  storage::writer _writer;
  tenancy_index _tenancy;
  // What the shard's turn-end hook does once the decisions' millisecond has passed: every
  // open group sealed and handed to the writer.
  void end_turn_after_this_millisecond() { _log.flush(0, unix_now_us() + 1000); }

  guard _guard;
  policy_holder _policies;
  policy_reloader _reloader;
  decision_log _log;
  map_facts_source _facts;
  policy_api _api;
  net::router _routes;
  std::unique_ptr<net::shard_metrics> _metrics;
  std::unique_ptr<net::shard> _shard;
  std::string _text;
  net::http_request _req;
  net::http_response _res;
  std::string key_a, key_b, key_c;
};

TEST_F(PolicyRoutesInProcess, FactsComeFromTheWorkspacesIdentityNamespace) {
  const std::string body = R"({"actor":{"id":"veteran"},"action":"data.export_pii"})";
  const answer a = evaluate(key_a, body);
  ASSERT_EQ(a.status, 200) << a.body;
  EXPECT_EQ(field(a.body, "decision"), "ALLOW") << a.body;
  EXPECT_NE(a.body.find(R"("tier":3)"), std::string::npos);
  EXPECT_EQ(field(evaluate(key_b, body).body, "decision"), "ALLOW") << "ws-b shares the namespace";
  const answer c = evaluate(key_c, body);
  EXPECT_EQ(field(c.body, "decision"), "DENY") << "ws-c has its own namespace: no history there";
  EXPECT_NE(c.body.find(R"("tier":0)"), std::string::npos);
}

TEST_F(PolicyRoutesInProcess, ClaimsTightenAfterTheTier) {
  const answer a = evaluate(key_a, R"({"actor":{"id":"flagged"},"action":"data.export_pii"})");
  ASSERT_EQ(a.status, 200) << a.body;
  EXPECT_EQ(field(a.body, "decision"), "DENY");
  EXPECT_EQ(field(a.body, "claimStatus"), "flagged");
  EXPECT_NE(a.body.find(R"("reasons":["TIER_SUFFICIENT","CLAIMS_FLAGGED"])"), std::string::npos) << a.body;
  const answer low = evaluate(key_a, R"({"actor":{"id":"flagged"},"action":"account.login"})");
  EXPECT_EQ(field(low.body, "decision"), "STEP_UP") << "low risk: one step tighter";
}

TEST_F(PolicyRoutesInProcess, EvaluateAllocatesNothingOnceWarm) {
  const std::string body = R"({"actor":{"type":"human","id":"veteran"},"action":"data.export_pii"})";
  for (int round = 0; round < 3; ++round) {
    for (int i = 0; i < 200; ++i) ASSERT_EQ(evaluate(key_a, body).status, 200);
    end_turn_after_this_millisecond();
    const auto deadline = std::chrono::steady_clock::now() + 5s;
    while (_log.stats().pending != 0 && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(1ms);
    ASSERT_EQ(_log.stats().pending, 0u);
  }
  for (int i = 0; i < 100; ++i) {
    const answer a = evaluate(key_a, body);
    ASSERT_EQ(a.status, 200);
    EXPECT_EQ(a.allocations, 0u) << "request " << i;
  }
}

TEST_F(PolicyRoutesInProcess, LoggedDecisionsReadBackInTheirWorkspace) {
  const answer a = evaluate(key_a, R"({"actor":{"id":"veteran"},"action":"account.login"})");
  const std::string id = field(a.body, "decision_correlation_id");
  ASSERT_EQ(id.size(), 36u) << a.body;
  EXPECT_EQ(run("GET", "/v1/policy/decisions/" + id, key_a).status, 404) << "not committed before the turn ends";
  end_turn_after_this_millisecond();
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  answer got;
  while ((got = run("GET", "/v1/policy/decisions/" + id, key_a)).status == 404 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(1ms);
  }
  ASSERT_EQ(got.status, 200);
  EXPECT_EQ(got.body, a.body);
  EXPECT_EQ(run("GET", "/v1/policy/decisions/" + id, key_b).status, 404) << "same namespace, other workspace";
}

// Puts one raw value into table decisions, as a server before groups would have.
class put_decision final : public storage::command {
 public:
  put_decision(std::string key, std::string value, std::atomic<bool>& done)
      : _key(std::move(key)), _value(std::move(value)), _done(done) {}
  storage::apply_status apply(storage::write_txn& txn, storage::log_appender&) override {
    txn.put(storage::table::decisions, _key, _value);
    return storage::apply_status::applied;
  }
  void complete(storage::outcome) override {
    _done.store(true);
    delete this;
  }

 private:
  std::string _key;
  std::string _value;
  std::atomic<bool>& _done;
};

TEST_F(PolicyRoutesInProcess, DecisionsLoggedBeforeGroupsStillReadBack) {
  const std::string id = "01890f4e-8a6b-7cc3-9d2e-4b5a69788a9b";
  const std::string old_answer = R"({"decision":"ALLOW","decision_correlation_id":")" + id + R"(","tier":3})";
  decision_record_view d;
  d.correlation_id = id;
  d.workspace_id = "ws-a";
  d.decision = "ALLOW";
  d.answer = old_answer;
  std::string payload;
  encode_decision_payload(payload, d);
  std::atomic<bool> done{false};
  ASSERT_EQ(_writer.submit(new put_decision(decision_key("ws-a", id),
                                            storage::encode_record(storage::record_type::policy_decision, payload), done)),
            storage::errc::ok);
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while (!done.load() && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(1ms);
  const answer got = run("GET", "/v1/policy/decisions/" + id, key_a);
  ASSERT_EQ(got.status, 200) << got.body;
  EXPECT_EQ(got.body, old_answer);
  EXPECT_EQ(run("GET", "/v1/policy/decisions/" + id, key_b).status, 404);
  // An old single record is never a bulk group: its id with other last digits is not found.
  EXPECT_EQ(run("GET", "/v1/policy/decisions/" + id.substr(0, 33) + "001", key_a).status, 404);
}

// Groups written before they were keyed by group id: under `<workspace> 0x00 <group id>`,
// naming no workspace of their own.
TEST_F(PolicyRoutesInProcess, GroupsKeyedByWorkspaceStillReadBack) {
  const std::string group_id = "01890f4e-8a6b-7cc3-9d2e-4b5a69788000";
  const decision_item_view d = test::login_decision_item("old-actor");
  std::string payload;
  {
    decision_group_writer w(payload, 1'780'000'000'000, "evidence-defaults-1", "");
    w.add(d);
    w.add(d);
  }
  std::atomic<bool> done{false};
  ASSERT_EQ(_writer.submit(new put_decision(decision_key("ws-a", group_id),
                                            storage::encode_record(storage::record_type::policy_decision_group, payload),
                                            done)),
            storage::errc::ok);
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while (!done.load() && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(1ms);
  for (const std::string& id : {group_id, group_id.substr(0, 33) + "001"}) {
    const answer got = run("GET", "/v1/policy/decisions/" + id, key_a);
    ASSERT_EQ(got.status, 200) << id << ": " << got.body;
    EXPECT_EQ(field(got.body, "decision_correlation_id"), id);
    EXPECT_EQ(run("GET", "/v1/policy/decisions/" + id, key_b).status, 404) << id;
  }
  EXPECT_EQ(run("GET", "/v1/policy/decisions/" + group_id.substr(0, 33) + "002", key_a).status, 404) << "past its end";
}

// The bulk route looks a repeated actor up once per request: every item still decides as a
// single evaluate of the same body does.
TEST_F(PolicyRoutesInProcess, BulkItemsWithRepeatedActorsDecideAsSingles) {
  const std::vector<std::string> items = {
      R"({"actor":{"id":"veteran"},"action":"data.export_pii"})", R"({"actor":{"id":"flagged"},"action":"account.login"})",
      R"({"actor":{"id":"veteran"},"action":"account.login"})",   R"({"actor":{"id":"nobody"},"action":"data.export_pii"})",
      R"({"actor":{"id":"flagged"},"action":"data.export_pii"})", R"({"actor":{"id":"nobody"},"action":"account.login"})"};
  std::string body = R"({"evaluations":[)";
  for (std::size_t i = 0; i < items.size(); ++i) body += (i ? "," : "") + items[i];
  body += "]}";
  const answer bulk = evaluate(key_a, body, "/v1/policy/evaluate/bulk");
  ASSERT_EQ(bulk.status, 200) << bulk.body;
  for (std::size_t i = 0; i < items.size(); ++i) {
    const answer one = evaluate(key_a, items[i]);
    ASSERT_EQ(one.status, 200) << one.body;
    const std::size_t at = bulk.body.find(R"({"index":)" + std::to_string(i) + ",");
    ASSERT_NE(at, std::string::npos) << i;
    const std::string item = bulk.body.substr(at, bulk.body.find(R"("evaluatedAt")", at) - at);
    for (const char* name : {"decision", "claimStatus", "whyRec"}) EXPECT_EQ(field(item, name), field(one.body, name)) << i;
    const std::size_t tier_at = item.find(R"("tier":)");
    ASSERT_NE(tier_at, std::string::npos);
    EXPECT_EQ(item.substr(tier_at, 8), one.body.substr(one.body.find(R"("tier":)"), 8)) << i;
  }
}

TEST_F(PolicyRoutesInProcess, BulkItemsAreIsolatedAndCounted) {
  const answer a = evaluate(key_a, R"({"evaluations":[
      {"actor":{"id":"veteran"},"action":"data.export_pii"},
      {"actor":{"id":"veteran"},"action":"nope"},
      {"actor":{"id":"flagged"},"action":"account.login"},
      {"actor":{"id":"nobody"},"action":"data.export"}]})",
                            "/v1/policy/evaluate/bulk");
  ASSERT_EQ(a.status, 200) << a.body;
  EXPECT_EQ(a.body.rfind(R"({"summary":{"total":4,"allow":1,"step_up":1,"limit":0,"deny":1,"errors":1},"results":[)", 0),
            0u)
      << a.body;
  EXPECT_NE(a.body.find(R"({"index":1,"status":"error","error":{"error":"Unknown action: nope","code":"UNKNOWN_ACTION")"),
            std::string::npos)
      << a.body;
  EXPECT_EQ(_log.stats().pending, 3u) << "every evaluated item is logged";
}

}  // namespace
}  // namespace warrant::engine::evidence

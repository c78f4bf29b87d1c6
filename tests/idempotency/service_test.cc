// tests/idempotency/service_test.cc: engine/idempotency/service.*, command.* and sweeper.* over
// a real LMDB store: admission verdicts (409, replay, 422, expiry, workspaces apart), the
// record written in the write's own transaction, the writer-side re-check, and sweeping.
#include "engine/idempotency/service.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "engine/idempotency/command.h"
#include "engine/idempotency/sweeper.h"
#include "net/router.h"
#include "net/shard.h"
#include "storage/record.h"
#include "tests/storage/temp_dir.h"

namespace warrant::engine::idempotency {
namespace {

using storage::table;

constexpr std::int64_t ttl_ms = 60'000;
constexpr std::int64_t t0 = 1'800'000'000'000;

// A write of one row into `test_writes`, answered 201 with `body`.
class row_command final : public idempotent_command {
 public:
  row_command(net::shard& s, ticket t, std::string id, std::string body)
      : idempotent_command(s, {}, std::move(t)), _id(std::move(id)), _body(std::move(body)) {}

 protected:
  storage::apply_status apply_write(storage::write_txn& txn, storage::log_appender&, stored_response& answer) override {
    txn.put(table::test_writes, _id, storage::encode_record(storage::record_type::test_write, _body));
    answer.status = 201;
    answer.headers = {{"Location", "/rows/" + _id}};
    answer.body = _body;
    return storage::apply_status::applied;
  }
  void respond_rejected(net::http_response& res) override { res.set_error(409, "CONFLICT", "no"); }

 private:
  std::string _id;
  std::string _body;
};

class idempotency_service : public ::testing::Test {
 protected:
  idempotency_service() {
    storage::lmdb_options o;
    o.path = _dir.sub("db");
    o.map_size_bytes = 64u << 20;
    _store = storage::lmdb_store::open(o);
    _service = std::make_unique<service>(*_store, service_options{ttl_ms});
    net::shard_config config;
    config.connections_max = 4;
    _shard = std::make_unique<net::shard>(0, config, _router, _metrics, -1);
  }

  static request_identity identity(std::string_view ws, std::string_view key, std::string_view body,
                                   key_kind kind = key_kind::client) {
    return {ws, "POST", "/rows", body, kind, key};
  }

  // admit(); true when admitted (the ticket is in `t`), else the answer is in `res`.
  bool admit(service& svc, const request_identity& id, std::int64_t now, ticket& t) {
    res.reset();
    return svc.admit(id, 0, now, res, t);
  }
  bool admit(const request_identity& id, std::int64_t now, ticket& t) { return admit(*_service, id, now, t); }

  // Applies `cmd` in its own transaction and commits; returns what apply said.
  storage::apply_status commit(storage::command& cmd) {
    storage::write_txn* txn = nullptr;
    EXPECT_EQ(_store->begin_write(txn), storage::errc::ok);
    std::uint64_t next = _store->last_log_sequence() + 1;
    storage::log_appender log(*txn, next);
    const storage::apply_status s = cmd.apply(*txn, log);
    EXPECT_EQ(_store->commit(), storage::errc::ok);
    return s;
  }
  storage::apply_status write_row(ticket t, std::string id, std::string body) {
    row_command cmd(*_shard, std::move(t), std::move(id), std::move(body));
    return commit(cmd);
  }

  std::size_t entries(table t) {
    storage::lmdb_store::reader r(*_store);
    return r.entries(t);
  }

  std::string header(std::string_view name) const {
    const std::string_view all = res.extra_headers();
    const std::string prefix = std::string(name) + ": ";
    const std::size_t at = all.find(prefix);
    if (at == std::string_view::npos) return {};
    const std::size_t end = all.find("\r\n", at);
    return std::string(all.substr(at + prefix.size(), end - at - prefix.size()));
  }
  std::string body() const { return std::string(res.body().view()); }

  storage::testing::temp_dir _dir;
  std::unique_ptr<storage::lmdb_store> _store;
  std::unique_ptr<service> _service;
  net::router _router;
  net::shard_metrics _metrics{0};
  std::unique_ptr<net::shard> _shard;
  net::http_response res;
};

TEST_F(idempotency_service, WithoutAKeyNothingIsClaimed) {
  ticket t;
  EXPECT_TRUE(admit(identity("ws", "", "{}"), t0, t));
  EXPECT_FALSE(t.active());
  EXPECT_EQ(write_row(std::move(t), "r1", "{}"), storage::apply_status::applied);
  EXPECT_EQ(entries(table::idempotency), 0u);
  EXPECT_EQ(entries(table::idempotency_expiry), 0u);
}

TEST_F(idempotency_service, SecondRequestWhileInFlightIs409) {
  ticket first;
  ASSERT_TRUE(admit(identity("ws", "k", "{}"), t0, first));
  EXPECT_TRUE(first.active());
  EXPECT_EQ(_service->inflight().occupied(), 1u);
  ticket second;
  EXPECT_FALSE(admit(identity("ws", "k", "{}"), t0, second));
  EXPECT_EQ(res.status(), 409);
  EXPECT_EQ(header("Retry-After"), "1");
  EXPECT_EQ(body(),
            R"({"error":"A request with this Idempotency-Key is currently in progress. Retry after the in-flight )"
            R"(request completes.","code":"IDEMPOTENCY_IN_PROGRESS"})");
  EXPECT_EQ(_service->counters(0).in_progress.get(), 1u);
  // Another key, another workspace: not blocked.
  ticket other;
  EXPECT_TRUE(admit(identity("ws", "k2", "{}"), t0, other));
  ticket elsewhere;
  EXPECT_TRUE(admit(identity("ws-b", "k", "{}"), t0, elsewhere));
  first = ticket();  // the request ended without a write (e.g. its command was refused)
  ticket again;
  EXPECT_TRUE(admit(identity("ws", "k", "{}"), t0, again));
}

TEST_F(idempotency_service, TheAnswerIsStoredWithTheWriteAndReplayed) {
  ticket t;
  ASSERT_TRUE(admit(identity("ws", "k", R"({"a":1})"), t0, t));
  ASSERT_EQ(write_row(std::move(t), "r1", R"({"id":"r1"})"), storage::apply_status::applied);
  EXPECT_EQ(entries(table::test_writes), 1u);
  EXPECT_EQ(entries(table::idempotency), 1u);
  EXPECT_EQ(entries(table::idempotency_expiry), 1u);
  EXPECT_EQ(_service->inflight().occupied(), 0u);  // the command (and its claim) is gone

  ticket repeat;
  EXPECT_FALSE(admit(identity("ws", "k", R"({"a":1})"), t0 + 1, repeat));
  EXPECT_EQ(res.status(), 201);
  EXPECT_EQ(body(), R"({"id":"r1"})");
  EXPECT_EQ(header("Location"), "/rows/r1");
  EXPECT_EQ(header("X-Idempotency-Replay"), "true");
  EXPECT_EQ(header("X-Idempotency-Auto"), "");
  EXPECT_EQ(res.content_type(), "application/json");
  EXPECT_EQ(_service->counters(0).replays.get(), 1u);
  EXPECT_EQ(_service->inflight().occupied(), 0u);  // released after the replay

  ticket reused;
  EXPECT_FALSE(admit(identity("ws", "k", R"({"a":2})"), t0 + 2, reused));
  EXPECT_EQ(res.status(), 422);
  EXPECT_NE(body().find(R"("code":"IDEMPOTENCY_KEY_REUSED")"), std::string::npos);
  EXPECT_EQ(_service->counters(0).key_reused.get(), 1u);

  // The same key in another workspace names nothing stored.
  ticket other;
  EXPECT_TRUE(admit(identity("ws-b", "k", R"({"a":1})"), t0 + 3, other));
}

TEST_F(idempotency_service, AutomaticKeysReplayWhateverThePayload) {
  ticket t;
  ASSERT_TRUE(admit(identity("ws", "auto1", R"({"a":1})", key_kind::automatic), t0, t));
  ASSERT_EQ(write_row(std::move(t), "r1", "first"), storage::apply_status::applied);
  ticket repeat;
  EXPECT_FALSE(admit(identity("ws", "auto1", R"({"a":2})", key_kind::automatic), t0, repeat));
  EXPECT_EQ(res.status(), 201);
  EXPECT_EQ(body(), "first");
  EXPECT_EQ(header("X-Idempotency-Replay"), "true");
  EXPECT_EQ(header("X-Idempotency-Auto"), "true");
  EXPECT_EQ(_service->counters(0).replays_auto.get(), 1u);
  // A client key spelled like the automatic one is another scope.
  ticket client;
  EXPECT_TRUE(admit(identity("ws", "auto1", R"({"a":1})"), t0, client));
}

TEST_F(idempotency_service, ExpiredAnswersAreIgnoredAndReplaced) {
  ticket t;
  ASSERT_TRUE(admit(identity("ws", "k", "{}"), t0, t));
  ASSERT_EQ(write_row(std::move(t), "r1", "old"), storage::apply_status::applied);
  ticket late;
  ASSERT_TRUE(admit(identity("ws", "k", R"({"other":true})"), t0 + ttl_ms, late));  // expired: executes anew
  ASSERT_EQ(write_row(std::move(late), "r2", "new"), storage::apply_status::applied);
  EXPECT_EQ(entries(table::idempotency), 1u);
  EXPECT_EQ(entries(table::idempotency_expiry), 1u);  // the old entry went with the old record
  ticket repeat;
  EXPECT_FALSE(admit(identity("ws", "k", R"({"other":true})"), t0 + ttl_ms + 1, repeat));
  EXPECT_EQ(body(), "new");
}

// Two services over one store stand for two nodes sharing it: both admit the same scope, and
// the writer's re-check inside the transaction keeps the second from writing.
TEST_F(idempotency_service, TheWriterRechecksInsideItsTransaction) {
  service other_node(*_store, service_options{ttl_ms});
  ticket a;
  ticket b;
  ASSERT_TRUE(admit(identity("ws", "k", "{}"), t0, a));
  ASSERT_TRUE(admit(other_node, identity("ws", "k", "{}"), t0, b));
  EXPECT_EQ(write_row(std::move(a), "r1", "first"), storage::apply_status::applied);
  EXPECT_EQ(write_row(std::move(b), "r2", "second"), storage::apply_status::rejected);
  EXPECT_EQ(entries(table::test_writes), 1u);
  ticket repeat;
  EXPECT_FALSE(admit(identity("ws", "k", "{}"), t0, repeat));
  EXPECT_EQ(body(), "first");
}

TEST_F(idempotency_service, AnUnreadableRecordIs503NotAWrite) {
  ticket t;
  ASSERT_TRUE(admit(identity("ws", "k", "{}"), t0, t));
  const std::string key = t.record_key();
  t = ticket();
  storage::write_txn* txn = nullptr;
  ASSERT_EQ(_store->begin_write(txn), storage::errc::ok);
  txn->put(table::idempotency, key, "garbage");
  ASSERT_EQ(_store->commit(), storage::errc::ok);
  ticket again;
  EXPECT_FALSE(admit(identity("ws", "k", "{}"), t0, again));
  EXPECT_EQ(res.status(), 503);
  EXPECT_EQ(header("Retry-After"), "1");
  EXPECT_EQ(_service->inflight().occupied(), 0u);
}

TEST_F(idempotency_service, SweeperDeletesExpiredRecordsInBatches) {
  for (int i = 0; i < 5; ++i) {  // expire at t0 + ttl
    const std::string n = std::to_string(i);
    std::string key = "old";
    key += n;
    std::string row = "o";
    row += n;
    ticket t;
    ASSERT_TRUE(admit(identity("ws", key, "{}"), t0, t));
    ASSERT_EQ(write_row(std::move(t), row, "x"), storage::apply_status::applied);
  }
  ticket fresh;  // expires at t0 + 2 ttl
  ASSERT_TRUE(admit(identity("ws", "fresh", "{}"), t0 + ttl_ms, fresh));
  ASSERT_EQ(write_row(std::move(fresh), "f", "x"), storage::apply_status::applied);
  ticket renewed;  // "old0" written again after expiry: its new record must survive the old entry
  ASSERT_TRUE(admit(identity("ws", "old0", "{}"), t0 + ttl_ms, renewed));
  ASSERT_EQ(write_row(std::move(renewed), "o0b", "x"), storage::apply_status::applied);
  ASSERT_EQ(entries(table::idempotency), 6u);

  storage::writer w(*_store, storage::writer_options{});
  w.start();
  sweeper s(*_store, w, *_service, sweeper_options{1000, 2});
  EXPECT_EQ(s.sweep_once(t0 + ttl_ms - 1), 0u);  // nothing due yet
  EXPECT_EQ(s.sweep_once(t0 + ttl_ms), 2u);       // a batch is at most 2
  EXPECT_EQ(s.sweep_once(t0 + ttl_ms), 2u);
  EXPECT_EQ(s.sweep_once(t0 + ttl_ms), 0u);
  w.stop();
  EXPECT_EQ(entries(table::idempotency), 2u);  // "fresh" and the renewed "old0"
  EXPECT_EQ(entries(table::idempotency_expiry), 2u);
  EXPECT_EQ(_service->swept_records.load(), 4u);
  ticket repeat;
  EXPECT_FALSE(admit(identity("ws", "old0", "{}"), t0 + ttl_ms + 1, repeat));
  EXPECT_EQ(res.status(), 201);
}

}  // namespace
}  // namespace warrant::engine::idempotency

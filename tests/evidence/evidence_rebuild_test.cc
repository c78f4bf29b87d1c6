// tests/evidence/evidence_rebuild_test.cc: engine/evidence/evidence_recovery.* over a real LMDB
// store. The property: after any sequence of events, filings and claim transitions — written
// to LMDB with the records and keys the routes write, and applied to an index the way the
// commands' publish() does — a fresh index rebuilt from LMDB holds exactly the same facts for
// every entity. Also the rebuild rate, for the start-up budget (docs/entity-index.md).
#include <gtest/gtest.h>
#include <stdlib.h>

#include <cstdlib>

#include <fmt/format.h>

#include <chrono>
#include <functional>
#include <cstdio>
#include <filesystem>
#include <map>
#include <random>

#include "engine/common/ids.h"
#include "engine/evidence/claim.h"
#include "engine/evidence/event.h"
#include "engine/evidence/evidence_recovery.h"
#include "storage/lmdb_store.h"
#include "storage/record.h"

namespace warrant::engine::evidence {
namespace {

using storage::table;

class evidence_rebuild : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/warrant-evidence-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    _dir = tmpl;
    storage::lmdb_options o;
    o.path = _dir;
    o.map_size_bytes = 1ull << 30;
    _store = storage::lmdb_store::open(o);
  }
  void TearDown() override {
    _store.reset();
    std::filesystem::remove_all(_dir);
  }

  storage::write_txn& begin() {
    storage::write_txn* txn = nullptr;
    EXPECT_EQ(_store->begin_write(txn), storage::errc::ok);
    return *txn;
  }
  void commit() { ASSERT_EQ(_store->commit(), storage::errc::ok); }

  static void put_event(storage::write_txn& txn, const event_record& e) {
    txn.put(table::events, *inverted_id_key(e.workspace_id, e.id),
            storage::encode_record(storage::record_type::event, encode_event(e)));
  }
  static void put_claim(storage::write_txn& txn, const claim_record& c) {
    txn.put(table::claims, *claim_key(c.identity_namespace, c.id),
            storage::encode_record(storage::record_type::claim, encode_claim(c)));
  }

  std::string _dir;
  std::unique_ptr<storage::lmdb_store> _store;
};

std::map<std::string, std::string> dump(const entity_index& index) {
  std::map<std::string, std::string> out;
  index.for_each([&](const entity_id& id, const entity_facts& f) {
    std::string claims;
    for (auto n : f.claims.in_state) claims += std::to_string(n) + ",";
    out[entity_id_hex(id)] = fmt::format("events={} counted={} earliest={} partners={} first={} last={} claims={} upheld={}",
                                         f.event_count, f.history.counted_events, f.history.earliest_counted_ms,
                                         f.history.partners, f.first_event_ms, f.last_event_ms, claims,
                                         f.claims.latest_upheld_ms);
  });
  return out;
}

struct workspace_fixture {
  std::string id;
  std::string ns;
};

TEST_F(evidence_rebuild, RandomHistoryEqualsItsRebuild) {
  const std::vector<workspace_fixture> workspaces = {{"wa", "shared"}, {"wb", "shared"}, {"wc", "wc"}};
  std::mt19937_64 rng(20261206);
  const std::int64_t now = 1'780'000'000'000;
  entity_index live;
  std::vector<claim_record> claims;
  for (int batch = 0; batch < 40; ++batch) {
    storage::write_txn& txn = begin();
    // What the batch's commands publish, applied after the commit as the writer does.
    std::vector<std::function<void()>> publish;
    for (int op = 0; op < 50; ++op) {
      const auto& ws = workspaces[rng() % workspaces.size()];
      const std::string user = "user-" + std::to_string(rng() % 40);
      const std::uint64_t dice = rng() % 100;
      const std::int64_t t = now + batch * 1000 + op;
      if (dice < 70) {
        event_record e;
        e.id = new_uuid_v7(t);
        e.workspace_id = ws.id;
        e.entity = compute_entity_id(ws.ns, user);
        e.type = static_cast<event_type_id>(rng() % event_type_count);
        e.received_at_ms = t;
        e.occurred_at_ms = t - static_cast<std::int64_t>(rng() % (60 * ms_per_day)) + 60'000;
        put_event(txn, e);
        publish.push_back([&live, e] { index_event(live, e); });
      } else if (dice < 85 || claims.empty()) {
        claim_record c;
        c.id = new_uuid_v7(t);
        c.workspace_id = ws.id;
        c.identity_namespace = ws.ns;
        c.entity = compute_entity_id(ws.ns, user);
        c.type = static_cast<claim_type>(rng() % claim_type_count);
        c.filed_at_ms = c.updated_at_ms = t;
        put_claim(txn, c);
        claims.push_back(c);
        publish.push_back([&live, c] { index_claim(live, c); });
      } else {
        claim_record& c = claims[rng() % claims.size()];
        const auto action = static_cast<claim_action>(rng() % 4);
        const claim_transition_result r = check_claim_transition(c.state, action, rng() % 2 == 0);
        if (!r.ok()) continue;
        const claim_state from = c.state;
        c.state = r.to;
        c.updated_at_ms = t;
        if (r.to == claim_state::upheld) c.upheld_at_ms = t;
        put_claim(txn, c);
        publish.push_back([&live, entity = c.entity, from, to = r.to, t] { live.transition_claim(entity, from, to, t); });
      }
    }
    commit();
    for (auto& p : publish) p();
  }
  entity_index rebuilt;
  const evidence_recovery_report report = rebuild_entity_index(*_store, rebuilt);
  EXPECT_EQ(report.entities, live.size());
  EXPECT_EQ(report.claims, claims.size());
  EXPECT_GT(report.events, 1000u);
  EXPECT_EQ(dump(rebuilt), dump(live));
  // Entities of the shared namespace carry partners from both of its workspaces.
  std::uint32_t max_partners = 0;
  live.for_each([&](const entity_id&, const entity_facts& f) { max_partners = std::max(max_partners, f.history.partners); });
  EXPECT_EQ(max_partners, 2u);
}

TEST_F(evidence_rebuild, CorruptRecordStopsTheRebuild) {
  storage::write_txn& txn = begin();
  txn.put(table::events, "ws\0x", "not a record");
  commit();
  entity_index index;
  EXPECT_THROW(rebuild_entity_index(*_store, index), std::runtime_error);
}

// The start-up budget: the rate at which events are read back and folded.
TEST_F(evidence_rebuild, RebuildRate) {
  constexpr int events = 200'000;
  const std::int64_t now = 1'780'000'000'000;
  storage::write_txn& txn = begin();
  for (int i = 0; i < events; ++i) {
    event_record e;
    e.id = new_uuid_v7(now + i);
    e.workspace_id = "ws";
    e.entity = compute_entity_id("ws", std::to_string(i / 2));  // two events per entity
    e.type = *find_event_type("gig.paid");
    e.occurred_at_ms = e.received_at_ms = now + i;
    put_event(txn, e);
  }
  commit();
  entity_index index;
  const evidence_recovery_report report = rebuild_entity_index(*_store, index);
  EXPECT_EQ(report.events, static_cast<std::size_t>(events));
  EXPECT_EQ(report.entities, static_cast<std::size_t>(events / 2));
  const double rate = static_cast<double>(report.events) / report.seconds;
  std::printf("rebuild: %zu events, %zu entities in %.3f s: %.0f events/s (10 M events: %.1f s)\n", report.events,
              report.entities, report.seconds, rate, 10e6 / rate);
  RecordProperty("rebuild_events_per_second", std::to_string(rate));
}

// The start-up budget at full size, opt-in (it writes ~2 GB and takes minutes):
// WARRANT_REBUILD_ENTITIES=10000000 evidence_tests --gtest_filter='*RebuildAtScale*'. One event
// per entity; the index must be rebuilt in 10 s. docs/entity-index.md has the measured figure.
TEST_F(evidence_rebuild, RebuildAtScale) {
  const char* env = std::getenv("WARRANT_REBUILD_ENTITIES");
  if (env == nullptr) GTEST_SKIP() << "set WARRANT_REBUILD_ENTITIES to run";
  const std::size_t entities = std::strtoull(env, nullptr, 10);
  storage::lmdb_options o;
  o.path = _dir;
  o.map_size_bytes = 64ull << 30;
  _store.reset();
  _store = storage::lmdb_store::open(o);
  const std::int64_t now = 1'780'000'000'000;
  const std::vector<std::string> workspaces = {"0190a0a0-0000-7000-8000-00000000000a", "0190a0a0-0000-7000-8000-00000000000b"};
  constexpr std::size_t per_txn = 200'000;
  for (std::size_t done = 0; done < entities;) {
    storage::write_txn& txn = begin();
    for (std::size_t i = 0; i < per_txn && done < entities; ++i, ++done) {
      event_record e;
      e.id = new_uuid_v7(now + static_cast<std::int64_t>(done / 1000));
      e.workspace_id = workspaces[done % 2];
      e.entity = compute_entity_id("shared", std::to_string(done));
      e.type = *find_event_type("transaction.completed");
      e.occurred_at_ms = e.received_at_ms = now + static_cast<std::int64_t>(done);
      put_event(txn, e);
    }
    commit();
  }
  {  // The LMDB scan and decoding alone, for comparison.
    const auto start = std::chrono::steady_clock::now();
    storage::lmdb_store::reader r(*_store);
    std::size_t n = 0;
    event_record e;
    r.scan(table::events, {}, [&](std::string_view, std::string_view value) {
      storage::decoded_record rec;
      n += storage::decode_record(value, rec) == storage::decode_errc::ok && decode_event(rec.payload, e);
      return true;
    });
    std::printf("scan and decode alone: %zu events in %.3f s\n", n,
                std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  }
  entity_index index;
  const evidence_recovery_report report = rebuild_entity_index(*_store, index);
  std::printf("rebuild at scale: %zu entities from %zu events in %.3f s (%.0f events/s), index %zu bytes "
              "(%.1f bytes/entity)\n",
              report.entities, report.events, report.seconds, static_cast<double>(report.events) / report.seconds,
              index.memory_bytes(), static_cast<double>(index.memory_bytes()) / static_cast<double>(report.entities));
  EXPECT_EQ(report.entities, entities);
  EXPECT_LE(report.seconds, 10.0 * static_cast<double>(entities) / 10e6);
}

}  // namespace
}  // namespace warrant::engine::evidence

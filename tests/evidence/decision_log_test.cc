// engine/evidence/decision_log.*: group commit of decisions through the real storage writer
// over the fault-injecting fake store: one command per batch, the mid-turn flush at the
// batch bound, back-pressure, a failed commit retried (nothing dropped), and the shutdown
// flush.
#include "engine/evidence/decision_log.h"

#include <gtest/gtest.h>

#include <array>
#include <chrono>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "alloc_counter.h"
#include "engine/common/ids.h"
#include "storage/record.h"
#include "storage/writer.h"
#include "evidence_test_support.h"
#include "tests/storage/fake_store.h"

namespace warrant::engine::evidence {
namespace {

using namespace std::chrono_literals;
using storage::testing::fake_store;

// The payload of a group of `n` ALLOW decisions (n = 1: an evaluate) of workspace `ws`.
std::string group_payload(std::size_t n = 1, std::string_view ws = "ws") {
  const decision_item_view d = test::login_decision_item("u-1");
  std::string payload;
  decision_group_writer w(payload, 1'780'000'000'000, "v1", ws);
  for (std::size_t i = 0; i < n; ++i) w.add(d);
  return payload;
}
const std::string one_decision = group_payload();

// A group id (a UUID, as the routes make) standing for a test's name of one.
std::string uid(std::string_view name) {
  return fmt::format("01890f4e-8a6b-7cc3-9d2e-{:012x}", std::hash<std::string_view>{}(name) & 0xffff'ffff'ffffu);
}
std::string group_key(std::string_view group_id) {
  std::string key;
  EXPECT_TRUE(append_decision_group_key(key, group_id)) << group_id;
  return key;
}

template <typename F>
bool eventually(F&& condition, std::chrono::milliseconds timeout = 5s) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(1ms);
  }
  return condition();
}

class DecisionLog : public ::testing::Test {
 protected:
  void SetUp() override {
    storage::writer_options wo;
    wo.probe_interval_ms = 5;
    _writer = std::make_unique<storage::writer>(_store, wo);
    _writer->start();
  }
  void TearDown() override {
    if (_log) _log->flush_stopped();
    _writer->stop();
    if (_log) {
      EXPECT_EQ(_log->stats().dropped, 0u);
    }
    _log.reset();
  }
  decision_log& make_log(std::size_t batch_max, std::size_t pending_max) {
    _log = std::make_unique<decision_log>(*_writer, decision_log_options{batch_max, pending_max});
    return *_log;
  }
  void add(decision_log& log, std::size_t shard, std::string_view ws, std::string_view id) {
    ASSERT_TRUE(log.reserve(shard, 1));
    log.append(shard, uid(id), group_payload(1, ws), 1);
  }

  fake_store _store;
  std::unique_ptr<storage::writer> _writer;
  std::unique_ptr<decision_log> _log;
};

TEST_F(DecisionLog, ATurnsDecisionsAreOneWriterCommand) {
  decision_log& log = make_log(64, 1024);
  add(log, 0, "ws-a", "id-1");
  add(log, 0, "ws-a", "id-2");
  add(log, 0, "ws-b", "id-3");
  EXPECT_EQ(log.stats().pending, 3u);
  log.flush(0);
  ASSERT_TRUE(eventually([&] { return log.stats().logged == 3; }));
  EXPECT_EQ(log.stats().batches, 1u);
  EXPECT_EQ(log.stats().pending, 0u);
  EXPECT_EQ(_writer->stats().commands_committed, 1u) << "one command for the whole turn";
  const auto rows = _store.committed(storage::table::decisions);
  ASSERT_EQ(rows.size(), 3u);
  const auto raw = _store.committed_value(storage::table::decisions, group_key(uid("id-3")));
  ASSERT_TRUE(raw) << "keyed by the group id alone";
  storage::decoded_record rec;
  ASSERT_EQ(storage::decode_record(*raw, rec), storage::decode_errc::ok);
  EXPECT_EQ(rec.type, storage::record_type::policy_decision_group);
  EXPECT_EQ(rec.payload, group_payload(1, "ws-b"));
}

TEST_F(DecisionLog, ABulkIsOneRecordCountingAllItsDecisions) {
  decision_log& log = make_log(150, 1024);
  const std::string hundred = group_payload(100);
  ASSERT_TRUE(log.reserve(0, 100));
  log.append(0, uid("bulk-1"), hundred, 100);
  EXPECT_EQ(_writer->stats().commands_committed, 0u) << "100 < 150: still open";
  ASSERT_TRUE(log.reserve(0, 100));
  log.append(0, uid("bulk-2"), hundred, 100);  // 200 >= 150: handed on mid-turn
  ASSERT_TRUE(eventually([&] { return log.stats().logged == 200; }));
  EXPECT_EQ(log.stats().batches, 1u);
  EXPECT_EQ(log.stats().pending, 0u);
  EXPECT_EQ(_store.committed(storage::table::decisions).size(), 2u) << "one record per request";
  EXPECT_FALSE(log.reserve(0, 1025)) << "the pending bound counts decisions";
}

TEST_F(DecisionLog, AFullBatchIsHandedOnBeforeTheTurnEnds) {
  decision_log& log = make_log(2, 100);
  for (int i = 0; i < 5; ++i) add(log, 1, "ws", "id-" + std::to_string(i));
  ASSERT_TRUE(eventually([&] { return log.stats().logged == 4; })) << "two full batches, no flush";
  log.flush(1);
  ASSERT_TRUE(eventually([&] { return log.stats().logged == 5; }));
  EXPECT_EQ(log.stats().batches, 3u);
}

TEST_F(DecisionLog, BackPressureRefusesBeyondThePendingBound) {
  decision_log& log = make_log(4, 4);
  for (int i = 0; i < 3; ++i) add(log, 0, "ws", "id-" + std::to_string(i));
  EXPECT_FALSE(log.reserve(0, 2)) << "3 + 2 > 4";
  EXPECT_TRUE(log.reserve(1, 2)) << "the bound is per shard";
  log.append(1, uid("s1-a"), one_decision, 1);
  log.append(1, uid("s1-b"), one_decision, 1);
  EXPECT_EQ(log.stats().refused, 2u);
  log.flush(0);
  log.flush(1);
  ASSERT_TRUE(eventually([&] { return log.stats().pending == 0; }));
  EXPECT_TRUE(log.reserve(0, 4)) << "room again once committed";
  for (int i = 0; i < 4; ++i) log.append(0, uid("again-" + std::to_string(i)), one_decision, 1);
  log.flush(0);
  ASSERT_TRUE(eventually([&] { return log.stats().logged == 9; }));
}

TEST_F(DecisionLog, AFailedCommitIsRetriedNotDropped) {
  decision_log& log = make_log(64, 1024);
  _store.fail_commit(storage::errc::io_error, 1);
  add(log, 0, "ws", "id-1");
  add(log, 0, "ws", "id-2");
  log.flush(0);
  // The shard's turns go on; the batch comes back and is submitted again once the writer's
  // probe has found the disk healthy.
  ASSERT_TRUE(eventually([&] {
    log.flush(0);
    return log.stats().logged == 2;
  }));
  EXPECT_GE(log.stats().retried, 1u);
  EXPECT_EQ(log.stats().dropped, 0u);
  EXPECT_EQ(_store.committed(storage::table::decisions).size(), 2u);
}

TEST_F(DecisionLog, ShutdownFlushesWhatTheShardsLeft) {
  decision_log& log = make_log(64, 1024);
  add(log, 0, "ws", "id-1");
  add(log, 3, "ws", "id-2");
  log.flush_stopped();
  _writer->stop();
  EXPECT_EQ(log.stats().logged, 2u);
  EXPECT_EQ(_store.committed(storage::table::decisions).size(), 2u);
}

TEST_F(DecisionLog, BatchesAreRecycled) {
  decision_log& log = make_log(8, 64);
  for (int round = 0; round < 20; ++round) {
    for (int i = 0; i < 3; ++i) add(log, 0, "ws", fmt::format("r{}-{}", round, i));
    log.flush(0);
    ASSERT_TRUE(eventually([&] { return log.stats().logged == static_cast<std::uint64_t>(3 * (round + 1)); }));
  }
  EXPECT_EQ(_store.committed(storage::table::decisions).size(), 60u);
}

TEST_F(DecisionLog, AppendingAllocatesNothingOnceWarm) {
  decision_log& log = make_log(1024, 65536);
  std::vector<std::string> ids;
  for (int i = 0; i < 200; ++i) ids.push_back(fmt::format("01890f4e-8a6b-7cc3-9d2e-{:012}", i));
  for (int round = 0; round < 3; ++round) {
    for (const std::string& id : ids) add(log, 0, fmt::format("ws-{}", round), id);
    log.flush(0);
    ASSERT_TRUE(eventually([&] { return log.stats().logged == 200u * (round + 1); }));
  }
  // The committed batch is back on the shard's free stack, its buffers grown.
  const std::size_t allocations = test::count_allocations([&] {
    for (const std::string& id : ids) {
      if (log.reserve(0, 1)) log.append(0, id, one_decision, 1);
    }
  });
  EXPECT_EQ(allocations, 0u);
  log.flush(0);
  ASSERT_TRUE(eventually([&] { return log.stats().logged == 800u; }));
}

TEST_F(DecisionLog, ATurnsEvaluatesShareOneRecordPerWorkspaceMillisecondAndPolicy) {
  decision_log& log = make_log(1024, 65536);
  struct made {
    std::string ws;
    std::string id;
    std::string actor;
  };
  std::vector<made> ids;
  auto one = [&](std::string ws, std::int64_t ms, std::string_view version, std::string actor) {
    ASSERT_TRUE(log.reserve(0, 1));
    char id[uuid_text_bytes];
    log.append_one(0, ws, ms, version, test::login_decision_item(actor), id);
    ids.push_back({ws, std::string(id, uuid_text_bytes), actor});
  };
  one("ws-a", 1000, "v1", "a0");
  one("ws-b", 1000, "v1", "b0");
  one("ws-a", 1000, "v1", "a1");
  one("ws-a", 1001, "v1", "a2");  // another millisecond
  one("ws-a", 1001, "v2", "a3");  // another policy version
  one("ws-a", 1000, "v1", "a4");
  EXPECT_EQ(ids[0].id.substr(0, 33), ids[2].id.substr(0, 33));
  EXPECT_EQ(ids[0].id.substr(33), "000");
  EXPECT_EQ(ids[2].id.substr(33), "001");
  EXPECT_EQ(ids[5].id.substr(33), "002");
  EXPECT_NE(ids[3].id.substr(0, 33), ids[0].id.substr(0, 33));
  log.flush(0);
  ASSERT_TRUE(eventually([&] { return log.stats().logged == 6; }));
  EXPECT_EQ(_store.committed(storage::table::decisions).size(), 4u) << "a@1000/v1, b@1000/v1, a@1001/v1, a@1001/v2";
  for (const made& m : ids) {
    std::string group = m.id;
    std::size_t index = 0;
    if (!group_of(m.id, group, index)) index = 0;
    const auto raw = _store.committed_value(storage::table::decisions, group_key(group));
    ASSERT_TRUE(raw) << m.id;
    storage::decoded_record rec;
    ASSERT_EQ(storage::decode_record(*raw, rec), storage::decode_errc::ok);
    decision_group_header h;
    stored_decision d;
    ASSERT_TRUE(decode_decision_group(rec.payload, index, h, d));
    EXPECT_EQ(h.workspace_id, m.ws) << "the group names its workspace";
    ASSERT_TRUE(d.decided);
    EXPECT_EQ(d.actor_id, m.actor);
  }
}

// A group stays open across loop turns while its millisecond lasts: the turn-end flush seals
// only the groups of earlier milliseconds, and says how long until the open ones are due.
TEST_F(DecisionLog, AnEvaluateGroupStaysOpenUntilItsMillisecondHasPassed) {
  decision_log& log = make_log(1024, 65536);
  auto one = [&](std::string_view ws, std::int64_t ms, std::string_view actor) {
    EXPECT_TRUE(log.reserve(0, 1));
    char id[uuid_text_bytes];
    log.append_one(0, ws, ms, "v1", test::login_decision_item(actor), id);
    return std::string(id, uuid_text_bytes);
  };
  const std::string a0 = one("ws-a", 9000, "a0");
  const std::string b0 = one("ws-b", 9000, "b0");
  EXPECT_EQ(log.flush(0, 9000 * 1000 + 250), 750) << "open until 9001 ms: come back in 750 us";
  const std::string a1 = one("ws-a", 9000, "a1");  // the next turn, same millisecond
  EXPECT_EQ(a1.substr(0, 33), a0.substr(0, 33)) << "joins the group of the turn before";
  EXPECT_EQ(a1.substr(33), "001");
  EXPECT_EQ(log.flush(0, 9000 * 1000 + 999), 1);
  std::this_thread::sleep_for(20ms);
  EXPECT_EQ(_writer->stats().commands_committed, 0u) << "nothing sealed yet";
  EXPECT_EQ(log.stats().pending, 3u);

  const std::string a2 = one("ws-a", 9001, "a2");  // the next millisecond: a new group
  EXPECT_NE(a2.substr(0, 33), a0.substr(0, 33));
  EXPECT_EQ(log.flush(0, 9001 * 1000 + 10), 990) << "9000's groups sealed, 9001's still open";
  ASSERT_TRUE(eventually([&] { return log.stats().logged == 3; }));
  EXPECT_EQ(_store.committed(storage::table::decisions).size(), 2u) << "ws-a@9000 (2 items) and ws-b@9000";
  EXPECT_EQ(log.flush(0, 9002 * 1000), 0) << "nothing open";
  ASSERT_TRUE(eventually([&] { return log.stats().logged == 4; }));
  EXPECT_EQ(_store.committed(storage::table::decisions).size(), 3u);
  EXPECT_EQ(log.stats().pending, 0u);
}

// A clock stepped back must not hold a group open until it catches up again.
TEST_F(DecisionLog, AGroupFromAfterTheClockIsSealedAtOnce) {
  decision_log& log = make_log(1024, 65536);
  ASSERT_TRUE(log.reserve(0, 1));
  char id[uuid_text_bytes];
  log.append_one(0, "ws-a", 50'000, "v1", test::login_decision_item("u"), id);
  EXPECT_EQ(log.flush(0, 40'000 * 1000), 0);
  ASSERT_TRUE(eventually([&] { return log.stats().logged == 1; }));
}

// Freed slots are reused while others stay open: three workspaces per millisecond never need
// more than six of the eight slots, so no group is sealed early (all eight full and a new
// group would seal them all: ManyWorkspacesInOneTurnAndTheBatchBoundSealGroupsEarly).
TEST_F(DecisionLog, OpenGroupSlotsAreReusedAcrossTurns) {
  decision_log& log = make_log(1024, 65536);
  std::size_t made = 0;
  for (std::int64_t ms = 100; ms < 140; ++ms) {
    for (int w = 0; w < 3; ++w) {
      ASSERT_TRUE(log.reserve(0, 1));
      char id[uuid_text_bytes];
      log.append_one(0, fmt::format("ws-{}", w), ms, "v1", test::login_decision_item("u"), id);
      ++made;
    }
    EXPECT_EQ(log.flush(0, ms * 1000 + 500), 500);  // seals ms-1's three, keeps ms's three (6 of 8 slots)
  }
  ASSERT_TRUE(eventually([&] { return log.stats().logged == made - 3; }));
  std::this_thread::sleep_for(20ms);
  EXPECT_EQ(log.stats().logged, made - 3) << "the last millisecond's three groups are still open";
  EXPECT_EQ(log.flush(0, 140 * 1000), 0);
  ASSERT_TRUE(eventually([&] { return log.stats().logged == made; }));
  EXPECT_EQ(_store.committed(storage::table::decisions).size(), made) << "one group per workspace and millisecond";
}

TEST_F(DecisionLog, ManyWorkspacesInOneTurnAndTheBatchBoundSealGroupsEarly) {
  decision_log& log = make_log(20, 65536);
  for (int i = 0; i < 50; ++i) {
    ASSERT_TRUE(log.reserve(2, 1));
    char id[uuid_text_bytes];
    log.append_one(2, fmt::format("ws-{}", i % 11), 5000, "v1", test::login_decision_item("u"), id);
  }
  ASSERT_TRUE(eventually([&] { return log.stats().logged == 40; })) << "two full batches of 20, no flush";
  log.flush(2);
  ASSERT_TRUE(eventually([&] { return log.stats().logged == 50; }));
  EXPECT_EQ(log.stats().pending, 0u);
}

// How many group slots a turn uses depends on timing (one per millisecond and workspace).
// Warmed where every turn fell in one millisecond, a turn spanning eight still allocates
// nothing: each slot got its room at the shard's first evaluate.
TEST_F(DecisionLog, ATurnSpanningManyMillisecondsAllocatesNothingOnceWarm) {
  decision_log& log = make_log(1024, 65536);
  auto round = [&](int milliseconds) {
    for (int i = 0; i < 200; ++i) {
      if (!log.reserve(0, 1)) return;
      char id[uuid_text_bytes];
      log.append_one(0, "workspace-0123456789", 7000 + i % milliseconds, "evidence-defaults-1", test::login_decision_item("u-1"), id);
    }
  };
  for (int r = 0; r < 3; ++r) {
    round(1);
    log.flush(0);
    ASSERT_TRUE(eventually([&] { return log.stats().logged == 200u * (r + 1); }));
  }
  EXPECT_EQ(test::count_allocations([&] { round(8); }), 0u);
  log.flush(0);
  ASSERT_TRUE(eventually([&] { return log.stats().logged == 800u; }));
}

TEST_F(DecisionLog, AppendingOneAllocatesNothingOnceWarm) {
  decision_log& log = make_log(1024, 65536);
  auto round = [&] {
    for (int i = 0; i < 200; ++i) {
      if (!log.reserve(0, 1)) return;
      char id[uuid_text_bytes];
      log.append_one(0, i % 2 ? "workspace-odd-0123456789" : "workspace-even-0123456789", 7000, "evidence-defaults-1",
                     test::login_decision_item("u-1"), id);
    }
  };
  for (int r = 0; r < 3; ++r) {
    round();
    log.flush(0);
    ASSERT_TRUE(eventually([&] { return log.stats().logged == 200u * (r + 1); }));
  }
  EXPECT_EQ(test::count_allocations(round), 0u);
  log.flush(0);
  ASSERT_TRUE(eventually([&] { return log.stats().logged == 800u; }));
}

TEST(DecisionLogOptions, PendingBelowBatchIsRefused) {
  fake_store store;
  storage::writer w(store, storage::writer_options{});
  EXPECT_THROW(decision_log(w, decision_log_options{10, 5}), std::invalid_argument);
}

}  // namespace
}  // namespace warrant::engine::evidence

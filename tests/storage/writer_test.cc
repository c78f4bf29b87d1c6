// tests/storage/writer_test.cc: the writer thread over an in-memory `fake_store` that injects
// failures — group commit, ordering, publish before complete, rejection, failed batches
// (begin, write, commit), sequence reuse, health and the idle probe.
#include "storage/writer.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <thread>
#include <vector>

#include "tests/storage/writer_fixture.h"

namespace warrant::storage {
namespace {

using testing::bucket_index;
using testing::completion_counter;
using testing::event_clock;
using testing::eventually;
using testing::expect_failed;
using testing::fake_store;
using testing::submit_all;
using testing::test_command;
using testing::test_command_options;
using testing::total_batches;
using WriterTest = testing::writer_fixture;

TEST_F(WriterTest, SingleCommandCommitsAndPublishesBeforeComplete) {
  writer w(store, {});
  EXPECT_EQ(w.next_sequence(), 1u);
  w.start();
  EXPECT_TRUE(w.running());
  test_command& c = make_payload("first");
  ASSERT_EQ(w.submit(&c), errc::ok);
  ASSERT_TRUE(done.wait_for(1));
  EXPECT_EQ(c.result, outcome::committed);
  EXPECT_EQ(c.apply_calls, 1);
  EXPECT_EQ(c.publish_calls, 1);
  EXPECT_EQ(c.complete_calls, 1);
  EXPECT_LT(c.publish_order, c.complete_order);
  EXPECT_TRUE(c.committed_at_publish);
  EXPECT_EQ(c.sequence, 1u);
  expect_log_holds({{1, "first"}});
  w.stop();
  EXPECT_FALSE(w.running());
  const writer_stats s = w.stats();
  EXPECT_EQ(s.commits, 1u);
  EXPECT_EQ(s.commands_committed, 1u);
  EXPECT_EQ(s.commands_rejected, 0u);
  EXPECT_EQ(s.commands_failed, 0u);
  EXPECT_EQ(s.last_sequence, 1u);
  EXPECT_EQ(s.queue_depth, 0u);
  EXPECT_TRUE(s.healthy);
  EXPECT_EQ(s.batch_sizes[0], 1u);
  EXPECT_EQ(total_batches(s), 1u);
  EXPECT_EQ(std::accumulate(s.commit_latency.begin(), s.commit_latency.end(), std::uint64_t{0}), 1u);
  EXPECT_EQ(store.commits(), 1u);
}

TEST_F(WriterTest, ContinuesAfterTheExistingLog) {
  for (std::uint64_t seq = 1; seq <= 41; ++seq) store.seed(table::log, be64_key(seq), "old");
  writer w(store, {});
  EXPECT_EQ(w.next_sequence(), 42u);
  EXPECT_EQ(w.stats().last_sequence, 41u);
  w.start();
  test_command& c = make();
  ASSERT_EQ(w.submit(&c), errc::ok);
  ASSERT_TRUE(done.wait_for(1));
  EXPECT_EQ(c.sequence, 42u);
  EXPECT_EQ(w.stats().last_sequence, 42u);
}

// 4 producers × 10k commands: every command completes once, committed; the log is dense; each
// producer's commands keep their submission order; publish follows commit order.
TEST_F(WriterTest, ManyProducersGetDenseOrderedSequences) {
  constexpr int producers = 4;
  constexpr int per_producer = 10'000;
  std::vector<std::vector<test_command*>> mine(producers);
  for (int p = 0; p < producers; ++p) {
    for (int i = 0; i < per_producer; ++i)
      mine[p].push_back(&make_payload(std::to_string(p) + ":" + std::to_string(i)));
  }
  writer w(store, {});
  w.start();
  std::vector<std::thread> threads;
  for (int p = 0; p < producers; ++p) {
    threads.emplace_back([&w, &list = mine[p]] {
      for (test_command* c : list) {
        errc e;
        while ((e = w.submit(c)) == errc::queue_full) std::this_thread::yield();
        ASSERT_EQ(e, errc::ok);
      }
    });
  }
  for (auto& t : threads) t.join();
  ASSERT_TRUE(done.wait_for(producers * per_producer));
  w.stop();

  std::vector<test_command*> by_sequence(producers * per_producer + 1, nullptr);
  for (auto& c : commands) {
    ASSERT_EQ(c.complete_calls, 1);
    ASSERT_EQ(c.publish_calls, 1);
    ASSERT_EQ(c.apply_calls, 1);
    ASSERT_EQ(c.result, outcome::committed);
    ASSERT_TRUE(c.committed_at_publish);
    ASSERT_LT(c.publish_order, c.complete_order);
    ASSERT_GE(c.sequence, 1u);
    ASSERT_LE(c.sequence, by_sequence.size() - 1);
    ASSERT_EQ(by_sequence[c.sequence], nullptr) << "duplicate sequence " << c.sequence;
    by_sequence[c.sequence] = &c;
  }
  // Dense (every slot filled, by the pigeonhole above) and published in sequence order.
  for (std::size_t seq = 2; seq < by_sequence.size(); ++seq) {
    ASSERT_LT(by_sequence[seq - 1]->publish_order, by_sequence[seq]->publish_order) << seq;
  }
  for (const auto& list : mine) {
    for (std::size_t i = 1; i < list.size(); ++i) ASSERT_LT(list[i - 1]->sequence, list[i]->sequence);
  }
  const auto log = store.committed(table::log);
  ASSERT_EQ(log.size(), static_cast<std::size_t>(producers * per_producer));
  for (const auto& [key, value] : log) {
    decoded_record rec;
    ASSERT_EQ(decode_record(value, rec), decode_errc::ok);
    ASSERT_EQ(rec.payload, by_sequence[be64_value(key)]->payload());
  }

  const writer_stats s = w.stats();
  EXPECT_EQ(s.commands_committed, static_cast<std::uint64_t>(producers * per_producer));
  EXPECT_EQ(s.last_sequence, static_cast<std::uint64_t>(producers * per_producer));
  EXPECT_EQ(total_batches(s), s.commits);
  EXPECT_EQ(s.commits, store.commits());
  EXPECT_GT(total_batches(s) - s.batch_sizes[0], 0u) << "no batch held more than one command";
  EXPECT_LT(s.commits, static_cast<std::uint64_t>(producers * per_producer));
}

TEST_F(WriterTest, RejectedCommandWritesNothingAndTheBatchCommits) {
  writer w(store, {});
  test_command& a = make_payload("a");
  test_command_options reject;
  reject.reject = true;
  test_command& b = make(reject);
  test_command& c = make_payload("c");
  // Submitted before start: one drain, one batch.
  for (test_command* x : {&a, &b, &c}) ASSERT_EQ(w.submit(x), errc::ok);
  w.start();
  ASSERT_TRUE(done.wait_for(3));
  EXPECT_EQ(a.result, outcome::committed);
  EXPECT_EQ(b.result, outcome::rejected);
  EXPECT_EQ(c.result, outcome::committed);
  EXPECT_EQ(b.publish_calls, 0);
  EXPECT_EQ(b.complete_calls, 1);
  EXPECT_EQ(a.sequence, 1u);
  EXPECT_EQ(c.sequence, 2u);
  expect_log_holds({{1, "a"}, {2, "c"}});
  EXPECT_EQ(store.commits(), 1u);
  const writer_stats s = w.stats();
  EXPECT_EQ(s.commands_committed, 2u);
  EXPECT_EQ(s.commands_rejected, 1u);
  EXPECT_EQ(s.batch_sizes[bucket_index(3)], 1u);
}

// A later command of a batch sees the earlier ones' writes in the shared transaction.
TEST_F(WriterTest, ValidationSeesEarlierCommandsOfTheBatch) {
  writer w(store, {});
  test_command_options claim;
  claim.unique_key = "acme";
  claim.payload = "first claim";
  test_command& first = make(claim);
  claim.payload = "second claim";
  test_command& second = make(claim);
  ASSERT_EQ(w.submit(&first), errc::ok);
  ASSERT_EQ(w.submit(&second), errc::ok);
  w.start();
  ASSERT_TRUE(done.wait_for(2));
  EXPECT_EQ(first.result, outcome::committed);
  EXPECT_EQ(second.result, outcome::rejected);
  EXPECT_EQ(store.commits(), 1u);
  EXPECT_EQ(store.committed_value(table::workspaces, "acme"), "first claim");
  expect_log_holds({{1, "first claim"}});
}

class CommitFailure : public WriterTest, public ::testing::WithParamInterface<std::pair<errc, outcome>> {};

TEST_P(CommitFailure, FailsTheWholeBatchAndSequencesAreReused) {
  const auto [injected, expected] = GetParam();
  store.fail_commit(injected);
  writer_options options;
  options.probe_interval_ms = 60'000;  // no probe: the next batch is what recovers
  writer w(store, options);
  test_command& a = make_payload("lost a");
  test_command& b = make_payload("lost b");
  test_command& c = make_payload("lost c");
  submit_all(w, {&a, &b, &c});
  w.start();
  ASSERT_TRUE(done.wait_for(3));
  for (const test_command* x : {&a, &b, &c}) expect_failed(*x, expected);
  EXPECT_FALSE(w.healthy());
  EXPECT_FALSE(w.stats().healthy);
  EXPECT_TRUE(store.committed(table::log).empty());

  test_command& d = make_payload("d");
  test_command& e = make_payload("e");
  submit_all(w, {&d, &e});
  ASSERT_TRUE(done.wait_for(5));
  EXPECT_EQ(d.result, outcome::committed);
  EXPECT_EQ(e.result, outcome::committed);
  EXPECT_EQ(d.sequence, 1u);  // the failed batch's numbers are given again: no gap
  EXPECT_EQ(e.sequence, 2u);
  EXPECT_TRUE(w.healthy());
  expect_log_holds({{1, "d"}, {2, "e"}});
  const writer_stats s = w.stats();
  EXPECT_EQ(s.commit_failures, 1u);
  EXPECT_EQ(s.commands_failed, 3u);
  EXPECT_EQ(s.commands_committed, 2u);
  EXPECT_EQ(s.last_sequence, 2u);
}

INSTANTIATE_TEST_SUITE_P(Errors, CommitFailure,
                         ::testing::Values(std::make_pair(errc::io_error, outcome::unavailable),
                                           std::make_pair(errc::map_full, outcome::full)),
                         [](const auto& info) { return info.param.first == errc::io_error ? "io_error" : "map_full"; });

TEST_F(WriterTest, IdleProbeRestoresHealth) {
  store.fail_commit(errc::io_error, 3);  // the batch, then two probes fail
  writer_options options;
  options.probe_interval_ms = 2;
  writer w(store, options);
  test_command& a = make();
  submit_all(w, {&a});
  w.start();
  ASSERT_TRUE(done.wait_for(1));
  expect_failed(a, outcome::unavailable);
  ASSERT_TRUE(eventually([&] { return w.healthy(); }));
  EXPECT_GE(store.commit_calls(), 4u);  // 1 batch + 2 failed probes + the good one
  EXPECT_EQ(store.committed_value(table::meta, "probe"), "1");
  EXPECT_TRUE(store.committed(table::log).empty());
  w.stop();
  EXPECT_EQ(w.stats().commit_failures, 1u);  // probes are not batches
}

TEST_F(WriterTest, BeginWriteFailureFailsTheBatch) {
  store.fail_begin_write(errc::io_error);
  writer_options options;
  options.batch_commands_max = 2;
  options.probe_interval_ms = 60'000;
  writer w(store, options);
  test_command& a = make_payload("a");
  test_command& b = make_payload("b");
  test_command& c = make_payload("c");
  test_command& d = make_payload("d");
  test_command& e = make_payload("e");
  submit_all(w, {&a, &b, &c, &d, &e});
  w.start();
  ASSERT_TRUE(done.wait_for(5));
  expect_failed(a, outcome::unavailable);
  expect_failed(b, outcome::unavailable);
  EXPECT_EQ(a.apply_calls, 0);  // no transaction, nothing applied
  for (test_command* x : {&c, &d, &e}) EXPECT_EQ(x->result, outcome::committed);
  EXPECT_EQ(c.sequence, 1u);
  EXPECT_EQ(e.sequence, 3u);
  expect_log_holds({{1, "c"}, {2, "d"}, {3, "e"}});
  EXPECT_TRUE(w.healthy());
  const writer_stats s = w.stats();
  EXPECT_EQ(s.commit_failures, 1u);
  EXPECT_EQ(s.commands_failed, 2u);
  EXPECT_EQ(s.commits, 2u);  // {c, d} and {e}
  EXPECT_EQ(store.aborts(), 0u);
}

class WriteFailure : public WriterTest, public ::testing::WithParamInterface<std::pair<errc, outcome>> {};

// The second write of a batch fails: the batch ends there and fails; the rest is retried in
// the next batch.
TEST_P(WriteFailure, EndsAndFailsTheBatch) {
  const auto [injected, expected] = GetParam();
  store.fail_write_at(2, injected);
  writer_options options;
  options.probe_interval_ms = 60'000;
  writer w(store, options);
  test_command& a = make_payload("a");
  test_command& b = make_payload("b");
  test_command& c = make_payload("c");
  submit_all(w, {&a, &b, &c});
  w.start();
  ASSERT_TRUE(done.wait_for(3));
  expect_failed(a, expected);
  expect_failed(b, expected);
  EXPECT_EQ(c.result, outcome::committed);
  EXPECT_EQ(c.apply_calls, 1);  // not applied in the failed batch
  EXPECT_EQ(c.sequence, 1u);
  expect_log_holds({{1, "c"}});
  EXPECT_EQ(store.aborts(), 1u);
  EXPECT_EQ(store.commit_calls(), 1u);  // the failed batch is aborted, never committed
  EXPECT_TRUE(w.healthy());
  EXPECT_EQ(w.stats().commands_failed, 2u);
}

// A failed put outside the log (a materialised table) fails the batch just the same.
TEST_P(WriteFailure, OnAMaterialisedTableFailsTheBatch) {
  const auto [injected, expected] = GetParam();
  store.fail_write_at(1, injected);  // the put of workspaces[acme], before its log append
  writer_options options;
  options.probe_interval_ms = 60'000;
  writer w(store, options);
  test_command_options claim;
  claim.unique_key = "acme";
  test_command& a = make(claim);
  submit_all(w, {&a});
  w.start();
  ASSERT_TRUE(done.wait_for(1));
  expect_failed(a, expected);
  EXPECT_TRUE(store.committed(table::workspaces).empty());
  EXPECT_TRUE(store.committed(table::log).empty());
  EXPECT_FALSE(w.healthy());
}

INSTANTIATE_TEST_SUITE_P(Errors, WriteFailure,
                         ::testing::Values(std::make_pair(errc::io_error, outcome::unavailable),
                                           std::make_pair(errc::map_full, outcome::full)),
                         [](const auto& info) { return info.param.first == errc::io_error ? "io_error" : "map_full"; });
// The after-publish hook runs once per committed batch, after the batch's publishes and
// before its completions; a failed batch does not call it.
TEST_F(WriterTest, AfterPublishHookRunsBetweenPublishAndComplete) {
  store.fail_commit(errc::io_error);
  writer_options options;
  options.probe_interval_ms = 60'000;
  writer w(store, options);
  std::vector<std::uint64_t> hook_ticks;  // writer thread; read after completions
  w.set_after_publish([&] { hook_ticks.push_back(clock.tick()); });
  test_command& lost = make();
  submit_all(w, {&lost});
  w.start();
  ASSERT_TRUE(done.wait_for(1));
  expect_failed(lost, outcome::unavailable);
  EXPECT_TRUE(hook_ticks.empty());

  test_command& a = make();
  test_command_options reject;
  reject.reject = true;
  test_command& b = make(reject);
  test_command& c = make();
  submit_all(w, {&a, &b, &c});
  ASSERT_TRUE(done.wait_for(4));
  w.stop();
  EXPECT_EQ(hook_ticks.size(), w.stats().commits);
  for (const test_command* x : {&a, &c}) {
    EXPECT_TRUE(std::any_of(hook_ticks.begin(), hook_ticks.end(),
                            [&](std::uint64_t t) { return x->publish_order < t && t < x->complete_order; }));
  }
  EXPECT_EQ(b.result, outcome::rejected);
  EXPECT_LT(hook_ticks.front(), b.complete_order);
}

}  // namespace
}  // namespace warrant::storage

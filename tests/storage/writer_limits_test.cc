// tests/storage/writer_limits_test.cc: the writer's bounds and lifecycle over `fake_store` —
// a full queue, batches split by count and by apply time, stop (before start, racing with
// producers), the destructor.
#include <gtest/gtest.h>

#include <atomic>
#include <deque>
#include <thread>
#include <vector>

#include "storage/writer.h"
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
using WriterLimitsTest = testing::writer_fixture;

TEST_F(WriterLimitsTest, FullQueueRefusesUntilTheWriterDrains) {
  writer_options options;
  options.queue_commands_max = 3;
  writer w(store, options);
  test_command& a = make();
  test_command& b = make();
  test_command& c = make();
  test_command& refused = make();
  submit_all(w, {&a, &b, &c});
  EXPECT_EQ(w.submit(&refused), errc::queue_full);
  writer_stats s = w.stats();
  EXPECT_EQ(s.queue_depth, 3u);
  EXPECT_EQ(s.queue_rejections, 1u);
  w.start();
  ASSERT_TRUE(done.wait_for(3));
  for (test_command* x : {&a, &b, &c}) EXPECT_EQ(x->result, outcome::committed);
  EXPECT_EQ(refused.apply_calls, 0);
  EXPECT_EQ(refused.complete_calls, 0);  // the caller kept it
  // Room again once drained.
  ASSERT_EQ(w.submit(&refused), errc::ok);
  ASSERT_TRUE(done.wait_for(4));
  EXPECT_EQ(refused.result, outcome::committed);
  EXPECT_EQ(refused.sequence, 4u);
  w.stop();
  s = w.stats();
  EXPECT_EQ(s.queue_depth, 0u);
  EXPECT_EQ(s.queue_rejections, 1u);
}

TEST_F(WriterLimitsTest, StopCompletesEverythingSubmittedThenRefuses) {
  writer w(store, {});
  for (int i = 0; i < 100; ++i) ASSERT_EQ(w.submit(&make_payload(std::to_string(i))), errc::ok);
  w.start();
  w.stop();  // no wait: stop itself must finish the queue
  EXPECT_EQ(done.count(), 100u);
  for (const auto& c : commands) {
    EXPECT_EQ(c.complete_calls, 1);
    EXPECT_EQ(c.result, outcome::committed);
  }
  EXPECT_EQ(store.committed(table::log).size(), 100u);
  EXPECT_FALSE(w.running());
  test_command& late = make();
  EXPECT_EQ(w.submit(&late), errc::shutting_down);
  EXPECT_EQ(late.complete_calls, 0);
  w.stop();  // idempotent
}

// A writer stopped before it ever ran still owes every accepted command its completion.
TEST_F(WriterLimitsTest, StopBeforeStartCompletesWhatWasSubmitted) {
  writer w(store, {});
  test_command& a = make_payload("a");
  test_command& b = make_payload("b");
  submit_all(w, {&a, &b});
  w.stop();
  EXPECT_EQ(done.count(), 2u);
  EXPECT_EQ(a.result, outcome::committed);
  EXPECT_EQ(b.result, outcome::committed);
  expect_log_holds({{1, "a"}, {2, "b"}});
  test_command& late = make();
  EXPECT_EQ(w.submit(&late), errc::shutting_down);
}

// Producers race with stop(): every command whose submit returned ok is completed by the time
// stop() returns and the producers have finished; every other command was refused.
TEST_F(WriterLimitsTest, SubmitRacingWithStopLosesNothing) {
  constexpr int rounds = 200;
  constexpr int producers = 3;
  constexpr int per_producer = 2000;
  for (int round = 0; round < rounds; ++round) {
    fake_store round_store;
    completion_counter round_done;
    event_clock round_clock;
    std::deque<test_command> round_commands;
    for (int i = 0; i < producers * per_producer; ++i) round_commands.emplace_back(round_done, round_clock);
    writer w(round_store, {});
    w.start();
    std::atomic<std::uint64_t> accepted{0};
    std::atomic<int> started{0};
    std::vector<std::thread> threads;
    for (int p = 0; p < producers; ++p) {
      threads.emplace_back([&, p] {
        started.fetch_add(1);
        for (int i = 0; i < per_producer; ++i) {
          const errc e = w.submit(&round_commands[p * per_producer + i]);
          if (e == errc::ok) {
            accepted.fetch_add(1);
          } else if (e == errc::shutting_down) {
            break;
          }
        }
      });
    }
    while (started.load() < producers) std::this_thread::yield();
    w.stop();
    for (auto& t : threads) t.join();
    ASSERT_EQ(round_done.count(), accepted.load()) << "round " << round;
    for (const auto& c : round_commands) ASSERT_LE(c.complete_calls, 1);
  }
}

TEST_F(WriterLimitsTest, CountBoundSplitsBatches) {
  writer_options options;
  options.batch_commands_max = 4;
  writer w(store, options);
  for (int i = 0; i < 10; ++i) ASSERT_EQ(w.submit(&make()), errc::ok);
  w.start();
  ASSERT_TRUE(done.wait_for(10));
  const writer_stats s = w.stats();
  EXPECT_EQ(s.commits, 3u);  // 4 + 4 + 2
  EXPECT_EQ(s.batch_sizes[bucket_index(4)], 2u);
  EXPECT_EQ(s.batch_sizes[bucket_index(2)], 1u);
  EXPECT_EQ(s.last_sequence, 10u);
}

// Each apply sleeps 2 ms, more than the 1 ms apply budget: every batch holds one command.
TEST_F(WriterLimitsTest, TimeBoundSplitsBatches) {
  writer_options options;
  options.batch_apply_us_max = 1000;
  writer w(store, options);
  test_command_options slow;
  slow.apply_sleep = std::chrono::milliseconds(2);
  for (int i = 0; i < 3; ++i) ASSERT_EQ(w.submit(&make(slow)), errc::ok);
  w.start();
  ASSERT_TRUE(done.wait_for(3));
  const writer_stats s = w.stats();
  EXPECT_EQ(s.commits, 3u);
  EXPECT_EQ(s.batch_sizes[0], 3u);
  for (const auto& c : commands) EXPECT_EQ(c.result, outcome::committed);
}

TEST_F(WriterLimitsTest, DestructorStopsARunningWriter) {
  {
    writer w(store, {});
    w.start();
    ASSERT_EQ(w.submit(&make()), errc::ok);
  }
  EXPECT_EQ(done.count(), 1u);
  EXPECT_EQ(commands.front().result, outcome::committed);
}

}  // namespace
}  // namespace warrant::storage

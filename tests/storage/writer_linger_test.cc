// tests/storage/writer_linger_test.cc: lingering (storage/writer.h) — while only lazy commands
// are queued, the writer starts the next commit no sooner than lazy_linger_us after the last
// one began (a slow commit is not followed by a wait); a command that is not lazy ends the wait and the lazy ones share its commit; stop()
// ends it; a writer that has been idle commits a lazy command at once; 0 turns it off. A batch
// of lazy commands only is committed with commit_lazy and made durable by the next commit or,
// when none comes within the linger, or at stop, by a sync; a failed sync makes the writer unhealthy until
// a later one succeeds. The bounds are tenths of seconds or a minute, far from any race on a
// loaded machine.
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "storage/writer.h"
#include "tests/storage/writer_fixture.h"

namespace warrant::storage {
namespace {

using testing::bucket_index;
using testing::test_command;
using WriterLingerTest = testing::writer_fixture;
using std::chrono::milliseconds;
using std::chrono::steady_clock;

class WriterLinger : public WriterLingerTest {
 protected:
  test_command& submit_one(writer& w, bool lazy) {
    test_command& c = make();
    c.lazy = lazy;
    EXPECT_EQ(w.submit(&c), errc::ok);
    return c;
  }
  // Submits once the writer has begun its first transaction: the command is the next batch's.
  void submit_while_committing(writer& w, bool lazy) {
    ASSERT_TRUE(testing::eventually([&] { return store.begin_calls() == 1; }));
    submit_one(w, lazy);
  }
  // After stop: so many lazy commits and syncs, and nothing left to sync.
  void expect_lazy_commits_and_syncs(std::uint64_t lazy_commits, std::uint64_t syncs, const char* why = "") {
    EXPECT_EQ(store.lazy_commits(), lazy_commits) << why;
    EXPECT_EQ(store.sync_calls(), syncs) << why;
    EXPECT_FALSE(store.unsynced()) << why;
  }
};

TEST_F(WriterLinger, ALazyCommandWaitsOutTheLingerAfterACommit) {
  writer_options options;
  options.lazy_linger_us = 300'000;
  writer w(store, options);
  w.start();
  submit_one(w, false);
  ASSERT_TRUE(done.wait_for(1));
  const auto submitted = steady_clock::now();
  submit_one(w, true);
  ASSERT_TRUE(done.wait_for(2));
  EXPECT_GE(steady_clock::now() - submitted, milliseconds(200)) << "committed before the linger ran out";
  w.stop();
  EXPECT_EQ(w.stats().commits, 2u);
  EXPECT_EQ(w.stats().lingers, 1u);
  for (const test_command& c : commands) EXPECT_EQ(c.result, outcome::committed);
}

TEST_F(WriterLinger, ACommitSlowerThanTheLingerIsNotFollowedByAWait) {
  store.set_commit_delay(milliseconds(400));
  writer_options options;
  options.lazy_linger_us = 200'000;
  writer w(store, options);
  w.start();
  submit_one(w, false);
  ASSERT_TRUE(done.wait_for(1));
  store.set_commit_delay(milliseconds(0));
  submit_one(w, true);
  ASSERT_TRUE(done.wait_for(2));
  w.stop();
  EXPECT_EQ(w.stats().lingers, 0u) << "the last commit began 400 ms ago: nothing to wait for";
}

TEST_F(WriterLinger, AnEagerSubmitEndsTheWaitAndTheLazyOnesShareItsCommit) {
  writer_options options;
  options.lazy_linger_us = 60'000'000;
  writer w(store, options);
  w.start();
  submit_one(w, false);
  ASSERT_TRUE(done.wait_for(1));
  submit_one(w, true);
  submit_one(w, true);
  std::this_thread::sleep_for(milliseconds(50));
  EXPECT_EQ(done.count(), 1u) << "lazy commands lingering";
  submit_one(w, false);
  ASSERT_TRUE(done.wait_for(4));
  w.stop();
  const writer_stats s = w.stats();
  EXPECT_EQ(s.commits, 2u);
  EXPECT_EQ(s.batch_sizes[bucket_index(3)], 1u) << "two lazy and the eager one, one commit";
  EXPECT_LT(s.linger_sum_us, 30'000'000u);
  EXPECT_EQ(store.lazy_commits(), 0u) << "a batch with an eager command is committed synchronously";
  EXPECT_EQ(s.lazy_commits, 0u);
  EXPECT_EQ(store.sync_calls(), 0u) << "nothing was left to sync";
}

TEST_F(WriterLinger, StopEndsTheWaitAndCommitsWhatLingered) {
  writer_options options;
  options.lazy_linger_us = 60'000'000;
  writer w(store, options);
  w.start();
  submit_one(w, false);
  ASSERT_TRUE(done.wait_for(1));
  submit_one(w, true);
  std::this_thread::sleep_for(milliseconds(20));
  const auto stopping = steady_clock::now();
  w.stop();
  EXPECT_LT(steady_clock::now() - stopping, std::chrono::seconds(30));
  EXPECT_EQ(done.count(), 2u);
  for (const test_command& c : commands) EXPECT_EQ(c.result, outcome::committed);
}

TEST_F(WriterLinger, AnIdleWriterCommitsALazyCommandAtOnce) {
  writer_options options;
  options.lazy_linger_us = 60'000'000;
  writer w(store, options);
  w.start();
  submit_one(w, true);  // no commit yet: nothing to linger after
  const auto submitted = steady_clock::now();
  ASSERT_TRUE(done.wait_for(1));
  EXPECT_LT(steady_clock::now() - submitted, std::chrono::seconds(30));
  w.stop();
  EXPECT_EQ(w.stats().lingers, 0u);
}

TEST_F(WriterLinger, ZeroTurnsItOff) {
  writer w(store, {});
  w.start();
  submit_one(w, false);
  ASSERT_TRUE(done.wait_for(1));
  submit_one(w, true);
  ASSERT_TRUE(done.wait_for(2));
  w.stop();
  EXPECT_EQ(w.stats().lingers, 0u);
  EXPECT_EQ(w.stats().commits, 2u);
}

TEST_F(WriterLinger, LazyCommandsAloneAreCommittedLazilyAndSyncedWhenTheWriterGoesIdle) {
  writer w(store, {});
  submit_one(w, true);  // both queued before the writer runs: one batch
  submit_one(w, true);
  w.start();
  ASSERT_TRUE(done.wait_for(2));
  ASSERT_TRUE(testing::eventually([&] { return store.sync_calls() == 1; }));
  EXPECT_EQ(store.commits(), 1u);
  EXPECT_EQ(store.lazy_commits(), 1u);
  EXPECT_FALSE(store.unsynced());
  w.stop();
  EXPECT_EQ(store.sync_calls(), 1u) << "stop has nothing left to sync";
  EXPECT_EQ(w.stats().lazy_commits, 1u);
  EXPECT_EQ(w.stats().syncs, 1u);
  EXPECT_EQ(store.protocol_violations(), 0u) << "a sync outside any transaction";
  for (const test_command& c : commands) EXPECT_EQ(c.result, outcome::committed);
}

TEST_F(WriterLinger, TheSyncWaitsALingerForACommitThatWouldFlushItAnyway) {
  writer_options options;
  options.lazy_linger_us = 1'000'000;
  writer w(store, options);
  w.start();
  submit_one(w, true);  // idle writer: committed at once
  ASSERT_TRUE(done.wait_for(1));
  std::this_thread::sleep_for(milliseconds(50));
  EXPECT_EQ(store.sync_calls(), 0u) << "synced before the linger ran out";
  submit_one(w, true);  // within the linger: its commit flushes the first one's meta page
  ASSERT_TRUE(done.wait_for(2));
  ASSERT_TRUE(testing::eventually([&] { return store.sync_calls() == 1; }));
  w.stop();
  expect_lazy_commits_and_syncs(2, 1, "one sync, after the second commit's linger");
}

TEST_F(WriterLinger, ALazyCommitFollowedByAnotherNeedsNoSyncOfItsOwn) {
  store.set_commit_delay(milliseconds(600));  // the second is submitted well within it
  writer w(store, {});
  w.start();
  submit_one(w, true);
  submit_while_committing(w, true);
  ASSERT_TRUE(done.wait_for(2));
  ASSERT_TRUE(testing::eventually([&] { return store.sync_calls() == 1; }));
  w.stop();
  expect_lazy_commits_and_syncs(2, 1, "the second commit's flush covered the first; one sync after the last");
}

TEST_F(WriterLinger, AnEagerCommitAfterALazyOneLeavesNothingToSync) {
  writer_options options;
  options.lazy_linger_us = 60'000'000;
  writer w(store, options);
  store.set_commit_delay(milliseconds(300));
  w.start();
  submit_one(w, true);
  submit_while_committing(w, false);  // the writer does not go idle in between
  ASSERT_TRUE(done.wait_for(2));
  w.stop();
  EXPECT_EQ(store.commits(), 2u);
  expect_lazy_commits_and_syncs(1, 0);
}

TEST_F(WriterLinger, StopSyncsALazyCommitWithNothingAfterIt) {
  writer_options options;
  options.lazy_linger_us = 60'000'000;
  writer w(store, options);
  w.start();
  submit_one(w, false);
  ASSERT_TRUE(done.wait_for(1));
  submit_one(w, true);  // lingers: committed by stop, then synced
  std::this_thread::sleep_for(milliseconds(20));
  w.stop();
  EXPECT_EQ(done.count(), 2u);
  expect_lazy_commits_and_syncs(1, 1);
}

TEST_F(WriterLinger, AFailedSyncMakesTheWriterUnhealthyUntilOneSucceeds) {
  store.fail_sync(errc::io_error);
  writer_options options;
  options.probe_interval_ms = 60'000;  // no probe commit during the test: only syncs heal it
  writer w(store, options);
  w.start();
  submit_one(w, true);
  ASSERT_TRUE(done.wait_for(1));
  ASSERT_TRUE(testing::eventually([&] { return w.stats().sync_failures == 1; }));
  EXPECT_FALSE(w.healthy());
  EXPECT_TRUE(store.unsynced());
  submit_one(w, true);  // wakes it: commits (healthy again), then syncs both
  ASSERT_TRUE(done.wait_for(2));
  ASSERT_TRUE(testing::eventually([&] { return w.stats().syncs == 1; }));
  EXPECT_TRUE(w.healthy());
  EXPECT_FALSE(store.unsynced());
  w.stop();
  EXPECT_EQ(w.stats().sync_failures, 1u);
  for (const test_command& c : commands) EXPECT_EQ(c.result, outcome::committed);
}

}  // namespace
}  // namespace warrant::storage

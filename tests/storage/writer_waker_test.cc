// tests/storage/writer_waker_test.cc: completion_waker (storage/writer.h) — each distinct
// waker of a batch is woken once, after the complete() of every command of that batch, for
// committed, rejected and failed batches alike; a command may free itself in complete(); and
// producer threads that sleep until their waker is woken never miss a completion.
#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstdint>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "storage/writer.h"
#include "tests/storage/writer_fixture.h"

namespace warrant::storage {
namespace {

using testing::event_clock;
using testing::test_command;
using WriterWakerTest = testing::writer_fixture;

// Records when (on the shared event clock) it was woken. Writer thread; read after stop().
class recording_waker final : public completion_waker {
 public:
  explicit recording_waker(event_clock& clock) : _clock(clock) {}
  void wake() override { ticks.push_back(_clock.tick()); }
  std::vector<std::uint64_t> ticks;

 private:
  event_clock& _clock;
};

TEST_F(WriterWakerTest, EachWakerOfABatchIsWokenOnceAfterEveryCompletion) {
  writer w(store, {});
  recording_waker a(clock);
  recording_waker b(clock);
  std::vector<test_command*> batch;
  for (int i = 0; i < 6; ++i) {
    test_command& c = make();
    c.waker = i < 3 ? &a : i < 5 ? &b : nullptr;  // a, a, a, b, b, none
    batch.push_back(&c);
  }
  for (test_command* c : batch) ASSERT_EQ(w.submit(c), errc::ok);
  w.start();  // everything is queued: one batch
  ASSERT_TRUE(done.wait_for(6));
  w.stop();
  ASSERT_EQ(w.stats().commits, 1u);
  ASSERT_EQ(a.ticks.size(), 1u);
  ASSERT_EQ(b.ticks.size(), 1u);
  for (const test_command* c : batch) {
    EXPECT_EQ(c->result, outcome::committed);
    EXPECT_LT(c->complete_order, a.ticks[0]);
    EXPECT_LT(c->complete_order, b.ticks[0]);
  }
}

TEST_F(WriterWakerTest, AWakerIsWokenOncePerBatchItHasCommandsIn) {
  writer_options options;
  options.batch_commands_max = 2;
  writer w(store, options);
  recording_waker a(clock);
  std::vector<test_command*> cs;
  for (int i = 0; i < 5; ++i) {
    test_command& c = make();
    c.waker = &a;
    cs.push_back(&c);
  }
  for (test_command* c : cs) ASSERT_EQ(w.submit(c), errc::ok);
  w.start();
  ASSERT_TRUE(done.wait_for(5));
  w.stop();
  ASSERT_EQ(w.stats().commits, 3u);  // {0, 1}, {2, 3}, {4}
  ASSERT_EQ(a.ticks.size(), 3u);
  // Each wake-up follows its own batch's completions and precedes the next batch's.
  EXPECT_LT(cs[1]->complete_order, a.ticks[0]);
  EXPECT_LT(a.ticks[0], cs[2]->complete_order);
  EXPECT_LT(cs[3]->complete_order, a.ticks[1]);
  EXPECT_LT(a.ticks[1], cs[4]->complete_order);
  EXPECT_LT(cs[4]->complete_order, a.ticks[2]);
}

TEST_F(WriterWakerTest, RejectedAndFailedCommandsWakeTheirWakerToo) {
  store.fail_commit(errc::io_error);
  writer_options options;
  options.probe_interval_ms = 60'000;
  writer w(store, options);
  recording_waker failed_waker(clock);
  test_command& lost = make();
  lost.waker = &failed_waker;
  ASSERT_EQ(w.submit(&lost), errc::ok);
  w.start();
  ASSERT_TRUE(done.wait_for(1));

  recording_waker rejected_waker(clock);
  testing::test_command_options reject;
  reject.reject = true;
  test_command& refused = make(reject);
  refused.waker = &rejected_waker;
  ASSERT_EQ(w.submit(&refused), errc::ok);
  ASSERT_TRUE(done.wait_for(2));
  w.stop();

  EXPECT_EQ(lost.result, outcome::unavailable);
  ASSERT_EQ(failed_waker.ticks.size(), 1u);
  EXPECT_LT(lost.complete_order, failed_waker.ticks[0]);
  EXPECT_EQ(refused.result, outcome::rejected);
  ASSERT_EQ(rejected_waker.ticks.size(), 1u);
  EXPECT_LT(refused.complete_order, rejected_waker.ticks[0]);
}

// A command that deletes itself in complete(), as the server's request commands do: the
// writer must have read its waker before (ASan would see a use after free).
class self_deleting_command final : public command {
 public:
  explicit self_deleting_command(int& completed) : _completed(completed) {}
  apply_status apply(write_txn&, log_appender& log) override {
    log.append(record_type::log_workspace_created, "x");
    return apply_status::applied;
  }
  void complete(outcome) override {
    ++_completed;
    delete this;
  }

 private:
  int& _completed;
};

TEST_F(WriterWakerTest, CommandsMayFreeThemselvesInComplete) {
  writer w(store, {});
  recording_waker a(clock);
  int completed = 0;  // writer thread; read after stop()
  for (int i = 0; i < 8; ++i) {
    auto* c = new self_deleting_command(completed);
    c->waker = &a;
    ASSERT_EQ(w.submit(c), errc::ok);
  }
  w.start();
  w.stop();  // processes everything submitted
  EXPECT_EQ(completed, 8);
  EXPECT_EQ(a.ticks.size(), w.stats().commits);
}

// ---- producers that sleep until woken ------------------------------------------------------

// A producer's waker: a generation counter under a mutex. complete() marks a command done
// (under the same mutex); wake() bumps the generation and notifies the producer.
struct producer_waker final : completion_waker {
  std::mutex mutex;
  std::condition_variable changed;
  std::uint64_t wakes = 0;
  void wake() override {
    std::lock_guard lock(mutex);
    ++wakes;
    changed.notify_one();
  }
};

class producer_command final : public command {
 public:
  explicit producer_command(producer_waker& w) : _waker(w) { waker = &w; }
  apply_status apply(write_txn&, log_appender& log) override {
    log.append(record_type::log_workspace_created, "p");
    return apply_status::applied;
  }
  void complete(outcome result) override {
    std::lock_guard lock(_waker.mutex);
    committed = result == outcome::committed;
    done = true;  // no notify here: the waker's wake() does it once per batch
  }
  bool done = false;       // guarded by the waker's mutex
  bool committed = false;  // guarded by the waker's mutex

 private:
  producer_waker& _waker;
};

// Producers keep all their commands in flight and sleep until their waker is woken, then
// resubmit every command found done. A wake-up that came before all of a batch's completions,
// or never came, would leave a producer asleep: the wait is bounded only to abort, not hang.
TEST_F(WriterWakerTest, ProducersSleepingOnTheirWakerMissNoCompletion) {
  writer w(store, {});
  w.start();
  constexpr int producers = 4;
  constexpr int in_flight = 8;
  constexpr int rounds = 300;  // completions each command goes through
  std::vector<std::unique_ptr<producer_waker>> wakers;
  std::vector<std::thread> threads;
  for (int p = 0; p < producers; ++p) wakers.push_back(std::make_unique<producer_waker>());
  for (int p = 0; p < producers; ++p) {
    threads.emplace_back([&, p] {
      producer_waker& wk = *wakers[static_cast<std::size_t>(p)];
      std::vector<std::unique_ptr<producer_command>> mine;
      std::vector<int> completions(in_flight, 0);
      for (int i = 0; i < in_flight; ++i) mine.push_back(std::make_unique<producer_command>(wk));
      // Counted from before the first submit: the writer may complete (and wake for) all of
      // them before this thread takes the mutex, and that wake-up must still be seen.
      std::uint64_t seen = 0;
      for (auto& c : mine) ASSERT_EQ(w.submit(c.get()), errc::ok);
      int remaining = in_flight;
      std::unique_lock lock(wk.mutex);
      while (remaining > 0) {
        if (!wk.changed.wait_for(lock, std::chrono::seconds(60), [&] { return wk.wakes != seen; })) {
          // A lost wake-up. The commands are still in flight and must outlive the writer's
          // touch, so this cannot return: fail loudly.
          std::fprintf(stderr, "producer %d was never woken for a completion\n", p);
          std::abort();
        }
        seen = wk.wakes;
        for (int i = 0; i < in_flight; ++i) {
          producer_command& c = *mine[static_cast<std::size_t>(i)];
          if (!c.done) continue;
          c.done = false;
          ASSERT_TRUE(c.committed);
          if (++completions[static_cast<std::size_t>(i)] == rounds) {
            --remaining;
            continue;
          }
          ASSERT_EQ(w.submit(&c), errc::ok);  // under the mutex: complete() waits for it
        }
      }
      lock.unlock();
      // Nothing of ours is in flight any more when every command reached `rounds`.
    });
  }
  for (auto& t : threads) t.join();
  w.stop();
  EXPECT_EQ(w.stats().commands_committed, static_cast<std::uint64_t>(producers) * in_flight * rounds);
}

}  // namespace
}  // namespace warrant::storage

// tests/net/primitives_test.cc: the small building blocks of net/ — byte_buffer.h,
// timer_list.h, task_queue.h and latency_bucket (metrics.h).
#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "net/byte_buffer.h"
#include "net/metrics.h"
#include "net/task_queue.h"
#include "net/timer_list.h"

namespace warrant::net {
namespace {

// ---- byte_buffer --------------------------------------------------------------------------

TEST(ByteBuffer, StartsEmpty) {
  byte_buffer b;
  EXPECT_TRUE(b.empty());
  EXPECT_EQ(b.size(), 0u);
  EXPECT_EQ(b.capacity(), 0u);
  EXPECT_EQ(b.view(), "");
}

TEST(ByteBuffer, AppendAndConsume) {
  byte_buffer b;
  b.append("hello ");
  b.append(std::string_view("world"));
  b.push_back('!');
  EXPECT_EQ(b.view(), "hello world!");
  b.consume(6);
  EXPECT_EQ(b.view(), "world!");
  EXPECT_EQ(b.size(), 6u);
  b.append("", 0);
  EXPECT_EQ(b.view(), "world!");
  // Consuming everything rewinds to the start of the allocation.
  const char* start = b.data() - 6;
  b.consume(6);
  EXPECT_TRUE(b.empty());
  b.append("x");
  EXPECT_EQ(b.data(), start);
}

TEST(ByteBuffer, FrontRoomTakesAPrefix) {
  byte_buffer b;
  b.clear_leaving_front_room(16);
  EXPECT_TRUE(b.empty());
  EXPECT_EQ(b.front_room(), 16u);
  EXPECT_GE(b.capacity(), 16u);
  b.append("body");
  b.prepend("head:", 5);
  EXPECT_EQ(b.view(), "head:body");
  EXPECT_EQ(b.front_room(), 11u);
  b.prepend("", 0);
  EXPECT_EQ(b.view(), "head:body");
  // Growing may give the room back; the contents stay.
  b.append(std::string(5000, 'x'));
  EXPECT_EQ(b.view().substr(0, 9), "head:body");
  EXPECT_EQ(b.size(), 9u + 5000u);
  b.clear();
  EXPECT_EQ(b.front_room(), 0u);
}

TEST(ByteBuffer, PrepareAndCommit) {
  byte_buffer b;
  b.append("ab");
  char* p = b.prepare(100);
  ASSERT_GE(b.capacity() - b.size(), 100u);
  std::memcpy(p, "cdef", 4);
  b.commit(3);  // only part of what was prepared
  EXPECT_EQ(b.view(), "abcde");
}

TEST(ByteBuffer, GrowthKeepsContent) {
  byte_buffer b;
  std::string expected;
  for (int i = 0; i < 5000; ++i) {
    const std::string piece = std::to_string(i) + ",";
    b.append(piece);
    expected += piece;
  }
  EXPECT_EQ(b.view(), expected);
  EXPECT_GE(b.capacity(), expected.size());
  // Growing with a consumed front keeps only the live bytes.
  b.consume(1000);
  b.append(std::string(b.capacity(), 'z'));
  EXPECT_EQ(b.view(), expected.substr(1000) + std::string(b.size() - (expected.size() - 1000), 'z'));
}

TEST(ByteBuffer, ReclaimsConsumedFrontBeforeGrowing) {
  byte_buffer b;
  b.append(std::string(400, 'a'));
  const std::size_t cap = b.capacity();
  b.consume(300);
  b.append(std::string(cap - 150, 'b'));  // fits only once the consumed front is reused
  EXPECT_EQ(b.capacity(), cap);           // compacted in place, no reallocation
  EXPECT_EQ(b.view(), std::string(100, 'a') + std::string(cap - 150, 'b'));
}

TEST(ByteBuffer, ClearKeepsCapacityReleaseFreesIt) {
  byte_buffer b;
  b.append(std::string(10'000, 'q'));
  const std::size_t cap = b.capacity();
  b.clear();
  EXPECT_TRUE(b.empty());
  EXPECT_EQ(b.capacity(), cap);
  b.release();
  EXPECT_EQ(b.capacity(), 0u);
  EXPECT_TRUE(b.empty());
  b.append("again");
  EXPECT_EQ(b.view(), "again");
}

TEST(ByteBuffer, Move) {
  byte_buffer a;
  a.append("payload");
  a.consume(3);
  byte_buffer b(std::move(a));
  EXPECT_EQ(b.view(), "load");
  byte_buffer c;
  c.append("other");
  c = std::move(b);
  EXPECT_EQ(c.view(), "load");
}

// ---- timer_list ---------------------------------------------------------------------------

TEST(TimerList, ExpiresInOrder) {
  timer_list list(1, 100);
  std::vector<timer_link> links(4);
  for (std::size_t i = 0; i < links.size(); ++i) list.push(links[i], static_cast<std::int64_t>(i) * 10);
  EXPECT_EQ(list.size(), 4u);
  EXPECT_EQ(links[2].deadline_ms, 120);
  EXPECT_TRUE(links[0].linked());
  EXPECT_EQ(list.pop_expired(99), nullptr);
  EXPECT_EQ(list.pop_expired(100), &links[0]);  // due exactly at the deadline
  EXPECT_FALSE(links[0].linked());
  EXPECT_EQ(list.pop_expired(100), nullptr);
  EXPECT_EQ(list.pop_expired(1000), &links[1]);
  EXPECT_EQ(list.pop_expired(1000), &links[2]);
  EXPECT_EQ(list.pop_expired(1000), &links[3]);
  EXPECT_EQ(list.pop_expired(1000), nullptr);
  EXPECT_EQ(list.size(), 0u);
}

TEST(TimerList, RemoveHeadMiddleTail) {
  timer_list list(3, 5);
  std::vector<timer_link> links(5);
  for (timer_link& l : links) list.push(l, 0);
  list.remove(links[2]);  // middle
  EXPECT_FALSE(links[2].linked());
  list.remove(links[0]);  // head
  list.remove(links[4]);  // tail
  EXPECT_EQ(list.size(), 2u);
  EXPECT_EQ(list.pop_expired(5), &links[1]);
  // Re-arming a removed link appends it behind the others.
  list.push(links[2], 1);
  EXPECT_EQ(links[2].list, 3);
  EXPECT_EQ(list.pop_expired(100), &links[3]);
  EXPECT_EQ(list.pop_expired(100), &links[2]);
  EXPECT_EQ(list.pop_expired(100), nullptr);
}

TEST(TimerList, EmptyListAfterRemovingLast) {
  timer_list list(2, 10);
  timer_link l;
  list.push(l, 0);
  list.remove(l);
  EXPECT_EQ(list.pop_expired(1'000'000), nullptr);
  list.push(l, 0);  // the list still works
  EXPECT_EQ(list.pop_expired(10), &l);
}

// ---- task_queue ---------------------------------------------------------------------------

void no_run(shard&, void*) {}

shard_task task_for(std::uintptr_t n) { return {no_run, reinterpret_cast<void*>(n)}; }

TEST(TaskQueue, CapacityRoundsUpToPowerOfTwo) {
  EXPECT_EQ(task_queue(0).capacity(), 2u);
  EXPECT_EQ(task_queue(3).capacity(), 4u);
  EXPECT_EQ(task_queue(16).capacity(), 16u);
  EXPECT_EQ(task_queue(17).capacity(), 32u);
}

TEST(TaskQueue, FifoAndFull) {
  task_queue q(4);
  shard_task out;
  EXPECT_FALSE(q.try_pop(out));
  for (std::uintptr_t i = 1; i <= 4; ++i) EXPECT_TRUE(q.try_push(task_for(i)));
  EXPECT_FALSE(q.try_push(task_for(5)));  // full
  ASSERT_TRUE(q.try_pop(out));
  EXPECT_EQ(out.arg, reinterpret_cast<void*>(1));
  EXPECT_EQ(out.run, &no_run);
  EXPECT_TRUE(q.try_push(task_for(5)));  // room again
  for (std::uintptr_t i = 2; i <= 5; ++i) {
    ASSERT_TRUE(q.try_pop(out));
    EXPECT_EQ(out.arg, reinterpret_cast<void*>(i));
  }
  EXPECT_FALSE(q.try_pop(out));
  // Many laps around the ring keep the order.
  for (std::uintptr_t i = 0; i < 1000; ++i) {
    ASSERT_TRUE(q.try_push(task_for(i)));
    ASSERT_TRUE(q.try_pop(out));
    ASSERT_EQ(out.arg, reinterpret_cast<void*>(i));
  }
}

TEST(TaskQueue, MultiProducerEveryItemExactlyOnce) {
  constexpr std::size_t producers = 4;
  constexpr std::size_t per_producer = 100'000;
  task_queue q(1024);
  std::atomic<bool> go{false};
  std::vector<std::thread> threads;
  for (std::size_t p = 0; p < producers; ++p) {
    threads.emplace_back([&q, &go, p] {
      while (!go.load(std::memory_order_acquire)) std::this_thread::yield();
      for (std::size_t i = 0; i < per_producer; ++i) {
        // Item = producer in the top bits, sequence below; +1 so no item is null.
        const std::uintptr_t item = (p << 32 | i) + 1;
        while (!q.try_push(task_for(item))) std::this_thread::yield();
      }
    });
  }
  std::vector<std::uint8_t> seen(producers * per_producer, 0);
  std::vector<std::size_t> next(producers, 0);  // each producer's items arrive in its order
  bool in_order = true;
  go.store(true, std::memory_order_release);
  std::size_t received = 0;
  shard_task out;
  while (received < producers * per_producer) {
    if (!q.try_pop(out)) {
      std::this_thread::yield();
      continue;
    }
    const auto item = reinterpret_cast<std::uintptr_t>(out.arg) - 1;
    const std::size_t p = item >> 32;
    const std::size_t i = item & 0xffffffffu;
    ASSERT_LT(p, producers);
    ASSERT_LT(i, per_producer);
    ++seen[p * per_producer + i];
    if (i != next[p]) in_order = false;
    next[p] = i + 1;
    ++received;
  }
  for (std::thread& t : threads) t.join();
  EXPECT_FALSE(q.try_pop(out));
  EXPECT_TRUE(in_order);
  std::size_t exactly_once = 0;
  for (std::uint8_t s : seen) exactly_once += s == 1;
  EXPECT_EQ(exactly_once, seen.size());
}

// ---- latency buckets ----------------------------------------------------------------------

TEST(LatencyBucket, Boundaries) {
  EXPECT_EQ(latency_bucket(0), 0u);
  for (std::size_t i = 0; i < latency_bounds_us.size(); ++i) {
    SCOPED_TRACE(latency_bounds_us[i]);
    EXPECT_EQ(latency_bucket(latency_bounds_us[i]), i);      // a bound is inclusive ("le")
    EXPECT_EQ(latency_bucket(latency_bounds_us[i] + 1), i + 1);
  }
  EXPECT_EQ(latency_bucket(UINT64_MAX), latency_bucket_count - 1);  // +Inf
  for (std::size_t i = 1; i < latency_bounds_us.size(); ++i) EXPECT_LT(latency_bounds_us[i - 1], latency_bounds_us[i]);
}

}  // namespace
}  // namespace warrant::net

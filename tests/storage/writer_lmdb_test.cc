// tests/storage/writer_lmdb_test.cc: the writer over the real LMDB store — what it commits is
// on disk after a reopen, and an injected commit failure or a full map leaves nothing behind.
#include <gtest/gtest.h>

#include <deque>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "storage/lmdb_store.h"
#include "storage/writer.h"
#include "tests/storage/fake_store.h"
#include "tests/storage/temp_dir.h"
#include "tests/storage/test_commands.h"

namespace warrant::storage {
namespace {

using testing::completion_counter;
using testing::event_clock;
using testing::faulty_store;
using testing::temp_dir;
using testing::test_command;
using testing::test_command_options;

std::unique_ptr<lmdb_store> open_store(const std::string& path, std::size_t map_size_bytes = 256ull << 20) {
  lmdb_options options;
  options.path = path;
  options.map_size_bytes = map_size_bytes;
  return lmdb_store::open(options);
}

// The whole log, decoded and checked: sequence → payload.
std::map<std::uint64_t, std::string> read_log(lmdb_store& s) {
  std::map<std::uint64_t, std::string> out;
  lmdb_store::reader r(s);
  EXPECT_EQ(r.scan(table::log, "",
                   [&](std::string_view key, std::string_view value) {
                     decoded_record rec;
                     EXPECT_EQ(decode_record(value, rec), decode_errc::ok) << be64_value(key);
                     EXPECT_EQ(rec.type, record_type::log_workspace_created);
                     out.emplace(be64_value(key), std::string(rec.payload));
                     return true;
                   }),
            errc::ok);
  return out;
}

class WriterLmdbTest : public ::testing::Test {
 protected:
  test_command& make_claim(std::string key, std::string payload = {}) {
    test_command_options o;
    o.payload = payload.empty() ? "claimed " + key : std::move(payload);
    o.unique_key = std::move(key);
    return commands.emplace_back(done, clock, std::move(o));
  }

  temp_dir dir;
  completion_counter done;
  event_clock clock;
  std::deque<test_command> commands;
};

TEST_F(WriterLmdbTest, CommittedRecordsSurviveAReopen) {
  constexpr int producers = 3;
  constexpr int per_producer = 500;
  {
    auto s = open_store(dir.path());
    writer w(*s, {});
    std::vector<std::vector<test_command*>> mine(producers);
    for (int p = 0; p < producers; ++p) {
      for (int i = 0; i < per_producer; ++i) {
        mine[p].push_back(&make_claim("ws-" + std::to_string(p) + "-" + std::to_string(i)));
      }
    }
    w.start();
    std::vector<std::thread> threads;
    for (int p = 0; p < producers; ++p) {
      threads.emplace_back([&w, &list = mine[p]] {
        for (test_command* c : list) ASSERT_EQ(w.submit(c), errc::ok);
      });
    }
    for (auto& t : threads) t.join();
    ASSERT_TRUE(done.wait_for(producers * per_producer));
    w.stop();
    EXPECT_EQ(w.stats().last_sequence, static_cast<std::uint64_t>(producers * per_producer));
  }

  auto s = open_store(dir.path());
  const auto log = read_log(*s);
  ASSERT_EQ(log.size(), static_cast<std::size_t>(producers * per_producer));
  EXPECT_EQ(log.begin()->first, 1u);
  EXPECT_EQ(log.rbegin()->first, static_cast<std::uint64_t>(producers * per_producer));  // dense
  lmdb_store::reader r(*s);
  for (const auto& c : commands) {
    ASSERT_EQ(c.result, outcome::committed);
    EXPECT_EQ(log.at(c.sequence), c.payload());
  }
  EXPECT_EQ(r.entries(table::workspaces), static_cast<std::size_t>(producers * per_producer));
  EXPECT_EQ(r.get(table::workspaces, "ws-2-499"), "claimed ws-2-499");

  // A new writer carries on after the recovered tail.
  writer w(*s, {});
  EXPECT_EQ(w.next_sequence(), static_cast<std::uint64_t>(producers * per_producer + 1));
}

TEST_F(WriterLmdbTest, InjectedCommitFailureLeavesNothingOnDisk) {
  {
    auto s = open_store(dir.path());
    faulty_store faulty(*s);
    faulty.fail_commit(errc::io_error);
    writer_options options;
    options.probe_interval_ms = 60'000;
    writer w(faulty, options);
    test_command& a = make_claim("a");
    test_command& b = make_claim("b");
    ASSERT_EQ(w.submit(&a), errc::ok);
    ASSERT_EQ(w.submit(&b), errc::ok);
    w.start();
    ASSERT_TRUE(done.wait_for(2));
    EXPECT_EQ(a.result, outcome::unavailable);
    EXPECT_EQ(b.result, outcome::unavailable);
    EXPECT_EQ(a.publish_calls, 0);
    EXPECT_FALSE(w.healthy());
    EXPECT_EQ(faulty.injected_failures(), 1u);

    // The same claims, retried, succeed and take the same sequence numbers.
    test_command& a2 = make_claim("a", "retried a");
    test_command& c = make_claim("c");
    ASSERT_EQ(w.submit(&a2), errc::ok);
    ASSERT_EQ(w.submit(&c), errc::ok);
    ASSERT_TRUE(done.wait_for(4));
    EXPECT_EQ(a2.result, outcome::committed);
    EXPECT_EQ(c.result, outcome::committed);
    EXPECT_EQ(a2.sequence, 1u);
    EXPECT_EQ(c.sequence, 2u);
    EXPECT_TRUE(w.healthy());
    w.stop();
  }
  auto s = open_store(dir.path());
  EXPECT_EQ(read_log(*s), (std::map<std::uint64_t, std::string>{{1, "retried a"}, {2, "claimed c"}}));
  lmdb_store::reader r(*s);
  EXPECT_EQ(r.entries(table::workspaces), 2u);
  EXPECT_FALSE(r.get(table::workspaces, "b").has_value());
  EXPECT_EQ(r.get(table::workspaces, "a"), "retried a");
}

// A 1 MiB map filled by 16 KiB records: the command that does not fit gets `full`, the writer
// turns unhealthy, and a small command afterwards commits.
TEST_F(WriterLmdbTest, FullMapAnswersFullAndRecovers) {
  std::uint64_t committed = 0;
  {
    auto s = open_store(dir.path(), 1ull << 20);
    writer_options options;
    options.probe_interval_ms = 60'000;
    writer w(*s, options);
    w.start();
    outcome last = outcome::committed;
    for (int i = 0; i < 1000 && last == outcome::committed; ++i) {
      test_command& big = make_claim("big-" + std::to_string(i), std::string(16 * 1024, 'b'));
      ASSERT_EQ(w.submit(&big), errc::ok);
      ASSERT_TRUE(done.wait_for(i + 1));
      last = big.result;
      if (last == outcome::committed) ++committed;
    }
    ASSERT_EQ(last, outcome::full);
    ASSERT_GT(committed, 0u);
    EXPECT_EQ(commands.back().publish_calls, 0);
    EXPECT_FALSE(w.healthy());

    test_command& small = make_claim("small", "s");
    ASSERT_EQ(w.submit(&small), errc::ok);
    ASSERT_TRUE(done.wait_for(commands.size()));
    EXPECT_EQ(small.result, outcome::committed);
    EXPECT_EQ(small.sequence, committed + 1);
    EXPECT_TRUE(w.healthy());
    w.stop();
  }
  auto s = open_store(dir.path(), 1ull << 20);
  const auto log = read_log(*s);
  ASSERT_EQ(log.size(), committed + 1);
  EXPECT_EQ(log.rbegin()->second, "s");
  lmdb_store::reader r(*s);
  EXPECT_FALSE(r.get(table::workspaces, "big-" + std::to_string(committed)).has_value());  // the refused one
  EXPECT_TRUE(r.get(table::workspaces, "big-" + std::to_string(committed - 1)).has_value());
}

}  // namespace
}  // namespace warrant::storage

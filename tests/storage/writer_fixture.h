// tests/storage/writer_fixture.h: the fixture shared by the writer tests over `fake_store`:
// a store, commands that record what happened to them, and small helpers.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <deque>
#include <initializer_list>
#include <numeric>
#include <ostream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "storage/writer.h"
#include "tests/storage/fake_store.h"
#include "tests/storage/test_commands.h"

namespace warrant::storage {

// Readable parameters in test names and failure messages.
inline void PrintTo(errc e, std::ostream* os) { *os << errc_name(e); }
inline void PrintTo(outcome o, std::ostream* os) {
  switch (o) {
    case outcome::committed: *os << "committed"; return;
    case outcome::rejected: *os << "rejected"; return;
    case outcome::unavailable: *os << "unavailable"; return;
    case outcome::full: *os << "full"; return;
  }
}

namespace testing {

inline std::uint64_t total_batches(const writer_stats& s) {
  return std::accumulate(s.batch_sizes.begin(), s.batch_sizes.end(), std::uint64_t{0});
}

inline std::size_t bucket_index(std::uint64_t batch_size) {
  std::size_t i = 0;
  while (i < batch_size_bounds.size() && batch_size > batch_size_bounds[i]) ++i;
  return i;
}

// Waits (bounded, to fail rather than hang) until `predicate` holds.
template <class Predicate>
bool eventually(Predicate predicate) {
  for (int i = 0; i < 60'000; ++i) {
    if (predicate()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return predicate();
}

class writer_fixture : public ::testing::Test {
 protected:
  test_command& make(test_command_options options = {}) {
    if (!options.is_committed) {
      options.is_committed = [this](std::uint64_t seq) {
        return store.committed_value(table::log, be64_key(seq)).has_value();
      };
    }
    return commands.emplace_back(done, clock, std::move(options));
  }
  test_command& make_payload(std::string payload) {
    test_command_options o;
    o.payload = std::move(payload);
    return make(std::move(o));
  }
  void expect_log_holds(const std::vector<std::pair<std::uint64_t, std::string>>& expected) {
    const auto log = store.committed(table::log);
    ASSERT_EQ(log.size(), expected.size());
    auto it = log.begin();
    for (const auto& [seq, payload] : expected) {
      EXPECT_EQ(be64_value(it->first), seq);
      decoded_record rec;
      ASSERT_EQ(decode_record(it->second, rec), decode_errc::ok);
      EXPECT_EQ(rec.type, record_type::log_workspace_created);
      EXPECT_EQ(rec.payload, payload);
      ++it;
    }
  }
  void TearDown() override { EXPECT_EQ(store.protocol_violations(), 0u); }

  fake_store store;
  completion_counter done;
  event_clock clock;
  std::deque<test_command> commands;  // stable addresses
};

inline void submit_all(writer& w, std::initializer_list<test_command*> list) {
  for (test_command* c : list) ASSERT_EQ(w.submit(c), errc::ok);
}

inline void expect_failed(const test_command& c, outcome expected) {
  EXPECT_EQ(c.result, expected);
  EXPECT_EQ(c.complete_calls, 1);
  EXPECT_EQ(c.publish_calls, 0);
}

}  // namespace testing
}  // namespace warrant::storage

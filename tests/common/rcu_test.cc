// tests/common/rcu_test.cc: engine/common/rcu.h — a retired value is freed only after every
// running reader has started a new loop turn since it was retired.
#include "engine/common/rcu.h"

#include <gtest/gtest.h>

namespace warrant::engine {
namespace {

struct counted {
  explicit counted(int& destroyed) : _destroyed(destroyed) {}
  ~counted() { ++_destroyed; }
  int& _destroyed;
};

TEST(rcu_cell, RetiredValuesWaitForAReaderThatHasNotMovedOn) {
  int destroyed = 0;
  rcu_cell<counted> cell(std::make_unique<counted>(destroyed));
  reader_turn reader{7, true};
  cell.set_sampler([&reader](std::vector<reader_turn>& out) {
    out.clear();
    out.push_back(reader);
  });
  // The reader is stuck in one turn (it may hold any of these): nothing may be freed, however
  // many times the writer publishes and reclaims. (Regression: the first kept entry used to be
  // moved onto itself, which emptied its record of the readers and freed it at the next pass.)
  for (int i = 0; i < 4; ++i) {
    cell.publish(std::make_unique<counted>(destroyed));
    cell.reclaim();
  }
  EXPECT_EQ(destroyed, 0);
  EXPECT_EQ(cell.retired_count(), 4u);
  reader.turns = 8;  // a new turn: everything retired before it is free
  cell.reclaim();
  EXPECT_EQ(destroyed, 4);
  EXPECT_EQ(cell.retired_count(), 0u);
}

TEST(rcu_cell, AStoppedReaderHoldsNothing) {
  int destroyed = 0;
  rcu_cell<counted> cell(std::make_unique<counted>(destroyed));
  reader_turn reader{3, true};
  cell.set_sampler([&reader](std::vector<reader_turn>& out) { out.assign(1, reader); });
  cell.publish(std::make_unique<counted>(destroyed));
  EXPECT_EQ(destroyed, 0);
  reader.running = false;
  cell.reclaim();
  EXPECT_EQ(destroyed, 1);
}

TEST(rcu_cell, WithoutReadersRetiredValuesAreFreedAtOnce) {
  int destroyed = 0;
  rcu_cell<counted> cell(std::make_unique<counted>(destroyed));
  cell.publish(std::make_unique<counted>(destroyed));
  EXPECT_EQ(destroyed, 1);
}

// warrantd's shards start a moment before the sampler is installed: a held cell keeps what it
// retires until then, and the first sample afterwards is the baseline those values wait on.
TEST(rcu_cell, AHeldCellKeepsRetiredValuesUntilTheSamplerVouches) {
  int destroyed = 0;
  rcu_cell<counted> cell(std::make_unique<counted>(destroyed));
  cell.hold_until_sampler();
  cell.publish(std::make_unique<counted>(destroyed));
  cell.publish(std::make_unique<counted>(destroyed));
  cell.reclaim();
  EXPECT_EQ(destroyed, 0);  // no sampler yet: a reader may exist that nobody can see
  reader_turn reader{5, true};
  cell.set_sampler([&reader](std::vector<reader_turn>& out) { out.assign(1, reader); });
  cell.reclaim();  // takes the baseline (turn 5): the reader may still hold them
  EXPECT_EQ(destroyed, 0);
  cell.reclaim();
  EXPECT_EQ(destroyed, 0);
  reader.turns = 6;
  cell.reclaim();
  EXPECT_EQ(destroyed, 2);
  EXPECT_EQ(cell.retired_count(), 0u);
}

}  // namespace
}  // namespace warrant::engine

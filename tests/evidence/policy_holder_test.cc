// engine/evidence/policy_holder.*: the policy in force, its atomic reload from text and from
// a file, a bad file keeping the old policy with a line-precise error, the per-shard cache,
// and the reload worker.
#include "engine/evidence/policy_holder.h"

#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <future>
#include <thread>

#include "engine/evidence/default_policy.h"
#include "tests/storage/temp_dir.h"

namespace warrant::engine::evidence {
namespace {

std::string small_policy(std::string_view version, std::string_view action = "a.one") {
  return "version: " + std::string(version) + R"(
tiers:
  tier1: {count: 10, ageDays: 14}
  tier2: {count: 50, ageDays: 30, partners: 2}
  tier3: {count: 200, ageDays: 90, partners: 3}
actions:
  - {action: )" + std::string(action) + R"(, risk: low, allowTier: 0}
)";
}

void write_file(const std::string& path, const std::string& text) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f << text;
}

TEST(PolicyHolder, StartsWithTheEmbeddedDefaultsWithoutAFile) {
  policy_holder h{std::string()};
  EXPECT_EQ(h.current()->version(), "evidence-defaults-1");
  EXPECT_EQ(&h.on_shard(0), h.current().get());
  const policy_reload_result r = h.reload();
  EXPECT_TRUE(r.ok);
  EXPECT_EQ(r.source, "embedded");
  EXPECT_EQ(r.version, "evidence-defaults-1");
}

TEST(PolicyHolder, ReloadFromTextSwapsAndEveryShardSeesTheNewPolicy) {
  policy_holder h(default_policy());
  const policy& before0 = h.on_shard(0);
  const std::uint64_t g = h.generation();
  const policy_reload_result r = h.reload_text(small_policy("v2"), "test");
  ASSERT_TRUE(r.ok) << r.error.to_string();
  EXPECT_EQ(r.previous_version, "evidence-defaults-1");
  EXPECT_EQ(r.version, "v2");
  EXPECT_GT(h.generation(), g);
  EXPECT_EQ(before0.version(), "evidence-defaults-1");  // still alive: the shard's cache holds it
  EXPECT_EQ(h.on_shard(0).version(), "v2");
  EXPECT_EQ(h.on_shard(7).version(), "v2");
  EXPECT_NE(h.on_shard(0).find_action("a.one"), nullptr);
}

TEST(PolicyHolder, ABadPolicyKeepsTheOldOneAndNamesTheLine) {
  policy_holder h(default_policy());
  const std::uint64_t g = h.generation();
  std::string bad = small_policy("v3");
  bad += "  - {action: a.two, risk: extreme, allowTier: 0}\n";  // line 8
  const policy_reload_result r = h.reload_text(bad, "test");
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.version, "evidence-defaults-1");
  EXPECT_EQ(r.error.line, 8) << r.error.to_string();
  EXPECT_NE(r.error.to_string().find("line 8"), std::string::npos);
  EXPECT_EQ(h.generation(), g);
  EXPECT_EQ(h.on_shard(0).version(), "evidence-defaults-1");
}

TEST(PolicyHolder, ReloadReadsTheFileAgain) {
  storage::testing::temp_dir dir;
  const std::string path = dir.sub("policy.yaml");
  write_file(path, small_policy("file-1"));
  policy_holder h(path);
  EXPECT_EQ(h.current()->version(), "file-1");
  write_file(path, small_policy("file-2"));
  policy_reload_result r = h.reload();
  ASSERT_TRUE(r.ok) << r.error.to_string();
  EXPECT_EQ(r.version, "file-2");
  EXPECT_EQ(r.source, path);
  write_file(path, "version: x\ntiers: [\n");
  r = h.reload();
  EXPECT_FALSE(r.ok);
  EXPECT_GT(r.error.line, 0);
  EXPECT_EQ(h.current()->version(), "file-2");
  std::filesystem::remove(path);
  r = h.reload();
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(h.current()->version(), "file-2");
}

TEST(PolicyHolder, ABadFileAtStartUpThrowsWithTheLine) {
  storage::testing::temp_dir dir;
  const std::string path = dir.sub("policy.yaml");
  write_file(path, "version: x\ntiers: {}\n");
  try {
    policy_holder h(path);
    FAIL() << "a bad file must not load";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("line"), std::string::npos) << e.what();
  }
}

TEST(PolicyHolder, ReadersOnShardsRaceReloadsSafely) {
  policy_holder h(default_policy());
  std::atomic<bool> stop{false};
  std::vector<std::thread> readers;
  for (std::size_t shard = 0; shard < 3; ++shard) {
    readers.emplace_back([&h, &stop, shard] {
      while (!stop.load()) {
        const policy& p = h.on_shard(shard);
        ASSERT_FALSE(p.version().empty());
        ASSERT_FALSE(p.actions().empty());
      }
    });
  }
  for (int i = 0; i < 200; ++i) ASSERT_TRUE(h.reload_text(small_policy("race-" + std::to_string(i)), "t").ok);
  stop = true;
  for (auto& t : readers) t.join();
  EXPECT_EQ(h.on_shard(0).version(), "race-199");
}

TEST(PolicyReloader, RunsTheReloadOffTheCallersThreadAndReportsIt) {
  policy_holder h(default_policy());
  policy_reloader worker(h);
  std::promise<policy_reload_result> done;
  struct ctx {
    std::promise<policy_reload_result>* p;
    std::thread::id caller;
    bool other_thread = false;
  } c{&done, std::this_thread::get_id()};
  ASSERT_TRUE(worker.request(
      [](void* arg, const policy_reload_result& r) {
        auto* x = static_cast<ctx*>(arg);
        x->other_thread = std::this_thread::get_id() != x->caller;
        x->p->set_value(r);
      },
      &c));
  const policy_reload_result r = done.get_future().get();
  EXPECT_TRUE(r.ok);
  EXPECT_TRUE(c.other_thread);
  worker.stop();
  EXPECT_FALSE(worker.request([](void*, const policy_reload_result&) {}, nullptr)) << "refused after stop";
}

}  // namespace
}  // namespace warrant::engine::evidence

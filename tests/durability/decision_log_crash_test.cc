// The decision log across a kill -9 (spec/evidence.md "Decision log"). The writer commits a
// batch of decisions lazily (storage/writer.h: one flush; the meta page reaches the disk with
// the next flush), which a crash of the machine may undo but a crash of the process may not:
// the page cache outlives warrantd. So every decision that GET /v1/policy/decisions/{id}
// served before a SIGKILL is served again, byte for byte, after the restart.
//
// Each cycle, on one data directory: start warrantd --shards 1, make `decisions_per_cycle`
// evaluations, wait until the log serves each of them, SIGKILL the server at once (no drain,
// no closing sync), restart and read every decision of every cycle so far.
#include <gtest/gtest.h>

#include <chrono>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "tests/admin/server_harness.h"
#include "tests/durability/crash_checks.h"

namespace warrant::test {
namespace {

constexpr int cycles = 3;
constexpr int decisions_per_cycle = 60;
constexpr std::chrono::seconds served_within{20};

struct logged_decision {
  std::string id;
  std::string body;
};

TEST(DecisionLogCrash, KillNineKeepsEveryDecisionTheLogServed) {
  temp_dir dir("warrant-decision-crash");
  const std::string data = dir.path() + "/data";
  std::vector<logged_decision> logged;
  std::string admin_key;
  for (int cycle = 0; cycle < cycles; ++cycle) {
    SCOPED_TRACE("cycle " + std::to_string(cycle));
    warrantd_process server(data, 1, dir.path() + "/run" + std::to_string(cycle) + ".stderr");
    if (admin_key.empty()) admin_key = read_bootstrap_admin_key(data);
    const header_list h{{"x-api-key", admin_key}, {"Content-Type", "application/json"}};
    http_client c(server.port());

    // Every decision of earlier cycles survived the kill that ended its cycle.
    for (const logged_decision& d : logged) {
      const auto r = c.request("GET", "/v1/policy/decisions/" + d.id, {}, h);
      ASSERT_TRUE(r);
      ASSERT_EQ(r->status, 200) << d.id << " was served before the kill";
      EXPECT_EQ(r->body, d.body);
    }

    const std::size_t first = logged.size();
    for (int i = 0; i < decisions_per_cycle; ++i) {
      const std::string body = R"({"actor":{"type":"human","id":"u-)" + std::to_string(cycle * 1000 + i) +
                               R"("},"action":")" + (i % 2 == 0 ? "account.login" : "data.export_pii") + R"("})";
      const auto r = c.request("POST", "/v1/policy/evaluate", body, h);
      ASSERT_TRUE(r);
      ASSERT_EQ(r->status, 200) << r->body;
      logged.push_back({body_json(*r)["decision_correlation_id"].string, r->body});
      ASSERT_EQ(logged.back().id.size(), 36u) << r->body;
    }
    // Wait until the log serves this cycle's decisions: they are committed, lazily.
    const auto deadline = std::chrono::steady_clock::now() + served_within;
    for (std::size_t i = first; i < logged.size(); ++i) {
      std::optional<http_response> r;
      while ((r = c.request("GET", "/v1/policy/decisions/" + logged[i].id, {}, h)) && r->status == 404 &&
             std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
      }
      ASSERT_TRUE(r);
      ASSERT_EQ(r->status, 200) << "not served within " << served_within.count() << " s";
      ASSERT_EQ(r->body, logged[i].body);
    }
    server.kill9();
  }

  warrantd_process server(data, 1, dir.path() + "/final.stderr");
  http_client c(server.port());
  const header_list h{{"x-api-key", admin_key}};
  for (const logged_decision& d : logged) {
    const auto r = c.request("GET", "/v1/policy/decisions/" + d.id, {}, h);
    ASSERT_TRUE(r);
    ASSERT_EQ(r->status, 200) << d.id;
    EXPECT_EQ(r->body, d.body);
  }
  std::vector<std::string> errors;
  EXPECT_EQ(server.stop(), 0) << server.stderr_text();
  check_offline(data + "/db", errors);  // the tables equal a replay of the log
  for (const std::string& e : errors) ADD_FAILURE() << e;
}

}  // namespace
}  // namespace warrant::test

// The admin API across restarts and when storage refuses: a clean restart keeps everything and
// bootstraps nothing new; a full map or a full writer queue answers 503 and writes nothing.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <atomic>
#include <map>
#include <mutex>
#include <thread>

#include "tests/admin/admin_fixture.h"

namespace warrant::test {
namespace {

using AdminRestart = admin_fixture;

const std::string ws_path = "/v1/admin/workspaces";

// Every workspace, newest first, through the paged list.
std::vector<json> all_workspaces(admin_fixture& f, std::string_view key) {
  std::vector<json> out;
  std::string cursor;
  while (true) {
    const http_response r =
        f.call("GET", ws_path + "?limit=500" + (cursor.empty() ? "" : "&cursor=" + cursor), {}, key);
    if (r.status != 200) throw std::runtime_error("list: " + r.body);
    const json page = body_json(r);
    for (const json& w : page["workspaces"].items) out.push_back(w);
    if (page["next_cursor"].is_null()) return out;
    cursor = page["next_cursor"].string;
  }
}

std::map<std::string, int> name_counts(const std::vector<json>& workspaces) {
  std::map<std::string, int> out;
  for (const json& w : workspaces) ++out[w["name"].string];
  return out;
}

// Every answer a client sees about the tenancy state, as raw bodies.
std::vector<std::string> observe(admin_fixture& f, const std::vector<std::string>& ids) {
  std::vector<std::string> out = {f.admin("GET", ws_path + "?limit=500").body};
  for (const std::string& id : ids) {
    out.push_back(f.admin("GET", ws_path + "/" + id).body);
    out.push_back(f.admin("GET", ws_path + "/" + id + "/keys").body);
  }
  return out;
}

TEST_F(AdminRestart, RestartKeepsEverythingAndBootstrapsNothing) {
  std::vector<std::string> ids = {"default"};
  const std::string second_admin = new_default_key(R"(["platform.admin"])");
  std::string revoked_secret;
  for (int i = 0; i < 4; ++i) {
    const std::string n = std::to_string(i);
    const http_response r = admin("POST", ws_path, R"({"name":"w)" + n + R"(","identity_namespace":"ns)" + n + R"("})");
    ASSERT_EQ(r.status, 201) << r.body;
    ids.push_back(body_json(r)["id"].string);
  }
  ASSERT_EQ(ids.size(), 5u);
  for (std::size_t i = 1; i < ids.size(); ++i) {
    const json k1 = create_key(ids[i], R"(["platform.viewer"])", R"("name":"k1")");
    create_key(ids[i], R"(["governance.approver","platform.admin"])",
               R"("expires_at":)" + json_quote(rfc3339_ms(now_unix_ms() + 3'600'000)));
    if (i % 2 == 1) {
      ASSERT_EQ(admin("POST", ws_path + "/" + ids[i] + "/keys/" + k1["id"].string + "/revoke").status, 200);
    }
    ASSERT_EQ(
        admin("PUT", ws_path + "/" + ids[i] + "/limits", R"({"requests_per_minute":)" + std::to_string(100 * i) + "}")
            .status,
        200);
  }
  const json revoked_admin = create_key("default", R"(["platform.admin"])");
  revoked_secret = revoked_admin["key"].string;
  ASSERT_EQ(admin("POST", ws_path + "/default/keys/" + revoked_admin["id"].string + "/revoke").status, 200);

  const std::vector<std::string> before = observe(*this, ids);
  struct stat key_file_before {};
  ASSERT_EQ(::stat((data_dir() + "/bootstrap-admin-key").c_str(), &key_file_before), 0);
  const std::string bootstrap_key = admin_key();

  for (int restart = 0; restart < 2; ++restart) {
    stop();
    start();
    EXPECT_EQ(admin_key(), bootstrap_key) << "the key file is not rewritten";
    struct stat key_file_after {};
    ASSERT_EQ(::stat((data_dir() + "/bootstrap-admin-key").c_str(), &key_file_after), 0);
    EXPECT_EQ(key_file_after.st_ino, key_file_before.st_ino);
    EXPECT_EQ(key_file_after.st_mtim.tv_sec, key_file_before.st_mtim.tv_sec);
    EXPECT_EQ(key_file_after.st_mtim.tv_nsec, key_file_before.st_mtim.tv_nsec);
    const std::string log = server().stderr_text();
    EXPECT_EQ(log.find("created workspace 'default'"), std::string::npos) << log;
    EXPECT_NE(log.find("recovered 5 workspaces and 11 keys"), std::string::npos) << log;

    EXPECT_EQ(observe(*this, ids), before);
    std::size_t bootstrap_keys = 0;
    const json default_keys = body_json(admin("GET", ws_path + "/default/keys"));
    for (const json& k : default_keys["keys"].items) {
      bootstrap_keys += k["name"].string == "bootstrap-admin";
    }
    EXPECT_EQ(bootstrap_keys, 1u);
    EXPECT_EQ(call("GET", ws_path, {}, second_admin).status, 200);
    EXPECT_TRUE(is_error(call("GET", ws_path, {}, revoked_secret), 401, "UNAUTHORIZED"));
  }
}

TEST_F(AdminRestart, FullMapIs503StorageFullAndWritesNothing) {
  stop();
  start({"--map-size-mb", "1"});
  const http_response ready_before = call("GET", "/readyz");
  ASSERT_EQ(ready_before.status, 200) << ready_before.body;
  EXPECT_EQ(body_json(ready_before)["checks"]["storage"].string, "ok");
  EXPECT_EQ(body_json(ready_before)["checks"]["writer"].string, "ok");
  std::vector<std::string> acknowledged;
  std::string refused;
  const std::string filler(200, 'f');
  for (int i = 0; i < 20000 && refused.empty(); ++i) {
    const std::string name = "full-" + std::to_string(i) + "-" + filler;
    const http_response r = admin("POST", ws_path, R"({"name":)" + json_quote(name) + "}");
    if (r.status == 201) {
      acknowledged.push_back(name);
      continue;
    }
    ASSERT_TRUE(is_error(r, 503, "STORAGE_FULL")) << r.body;
    EXPECT_EQ(r.header("retry-after"), "1");
    refused = name;
    // Right after the failed commit (the writer probes only after 500 ms idle).
    const http_response ready = call("GET", "/readyz");
    EXPECT_EQ(ready.status, 503) << ready.body;
    EXPECT_NE(body_json(ready)["checks"]["writer"].string, "ok") << ready.body;
    EXPECT_EQ(body_json(ready)["checks"]["storage"].string, "ok") << ready.body;
  }
  ASSERT_FALSE(refused.empty()) << "a 1 MiB map never filled";
  ASSERT_GT(acknowledged.size(), 10u);
  std::printf("map full after %zu acknowledged workspaces\n", acknowledged.size());

  // Reads still work; every acknowledged write is there once; the refused one is not.
  auto counts = name_counts(all_workspaces(*this, admin_key()));
  for (const std::string& n : acknowledged) EXPECT_EQ(counts[n], 1) << n.substr(0, 12);
  EXPECT_EQ(counts.count(refused), 0u);

  // With room again, after a restart: the same, and writes succeed.
  stop();
  start({"--map-size-mb", "64"});
  counts = name_counts(all_workspaces(*this, admin_key()));
  for (const std::string& n : acknowledged) EXPECT_EQ(counts[n], 1) << n.substr(0, 12);
  EXPECT_EQ(counts.count(refused), 0u);
  EXPECT_EQ(call("GET", "/readyz").status, 200);
  EXPECT_EQ(admin("POST", ws_path, R"({"name":"after"})").status, 201);
}

TEST_F(AdminRestart, FullWriterQueueIs503OverloadedAndWritesNothing) {
  stop();
  start({"--writer-queue-max", "1"});
  constexpr int threads = 16;
  std::mutex mu;
  std::map<std::string, int> status_by_name;
  std::atomic<int> overloaded{0};
  std::atomic<bool> wire_failure{false};
  for (int round = 0; round < 10 && overloaded.load() == 0; ++round) {
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; ++t) {
      pool.emplace_back([&, t, round] {
        http_client c(port());
        for (int i = 0; i < 40; ++i) {
          const std::string name = "o-" + std::to_string(round) + "-" + std::to_string(t) + "-" + std::to_string(i);
          auto r = c.request("POST", ws_path, R"({"name":)" + json_quote(name) + "}",
                             {{"x-api-key", admin_key()}, {"Content-Type", "application/json"}});
          if (!r) {
            wire_failure = true;
            return;
          }
          if (r->status == 503) {
            ++overloaded;
            if (!is_error(r, 503, "OVERLOADED") || r->header("retry-after") != "1") wire_failure = true;
          }
          std::lock_guard lock(mu);
          status_by_name[name] = r->status;
        }
      });
    }
    for (auto& th : pool) th.join();
  }
  EXPECT_FALSE(wire_failure.load());
  EXPECT_GT(overloaded.load(), 0) << "a queue of one never overflowed under 16 writers";
  std::printf("%d of %zu creates refused with OVERLOADED\n", overloaded.load(), status_by_name.size());
  const auto counts = name_counts(all_workspaces(*this, admin_key()));
  for (const auto& [name, status] : status_by_name) {
    if (status == 201) {
      EXPECT_EQ(counts.count(name) ? counts.at(name) : 0, 1) << name;
    } else {
      EXPECT_EQ(status, 503) << name;
      EXPECT_EQ(counts.count(name), 0u) << name;
    }
  }
}

}  // namespace
}  // namespace warrant::test

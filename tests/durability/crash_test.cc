// The kill -9 crash test (spec/common.md "Durability"): a crash at any instant loses no
// acknowledged write and leaves no half-write.
//
// One data directory, many cycles; state accumulates. Each cycle:
//   1. start warrantd --shards 2; 8 clients write as fast as answers come (crash_workload.h);
//   2. SIGKILL it 50–400 ms after the clients started (every third cycle: SIGTERM first, so
//      that the kill lands in the graceful drain);
//   3. in-process, on the crashed directory: the environment opens, the materialised tables
//      equal a replay of the log, the log is dense (crash_checks.h);
//   4. restart: it starts (nothing bootstrapped again), and its full listing holds every
//      acknowledged write exactly once, plus at most the unanswered ones (crash_model.h);
//   5. SIGTERM (exit 0); in-process again: the same checks, the state equals the crashed one,
//      and what the API listed equals what is stored.
// WARRANT_CRASH_CYCLES (default 30; 20 in sanitizer builds) and WARRANT_CRASH_SEED (default
// random, printed) repeat or reproduce a run. No timing assertions.
#include <gtest/gtest.h>
#include <signal.h>

#include <cstdio>
#include <cstdlib>
#include <random>
#include <thread>

#include "tests/durability/crash_checks.h"
#include "tests/durability/crash_workload.h"

namespace warrant::test {
namespace {

constexpr int client_threads = 8;
#ifdef WARRANT_SANITIZE
constexpr std::uint64_t default_cycles = 20;  // the sanitized server is 2-3x slower
#else
constexpr std::uint64_t default_cycles = 30;
#endif
constexpr int kill_after_ms_min = 50;
constexpr int kill_after_ms_max = 400;

// Every third cycle the kill lands in the graceful drain (SIGTERM, then SIGKILL 0–30 ms
// later): what the drain acknowledged must be durable too.
bool kill_during_drain(int cycle) { return cycle % 3 == 0; }

std::uint64_t env_number(const char* name, std::uint64_t fallback) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? std::strtoull(v, nullptr, 10) : fallback;
}

// The clients all use the admin key of workspace `default`, and the checks list every
// workspace's keys: far more than the default 2000 requests per minute. This test is about
// durability, so it raises the limit of `default` to the maximum (stored, so every restart
// keeps it) before the model takes the initial state.
void lift_rate_limit(std::uint16_t port, const std::string& admin_key) {
  http_client c(port);
  const auto r = c.request("PUT", "/v1/admin/workspaces/default/limits", R"({"requests_per_minute":10000000})",
                           {{"x-api-key", admin_key}, {"Content-Type", "application/json"}});
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
}

// The state before any client wrote: workspace `default` and its bootstrap key.
void adopt_initial(model& m, const api_dump& dump) {
  for (const json& w : dump.workspaces) m.workspaces[w["id"].string] = workspace_model{w, -1, {}};
  for (const auto& [ws, keys] : dump.keys_by_workspace) {
    for (const json& k : keys) m.keys[k["id"].string] = key_model{k, false};
  }
}

std::string kinds(const merge_counts& c) {
  auto n = [&](op_kind k) { return c.acknowledged_by_kind.count(k) ? c.acknowledged_by_kind.at(k) : 0; };
  return std::to_string(n(op_kind::create_workspace)) + " workspaces, " + std::to_string(n(op_kind::create_key)) +
         " keys, " + std::to_string(n(op_kind::revoke_key)) + " revocations, " +
         std::to_string(n(op_kind::set_limits)) + " limits";
}

// Reports and clears the violations found so far.
void fail_on(std::vector<std::string>& errors, int cycle, std::uint64_t seed) {
  if (errors.empty()) return;
  std::string text;
  for (std::size_t i = 0; i < errors.size() && i < 30; ++i) text += "  " + errors[i] + "\n";
  const std::size_t count = errors.size();
  errors.clear();
  FAIL() << count << " violation(s) in cycle " << cycle << " (WARRANT_CRASH_SEED=" << seed << "):\n" << text;
}

// One data directory across cycles, and what the clients were told so far.
class crash_run {
 public:
  explicit crash_run(std::uint64_t seed) : _seed(seed), _rng(seed) {}

  // Steps 1–2: load, kill, and fold the clients' logs into the model.
  merge_counts load_and_kill(int cycle, std::vector<std::string>& errors);
  // Steps 4–5 (step 3 is `check_offline`): restart, list, check, stop.
  check_counts restart_and_verify(int cycle, api_dump& dump, std::vector<std::string>& errors);

  std::string db() const { return _data + "/db"; }
  std::uint64_t seed() const { return _seed; }
  int kill_after_ms() const { return _kill_after_ms; }

 private:
  std::string stderr_path(int cycle, std::string_view phase) const {
    return _dir.path() + "/cycle-" + std::to_string(cycle) + "-" + std::string(phase) + ".stderr";
  }

  std::uint64_t _seed;
  std::mt19937_64 _rng;
  temp_dir _dir{"warrant-crash"};
  std::string _data = _dir.path() + "/data";
  model _model;
  std::string _admin_key;
  std::string _key_file;
  int _kill_after_ms = 0;
};

merge_counts crash_run::load_and_kill(int cycle, std::vector<std::string>& errors) {
  _kill_after_ms = kill_after_ms_min + static_cast<int>(_rng() % (kill_after_ms_max - kill_after_ms_min + 1));
  std::vector<client_log> logs;
  std::chrono::steady_clock::time_point kill_sent;
  {
    warrantd_process server(_data, 2, stderr_path(cycle, "load"));
    if (cycle == 1) {
      _key_file = read_file(_data + "/bootstrap-admin-key");
      _admin_key = _key_file.substr(0, _key_file.find('\n'));
      lift_rate_limit(server.port(), _admin_key);
      adopt_initial(_model, fetch_dump(server.port(), _admin_key));
    }
    workload load(_model, {server.port(), _admin_key, cycle, client_threads, _rng()});
    load.start();
    std::this_thread::sleep_for(milliseconds(_kill_after_ms));
    kill_sent = std::chrono::steady_clock::now();
    if (kill_during_drain(cycle)) {
      server.signal(SIGTERM);
      std::this_thread::sleep_for(milliseconds(_rng() % 31));
    }
    server.kill9();
    logs = load.join();
  }
  // A live server never drops a connection that sent a well-formed request.
  for (const client_log& log : logs) {
    for (const op_record& op : log.ops) {
      if (!op.acknowledged && op.failed_at != std::chrono::steady_clock::time_point{} && op.failed_at < kill_sent) {
        errors.push_back("a connection failed before the kill (" + op.name + op.key_id + op.workspace_id + ")");
      }
    }
  }
  return merge(_model, logs, errors);
}

check_counts crash_run::restart_and_verify(int cycle, api_dump& dump, std::vector<std::string>& errors) {
  warrantd_process server(_data, 2, stderr_path(cycle, "verify"));
  const std::string log = server.stderr_text();
  EXPECT_NE(log.find("warrantd: recovered "), std::string::npos) << log;
  EXPECT_EQ(log.find("created workspace 'default'"), std::string::npos) << "bootstrapped again:\n" << log;
  EXPECT_EQ(read_file(_data + "/bootstrap-admin-key"), _key_file);
  dump = fetch_dump(server.port(), _admin_key);
  const check_counts checked = check_and_adopt(_model, dump, errors);
  check_gets(server.port(), _admin_key, dump, "-c" + std::to_string(cycle) + "-", errors);
  EXPECT_EQ(server.stop(), 0) << server.stderr_text();
  EXPECT_FALSE(server.sanitizer_reported()) << server.stderr_text();
  return checked;
}

TEST(CrashTest, KillNineUnderWriteLoadLosesNoAcknowledgedWrite) {
  const int cycles = static_cast<int>(env_number("WARRANT_CRASH_CYCLES", default_cycles));
  crash_run run(env_number("WARRANT_CRASH_SEED", std::random_device{}()));
  std::printf("crash test: %d cycles, %d clients, WARRANT_CRASH_SEED=%llu\n", cycles, client_threads,
              static_cast<unsigned long long>(run.seed()));
  std::size_t total_acknowledged = 0;
  std::size_t total_unanswered_present = 0;
  for (int cycle = 1; cycle <= cycles; ++cycle) {
    std::vector<std::string> errors;
    const merge_counts merged = run.load_and_kill(cycle, errors);
    const offline_state crashed = check_offline(run.db(), errors);
    fail_on(errors, cycle, run.seed());
    api_dump dump;
    const check_counts checked = run.restart_and_verify(cycle, dump, errors);
    const offline_state stopped = check_offline(run.db(), errors);
    if (std::string d = engine::compare_snapshots(crashed.snapshot, stopped.snapshot); !d.empty()) {
      errors.push_back("the restart changed the state: " + d);
    }
    if (stopped.replayed.records != crashed.replayed.records) errors.push_back("the restart wrote to the log");
    compare_dump_with_snapshot(dump, stopped.snapshot, errors);
    total_acknowledged += merged.acknowledged;
    total_unanswered_present += checked.unanswered_creates_present;
    std::printf(
        "cycle %2d: %s after %3d ms; acknowledged %4zu writes (%s), unanswered %zu "
        "(present after restart: %zu creates, %zu updates); log %llu records; %zu workspaces, %zu keys\n",
        cycle, kill_during_drain(cycle) ? "SIGTERM+SIGKILL" : "SIGKILL", run.kill_after_ms(), merged.acknowledged,
        kinds(merged).c_str(), merged.unacknowledged, checked.unanswered_creates_present,
        checked.unanswered_updates_applied, static_cast<unsigned long long>(stopped.replayed.records),
        dump.workspaces.size(), dump.key_count);
    std::fflush(stdout);
    fail_on(errors, cycle, run.seed());
    if (::testing::Test::HasFailure()) return;
  }
  std::printf(
      "crash test: %zu acknowledged writes over %d kill -9 cycles, none lost; %zu unanswered creates "
      "turned out committed\n",
      total_acknowledged, cycles, total_unanswered_present);
  EXPECT_GT(total_acknowledged, static_cast<std::size_t>(cycles)) << "the clients barely wrote anything";
}

}  // namespace
}  // namespace warrant::test

// tests/durability/crash_workload.h: the crash test's writers.
//
// `workload` runs N client threads against one server, each on its own keep-alive connection,
// writing as fast as answers come: create workspaces (35%), create keys in its own workspaces
// (35%), revoke its own unrevoked keys (15%), set limits on its own workspaces (15%). Every
// write is logged with its outcome (`op_record`): a 2xx answer is an acknowledgement; a failed
// connection leaves the write unanswered, after which the thread reconnects or, when the
// server is gone, stops. Names and limit values are unique, so an unanswered write can be
// recognised if it turns up after the restart.
//
// Threading: construct, `start` and `join` from the test thread; each client thread touches
// only its own slot until `join` returns.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>
#include <thread>
#include <vector>

#include "tests/durability/crash_model.h"

namespace warrant::test {

struct workload_options {
  std::uint16_t port = 0;
  std::string admin_key;
  int cycle = 0;
  int threads = 8;
  std::uint64_t seed = 0;
};

class workload {
 public:
  // Hands each thread the workspaces and unrevoked keys it owns in `m`.
  workload(const model& m, workload_options options);
  ~workload();
  workload(const workload&) = delete;
  workload& operator=(const workload&) = delete;

  void start();
  // Waits until every thread has lost the server (a thread also stops by itself after
  // `run_ms_max`, so a server that is never killed cannot hang the test), and hands back their
  // logs, index = owner thread.
  std::vector<client_log> join();
  static constexpr std::int64_t run_ms_max = 60'000;
  // Writes answered 2xx so far, all threads together.
  std::size_t acknowledged() const { return _acknowledged.load(std::memory_order_relaxed); }

 private:
  struct slot {
    std::vector<std::string> workspaces;                         // owned ids
    std::vector<std::pair<std::string, std::string>> live_keys;  // owned (workspace id, key id), unrevoked
    client_log log;
  };
  void run(int index);

  workload_options _options;
  std::vector<slot> _slots;
  std::vector<std::thread> _threads;
  std::chrono::steady_clock::time_point _deadline;
  std::atomic<std::size_t> _acknowledged{0};
};

}  // namespace warrant::test

// engine/evidence/policy_holder.h: the policy in force, swapped atomically on reload.
//
// What it is for: every evaluation reads the current policy; SIGHUP (tools/warrantd.cc) and
// `POST /v1/admin/policy/reload` (policy_routes.h) replace it. The policy is immutable
// (policy.h); the holder publishes a new `std::shared_ptr<const policy>` through an
// `std::atomic<std::shared_ptr>`, so an evaluation that started on the old one finishes on it.
//
// Hot path: `on_shard(i)` costs one relaxed-acquire load of a generation counter while the
// policy is unchanged: each shard keeps its own copy of the shared_ptr (one cache line per
// shard, written by that shard alone) and refreshes it from the atomic only after a reload
// bumped the generation. No refcount traffic between shards per request. The reference it
// returns stays valid until the same shard calls `on_shard` again (the next request).
//
// Reload: `reload()` reads the source (the file given at start-up, or the embedded default
// policy when none was), validates it completely (policy_load.h) and swaps only when it is
// valid; otherwise the running policy stays and the result carries the line-precise error.
// File I/O and YAML parsing happen on the calling thread: the main thread (SIGHUP) or the
// reload worker (the admin route), never a shard. Reloads are serialised by a mutex that
// the hot path never takes.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "engine/evidence/policy.h"
#include "engine/evidence/policy_load.h"

namespace warrant::engine::evidence {

inline constexpr std::size_t policy_shards_max = 1024;  // = warrantd's --shards maximum

struct policy_reload_result {
  bool ok = false;
  std::string version;           // in force after the call (the old one on failure)
  std::string previous_version;  // in force before the call
  std::string source;            // the file's path, or "embedded"
  policy_error error;            // when !ok
};

class policy_holder {
 public:
  // `path` empty: the embedded default policy (default_policy.h). Throws std::runtime_error
  // with the line-precise message when the file at `path` does not load (start-up).
  explicit policy_holder(std::string path);
  // A given policy and no file (tests); reload() re-reads the embedded default.
  explicit policy_holder(std::shared_ptr<const policy> initial);
  policy_holder(const policy_holder&) = delete;
  policy_holder& operator=(const policy_holder&) = delete;

  // Any thread.
  std::shared_ptr<const policy> current() const { return _current.load(std::memory_order_acquire); }
  std::uint64_t generation() const { return _generation.load(std::memory_order_acquire); }
  // Shard `shard_index`'s thread only (see above).
  const policy& on_shard(std::size_t shard_index);

  // Any thread except a shard's (it reads a file).
  policy_reload_result reload();
  // The same from text instead of the source (tests, and a future upload route).
  policy_reload_result reload_text(std::string_view text, std::string_view source_name);

  const std::string& source() const { return _path; }

 private:
  policy_reload_result publish(policy_load_result loaded, std::string_view source_name);

  struct alignas(64) shard_cache {
    std::uint64_t generation = 0;  // 0: never loaded
    std::shared_ptr<const policy> held;
  };

  const std::string _path;
  std::atomic<std::shared_ptr<const policy>> _current;
  std::atomic<std::uint64_t> _generation{1};
  std::mutex _reload_mutex;
  std::unique_ptr<shard_cache[]> _caches;
};

// A thread that runs reloads asked for by the admin route, so no shard reads a file or parses
// YAML. `request` queues a job (any thread, bounded: false when `queue_max` jobs wait); the
// worker calls `holder.reload()` and hands the result to the job's `done`, on the worker
// thread (the route posts the answer back to its shard from there).
class policy_reloader {
 public:
  using done_fn = void (*)(void* arg, const policy_reload_result& result);
  static constexpr std::size_t queue_max = 64;

  explicit policy_reloader(policy_holder& holder);
  ~policy_reloader();
  policy_reloader(const policy_reloader&) = delete;
  policy_reloader& operator=(const policy_reloader&) = delete;

  bool request(done_fn done, void* arg);
  // Runs the jobs already queued, then stops the thread. Later requests are refused.
  void stop();

 private:
  void run();

  struct job {
    done_fn done;
    void* arg;
  };
  policy_holder& _holder;
  std::mutex _mutex;
  std::condition_variable _wake;
  std::deque<job> _jobs;
  bool _stopping = false;
  std::thread _thread;
};

}  // namespace warrant::engine::evidence

#include "engine/evidence/policy_holder.h"

#include <cassert>
#include <stdexcept>

#include "engine/evidence/default_policy.h"

namespace warrant::engine::evidence {
namespace {

constexpr std::string_view embedded_source = "embedded";

std::shared_ptr<const policy> load_initial(const std::string& path) {
  if (path.empty()) return default_policy();
  policy_load_result r = load_policy_file(path);
  if (!r.ok()) throw std::runtime_error("the policy file was rejected: " + r.error.to_string());
  return r.loaded;
}

}  // namespace

policy_holder::policy_holder(std::string path)
    : _path(std::move(path)), _current(load_initial(_path)), _caches(std::make_unique<shard_cache[]>(policy_shards_max)) {}

policy_holder::policy_holder(std::shared_ptr<const policy> initial)
    : _current(std::move(initial)), _caches(std::make_unique<shard_cache[]>(policy_shards_max)) {
  assert(current() != nullptr);
}

const policy& policy_holder::on_shard(std::size_t shard_index) {
  assert(shard_index < policy_shards_max);
  shard_cache& c = _caches[shard_index];
  const std::uint64_t g = _generation.load(std::memory_order_acquire);
  if (c.generation != g) {
    // The generation is bumped after the pointer is stored: a shard that sees the new
    // generation loads at least that policy (or a newer one, seen again next time).
    c.held = _current.load(std::memory_order_acquire);
    c.generation = g;
  }
  return *c.held;
}

policy_reload_result policy_holder::reload() {
  if (_path.empty()) return reload_text(default_policy_text, embedded_source);
  std::lock_guard lock(_reload_mutex);
  return publish(load_policy_file(_path), _path);
}

policy_reload_result policy_holder::reload_text(std::string_view text, std::string_view source_name) {
  std::lock_guard lock(_reload_mutex);
  return publish(load_policy(text), source_name);
}

// Caller holds _reload_mutex.
policy_reload_result policy_holder::publish(policy_load_result loaded, std::string_view source_name) {
  policy_reload_result out;
  out.source = std::string(source_name);
  const std::shared_ptr<const policy> before = current();
  out.previous_version = std::string(before->version());
  if (!loaded.ok()) {
    out.version = out.previous_version;
    out.error = std::move(loaded.error);
    return out;
  }
  out.ok = true;
  out.version = std::string(loaded.loaded->version());
  _current.store(std::move(loaded.loaded), std::memory_order_release);
  _generation.fetch_add(1, std::memory_order_acq_rel);
  return out;
}

// ---- the reload worker ------------------------------------------------------------------

policy_reloader::policy_reloader(policy_holder& holder) : _holder(holder), _thread([this] { run(); }) {}

policy_reloader::~policy_reloader() { stop(); }

bool policy_reloader::request(done_fn done, void* arg) {
  {
    std::lock_guard lock(_mutex);
    if (_stopping || _jobs.size() >= queue_max) return false;
    _jobs.push_back({done, arg});
  }
  _wake.notify_one();
  return true;
}

void policy_reloader::stop() {
  {
    std::lock_guard lock(_mutex);
    _stopping = true;
  }
  _wake.notify_one();
  if (_thread.joinable()) _thread.join();
}

void policy_reloader::run() {
  while (true) {
    job j{};
    {
      std::unique_lock lock(_mutex);
      _wake.wait(lock, [this] { return _stopping || !_jobs.empty(); });
      if (_jobs.empty()) return;  // stopping, nothing left
      j = _jobs.front();
      _jobs.pop_front();
    }
    const policy_reload_result r = _holder.reload();
    j.done(j.arg, r);
  }
}

}  // namespace warrant::engine::evidence

// net/server.h: the shards together: listeners, threads, start and graceful stop.
//
// Owned by the main thread. `start` binds the listeners (throwing a clear error for a busy
// or invalid address) and starts one shard thread each; `stop` asks every shard to drain;
// `join` waits for them. The router must be complete before `start` and is never modified
// afterwards.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "net/listener.h"
#include "net/metrics.h"
#include "net/router.h"
#include "net/shard.h"

namespace warrant::net {

struct server_config {
  std::string listen = "127.0.0.1:8080";
  std::size_t shards = 1;
  bool pin = false;
  int backlog = 4096;
  std::int64_t drain_timeout_ms = 10'000;
  shard_config shard;
};

class server {
 public:
  server(const server_config& config, const router& routes, metrics_registry& metrics);
  ~server();
  server(const server&) = delete;
  server& operator=(const server&) = delete;

  void start();
  void stop();
  void join();

  const std::string& address() const { return _listeners.address; }
  std::uint16_t port() const { return _listeners.port; }
  std::size_t shard_count() const { return _shards.size(); }
  shard& shard_at(std::size_t i) { return *_shards[i]; }

 private:
  server_config _config;
  const router& _router;
  metrics_registry& _metrics;
  bound_listeners _listeners;
  std::vector<std::unique_ptr<shard>> _shards;
};

}  // namespace warrant::net

#include "net/server.h"

#include <stdexcept>
#include <thread>

namespace warrant::net {

server::server(const server_config& config, const router& routes, metrics_registry& metrics)
    : _config(config), _router(routes), _metrics(metrics) {}

server::~server() {
  stop();
  join();
}

void server::start() {
  _listeners = open_listeners(parse_listen_address(_config.listen), _config.shards, _config.backlog);
  const unsigned cpus = std::max(1u, std::thread::hardware_concurrency());
  for (std::size_t i = 0; i < _config.shards; ++i) {
    shard_config sc = _config.shard;
    sc.pin_cpu = _config.pin ? static_cast<int>(i % cpus) : -1;
    _shards.push_back(std::make_unique<shard>(i, sc, _router, _metrics.shard(i), _listeners.fds[i]));
  }
  _listeners.fds.clear();  // owned by the shards now
  for (auto& s : _shards) s->start();
  for (auto& s : _shards) {
    if (std::string error = s->wait_started(); !error.empty()) {
      stop();
      join();
      throw std::runtime_error(error);
    }
  }
}

void server::stop() {
  for (auto& s : _shards) s->request_stop(_config.drain_timeout_ms);
}

void server::join() {
  for (auto& s : _shards) s->join();
}

}  // namespace warrant::net

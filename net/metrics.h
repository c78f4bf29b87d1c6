// net/metrics.h: per-shard counters and latency histograms, summed when scraped.
//
// Each shard writes only its own `shard_metrics` (single writer: a relaxed load and store,
// no read-modify-write, no shared cache line between shards); a scrape on any shard reads
// every shard's counters with relaxed loads and adds them up. Other modules (storage writer,
// guard) append their own series through `metrics_registry::add_source` at start-up.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "net/byte_buffer.h"

namespace warrant::net {

class router;

// A counter with one writing thread; any thread may read it.
class counter {
 public:
  void add(std::uint64_t n = 1) { _v.store(_v.load(std::memory_order_relaxed) + n, std::memory_order_relaxed); }
  void set(std::uint64_t v) { _v.store(v, std::memory_order_relaxed); }
  std::uint64_t get() const { return _v.load(std::memory_order_relaxed); }

 private:
  std::atomic<std::uint64_t> _v{0};
};

// Upper bounds (µs) of the latency buckets; a last, implicit bucket is +Inf.
inline constexpr std::array<std::uint64_t, 17> latency_bounds_us = {
    25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000, 500000, 1000000, 2500000, 10000000};
inline constexpr std::size_t latency_bucket_count = latency_bounds_us.size() + 1;

std::size_t latency_bucket(std::uint64_t us);

// Indices of the timeouts a connection can hit.
enum class timeout_kind : std::uint8_t { header, body, idle, send, linger };
inline constexpr std::size_t timeout_kind_count = 5;

struct route_counters {
  std::array<counter, 5> by_class;  // 1xx..5xx
  std::array<counter, latency_bucket_count> latency;  // not cumulative; summed on render
  counter latency_sum_us;
};

struct alignas(64) shard_metrics {
  explicit shard_metrics(std::size_t route_count) : routes(route_count + 1) {}

  // Route ids index `routes`; the last entry counts requests that matched no route.
  route_counters& unmatched() { return routes.back(); }
  void record(std::uint32_t route_id, int status, std::uint64_t latency_us) {
    route_counters& r = routes[route_id];
    const int cls = status / 100;
    r.by_class[static_cast<std::size_t>(cls >= 1 && cls <= 5 ? cls - 1 : 4)].add();
    r.latency[latency_bucket(latency_us)].add();
    r.latency_sum_us.add(latency_us);
  }

  std::vector<route_counters> routes;
  counter connections_open;
  counter connections_accepted;
  counter connections_rejected;
  counter accept_errors;
  std::array<counter, timeout_kind_count> timeouts;
  counter parse_errors;
  counter recv_buffer_exhausted;  // -ENOBUFS from the provided-buffer ring
  counter tasks_run;              // cross-thread tasks executed on this shard
};

class metrics_registry {
 public:
  metrics_registry(const router& routes, std::size_t shard_count);

  shard_metrics& shard(std::size_t i) { return *_shards[i]; }
  std::size_t shard_count() const { return _shards.size(); }

  // Start-up only: another module's series, appended to every scrape.
  void add_source(std::function<void(byte_buffer&)> source) { _sources.push_back(std::move(source)); }

  // Prometheus text exposition format 0.0.4.
  void render(byte_buffer& out) const;

 private:
  const router& _router;
  std::vector<std::unique_ptr<shard_metrics>> _shards;
  std::vector<std::function<void(byte_buffer&)>> _sources;
};

}  // namespace warrant::net

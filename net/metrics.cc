#include "net/metrics.h"

#include <fmt/format.h>

#include "generated/build_info.h"
#include "net/router.h"

namespace warrant::net {
namespace {

void append_fmt(byte_buffer& out, fmt::string_view f, fmt::format_args args) {
  fmt::memory_buffer tmp;
  fmt::vformat_to(std::back_inserter(tmp), f, args);
  out.append(tmp.data(), tmp.size());
}

template <typename... T>
void put(byte_buffer& out, fmt::format_string<T...> f, T&&... args) {
  append_fmt(out, f, fmt::make_format_args(args...));
}

constexpr std::array<const char*, timeout_kind_count> timeout_names = {"header", "body", "idle", "send", "linger"};

}  // namespace

std::size_t latency_bucket(std::uint64_t us) {
  std::size_t i = 0;
  while (i < latency_bounds_us.size() && us > latency_bounds_us[i]) ++i;
  return i;
}

metrics_registry::metrics_registry(const router& routes, std::size_t shard_count) : _router(routes) {
  for (std::size_t i = 0; i < shard_count; ++i) {
    _shards.push_back(std::make_unique<shard_metrics>(routes.routes().size()));
  }
}

void metrics_registry::render(byte_buffer& out) const {
  put(out, "# HELP warrant_build_info Build of this warrantd.\n# TYPE warrant_build_info gauge\n");
  put(out, "warrant_build_info{{version=\"{}\",commit=\"{}\",build_type=\"{}\",compiler=\"{}\"}} 1\n",
      build::version, build::commit, build::build_type, build::compiler);
  put(out, "# HELP warrant_shards Reactor shards (threads) serving HTTP.\n# TYPE warrant_shards gauge\n");
  put(out, "warrant_shards {}\n", _shards.size());

  put(out, "# HELP warrant_connections_open Open client connections per shard.\n"
           "# TYPE warrant_connections_open gauge\n");
  for (std::size_t s = 0; s < _shards.size(); ++s) {
    put(out, "warrant_connections_open{{shard=\"{}\"}} {}\n", s, _shards[s]->connections_open.get());
  }
  auto sum = [this](auto pick) {
    std::uint64_t total = 0;
    for (const auto& s : _shards) total += pick(*s).get();
    return total;
  };
  put(out, "# HELP warrant_connections_accepted_total Connections accepted.\n"
           "# TYPE warrant_connections_accepted_total counter\nwarrant_connections_accepted_total {}\n",
      sum([](shard_metrics& m) -> counter& { return m.connections_accepted; }));
  put(out, "# HELP warrant_connections_rejected_total Connections refused at the per-shard limit.\n"
           "# TYPE warrant_connections_rejected_total counter\nwarrant_connections_rejected_total {}\n",
      sum([](shard_metrics& m) -> counter& { return m.connections_rejected; }));
  put(out, "# HELP warrant_accept_errors_total Failed accepts (e.g. out of file descriptors).\n"
           "# TYPE warrant_accept_errors_total counter\nwarrant_accept_errors_total {}\n",
      sum([](shard_metrics& m) -> counter& { return m.accept_errors; }));
  put(out, "# HELP warrant_http_parse_errors_total Requests refused before routing (400, 413, 414, 431, ...).\n"
           "# TYPE warrant_http_parse_errors_total counter\nwarrant_http_parse_errors_total {}\n",
      sum([](shard_metrics& m) -> counter& { return m.parse_errors; }));
  put(out, "# HELP warrant_recv_buffers_exhausted_total Times the receive buffer ring ran dry.\n"
           "# TYPE warrant_recv_buffers_exhausted_total counter\nwarrant_recv_buffers_exhausted_total {}\n",
      sum([](shard_metrics& m) -> counter& { return m.recv_buffer_exhausted; }));
  put(out, "# HELP warrant_shard_tasks_total Cross-thread tasks run on shards.\n"
           "# TYPE warrant_shard_tasks_total counter\nwarrant_shard_tasks_total {}\n",
      sum([](shard_metrics& m) -> counter& { return m.tasks_run; }));
  put(out, "# HELP warrant_http_timeouts_total Connections closed by a timeout, by kind.\n"
           "# TYPE warrant_http_timeouts_total counter\n");
  for (std::size_t k = 0; k < timeout_kind_count; ++k) {
    put(out, "warrant_http_timeouts_total{{kind=\"{}\"}} {}\n", timeout_names[k],
        sum([k](shard_metrics& m) -> counter& { return m.timeouts[k]; }));
  }

  // Per-route request counters and latency histograms.
  const auto& routes = _router.routes();
  auto label = [&routes](std::size_t i) -> std::pair<std::string_view, std::string_view> {
    if (i == routes.size()) return {"unmatched", "ANY"};
    return {routes[i]->pattern, http_method_name(routes[i]->method)};
  };
  put(out, "# HELP warrant_http_requests_total HTTP requests answered, by route and status class.\n"
           "# TYPE warrant_http_requests_total counter\n");
  static constexpr std::array<const char*, 5> classes = {"1xx", "2xx", "3xx", "4xx", "5xx"};
  for (std::size_t r = 0; r <= routes.size(); ++r) {
    auto [pattern, method] = label(r);
    for (std::size_t c = 0; c < classes.size(); ++c) {
      const std::uint64_t n = sum([r, c](shard_metrics& m) -> counter& { return m.routes[r].by_class[c]; });
      if (n == 0 && c != 1) continue;  // always show the 2xx series, others once they occur
      put(out, "warrant_http_requests_total{{route=\"{}\",method=\"{}\",code=\"{}\"}} {}\n", pattern, method,
          classes[c], n);
    }
  }
  put(out, "# HELP warrant_http_request_duration_seconds Time from request received to response queued.\n"
           "# TYPE warrant_http_request_duration_seconds histogram\n");
  for (std::size_t r = 0; r <= routes.size(); ++r) {
    auto [pattern, method] = label(r);
    std::uint64_t cumulative = 0;
    for (std::size_t b = 0; b < latency_bucket_count; ++b) {
      cumulative += sum([r, b](shard_metrics& m) -> counter& { return m.routes[r].latency[b]; });
      if (b < latency_bounds_us.size()) {
        put(out, "warrant_http_request_duration_seconds_bucket{{route=\"{}\",method=\"{}\",le=\"{}\"}} {}\n", pattern,
            method, static_cast<double>(latency_bounds_us[b]) / 1e6, cumulative);
      } else {
        put(out, "warrant_http_request_duration_seconds_bucket{{route=\"{}\",method=\"{}\",le=\"+Inf\"}} {}\n",
            pattern, method, cumulative);
      }
    }
    const std::uint64_t sum_us = sum([r](shard_metrics& m) -> counter& { return m.routes[r].latency_sum_us; });
    put(out, "warrant_http_request_duration_seconds_sum{{route=\"{}\",method=\"{}\"}} {}\n", pattern, method,
        static_cast<double>(sum_us) / 1e6);
    put(out, "warrant_http_request_duration_seconds_count{{route=\"{}\",method=\"{}\"}} {}\n", pattern, method,
        cumulative);
  }
  for (const auto& source : _sources) source(out);
}

}  // namespace warrant::net

// bench/load/run_stats.cc: merging per-thread counters.
#include "bench/load/run_stats.h"

#include <algorithm>

namespace warrant::bench {

void run_stats::merge(const run_stats& other) {
  latency.merge(other.latency);
  for (std::size_t i = 0; i < status.size(); ++i) status[i] += other.status[i];
  errors.connect += other.errors.connect;
  errors.reset += other.errors.reset;
  errors.timeout += other.errors.timeout;
  errors.parse += other.errors.parse;
  requests += other.requests;
  bytes_received += other.bytes_received;
  reconnects += other.reconnects;
  unfinished += other.unfinished;
  finish_ns = std::max(finish_ns, other.finish_ns);
}

std::uint64_t run_stats::status_class(int hundreds) const {
  std::uint64_t sum = 0;
  for (int code = hundreds * 100; code < hundreds * 100 + 100 && code <= status_code_max; ++code) {
    sum += status[static_cast<std::size_t>(code)];
  }
  return sum;
}

}  // namespace warrant::bench

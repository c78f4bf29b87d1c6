// bench/load/run_stats.h: what a run measured.
//
// What it is for: the counters of one load thread (latency histogram, status codes, errors),
// merged into the run's totals after the threads are joined. Each thread owns its
// `run_stats`; nothing is shared while the run goes on.
#pragma once

#include <array>
#include <cstdint>

#include "bench/load/histogram.h"

namespace warrant::bench {

struct error_counts {
  std::uint64_t connect = 0;  // connect refused, unreachable, timed out
  std::uint64_t reset = 0;    // reset, broken pipe, closed with requests in flight
  std::uint64_t timeout = 0;  // a request got no full response within --timeout
  std::uint64_t parse = 0;    // a response that is not HTTP/1.x, or unsolicited bytes

  std::uint64_t total() const { return connect + reset + timeout + parse; }
};

inline constexpr int status_code_max = 599;

struct run_stats {
  latency_histogram latency;
  std::array<std::uint64_t, status_code_max + 1> status{};
  error_counts errors;
  std::uint64_t requests = 0;        // full responses received inside the measured window
  std::uint64_t bytes_received = 0;  // inside the measured window
  std::uint64_t reconnects = 0;
  std::uint64_t unfinished = 0;      // sent or queued but unanswered when the run stopped
  std::int64_t finish_ns = 0;        // when this thread stopped counting

  void merge(const run_stats& other);
  std::uint64_t status_class(int hundreds) const;  // 2 for 2xx
};

}  // namespace warrant::bench

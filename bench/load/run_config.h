// bench/load/run_config.h: what one run of warrant-bench does, after the command line.
//
// What it is for: the options every load thread reads (read-only once the threads start),
// with the limits that keep a run bounded. Filled by main.cc.
#pragma once

#include <cstdint>
#include <string>

namespace warrant::bench {

enum class loop_mode : std::uint8_t { closed, open };

inline constexpr std::uint32_t connections_max = 100'000;
inline constexpr std::uint32_t pipeline_max = 1'024;
inline constexpr std::uint32_t threads_max = 256;
inline constexpr std::size_t recv_buffer_bytes = 64 * 1024;
static_assert(recv_buffer_bytes >= 2 * 16 * 1024, "a header block must fit with room to spare");

struct run_config {
  loop_mode mode = loop_mode::closed;
  std::uint32_t threads = 1;
  std::uint32_t connections = 16;
  std::uint32_t pipeline = 1;         // requests in flight per connection
  double rate_per_s = 0;              // open loop: requests scheduled per second, all threads
  std::uint64_t requests_total = 0;   // 0: run for the duration
  double warmup_s = 0;
  double duration_s = 10;             // measured time, or the cap when requests_total is set
  double timeout_s = 5;               // per request and per connect
  std::uint64_t seed = 1;
  std::string url;
};

}  // namespace warrant::bench

// bench/load/clock.h: the load generator's one notion of time.
//
// What it is for: every timestamp in warrant-bench (schedules, send times, latencies,
// deadlines) is nanoseconds on CLOCK_MONOTONIC, so values from different threads compare.
// Thread-safe; no state.
#pragma once

#include <cstdint>
#include <ctime>

namespace warrant::bench {

inline constexpr std::int64_t ns_per_us = 1'000;
inline constexpr std::int64_t ns_per_ms = 1'000'000;
inline constexpr std::int64_t ns_per_s = 1'000'000'000;

inline std::int64_t now_ns() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * ns_per_s + ts.tv_nsec;
}

inline std::int64_t seconds_to_ns(double seconds) {
  return static_cast<std::int64_t>(seconds * static_cast<double>(ns_per_s));
}

}  // namespace warrant::bench

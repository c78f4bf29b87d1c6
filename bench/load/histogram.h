// bench/load/histogram.h: fixed-memory latency histogram with ~3 significant digits.
//
// What it is for: recording every request's latency on the hot path at the cost of one
// array increment, then answering percentiles at the end of a run. The layout is the
// log-linear one HdrHistogram made popular: values below 2048 ns are counted exactly; above,
// each power-of-two range is split into 1024 equal sub-buckets, so a recorded value is off by
// at most 1/1024 (< 0.1 %) of itself. Values are nanoseconds; the range tops out at
// `value_max_ns` (100 s) and larger values are clamped to it (the exact maximum is kept
// separately). Memory is fixed at construction (about 230 KiB), never grows.
//
// Ownership: one histogram per load thread, touched by that thread only; `merge` runs after
// the threads have been joined.
#pragma once

#include <cstdint>
#include <vector>

namespace warrant::bench {

class latency_histogram {
 public:
  static constexpr std::int64_t value_max_ns = 100'000'000'000;  // 100 s
  static constexpr int sub_bucket_bits = 11;                     // 2048 sub-buckets
  static constexpr std::int64_t sub_bucket_count = std::int64_t{1} << sub_bucket_bits;
  static constexpr std::int64_t sub_bucket_half = sub_bucket_count / 2;

  latency_histogram();

  void record(std::int64_t value_ns);
  void merge(const latency_histogram& other);

  std::uint64_t count() const { return _count; }
  std::int64_t max_ns() const { return _max_ns; }
  std::int64_t min_ns() const { return _count == 0 ? 0 : _min_ns; }
  double mean_ns() const;
  // Smallest recorded value v such that at least `percent` % of the values are <= v, reported
  // as the top of its bucket (never above the exact maximum). 0 when empty.
  std::int64_t percentile_ns(double percent) const;

  // Exposed for tests: the bucket layout.
  static std::size_t index_of(std::int64_t value_ns);
  static std::int64_t lowest_of(std::size_t index);
  static std::int64_t highest_of(std::size_t index);
  static std::size_t slot_count();

 private:
  std::vector<std::uint64_t> _counts;
  std::uint64_t _count = 0;
  double _sum_ns = 0;
  std::int64_t _min_ns = value_max_ns;
  std::int64_t _max_ns = 0;
};

}  // namespace warrant::bench

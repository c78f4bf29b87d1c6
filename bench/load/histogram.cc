// bench/load/histogram.cc: bucket arithmetic and percentile walk of latency_histogram.
#include "bench/load/histogram.h"

#include <algorithm>
#include <bit>
#include <cassert>
#include <cmath>

namespace warrant::bench {

namespace {

// Power-of-two range of a value: 0 for [0, 2048), b for [2^(b+10), 2^(b+11)).
int range_of(std::int64_t value_ns) {
  const auto v = static_cast<std::uint64_t>(value_ns);
  if (v < static_cast<std::uint64_t>(latency_histogram::sub_bucket_count)) return 0;
  return std::bit_width(v) - latency_histogram::sub_bucket_bits;
}

}  // namespace

static_assert(latency_histogram::sub_bucket_half * 2 == latency_histogram::sub_bucket_count);

latency_histogram::latency_histogram() : _counts(slot_count(), 0) {}

std::size_t latency_histogram::slot_count() { return index_of(value_max_ns) + 1; }

std::size_t latency_histogram::index_of(std::int64_t value_ns) {
  const int range = range_of(value_ns);
  if (range == 0) return static_cast<std::size_t>(value_ns);
  const std::int64_t sub = value_ns >> range;  // in [1024, 2048)
  return static_cast<std::size_t>(sub_bucket_half * (range + 1) + (sub - sub_bucket_half));
}

std::int64_t latency_histogram::lowest_of(std::size_t index) {
  const auto i = static_cast<std::int64_t>(index);
  if (i < sub_bucket_count) return i;
  const std::int64_t range = i / sub_bucket_half - 1;
  const std::int64_t sub = i - sub_bucket_half * (range + 1) + sub_bucket_half;
  return sub << range;
}

std::int64_t latency_histogram::highest_of(std::size_t index) {
  const auto i = static_cast<std::int64_t>(index);
  if (i < sub_bucket_count) return i;
  const std::int64_t range = i / sub_bucket_half - 1;
  return lowest_of(index) + (std::int64_t{1} << range) - 1;
}

void latency_histogram::record(std::int64_t value_ns) {
  const std::int64_t v = std::clamp<std::int64_t>(value_ns, 0, value_max_ns);
  const std::size_t i = index_of(v);
  assert(i < _counts.size());
  ++_counts[i];
  ++_count;
  _sum_ns += static_cast<double>(v);
  _min_ns = std::min(_min_ns, v);
  _max_ns = std::max(_max_ns, v);
}

void latency_histogram::merge(const latency_histogram& other) {
  assert(other._counts.size() == _counts.size());
  for (std::size_t i = 0; i < _counts.size(); ++i) _counts[i] += other._counts[i];
  _count += other._count;
  _sum_ns += other._sum_ns;
  _min_ns = std::min(_min_ns, other._min_ns);
  _max_ns = std::max(_max_ns, other._max_ns);
}

double latency_histogram::mean_ns() const {
  return _count == 0 ? 0.0 : _sum_ns / static_cast<double>(_count);
}

std::int64_t latency_histogram::percentile_ns(double percent) const {
  if (_count == 0) return 0;
  const double wanted = std::ceil(std::clamp(percent, 0.0, 100.0) / 100.0 *
                                  static_cast<double>(_count));
  const std::uint64_t target = std::max<std::uint64_t>(1, static_cast<std::uint64_t>(wanted));
  std::uint64_t seen = 0;
  for (std::size_t i = 0; i < _counts.size(); ++i) {
    seen += _counts[i];
    if (seen >= target) return std::min(highest_of(i), _max_ns);
  }
  return _max_ns;
}

}  // namespace warrant::bench

// engine/common/ids.*: append_time_ms writes digits by hand; it must give what gmtime_r and
// "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ" give, over leap days, month and year ends, times
// before 1970 and the years 0 and 9999, and round-trip through parse_time_ms.
#include <gtest/gtest.h>

#include <cstdio>
#include <ctime>
#include <random>
#include <string>

#include "engine/common/ids.h"

namespace warrant::engine {
namespace {

std::string reference(std::int64_t unix_ms) {
  std::int64_t secs = unix_ms / 1000;
  std::int64_t ms = unix_ms % 1000;
  if (ms < 0) {
    ms += 1000;
    secs -= 1;
  }
  const auto t = static_cast<std::time_t>(secs);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[48];
  const int n = std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                              tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms));
  return std::string(buf, static_cast<std::size_t>(n));
}

TEST(AppendTimeMs, MatchesGmtimeEverywhere) {
  constexpr std::int64_t day = 86'400'000;
  const std::int64_t fixed[] = {0,
                                -1,
                                -999,
                                -1000,
                                -1001,
                                951'782'400'000,       // 2000-02-29
                                951'868'799'999,       // 2000-02-29T23:59:59.999
                                4'107'542'400'000,     // 2100-03-01
                                1'780'000'000'123,
                                -62'167'219'200'000,   // 0000-01-01
                                253'402'300'799'999};  // 9999-12-31T23:59:59.999
  for (const std::int64_t t : fixed) {
    std::string got;
    append_time_ms(got, t);
    EXPECT_EQ(got, reference(t)) << t;
  }
  std::mt19937_64 rng(7);
  std::uniform_int_distribution<std::int64_t> any(-62'167'219'200'000, 253'402'300'799'999);
  for (int i = 0; i < 200'000; ++i) {
    const std::int64_t t = i % 2 ? any(rng) : (i / 2 - 50'000) * day + static_cast<std::int64_t>(rng() % day);
    std::string got;
    append_time_ms(got, t);
    ASSERT_EQ(got, reference(t)) << t;
    ASSERT_EQ(parse_time_ms(got), t) << got;
  }
}

TEST(AppendTimeMs, AppendsAfterWhatIsThere) {
  std::string out = "at ";
  append_time_ms(out, 0);
  EXPECT_EQ(out, "at 1970-01-01T00:00:00.000Z");
}

}  // namespace
}  // namespace warrant::engine

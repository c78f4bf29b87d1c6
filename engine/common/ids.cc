#include "engine/common/ids.h"

#include <openssl/rand.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>

namespace warrant::engine {

std::int64_t unix_now_us() {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000 + ts.tv_nsec / 1000;
}

std::int64_t unix_now_ms() { return unix_now_us() / 1000; }

void random_bytes(void* out, std::size_t n) {
  if (RAND_bytes(static_cast<unsigned char*>(out), static_cast<int>(n)) != 1) {
    std::fprintf(stderr, "warrantd: the CSPRNG failed; refusing to continue\n");
    std::abort();
  }
}

std::string new_uuid_v7() { return new_uuid_v7(unix_now_ms()); }

namespace {

// The last id's 48-bit millisecond and 12-bit counter, as `ms << 12 | counter`.
std::atomic<std::uint64_t> last_id_stamp{0};

// Ids made by one process sort in the order they were made, even within one millisecond
// (RFC 9562 §6.2, method 1): the 12 bits after the version count within the millisecond, from
// a random start below 2048 that leaves room to count. A full counter, or a clock that stepped
// back, carries into the id's next millisecond (only the id's; the caller's time is unchanged).
// Lists sort by (created_at, id): without this, two workspaces made in the same millisecond,
// one after the other, came back in random order.
std::uint64_t next_id_stamp(std::uint64_t ms, std::uint64_t random_start) {
  std::uint64_t prev = last_id_stamp.load(std::memory_order_relaxed);
  while (true) {
    const std::uint64_t next = ms > (prev >> 12) ? (ms << 12 | (random_start & 0x7ff)) : prev + 1;
    if (last_id_stamp.compare_exchange_weak(prev, next, std::memory_order_relaxed)) return next;
  }
}

// An id's 10 random bytes. One RAND_bytes call costs about a microsecond whatever its size
// (the DRBG's locking and reseed checks: half of an evaluate's handler when paid per id), so
// each thread draws 4 KiB at a time and hands it out 10 bytes per id. The same CSPRNG's
// output, each byte used once, never shared between threads; ids are public, not secrets
// (API key secrets still come straight from random_bytes).
void id_random_bytes(unsigned char* out, std::size_t n) {
  struct pool {
    unsigned char bytes[4096];
    std::size_t used = sizeof bytes;
  };
  thread_local pool p;
  if (p.used + n > sizeof p.bytes) {
    random_bytes(p.bytes, sizeof p.bytes);
    p.used = 0;
  }
  std::memcpy(out, p.bytes + p.used, n);
  p.used += n;
}

}  // namespace

void new_uuid_v7_into(char (&out)[uuid_text_bytes], std::int64_t unix_ms) {
  unsigned char b[16];
  id_random_bytes(b + 6, 10);
  const std::uint64_t stamp =
      next_id_stamp(static_cast<std::uint64_t>(unix_ms) & 0xffff'ffff'ffffu, std::uint64_t{b[6]} << 8 | b[7]);
  const std::uint64_t ms = stamp >> 12;
  for (int i = 0; i < 6; ++i) b[i] = static_cast<unsigned char>(ms >> (40 - 8 * i));
  b[6] = static_cast<unsigned char>(0x70 | ((stamp >> 8) & 0x0f));  // version 7, counter bits 11..8
  b[7] = static_cast<unsigned char>(stamp & 0xff);                  // counter bits 7..0
  b[8] = static_cast<unsigned char>(0x80 | (b[8] & 0x3f));          // variant 10
  static constexpr char hex[] = "0123456789abcdef";
  std::size_t n = 0;
  for (int i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out[n++] = '-';
    out[n++] = hex[b[i] >> 4];
    out[n++] = hex[b[i] & 0xf];
  }
}

std::string new_uuid_v7(std::int64_t unix_ms) {
  char buf[uuid_text_bytes];
  new_uuid_v7_into(buf, unix_ms);
  return std::string(buf, uuid_text_bytes);
}

bool is_uuid(std::string_view s) {
  if (s.size() != 36) return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (c != '-') return false;
    } else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
      return false;
    }
  }
  return true;
}

namespace {

// The civil date of a day count since 1970-01-01 (H. Hinnant's days_from_civil, inverted).
void civil_from_days(std::int64_t days, std::int64_t& y, unsigned& m, unsigned& d) {
  const std::int64_t z = days + 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const auto doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  d = doy - (153 * mp + 2) / 5 + 1;
  m = mp < 10 ? mp + 3 : mp - 9;
  y = static_cast<std::int64_t>(yoe) + era * 400 + (m <= 2 ? 1 : 0);
}

void put_digits(char* at, unsigned v, int n) {
  for (int i = n - 1; i >= 0; --i) {
    at[i] = static_cast<char>('0' + v % 10);
    v /= 10;
  }
}

}  // namespace

// Hot (every event's answer is rendered with two of these): digits by hand, not snprintf;
// years outside 0..9999 (never stored, but parse_time_ms accepts offsets) take the slow path.
void append_time_ms(std::string& out, std::int64_t unix_ms) {
  std::int64_t secs = unix_ms / 1000;
  std::int64_t ms = unix_ms % 1000;
  if (ms < 0) {
    ms += 1000;
    secs -= 1;
  }
  std::int64_t days = secs / 86'400;
  std::int64_t sod = secs % 86'400;
  if (sod < 0) {
    sod += 86'400;
    days -= 1;
  }
  std::int64_t y = 0;
  unsigned m = 0;
  unsigned d = 0;
  civil_from_days(days, y, m, d);
  if (y >= 0 && y <= 9999) {
    char buf[24];
    put_digits(buf, static_cast<unsigned>(y), 4);
    buf[4] = '-';
    put_digits(buf + 5, m, 2);
    buf[7] = '-';
    put_digits(buf + 8, d, 2);
    buf[10] = 'T';
    put_digits(buf + 11, static_cast<unsigned>(sod / 3600), 2);
    buf[13] = ':';
    put_digits(buf + 14, static_cast<unsigned>(sod / 60 % 60), 2);
    buf[16] = ':';
    put_digits(buf + 17, static_cast<unsigned>(sod % 60), 2);
    buf[19] = '.';
    put_digits(buf + 20, static_cast<unsigned>(ms), 3);
    buf[23] = 'Z';
    out.append(buf, sizeof buf);
    return;
  }
  const auto t = static_cast<std::time_t>(secs);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[48];
  const int n = std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                              tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms));
  out.append(buf, static_cast<std::size_t>(n));
}

std::string format_time_ms(std::int64_t unix_ms) {
  std::string out;
  append_time_ms(out, unix_ms);
  return out;
}

namespace {

bool digits(std::string_view s, std::size_t at, std::size_t n, int& out) {
  if (at + n > s.size()) return false;
  int v = 0;
  for (std::size_t i = at; i < at + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    v = v * 10 + (s[i] - '0');
  }
  out = v;
  return true;
}

// Days from 1970-01-01 to the given civil date (proleptic Gregorian).
std::int64_t days_from_civil(int y, int m, int d) {
  y -= m <= 2 ? 1 : 0;
  const int era = (y >= 0 ? y : y - 399) / 400;
  const int yoe = y - era * 400;
  const int doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return static_cast<std::int64_t>(era) * 146097 + doe - 719468;
}

}  // namespace

std::optional<std::int64_t> parse_time_ms(std::string_view s) {
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  if (!digits(s, 0, 4, year) || s.size() < 20 || s[4] != '-' || !digits(s, 5, 2, month) || s[7] != '-' ||
      !digits(s, 8, 2, day) || (s[10] != 'T' && s[10] != 't') || !digits(s, 11, 2, hour) || s[13] != ':' ||
      !digits(s, 14, 2, minute) || s[16] != ':' || !digits(s, 17, 2, second)) {
    return std::nullopt;
  }
  static constexpr int month_days[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (month < 1 || month > 12 || day < 1 || day > month_days[month - 1] || hour > 23 || minute > 59 || second > 60) {
    return std::nullopt;
  }
  const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  if (month == 2 && day == 29 && !leap) return std::nullopt;
  std::size_t i = 19;
  int ms = 0;
  if (i < s.size() && s[i] == '.') {
    ++i;
    std::size_t n = 0;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
      if (n < 3) ms = ms * 10 + (s[i] - '0');
      ++n;
      ++i;
    }
    if (n == 0 || n > 9) return std::nullopt;
    for (std::size_t k = n; k < 3; ++k) ms *= 10;
  }
  int offset_min = 0;
  if (i < s.size() && (s[i] == 'Z' || s[i] == 'z')) {
    ++i;
  } else if (i < s.size() && (s[i] == '+' || s[i] == '-')) {
    int oh = 0, om = 0;
    if (!digits(s, i + 1, 2, oh) || i + 3 >= s.size() || s[i + 3] != ':' || !digits(s, i + 4, 2, om) || oh > 23 ||
        om > 59) {
      return std::nullopt;
    }
    offset_min = (oh * 60 + om) * (s[i] == '+' ? 1 : -1);
    i += 6;
  } else {
    return std::nullopt;
  }
  if (i != s.size()) return std::nullopt;
  if (second == 60) second = 59;  // leap second: clamp
  const std::int64_t days = days_from_civil(year, month, day);
  const std::int64_t secs = days * 86400 + hour * 3600 + minute * 60 + second - offset_min * 60;
  return secs * 1000 + ms;
}

}  // namespace warrant::engine

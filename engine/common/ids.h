// engine/common/ids.h: server-generated identifiers and timestamps (spec/common.md "Formats").
//
// UUIDv7 ids (48-bit Unix milliseconds, a 12-bit counter within the millisecond, then CSPRNG
// bits: ids made by one process sort in the order they were made), RFC 3339 UTC times with
// milliseconds ("2026-05-20T10:00:00.000Z") and their parser. Any thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace warrant::engine {

// Milliseconds since the Unix epoch, wall clock.
std::int64_t unix_now_ms();
// The same in microseconds (unix_now_us() / 1000 is unix_now_ms() read at that instant).
std::int64_t unix_now_us();

// A new UUIDv7 in canonical text form (36 chars, lower-case hex), greater than every id this
// process made before it.
std::string new_uuid_v7();
std::string new_uuid_v7(std::int64_t unix_ms);
// The same into a caller's buffer (no allocation; hot paths).
inline constexpr std::size_t uuid_text_bytes = 36;
void new_uuid_v7_into(char (&out)[uuid_text_bytes], std::int64_t unix_ms);
bool is_uuid(std::string_view s);

// "2026-05-20T10:00:00.000Z"
std::string format_time_ms(std::int64_t unix_ms);
void append_time_ms(std::string& out, std::int64_t unix_ms);
// Accepts RFC 3339 with 'Z' or a numeric offset and 0-9 fraction digits. nullopt if invalid.
std::optional<std::int64_t> parse_time_ms(std::string_view text);

// Fills `out` with `n` bytes from the CSPRNG (OpenSSL RAND_bytes). Aborts if it fails:
// a server that cannot make secrets must not pretend it can.
void random_bytes(void* out, std::size_t n);

}  // namespace warrant::engine

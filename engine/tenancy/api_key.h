// engine/tenancy/api_key.h: API key format, generation and hashing (spec/common.md).
//
// A key is `wrnt_` + 43 base62 characters (256 CSPRNG bits) + 6 base62 characters of
// checksum (the first 32 bits of SHA-256 over the preceding text), 54 characters in all.
// The checksum lets a malformed or mistyped key be refused without a lookup and lets secret
// scanners recognise leaked keys. Only SHA-256(key) is ever stored; the key is shown once.
// Displayed afterwards as `prefix` (first 9 characters) and `last4`. Pure functions, any thread.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace warrant::engine {

inline constexpr std::string_view api_key_type_prefix = "wrnt_";
inline constexpr std::size_t api_key_secret_chars = 43;
inline constexpr std::size_t api_key_checksum_chars = 6;
inline constexpr std::size_t api_key_chars = 5 + api_key_secret_chars + api_key_checksum_chars;
inline constexpr std::size_t api_key_display_prefix_chars = 9;

using key_hash = std::array<unsigned char, 32>;

struct key_hash_hasher {
  std::size_t operator()(const key_hash& h) const noexcept {
    std::size_t v = 0;
    for (int i = 0; i < 8; ++i) v = (v << 8) | h[static_cast<std::size_t>(i)];  // SHA-256 bits are uniform
    return v;
  }
};

// Constant-time equality.
struct key_hash_equal {
  bool operator()(const key_hash& a, const key_hash& b) const noexcept;
};

struct generated_key {
  std::string text;  // shown once
  key_hash hash{};
  std::string prefix;
  std::string last4;
};

generated_key generate_api_key();
// Right prefix, length, alphabet and checksum.
bool well_formed_api_key(std::string_view key);
// Right prefix, length and alphabet (the request path: see engine/guard/auth.h).
bool api_key_shaped(std::string_view key);
key_hash hash_api_key(std::string_view key);
std::string hex(const key_hash& h);

}  // namespace warrant::engine

#include "engine/tenancy/api_key.h"

// The low-level SHA-256 calls are deprecated in OpenSSL 3 in favour of EVP, but EVP_Digest and
// even the one-shot SHA256() allocate (3 allocations per call, measured: they fetch the
// algorithm through a provider, with its locks and shared reference counts). A key is hashed
// on every request, so the allocation-free low-level calls are used here.
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/crypto.h>
#include <openssl/sha.h>

#include "engine/common/ids.h"

namespace warrant::engine {
namespace {

constexpr char base62_alphabet[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

// Base62 of a big-endian unsigned number, left-padded with '0' to `width` characters.
std::string base62(const unsigned char* bytes, std::size_t n, std::size_t width) {
  std::string digits;
  std::array<unsigned char, 64> num{};
  std::copy(bytes, bytes + n, num.begin());
  bool nonzero = true;
  while (nonzero) {
    nonzero = false;
    unsigned remainder = 0;
    for (std::size_t i = 0; i < n; ++i) {
      const unsigned cur = remainder * 256 + num[i];
      num[i] = static_cast<unsigned char>(cur / 62);
      remainder = cur % 62;
      nonzero = nonzero || num[i] != 0;
    }
    digits.push_back(base62_alphabet[remainder]);
  }
  while (digits.size() < width) digits.push_back('0');
  return {digits.rbegin(), digits.rend()};
}

// The first 32 bits of SHA-256(body) in base62, left-padded with '0' (62^6 > 2^32).
std::array<char, api_key_checksum_chars> checksum_of(std::string_view body) {
  static_assert(62ull * 62 * 62 * 62 * 62 * 62 > 0xffffffffull);
  const key_hash h = hash_api_key(body);
  std::uint32_t v = (std::uint32_t{h[0]} << 24) | (std::uint32_t{h[1]} << 16) | (std::uint32_t{h[2]} << 8) | h[3];
  std::array<char, api_key_checksum_chars> out{};
  for (std::size_t i = out.size(); i-- > 0;) {
    out[i] = base62_alphabet[v % 62];
    v /= 62;
  }
  return out;
}

}  // namespace

bool key_hash_equal::operator()(const key_hash& a, const key_hash& b) const noexcept {
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

key_hash hash_api_key(std::string_view key) {
  static_assert(std::tuple_size_v<key_hash> == SHA256_DIGEST_LENGTH);
  key_hash out{};
  SHA256_CTX ctx;
  SHA256_Init(&ctx);
  SHA256_Update(&ctx, key.data(), key.size());
  SHA256_Final(out.data(), &ctx);
  return out;
}

generated_key generate_api_key() {
  unsigned char secret[32];
  random_bytes(secret, sizeof secret);
  std::string body(api_key_type_prefix);
  body += base62(secret, sizeof secret, api_key_secret_chars);
  generated_key k;
  const auto checksum = checksum_of(body);
  k.text = body + std::string(checksum.data(), checksum.size());
  k.hash = hash_api_key(k.text);
  k.prefix = k.text.substr(0, api_key_display_prefix_chars);
  k.last4 = k.text.substr(k.text.size() - 4);
  return k;
}

bool api_key_shaped(std::string_view key) {
  static constexpr auto base62_table = [] {
    std::array<bool, 256> t{};
    for (char c : std::string_view(base62_alphabet)) t[static_cast<unsigned char>(c)] = true;
    return t;
  }();
  if (key.size() != api_key_chars || key.substr(0, api_key_type_prefix.size()) != api_key_type_prefix) return false;
  // Every character looked at (no early exit in the loop): one branch instead of 49.
  bool all = true;
  for (std::size_t i = api_key_type_prefix.size(); i < key.size(); ++i) {
    all &= base62_table[static_cast<unsigned char>(key[i])];
  }
  return all;
}

bool well_formed_api_key(std::string_view key) {
  if (!api_key_shaped(key)) return false;
  const std::string_view body = key.substr(0, key.size() - api_key_checksum_chars);
  const auto expected = checksum_of(body);
  return CRYPTO_memcmp(expected.data(), key.data() + body.size(), api_key_checksum_chars) == 0;
}

std::string hex(const key_hash& h) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  out.reserve(64);
  for (unsigned char b : h) {
    out.push_back(digits[b >> 4]);
    out.push_back(digits[b & 0xf]);
  }
  return out;
}

}  // namespace warrant::engine

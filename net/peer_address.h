// net/peer_address.h: a client's network address, compact and comparable.
//
// What the guard's per-address limiter keys on (engine/guard/rate_limit.h). IPv4 addresses
// (and IPv4-mapped IPv6 ones) are stored as ipv4 in the first four bytes; IPv6 as its 16 bytes.
// `unknown` when getpeername(2) failed (the connection is already gone). Plain data.
#pragma once

#include <array>
#include <cstdint>

namespace warrant::net {

struct peer_address {
  enum class family_kind : std::uint8_t { unknown, ipv4, ipv6 };
  family_kind family = family_kind::unknown;
  std::array<std::uint8_t, 16> bytes{};

  bool operator==(const peer_address&) const = default;
};

}  // namespace warrant::net

// net/listener.h: the listening sockets, one per shard, bound with SO_REUSEPORT.
//
// Start-up only (main thread); errors are exceptions with a message for the operator.
// Before binding the shards' sockets, a probe binds the address without SO_REUSEPORT, so a
// port held by any other process (even another warrantd of the same user, which
// SO_REUSEPORT would otherwise let us share silently) is reported as busy.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace warrant::net {

struct listen_address {
  std::string host;  // numeric IPv4/IPv6 or a name resolved at start-up
  std::uint16_t port = 0;
};

// Parses "HOST:PORT", "[V6]:PORT" or ":PORT" (all interfaces). Throws std::invalid_argument.
listen_address parse_listen_address(const std::string& text);

struct bound_listeners {
  std::vector<int> fds;
  std::string address;  // "127.0.0.1:8080", with the port actually bound
  std::uint16_t port = 0;
};

// Opens `count` listening sockets on one address. Throws std::runtime_error.
bound_listeners open_listeners(const listen_address& where, std::size_t count, int backlog);

}  // namespace warrant::net

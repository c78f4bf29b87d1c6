// bench/load/target.h: where the load goes: `http://HOST:PORT/path` parsed and resolved.
//
// What it is for: turning `--url` into a socket address every load thread connects to, the
// Host header value and the default path; and checking, once before the run, that the
// target accepts a TCP connection so an unreachable server fails fast with a clear message.
// Start-up only (main thread); errors are thrown as std::runtime_error.
#pragma once

#include <sys/socket.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

namespace warrant::bench {

struct target {
  std::string host;         // as written, without brackets
  std::uint16_t port = 80;
  std::string path = "/";   // path and query
  std::string host_header;  // "host:port", IPv6 in brackets
  sockaddr_storage address{};
  socklen_t address_bytes = 0;
};

// Parses and resolves (getaddrinfo, first result). Only `http://` is supported.
target resolve_target(std::string_view url);

// Connects once with a blocking timeout; throws with strerror on failure.
void probe_target(const target& t, std::chrono::milliseconds timeout);

std::string describe_address(const target& t);

}  // namespace warrant::bench

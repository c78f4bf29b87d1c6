// bench/load/target.cc: URL parsing, name resolution and the reachability probe.
#include "bench/load/target.h"

#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <stdexcept>

#include <fmt/format.h>

namespace warrant::bench {

namespace {

std::uint16_t parse_port(std::string_view text, std::string_view url) {
  unsigned port = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), port);
  if (ec != std::errc{} || end != text.data() + text.size() || port == 0 || port > 65535) {
    throw std::runtime_error(fmt::format("bad port in URL `{}`", url));
  }
  return static_cast<std::uint16_t>(port);
}

// Splits "host:port", "[v6]:port", "host" into t.host and t.port.
void parse_authority(std::string_view authority, std::string_view url, target& t) {
  std::string_view port_text;
  if (authority.starts_with('[')) {
    const std::size_t close = authority.find(']');
    if (close == std::string_view::npos) throw std::runtime_error(fmt::format("unterminated `[` in URL `{}`", url));
    t.host = authority.substr(1, close - 1);
    const std::string_view after = authority.substr(close + 1);
    if (!after.empty() && !after.starts_with(':')) throw std::runtime_error(fmt::format("bad URL `{}`", url));
    if (!after.empty()) port_text = after.substr(1);
  } else {
    const std::size_t colon = authority.rfind(':');
    t.host = authority.substr(0, colon);
    if (colon != std::string_view::npos) port_text = authority.substr(colon + 1);
  }
  if (t.host.empty()) throw std::runtime_error(fmt::format("no host in URL `{}`", url));
  if (!port_text.empty()) t.port = parse_port(port_text, url);
  const bool v6 = t.host.find(':') != std::string::npos;
  t.host_header = v6 ? fmt::format("[{}]", t.host) : t.host;
  if (t.port != 80) t.host_header += fmt::format(":{}", t.port);
}

void resolve(target& t) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV;
  addrinfo* found = nullptr;
  const std::string port = std::to_string(t.port);
  const int rc = getaddrinfo(t.host.c_str(), port.c_str(), &hints, &found);
  if (rc != 0) throw std::runtime_error(fmt::format("cannot resolve {}: {}", t.host, gai_strerror(rc)));
  std::memcpy(&t.address, found->ai_addr, found->ai_addrlen);
  t.address_bytes = found->ai_addrlen;
  freeaddrinfo(found);
}

}  // namespace

target resolve_target(std::string_view url) {
  constexpr std::string_view scheme = "http://";
  if (!url.starts_with(scheme)) throw std::runtime_error(fmt::format("URL must start with http:// (got `{}`)", url));
  std::string_view rest = url.substr(scheme.size());
  const std::size_t slash = rest.find('/');
  target t;
  parse_authority(rest.substr(0, slash), url, t);
  if (slash != std::string_view::npos) t.path = rest.substr(slash);
  resolve(t);
  return t;
}

void probe_target(const target& t, std::chrono::milliseconds timeout) {
  const int fd = socket(t.address.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) throw std::runtime_error(fmt::format("socket: {}", std::strerror(errno)));
  int error = 0;
  if (connect(fd, reinterpret_cast<const sockaddr*>(&t.address), t.address_bytes) != 0) {
    error = errno;
    if (error == EINPROGRESS) {
      pollfd p{fd, POLLOUT, 0};
      const int ready = poll(&p, 1, static_cast<int>(timeout.count()));
      socklen_t len = sizeof error;
      error = ready == 0 ? ETIMEDOUT : 0;
      if (ready > 0) getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &len);
    }
  }
  close(fd);
  if (error != 0) {
    throw std::runtime_error(fmt::format("cannot connect to {}: {}", describe_address(t), std::strerror(error)));
  }
}

std::string describe_address(const target& t) {
  return t.host.find(':') != std::string::npos ? fmt::format("[{}]:{}", t.host, t.port)
                                               : fmt::format("{}:{}", t.host, t.port);
}

}  // namespace warrant::bench

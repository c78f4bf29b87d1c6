#include "net/listener.h"

#include <arpa/inet.h>
#include <fmt/format.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace warrant::net {
namespace {

struct resolved {
  sockaddr_storage addr{};
  socklen_t len = 0;
};

resolved resolve(const listen_address& where) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE;
  addrinfo* list = nullptr;
  const std::string port = std::to_string(where.port);
  const int rc = getaddrinfo(where.host.empty() ? nullptr : where.host.c_str(), port.c_str(), &hints, &list);
  if (rc != 0) throw std::runtime_error(fmt::format("cannot resolve listen host '{}': {}", where.host, gai_strerror(rc)));
  resolved r;
  std::memcpy(&r.addr, list->ai_addr, list->ai_addrlen);
  r.len = list->ai_addrlen;
  freeaddrinfo(list);
  return r;
}

std::uint16_t port_of(const sockaddr_storage& addr) {
  if (addr.ss_family == AF_INET6) return ntohs(reinterpret_cast<const sockaddr_in6&>(addr).sin6_port);
  return ntohs(reinterpret_cast<const sockaddr_in&>(addr).sin_port);
}

void set_port(sockaddr_storage& addr, std::uint16_t port) {
  if (addr.ss_family == AF_INET6) {
    reinterpret_cast<sockaddr_in6&>(addr).sin6_port = htons(port);
  } else {
    reinterpret_cast<sockaddr_in&>(addr).sin_port = htons(port);
  }
}

std::string format_address(const sockaddr_storage& addr) {
  char host[INET6_ADDRSTRLEN] = {};
  if (addr.ss_family == AF_INET6) {
    inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6&>(addr).sin6_addr, host, sizeof host);
    return fmt::format("[{}]:{}", host, port_of(addr));
  }
  inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in&>(addr).sin_addr, host, sizeof host);
  return fmt::format("{}:{}", host, port_of(addr));
}

[[noreturn]] void fail(const std::string& what, const resolved& r, int err) {
  if (err == EADDRINUSE) {
    throw std::runtime_error(fmt::format("address {} is already in use (another server is listening there)",
                                         format_address(r.addr)));
  }
  throw std::runtime_error(fmt::format("{} {}: {}", what, format_address(r.addr), std::strerror(err)));
}

int make_socket(const resolved& r, bool reuse_port) {
  const int fd = ::socket(r.addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) fail("socket", r, errno);
  const int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (reuse_port && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) < 0) {
    const int err = errno;
    ::close(fd);
    fail("SO_REUSEPORT", r, err);
  }
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (::bind(fd, reinterpret_cast<const sockaddr*>(&r.addr), r.len) < 0) {
    const int err = errno;
    ::close(fd);
    fail("bind", r, err);
  }
  return fd;
}

}  // namespace

listen_address parse_listen_address(const std::string& text) {
  listen_address out;
  std::string port_text;
  if (!text.empty() && text.front() == '[') {
    const std::size_t close = text.find(']');
    if (close == std::string::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      throw std::invalid_argument(fmt::format("listen address '{}' is not [IPv6]:PORT", text));
    }
    out.host = text.substr(1, close - 1);
    port_text = text.substr(close + 2);
  } else {
    const std::size_t colon = text.rfind(':');
    if (colon == std::string::npos) throw std::invalid_argument(fmt::format("listen address '{}' is not HOST:PORT", text));
    out.host = text.substr(0, colon);
    port_text = text.substr(colon + 1);
  }
  if (port_text.empty() || port_text.size() > 5 || port_text.find_first_not_of("0123456789") != std::string::npos ||
      std::stoul(port_text) > 65535) {
    throw std::invalid_argument(fmt::format("listen address '{}' has no valid port (0-65535)", text));
  }
  out.port = static_cast<std::uint16_t>(std::stoul(port_text));
  return out;
}

bound_listeners open_listeners(const listen_address& where, std::size_t count, int backlog) {
  resolved r = resolve(where);
  if (where.port != 0) {
    // Busy-port probe: fails if anyone holds the address, SO_REUSEPORT or not.
    ::close(make_socket(r, false));
  }
  bound_listeners out;
  for (std::size_t i = 0; i < count; ++i) {
    const int fd = make_socket(r, true);
    if (::listen(fd, backlog) < 0) {
      const int err = errno;
      ::close(fd);
      for (int open_fd : out.fds) ::close(open_fd);
      fail("listen", r, err);
    }
    if (i == 0 && where.port == 0) {
      // Ephemeral port: the other shards bind the port the kernel picked for the first.
      sockaddr_storage bound{};
      socklen_t len = sizeof bound;
      getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &len);
      set_port(r.addr, port_of(bound));
    }
    out.fds.push_back(fd);
  }
  out.port = port_of(r.addr);
  out.address = format_address(r.addr);
  return out;
}

}  // namespace warrant::net

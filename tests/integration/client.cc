// The client side of the integration harness: raw HTTP/1.1 over blocking-with-timeout
// sockets, and helpers for /metrics.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "tests/integration/harness.h"

namespace warrant::integration {
namespace {

int remaining_ms(steady::time_point deadline) {
  const auto left = std::chrono::duration_cast<milliseconds>(deadline - steady::now()).count();
  return left <= 0 ? 0 : static_cast<int>(left);
}

char ascii_lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; }

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (ascii_lower(a[i]) != ascii_lower(b[i])) return false;
  }
  return true;
}

std::string trim(std::string_view v) {
  while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
  while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.remove_suffix(1);
  return std::string(v);
}

}  // namespace

// ---- http_message and client --------------------------------------------------------------

std::string http_message::header(std::string_view name) const {
  for (const auto& [n, v] : headers) {
    if (iequals(n, name)) return v;
  }
  return {};
}

bool http_message::has_header(std::string_view name) const {
  for (const auto& h : headers) {
    if (iequals(h.first, name)) return true;
  }
  return false;
}

std::string_view to_string(read_status s) {
  switch (s) {
    case read_status::ok: return "ok";
    case read_status::eof: return "eof";
    case read_status::reset: return "reset";
    case read_status::timeout: return "timeout";
    case read_status::malformed: return "malformed";
  }
  return "?";
}

client::client(std::uint16_t port, milliseconds timeout) {
  // Close-on-exec: a server spawned later must not inherit (and so keep open) our sockets.
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) {
    _connect_errno = errno;
    return;
  }
  const int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  int rc = ::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr);
  if (rc < 0 && errno == EINPROGRESS) {
    pollfd p{fd, POLLOUT, 0};
    rc = ::poll(&p, 1, static_cast<int>(timeout.count()));
    int err = ETIMEDOUT;
    if (rc > 0) {
      socklen_t len = sizeof err;
      getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
    }
    if (err != 0) {
      errno = err;
      rc = -1;
    }
  }
  if (rc < 0) {
    _connect_errno = errno;
    ::close(fd);
    return;
  }
  _fd = fd;
}

client::client(client&& other) noexcept
    : _fd(std::exchange(other._fd, -1)),
      _connect_errno(other._connect_errno),
      _last_errno(other._last_errno),
      _last_read(other._last_read),
      _buf(std::move(other._buf)) {}

client& client::operator=(client&& other) noexcept {
  if (this != &other) {
    close();
    _fd = std::exchange(other._fd, -1);
    _connect_errno = other._connect_errno;
    _last_errno = other._last_errno;
    _last_read = other._last_read;
    _buf = std::move(other._buf);
  }
  return *this;
}

client::~client() { close(); }

bool client::send(std::string_view bytes, milliseconds timeout) {
  if (_fd < 0) return false;
  const auto deadline = steady::now() + timeout;
  while (!bytes.empty()) {
    const ssize_t n = ::send(_fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n > 0) {
      bytes.remove_prefix(static_cast<std::size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      pollfd p{_fd, POLLOUT, 0};
      if (::poll(&p, 1, remaining_ms(deadline)) <= 0) {
        _last_errno = ETIMEDOUT;
        return false;
      }
      continue;
    }
    _last_errno = errno;
    return false;
  }
  return true;
}

read_status client::fill(steady::time_point deadline) {
  while (true) {
    char chunk[16384];
    const ssize_t n = ::recv(_fd, chunk, sizeof chunk, 0);
    if (n > 0) {
      _buf.append(chunk, static_cast<std::size_t>(n));
      return read_status::ok;
    }
    if (n == 0) return read_status::eof;
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      pollfd p{_fd, POLLIN, 0};
      const int rc = ::poll(&p, 1, remaining_ms(deadline));
      if (rc == 0) return read_status::timeout;
      continue;
    }
    _last_errno = errno;
    return errno == ECONNRESET ? read_status::reset : read_status::malformed;
  }
}

read_status client::parse_one(http_message& out, bool head_request, steady::time_point deadline) {
  std::size_t head_end = std::string::npos;
  while ((head_end = _buf.find("\r\n\r\n")) == std::string::npos) {
    if (read_status s = fill(deadline); s != read_status::ok) return s;
  }
  const std::string head = _buf.substr(0, head_end + 2);
  out = {};
  std::size_t eol = head.find("\r\n");
  const std::string status_line = head.substr(0, eol);
  // "HTTP/1.1 200 OK"
  const std::size_t sp1 = status_line.find(' ');
  if (sp1 == std::string::npos || status_line.rfind("HTTP/1.", 0) != 0) return read_status::malformed;
  out.version = status_line.substr(0, sp1);
  out.status = std::atoi(status_line.c_str() + sp1 + 1);
  const std::size_t sp2 = status_line.find(' ', sp1 + 1);
  if (sp2 != std::string::npos) out.reason = status_line.substr(sp2 + 1);
  if (out.status < 100 || out.status > 599) return read_status::malformed;
  std::size_t pos = eol + 2;
  while (pos < head.size()) {
    eol = head.find("\r\n", pos);
    const std::string line = head.substr(pos, eol - pos);
    pos = eol + 2;
    const std::size_t colon = line.find(':');
    if (colon == std::string::npos || colon == 0) return read_status::malformed;
    out.headers.emplace_back(line.substr(0, colon), trim(std::string_view(line).substr(colon + 1)));
  }
  _buf.erase(0, head_end + 4);
  if (out.status < 200 || out.status == 204 || out.status == 304 || head_request) return read_status::ok;
  if (!out.has_header("Content-Length")) return read_status::malformed;  // the server always sends one
  const std::size_t length = std::strtoull(out.header("Content-Length").c_str(), nullptr, 10);
  while (_buf.size() < length) {
    if (read_status s = fill(deadline); s != read_status::ok) return s;
  }
  out.body = _buf.substr(0, length);
  _buf.erase(0, length);
  return read_status::ok;
}

read_status client::read_response(http_message& out, bool head_request, milliseconds timeout) {
  if (_fd < 0) return _last_read = read_status::malformed;
  return _last_read = parse_one(out, head_request, steady::now() + timeout);
}

std::optional<http_message> client::roundtrip(std::string_view request, bool head_request, milliseconds timeout) {
  if (!send(request)) {
    _last_read = read_status::reset;
    return std::nullopt;
  }
  http_message m;
  if (read_response(m, head_request, timeout) != read_status::ok) return std::nullopt;
  return m;
}

read_status client::wait_closed(milliseconds timeout) {
  if (_fd < 0) return read_status::malformed;
  const auto deadline = steady::now() + timeout;
  while (true) {
    const read_status s = fill(deadline);
    if (s != read_status::ok) return s;
  }
}

bool client::quiet_for(milliseconds quiet) {
  pollfd p{_fd, POLLIN, 0};
  return ::poll(&p, 1, static_cast<int>(quiet.count())) == 0;
}

void client::shutdown_write() {
  if (_fd >= 0) ::shutdown(_fd, SHUT_WR);
}

void client::reset() {
  if (_fd < 0) return;
  linger l{1, 0};
  setsockopt(_fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
  close();
}

void client::close() {
  if (_fd >= 0) ::close(_fd);
  _fd = -1;
}

// ---- requests and metrics -----------------------------------------------------------------

std::string request(std::string_view method, std::string_view path, std::string_view extra) {
  std::string r;
  r.append(method).append(" ").append(path).append(" HTTP/1.1\r\nHost: warrant.test\r\n");
  r.append(extra).append("\r\n");
  return r;
}

std::optional<http_message> fetch(std::uint16_t port, std::string_view raw_request, bool head_request) {
  client c(port);
  if (!c.connected()) return std::nullopt;
  return c.roundtrip(raw_request, head_request);
}

std::string scrape_metrics(std::uint16_t port) {
  std::optional<http_message> m = fetch(port, get("/metrics", "Connection: close\r\n"));
  return m && m->status == 200 ? m->body : std::string();
}

std::optional<double> metric_value(std::string_view text, std::string_view series) {
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t eol = text.find('\n', pos);
    if (eol == std::string_view::npos) eol = text.size();
    const std::string_view line = text.substr(pos, eol - pos);
    pos = eol + 1;
    if (line.size() > series.size() && line.substr(0, series.size()) == series && line[series.size()] == ' ') {
      return std::strtod(std::string(line.substr(series.size() + 1)).c_str(), nullptr);
    }
  }
  return std::nullopt;
}

double metric_sum(std::string_view text, std::string_view name) {
  double total = 0;
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t eol = text.find('\n', pos);
    if (eol == std::string_view::npos) eol = text.size();
    const std::string_view line = text.substr(pos, eol - pos);
    pos = eol + 1;
    if (line.size() <= name.size() || line.substr(0, name.size()) != name) continue;
    const char next = line[name.size()];
    if (next != ' ' && next != '{') continue;
    const std::size_t space = line.rfind(' ');
    total += std::strtod(std::string(line.substr(space + 1)).c_str(), nullptr);
  }
  return total;
}

std::optional<double> open_connections(std::uint16_t port) {
  const std::string text = scrape_metrics(port);
  if (text.empty()) return std::nullopt;
  return metric_sum(text, "warrant_connections_open");
}

bool wait_until(const std::function<bool()>& condition, milliseconds timeout) {
  const auto deadline = steady::now() + timeout;
  while (true) {
    if (condition()) return true;
    if (steady::now() >= deadline) return false;
    std::this_thread::sleep_for(20ms);
  }
}

std::size_t raise_fd_limit(std::size_t want) {
  rlimit lim{};
  getrlimit(RLIMIT_NOFILE, &lim);
  if (lim.rlim_cur < want) {
    lim.rlim_cur = lim.rlim_max == RLIM_INFINITY ? want : std::min<rlim_t>(want, lim.rlim_max);
    setrlimit(RLIMIT_NOFILE, &lim);
    getrlimit(RLIMIT_NOFILE, &lim);
  }
  return static_cast<std::size_t>(lim.rlim_cur);
}

}  // namespace warrant::integration

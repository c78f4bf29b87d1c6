#include "tools/ctl_http.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstring>

#include "generated/build_info.h"

namespace warrant::tools {
namespace {

using steady = std::chrono::steady_clock;

char ascii_lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; }

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (ascii_lower(a[i]) != ascii_lower(b[i])) return false;
  }
  return true;
}

std::string_view trim(std::string_view v) {
  while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
  while (!v.empty() && (v.back() == ' ' || v.back() == '\t' || v.back() == '\r')) v.remove_suffix(1);
  return v;
}

int remaining_ms(steady::time_point deadline) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - steady::now()).count();
  return left <= 0 ? 0 : static_cast<int>(left);
}

// Waits for `events` on `fd` until the deadline: 1 ready, 0 timed out, -1 error (errno set).
int wait_for(int fd, short events, steady::time_point deadline) {
  while (true) {
    pollfd p{fd, events, 0};
    const int rc = ::poll(&p, 1, remaining_ms(deadline));
    if (rc < 0 && errno == EINTR) continue;
    if (rc <= 0) return rc;
    return 1;
  }
}

class socket_fd {
 public:
  explicit socket_fd(int fd) : _fd(fd) {}
  ~socket_fd() {
    if (_fd >= 0) ::close(_fd);
  }
  socket_fd(const socket_fd&) = delete;
  socket_fd& operator=(const socket_fd&) = delete;
  int get() const { return _fd; }

 private:
  int _fd;
};

// A non-blocking connect to one address, finished within the deadline. The fd, or -1 with
// `err` (an errno value, or ETIMEDOUT).
int connect_one(const addrinfo& ai, steady::time_point deadline, int& err) {
  const int fd = ::socket(ai.ai_family, ai.ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai.ai_protocol);
  if (fd < 0) {
    err = errno;
    return -1;
  }
  if (::connect(fd, ai.ai_addr, ai.ai_addrlen) == 0) return fd;
  if (errno != EINPROGRESS) {
    err = errno;
    ::close(fd);
    return -1;
  }
  const int ready = wait_for(fd, POLLOUT, deadline);
  int so_error = 0;
  socklen_t len = sizeof so_error;
  if (ready <= 0) {
    err = ready == 0 ? ETIMEDOUT : errno;
  } else if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &so_error, &len) != 0) {
    err = errno;
  } else if (so_error != 0) {
    err = so_error;
  } else {
    return fd;
  }
  ::close(fd);
  return -1;
}

http_outcome connect_to(const http_url& url, steady::time_point deadline, int& fd_out) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV;
  addrinfo* list = nullptr;
  const std::string port = std::to_string(url.port);
  const int rc = ::getaddrinfo(url.host.c_str(), port.c_str(), &hints, &list);
  if (rc != 0) {
    return {http_errc::resolve_failed, fmt::format("cannot resolve '{}': {}", url.host, gai_strerror(rc))};
  }
  int last_err = ECONNREFUSED;
  for (const addrinfo* ai = list; ai != nullptr; ai = ai->ai_next) {
    const int fd = connect_one(*ai, deadline, last_err);
    if (fd >= 0) {
      ::freeaddrinfo(list);
      fd_out = fd;
      return {};
    }
    if (last_err == ETIMEDOUT) break;
  }
  ::freeaddrinfo(list);
  if (last_err == ETIMEDOUT) {
    return {http_errc::timed_out, fmt::format("timed out connecting to {}", url.authority())};
  }
  return {http_errc::connect_failed, fmt::format("cannot connect to {}: {}", url.authority(), std::strerror(last_err))};
}

http_outcome send_all(int fd, std::string_view bytes, steady::time_point deadline, const http_url& url) {
  while (!bytes.empty()) {
    const ssize_t n = ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n > 0) {
      bytes.remove_prefix(static_cast<std::size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      const int ready = wait_for(fd, POLLOUT, deadline);
      if (ready == 0) return {http_errc::timed_out, fmt::format("timed out sending to {}", url.authority())};
      if (ready < 0) return {http_errc::io_error, fmt::format("sending to {}: {}", url.authority(), std::strerror(errno))};
      continue;
    }
    return {http_errc::io_error, fmt::format("sending to {}: {}", url.authority(), std::strerror(errno))};
  }
  return {};
}

// Appends what arrives to `buf`: >0 bytes read, 0 end of stream, -1 error (outcome filled).
ssize_t receive_some(int fd, std::string& buf, steady::time_point deadline, const http_url& url, http_outcome& o) {
  char chunk[16 * 1024];
  while (true) {
    const ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
    if (n >= 0) {
      buf.append(chunk, static_cast<std::size_t>(n));
      return n;
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      const int ready = wait_for(fd, POLLIN, deadline);
      if (ready > 0) continue;
      o = ready == 0 ? http_outcome{http_errc::timed_out, fmt::format("timed out waiting for {}", url.authority())}
                     : http_outcome{http_errc::io_error, fmt::format("reading from {}: {}", url.authority(), std::strerror(errno))};
      return -1;
    }
    o = {http_errc::io_error, fmt::format("reading from {}: {}", url.authority(), std::strerror(errno))};
    return -1;
  }
}

std::string build_request(const http_url& url, const http_request& request) {
  std::string out = fmt::format("{} {}{} HTTP/1.1\r\nHost: {}\r\nUser-Agent: warrantctl/{}\r\nAccept: application/json\r\n"
                                "Connection: close\r\n",
                                request.method, url.base_path, request.target, url.authority(), build::version);
  for (const auto& [name, value] : request.headers) out.append(fmt::format("{}: {}\r\n", name, value));
  if (!request.body.empty()) out.append("Content-Type: application/json\r\n");
  if (!request.body.empty() || request.method == "POST" || request.method == "PUT") {
    out.append(fmt::format("Content-Length: {}\r\n", request.body.size()));
  }
  out.append("\r\n");
  out.append(request.body);
  return out;
}

// Reads the rest of the body after the head: by Content-Length, or to the end of the stream.
http_outcome read_body(int fd, std::string& buf, std::size_t head_bytes, http_response& out, steady::time_point deadline,
                       const http_url& url) {
  const std::string transfer = out.header("transfer-encoding");
  if (!transfer.empty() && !iequals(transfer, "identity")) {
    return {http_errc::malformed_response, fmt::format("{} answered with Transfer-Encoding: {} (not supported)",
                                                       url.authority(), transfer)};
  }
  const std::string length_text = out.header("content-length");
  std::optional<std::size_t> length;
  if (!length_text.empty()) {
    std::size_t n = 0;
    auto [end, ec] = std::from_chars(length_text.data(), length_text.data() + length_text.size(), n);
    if (ec != std::errc() || end != length_text.data() + length_text.size()) {
      return {http_errc::malformed_response, fmt::format("{} sent a bad Content-Length '{}'", url.authority(), length_text)};
    }
    if (n > response_body_bytes_max) {
      return {http_errc::response_too_large, fmt::format("{} sent a body of {} bytes (limit {})", url.authority(), n,
                                                         response_body_bytes_max)};
    }
    length = n;
  }
  const bool no_body = (out.status >= 100 && out.status < 200) || out.status == 204 || out.status == 304;
  if (no_body) length = 0;
  http_outcome o;
  while (!length || buf.size() - head_bytes < *length) {
    if (buf.size() - head_bytes > response_body_bytes_max) {
      return {http_errc::response_too_large, fmt::format("{} sent more than {} body bytes", url.authority(),
                                                         response_body_bytes_max)};
    }
    const ssize_t n = receive_some(fd, buf, deadline, url, o);
    if (n < 0) return o;
    if (n == 0) {
      if (!length) break;  // no Content-Length: the body ends with the stream
      return {http_errc::io_error, fmt::format("{} closed the connection after {} of {} body bytes", url.authority(),
                                               buf.size() - head_bytes, *length)};
    }
  }
  out.body = buf.substr(head_bytes, length.value_or(buf.size() - head_bytes));
  return {};
}

}  // namespace

std::string http_url::authority() const {
  if (host.find(':') != std::string::npos) return fmt::format("[{}]:{}", host, port);
  return fmt::format("{}:{}", host, port);
}

std::optional<http_url> parse_http_url(std::string_view text, std::string& error) {
  constexpr std::string_view scheme = "http://";
  if (text.size() < scheme.size() || !iequals(text.substr(0, scheme.size()), scheme)) {
    error = text.rfind("https://", 0) == 0
                ? "https is not supported: point --url at warrantd's plain HTTP listener (http://HOST:PORT)"
                : fmt::format("'{}' is not an http:// URL", text);
    return std::nullopt;
  }
  std::string_view rest = text.substr(scheme.size());
  const std::size_t slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  std::string_view path = slash == std::string_view::npos ? std::string_view{} : rest.substr(slash);
  if (authority.find('@') != std::string_view::npos || path.find_first_of("?#") != std::string_view::npos) {
    error = fmt::format("'{}': user info, queries and fragments are not allowed in --url", text);
    return std::nullopt;
  }
  http_url url;
  std::optional<std::string_view> port_text;  // present (maybe empty) when a ':' follows the host
  if (!authority.empty() && authority.front() == '[') {
    const std::size_t close = authority.find(']');
    if (close == std::string_view::npos) {
      error = fmt::format("'{}': unterminated IPv6 literal", text);
      return std::nullopt;
    }
    url.host = authority.substr(1, close - 1);
    const std::string_view after = authority.substr(close + 1);
    if (!after.empty() && after.front() != ':') {
      error = fmt::format("'{}': unexpected text after the IPv6 literal", text);
      return std::nullopt;
    }
    if (!after.empty()) port_text = after.substr(1);
  } else {
    const std::size_t colon = authority.find(':');
    url.host = authority.substr(0, colon);
    if (colon != std::string_view::npos) port_text = authority.substr(colon + 1);
  }
  if (url.host.empty()) {
    error = fmt::format("'{}' has no host", text);
    return std::nullopt;
  }
  if (port_text) {
    unsigned port = 0;
    auto [end, ec] = std::from_chars(port_text->data(), port_text->data() + port_text->size(), port);
    if (port_text->empty() || ec != std::errc() || end != port_text->data() + port_text->size() || port == 0 ||
        port > 65535) {
      error = fmt::format("'{}' has a bad port", text);
      return std::nullopt;
    }
    url.port = static_cast<std::uint16_t>(port);
  }
  while (!path.empty() && path.back() == '/') path.remove_suffix(1);
  url.base_path = path;
  return url;
}

std::string encode_path_segment(std::string_view segment) {
  std::string out;
  for (const char c : segment) {
    const auto u = static_cast<unsigned char>(c);
    if (std::isalnum(u) || c == '-' || c == '.' || c == '_' || c == '~') {
      out.push_back(c);
    } else {
      out.append(fmt::format("%{:02X}", static_cast<unsigned>(u)));
    }
  }
  return out;
}

std::string http_response::header(std::string_view name) const {
  for (const auto& [n, v] : headers) {
    if (iequals(n, name)) return v;
  }
  return {};
}

std::string_view http_errc_name(http_errc e) {
  switch (e) {
    case http_errc::ok: return "ok";
    case http_errc::resolve_failed: return "resolve failed";
    case http_errc::connect_failed: return "connect failed";
    case http_errc::timed_out: return "timed out";
    case http_errc::io_error: return "I/O error";
    case http_errc::malformed_response: return "malformed response";
    case http_errc::response_too_large: return "response too large";
  }
  return "?";
}

bool parse_response_head(std::string_view head, http_response& out) {
  const std::size_t line_end = head.find("\r\n");
  if (line_end == std::string_view::npos) return false;
  const std::string_view status_line = head.substr(0, line_end);
  // "HTTP/1.1 200 OK": version, a space, three digits, then an optional reason.
  if (status_line.size() < 12 || status_line.substr(0, 7) != "HTTP/1." || status_line[8] != ' ') return false;
  int status = 0;
  auto [end, ec] = std::from_chars(status_line.data() + 9, status_line.data() + 12, status);
  if (ec != std::errc() || end != status_line.data() + 12 || status < 100 || status > 999) return false;
  if (status_line.size() > 12 && status_line[12] != ' ') return false;
  out.status = status;
  out.reason = status_line.size() > 13 ? std::string(status_line.substr(13)) : std::string();
  out.headers.clear();
  std::string_view rest = head.substr(line_end + 2);
  while (true) {
    const std::size_t eol = rest.find("\r\n");
    if (eol == std::string_view::npos) return false;
    const std::string_view line = rest.substr(0, eol);
    rest.remove_prefix(eol + 2);
    if (line.empty()) return true;
    const std::size_t colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) return false;
    out.headers.emplace_back(std::string(line.substr(0, colon)), std::string(trim(line.substr(colon + 1))));
  }
}

http_outcome http_call(const http_url& url, const http_request& request, int timeout_ms, http_response& out) {
  const auto deadline = steady::now() + std::chrono::milliseconds(timeout_ms);
  int raw_fd = -1;
  if (http_outcome o = connect_to(url, deadline, raw_fd); !o.ok()) return o;
  const socket_fd fd(raw_fd);
  if (http_outcome o = send_all(fd.get(), build_request(url, request), deadline, url); !o.ok()) return o;

  std::string buf;
  http_outcome o;
  while (true) {
    // Each head found is parsed; a 1xx interim answer is dropped and the next head awaited.
    const std::size_t head_end = buf.find("\r\n\r\n");
    if (head_end != std::string::npos) {
      if (!parse_response_head(std::string_view(buf).substr(0, head_end + 4), out)) {
        return {http_errc::malformed_response, fmt::format("{} did not answer with HTTP/1.x", url.authority())};
      }
      if (out.status >= 200) return read_body(fd.get(), buf, head_end + 4, out, deadline, url);
      buf.erase(0, head_end + 4);
      continue;
    }
    if (buf.size() > response_header_bytes_max) {
      return {http_errc::response_too_large, fmt::format("{} sent a response head over {} bytes", url.authority(),
                                                         response_header_bytes_max)};
    }
    const ssize_t n = receive_some(fd.get(), buf, deadline, url, o);
    if (n < 0) return o;
    if (n == 0) {
      return {http_errc::io_error, buf.empty() ? fmt::format("{} closed the connection without answering", url.authority())
                                               : fmt::format("{} closed the connection mid-response", url.authority())};
    }
  }
}

}  // namespace warrant::tools

// tests/tools/ctl_http_test.cc: warrantctl's HTTP client (tools/ctl_http.h) against scripted
// servers on loopback: URL forms, request bytes, response framing, timeouts, failures.
#include "tools/ctl_http.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <functional>
#include <thread>

namespace warrant::tools {
namespace {

using namespace std::chrono_literals;

// Listens on a loopback literal, port 0, and runs `script` on the first connection it accepts.
class scripted_server {
 public:
  scripted_server(const char* host, std::function<void(int fd, std::string request)> script) {
    const bool v6 = std::string_view(host).find(':') != std::string_view::npos;
    _fd = ::socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_storage ss{};
    socklen_t len = 0;
    if (v6) {
      auto* a = reinterpret_cast<sockaddr_in6*>(&ss);
      a->sin6_family = AF_INET6;
      ::inet_pton(AF_INET6, host, &a->sin6_addr);
      len = sizeof *a;
    } else {
      auto* a = reinterpret_cast<sockaddr_in*>(&ss);
      a->sin_family = AF_INET;
      ::inet_pton(AF_INET, host, &a->sin_addr);
      len = sizeof *a;
    }
    if (::bind(_fd, reinterpret_cast<sockaddr*>(&ss), len) != 0 || ::listen(_fd, 4) != 0) {
      ::close(_fd);
      _fd = -1;
      return;
    }
    ::getsockname(_fd, reinterpret_cast<sockaddr*>(&ss), &len);
    _port = ntohs(v6 ? reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port : reinterpret_cast<sockaddr_in*>(&ss)->sin_port);
    _thread = std::thread([this, script = std::move(script)] {
      pollfd p{_fd, POLLIN, 0};
      if (::poll(&p, 1, 5000) <= 0) return;
      const int conn = ::accept4(_fd, nullptr, nullptr, SOCK_CLOEXEC);
      if (conn < 0) return;
      std::string request = read_request(conn);
      _request = request;
      script(conn, std::move(request));
      ::close(conn);
    });
  }
  ~scripted_server() {
    if (_thread.joinable()) _thread.join();
    if (_fd >= 0) ::close(_fd);
  }
  bool listening() const { return _fd >= 0; }
  std::uint16_t port() const { return _port; }
  // What the client sent; valid once the client call has returned and the server finished.
  std::string request() {
    if (_thread.joinable()) _thread.join();
    return _request;
  }

 private:
  static std::string read_request(int fd) {
    std::string buf;
    char chunk[4096];
    while (true) {
      const std::size_t head_end = buf.find("\r\n\r\n");
      if (head_end != std::string::npos) {
        const std::size_t cl = buf.find("Content-Length: ");
        const std::size_t length = cl == std::string::npos ? 0 : std::stoul(buf.substr(cl + 16));
        if (buf.size() >= head_end + 4 + length) return buf;
      }
      const ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
      if (n <= 0) return buf;
      buf.append(chunk, static_cast<std::size_t>(n));
    }
  }

  int _fd = -1;
  std::uint16_t _port = 0;
  std::thread _thread;
  std::string _request;
};

void send_text(int fd, std::string_view text) { ::send(fd, text.data(), text.size(), MSG_NOSIGNAL); }

http_url loopback(std::uint16_t port, std::string host = "127.0.0.1") {
  http_url url;
  url.host = std::move(host);
  url.port = port;
  return url;
}

http_request get(std::string_view target) {
  http_request r;
  r.method = "GET";
  r.target = target;
  return r;
}

TEST(parse_http_url, accepts_ipv4_ipv6_names_and_a_base_path) {
  std::string error;
  auto url = parse_http_url("http://127.0.0.1:8080", error);
  ASSERT_TRUE(url) << error;
  EXPECT_EQ(url->host, "127.0.0.1");
  EXPECT_EQ(url->port, 8080);
  EXPECT_EQ(url->base_path, "");

  url = parse_http_url("http://[::1]:9000/warrant/", error);
  ASSERT_TRUE(url) << error;
  EXPECT_EQ(url->host, "::1");
  EXPECT_EQ(url->port, 9000);
  EXPECT_EQ(url->base_path, "/warrant");
  EXPECT_EQ(url->authority(), "[::1]:9000");

  url = parse_http_url("HTTP://localhost", error);
  ASSERT_TRUE(url) << error;
  EXPECT_EQ(url->host, "localhost");
  EXPECT_EQ(url->port, 80);
  EXPECT_EQ(url->authority(), "localhost:80");
}

TEST(parse_http_url, refuses_everything_else) {
  for (const char* bad : {"https://127.0.0.1:8443", "ftp://h", "127.0.0.1:8080", "http://", "http://:80", "http://h:0",
                          "http://h:65536", "http://h:", "http://h:8x", "http://[::1", "http://[::1]x", "http://u@h",
                          "http://h/path?q=1", "http://h/#frag"}) {
    std::string error;
    EXPECT_FALSE(parse_http_url(bad, error)) << bad;
    EXPECT_FALSE(error.empty()) << bad;
  }
  std::string error;
  parse_http_url("https://h", error);
  EXPECT_NE(error.find("https is not supported"), std::string::npos) << error;
}

TEST(encode_path_segment, keeps_unreserved_and_escapes_the_rest) {
  EXPECT_EQ(encode_path_segment("01a209f3-8045-7b72-958f-662560d5077b"), "01a209f3-8045-7b72-958f-662560d5077b");
  EXPECT_EQ(encode_path_segment("a b/c?d%"), "a%20b%2Fc%3Fd%25");
  EXPECT_EQ(encode_path_segment("~._-"), "~._-");
}

TEST(parse_response_head, splits_status_reason_and_headers) {
  http_response r;
  ASSERT_TRUE(parse_response_head("HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\nX-A:  b \r\n\r\n", r));
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.reason, "Not Found");
  EXPECT_EQ(r.header("content-type"), "application/json");
  EXPECT_EQ(r.header("x-a"), "b");
  EXPECT_EQ(r.header("missing"), "");
  ASSERT_TRUE(parse_response_head("HTTP/1.0 200\r\n\r\n", r));
  EXPECT_EQ(r.status, 200);
  for (const char* bad : {"HTTP/2 200 OK\r\n\r\n", "HTTP/1.1 20 OK\r\n\r\n", "HTTP/1.1 2000 OK\r\n\r\n",
                          "HTTP/1.1 200 OK\r\nno colon\r\n\r\n", "HTTP/1.1 200 OK\r\n", "SIP/1.1 200 OK\r\n\r\n"}) {
    EXPECT_FALSE(parse_response_head(bad, r)) << bad;
  }
}

TEST(http_call, sends_the_request_and_reads_a_content_length_body) {
  scripted_server server("127.0.0.1", [](int fd, std::string) {
    send_text(fd, "HTTP/1.1 201 Created\r\nContent-Type: application/json\r\nContent-Length: 11\r\n\r\n{\"id\":\"x\"}\n");
  });
  ASSERT_TRUE(server.listening());
  http_url url = loopback(server.port());
  url.base_path = "/base";
  http_request req;
  req.method = "POST";
  req.target = "/v1/things";
  req.body = R"({"a":1})";
  req.headers.emplace_back("x-api-key", "secret-key");
  http_response res;
  const http_outcome o = http_call(url, req, 5000, res);
  ASSERT_TRUE(o.ok()) << o.message;
  EXPECT_EQ(res.status, 201);
  EXPECT_EQ(res.body, "{\"id\":\"x\"}\n");
  const std::string sent = server.request();
  EXPECT_EQ(sent.rfind("POST /base/v1/things HTTP/1.1\r\n", 0), 0u) << sent;
  EXPECT_NE(sent.find("\r\nHost: 127.0.0.1:" + std::to_string(server.port()) + "\r\n"), std::string::npos) << sent;
  EXPECT_NE(sent.find("\r\nx-api-key: secret-key\r\n"), std::string::npos);
  EXPECT_NE(sent.find("\r\nContent-Type: application/json\r\n"), std::string::npos);
  EXPECT_NE(sent.find("\r\nContent-Length: 7\r\n"), std::string::npos);
  EXPECT_NE(sent.find("\r\nConnection: close\r\n"), std::string::npos);
  EXPECT_EQ(sent.substr(sent.size() - 7), R"({"a":1})");
}

TEST(http_call, reaches_an_ipv6_literal) {
  scripted_server server("::1", [](int fd, std::string) { send_text(fd, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}"); });
  if (!server.listening()) GTEST_SKIP() << "no IPv6 loopback here";
  http_response res;
  const http_outcome o = http_call(loopback(server.port(), "::1"), get("/"), 5000, res);
  ASSERT_TRUE(o.ok()) << o.message;
  EXPECT_EQ(res.body, "{}");
  EXPECT_NE(server.request().find("\r\nHost: [::1]:" + std::to_string(server.port()) + "\r\n"), std::string::npos);
}

TEST(http_call, reaches_localhost_whichever_address_it_resolves_to_first) {
  scripted_server server("127.0.0.1", [](int fd, std::string) { send_text(fd, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"); });
  ASSERT_TRUE(server.listening());
  http_response res;
  const http_outcome o = http_call(loopback(server.port(), "localhost"), get("/"), 5000, res);
  ASSERT_TRUE(o.ok()) << o.message;
  EXPECT_EQ(res.body, "ok");
}

TEST(http_call, without_content_length_the_body_ends_with_the_stream) {
  scripted_server server("127.0.0.1", [](int fd, std::string) { send_text(fd, "HTTP/1.1 200 OK\r\n\r\nuntil the end"); });
  http_response res;
  const http_outcome o = http_call(loopback(server.port()), get("/"), 5000, res);
  ASSERT_TRUE(o.ok()) << o.message;
  EXPECT_EQ(res.body, "until the end");
}

TEST(http_call, skips_an_interim_1xx_answer) {
  scripted_server server("127.0.0.1", [](int fd, std::string) {
    send_text(fd, "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\ndone");
  });
  http_response res;
  const http_outcome o = http_call(loopback(server.port()), get("/"), 5000, res);
  ASSERT_TRUE(o.ok()) << o.message;
  EXPECT_EQ(res.status, 200);
  EXPECT_EQ(res.body, "done");
}

TEST(http_call, refuses_chunked_and_garbage_and_oversized_answers) {
  struct scenario {
    const char* answer;
    http_errc expected;
  };
  for (const scenario& s : {scenario{"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n",
                                     http_errc::malformed_response},
                            scenario{"<html>hello</html>\r\n\r\n", http_errc::malformed_response},
                            scenario{"HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n", http_errc::malformed_response},
                            scenario{"HTTP/1.1 200 OK\r\nContent-Length: 999999999999\r\n\r\n", http_errc::response_too_large}}) {
    scripted_server server("127.0.0.1", [&s](int fd, std::string) { send_text(fd, s.answer); });
    http_response res;
    const http_outcome o = http_call(loopback(server.port()), get("/"), 5000, res);
    EXPECT_EQ(o.code, s.expected) << s.answer << " → " << o.message;
  }
}

TEST(http_call, a_response_cut_short_is_an_io_error) {
  scripted_server server("127.0.0.1", [](int fd, std::string) { send_text(fd, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc"); });
  http_response res;
  const http_outcome o = http_call(loopback(server.port()), get("/"), 5000, res);
  EXPECT_EQ(o.code, http_errc::io_error) << o.message;
  EXPECT_NE(o.message.find("3 of 10"), std::string::npos) << o.message;
}

TEST(http_call, a_silent_server_times_out) {
  scripted_server server("127.0.0.1", [](int fd, std::string) {
    pollfd p{fd, POLLIN, 0};
    ::poll(&p, 1, 5000);  // until the client gives up and closes
  });
  http_response res;
  const auto start = std::chrono::steady_clock::now();
  const http_outcome o = http_call(loopback(server.port()), get("/"), 300, res);
  const auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(o.code, http_errc::timed_out) << o.message;
  EXPECT_GE(elapsed, 250ms);
  EXPECT_LT(elapsed, 3s);
}

TEST(http_call, a_closed_port_is_a_connect_failure) {
  std::uint16_t port = 0;
  {
    scripted_server probe("127.0.0.1", [](int, std::string) {});
    port = probe.port();
    // The probe accepts nothing: connect once so its thread ends, then the port closes.
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
    ::close(fd);
  }
  http_response res;
  const http_outcome o = http_call(loopback(port), get("/"), 2000, res);
  EXPECT_EQ(o.code, http_errc::connect_failed) << o.message;
  EXPECT_NE(o.message.find("127.0.0.1:" + std::to_string(port)), std::string::npos) << o.message;
}

}  // namespace
}  // namespace warrant::tools

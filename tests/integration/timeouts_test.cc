// Read timeouts: a stalled or trickling request gets 408 and is closed; an idle connection is
// closed silently. Bounds are generous on purpose (the server's timer tick is 100 ms and the
// machine may be busy): the assertions check the order of magnitude, never exact timings.
#include <sys/socket.h>

#include "tests/integration/harness.h"

namespace warrant::integration {
namespace {

// Reads the 408 that must follow a stalled request, then EOF.
void expect_timeout_answer(client& c) {
  http_message m;
  ASSERT_EQ(c.read_response(m, false, 10s), read_status::ok) << to_string(c.last_read());
  EXPECT_TRUE(is_json_error(m, 408, "REQUEST_TIMEOUT"));
  EXPECT_EQ(m.header("Connection"), "close");
  EXPECT_EQ(c.wait_closed(), read_status::eof);
  EXPECT_TRUE(c.buffered().empty()) << c.buffered();
}

TEST(Timeouts, StalledHeadersGet408) {
  server_process server({"--shards", "1", "--header-timeout-ms", "300"});
  ASSERT_TRUE(server.ready()) << server.stderr_text();
  client c(server.port());
  ASSERT_TRUE(c.connected());
  const auto start = steady::now();
  ASSERT_TRUE(c.send("GET /healthz HTTP/1.1\r\nHost: warrant.test\r\n"));
  expect_timeout_answer(c);
  const double elapsed = seconds_since(start);
  EXPECT_GT(elapsed, 0.15);
  EXPECT_LT(elapsed, 3.0);
  const std::string text = scrape_metrics(server.port());
  EXPECT_EQ(metric_value(text, R"(warrant_http_timeouts_total{kind="header"})"), 1.0);
  EXPECT_EQ(metric_value(text, R"(warrant_http_requests_total{route="unmatched",method="ANY",code="4xx"})"), 1.0);
}

TEST(Timeouts, StalledBodyGets408) {
  server_process server({"--shards", "1", "--body-timeout-ms", "300"});
  ASSERT_TRUE(server.ready()) << server.stderr_text();
  client c(server.port());
  ASSERT_TRUE(c.connected());
  const auto start = steady::now();
  ASSERT_TRUE(c.send(get("/healthz", "Content-Length: 10\r\n") + "abc"));
  expect_timeout_answer(c);
  const double elapsed = seconds_since(start);
  EXPECT_GT(elapsed, 0.15);
  EXPECT_LT(elapsed, 3.0);
  EXPECT_EQ(metric_value(scrape_metrics(server.port()), R"(warrant_http_timeouts_total{kind="body"})"), 1.0);
}

TEST(Timeouts, StalledSecondRequestOnKeepAliveConnectionGets408) {
  server_process server({"--shards", "1", "--header-timeout-ms", "300"});
  ASSERT_TRUE(server.ready()) << server.stderr_text();
  client c(server.port());
  ASSERT_TRUE(c.connected());
  ASSERT_TRUE(c.roundtrip(get("/healthz")));
  ASSERT_TRUE(c.send("GET /readyz HTTP/1.1\r\n"));
  expect_timeout_answer(c);
}

// Sends `bytes` one byte every 100 ms until the server answers or closes; meanwhile checks
// that other clients are served. Returns the seconds from the first byte to the answer.
double trickle(client& c, std::string_view bytes, std::uint16_t port, int& others_served) {
  const auto start = steady::now();
  for (char byte : bytes) {
    if (!c.send(std::string_view(&byte, 1))) break;  // closed on us
    if (!c.quiet_for(100ms)) break;                  // the answer (or EOF) is here
    const auto other = fetch(port, get("/healthz"));
    if (other && other->status == 200) ++others_served;
    if (seconds_since(start) > 10) break;
  }
  c.quiet_for(5s);  // wait for the answer if the bytes ran out first
  return seconds_since(start);
}

TEST(Timeouts, SlowLorisHeadersAreCutOffByTheHeaderTimeout) {
  server_process server({"--shards", "1", "--header-timeout-ms", "500"});
  ASSERT_TRUE(server.ready()) << server.stderr_text();
  client c(server.port());
  ASSERT_TRUE(c.connected());
  std::string endless = "GET /healthz HTTP/1.1\r\nHost: warrant.test\r\nX-Slow: ";
  endless.append(200, 'z');
  int others_served = 0;
  const double elapsed = trickle(c, endless, server.port(), others_served);
  EXPECT_GT(elapsed, 0.3) << "the timeout counts from the first byte";
  EXPECT_LT(elapsed, 3.0) << "trickling bytes must not extend the header timeout";
  expect_timeout_answer(c);
  EXPECT_GE(others_served, 2) << "other clients are served while one trickles";
  EXPECT_EQ(fetch(server.port(), get("/healthz"))->status, 200);
}

TEST(Timeouts, SlowLorisOnASecondRequestCountsFromItsFirstByte) {
  server_process server({"--shards", "1", "--header-timeout-ms", "600", "--idle-timeout-ms", "5000"});
  ASSERT_TRUE(server.ready()) << server.stderr_text();
  client c(server.port());
  ASSERT_TRUE(c.connected());
  ASSERT_TRUE(c.roundtrip(get("/healthz")));
  std::this_thread::sleep_for(400ms);  // idle, within the idle timeout
  int others_served = 0;
  const double elapsed = trickle(c, "GET /readyz HTTP/1.1\r\nHost: warrant.test\r\nX-Slow: zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz",
                                 server.port(), others_served);
  EXPECT_GT(elapsed, 0.4) << "the idle time before the request does not count";
  EXPECT_LT(elapsed, 3.0);
  expect_timeout_answer(c);
}

TEST(Timeouts, SlowBodyIsCutOffByTheBodyTimeout) {
  server_process server({"--shards", "1", "--body-timeout-ms", "500"});
  ASSERT_TRUE(server.ready()) << server.stderr_text();
  client c(server.port());
  ASSERT_TRUE(c.connected());
  ASSERT_TRUE(c.send(get("/healthz", "Content-Length: 1000\r\n")));
  int others_served = 0;
  const double elapsed = trickle(c, std::string(100, 'b'), server.port(), others_served);
  EXPECT_GT(elapsed, 0.3);
  EXPECT_LT(elapsed, 3.0);
  expect_timeout_answer(c);
  EXPECT_GE(others_served, 2);
}

TEST(Timeouts, FreshConnectionTimeoutCountsFromAccept) {
  server_process server({"--shards", "1", "--header-timeout-ms", "1500"});
  ASSERT_TRUE(server.ready()) << server.stderr_text();
  client c(server.port());
  ASSERT_TRUE(c.connected());
  ASSERT_TRUE(c.roundtrip(get("/healthz")));  // the server has accepted it
  client fresh(server.port());
  ASSERT_TRUE(fresh.connected());
  ASSERT_TRUE(fresh.send("G"));  // make sure it is accepted before the clock below starts
  std::this_thread::sleep_for(1000ms);
  const auto start = steady::now();
  ASSERT_TRUE(fresh.send("ET /healthz HTTP/1.1\r\n"));
  expect_timeout_answer(fresh);
  EXPECT_LT(seconds_since(start), 1.3) << "a late byte does not restart the header timeout";
}

TEST(Timeouts, IdleKeepAliveConnectionIsClosedSilently) {
  server_process server({"--shards", "1", "--idle-timeout-ms", "300"});
  ASSERT_TRUE(server.ready()) << server.stderr_text();
  client c(server.port());
  ASSERT_TRUE(c.connected());
  ASSERT_TRUE(c.roundtrip(get("/healthz")));
  const auto start = steady::now();
  EXPECT_EQ(c.wait_closed(), read_status::eof);
  EXPECT_TRUE(c.buffered().empty()) << "no 408 for an idle connection: " << c.buffered();
  const double elapsed = seconds_since(start);
  EXPECT_GT(elapsed, 0.15);
  EXPECT_LT(elapsed, 3.0);
  EXPECT_EQ(metric_value(scrape_metrics(server.port()), R"(warrant_http_timeouts_total{kind="idle"})"), 1.0);
}

TEST(Timeouts, SilentFreshConnectionIsClosedSilently) {
  server_process server({"--shards", "1", "--header-timeout-ms", "300"});
  ASSERT_TRUE(server.ready()) << server.stderr_text();
  client c(server.port());
  ASSERT_TRUE(c.connected());
  const auto start = steady::now();
  EXPECT_EQ(c.wait_closed(), read_status::eof);
  EXPECT_TRUE(c.buffered().empty()) << c.buffered();
  EXPECT_LT(seconds_since(start), 3.0);
}

TEST(Timeouts, BusyConnectionIsNotTimedOut) {
  server_process server({"--shards", "1", "--idle-timeout-ms", "300", "--header-timeout-ms", "300"});
  ASSERT_TRUE(server.ready()) << server.stderr_text();
  client c(server.port());
  ASSERT_TRUE(c.connected());
  const auto start = steady::now();
  int answered = 0;
  while (seconds_since(start) < 1.2) {
    const auto m = c.roundtrip(get("/healthz"));
    ASSERT_TRUE(m) << "after " << answered << " requests: " << to_string(c.last_read());
    ++answered;
    std::this_thread::sleep_for(100ms);
  }
  EXPECT_GE(answered, 5);
}

TEST(Timeouts, ClientThatNeverReadsIsDroppedBySendTimeout) {
  server_process server({"--shards", "1", "--send-timeout-ms", "300"});
  ASSERT_TRUE(server.ready()) << server.stderr_text();
  client reader_of_nothing(server.port());
  ASSERT_TRUE(reader_of_nothing.connected());
  // Shrink our receive window so the server's sends stall quickly.
  const int small = 4096;
  setsockopt(reader_of_nothing.fd(), SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
  std::string flood;
  for (int i = 0; i < 2000; ++i) flood += get("/metrics");
  reader_of_nothing.send(flood, 3s);  // may stall once the server stops reading; that is fine
  EXPECT_TRUE(wait_until([&] { return open_connections(server.port()) == 1.0; }, 5s))
      << "the stalled connection is still open";
  EXPECT_GE(metric_value(scrape_metrics(server.port()), R"(warrant_http_timeouts_total{kind="send"})"), 1.0);
}

}  // namespace
}  // namespace warrant::integration

// Connection lifecycle under hostile or careless clients: disconnects mid-request, resets,
// half-closes, many connections at once, and the per-shard connection limit.
#include <cstring>

#include "tests/integration/harness.h"

namespace warrant::integration {
namespace {

// The server is healthy and has no connection left but the one that asks.
void expect_healthy_and_no_leftover_connections(std::uint16_t port) {
  const auto m = fetch(port, get("/healthz"));
  ASSERT_TRUE(m);
  EXPECT_EQ(m->status, 200);
  std::optional<double> open;
  EXPECT_TRUE(wait_until([&] { return (open = open_connections(port)) == 1.0; }, 5s))
      << "warrant_connections_open summed over shards: " << (open ? *open : -1);
}

TEST(Connections, ClientGoesAwayMidRequest) {
  server_process server({"--shards", "2"});
  ASSERT_TRUE(server.ready()) << server.stderr_text();
  const std::uint16_t port = server.port();
  const std::string half = "GET /healthz HTTP/1.1\r\nHost: warrant.te";
  const std::string half_body = get("/healthz", "Content-Length: 100\r\n") + "only some of it";
  for (int round = 0; round < 3; ++round) {
    {  // half a request, then FIN
      client c(port);
      ASSERT_TRUE(c.connected());
      ASSERT_TRUE(c.send(half));
      c.close();
    }
    {  // half a body, then FIN
      client c(port);
      ASSERT_TRUE(c.connected());
      ASSERT_TRUE(c.send(half_body));
      c.close();
    }
    {  // half a request, then RST
      client c(port);
      ASSERT_TRUE(c.connected());
      ASSERT_TRUE(c.send(half));
      std::this_thread::sleep_for(5ms);
      c.reset();
    }
    {  // half a body, then RST
      client c(port);
      ASSERT_TRUE(c.connected());
      ASSERT_TRUE(c.send(half_body));
      std::this_thread::sleep_for(5ms);
      c.reset();
    }
    {  // connect and RST at once
      client c(port);
      ASSERT_TRUE(c.connected());
      c.reset();
    }
  }
  expect_healthy_and_no_leftover_connections(port);
}

TEST(Connections, ClientGoesAwayWithoutReadingTheAnswer) {
  server_process server({"--shards", "2"});
  ASSERT_TRUE(server.ready()) << server.stderr_text();
  const std::uint16_t port = server.port();
  for (int round = 0; round < 3; ++round) {
    {  // a full request, then FIN without reading
      client c(port);
      ASSERT_TRUE(c.connected());
      ASSERT_TRUE(c.send(get("/metrics")));
      c.close();
    }
    {  // a full request, then RST
      client c(port);
      ASSERT_TRUE(c.connected());
      ASSERT_TRUE(c.send(get("/metrics") + get("/healthz")));
      std::this_thread::sleep_for(5ms);
      c.reset();
    }
    {  // many large answers never read (the server's sends back up), then RST
      client c(port);
      ASSERT_TRUE(c.connected());
      std::string flood;
      for (int i = 0; i < 300; ++i) flood += get("/metrics");
      ASSERT_TRUE(c.send(flood));
      std::this_thread::sleep_for(50ms);
      c.reset();
    }
  }
  expect_healthy_and_no_leftover_connections(port);
}

TEST(Connections, HalfClosedClientStillGetsItsAnswers) {
  server_process server({"--shards", "1"});
  ASSERT_TRUE(server.ready()) << server.stderr_text();
  client c(server.port());
  ASSERT_TRUE(c.connected());
  ASSERT_TRUE(c.send(get("/healthz") + get("/readyz") + get("/nope")));
  c.shutdown_write();
  http_message m;
  ASSERT_EQ(c.read_response(m), read_status::ok) << to_string(c.last_read());
  EXPECT_EQ(m.status, 200);
  ASSERT_EQ(c.read_response(m), read_status::ok) << to_string(c.last_read());
  EXPECT_EQ(m.status, 200);
  ASSERT_EQ(c.read_response(m), read_status::ok) << to_string(c.last_read());
  EXPECT_EQ(m.status, 404);
  EXPECT_EQ(c.wait_closed(), read_status::eof);
  c.close();
  expect_healthy_and_no_leftover_connections(server.port());
}

TEST(Connections, HalfClosedClientGetsEveryPipelinedAnswer) {
  // More answers than the server queues at once (it pauses reading past ~1 MiB of output):
  // the requests it held back must still be answered after the client's FIN.
  server_process server({"--shards", "1"});
  ASSERT_TRUE(server.ready()) << server.stderr_text();
  client c(server.port());
  ASSERT_TRUE(c.connected());
  constexpr int count = 600;
  std::string all;
  for (int i = 0; i < count; ++i) all += get("/metrics");
  ASSERT_TRUE(c.send(all));
  c.shutdown_write();
  for (int i = 0; i < count; ++i) {
    http_message m;
    ASSERT_EQ(c.read_response(m), read_status::ok) << "answer " << i << " of " << count << ": "
                                                    << to_string(c.last_read());
    ASSERT_EQ(m.status, 200) << i;
  }
  EXPECT_EQ(c.wait_closed(), read_status::eof);
}

TEST(Connections, HalfClosedMidRequestIsClosed) {
  server_process server({"--shards", "1"});
  ASSERT_TRUE(server.ready()) << server.stderr_text();
  client c(server.port());
  ASSERT_TRUE(c.connected());
  ASSERT_TRUE(c.send(get("/healthz") + "GET /readyz HTTP/1.1\r\nHo"));
  c.shutdown_write();
  http_message m;
  ASSERT_EQ(c.read_response(m), read_status::ok) << to_string(c.last_read());
  EXPECT_EQ(m.status, 200);
  const read_status end = c.wait_closed();
  EXPECT_TRUE(end == read_status::eof || end == read_status::reset) << to_string(end);
  c.close();
  expect_healthy_and_no_leftover_connections(server.port());
}

TEST(Connections, FiveHundredConcurrentConnections) {
  ASSERT_GE(raise_fd_limit(4096), 1200u);
  server_process server({"--shards", "2"});
  ASSERT_TRUE(server.ready()) << server.stderr_text();
  const std::uint16_t port = server.port();
  constexpr int count = 500;
  std::vector<client> clients;
  clients.reserve(count);
  for (int i = 0; i < count; ++i) {
    clients.emplace_back(port);
    ASSERT_TRUE(clients.back().connected()) << i << ": " << std::strerror(clients.back().connect_errno());
  }
  // Every connection has a request in flight at once, three rounds over.
  const std::string paths[] = {"/healthz", "/readyz", "/missing"};
  for (int round = 0; round < 3; ++round) {
    for (int i = 0; i < count; ++i) ASSERT_TRUE(clients[i].send(get(paths[(i + round) % 3]))) << i;
    for (int i = 0; i < count; ++i) {
      http_message m;
      ASSERT_EQ(clients[i].read_response(m, false, 10s), read_status::ok) << "round " << round << " client " << i;
      ASSERT_EQ(m.status, (i + round) % 3 == 2 ? 404 : 200) << i;
    }
  }
  const std::string text = scrape_metrics(port);
  EXPECT_EQ(metric_sum(text, "warrant_connections_open"), count + 1.0);
  EXPECT_GE(metric_value(text, R"(warrant_http_requests_total{route="/healthz",method="GET",code="2xx"})"), 500.0);
  EXPECT_EQ(metric_value(text, "warrant_connections_rejected_total"), 0.0);
  clients.clear();
  expect_healthy_and_no_leftover_connections(port);
}

TEST(Connections, LimitPerShardAnswers503AndCloses) {
  server_process server({"--shards", "1", "--connections-max", "4"});
  ASSERT_TRUE(server.ready()) << server.stderr_text();
  const std::uint16_t port = server.port();
  std::vector<client> held;
  for (int i = 0; i < 4; ++i) {
    held.emplace_back(port);
    ASSERT_TRUE(held.back().connected());
    ASSERT_TRUE(held.back().roundtrip(get("/healthz"))) << i;
  }
  {  // the fifth waits for the answer
    client fifth(port);
    ASSERT_TRUE(fifth.connected());
    http_message m;
    ASSERT_EQ(fifth.read_response(m), read_status::ok) << to_string(fifth.last_read());
    EXPECT_TRUE(is_json_error(m, 503, "OVERLOADED"));
    EXPECT_EQ(m.header("Retry-After"), "1");
    EXPECT_EQ(m.header("Connection"), "close");
    EXPECT_EQ(fifth.wait_closed(), read_status::eof);
  }
  {  // the sixth sends its request at once, as clients do; it must still read the 503
    client sixth(port);
    ASSERT_TRUE(sixth.connected());
    ASSERT_TRUE(sixth.send(get("/healthz")));
    http_message m;
    ASSERT_EQ(sixth.read_response(m), read_status::ok) << to_string(sixth.last_read());
    EXPECT_TRUE(is_json_error(m, 503, "OVERLOADED"));
  }
  // The held connections still work; closing one frees a slot.
  for (client& c : held) ASSERT_TRUE(c.roundtrip(get("/readyz")));
  held.pop_back();
  std::optional<http_message> m;
  EXPECT_TRUE(wait_until(
      [&] {
        m = fetch(port, get("/metrics"));
        return m && m->status == 200;
      },
      5s));
  ASSERT_TRUE(m);
  EXPECT_GE(metric_value(m->body, "warrant_connections_rejected_total"), 2.0);
  EXPECT_EQ(metric_sum(m->body, "warrant_connections_open"), 4.0);
}

}  // namespace
}  // namespace warrant::integration

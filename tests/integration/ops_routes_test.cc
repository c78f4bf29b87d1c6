// The operations routes of a running warrantd: /healthz, /readyz, /metrics, unknown paths and
// wrong methods (spec/common.md "Operations", "Errors").
#include "tests/integration/harness.h"

namespace warrant::integration {
namespace {

TEST(OpsRoutes, HealthzAnswersOkJson) {
  server_process server({"--shards", "1"});
  ASSERT_TRUE(server.ready()) << server.stderr_text();
  const auto m = fetch(server.port(), get("/healthz"));
  ASSERT_TRUE(m);
  EXPECT_EQ(m->status, 200);
  EXPECT_EQ(m->version, "HTTP/1.1");
  EXPECT_EQ(m->header("Content-Type").rfind("application/json", 0), 0u) << m->header("Content-Type");
  EXPECT_EQ(m->body, R"({"status":"ok","service":"warrant"})");
  EXPECT_TRUE(m->has_header("Date"));
  EXPECT_FALSE(m->has_header("Connection"));  // HTTP/1.1 keep-alive is implicit
}

TEST(OpsRoutes, ReadyzReportsStorage) {
  server_process server({"--shards", "1"});
  ASSERT_TRUE(server.ready()) << server.stderr_text();
  const auto m = fetch(server.port(), get("/readyz"));
  ASSERT_TRUE(m);
  EXPECT_EQ(m->status, 200);
  EXPECT_EQ(m->header("Content-Type").rfind("application/json", 0), 0u);
  EXPECT_TRUE(is_ready_body(m->body)) << m->body;
  EXPECT_EQ(m->body.rfind(R"({"status":"ready","checks":{"storage":"ok")", 0), 0u) << m->body;
}

TEST(OpsRoutes, HeadHasHeadersButNoBody) {
  server_process server({"--shards", "1"});
  ASSERT_TRUE(server.ready()) << server.stderr_text();
  client c(server.port());
  ASSERT_TRUE(c.connected());
  const auto head = c.roundtrip(request("HEAD", "/healthz"), /*head_request=*/true);
  ASSERT_TRUE(head) << to_string(c.last_read());
  EXPECT_EQ(head->status, 200);
  EXPECT_EQ(head->header("Content-Length"), "35");  // what GET would send
  EXPECT_TRUE(head->body.empty());
  // Nothing follows the head: the next response on the connection parses cleanly.
  const auto next = c.roundtrip(get("/healthz"));
  ASSERT_TRUE(next) << to_string(c.last_read());
  EXPECT_EQ(next->body, R"({"status":"ok","service":"warrant"})");
}

TEST(OpsRoutes, UnknownPathIsJson404AndKeepsTheConnection) {
  server_process server({"--shards", "1"});
  ASSERT_TRUE(server.ready()) << server.stderr_text();
  client c(server.port());
  ASSERT_TRUE(c.connected());
  for (std::string_view path : {"/nope", "/", "/healthz/extra", "/HEALTHZ", "/metrics?x=1/../"}) {
    const auto m = c.roundtrip(get(path));
    ASSERT_TRUE(m) << path << ": " << to_string(c.last_read());
    if (path == "/metrics?x=1/../") {
      EXPECT_EQ(m->status, 200) << "the query is not part of the path";
      continue;
    }
    EXPECT_TRUE(is_json_error(*m, 404, "NOT_FOUND")) << path;
    EXPECT_NE(m->header("Connection"), "close") << path;
  }
}

TEST(OpsRoutes, WrongMethodIsJson405WithAllow) {
  server_process server({"--shards", "1"});
  ASSERT_TRUE(server.ready()) << server.stderr_text();
  client c(server.port());
  ASSERT_TRUE(c.connected());
  for (std::string_view method : {"POST", "PUT", "DELETE", "PATCH", "OPTIONS", "BREW"}) {
    for (std::string_view path : {"/healthz", "/readyz", "/metrics"}) {
      const auto m = c.roundtrip(request(method, path, "Content-Length: 0\r\n"));
      ASSERT_TRUE(m) << method << " " << path << ": " << to_string(c.last_read());
      EXPECT_TRUE(is_json_error(*m, 405, "METHOD_NOT_ALLOWED")) << method << " " << path;
      EXPECT_EQ(m->header("Allow"), "GET, HEAD") << method << " " << path;
    }
  }
  // A 405 for a request with a body consumes the body; the connection stays usable.
  const auto m = c.roundtrip(request("POST", "/healthz", "Content-Type: application/json\r\nContent-Length: 2\r\n") +
                             "{}");
  ASSERT_TRUE(m);
  EXPECT_TRUE(is_json_error(*m, 405, "METHOD_NOT_ALLOWED"));
  const auto after = c.roundtrip(get("/healthz"));
  ASSERT_TRUE(after) << to_string(c.last_read());
  EXPECT_EQ(after->status, 200);
}

TEST(OpsRoutes, MetricsIsPrometheusText) {
  server_process server({"--shards", "2"});
  ASSERT_TRUE(server.ready()) << server.stderr_text();
  const auto m = fetch(server.port(), get("/metrics"));
  ASSERT_TRUE(m);
  EXPECT_EQ(m->status, 200);
  EXPECT_EQ(m->header("Content-Type").rfind("text/plain", 0), 0u) << m->header("Content-Type");
  EXPECT_NE(m->header("Content-Type").find("version=0.0.4"), std::string::npos);
  const std::string& text = m->body;
  for (std::string_view family :
       {"# TYPE warrant_build_info gauge", "# TYPE warrant_connections_open gauge",
        "# TYPE warrant_http_requests_total counter", "# TYPE warrant_http_request_duration_seconds histogram",
        "# TYPE warrant_http_timeouts_total counter", "# TYPE warrant_http_parse_errors_total counter"}) {
    EXPECT_NE(text.find(family), std::string::npos) << family;
  }
  EXPECT_NE(text.find("warrant_build_info{version=\""), std::string::npos);
  EXPECT_TRUE(metric_value(text, R"(warrant_connections_open{shard="0"})"));
  EXPECT_TRUE(metric_value(text, R"(warrant_connections_open{shard="1"})"));
  EXPECT_FALSE(metric_value(text, R"(warrant_connections_open{shard="2"})"));
  for (std::string_view kind : {"header", "body", "idle", "send", "linger"}) {
    const std::string series = "warrant_http_timeouts_total{kind=\"" + std::string(kind) + "\"}";
    EXPECT_EQ(metric_value(text, series), 0.0) << series;
  }
  EXPECT_EQ(metric_value(text, "warrant_http_parse_errors_total"), 0.0);
  // Every line is a comment or "series value".
  std::size_t pos = 0;
  while (pos < text.size()) {
    const std::size_t eol = text.find('\n', pos);
    ASSERT_NE(eol, std::string::npos) << "the exposition ends with a newline";
    const std::string line = text.substr(pos, eol - pos);
    pos = eol + 1;
    if (line.empty() || line[0] == '#') continue;
    const std::size_t space = line.rfind(' ');
    ASSERT_NE(space, std::string::npos) << line;
    char* end = nullptr;
    const std::string value = line.substr(space + 1);
    std::strtod(value.c_str(), &end);
    EXPECT_TRUE(*end == '\0' || value == "+Inf") << line;
  }
}

TEST(OpsRoutes, RequestCountersAndHistogramsMove) {
  server_process server({"--shards", "2"});
  ASSERT_TRUE(server.ready()) << server.stderr_text();
  const std::uint16_t port = server.port();
  const std::string healthz_2xx = R"(warrant_http_requests_total{route="/healthz",method="GET",code="2xx"})";
  const std::string unmatched_4xx = R"(warrant_http_requests_total{route="unmatched",method="ANY",code="4xx"})";
  const std::string healthz_count = R"(warrant_http_request_duration_seconds_count{route="/healthz",method="GET"})";
  const std::string healthz_inf =
      R"(warrant_http_request_duration_seconds_bucket{route="/healthz",method="GET",le="+Inf"})";
  const std::string before = scrape_metrics(port);
  ASSERT_FALSE(before.empty());
  EXPECT_EQ(metric_value(before, healthz_2xx), 0.0);
  EXPECT_FALSE(metric_value(before, unmatched_4xx)) << "4xx series appear once they occur";

  client c(port);
  ASSERT_TRUE(c.connected());
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(c.roundtrip(get("/healthz")));
  const auto head = c.roundtrip(request("HEAD", "/healthz"), true);
  ASSERT_TRUE(head);
  for (int i = 0; i < 2; ++i) ASSERT_TRUE(c.roundtrip(get("/no/such/route")));
  const auto bad = fetch(port, "NOT A REQUEST\r\n\r\n");
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->status, 400);

  const std::string after = scrape_metrics(port);
  EXPECT_EQ(metric_value(after, healthz_2xx), 4.0) << "HEAD counts on the GET route";
  EXPECT_EQ(metric_value(after, healthz_count), 4.0);
  EXPECT_EQ(metric_value(after, healthz_inf), 4.0);
  EXPECT_EQ(metric_value(after, unmatched_4xx), 3.0) << "two 404s and one 400";
  EXPECT_EQ(metric_value(after, "warrant_http_parse_errors_total"), 1.0);
  EXPECT_GE(metric_value(after, R"(warrant_http_requests_total{route="/metrics",method="GET",code="2xx"})"), 1.0);
}

TEST(OpsRoutes, ConnectionsGaugeCountsOpenConnectionsPerShard) {
  server_process server({"--shards", "2"});
  ASSERT_TRUE(server.ready()) << server.stderr_text();
  const std::uint16_t port = server.port();
  std::vector<client> clients;
  for (int i = 0; i < 12; ++i) {
    clients.emplace_back(port);
    ASSERT_TRUE(clients.back().connected());
    ASSERT_TRUE(clients.back().roundtrip(get("/healthz")));  // accepted for sure
  }
  const std::string text = scrape_metrics(port);
  const auto shard0 = metric_value(text, R"(warrant_connections_open{shard="0"})");
  const auto shard1 = metric_value(text, R"(warrant_connections_open{shard="1"})");
  ASSERT_TRUE(shard0 && shard1);
  EXPECT_EQ(*shard0 + *shard1, 13.0) << "12 clients and the scraper";
  EXPECT_GE(metric_value(text, "warrant_connections_accepted_total"), 13.0);

  clients.erase(clients.begin() + 5, clients.end());
  EXPECT_TRUE(wait_until([&] { return open_connections(port) == 6.0; }, 5s)) << *open_connections(port);
  clients.clear();
  EXPECT_TRUE(wait_until([&] { return open_connections(port) == 1.0; }, 5s)) << *open_connections(port);
}

TEST(OpsRoutes, HeadOfAnErrorHasNoBody) {
  server_process server({"--shards", "1"});
  ASSERT_TRUE(server.ready()) << server.stderr_text();
  client c(server.port());
  ASSERT_TRUE(c.connected());
  const auto head = c.roundtrip(request("HEAD", "/nope"), /*head_request=*/true);
  ASSERT_TRUE(head);
  EXPECT_EQ(head->status, 404);
  EXPECT_EQ(head->header("Content-Type").rfind("application/json", 0), 0u);
  const auto next = c.roundtrip(get("/healthz"));
  ASSERT_TRUE(next) << to_string(c.last_read());
  EXPECT_EQ(next->status, 200) << "a body after the HEAD answer would show up here";
  EXPECT_EQ(next->body, R"({"status":"ok","service":"warrant"})");
}

}  // namespace
}  // namespace warrant::integration

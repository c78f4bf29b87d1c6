// Connection reuse and request framing: keep-alive, pipelining, requests split into single
// bytes, HTTP/1.0, `Connection: close` and `Expect: 100-continue`.
#include "tests/integration/harness.h"

namespace warrant::integration {
namespace {

constexpr std::string_view healthz_body = R"({"status":"ok","service":"warrant"})";

// The body of /healthz (when `healthz`) or of a ready /readyz.
bool is_answer(std::string_view body, bool healthz) { return healthz ? body == healthz_body : is_ready_body(body); }

TEST(KeepAlive, HundredSequentialRequestsOnOneConnection) {
  server_process server({"--shards", "2"});
  ASSERT_TRUE(server.ready()) << server.stderr_text();
  client c(server.port());
  ASSERT_TRUE(c.connected());
  for (int i = 0; i < 100; ++i) {
    const auto m = c.roundtrip(get(i % 2 == 0 ? "/healthz" : "/readyz"));
    ASSERT_TRUE(m) << "request " << i << ": " << to_string(c.last_read());
    ASSERT_EQ(m->status, 200) << i;
    ASSERT_TRUE(is_answer(m->body, i % 2 == 0)) << i << ": " << m->body;
    ASSERT_FALSE(m->has_header("Connection")) << i;
  }
  const std::string text = scrape_metrics(server.port());
  EXPECT_EQ(metric_value(text, "warrant_connections_accepted_total"), 2.0) << "one client connection, one scrape";
}

// What the nth request of the pipeline is, and what its answer must look like.
struct pipelined {
  std::string request;
  bool head = false;
  int status = 200;
  enum { any, healthz, ready } body = any;
};

pipelined pipeline_entry(int i) {
  switch (i % 6) {
    case 0: return {get("/healthz"), false, 200, pipelined::healthz};
    case 1: return {get("/readyz"), false, 200, pipelined::ready};
    case 2: return {get("/missing/" + std::to_string(i)), false, 404};
    case 3: return {request("HEAD", "/healthz"), true, 200};
    case 4: return {get("/metrics"), false, 200};
    default: return {request("POST", "/readyz", "Content-Length: 5\r\n") + "hello", false, 405};
  }
}

TEST(KeepAlive, FiftyPipelinedRequestsInOneWriteAnsweredInOrder) {
  server_process server({"--shards", "2"});
  ASSERT_TRUE(server.ready()) << server.stderr_text();
  std::vector<pipelined> entries;
  std::string all;
  for (int i = 0; i < 50; ++i) {
    entries.push_back(pipeline_entry(i));
    all += entries.back().request;
  }
  client c(server.port());
  ASSERT_TRUE(c.connected());
  ASSERT_TRUE(c.send(all));
  for (int i = 0; i < 50; ++i) {
    http_message m;
    ASSERT_EQ(c.read_response(m, entries[i].head), read_status::ok) << "response " << i;
    ASSERT_EQ(m.status, entries[i].status) << "response " << i << " out of order? body: " << m.body;
    if (entries[i].body != pipelined::any) {
      EXPECT_TRUE(is_answer(m.body, entries[i].body == pipelined::healthz)) << i << ": " << m.body;
    }
    if (entries[i].head) {
      EXPECT_EQ(m.header("Content-Length"), std::to_string(healthz_body.size())) << i;
    }
    if (i % 6 == 2) {
      EXPECT_TRUE(is_json_error(m, 404, "NOT_FOUND")) << i;
    }
    if (i % 6 == 4) {
      EXPECT_NE(m.body.find("warrant_build_info"), std::string::npos) << i;
    }
    if (i % 6 == 5) {
      EXPECT_EQ(m.header("Allow"), "GET, HEAD") << i;
    }
  }
  EXPECT_TRUE(c.quiet_for(100ms)) << "exactly 50 responses";
  EXPECT_TRUE(c.buffered().empty());
  const auto after = c.roundtrip(get("/healthz"));
  ASSERT_TRUE(after) << "the connection is still open";
  EXPECT_EQ(after->status, 200);
}

TEST(KeepAlive, ManyPipelinedMetricsRequestsWithLargeAnswers) {
  // Enough output to pass the server's bound on queued responses, so it must pause reading
  // and resume once the client drains the answers.
  server_process server({"--shards", "1"});
  ASSERT_TRUE(server.ready()) << server.stderr_text();
  std::string all;
  constexpr int count = 400;
  for (int i = 0; i < count; ++i) all += get("/metrics");
  client c(server.port());
  ASSERT_TRUE(c.connected());
  ASSERT_TRUE(c.send(all));
  for (int i = 0; i < count; ++i) {
    http_message m;
    ASSERT_EQ(c.read_response(m), read_status::ok) << i;
    ASSERT_EQ(m.status, 200) << i;
    ASSERT_NE(m.body.find("warrant_build_info"), std::string::npos) << i;
  }
  EXPECT_TRUE(c.roundtrip(get("/healthz")));
}

TEST(KeepAlive, RequestsSplitIntoSingleByteWrites) {
  server_process server({"--shards", "1"});
  ASSERT_TRUE(server.ready()) << server.stderr_text();
  client c(server.port());
  ASSERT_TRUE(c.connected());
  const std::string requests[] = {
      get("/healthz", "User-Agent: byte-by-byte\r\nAccept: */*\r\n"),
      request("POST", "/healthz", "Content-Length: 11\r\n") + "hello world",
      "\r\n" + get("/readyz"),  // a stray empty line before a request is ignored
      get("/healthz", "Content-Length: 3\r\n") + "abc",
  };
  const int statuses[] = {200, 405, 200, 200};
  for (std::size_t r = 0; r < std::size(requests); ++r) {
    for (char byte : requests[r]) {
      ASSERT_TRUE(c.send(std::string_view(&byte, 1))) << "request " << r;
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
    http_message m;
    ASSERT_EQ(c.read_response(m), read_status::ok) << "request " << r;
    EXPECT_EQ(m.status, statuses[r]) << "request " << r << ": " << m.body;
  }
}

TEST(KeepAlive, PipelineSplitAtEveryOffset) {
  // Two requests written as two pieces, for every split point: the parser must resume
  // across reads wherever a read ends.
  server_process server({"--shards", "1"});
  ASSERT_TRUE(server.ready()) << server.stderr_text();
  const std::string both = get("/healthz") + request("GET", "/readyz", "Content-Length: 4\r\n") + "body";
  client c(server.port());
  ASSERT_TRUE(c.connected());
  for (std::size_t split = 1; split < both.size(); split += 3) {
    ASSERT_TRUE(c.send(std::string_view(both).substr(0, split)));
    std::this_thread::sleep_for(std::chrono::microseconds(500));
    ASSERT_TRUE(c.send(std::string_view(both).substr(split)));
    http_message a;
    http_message b;
    ASSERT_EQ(c.read_response(a), read_status::ok) << "split " << split;
    ASSERT_EQ(c.read_response(b), read_status::ok) << "split " << split;
    EXPECT_EQ(a.body, healthz_body) << split;
    EXPECT_TRUE(is_ready_body(b.body)) << b.body << split;
  }
}

TEST(KeepAlive, ConnectionCloseIsHonoured) {
  server_process server({"--shards", "1"});
  ASSERT_TRUE(server.ready()) << server.stderr_text();
  client c(server.port());
  ASSERT_TRUE(c.connected());
  // Pipelined behind the close: never answered.
  ASSERT_TRUE(c.send(get("/healthz", "Connection: close\r\n") + get("/readyz")));
  http_message m;
  ASSERT_EQ(c.read_response(m), read_status::ok);
  EXPECT_EQ(m.status, 200);
  EXPECT_EQ(m.header("Connection"), "close");
  EXPECT_EQ(c.wait_closed(), read_status::eof);
  EXPECT_TRUE(c.buffered().empty()) << "nothing after the response: " << c.buffered();
}

TEST(KeepAlive, Http10ClosesUnlessKeepAliveAsked) {
  server_process server({"--shards", "1"});
  ASSERT_TRUE(server.ready()) << server.stderr_text();
  {
    client c(server.port());
    ASSERT_TRUE(c.connected());
    const auto m = c.roundtrip("GET /healthz HTTP/1.0\r\n\r\n");  // no Host needed in 1.0
    ASSERT_TRUE(m) << to_string(c.last_read());
    EXPECT_EQ(m->status, 200);
    EXPECT_EQ(m->body, healthz_body);
    EXPECT_NE(m->header("Connection"), "keep-alive");
    EXPECT_EQ(c.wait_closed(), read_status::eof);
  }
  {
    client c(server.port());
    ASSERT_TRUE(c.connected());
    for (int i = 0; i < 3; ++i) {
      const auto m = c.roundtrip("GET /healthz HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
      ASSERT_TRUE(m) << i << ": " << to_string(c.last_read());
      EXPECT_EQ(m->status, 200);
      EXPECT_EQ(m->header("Connection"), "keep-alive");
    }
    // A 1.0 request without keep-alive on the same connection ends it.
    const auto last = c.roundtrip("GET /readyz HTTP/1.0\r\n\r\n");
    ASSERT_TRUE(last);
    EXPECT_TRUE(is_ready_body(last->body)) << last->body;
    EXPECT_EQ(c.wait_closed(), read_status::eof);
  }
  {
    // An HTTP/1.0 error answer is readable by a 1.0 client too.
    client c(server.port());
    ASSERT_TRUE(c.connected());
    const auto m = c.roundtrip("GET /nope HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
    ASSERT_TRUE(m);
    EXPECT_TRUE(is_json_error(*m, 404, "NOT_FOUND"));
    EXPECT_EQ(m->header("Connection"), "keep-alive");
  }
}

TEST(KeepAlive, ExpectContinueGetsInterimResponseBeforeTheBody) {
  server_process server({"--shards", "1"});
  ASSERT_TRUE(server.ready()) << server.stderr_text();
  client c(server.port());
  ASSERT_TRUE(c.connected());
  for (int round = 0; round < 2; ++round) {
    ASSERT_TRUE(c.send(get("/healthz", "Content-Length: 5\r\nExpect: 100-continue\r\n")));
    http_message interim;
    ASSERT_EQ(c.read_response(interim), read_status::ok) << round;
    EXPECT_EQ(interim.status, 100) << round;
    EXPECT_TRUE(c.quiet_for(50ms)) << "no final response before the body";
    ASSERT_TRUE(c.send("hello"));
    http_message final_response;
    ASSERT_EQ(c.read_response(final_response), read_status::ok) << round;
    EXPECT_EQ(final_response.status, 200) << round;
    EXPECT_EQ(final_response.body, healthz_body);
  }
}

TEST(KeepAlive, ExpectContinueWithOversizedLengthGets413Instead) {
  server_process server({"--shards", "1", "--body-bytes-max", "1024"});
  ASSERT_TRUE(server.ready()) << server.stderr_text();
  client c(server.port());
  ASSERT_TRUE(c.connected());
  ASSERT_TRUE(c.send(get("/healthz", "Content-Length: 4096\r\nExpect: 100-continue\r\n")));
  http_message m;
  ASSERT_EQ(c.read_response(m), read_status::ok);
  EXPECT_TRUE(is_json_error(m, 413, "PAYLOAD_TOO_LARGE"));
  EXPECT_EQ(c.wait_closed(), read_status::eof);
}

TEST(KeepAlive, ExpectContinueWithBodyAlreadySentIsAnsweredOnce) {
  server_process server({"--shards", "1"});
  ASSERT_TRUE(server.ready()) << server.stderr_text();
  client c(server.port());
  ASSERT_TRUE(c.connected());
  // The body arrives with the headers: the server may skip the 100, but must answer once.
  ASSERT_TRUE(c.send(get("/healthz", "Content-Length: 2\r\nExpect: 100-continue\r\n") + "{}" + get("/readyz")));
  http_message m;
  ASSERT_EQ(c.read_response(m), read_status::ok);
  if (m.status == 100) {
    ASSERT_EQ(c.read_response(m), read_status::ok);
  }
  EXPECT_EQ(m.body, healthz_body);
  ASSERT_EQ(c.read_response(m), read_status::ok);
  EXPECT_TRUE(is_ready_body(m.body)) << m.body;
}

TEST(KeepAlive, NoInterimResponseWithoutExpect) {
  // Regression: the "100 Continue" decision must look at this connection's request, not at
  // whichever request the shard parsed last.
  server_process server({"--shards", "1"});
  ASSERT_TRUE(server.ready()) << server.stderr_text();
  client plain(server.port());
  client expecting(server.port());
  ASSERT_TRUE(plain.connected() && expecting.connected());
  ASSERT_TRUE(plain.send("GET /healthz HTTP/1.0\r\nContent-Length: 4\r\n\r\nab"));
  ASSERT_TRUE(plain.quiet_for(100ms));
  ASSERT_TRUE(expecting.send(get("/healthz", "Content-Length: 4\r\nExpect: 100-continue\r\n")));
  http_message interim;
  ASSERT_EQ(expecting.read_response(interim), read_status::ok);
  EXPECT_EQ(interim.status, 100);
  ASSERT_TRUE(plain.send("c"));  // still short of the body
  EXPECT_TRUE(plain.quiet_for(100ms)) << "an HTTP/1.0 client without Expect got: " << [&] {
    http_message m;
    plain.read_response(m, false, 100ms);
    return m.version + " " + std::to_string(m.status);
  }();
  ASSERT_TRUE(plain.send("d"));
  http_message m;
  ASSERT_EQ(plain.read_response(m), read_status::ok);
  EXPECT_EQ(m.status, 200);
  ASSERT_TRUE(expecting.send("wxyz"));
  ASSERT_EQ(expecting.read_response(m), read_status::ok);
  EXPECT_EQ(m.status, 200);
}

TEST(KeepAlive, BodyAtTheLimitIsReadAndTheNextRequestFollows) {
  server_process server({"--shards", "1"});
  ASSERT_TRUE(server.ready()) << server.stderr_text();
  client c(server.port());
  ASSERT_TRUE(c.connected());
  const std::string body(1 << 20, 'b');  // exactly --body-bytes-max
  ASSERT_TRUE(c.send(get("/healthz", "Content-Length: " + std::to_string(body.size()) + "\r\n") + body +
                     get("/readyz")));
  http_message m;
  ASSERT_EQ(c.read_response(m), read_status::ok) << to_string(c.last_read());
  EXPECT_EQ(m.body, healthz_body);
  ASSERT_EQ(c.read_response(m), read_status::ok) << to_string(c.last_read());
  EXPECT_TRUE(is_ready_body(m.body)) << m.body;
}

TEST(KeepAlive, SmallReceiveBuffersUnderLoad) {
  // Few, small provided buffers: requests span several buffers and the ring runs dry while
  // many connections send at once; nothing may be lost or reordered.
  server_process server({"--shards", "1", "--recv-buffers", "64", "--recv-buffer-bytes", "1024"});
  ASSERT_TRUE(server.ready()) << server.stderr_text();
  constexpr int connections = 100;
  constexpr int per_connection = 20;
  std::string pipeline;
  for (int i = 0; i < per_connection; ++i) {
    pipeline += i % 2 == 0 ? get("/healthz", "X-Pad: " + std::string(600, 'p') + "\r\n")
                           : request("GET", "/readyz", "Content-Length: 1500\r\n") + std::string(1500, 'b');
  }
  std::vector<client> clients;
  for (int i = 0; i < connections; ++i) {
    clients.emplace_back(server.port());
    ASSERT_TRUE(clients.back().connected());
  }
  for (client& c : clients) ASSERT_TRUE(c.send(pipeline));
  for (int i = 0; i < connections; ++i) {
    for (int r = 0; r < per_connection; ++r) {
      http_message m;
      ASSERT_EQ(clients[i].read_response(m, false, 10s), read_status::ok) << "client " << i << " response " << r;
      ASSERT_TRUE(is_answer(m.body, r % 2 == 0)) << "client " << i << " response " << r << ": " << m.body;
    }
  }
  EXPECT_EQ(fetch(server.port(), get("/healthz"))->status, 200);
}

}  // namespace
}  // namespace warrant::integration

// tests/idempotency/idempotency_server_test.cc: the idempotency contract (spec/common.md
// "Idempotency (writes)") end to end, against the real warrantd with --enable-test-routes:
// every status and header, canonical payloads, auto-dedup, 64 racing requests, restarts
// (clean and kill -9), workspaces kept apart, expiry and sweeping, a vanished client.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <latch>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "storage/lmdb_store.h"
#include "tests/admin/admin_fixture.h"

namespace warrant::test {
namespace {

constexpr std::string_view writes = "/v1/test/writes";
constexpr std::string_view in_progress_body =
    R"({"error":"A request with this Idempotency-Key is currently in progress. Retry after the in-flight request )"
    R"(completes.","code":"IDEMPOTENCY_IN_PROGRESS"})";

class idempotency_server : public admin_fixture {
 public:
  void SetUp() override { start(flags()); }
  virtual std::vector<std::string> flags() const { return {"--enable-test-routes"}; }

  // POST /v1/test/writes with the admin key (or `key`), an optional Idempotency-Key.
  http_response post(std::string_view body, std::string_view idempotency_key = {}, std::string_view key = {},
                     http_client* on = nullptr) {
    header_list h{{"x-api-key", std::string(key.empty() ? admin_key() : key)}, {"Content-Type", "application/json"}};
    if (!idempotency_key.empty()) h.emplace_back("Idempotency-Key", std::string(idempotency_key));
    auto r = (on != nullptr ? *on : *_client).request("POST", writes, body, h);
    if (!r) throw std::runtime_error("POST failed on the wire");
    return *r;
  }
  http_response get(std::string_view id, std::string_view key = {}) {
    return call("GET", std::string(writes) + "/" + std::string(id), {}, key.empty() ? admin_key() : key);
  }
  double metric(std::string_view series) {
    const http_response r = call("GET", "/metrics", {}, {}, {});
    return metric_value(r.body, series).value_or(-1);
  }
  // Rows in `test_writes`, read from the data directory once the server has stopped.
  std::size_t stored_writes() {
    storage::lmdb_options o;
    o.path = data_dir() + "/db";
    o.map_size_bytes = 64ull << 30;
    auto store = storage::lmdb_store::open(o);
    storage::lmdb_store::reader r(*store);
    return r.entries(storage::table::test_writes);
  }
};

// Connects, sends `bytes`, and closes without reading anything.
void send_and_vanish(std::uint16_t port, std::string_view bytes) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL), static_cast<ssize_t>(bytes.size()));
  ::close(fd);
}

bool is_replay(const http_response& r) { return r.header("X-Idempotency-Replay") == "true"; }

TEST_F(idempotency_server, FirstAnswerThenReplayByteForByte) {
  const http_response first = post(R"({"amount":10,"currency":"EUR"})", "order-1");
  ASSERT_EQ(first.status, 201) << first.body;
  EXPECT_FALSE(is_replay(first));
  EXPECT_EQ(first.header("X-Idempotency-Auto"), "");
  EXPECT_EQ(first.header("Content-Type"), "application/json");
  const json j = body_json(first);
  EXPECT_TRUE(is_uuid(j["id"].string));
  EXPECT_EQ(j["workspace_id"].string, "default");
  EXPECT_EQ(j["body"].dump(), R"({"amount":10,"currency":"EUR"})");
  EXPECT_TRUE(is_rfc3339_ms(j["created_at"].string));
  EXPECT_EQ(first.header("Location"), std::string(writes) + "/" + j["id"].string);

  for (int i = 0; i < 2; ++i) {
    const http_response again = post(R"({"amount":10,"currency":"EUR"})", "order-1");
    EXPECT_EQ(again.status, 201);
    EXPECT_EQ(again.body, first.body);  // byte for byte
    EXPECT_TRUE(is_replay(again));
    EXPECT_EQ(again.header("X-Idempotency-Auto"), "");
    EXPECT_EQ(again.header("Location"), first.header("Location"));
    EXPECT_EQ(again.header("Content-Type"), "application/json");
    EXPECT_NE(again.header("RateLimit"), "");  // the guard's headers are live, not replayed
  }
  const http_response stored = get(j["id"].string);
  EXPECT_EQ(stored.status, 200);
  EXPECT_EQ(stored.body, first.body);
  EXPECT_EQ(metric("warrant_idempotency_replays_total{key=\"client\"}"), 2);
  EXPECT_EQ(metric("warrant_idempotency_stored_total"), 1);
  EXPECT_EQ(metric("warrant_idempotency_inflight"), 0);
  stop();
  EXPECT_EQ(stored_writes(), 1u);
}

TEST_F(idempotency_server, SamePayloadSpelledDifferentlyReplaysOtherPayload422) {
  const http_response first = post(R"({"b":[1,2],"a":{"y":1.0,"x":"\u0041"}})", "k-1");
  ASSERT_EQ(first.status, 201);
  const http_response respelled = post("{ \"a\" : { \"x\" : \"A\", \"y\" : 1 }, \"b\" : [ 1e0, 2.0 ] }", "k-1");
  EXPECT_EQ(respelled.status, 201);
  EXPECT_TRUE(is_replay(respelled));
  EXPECT_EQ(respelled.body, first.body);

  const http_response other = post(R"({"b":[2,1],"a":{"y":1,"x":"A"}})", "k-1");
  EXPECT_TRUE(is_error(other, 422, "IDEMPOTENCY_KEY_REUSED"));
  EXPECT_FALSE(is_replay(other));
  // The quoted structured-field form names the same key.
  const http_response quoted = post(R"({"a":{"x":"A","y":1},"b":[1,2]})", R"("k-1")");
  EXPECT_TRUE(is_replay(quoted));
  EXPECT_EQ(metric("warrant_idempotency_conflicts_total{reason=\"key_reused\"}"), 1);
  stop();
  EXPECT_EQ(stored_writes(), 1u);
}

TEST_F(idempotency_server, InvalidKeysAre400AndWriteNothing) {
  for (const std::string& bad : {std::string(256, 'k'), std::string("caf\xc3\xa9"), std::string(R"("unterminated)"),
                                 std::string(R"("")"), std::string(R"("a\nb")")}) {
    EXPECT_TRUE(is_error(post("{}", bad), 400, "INVALID_IDEMPOTENCY_KEY")) << bad;
  }
  const std::string head = "POST /v1/test/writes HTTP/1.1\r\nHost: x\r\nx-api-key: " + admin_key() +
                           "\r\nContent-Type: application/json\r\nContent-Length: 2\r\n";
  EXPECT_TRUE(is_error(_client->raw(head + "Idempotency-Key:\r\n\r\n{}"), 400, "INVALID_IDEMPOTENCY_KEY"));
  EXPECT_TRUE(is_error(_client->raw(head + "Idempotency-Key: a\r\nIdempotency-Key: a\r\n\r\n{}"), 400,
                       "INVALID_IDEMPOTENCY_KEY"));
  EXPECT_EQ(post("{}", std::string(255, 'k')).status, 201);  // the longest key is fine
  stop();
  EXPECT_EQ(stored_writes(), 1u);
}

// Answers of requests that never executed are not stored: the same key then executes.
TEST_F(idempotency_server, RefusedRequestsAreNotStored) {
  const std::string other_key = new_default_key(R"(["platform.viewer"])");
  EXPECT_TRUE(is_error(post("{}", "k-2", "wrnt_not_a_key"), 401, "UNAUTHORIZED"));
  EXPECT_TRUE(is_error(post("{not json", "k-2"), 400, "INVALID_JSON"));
  EXPECT_TRUE(is_error(post("[1,2]", "k-2"), 400, "INVALID_JSON"));
  EXPECT_TRUE(is_error(post(R"({"a":1,"a":2})", "k-2"), 400, "INVALID_JSON"));
  auto wrong_type = _client->request("POST", writes, "{}",
                                     {{"x-api-key", admin_key()}, {"Content-Type", "text/plain"}, {"Idempotency-Key", "k-2"}});
  EXPECT_TRUE(is_error(wrong_type, 415, "UNSUPPORTED_MEDIA_TYPE"));
  const http_response ok = post(R"({"n":1})", "k-2");
  EXPECT_EQ(ok.status, 201);
  EXPECT_FALSE(is_replay(ok));
  // A key of the same workspace shares the scope: it replays.
  EXPECT_TRUE(is_replay(post(R"({"n":1})", "k-2", other_key)));
}

TEST_F(idempotency_server, AutoDedupForEventLikeBodies) {
  const std::string event = R"({"userExternalId":"u-1","eventType":"login","occurredAt":"2026-05-20T10:00:00.000Z")";
  const http_response first = post(event + R"(,"n":1})");
  ASSERT_EQ(first.status, 201);
  EXPECT_FALSE(is_replay(first));
  const http_response repeat = post(event + R"(,"n":2})");  // the natural key names the event
  EXPECT_EQ(repeat.status, 201);
  EXPECT_TRUE(is_replay(repeat));
  EXPECT_EQ(repeat.header("X-Idempotency-Auto"), "true");
  EXPECT_EQ(repeat.body, first.body);
  // An explicit key takes over from the automatic one.
  const http_response keyed = post(event + R"(,"n":1})", "explicit-1");
  EXPECT_FALSE(is_replay(keyed));
  EXPECT_EQ(keyed.header("X-Idempotency-Auto"), "");
  // Another occurrence, or a body missing a field (or with a non-string one), is a new write.
  EXPECT_FALSE(is_replay(post(R"({"userExternalId":"u-1","eventType":"login","occurredAt":"2026-05-20T10:00:01.000Z"})")));
  EXPECT_FALSE(is_replay(post(R"({"userExternalId":"u-1","eventType":"login"})")));
  EXPECT_FALSE(is_replay(post(R"({"userExternalId":"u-1","eventType":"login"})")));
  EXPECT_FALSE(is_replay(post(R"({"userExternalId":"u-1","eventType":"login","occurredAt":5})")));
  EXPECT_EQ(metric("warrant_idempotency_replays_total{key=\"auto\"}"), 1);
  stop();
  EXPECT_EQ(stored_writes(), 6u);
}

// 64 requests with one key and one body, released together over 64 connections spread over
// both shards: exactly one write; every other answer is a 409 or a replay of that write.
TEST_F(idempotency_server, SixtyFourAtOnceMakeExactlyOneWrite) {
  constexpr int clients = 64;
  std::vector<std::unique_ptr<http_client>> conns;
  for (int i = 0; i < clients; ++i) {
    conns.push_back(std::make_unique<http_client>(port()));
    ASSERT_TRUE(conns.back()->connect());
  }
  const std::string body = R"({"race":true,"payload":[1,2,3]})";
  const header_list headers{{"x-api-key", admin_key()}, {"Content-Type", "application/json"}, {"Idempotency-Key", "race-1"}};
  std::vector<std::optional<http_response>> answers(clients);
  std::latch go(clients);
  std::vector<std::thread> threads;
  for (int i = 0; i < clients; ++i) {
    threads.emplace_back([&, i] {
      go.arrive_and_wait();
      answers[static_cast<std::size_t>(i)] = conns[static_cast<std::size_t>(i)]->request("POST", writes, body, headers);
    });
  }
  for (auto& t : threads) t.join();
  int originals = 0;
  int replays = 0;
  int conflicts = 0;
  std::string original_body;
  for (const auto& a : answers) {
    ASSERT_TRUE(a.has_value());
    if (a->status == 201 && !is_replay(*a)) {
      ++originals;
      original_body = a->body;
    } else if (a->status == 201) {
      ++replays;
    } else {
      ASSERT_EQ(a->status, 409) << a->body;
      EXPECT_EQ(a->body, in_progress_body);
      EXPECT_EQ(a->header("Retry-After"), "1");
      ++conflicts;
    }
  }
  EXPECT_EQ(originals, 1);
  EXPECT_EQ(originals + replays + conflicts, clients);
  for (const auto& a : answers) {
    if (a->status == 201) {
      EXPECT_EQ(a->body, original_body);
    }
  }
  EXPECT_EQ(metric("warrant_idempotency_conflicts_total{reason=\"in_progress\"}"), conflicts);
  // Whoever got 409 retries and gets the replay.
  EXPECT_TRUE(is_replay(post(body, "race-1")));
  EXPECT_EQ(metric("warrant_idempotency_inflight"), 0);
  conns.clear();
  stop();
  EXPECT_EQ(stored_writes(), 1u);
}

TEST_F(idempotency_server, ReplaysSurviveARestart) {
  const http_response first = post(R"({"x":1})", "restart-1");
  ASSERT_EQ(first.status, 201);
  stop();
  start(flags());
  const http_response after = post(R"({"x":1})", "restart-1");
  EXPECT_EQ(after.status, 201);
  EXPECT_TRUE(is_replay(after));
  EXPECT_EQ(after.body, first.body);
  EXPECT_EQ(after.header("Location"), first.header("Location"));
  EXPECT_TRUE(is_error(post(R"({"x":2})", "restart-1"), 422, "IDEMPOTENCY_KEY_REUSED"));
}

TEST_F(idempotency_server, AnAcknowledgedAnswerSurvivesKill9) {
  const http_response first = post(R"({"x":1})", "crash-1");
  ASSERT_EQ(first.status, 201);
  _client.reset();
  server().kill9();
  _server.reset();
  start(flags());
  const http_response after = post(R"({"x":1})", "crash-1");
  EXPECT_TRUE(is_replay(after));
  EXPECT_EQ(after.body, first.body);
}

TEST_F(idempotency_server, WorkspacesNeverSeeEachOthersAnswers) {
  const json ws_a = create_workspace("idem-a");
  const json ws_b = create_workspace("idem-b");
  const std::string key_a = create_key(ws_a["id"].string, R"(["platform.viewer"])")["key"].string;
  const std::string key_b = create_key(ws_b["id"].string, R"(["platform.viewer"])")["key"].string;
  const http_response from_b = post(R"({"secret":"b"})", "shared-key", key_b);
  ASSERT_EQ(from_b.status, 201);
  // A with the same key and body: its own first write, not B's answer.
  const http_response from_a = post(R"({"secret":"b"})", "shared-key", key_a);
  EXPECT_EQ(from_a.status, 201);
  EXPECT_FALSE(is_replay(from_a));
  EXPECT_NE(from_a.body, from_b.body);
  EXPECT_EQ(body_json(from_a)["workspace_id"].string, ws_a["id"].string);
  // A with another body under that key: A's scope, A's record — a 422 for A, B untouched.
  EXPECT_TRUE(is_error(post(R"({"secret":"a"})", "shared-key", key_a), 422, "IDEMPOTENCY_KEY_REUSED"));
  EXPECT_TRUE(is_replay(post(R"({"secret":"b"})", "shared-key", key_b)));
  // Nor can A read B's write by id.
  const std::string id_b = body_json(from_b)["id"].string;
  EXPECT_TRUE(is_error(get(id_b, key_a), 404, "NOT_FOUND"));
  EXPECT_EQ(get(id_b, key_b).status, 200);
  // Automatic keys are per workspace too.
  const std::string event = R"({"userExternalId":"u","eventType":"t","occurredAt":"2026-01-01T00:00:00.000Z"})";
  EXPECT_FALSE(is_replay(post(event, {}, key_b)));
  EXPECT_FALSE(is_replay(post(event, {}, key_a)));
}

// A client that sends its request and vanishes: the write still happens once, the claim is
// released, and the retry replays.
TEST_F(idempotency_server, AVanishedClientStillGetsOneWrite) {
  const std::string body = R"({"gone":true})";
  const std::string request = "POST /v1/test/writes HTTP/1.1\r\nHost: x\r\nx-api-key: " + admin_key() +
                              "\r\nContent-Type: application/json\r\nIdempotency-Key: gone-1\r\nContent-Length: " +
                              std::to_string(body.size()) + "\r\n\r\n" + body;
  send_and_vanish(port(), request);
  bool replayed = false;
  for (int i = 0; i < 200 && !replayed; ++i) {
    const http_response r = post(body, "gone-1");
    ASSERT_TRUE(r.status == 201 || r.status == 409) << r.status << " " << r.body;
    replayed = is_replay(r);
    if (!replayed) std::this_thread::sleep_for(50ms);
  }
  EXPECT_TRUE(replayed);
  EXPECT_EQ(metric("warrant_idempotency_inflight"), 0);
  stop();
  EXPECT_EQ(stored_writes(), 1u);
}

class idempotency_short_retention : public idempotency_server {
 public:
  // 0.0003 h ≈ 1.1 s, so that expiry and sweeping happen within the test.
  std::vector<std::string> flags() const override {
    return {"--enable-test-routes", "--idempotency-ttl-hours", "0.0003"};
  }
};

TEST_F(idempotency_short_retention, ExpiredAnswersAreForgottenAndSwept) {
  const http_response first = post(R"({"x":1})", "short-1");
  ASSERT_EQ(first.status, 201);
  EXPECT_TRUE(is_replay(post(R"({"x":1})", "short-1")));
  // Eventually (bounded) the key executes anew, and the sweeper removes the old record.
  bool fresh = false;
  for (int i = 0; i < 100 && !fresh; ++i) {
    std::this_thread::sleep_for(100ms);
    const http_response r = post(R"({"x":2})", "short-1");  // another payload: 422 while kept
    ASSERT_TRUE(r.status == 201 || r.status == 422) << r.body;
    fresh = r.status == 201;
    if (fresh) {
      EXPECT_FALSE(is_replay(r));
    }
  }
  EXPECT_TRUE(fresh);
  bool swept = false;
  for (int i = 0; i < 100 && !swept; ++i) {
    swept = metric("warrant_idempotency_swept_total") >= 1;
    if (!swept) std::this_thread::sleep_for(100ms);
  }
  EXPECT_TRUE(swept);
}

class idempotency_default_flags : public idempotency_server {
 public:
  std::vector<std::string> flags() const override { return {}; }
};

TEST_F(idempotency_default_flags, TestRoutesAreOffByDefault) {
  EXPECT_TRUE(is_error(post("{}", "k"), 404, "NOT_FOUND"));
  EXPECT_EQ(metric("warrant_idempotency_inflight"), 0);  // the mechanism itself is always there
}

}  // namespace
}  // namespace warrant::test

// tests/net/shard_test.cc: net/shard.* and net/server.* in process — deferred answers
// completed from another thread, pipelining behind them, clients that leave early, graceful
// stop, and cross-thread posts (no wake-up lost under concurrent posters). Real sockets on
// 127.0.0.1, an ephemeral port, two shards.
// GCC 12 reports a false -Wrestrict inside libstdc++'s string concatenation when it inlines
// `"literal" + std::string` into some of these tests (GCC bug 105651).
#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ == 12
#pragma GCC diagnostic ignored "-Wrestrict"
#endif

#include "net/shard.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "net/server.h"

namespace warrant::net {
namespace {

using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;

// Generous: the machine is shared and noisy. Only used as "never hang" bounds.
constexpr auto wait_bound = 20s;

struct http_reply {
  int status = 0;
  std::string head;
  std::string body;
};

// A blocking client socket with a receive timeout, so a broken server fails a test
// instead of hanging it.
class client {
 public:
  explicit client(std::uint16_t port) {
    _fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    EXPECT_GE(_fd, 0);
    timeval tv{10, 0};
    setsockopt(_fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected = ::connect(_fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  }
  ~client() { close(); }
  client(const client&) = delete;
  client& operator=(const client&) = delete;

  void send(std::string_view bytes) {
    while (!bytes.empty()) {
      const ssize_t n = ::send(_fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
      ASSERT_GT(n, 0) << std::strerror(errno);
      bytes.remove_prefix(static_cast<std::size_t>(n));
    }
  }

  // The next complete response, or nothing on EOF, error or timeout.
  std::optional<http_reply> read_reply() {
    while (true) {
      const std::size_t end = _buf.find("\r\n\r\n");
      if (end != std::string::npos) {
        http_reply r;
        r.head = _buf.substr(0, end + 4);
        r.status = std::atoi(r.head.c_str() + 9);
        std::size_t length = 0;
        if (const std::size_t cl = r.head.find("\r\nContent-Length: "); cl != std::string::npos) {
          length = std::strtoul(r.head.c_str() + cl + 18, nullptr, 10);
        }
        if (_buf.size() >= end + 4 + length) {
          r.body = _buf.substr(end + 4, length);
          _buf.erase(0, end + 4 + length);
          return r;
        }
      }
      if (!fill()) return std::nullopt;
    }
  }

  // True when the server closes the connection (EOF or reset) before the receive timeout.
  // Bytes received meanwhile stay readable through read_reply().
  bool wait_closed() {
    while (true) {
      char tmp[512];
      const ssize_t n = ::recv(_fd, tmp, sizeof tmp, 0);
      if (n == 0 || (n < 0 && errno == ECONNRESET)) return true;
      if (n < 0) return false;  // timeout
      _buf.append(tmp, static_cast<std::size_t>(n));
    }
  }

  void shutdown_write() { ::shutdown(_fd, SHUT_WR); }

  // Closes with an RST instead of a FIN.
  void reset() {
    linger l{1, 0};
    setsockopt(_fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
    close();
  }

  void close() {
    if (_fd >= 0) ::close(_fd);
    _fd = -1;
  }

  bool connected = false;

 private:
  bool fill() {
    char tmp[4096];
    const ssize_t n = ::recv(_fd, tmp, sizeof tmp, 0);
    if (n <= 0) return false;
    _buf.append(tmp, static_cast<std::size_t>(n));
    return true;
  }

  int _fd = -1;
  std::string _buf;
};

std::string get(std::string_view path) { return "GET " + std::string(path) + " HTTP/1.1\r\nHost: t\r\n\r\n"; }
std::string post(std::string_view path) {
  std::string out = "POST ";
  out.append(path);
  out.append(" HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\n\r\n{}");
  return out;
}

// A deferred request held by the test until it decides to answer it.
struct held_request {
  shard* owner = nullptr;
  deferred_response handle;
  std::string word;  // the path parameter of the pipelining routes
};

// Answers a deferred request on its shard: the task runs on the shard thread.
struct completion {
  deferred_response handle;
  std::string body;
  std::promise<bool> answered;  // what shard::complete returned
  std::atomic<int>* answered_count = nullptr;

  static void run(shard& s, void* arg) {
    auto* self = static_cast<completion*>(arg);
    http_response& res = s.scratch_response();
    res.reset();
    res.set_json(self->body);
    const bool ok = s.complete(self->handle, res);
    // Counted here, before the shard can send the answer, so a client that has read it
    // sees the count.
    if (ok && self->answered_count != nullptr) self->answered_count->fetch_add(1);
    self->answered.set_value(ok);
  }
};

class ShardTest : public ::testing::Test {
 protected:
  ShardTest() {
    _routes.add(http_method::get, "/plain", [](request_context& ctx) { ctx.res.set_json(R"({"plain":true})"); });
    _routes.add(http_method::get, "/echo/{word}", [](request_context& ctx) {
      ctx.res.set_json(std::string(ctx.params.get("word")));
    });
    _routes.add(http_method::post, "/size", [](request_context& ctx) {
      ctx.res.set_json(std::to_string(ctx.req.body.size()) + ":" + std::string(ctx.req.body.substr(0, 8)));
    });
    // Defers, then a worker thread completes it after a few milliseconds through post().
    _routes.add(http_method::get, "/later/{word}", [this](request_context& ctx) {
      auto job = std::make_unique<completion>();
      job->handle = ctx.defer();
      job->body = std::string(ctx.params.get("word"));  // the view dies with this call
      job->answered_count = &_completed_true;
      std::lock_guard lock(_mu);
      _jobs.push_back({&ctx.owner, std::move(job)});
      _cv.notify_all();
    });
    // Defers and hands the request to the test.
    _routes.add(http_method::get, "/held", [this](request_context& ctx) {
      std::lock_guard lock(_mu);
      _held.push_back({&ctx.owner, ctx.defer()});
      _cv.notify_all();
    });
    // Pipelining routes (router::allow_pipelining): one defers and hands the request to the
    // test, one answers at once.
    _routes.allow_pipelining(_routes.add(http_method::post, "/pheld/{word}", [this](request_context& ctx) {
      std::lock_guard lock(_mu);
      _held.push_back({&ctx.owner, ctx.defer(), std::string(ctx.params.get("word"))});
      _cv.notify_all();
    }));
    _routes.allow_pipelining(_routes.add(http_method::post, "/pnow/{word}", [](request_context& ctx) {
      ctx.res.set_json(std::string(ctx.params.get("word")));
    }));
    // Defers and is never answered.
    _routes.add(http_method::get, "/never", [this](request_context& ctx) {
      ctx.defer();
      _never_seen.fetch_add(1);
    });
    _worker = std::thread([this] { complete_jobs(); });
  }

  ~ShardTest() override {
    _server.reset();
    {
      std::lock_guard lock(_mu);
      _quit = true;
      _cv.notify_all();
    }
    _worker.join();
  }

  // Starts the server; false (and the test skipped) where io_uring is unavailable.
  bool start(std::int64_t drain_timeout_ms = 2'000, const std::function<void(shard_config&)>& tweak = {}) {
    server_config config;
    config.listen = "127.0.0.1:0";
    config.shards = 2;
    config.drain_timeout_ms = drain_timeout_ms;
    config.shard.connections_max = 64;
    config.shard.ring_entries = 64;
    config.shard.recv_buffer_count = 64;
    config.shard.recv_buffer_bytes = 4096;
    config.shard.task_queue_capacity = 64;
    config.shard.tick_ms = 20;
    if (tweak) tweak(config.shard);
    _metrics = std::make_unique<metrics_registry>(_routes, config.shards);
    _server = std::make_unique<server>(config, _routes, *_metrics);
    try {
      _server->start();
    } catch (const std::runtime_error& e) {
      if (std::string_view(e.what()).find("io_uring") == std::string_view::npos) throw;
      _unavailable = e.what();
      return false;
    }
    return true;
  }

  std::uint16_t port() const { return _server->port(); }

  std::uint64_t open_connections() const {
    std::uint64_t n = 0;
    for (std::size_t i = 0; i < _metrics->shard_count(); ++i) n += _metrics->shard(i).connections_open.get();
    return n;
  }

  bool wait_open_connections(std::uint64_t want) const {
    const auto deadline = steady::now() + wait_bound;
    while (open_connections() != want) {
      if (steady::now() > deadline) return false;
      std::this_thread::sleep_for(2ms);
    }
    return true;
  }

  std::optional<held_request> wait_held() {
    std::unique_lock lock(_mu);
    if (!_cv.wait_for(lock, wait_bound, [this] { return !_held.empty(); })) return std::nullopt;
    held_request h = _held.front();
    _held.pop_front();
    return h;
  }

  // Posts a completion for `h` from this (non-shard) thread; returns what complete() said.
  static std::optional<bool> answer(const held_request& h, std::string body) {
    completion job{h.handle, std::move(body), {}};
    std::future<bool> done = job.answered.get_future();
    if (!h.owner->post({completion::run, &job})) return std::nullopt;
    if (done.wait_for(wait_bound) != std::future_status::ready) std::abort();  // `job` must outlive the task
    return done.get();
  }

  int completed_true() const { return _completed_true.load(); }

  // Whether another request is handed over within `bound` (for "it is still waiting").
  bool held_within(std::chrono::milliseconds bound) {
    std::unique_lock lock(_mu);
    return _cv.wait_for(lock, bound, [this] { return !_held.empty(); });
  }

  void stop_and_join() {
    _server->stop();
    _server->join();
  }

  struct pending_job {
    shard* owner;
    std::unique_ptr<completion> job;
  };

  void complete_jobs() {
    std::unique_lock lock(_mu);
    while (true) {
      _cv.wait(lock, [this] { return _quit || !_jobs.empty(); });
      if (_jobs.empty()) return;
      pending_job p = std::move(_jobs.front());
      _jobs.pop_front();
      lock.unlock();
      std::this_thread::sleep_for(5ms);  // answer "later", after the handler returned
      std::future<bool> done = p.job->answered.get_future();
      while (!p.owner->post({completion::run, p.job.get()})) std::this_thread::sleep_for(1ms);
      done.wait();
      lock.lock();
    }
  }

  router _routes;
  std::unique_ptr<metrics_registry> _metrics;
  std::unique_ptr<server> _server;
  std::mutex _mu;
  std::condition_variable _cv;
  std::deque<pending_job> _jobs;
  std::deque<held_request> _held;
  bool _quit = false;
  std::atomic<int> _completed_true{0};
  std::thread _worker;
  std::string _unavailable;
  std::atomic<int> _never_seen{0};
};

#define START_OR_SKIP(...)                                         \
  do {                                                             \
    if (!start(__VA_ARGS__)) GTEST_SKIP() << _unavailable;         \
  } while (0)

TEST_F(ShardTest, PlainRequest) {
  START_OR_SKIP();
  client c(port());
  ASSERT_TRUE(c.connected);
  c.send(get("/plain"));
  const auto r = c.read_reply();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, R"({"plain":true})");
  EXPECT_NE(r->head.find("Content-Type: application/json\r\n"), std::string::npos);
}

// The receive hook (shard_config::receive_batch) sees each turn's received bytes, with the
// connection they came from, before the requests are handled; the requests are answered as
// without it.
struct seen_receives {
  std::mutex mu;
  std::vector<std::string> bytes;
  std::vector<std::uint32_t> slots;
};

TEST_F(ShardTest, TheReceiveHookSeesEachTurnsBytesBeforeTheRequestsRun) {
  static seen_receives seen;
  {
    std::lock_guard lock(seen.mu);
    seen.bytes.clear();
    seen.slots.clear();
  }
  // Answers whether the hook had already seen this request's line when the request ran.
  _routes.add(http_method::get, "/seen/{word}", [](request_context& ctx) {
    const std::string line = "GET /seen/" + std::string(ctx.params.get("word")) + " HTTP/1.1\r\n";
    std::lock_guard lock(seen.mu);
    bool found = false;
    for (const std::string& b : seen.bytes) found = found || b.find(line) != std::string::npos;
    ctx.res.set_json(found ? "\"seen\"" : "\"unseen\"");
  });
  START_OR_SKIP(2'000, [](shard_config& sc) {
    sc.receive_batch.run = [](shard&, const received_bytes* received, std::size_t count, void* arg) {
      auto* into = static_cast<seen_receives*>(arg);
      EXPECT_GE(count, 1u);
      EXPECT_LE(count, receive_batch_max);
      std::lock_guard lock(into->mu);
      for (std::size_t i = 0; i < count; ++i) {
        into->bytes.emplace_back(received[i].bytes);
        into->slots.push_back(received[i].conn_slot);
      }
    };
    sc.receive_batch.arg = &seen;
  });
  client a(port());
  client b(port());
  ASSERT_TRUE(a.connected && b.connected);
  a.send(get("/seen/first"));
  const auto first = a.read_reply();
  ASSERT_TRUE(first);
  EXPECT_EQ(first->body, "\"seen\"");
  b.send(get("/seen/second"));
  const auto second = b.read_reply();
  ASSERT_TRUE(second);
  EXPECT_EQ(second->body, "\"seen\"");
  a.send(get("/echo/after"));
  const auto echo = a.read_reply();
  ASSERT_TRUE(echo);
  EXPECT_EQ(echo->body, "after") << "requests are answered as without the hook";
  std::lock_guard lock(seen.mu);
  EXPECT_EQ(seen.bytes.size(), seen.slots.size());
}

// The turn-end hook's return value bounds the shard's next wait: a hook that still holds work
// (the decision log's open groups) is called again within that time although nothing else
// happens; one that returns 0 lets the shard sleep until an event (here only the 1 s tick).
struct turn_end_calls {
  std::array<std::atomic<int>, 2> calls{};
  static constexpr int wanted = 100;
};

TEST_F(ShardTest, TheTurnEndHookIsCalledAgainWithinTheTimeItAsksFor) {
  static turn_end_calls seen;
  for (auto& c : seen.calls) c.store(0);
  START_OR_SKIP(2'000, [](shard_config& sc) {
    sc.tick_ms = 1000;
    sc.turn_end.run = [](shard& s, void* arg) -> std::int64_t {
      auto& calls = static_cast<turn_end_calls*>(arg)->calls[s.index()];
      return calls.fetch_add(1) + 1 < turn_end_calls::wanted ? 1000 : 0;  // 1 ms, then none
    };
    sc.turn_end.arg = &seen;
  });
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (std::chrono::steady_clock::now() < deadline &&
         (seen.calls[0].load() < turn_end_calls::wanted || seen.calls[1].load() < turn_end_calls::wanted)) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  // Without the bound, 5 s of 1 s ticks would have given each shard about 5 turns.
  ASSERT_GE(seen.calls[0].load(), turn_end_calls::wanted);
  ASSERT_GE(seen.calls[1].load(), turn_end_calls::wanted);
  const int before = seen.calls[0].load() + seen.calls[1].load();
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_LT(seen.calls[0].load() + seen.calls[1].load() - before, 10) << "0: the shard sleeps until an event";
  client c(port());
  ASSERT_TRUE(c.connected);
  c.send(get("/plain"));
  const auto r = c.read_reply();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200) << "requests are answered as without the hook";
}

TEST_F(ShardTest, NotFoundAndMethodNotAllowed) {
  START_OR_SKIP();
  client c(port());
  c.send(get("/missing") + "POST /plain HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\n\r\n");
  auto r = c.read_reply();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 404);
  r = c.read_reply();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 405);
  EXPECT_NE(r->head.find("\r\nAllow: GET, HEAD\r\n"), std::string::npos);
}

TEST_F(ShardTest, ParseErrorAnswersAndCloses) {
  START_OR_SKIP();
  client c(port());
  c.send("GET / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n");
  const auto r = c.read_reply();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 411);
  EXPECT_NE(r->head.find("Connection: close\r\n"), std::string::npos);
  EXPECT_NE(r->body.find(R"("code":"LENGTH_REQUIRED")"), std::string::npos);
  EXPECT_TRUE(c.wait_closed());
}

TEST_F(ShardTest, DeferredAnswerFromAnotherThread) {
  START_OR_SKIP();
  client c(port());
  c.send(get("/later/hello"));
  const auto r = c.read_reply();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "hello");
  EXPECT_EQ(completed_true(), 1);
  // The connection is usable afterwards.
  c.send(get("/echo/again"));
  const auto again = c.read_reply();
  ASSERT_TRUE(again);
  EXPECT_EQ(again->body, "again");
}

TEST_F(ShardTest, PipelinedRequestsBehindDeferredOnesStayInOrder) {
  START_OR_SKIP();
  client c(port());
  // One write: deferred, plain, deferred, plain, plain.
  c.send(get("/later/a") + get("/echo/b") + get("/later/c") + get("/echo/d") + get("/plain"));
  // More while the first is still pending.
  c.send(get("/echo/e") + get("/later/f"));
  std::vector<std::string> bodies;
  for (int i = 0; i < 7; ++i) {
    const auto r = c.read_reply();
    ASSERT_TRUE(r) << "reply " << i;
    EXPECT_EQ(r->status, 200);
    bodies.push_back(r->body);
  }
  EXPECT_EQ(bodies, (std::vector<std::string>{"a", "b", "c", "d", R"({"plain":true})", "e", "f"}));
  EXPECT_EQ(completed_true(), 3);
}

TEST_F(ShardTest, PipelinedWritesAreAllHandledAtOnceAndAnsweredInOrder) {
  START_OR_SKIP();
  client c(port());
  c.send(post("/pheld/a") + post("/pheld/b") + post("/pnow/c") + post("/pheld/d"));
  // a, b and d are all handed over before any is answered: the connection did not stop at a.
  std::vector<held_request> held;
  for (int i = 0; i < 3; ++i) {
    auto h = wait_held();
    ASSERT_TRUE(h) << "request " << i << " was not handled while the earlier ones wait";
    held.push_back(*h);
  }
  EXPECT_EQ(held[0].word, "a");
  EXPECT_EQ(held[1].word, "b");
  EXPECT_EQ(held[2].word, "d");
  // Answered last to first; the answers still leave in request order.
  EXPECT_EQ(answer(held[2], R"("d")"), true);
  EXPECT_EQ(answer(held[1], R"("b")"), true);
  EXPECT_EQ(answer(held[1], R"("b again")"), false);  // a token is answered once
  EXPECT_EQ(answer(held[0], R"("a")"), true);
  std::vector<std::string> bodies;
  for (int i = 0; i < 4; ++i) {
    const auto r = c.read_reply();
    ASSERT_TRUE(r) << "reply " << i;
    bodies.push_back(r->body);
  }
  EXPECT_EQ(bodies, (std::vector<std::string>{R"("a")", R"("b")", "c", R"("d")"}));
  // The connection goes on as usual afterwards.
  c.send(get("/plain"));
  const auto r = c.read_reply();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->body, R"({"plain":true})");
}

TEST_F(ShardTest, ARequestToAnotherRouteWaitsForTheDeferredWritesBeforeIt) {
  START_OR_SKIP();
  client c(port());
  c.send(post("/pheld/a") + get("/echo/x") + post("/pheld/b"));
  auto a = wait_held();
  ASSERT_TRUE(a);
  EXPECT_EQ(a->word, "a");
  // /echo does not pipeline: neither it nor b behind it is handled while a waits.
  EXPECT_FALSE(held_within(100ms));
  EXPECT_EQ(answer(*a, R"("a")"), true);
  auto b = wait_held();
  ASSERT_TRUE(b);
  EXPECT_EQ(b->word, "b");
  EXPECT_EQ(answer(*b, R"("b")"), true);
  std::vector<std::string> bodies;
  for (int i = 0; i < 3; ++i) {
    const auto r = c.read_reply();
    ASSERT_TRUE(r) << "reply " << i;
    bodies.push_back(r->body);
  }
  EXPECT_EQ(bodies, (std::vector<std::string>{R"("a")", "x", R"("b")"}));
}

TEST_F(ShardTest, ADeferralOfARouteThatDoesNotPipelineStopsTheConnection) {
  START_OR_SKIP();
  client c(port());
  c.send(get("/held") + post("/pheld/a"));
  auto first = wait_held();
  ASSERT_TRUE(first);
  EXPECT_FALSE(held_within(100ms));  // a waits behind the non-pipelining deferral
  EXPECT_EQ(answer(*first, R"("first")"), true);
  auto a = wait_held();
  ASSERT_TRUE(a);
  EXPECT_EQ(answer(*a, R"("a")"), true);
  const auto r1 = c.read_reply();
  const auto r2 = c.read_reply();
  ASSERT_TRUE(r1 && r2);
  EXPECT_EQ(r1->body, R"("first")");
  EXPECT_EQ(r2->body, R"("a")");
}

TEST_F(ShardTest, PipelineDepthIsBounded) {
  START_OR_SKIP(2'000, [](shard_config& sc) { sc.pipeline_depth_max = 2; });
  client c(port());
  c.send(post("/pheld/1") + post("/pheld/2") + post("/pheld/3"));
  auto h1 = wait_held();
  auto h2 = wait_held();
  ASSERT_TRUE(h1 && h2);
  EXPECT_FALSE(held_within(100ms));  // two unanswered: the third waits
  EXPECT_EQ(answer(*h1, R"("1")"), true);
  auto h3 = wait_held();
  ASSERT_TRUE(h3);
  EXPECT_EQ(h3->word, "3");
  EXPECT_EQ(answer(*h2, R"("2")"), true);
  EXPECT_EQ(answer(*h3, R"("3")"), true);
  for (const char* want : {R"("1")", R"("2")", R"("3")"}) {
    const auto r = c.read_reply();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->body, want);
  }
}

TEST_F(ShardTest, AMalformedRequestBehindAFullPipelineWaitsItsTurn) {
  START_OR_SKIP(2'000, [](shard_config& sc) { sc.pipeline_depth_max = 2; });
  client c(port());
  c.send(post("/pheld/1") + post("/pheld/2") + "NONSENSE\r\n\r\n");
  auto h1 = wait_held();
  auto h2 = wait_held();
  ASSERT_TRUE(h1 && h2);
  EXPECT_EQ(answer(*h2, R"("2")"), true);
  EXPECT_EQ(answer(*h1, R"("1")"), true);
  const auto r1 = c.read_reply();
  const auto r2 = c.read_reply();
  const auto r3 = c.read_reply();
  ASSERT_TRUE(r1 && r2 && r3);
  EXPECT_EQ(r1->body, R"("1")");
  EXPECT_EQ(r2->body, R"("2")");
  EXPECT_EQ(r3->status, 400);
}

TEST_F(ShardTest, ClientResetWithPipelinedAnswersOutstanding) {
  START_OR_SKIP();
  std::vector<held_request> held;
  {
    client c(port());
    c.send(post("/pheld/a") + post("/pnow/b") + post("/pheld/c"));
    for (int i = 0; i < 2; ++i) {
      auto h = wait_held();
      ASSERT_TRUE(h);
      held.push_back(*h);
    }
    c.reset();
  }
  ASSERT_TRUE(wait_open_connections(0));
  EXPECT_EQ(answer(held[1], R"("c")"), false);  // the connection is gone: dropped
  EXPECT_EQ(answer(held[0], R"("a")"), false);
  // The slot serves a new connection with a fresh pipeline.
  client c2(port());
  c2.send(post("/pheld/x") + post("/pnow/y"));
  auto x = wait_held();
  ASSERT_TRUE(x);
  EXPECT_EQ(answer(*x, R"("x")"), true);
  const auto r1 = c2.read_reply();
  const auto r2 = c2.read_reply();
  ASSERT_TRUE(r1 && r2);
  EXPECT_EQ(r1->body, R"("x")");
  EXPECT_EQ(r2->body, "y");
}

TEST_F(ShardTest, ManyConnectionsWithDeferredRequests) {
  START_OR_SKIP();
  std::vector<std::unique_ptr<client>> clients;
  for (int i = 0; i < 16; ++i) {
    clients.push_back(std::make_unique<client>(port()));
    clients.back()->send(get("/later/c" + std::to_string(i)) + get("/echo/e" + std::to_string(i)));
  }
  for (int i = 0; i < 16; ++i) {
    const auto first = clients[i]->read_reply();
    const auto second = clients[i]->read_reply();
    ASSERT_TRUE(first && second);
    EXPECT_EQ(first->body, "c" + std::to_string(i));
    EXPECT_EQ(second->body, "e" + std::to_string(i));
  }
}

TEST_F(ShardTest, ClientResetBeforeCompletion) {
  START_OR_SKIP();
  {
    client c(port());
    c.send(get("/held") + get("/echo/behind"));
    const auto held = wait_held();
    ASSERT_TRUE(held);
    c.reset();
    // The shard notices the reset and frees the connection; the handle is then stale.
    ASSERT_TRUE(wait_open_connections(0));
    const std::optional<bool> answered = answer(*held, "too late");
    ASSERT_TRUE(answered);
    EXPECT_FALSE(*answered);
    // A second completion of the same handle is refused as well.
    EXPECT_EQ(answer(*held, "again"), std::optional<bool>(false));
  }
  // The server is fine afterwards, on every shard.
  for (int i = 0; i < 8; ++i) {
    client c(port());
    c.send(get("/echo/ok"));
    const auto r = c.read_reply();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->body, "ok");
  }
}

// A FIN may be a half-close: the shard still answers what it fully received, then closes.
TEST_F(ShardTest, ClientFinBeforeCompletionIsAnsweredThenClosed) {
  START_OR_SKIP();
  client c(port());
  c.send(get("/held"));
  const auto held = wait_held();
  ASSERT_TRUE(held);
  c.shutdown_write();
  const std::optional<bool> answered = answer(*held, "still here");
  ASSERT_TRUE(answered);
  EXPECT_TRUE(*answered);
  const auto r = c.read_reply();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->body, "still here");
  EXPECT_NE(r->head.find("Connection: close\r\n"), std::string::npos);
  EXPECT_TRUE(c.wait_closed());
  EXPECT_TRUE(wait_open_connections(0));
}

TEST_F(ShardTest, FullCloseBeforeCompletionDoesNotCrash) {
  START_OR_SKIP();
  {
    client c(port());
    c.send(get("/held"));
    const auto held = wait_held();
    ASSERT_TRUE(held);
    c.close();
    // Whether complete() still sees the connection depends on what the shard has read by
    // then (a FIN looks like a half-close); either way nothing breaks and the slot is freed.
    ASSERT_TRUE(answer(*held, "gone"));
  }
  EXPECT_TRUE(wait_open_connections(0));
  client c(port());
  c.send(get("/plain"));
  ASSERT_TRUE(c.read_reply());
}

TEST_F(ShardTest, RequestArrivingInPieces) {
  START_OR_SKIP();
  client c(port());
  const std::string body(20'000, 'x');
  const std::string request = "POST /size HTTP/1.1\r\nHost: t\r\nContent-Length: 20000\r\n\r\n" + body;
  for (std::size_t i = 0; i < request.size();) {
    const std::size_t n = std::min<std::size_t>(i < 100 ? 1 : 3000, request.size() - i);
    c.send(std::string_view(request).substr(i, n));
    i += n;
    if (i < 100 || i % 9000 < 3000) std::this_thread::sleep_for(1ms);  // let pieces arrive apart
  }
  const auto r = c.read_reply();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "20000:xxxxxxxx");
}

TEST_F(ShardTest, LongPipelineLargerThanReceiveBuffers) {
  START_OR_SKIP();
  client c(port());
  std::string batch;
  for (int i = 0; i < 300; ++i) batch += get("/echo/n" + std::to_string(i));
  batch += "POST /size HTTP/1.1\r\nHost: t\r\nContent-Length: 10000\r\n\r\n" + std::string(10'000, 'y');
  batch += get("/later/last");
  c.send(batch);  // about 17 KB: several 4 KiB receive buffers
  for (int i = 0; i < 300; ++i) {
    const auto r = c.read_reply();
    ASSERT_TRUE(r) << i;
    ASSERT_EQ(r->body, "n" + std::to_string(i));
  }
  auto r = c.read_reply();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->body, "10000:yyyyyyyy");
  r = c.read_reply();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->body, "last");
}

TEST_F(ShardTest, ExpectContinue) {
  START_OR_SKIP();
  client c(port());
  c.send("POST /size HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n");
  auto r = c.read_reply();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->head, "HTTP/1.1 100 Continue\r\n\r\n");
  c.send("hello");
  r = c.read_reply();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "5:hello");
}

TEST_F(ShardTest, HeaderTimeout) {
  START_OR_SKIP(2'000, [](shard_config& sc) { sc.header_timeout_ms = 200; });
  client silent(port());
  client partial(port());
  partial.send("GET /plain HTTP/1.1\r\nHost:");
  // A partial request is answered 408 and closed; a silent connection is just closed.
  const auto r = partial.read_reply();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 408);
  EXPECT_NE(r->head.find("Connection: close\r\n"), std::string::npos);
  EXPECT_TRUE(partial.wait_closed());
  EXPECT_TRUE(silent.wait_closed());
  EXPECT_FALSE(silent.read_reply());
}

TEST_F(ShardTest, StopWithIdleConnectionReturnsPromptly) {
  START_OR_SKIP(60'000);  // a drain bound far above what the test allows
  client idle(port());
  idle.send(get("/plain"));
  ASSERT_TRUE(idle.read_reply());
  client never_sent(port());
  ASSERT_TRUE(wait_open_connections(2));
  const auto start = steady::now();
  stop_and_join();
  EXPECT_LT(steady::now() - start, wait_bound);
  EXPECT_TRUE(idle.wait_closed());
  EXPECT_TRUE(never_sent.wait_closed());
}

TEST_F(ShardTest, StopFinishesInFlightDeferredRequest) {
  START_OR_SKIP(60'000);
  client c(port());
  c.send(get("/held"));
  const auto held = wait_held();
  ASSERT_TRUE(held);
  _server->stop();
  // The shard drains: the in-flight request is still answered, then the connection closes.
  const std::optional<bool> answered = answer(*held, "last");
  ASSERT_TRUE(answered);
  EXPECT_TRUE(*answered);
  const auto r = c.read_reply();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->body, "last");
  EXPECT_TRUE(c.wait_closed());
  c.close();  // else the shard lingers for our FIN up to linger_timeout_ms
  const auto start = steady::now();
  _server->join();
  EXPECT_LT(steady::now() - start, wait_bound);
}

TEST_F(ShardTest, StopWithNeverAnsweredRequestEndsAtDrainBound) {
  START_OR_SKIP(300);
  client c(port());
  c.send(get("/never"));
  const auto deadline = steady::now() + wait_bound;
  while (_never_seen.load() == 0 && steady::now() < deadline) std::this_thread::sleep_for(1ms);
  ASSERT_EQ(_never_seen.load(), 1);
  const auto start = steady::now();
  stop_and_join();
  EXPECT_LT(steady::now() - start, wait_bound);
  EXPECT_TRUE(c.wait_closed());
}

// ---- cross-thread posts: the "wake pending" flag --------------------------------------------

// A task that records, on the shard thread, the last round its poster asked for.
struct round_marker {
  std::atomic<std::uint64_t> seen{0};
  std::uint64_t round = 0;  // written by the poster before posting, read by the shard
  static void run(shard&, void* arg) {
    auto* self = static_cast<round_marker*>(arg);
    self->seen.store(self->round, std::memory_order_release);
  }
};

// Every post must be delivered by its own wake-up: each poster waits for its task to run
// before posting the next, so a lost eventfd write leaves a poster waiting until the bound.
// Posters alternate post() and enqueue() + wake(), all at once on both shards.
TEST_F(ShardTest, ConcurrentPostersNeverLoseAWakeUp) {
  START_OR_SKIP();
  constexpr int posters_per_shard = 3;
  constexpr std::uint64_t rounds = 3000;
  std::vector<std::thread> posters;
  std::atomic<int> stuck{0};
  std::vector<std::unique_ptr<round_marker>> markers;
  for (std::size_t i = 0; i < _server->shard_count() * posters_per_shard; ++i) {
    markers.push_back(std::make_unique<round_marker>());
  }
  for (std::size_t i = 0; i < markers.size(); ++i) {
    shard& target = _server->shard_at(i % _server->shard_count());
    round_marker& m = *markers[i];
    posters.emplace_back([&target, &m, &stuck] {
      for (std::uint64_t r = 1; r <= rounds; ++r) {
        m.round = r;
        if (r % 2 == 0) {
          ASSERT_TRUE(target.post({round_marker::run, &m}));
        } else {
          ASSERT_TRUE(target.enqueue({round_marker::run, &m}));
          target.wake();
        }
        const auto deadline = steady::now() + wait_bound;
        while (m.seen.load(std::memory_order_acquire) != r) {
          if (steady::now() > deadline) {
            stuck.fetch_add(1);
            return;
          }
          std::this_thread::yield();
        }
      }
    });
  }
  for (auto& t : posters) t.join();
  EXPECT_EQ(stuck.load(), 0);
  for (const auto& m : markers) EXPECT_EQ(m->seen.load(), rounds);
}

// enqueue() alone does not write the eventfd; one wake() then runs every task enqueued before
// it, in order.
TEST_F(ShardTest, OneWakeRunsEveryTaskEnqueuedBeforeIt) {
  START_OR_SKIP();
  shard& target = _server->shard_at(0);
  constexpr int tasks = 40;  // within task_queue_capacity (64)
  struct ordered {
    std::vector<int>* ran;
    int value;
    static void run(shard&, void* arg) {
      auto* self = static_cast<ordered*>(arg);
      self->ran->push_back(self->value);
    }
  };
  std::vector<int> ran;  // touched by the shard thread only until `done` ran
  std::vector<ordered> items;
  items.reserve(tasks);
  for (int i = 0; i < tasks; ++i) items.push_back({&ran, i});
  for (auto& item : items) ASSERT_TRUE(target.enqueue({ordered::run, &item}));
  std::promise<void> done;
  auto finished = done.get_future();
  ASSERT_TRUE(target.enqueue({[](shard&, void* arg) { static_cast<std::promise<void>*>(arg)->set_value(); }, &done}));
  target.wake();
  ASSERT_EQ(finished.wait_for(wait_bound), std::future_status::ready);
  ASSERT_EQ(ran.size(), static_cast<std::size_t>(tasks));
  for (int i = 0; i < tasks; ++i) EXPECT_EQ(ran[static_cast<std::size_t>(i)], i);
}

// A full queue refuses at once; the tasks already in it still run after a wake.
TEST_F(ShardTest, EnqueueOnAFullQueueRefuses) {
  START_OR_SKIP();
  shard& target = _server->shard_at(1);
  std::atomic<int> runs{0};
  int accepted = 0;
  while (target.enqueue({[](shard&, void* arg) { static_cast<std::atomic<int>*>(arg)->fetch_add(1); }, &runs})) {
    ++accepted;
    ASSERT_LE(accepted, 64);  // task_queue_capacity
  }
  EXPECT_EQ(accepted, 64);
  target.wake();
  const auto deadline = steady::now() + wait_bound;
  while (runs.load() != accepted && steady::now() < deadline) std::this_thread::sleep_for(1ms);
  EXPECT_EQ(runs.load(), accepted);
}

}  // namespace
}  // namespace warrant::net

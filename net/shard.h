// net/shard.h: one reactor thread with its own io_uring, serving HTTP/1.1 connections.
//
// A shard owns a SO_REUSEPORT listener, a fixed table of connections, a provided-buffer ring
// for multishot recv, per-connection send buffers and timer lists. It accepts with multishot
// accept, parses requests in place, routes them, and batches the responses of a whole CQE
// batch into one send per connection. Nothing here is shared with other shards.
//
// Threading: every member function runs on the shard thread except `post`, `enqueue`, `wake`,
// `request_stop` and the constructor/`start`/`join` used by the server. Other threads reach a
// shard only through `post` (or `enqueue` + `wake`): a bounded lock-free queue plus an eventfd
// wake-up, written only when a "wake pending" flag flips false -> true. That is how the
// storage writer completes deferred requests.
//
// Pipelined writes. A handler may defer its answer (request_context::defer). Answers always
// leave in request order. By default a deferred request stops its connection's input until it
// is answered, so an HTTP/1.1 client that pipelines writes would get one durable write per
// commit round trip. A route marked `pipelines` (router.h: appends such as POST /v1/events)
// lets the connection go on: while every deferred request before it is of such a route, its
// next request to such a route is handled at once, up to `pipeline_depth_max` unanswered
// requests; answers that are ready early wait in the connection's ring until those before them
// are done. The storage writer applies commands in submission order, so the writes' effects
// keep the pipeline's order, and a batch commits many of one connection's writes together.
// Any other request (a read, say) waits, as before, until every answer before it is sent.
#pragma once

#include <liburing.h>

#include <array>
#include <atomic>
#include <cstdint>
#include <ctime>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "net/connection.h"
#include "net/http_response.h"
#include "net/metrics.h"
#include "net/router.h"
#include "net/task_queue.h"
#include "net/timer_list.h"

namespace warrant::net {

class shard;

// Called on the shard thread at the end of every loop turn, after the turn's responses have
// been handed to the kernel: where a module that buffers per-shard work (the decision log's
// group commit, engine/evidence/decision_log.h) hands it on. Must not block. Returns within
// how many microseconds it must run again even if no other event comes (it still holds work
// it will hand on later), or 0: not before the next event. The shard's wait for events is then
// bounded by that (at most `turn_end_wait_max_us`).
inline constexpr std::int64_t turn_end_wait_max_us = 1'000'000;
struct shard_turn_hook {
  std::int64_t (*run)(shard& s, void* arg) = nullptr;
  void* arg = nullptr;
};

// Called on the shard thread once per loop turn, before the turn's completions are handled,
// with the bytes of each receive completed in that turn (at most `receive_batch_max` of them,
// in the order they will be handled) and the connection they came from (request_context's
// conn_slot and conn_generation). Where a module starts the memory loads that the coming
// requests will need (the guard's key lookups: engine/guard/guard.h, "Warming"), so that they
// overlap instead of each request waiting for its own. A hint only: the bytes may begin in the
// middle of a request, and the requests are parsed and handled afterwards as if it had not
// run. Must not block; the views are valid during the call.
inline constexpr std::size_t receive_batch_max = 64;
struct received_bytes {
  std::uint32_t conn_slot = 0;
  std::uint32_t conn_generation = 0;
  std::string_view bytes;
};
struct shard_receive_hook {
  void (*run)(shard& s, const received_bytes* received, std::size_t count, void* arg) = nullptr;
  void* arg = nullptr;
};

struct shard_config {
  std::size_t connections_max = 10000;
  std::int64_t header_timeout_ms = 10'000;
  std::int64_t body_timeout_ms = 30'000;
  std::int64_t idle_timeout_ms = 60'000;
  std::int64_t send_timeout_ms = 60'000;  // no progress sending a response
  std::int64_t linger_timeout_ms = 2'000;  // reading leftovers after the final response
  std::int64_t tick_ms = 100;             // timer resolution
  http_limits limits;
  unsigned ring_entries = 2048;
  unsigned recv_buffer_count = 1024;      // power of two
  std::size_t recv_buffer_bytes = 8192;
  std::size_t task_queue_capacity = 16384;
  std::size_t output_pause_bytes = 1 << 20;  // stop reading requests while this much is unsent
  // Requests of one connection handled but not yet answered in order, at most (a power of
  // two; see "Pipelined writes" above). 1: a deferred request stops its connection's input.
  std::uint32_t pipeline_depth_max = 32;
  int pin_cpu = -1;                       // >= 0: pin the thread to this CPU
  shard_turn_hook turn_end;               // optional
  shard_receive_hook receive_batch;       // optional
};

// Names a request whose answer comes later (see request_context::defer).
struct deferred_response {
  std::uint32_t slot = 0;
  std::uint32_t generation = 0;
  std::uint32_t seq = 0;  // the request's number on its connection
};

// What a handler sees. Views in `req` and `params` are valid only during the handler call;
// a handler that defers copies what it needs first.
struct request_context {
  const http_request& req;
  const route_params& params;
  http_response& res;
  shard& owner;
  std::uint32_t conn_slot;
  std::uint32_t conn_generation;
  std::uint32_t conn_seq = 0;
  bool deferred = false;

  // The handler will answer later, on this shard, through shard::complete. Answers stay in
  // request order; requests behind this one on the same connection wait, unless both routes
  // pipeline (router.h).
  deferred_response defer() {
    deferred = true;
    return {conn_slot, conn_generation, conn_seq};
  }
};

class shard {
 public:
  shard(std::size_t index, const shard_config& config, const router& routes, shard_metrics& metrics,
        int listen_fd);
  ~shard();
  shard(const shard&) = delete;
  shard& operator=(const shard&) = delete;

  void start();  // spawns the thread
  // Blocks until the thread has set up its ring (or failed). Returns the error, or "" when ready.
  std::string wait_started();
  void join();

  // Any thread. False when the shard's task queue is full. Wakes the shard with at most one
  // eventfd write per drain of its queue, however many threads post.
  bool post(shard_task task);
  // Any thread: `post` in two halves, for a producer that hands a shard many tasks at once
  // (the storage writer, a batch's completions): `enqueue` each, then `wake` once. A task
  // enqueued and never followed by a `wake` waits for the shard's next wake-up.
  bool enqueue(shard_task task);
  void wake();
  // Any thread. Stop accepting, finish in-flight requests, close idle connections, and
  // return from the loop once all are gone or `drain_ms` has passed.
  void request_stop(std::int64_t drain_ms);

  // Shard thread. Answers a deferred request with `res` (usually scratch_response()).
  // False when the connection has gone meanwhile; the answer is dropped.
  bool complete(deferred_response d, http_response& res);
  http_response& scratch_response() { return _response; }

  std::size_t index() const { return _index; }
  std::size_t open_connections() const { return _open; }
  bool stopping() const { return _stopping; }
  // Any thread: loop turns completed, and whether the loop runs. A shard holds no reference
  // to shared snapshots between turns, so a changed count proves it let go of older ones.
  std::uint64_t turns() const { return _turns.load(std::memory_order_acquire); }
  bool running() const { return _running.load(std::memory_order_acquire); }
  // Shard thread: monotonic time of the current loop turn.
  std::int64_t now_ns() const { return _now_ns; }
  // Shard thread: wall-clock time (Unix ms) of the current loop turn, read once per turn for
  // whoever needs a wall clock per request (the guard's key expiry).
  std::int64_t now_unix_ms() const { return _now_unix_ms; }
  // Shard thread: the client address of the connection in `slot` (a request_context's
  // conn_slot), read with getpeername(2) on first use and cached for the connection.
  const peer_address& peer(std::uint32_t slot);

 private:
  enum class op : std::uint8_t { accept = 1, recv, send, wake, tick, cancel, close };

  void run();
  void setup_ring();
  void setup_buffer_ring();
  io_uring_sqe* get_sqe();
  static std::uint64_t pack(op kind, std::uint32_t slot, std::uint32_t generation);

  void arm_accept();
  void arm_recv(connection& c);
  void arm_wake();
  void arm_tick();

  void on_cqe(const io_uring_cqe& cqe);
  void announce_receives();  // the turn's receives to config.receive_batch
  // The provided buffer a receive completion (res > 0, IORING_CQE_F_BUFFER) filled.
  char* received_buffer(const io_uring_cqe& cqe) const {
    const auto bid = static_cast<unsigned short>(cqe.flags >> IORING_CQE_BUFFER_SHIFT);
    return _buf_base + static_cast<std::size_t>(bid) * _config.recv_buffer_bytes;
  }
  void on_accept(const io_uring_cqe& cqe);
  void on_recv(connection& c, const io_uring_cqe& cqe);
  void on_send(connection& c, int res);
  void on_wake();
  void on_tick();

  void process_bytes(connection& c, const char* data, std::size_t len);
  std::size_t process_input(connection& c, std::string_view data);
  void resume_input(connection& c);
  bool may_handle_now(const connection& c, const route_match& m) const;
  void handle_request(connection& c, const http_request& req, const route_match& m);
  void answer_parse_error(connection& c, http_errc e);
  void finish_response(connection& c, std::uint32_t seq, std::uint32_t route_id, std::int64_t start_ns,
                       const response_framing& framing);
  void release_answers_in_order(connection& c);
  void queue_flush(connection& c);
  void flush(connection& c);
  void after_send_drained(connection& c);
  void update_timer(connection& c);
  void close_connection(connection& c);
  void begin_linger(connection& c);
  void release_slot(connection& c);
  void begin_drain();
  void expire_timers();
  void refresh_clock();

  connection* lookup(std::uint32_t slot, std::uint32_t generation);

  const std::size_t _index;
  const shard_config _config;
  const router& _router;
  shard_metrics& _metrics;
  int _listen_fd;

  io_uring _ring{};
  bool _ring_ready = false;
  bool _timed_wait = false;  // the kernel bounds a wait without a timeout request (IORING_FEAT_EXT_ARG)
  io_uring_buf_ring* _buf_ring = nullptr;
  char* _buf_base = nullptr;
  std::size_t _buf_ring_bytes = 0;
  unsigned _buf_returned = 0;  // buffers added back since the last advance

  std::unique_ptr<connection[]> _conns;
  std::vector<std::uint32_t> _free_slots;
  std::vector<std::uint32_t> _flush_list;
  std::size_t _open = 0;

  // Timer lists, one per timeout kind (index = timeout_kind; list id = index + 1).
  std::array<timer_list, timeout_kind_count> _timers;
  timer_list& timers(timeout_kind k) { return _timers[static_cast<std::size_t>(k)]; }
  void disarm(connection& c) {
    if (c.timer.linked()) _timers[c.timer.list - 1u].remove(c.timer);
  }

  http_request _request;
  http_response _response;
  bool _more_input = false;  // input follows the request being answered (see finish_response)
  http_date_cache _date;
  std::string_view _date_line;

  task_queue _tasks;
  int _wake_fd = -1;
  std::uint64_t _wake_value = 0;
  std::atomic<bool> _wake_pending{false};
  std::atomic<bool> _stop_requested{false};
  std::atomic<std::int64_t> _drain_ms{0};

  bool _accepting = false;
  bool _stopping = false;
  std::int64_t _drain_deadline_ns = 0;
  std::int64_t _now_ns = 0;
  std::int64_t _now_unix_ms = 0;
  __kernel_timespec _tick_ts{};

  std::atomic<std::uint64_t> _turns{0};
  std::atomic<bool> _running{false};
  std::atomic<int> _startup{0};  // 0 starting, 1 running, -1 failed
  std::string _startup_error;
  std::thread _thread;
};

}  // namespace warrant::net

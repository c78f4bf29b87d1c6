// bench/load/load_worker.h: one load thread: its io_uring ring, its connections, its stats.
//
// What it is for: driving a share of the run's connections against the target.
//   - Closed loop: each connection keeps `pipeline` requests in flight; a response frees a
//     slot which is refilled at once; latency runs from the send.
//   - Open loop: this thread's share of `--rate` is scheduled at fixed intervals, interleaved
//     with the other threads; a due request goes to a connection with a free slot, or waits
//     (as a count, not a list) until one frees up. Latency runs from the *scheduled* time, so
//     a slow server cannot hide its stalls by slowing the generator (coordinated omission).
//   - Each loop turn submits every prepared SQE at once and waits with
//     io_uring_submit_and_wait_timeout until a completion, the next schedule, the next
//     housekeeping tick or the end of the run; completions are drained in one batch.
//   - Connections that fail, time out or are closed by the server reconnect by themselves;
//     errors are counted, never fatal.
//
// Ownership: constructed on the main thread; `setup` and `run` are called on the worker's own
// thread (the ring is single-issuer), and the stats are read after the thread is joined.
#pragma once

#include <liburing.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "bench/load/connection.h"
#include "bench/load/request_renderer.h"
#include "bench/load/run_config.h"
#include "bench/load/run_stats.h"
#include "bench/load/target.h"

namespace warrant::bench {

// The run's clock, shared read-only by all threads once they start.
struct run_window {
  std::int64_t start_ns = 0;          // connections open, open-loop schedule begins
  std::int64_t measure_start_ns = 0;  // end of warmup
  std::int64_t end_ns = 0;            // the run stops here whatever is in flight
};

struct worker_share {
  std::uint32_t index = 0;        // this thread's number, 0-based
  std::uint32_t connections = 0;  // how many connections this thread drives
  std::uint64_t requests = 0;     // --requests share (0: run for the duration)
};

class load_worker {
 public:
  load_worker(const run_config& config, const target& where, const request_set& requests, worker_share share);
  ~load_worker();
  load_worker(const load_worker&) = delete;
  load_worker& operator=(const load_worker&) = delete;

  // Creates the ring and the connections' buffers; on failure returns a message.
  std::string setup();
  void run(const run_window& window);
  const run_stats& stats() const { return _stats; }

 private:
  static constexpr std::int64_t tick_ns = 10'000'000;          // timeouts and reconnects
  static constexpr std::int64_t reconnect_pause_ns = 10'000'000;
  static constexpr std::int64_t grace_ns = 200'000'000;        // to reap operations at the end
  static constexpr std::uint32_t ring_entries_max = 4096;

  enum class op : std::uint8_t { connect, connect_timeout, recv, send };

  // load_worker.cc: the loop, schedules and housekeeping.
  void loop_turn(std::int64_t now);
  std::int64_t wake_at(std::int64_t now) const;
  void drain_completions(std::int64_t now);
  void schedule_due(std::int64_t now);
  void dispatch_waiting(std::int64_t now);
  std::uint64_t issue_allowance(std::int64_t now) const;
  std::int64_t scheduled_ns(std::uint64_t k) const;
  void stamp_batch(std::int64_t begin_ns, std::int64_t end_ns);
  void tick(std::int64_t now);
  bool share_done() const;
  void shut_down_all(std::int64_t now);

  // load_worker_io.cc: SQEs and CQEs of one connection.
  io_uring_sqe* next_sqe();
  void submit_connect(connection& c, std::uint32_t index, std::int64_t now);
  void submit_recv(connection& c, std::uint32_t index);
  void submit_send(connection& c, std::uint32_t index);
  void on_completion(const io_uring_cqe& cqe, std::int64_t now);
  void on_connect(connection& c, std::uint32_t index, int result, std::int64_t now);
  void on_recv(connection& c, std::uint32_t index, int result, std::int64_t now);
  void on_send(connection& c, std::uint32_t index, int result, std::int64_t now);
  bool parse_responses(connection& c, std::uint32_t index, std::int64_t now);
  void complete_request(connection& c, int status, std::int64_t now);
  void pump(connection& c, std::uint32_t index, std::int64_t now);
  void fail(connection& c, std::uint32_t index, std::uint64_t& error_counter, std::int64_t now);
  void close_connection(connection& c, std::uint32_t index, std::int64_t now);
  void finish_close(connection& c, std::uint32_t index, std::int64_t now);
  bool measuring(std::int64_t now) const;

  const run_config& _config;
  const target& _target;
  const request_set& _requests;
  worker_share _share;
  run_window _window;
  io_uring _ring{};
  bool _ring_ready = false;
  __kernel_timespec _connect_timeout{};
  std::vector<std::unique_ptr<connection>> _connections;
  std::unique_ptr<request_renderer> _renderer;
  std::vector<std::uint32_t> _ready;  // open loop: connections with a free slot
  std::vector<std::uint32_t> _unstamped;  // connections with requests rendered this turn
  double _interval_ns = 0;             // open loop: between this thread's schedule slots
  std::int64_t _first_slot_ns = 0;
  std::uint64_t _in_flight_total = 0;
  std::uint64_t _measured_done = 0;
  std::uint64_t _scheduled_count = 0;  // open loop: schedule slots due so far
  std::uint64_t _issued_count = 0;     // open loop: of those, sent
  std::uint64_t _schedule_limit = 0;   // open loop with --requests: slots to schedule at most
  std::int64_t _next_tick_ns = 0;
  bool _stopping = false;
  run_stats _stats;
};

}  // namespace warrant::bench

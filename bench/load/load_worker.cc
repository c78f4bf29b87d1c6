// bench/load/load_worker.cc: a load thread's loop, open-loop schedule and housekeeping.
#include "bench/load/load_worker.h"

#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>

#include <fmt/format.h>

#include "bench/load/clock.h"

namespace warrant::bench {

namespace {

std::uint32_t ring_entries_for(std::uint32_t connections, std::uint32_t entries_max) {
  std::uint32_t entries = 64;
  while (entries < 2 * connections + 16 && entries < entries_max) entries *= 2;
  return entries;
}

}  // namespace

load_worker::load_worker(const run_config& config, const target& where, const request_set& requests,
                         worker_share share)
    : _config(config), _target(where), _requests(requests), _share(share) {}

load_worker::~load_worker() {
  for (const auto& c : _connections) {
    if (c->fd >= 0) close(c->fd);
  }
  if (_ring_ready) io_uring_queue_exit(&_ring);
}

std::string load_worker::setup() {
  const std::uint32_t entries = ring_entries_for(_share.connections, ring_entries_max);
  io_uring_params params{};
  params.flags = IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN | IORING_SETUP_SUBMIT_ALL |
                 IORING_SETUP_CQSIZE;
  params.cq_entries = entries * 4;
  int rc = io_uring_queue_init_params(entries, &_ring, &params);
  if (rc == -EINVAL) {  // older kernel: plain ring
    params = io_uring_params{};
    params.flags = IORING_SETUP_CQSIZE;
    params.cq_entries = entries * 4;
    rc = io_uring_queue_init_params(entries, &_ring, &params);
  }
  if (rc < 0) return fmt::format("io_uring_queue_init: {}", std::strerror(-rc));
  _ring_ready = true;

  const std::size_t send_bytes = _config.pipeline * _requests.request_bytes_max();
  _connections.reserve(_share.connections);
  for (std::uint32_t i = 0; i < _share.connections; ++i) {
    _connections.push_back(std::make_unique<connection>(_config.pipeline, send_bytes, recv_buffer_bytes));
  }
  _ready.reserve(_share.connections);
  _unstamped.reserve(_share.connections);
  const std::uint64_t seq_step = _config.threads;
  _renderer = std::make_unique<request_renderer>(_requests, _share.index, seq_step,
                                                 _config.seed * 0x9e3779b97f4a7c15ULL + _share.index);
  const std::int64_t timeout_ns = seconds_to_ns(_config.timeout_s);
  _connect_timeout.tv_sec = timeout_ns / ns_per_s;
  _connect_timeout.tv_nsec = timeout_ns % ns_per_s;
  return {};
}

void load_worker::run(const run_window& window) {
  _window = window;
  if (_config.mode == loop_mode::open) {
    const double rate_per_thread_per_ns = _config.rate_per_s / _config.threads / 1e9;
    _interval_ns = 1.0 / rate_per_thread_per_ns;
    // Threads interleave: thread i's first slot is i / rate after the start.
    _first_slot_ns = window.start_ns + static_cast<std::int64_t>(_share.index * 1e9 / _config.rate_per_s);
    const double warmup_slots = std::max(0.0, std::ceil((window.measure_start_ns - _first_slot_ns) / _interval_ns));
    _schedule_limit = _share.requests == 0 ? UINT64_MAX : static_cast<std::uint64_t>(warmup_slots) + _share.requests;
  }
  std::int64_t now = now_ns();
  for (std::uint32_t i = 0; i < _connections.size(); ++i) submit_connect(*_connections[i], i, now);
  _next_tick_ns = now + tick_ns;
  while (now < _window.end_ns && !share_done()) {
    loop_turn(now);
    now = now_ns();
  }
  _stats.finish_ns = std::min(now, _window.end_ns);
  _stats.unfinished = _in_flight_total + (_scheduled_count - _issued_count);
  shut_down_all(now);
}

void load_worker::loop_turn(std::int64_t now) {
  if (_config.mode == loop_mode::open) {
    schedule_due(now);
    dispatch_waiting(now);
  }
  if (now >= _next_tick_ns) {
    tick(now);
    _next_tick_ns = now + tick_ns;
  }
  now = now_ns();
  if (!_unstamped.empty()) {
    // Submits the batch alone to learn when its sends left (see stamp_batch).
    io_uring_submit(&_ring);
    const std::int64_t submitted = now_ns();
    stamp_batch(now, submitted);
    now = submitted;
  }
  const std::int64_t wait_ns = std::max<std::int64_t>(0, wake_at(now) - now);
  __kernel_timespec ts{wait_ns / ns_per_s, wait_ns % ns_per_s};
  io_uring_cqe* cqe = nullptr;
  const int rc = io_uring_submit_and_wait_timeout(&_ring, &cqe, 1, &ts, nullptr);
  if (rc < 0 && rc != -ETIME && rc != -EINTR && rc != -EBUSY) {
    fmt::print(stderr, "warrant-bench: io_uring_submit_and_wait_timeout: {}\n", std::strerror(-rc));
    _stopping = true;
    _window.end_ns = now;
    return;
  }
  drain_completions(now_ns());
}

// A request's send time is when the kernel ran its send, not when it was rendered while
// completions were drained: that gap is the generator's own work, not the server's latency.
// The sends of a batch run one after the other inside io_uring_submit, in the order they were
// prepared, so the k-th of n connections' batch is stamped at begin + k/n of the submit
// (like a client that reads the clock just before each write).
// Open-loop latency keeps counting from the schedule whatever the send time.
void load_worker::stamp_batch(std::int64_t begin_ns, std::int64_t end_ns) {
  const bool closed_loop = _config.mode == loop_mode::closed;
  const double step_ns = static_cast<double>(end_ns - begin_ns) / static_cast<double>(_unstamped.size());
  for (std::size_t k = 0; k < _unstamped.size(); ++k) {
    connection& c = *_connections[_unstamped[k]];
    const std::int64_t sent_ns = begin_ns + static_cast<std::int64_t>(step_ns * static_cast<double>(k));
    const std::size_t count = std::min<std::size_t>(c.unstamped, c.in_flight.size());
    for (std::size_t i = 0; i < count; ++i) {
      in_flight_request& r = c.in_flight.from_back(i);
      r.sent_ns = sent_ns;
      if (closed_loop) r.latency_origin_ns = sent_ns;
    }
    c.unstamped = 0;
  }
  _unstamped.clear();
}

std::int64_t load_worker::wake_at(std::int64_t now) const {
  std::int64_t wake = std::min(_window.end_ns, _next_tick_ns);
  // The next schedule slot matters only if a connection could take it when it comes.
  if (_config.mode == loop_mode::open && !_ready.empty() && _scheduled_count < _schedule_limit) {
    wake = std::min(wake, scheduled_ns(_scheduled_count));
  }
  return std::max(wake, now);
}

void load_worker::drain_completions(std::int64_t now) {
  unsigned head = 0;
  unsigned seen = 0;
  io_uring_cqe* cqe = nullptr;
  io_uring_for_each_cqe(&_ring, head, cqe) {
    on_completion(*cqe, now);
    ++seen;
  }
  io_uring_cq_advance(&_ring, seen);
}

std::int64_t load_worker::scheduled_ns(std::uint64_t k) const {
  return _first_slot_ns + static_cast<std::int64_t>(static_cast<double>(k) * _interval_ns);
}

void load_worker::schedule_due(std::int64_t now) {
  if (now < _first_slot_ns) return;
  const auto due = static_cast<std::uint64_t>((now - _first_slot_ns) / _interval_ns) + 1;
  _scheduled_count = std::max(_scheduled_count, std::min(due, _schedule_limit));
}

// Open loop: hands due requests to connections with free slots, oldest schedule first.
void load_worker::dispatch_waiting(std::int64_t now) {
  while (_issued_count < _scheduled_count && !_ready.empty()) {
    const std::uint32_t index = _ready.back();
    _ready.pop_back();
    connection& c = *_connections[index];
    c.ready_listed = false;
    pump(c, index, now);
  }
}

// Closed loop: how many more requests may be sent now (--requests counts measured ones).
std::uint64_t load_worker::issue_allowance(std::int64_t now) const {
  if (_share.requests == 0 || now < _window.measure_start_ns) return UINT64_MAX;
  const std::uint64_t committed = _measured_done + _in_flight_total;
  return committed >= _share.requests ? 0 : _share.requests - committed;
}

bool load_worker::share_done() const {
  return _stopping || (_share.requests != 0 && _measured_done >= _share.requests);
}

bool load_worker::measuring(std::int64_t now) const {
  return now >= _window.measure_start_ns && now < _window.end_ns;
}

// Reconnects what is due and gives up on requests older than --timeout.
void load_worker::tick(std::int64_t now) {
  const std::int64_t timeout_ns = seconds_to_ns(_config.timeout_s);
  for (std::uint32_t i = 0; i < _connections.size(); ++i) {
    connection& c = *_connections[i];
    if (c.state == connection_state::idle && c.retry_at_ns <= now) {
      submit_connect(c, i, now);
    } else if (c.state == connection_state::open && !c.in_flight.empty() &&
               now - c.in_flight.front().sent_ns > timeout_ns) {
      fail(c, i, _stats.errors.timeout, now);
    }
  }
}

// Shuts every socket, then reaps the operations still pointing into our buffers (bounded
// by grace_ns) so the ring is torn down with nothing in flight.
void load_worker::shut_down_all(std::int64_t now) {
  _stopping = true;
  for (const auto& c : _connections) {
    if (c->fd >= 0) shutdown(c->fd, SHUT_RDWR);
  }
  const std::int64_t give_up_ns = now + grace_ns;
  auto pending = [&] {
    return std::any_of(_connections.begin(), _connections.end(), [](const auto& c) { return c->ops_pending > 0; });
  };
  while (pending() && now < give_up_ns) {
    const std::int64_t wait_ns = give_up_ns - now;
    __kernel_timespec ts{wait_ns / ns_per_s, wait_ns % ns_per_s};
    io_uring_cqe* cqe = nullptr;
    io_uring_submit_and_wait_timeout(&_ring, &cqe, 1, &ts, nullptr);
    now = now_ns();
    drain_completions(now);
  }
}

}  // namespace warrant::bench

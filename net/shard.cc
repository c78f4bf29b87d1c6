#include "net/shard.h"

#include <fmt/format.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <sched.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cassert>
#include <chrono>
#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace warrant::net {
namespace {

constexpr unsigned buffer_group_id = 0;

std::int64_t monotonic_ns() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

constexpr std::uint8_t timer_id(timeout_kind k) { return static_cast<std::uint8_t>(k) + 1; }

// Sent, without waiting, to a connection refused at the per-shard limit.
constexpr std::string_view overload_response =
    "HTTP/1.1 503 Service Unavailable\r\nServer: warrant\r\nContent-Type: application/json\r\n"
    "Retry-After: 1\r\nConnection: close\r\nContent-Length: 87\r\n\r\n"
    "{\"error\":\"too many connections on this shard\",\"code\":\"OVERLOADED\",\"hint\":\"retry later\"}";
// Sent to a connection accepted while the shard drains (it was queued before the listener closed).
constexpr std::string_view shutting_down_response =
    "HTTP/1.1 503 Service Unavailable\r\nServer: warrant\r\nContent-Type: application/json\r\n"
    "Retry-After: 1\r\nConnection: close\r\nContent-Length: 97\r\n\r\n"
    "{\"error\":\"the server is shutting down\",\"code\":\"SHUTTING_DOWN\",\"hint\":\"retry on another instance\"}";

// The canned answers' Content-Length must match their bodies.
constexpr bool content_length_matches(std::string_view response) {
  const std::size_t body = response.find("\r\n\r\n") + 4;
  const std::size_t at = response.find("Content-Length: ") + 16;
  std::size_t declared = 0;
  for (std::size_t i = at; response[i] != '\r'; ++i) declared = declared * 10 + static_cast<std::size_t>(response[i] - '0');
  return declared == response.size() - body;
}
static_assert(content_length_matches(overload_response));
static_assert(content_length_matches(shutting_down_response));

}  // namespace

shard::shard(std::size_t index, const shard_config& config, const router& routes, shard_metrics& metrics,
             int listen_fd)
    : _index(index),
      _config(config),
      _router(routes),
      _metrics(metrics),
      _listen_fd(listen_fd),
      _conns(std::make_unique<connection[]>(config.connections_max)),
      _timers{timer_list(timer_id(timeout_kind::header), config.header_timeout_ms),
              timer_list(timer_id(timeout_kind::body), config.body_timeout_ms),
              timer_list(timer_id(timeout_kind::idle), config.idle_timeout_ms),
              timer_list(timer_id(timeout_kind::send), config.send_timeout_ms),
              timer_list(timer_id(timeout_kind::linger), config.linger_timeout_ms)},
      _tasks(config.task_queue_capacity) {
  static_assert(offsetof(connection, timer) == 0, "timer_link must be connection's first member");
  if (config.recv_buffer_count == 0 || (config.recv_buffer_count & (config.recv_buffer_count - 1)) != 0 ||
      config.recv_buffer_count > 32768) {
    throw std::invalid_argument("recv buffer count must be a power of two up to 32768");
  }
  if (config.pipeline_depth_max == 0 || (config.pipeline_depth_max & (config.pipeline_depth_max - 1)) != 0 ||
      config.pipeline_depth_max > 1024) {
    throw std::invalid_argument("pipeline depth must be a power of two up to 1024");
  }
  _free_slots.reserve(config.connections_max);
  for (std::size_t i = config.connections_max; i-- > 0;) {
    _conns[i].slot = static_cast<std::uint32_t>(i);
    _free_slots.push_back(static_cast<std::uint32_t>(i));
  }
  _flush_list.reserve(config.connections_max);
  refresh_clock();  // handlers run from tests on a shard that never starts see a real time
  for (std::size_t i = 0; i < config.connections_max; ++i) _conns[i].parser = http_parser(config.limits);
  _wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (_wake_fd < 0) throw std::runtime_error(fmt::format("eventfd: {}", std::strerror(errno)));
  _tick_ts.tv_sec = config.tick_ms / 1000;
  _tick_ts.tv_nsec = (config.tick_ms % 1000) * 1'000'000;
}

shard::~shard() {
  join();
  if (_wake_fd >= 0) ::close(_wake_fd);
  if (_listen_fd >= 0) ::close(_listen_fd);
}

void shard::start() {
  _thread = std::thread([this] { run(); });
}

std::string shard::wait_started() {
  while (_startup.load(std::memory_order_acquire) == 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  return _startup.load(std::memory_order_acquire) < 0 ? _startup_error : std::string();
}

void shard::join() {
  if (_thread.joinable()) _thread.join();
}

bool shard::post(shard_task task) {
  if (!enqueue(task)) return false;
  wake();
  return true;
}

bool shard::enqueue(shard_task task) { return _tasks.try_push(task); }

void shard::wake() {
  // Only the poster that flips the flag false -> true writes the eventfd: one write(2) per
  // drain of the queue, however many posts land meanwhile. on_wake clears the flag with an
  // RMW before draining; see there why that loses no wake-up.
  if (!_wake_pending.exchange(true, std::memory_order_acq_rel)) {
    const std::uint64_t one = 1;
    [[maybe_unused]] ssize_t n = ::write(_wake_fd, &one, sizeof one);
  }
}

void shard::request_stop(std::int64_t drain_ms) {
  _drain_ms.store(drain_ms, std::memory_order_relaxed);
  _stop_requested.store(true, std::memory_order_release);
  const std::uint64_t one = 1;
  [[maybe_unused]] ssize_t n = ::write(_wake_fd, &one, sizeof one);
}

std::uint64_t shard::pack(op kind, std::uint32_t slot, std::uint32_t generation) {
  return (static_cast<std::uint64_t>(kind) << 56) | (static_cast<std::uint64_t>(generation & 0xffffff) << 32) | slot;
}

connection* shard::lookup(std::uint32_t slot, std::uint32_t generation) {
  if (slot >= _config.connections_max) return nullptr;
  connection& c = _conns[slot];
  if (c.state == conn_state::free || (c.generation & 0xffffff) != (generation & 0xffffff)) return nullptr;
  return &c;
}

const peer_address& shard::peer(std::uint32_t slot) {
  assert(slot < _config.connections_max);
  connection& c = _conns[slot];
  if (c.peer_generation == c.generation) return c.peer;
  c.peer = {};
  c.peer_generation = c.generation;
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  if (c.fd < 0 || ::getpeername(c.fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0) return c.peer;
  if (ss.ss_family == AF_INET) {
    const auto& in = reinterpret_cast<const sockaddr_in&>(ss);
    c.peer.family = peer_address::family_kind::ipv4;
    std::memcpy(c.peer.bytes.data(), &in.sin_addr, 4);
  } else if (ss.ss_family == AF_INET6) {
    const auto& in6 = reinterpret_cast<const sockaddr_in6&>(ss);
    const bool mapped = IN6_IS_ADDR_V4MAPPED(&in6.sin6_addr);
    c.peer.family = mapped ? peer_address::family_kind::ipv4 : peer_address::family_kind::ipv6;
    std::memcpy(c.peer.bytes.data(), in6.sin6_addr.s6_addr + (mapped ? 12 : 0), mapped ? 4 : 16);
  }
  return c.peer;
}

// ---- ring setup ---------------------------------------------------------------------------

void shard::setup_ring() {
  io_uring_params params{};
  params.flags = IORING_SETUP_SUBMIT_ALL | IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN |
                 IORING_SETUP_CQSIZE;
  params.cq_entries = _config.ring_entries * 4;
  int rc = io_uring_queue_init_params(_config.ring_entries, &_ring, &params);
  if (rc == -EINVAL) {
    // Kernels before 6.1 lack DEFER_TASKRUN / SINGLE_ISSUER.
    params = {};
    params.flags = IORING_SETUP_SUBMIT_ALL | IORING_SETUP_CQSIZE;
    params.cq_entries = _config.ring_entries * 4;
    rc = io_uring_queue_init_params(_config.ring_entries, &_ring, &params);
  }
  if (rc < 0) throw std::runtime_error(fmt::format("io_uring_queue_init: {}", std::strerror(-rc)));
  _ring_ready = true;
  // Without it liburing would bound a wait with a timeout request of its own, whose completion
  // this loop does not expect; the turn-end hook's wake-up then falls back to the tick.
  _timed_wait = (params.features & IORING_FEAT_EXT_ARG) != 0;
  setup_buffer_ring();
}

void shard::setup_buffer_ring() {
  const unsigned count = _config.recv_buffer_count;
  const std::size_t ring_bytes = count * sizeof(io_uring_buf);
  _buf_ring_bytes = ring_bytes + count * _config.recv_buffer_bytes;
  void* mem = mmap(nullptr, _buf_ring_bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (mem == MAP_FAILED) throw std::runtime_error(fmt::format("mmap buffer ring: {}", std::strerror(errno)));
  _buf_ring = static_cast<io_uring_buf_ring*>(mem);
  _buf_base = static_cast<char*>(mem) + ring_bytes;
  io_uring_buf_reg reg{};
  reg.ring_addr = reinterpret_cast<std::uint64_t>(_buf_ring);
  reg.ring_entries = count;
  reg.bgid = buffer_group_id;
  const int rc = io_uring_register_buf_ring(&_ring, &reg, 0);
  if (rc < 0) throw std::runtime_error(fmt::format("io_uring_register_buf_ring: {}", std::strerror(-rc)));
  io_uring_buf_ring_init(_buf_ring);
  const int mask = io_uring_buf_ring_mask(count);
  for (unsigned i = 0; i < count; ++i) {
    io_uring_buf_ring_add(_buf_ring, _buf_base + i * _config.recv_buffer_bytes,
                          static_cast<unsigned>(_config.recv_buffer_bytes), static_cast<unsigned short>(i), mask,
                          static_cast<int>(i));
  }
  io_uring_buf_ring_advance(_buf_ring, static_cast<int>(count));
}

io_uring_sqe* shard::get_sqe() {
  io_uring_sqe* sqe = io_uring_get_sqe(&_ring);
  while (sqe == nullptr) {
    io_uring_submit(&_ring);
    sqe = io_uring_get_sqe(&_ring);
  }
  return sqe;
}

void shard::arm_accept() {
  io_uring_sqe* sqe = get_sqe();
  io_uring_prep_multishot_accept(sqe, _listen_fd, nullptr, nullptr, SOCK_CLOEXEC);
  io_uring_sqe_set_data64(sqe, pack(op::accept, 0, 0));
  _accepting = true;
}

void shard::arm_recv(connection& c) {
  io_uring_sqe* sqe = get_sqe();
  io_uring_prep_recv_multishot(sqe, c.fd, nullptr, 0, 0);
  sqe->flags |= IOSQE_BUFFER_SELECT;
  sqe->buf_group = buffer_group_id;
  io_uring_sqe_set_data64(sqe, pack(op::recv, c.slot, c.generation));
  c.recv_armed = true;
  ++c.ops;
}

void shard::arm_wake() {
  io_uring_sqe* sqe = get_sqe();
  io_uring_prep_read(sqe, _wake_fd, &_wake_value, sizeof _wake_value, 0);
  io_uring_sqe_set_data64(sqe, pack(op::wake, 0, 0));
}

void shard::arm_tick() {
  io_uring_sqe* sqe = get_sqe();
  io_uring_prep_timeout(sqe, &_tick_ts, 0, 0);
  io_uring_sqe_set_data64(sqe, pack(op::tick, 0, 0));
}

// ---- the loop -----------------------------------------------------------------------------

void shard::refresh_clock() {
  _now_ns = monotonic_ns();
  timespec wall{};
  clock_gettime(CLOCK_REALTIME, &wall);
  _now_unix_ms = static_cast<std::int64_t>(wall.tv_sec) * 1000 + wall.tv_nsec / 1'000'000;
}

void shard::run() {
  if (_config.pin_cpu >= 0) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(_config.pin_cpu, &set);
    pthread_setaffinity_np(pthread_self(), sizeof set, &set);
  }
  const std::string name = fmt::format("warrant-shard{}", _index);
  pthread_setname_np(pthread_self(), name.substr(0, 15).c_str());

  try {
    setup_ring();
  } catch (const std::exception& e) {
    _startup_error = fmt::format("shard {}: {}", _index, e.what());
    _startup.store(-1, std::memory_order_release);
    return;
  }
  _running.store(true, std::memory_order_release);
  _startup.store(1, std::memory_order_release);
  refresh_clock();
  _date_line = _date.line(std::time(nullptr));
  arm_accept();
  arm_wake();
  arm_tick();

  std::int64_t wait_us = 0;  // the turn-end hook's bound on the next wait; 0: none
  while (true) {
    if (wait_us > 0 && _timed_wait) {
      __kernel_timespec bound{};
      bound.tv_sec = wait_us / 1'000'000;
      bound.tv_nsec = (wait_us % 1'000'000) * 1000;
      io_uring_cqe* first = nullptr;
      io_uring_submit_and_wait_timeout(&_ring, &first, 1, &bound, nullptr);  // -ETIME: a turn without events
    } else {
      io_uring_submit_and_wait(&_ring, 1);
    }
    _turns.store(_turns.load(std::memory_order_relaxed) + 1, std::memory_order_release);
    // Pairs with the fence in a snapshot writer (engine/common/rcu.h): reads of shared
    // snapshots in this turn cannot move before the turn count the writer may sample.
    std::atomic_thread_fence(std::memory_order_seq_cst);
    refresh_clock();
    if (_config.receive_batch.run != nullptr) announce_receives();
    unsigned head = 0;
    unsigned seen = 0;
    io_uring_cqe* cqe = nullptr;
    io_uring_for_each_cqe(&_ring, head, cqe) {
      on_cqe(*cqe);
      ++seen;
    }
    io_uring_cq_advance(&_ring, seen);
    if (_buf_returned > 0) {
      io_uring_buf_ring_advance(_buf_ring, static_cast<int>(_buf_returned));
      _buf_returned = 0;
    }
    // By index: flushing can resume held-back requests, which queue this connection again.
    for (std::size_t i = 0; i < _flush_list.size(); ++i) {
      connection& c = _conns[_flush_list[i]];
      c.in_flush_list = false;
      if (c.state == conn_state::open) flush(c);
    }
    _flush_list.clear();
    if (_config.turn_end.run != nullptr) {
      wait_us = std::min(_config.turn_end.run(*this, _config.turn_end.arg), turn_end_wait_max_us);
    }
    if (_stopping && (_open == 0 || _now_ns >= _drain_deadline_ns)) break;
  }

  // Whatever is still open after the drain bound is closed here; the ring's teardown
  // cancels its outstanding operations.
  for (std::size_t i = 0; i < _config.connections_max; ++i) {
    connection& c = _conns[i];
    if (c.state != conn_state::free && c.fd >= 0) ::close(c.fd);
  }
  _metrics.connections_open.set(0);
  _running.store(false, std::memory_order_release);
  io_uring_queue_exit(&_ring);
  munmap(_buf_ring, _buf_ring_bytes);
}

void shard::announce_receives() {
  std::array<received_bytes, receive_batch_max> received;
  std::size_t count = 0;
  unsigned head = 0;
  io_uring_cqe* cqe = nullptr;
  io_uring_for_each_cqe(&_ring, head, cqe) {
    const std::uint64_t data = cqe->user_data;
    if (static_cast<op>(data >> 56) != op::recv || cqe->res <= 0 || !(cqe->flags & IORING_CQE_F_BUFFER)) continue;
    received[count++] = {static_cast<std::uint32_t>(data), static_cast<std::uint32_t>(data >> 32) & 0xffffff,
                         {received_buffer(*cqe), static_cast<std::size_t>(cqe->res)}};
    if (count == received.size()) break;
  }
  if (count > 0) _config.receive_batch.run(*this, received.data(), count, _config.receive_batch.arg);
}

void shard::on_cqe(const io_uring_cqe& cqe) {
  const std::uint64_t data = cqe.user_data;
  const auto kind = static_cast<op>(data >> 56);
  const auto slot = static_cast<std::uint32_t>(data);
  const auto generation = static_cast<std::uint32_t>(data >> 32) & 0xffffff;
  switch (kind) {
    case op::accept:
      on_accept(cqe);
      return;
    case op::wake:
      on_wake();
      return;
    case op::tick:
      on_tick();
      return;
    case op::cancel:
    case op::close:
      return;
    case op::recv:
    case op::send:
      break;
  }
  connection* c = lookup(slot, generation);
  assert(c != nullptr);  // a slot is released only once its operations have completed
  if (c == nullptr) return;
  if (kind == op::recv) {
    on_recv(*c, cqe);
  } else {
    on_send(*c, cqe.res);
  }
  if (c->state == conn_state::closing && c->ops == 0) release_slot(*c);
}

// ---- accept -------------------------------------------------------------------------------

void shard::on_accept(const io_uring_cqe& cqe) {
  const bool more = (cqe.flags & IORING_CQE_F_MORE) != 0;
  if (!more) _accepting = false;
  if (cqe.res < 0) {
    if (cqe.res != -ECANCELED) _metrics.accept_errors.add();
  } else {
    const int fd = cqe.res;
    if (_stopping || _free_slots.empty()) {
      _metrics.connections_rejected.add();
      const std::string_view refusal = _stopping ? shutting_down_response : overload_response;
      [[maybe_unused]] ssize_t n = ::send(fd, refusal.data(), refusal.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
      ::close(fd);
    } else {
      const int one = 1;
      setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      const std::uint32_t slot = _free_slots.back();
      _free_slots.pop_back();
      connection& c = _conns[slot];
      c.fd = fd;
      c.generation = (c.generation + 1) & 0xffffff;
      c.state = conn_state::open;
      c.ops = 0;
      c.recv_armed = c.recv_paused = c.send_inflight = c.in_flush_list = false;
      c.close_after_send = c.peer_closed = c.input_blocked = c.continue_sent = false;
      c.requests_served = 0;
      c.next_seq = c.answered_seq = 0;
      c.deferred = c.blocking = 0;
      c.parser.reset();
      c.in.clear();
      c.sending.clear();
      c.pending.clear();
      ++_open;
      _metrics.connections_accepted.add();
      _metrics.connections_open.set(_open);
      arm_recv(c);
      timers(timeout_kind::header).push(c.timer, _now_ns / 1'000'000);
    }
  }
  if (!more && !_stopping && cqe.res != -ECANCELED) arm_accept();
}

// ---- receive ------------------------------------------------------------------------------

void shard::on_recv(connection& c, const io_uring_cqe& cqe) {
  const bool more = (cqe.flags & IORING_CQE_F_MORE) != 0;
  if (!more) {
    c.recv_armed = false;
    --c.ops;
  }
  const int res = cqe.res;
  if (res > 0 && (cqe.flags & IORING_CQE_F_BUFFER)) {
    const auto bid = static_cast<unsigned short>(cqe.flags >> IORING_CQE_BUFFER_SHIFT);
    char* data = received_buffer(cqe);
    if (c.state == conn_state::open) process_bytes(c, data, static_cast<std::size_t>(res));
    io_uring_buf_ring_add(_buf_ring, data, static_cast<unsigned>(_config.recv_buffer_bytes), bid,
                          io_uring_buf_ring_mask(_config.recv_buffer_count), static_cast<int>(_buf_returned));
    ++_buf_returned;
  } else if (res == 0) {
    c.peer_closed = true;
    if (c.state == conn_state::lingering || c.idle()) {
      close_connection(c);
    } else if (c.state == conn_state::open) {
      // Answer every complete request received, including those held back behind queued
      // output, then close (after_send_drained closes once nothing more can be answered).
      if (!c.deferred && c.sending.empty() && c.pending.empty() && !c.send_inflight) after_send_drained(c);
    }
    return;
  } else if (res == -ENOBUFS) {
    _metrics.recv_buffer_exhausted.add();
  } else if (res < 0 && res != -ECANCELED) {
    close_connection(c);
    return;
  }
  if (!more && !c.recv_armed && !c.recv_paused && !c.peer_closed &&
      (c.state == conn_state::open || c.state == conn_state::lingering)) {
    arm_recv(c);
  }
}

void shard::process_bytes(connection& c, const char* data, std::size_t len) {
  if (c.in.empty() && c.next_seq == c.answered_seq) {
    // Fast path: parse straight out of the kernel's buffer; keep only an unfinished tail.
    const std::size_t used = process_input(c, {data, len});
    if (used < len && c.state == conn_state::open && !c.close_after_send) c.in.append(data + used, len - used);
  } else {
    c.in.append(data, len);
    resume_input(c);
  }
  // Bound what one connection may buffer: stop reading until the backlog is processed.
  const std::size_t in_max = _config.limits.header_bytes_max + _config.limits.body_bytes_max +
                             _config.recv_buffer_bytes;
  if (c.state == conn_state::open && c.in.size() > in_max && c.recv_armed && !c.recv_paused) {
    c.recv_paused = true;
    io_uring_sqe* sqe = get_sqe();
    io_uring_prep_cancel64(sqe, pack(op::recv, c.slot, c.generation), 0);
    io_uring_sqe_set_data64(sqe, pack(op::cancel, c.slot, c.generation));
  }
  if (c.state == conn_state::open) update_timer(c);
}

void shard::resume_input(connection& c) {
  if (c.state != conn_state::open || c.input_blocked) return;
  const std::size_t used = process_input(c, c.in.view());
  if (c.state != conn_state::open) return;
  if (c.close_after_send) {
    c.in.clear();
  } else {
    c.in.consume(used);
  }
  if (c.recv_paused && c.in.size() < _config.limits.header_bytes_max && !c.peer_closed) {
    c.recv_paused = false;
    if (!c.recv_armed) arm_recv(c);
  }
}

std::size_t shard::process_input(connection& c, std::string_view data) {
  std::size_t offset = 0;
  while (offset < data.size() && !c.input_blocked && !c.close_after_send && c.state == conn_state::open &&
         c.pending.size() < _config.output_pause_bytes) {
    // The ring is full: nothing more may be numbered, not even a parse error's answer.
    if (c.next_seq - c.answered_seq >= _config.pipeline_depth_max) {
      c.input_blocked = true;
      break;
    }
    // `_request` is shared by the shard's connections: it describes this connection's
    // request only when this very call completed the header block.
    const bool headers_were_done = c.parser.headers_done();
    const parse_result r = c.parser.parse(data.substr(offset), _request);
    if (r.status == parse_status::need_more) {
      // Not while earlier answers are outstanding: the interim line would overtake them (the
      // client then sends its body after its own wait, RFC 9110 §10.1.1).
      if (!headers_were_done && c.parser.headers_done() && _request.expect_continue && !c.continue_sent &&
          c.next_seq == c.answered_seq) {
        c.continue_sent = true;
        c.pending.append(http_continue_line);
        queue_flush(c);
      }
      break;
    }
    if (r.status == parse_status::error) {
      answer_parse_error(c, r.error);
      return data.size();
    }
    const route_match m = _router.match(_request.method, _request.path);
    c.parser.reset();
    if (!may_handle_now(c, m)) {
      // Leave the request's bytes where they are: they are parsed again once the deferred
      // requests before it are answered (complete() clears input_blocked).
      c.input_blocked = true;
      break;
    }
    offset += r.consumed;
    c.continue_sent = false;
    _more_input = offset < data.size();
    handle_request(c, _request, m);
  }
  return offset;
}

bool shard::may_handle_now(const connection& c, const route_match& m) const {
  if (c.deferred == 0) return true;  // nothing unanswered (answers after a deferral are released with it)
  return c.blocking == 0 && m.status == match_status::found && m.matched->pipelines &&
         c.next_seq - c.answered_seq < _config.pipeline_depth_max;
}

// ---- requests and responses ---------------------------------------------------------------

void shard::handle_request(connection& c, const http_request& req, const route_match& m) {
  const std::int64_t start_ns = _now_ns;
  const std::uint32_t seq = c.next_seq++;
  _response.reset();
  auto route_id = static_cast<std::uint32_t>(_router.routes().size());  // "unmatched"
  switch (m.status) {
    case match_status::found: {
      route_id = m.matched->id;
      request_context ctx{req, m.params, _response, *this, c.slot, c.generation, seq};
      m.matched->handler(ctx);
      if (ctx.deferred) {
        if (!c.held) c.held = std::make_unique<held_answer[]>(_config.pipeline_depth_max);
        held_answer& h = c.held_at(seq, _config.pipeline_depth_max);
        h.framing = {route_id, start_ns, req.version_minor, req.keep_alive, req.method == http_method::head};
        h.waiting = true;
        h.blocks = !m.matched->pipelines;
        h.bytes.clear();
        ++c.deferred;
        if (h.blocks) ++c.blocking;
        disarm(c);  // deferred work has its own bound (the writer's); no connection timer meanwhile
        return;
      }
      break;
    }
    case match_status::method_not_allowed: {
      std::array<char, router::allow_header_bytes_max> allow{};
      _response.set_error(405, "METHOD_NOT_ALLOWED", "method not allowed for this route");
      _response.add_header("Allow", router::allow_header(m.allowed_mask, allow));
      break;
    }
    case match_status::not_found:
      _response.set_error(404, "NOT_FOUND", "no such route", "see docs/api-common.md for the routes");
      break;
  }
  finish_response(c, seq, route_id, start_ns,
                  {req.version_minor, req.keep_alive, req.method == http_method::head, _date_line});
}

bool shard::complete(deferred_response d, http_response& res) {
  connection* c = lookup(d.slot, d.generation);
  if (c == nullptr || c->state != conn_state::open || c->deferred == 0) return false;
  // Only a handled, unanswered request that is still waiting (a token is answered once).
  if (d.seq - c->answered_seq >= c->next_seq - c->answered_seq) return false;
  held_answer& h = c->held_at(d.seq, _config.pipeline_depth_max);
  if (!h.waiting) return false;
  if (&res != &_response) {
    // finish_response serialises _response; callers normally pass scratch_response().
    assert(false && "complete() expects scratch_response()");
    return false;
  }
  h.waiting = false;
  --c->deferred;
  if (h.blocks) --c->blocking;
  const deferred_framing f = h.framing;
  // Input after the deferred request: bytes not yet handled, or requests handled behind it.
  _more_input = !c->in.empty() || c->next_seq - d.seq > 1;
  finish_response(*c, d.seq, f.route_id, f.start_ns, {f.version_minor, f.keep_alive, f.head_request, _date_line});
  c->input_blocked = false;
  resume_input(*c);
  update_timer(*c);
  return true;
}

void shard::answer_parse_error(connection& c, http_errc e) {
  const http_error_info info = http_error_status(e);
  _metrics.parse_errors.add();
  _response.reset();
  _response.set_error(info.status, info.code, info.message);
  finish_response(c, c.next_seq++, static_cast<std::uint32_t>(_router.routes().size()), _now_ns,
                  {1, false, false, _date_line});
}

void shard::finish_response(connection& c, std::uint32_t seq, std::uint32_t route_id, std::int64_t start_ns,
                            const response_framing& framing_in) {
  response_framing framing = framing_in;
  // A half-closed peer still gets an answer to every request it sent before its FIN; the
  // last of them says close (after_send_drained closes once nothing more can be answered).
  framing.keep_alive = framing.keep_alive && !_response.close_requested() && !_stopping &&
                       !(c.peer_closed && !_more_input);
  // In order: straight into the send queue (a large body by moving its buffer there when it
  // is empty). Otherwise into the request's place in the ring, until the answers before it
  // are out.
  const bool in_order = seq == c.answered_seq;
  if (in_order) {
    write_response_moving_body(c.pending, _response, framing);
  } else {
    held_answer& h = c.held_at(seq, _config.pipeline_depth_max);
    h.waiting = h.blocks = false;
    h.bytes.clear();
    write_response(h.bytes, _response, framing);
  }
  ++c.requests_served;
  const std::int64_t end_ns = monotonic_ns();
  _metrics.record(route_id, _response.status(), static_cast<std::uint64_t>(end_ns - start_ns) / 1000);
  if (!framing.keep_alive) c.close_after_send = true;  // no request after this one is handled
  if (!in_order) return;
  ++c.answered_seq;
  release_answers_in_order(c);
  queue_flush(c);
}

void shard::release_answers_in_order(connection& c) {
  while (c.answered_seq != c.next_seq) {
    held_answer& h = c.held_at(c.answered_seq, _config.pipeline_depth_max);
    if (h.waiting) return;
    c.pending.append(h.bytes.view());
    h.bytes.clear();
    ++c.answered_seq;
  }
}

void shard::queue_flush(connection& c) {
  if (c.in_flush_list) return;
  c.in_flush_list = true;
  _flush_list.push_back(c.slot);
}

void shard::flush(connection& c) {
  if (c.send_inflight || c.state != conn_state::open) return;
  if (c.sending.empty()) std::swap(c.sending, c.pending);
  if (c.sending.empty()) {
    after_send_drained(c);
    return;
  }
  io_uring_sqe* sqe = get_sqe();
  io_uring_prep_send(sqe, c.fd, c.sending.data(), c.sending.size(), MSG_NOSIGNAL);
  io_uring_sqe_set_data64(sqe, pack(op::send, c.slot, c.generation));
  c.send_inflight = true;
  ++c.ops;
  update_timer(c);
}

void shard::on_send(connection& c, int res) {
  c.send_inflight = false;
  --c.ops;
  if (c.state != conn_state::open) return;
  if (res < 0) {
    close_connection(c);
    return;
  }
  c.sending.consume(static_cast<std::size_t>(res));
  if (c.timer.list == timer_id(timeout_kind::send)) disarm(c);  // progress: restart the bound
  flush(c);
}

void shard::after_send_drained(connection& c) {
  if (c.close_after_send && !c.deferred) {
    if (c.peer_closed) {
      close_connection(c);
    } else {
      begin_linger(c);
    }
    return;
  }
  // Requests held back while output was over its bound.
  if (!c.in.empty()) resume_input(c);
  if (c.state == conn_state::open) {
    if (!c.pending.empty()) {
      flush(c);
    } else if (c.peer_closed && !c.deferred) {
      close_connection(c);  // everything the peer sent before its FIN is answered
    } else if (_stopping && c.idle()) {
      close_connection(c);
    } else {
      update_timer(c);
    }
  }
}

// ---- timers -------------------------------------------------------------------------------

void shard::update_timer(connection& c) {
  if (c.state != conn_state::open || c.deferred) return;
  timeout_kind want = timeout_kind::idle;
  if (c.send_inflight) {
    want = timeout_kind::send;
  } else if (c.parser.headers_done()) {
    want = timeout_kind::body;
  } else if (!c.in.empty() || c.requests_served == 0) {
    want = timeout_kind::header;
  }
  if (c.timer.list == timer_id(want)) return;
  disarm(c);
  timers(want).push(c.timer, _now_ns / 1'000'000);
}

void shard::on_tick() {
  _date_line = _date.line(std::time(nullptr));
  expire_timers();
  if (_stopping && _now_ns >= _drain_deadline_ns) return;  // the loop exits after this batch
  arm_tick();
}

void shard::expire_timers() {
  const std::int64_t now_ms = _now_ns / 1'000'000;
  for (std::size_t k = 0; k < timeout_kind_count; ++k) {
    while (timer_link* l = _timers[k].pop_expired(now_ms)) {
      connection& c = *reinterpret_cast<connection*>(l);
      _metrics.timeouts[k].add();
      const auto kind = static_cast<timeout_kind>(k);
      const bool mid_request = (kind == timeout_kind::header && !c.in.empty()) || kind == timeout_kind::body;
      if (mid_request && c.state == conn_state::open && !c.send_inflight) {
        _response.reset();
        _response.set_error(408, "REQUEST_TIMEOUT",
                            kind == timeout_kind::body ? "request body not received in time"
                                                       : "request headers not received in time");
        c.in.clear();
        c.parser.reset();
        // No timer runs while answers are outstanding, so this one is in order.
        finish_response(c, c.next_seq++, static_cast<std::uint32_t>(_router.routes().size()), _now_ns,
                        {1, false, false, _date_line});
      } else {
        close_connection(c);
      }
    }
  }
}

// ---- closing ------------------------------------------------------------------------------

void shard::begin_linger(connection& c) {
  // The final response is out; half-close and read what the client still sends, so that
  // closing with unread input does not reset the connection before it read our answer.
  ::shutdown(c.fd, SHUT_WR);
  c.state = conn_state::lingering;
  c.in.clear();
  disarm(c);
  timers(timeout_kind::linger).push(c.timer, _now_ns / 1'000'000);
  if (!c.recv_armed) {
    c.recv_paused = false;
    arm_recv(c);
  }
}

void shard::close_connection(connection& c) {
  if (c.state == conn_state::closing || c.state == conn_state::free) return;
  c.state = conn_state::closing;
  disarm(c);
  if (c.ops > 0) {
    io_uring_sqe* sqe = get_sqe();
    io_uring_prep_cancel_fd(sqe, c.fd, IORING_ASYNC_CANCEL_ALL);
    io_uring_sqe_set_data64(sqe, pack(op::cancel, c.slot, c.generation));
    return;  // released when the last operation completes (on_cqe)
  }
  release_slot(c);
}

void shard::release_slot(connection& c) {
  assert(c.ops == 0);
  ::close(c.fd);
  c.fd = -1;
  c.state = conn_state::free;
  c.deferred = c.blocking = 0;
  c.input_blocked = false;
  // Keep buffers of modest size for the next connection; give back large ones.
  constexpr std::size_t keep_bytes = 64 * 1024;
  for (byte_buffer* b : {&c.in, &c.sending, &c.pending}) {
    if (b->capacity() > keep_bytes) b->release(); else b->clear();
  }
  // Answers held for order are small (an event's 201, an error); keep the ring, not its
  // larger buffers.
  if (c.held) {
    for (std::uint32_t i = 0; i < _config.pipeline_depth_max; ++i) {
      byte_buffer& b = c.held[i].bytes;
      if (b.capacity() > 4096) b.release(); else b.clear();
    }
  }
  _free_slots.push_back(c.slot);
  --_open;
  _metrics.connections_open.set(_open);
}

// ---- cross-thread work and shutdown -------------------------------------------------------

void shard::on_wake() {
  // Clear the flag before draining, and with an RMW, not a plain store: a store may become
  // visible only after the drain's loads (store-load reordering, even on x86), and a post
  // landing in that window would see the flag still set, skip its eventfd write, and wait
  // for the next post. With the exchange, either the poster's exchange comes first in the
  // flag's order (this one then reads its value, synchronises with it, and the drain below
  // sees its task) or it comes after (it reads false and writes the eventfd).
  _wake_pending.exchange(false, std::memory_order_acq_rel);
  shard_task task;
  while (_tasks.try_pop(task)) {
    task.run(*this, task.arg);
    _metrics.tasks_run.add();
  }
  if (_stop_requested.load(std::memory_order_acquire) && !_stopping) begin_drain();
  arm_wake();
}

void shard::begin_drain() {
  _stopping = true;
  _drain_deadline_ns = _now_ns + _drain_ms.load(std::memory_order_relaxed) * 1'000'000;
  if (_accepting) {
    io_uring_sqe* sqe = get_sqe();
    io_uring_prep_cancel64(sqe, pack(op::accept, 0, 0), 0);
    io_uring_sqe_set_data64(sqe, pack(op::cancel, 0, 0));
  }
  // Closing our listener hands nothing to the other shards' listeners: connections still
  // in its accept queue are reset, which is why every shard stops at the same time.
  ::close(_listen_fd);
  _listen_fd = -1;
  for (std::size_t i = 0; i < _config.connections_max; ++i) {
    connection& c = _conns[i];
    if (c.state != conn_state::open) continue;
    if (c.idle() && !c.send_inflight) {
      close_connection(c);
    } else if (c.in.empty() && !c.parser.headers_done() && !c.deferred) {
      c.close_after_send = true;  // responses already queued go out, then close
    }
    // Connections mid-request finish it; the response carries Connection: close.
  }
}

}  // namespace warrant::net

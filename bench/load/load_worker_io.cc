// bench/load/load_worker_io.cc: a connection's io_uring operations and what their
// completions do (connect, recv and response parsing, send, close and reconnect).
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cassert>
#include <cstring>
#include <string_view>

#include "bench/load/load_worker.h"

namespace warrant::bench {

namespace {

std::uint64_t pack(std::uint32_t index, std::uint8_t operation) {
  return (static_cast<std::uint64_t>(index) << 8) | operation;
}

}  // namespace

// Returns a free SQE, submitting the queued ones first when the SQ is full.
io_uring_sqe* load_worker::next_sqe() {
  io_uring_sqe* sqe = io_uring_get_sqe(&_ring);
  while (sqe == nullptr) {
    io_uring_submit(&_ring);
    sqe = io_uring_get_sqe(&_ring);
  }
  return sqe;
}

void load_worker::submit_connect(connection& c, std::uint32_t index, std::int64_t now) {
  assert(c.state == connection_state::idle && c.ops_pending == 0);
  c.fd = socket(_target.address.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (c.fd < 0) {  // out of descriptors: count it and try again later
    ++_stats.errors.connect;
    c.retry_at_ns = now + reconnect_pause_ns;
    return;
  }
  const int one = 1;
  setsockopt(c.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (io_uring_sq_space_left(&_ring) < 2) io_uring_submit(&_ring);  // connect and its timeout go together
  io_uring_sqe* sqe = next_sqe();
  io_uring_prep_connect(sqe, c.fd, reinterpret_cast<const sockaddr*>(&_target.address), _target.address_bytes);
  io_uring_sqe_set_data64(sqe, pack(index, static_cast<std::uint8_t>(op::connect)));
  sqe->flags |= IOSQE_IO_LINK;
  io_uring_sqe* timeout = next_sqe();
  io_uring_prep_link_timeout(timeout, &_connect_timeout, 0);
  io_uring_sqe_set_data64(timeout, pack(index, static_cast<std::uint8_t>(op::connect_timeout)));
  ++c.ops_pending;
  c.state = connection_state::connecting;
}

void load_worker::submit_recv(connection& c, std::uint32_t index) {
  io_uring_sqe* sqe = next_sqe();
  char* const free_begin = c.recv_buffer.data() + c.recv_filled_bytes;
  io_uring_prep_recv(sqe, c.fd, free_begin, c.recv_buffer.size() - c.recv_filled_bytes, 0);
  io_uring_sqe_set_data64(sqe, pack(index, static_cast<std::uint8_t>(op::recv)));
  ++c.ops_pending;
}

void load_worker::submit_send(connection& c, std::uint32_t index) {
  io_uring_sqe* sqe = next_sqe();
  io_uring_prep_send(sqe, c.fd, c.send_buffer.data() + c.send_sent_bytes, c.send_filled_bytes - c.send_sent_bytes,
                     MSG_NOSIGNAL);
  io_uring_sqe_set_data64(sqe, pack(index, static_cast<std::uint8_t>(op::send)));
  ++c.ops_pending;
  c.sending = true;
}

void load_worker::on_completion(const io_uring_cqe& cqe, std::int64_t now) {
  const auto operation = static_cast<op>(cqe.user_data & 0xff);
  const auto index = static_cast<std::uint32_t>(cqe.user_data >> 8);
  if (operation == op::connect_timeout) return;  // the connect's own CQE says what happened
  connection& c = *_connections[index];
  assert(c.ops_pending > 0);
  --c.ops_pending;
  if (operation == op::send) c.sending = false;
  if (_stopping || c.state == connection_state::closing) {
    if (c.ops_pending == 0) finish_close(c, index, now);
    return;
  }
  switch (operation) {
    case op::connect: on_connect(c, index, cqe.res, now); break;
    case op::recv: on_recv(c, index, cqe.res, now); break;
    case op::send: on_send(c, index, cqe.res, now); break;
    case op::connect_timeout: break;
  }
}

void load_worker::on_connect(connection& c, std::uint32_t index, int result, std::int64_t now) {
  if (result < 0) {
    ++_stats.errors.connect;
    close(c.fd);
    c.fd = -1;
    c.state = connection_state::idle;
    c.retry_at_ns = now + reconnect_pause_ns;
    return;
  }
  if (c.ever_connected) ++_stats.reconnects;
  c.ever_connected = true;
  c.state = connection_state::open;
  submit_recv(c, index);
  pump(c, index, now);
}

void load_worker::on_recv(connection& c, std::uint32_t index, int result, std::int64_t now) {
  if (result < 0) {
    fail(c, index, _stats.errors.reset, now);
    return;
  }
  if (result == 0) {  // the server closed; a body that runs to the end is complete now
    if (!c.in_flight.empty() && c.parser.finish_on_eof()) complete_request(c, c.parser.status(), now);
    if (!c.in_flight.empty()) {
      fail(c, index, _stats.errors.reset, now);
    } else {
      close_connection(c, index, now);
    }
    return;
  }
  c.recv_filled_bytes += static_cast<std::size_t>(result);
  if (measuring(now)) _stats.bytes_received += static_cast<std::size_t>(result);
  if (!parse_responses(c, index, now)) {
    fail(c, index, _stats.errors.parse, now);
    return;
  }
  if (c.state != connection_state::open) return;
  submit_recv(c, index);
  pump(c, index, now);
}

// Completes every response the received bytes hold. False on a malformed or unsolicited
// response. Leaves the unconsumed tail at the front of the buffer.
bool load_worker::parse_responses(connection& c, std::uint32_t index, std::int64_t now) {
  std::size_t consumed = 0;
  bool ok = true;
  while (consumed < c.recv_filled_bytes) {
    if (c.in_flight.empty()) {
      ok = false;  // bytes nobody asked for
      break;
    }
    const std::string_view rest(c.recv_buffer.data() + consumed, c.recv_filled_bytes - consumed);
    const response_step step = c.parser.feed(rest);
    consumed += step.consumed;
    if (step.event == response_event::error) {
      ok = false;
      break;
    }
    if (step.event == response_event::need_more) break;
    const bool close_after = c.parser.close_after();
    complete_request(c, c.parser.status(), now);
    if (close_after) {
      close_connection(c, index, now);
      return true;
    }
  }
  const std::size_t left = c.recv_filled_bytes - consumed;
  std::memmove(c.recv_buffer.data(), c.recv_buffer.data() + consumed, left);
  c.recv_filled_bytes = left;
  assert(c.recv_filled_bytes < c.recv_buffer.size());
  return ok;
}

void load_worker::complete_request(connection& c, int status, std::int64_t now) {
  const in_flight_request r = c.in_flight.pop();
  --_in_flight_total;
  if (!c.in_flight.empty()) c.parser.begin(c.in_flight.front().no_response_body);
  if (!measuring(now)) return;
  ++_measured_done;
  ++_stats.requests;
  _stats.latency.record(now - r.latency_origin_ns);
  ++_stats.status[static_cast<std::size_t>(std::clamp(status, 0, status_code_max))];
}

void load_worker::on_send(connection& c, std::uint32_t index, int result, std::int64_t now) {
  if (result < 0) {
    fail(c, index, _stats.errors.reset, now);
    return;
  }
  c.send_sent_bytes += static_cast<std::size_t>(result);
  if (c.send_sent_bytes < c.send_filled_bytes) {  // short write: send the rest
    submit_send(c, index);
    return;
  }
  c.send_sent_bytes = c.send_filled_bytes = 0;
  pump(c, index, now);
}

// Fills the connection's free pipeline slots and sends them as one batch. Rendering happens
// only when the previous batch is fully written, so the send buffer always starts empty.
void load_worker::pump(connection& c, std::uint32_t index, std::int64_t now) {
  if (c.state != connection_state::open || c.sending || _stopping) return;
  assert(c.send_filled_bytes == 0);
  const std::size_t room = _config.pipeline - c.in_flight.size();
  std::uint64_t count = 0;
  if (_config.mode == loop_mode::closed) {
    count = std::min<std::uint64_t>(room, issue_allowance(now));
  } else {
    schedule_due(now);
    count = std::min<std::uint64_t>(room, _scheduled_count - _issued_count);
  }
  for (std::uint64_t i = 0; i < count; ++i) {
    const bool open_loop = _config.mode == loop_mode::open;
    const std::int64_t origin = open_loop ? scheduled_ns(_issued_count++) : now;
    const rendered_request r = _renderer->render(c.send_buffer.data() + c.send_filled_bytes);
    c.send_filled_bytes += r.bytes;
    if (c.in_flight.empty()) c.parser.begin(r.no_response_body);
    c.in_flight.push({origin, now, r.no_response_body});
    ++_in_flight_total;
  }
  if (count > 0) {
    if (c.unstamped == 0) _unstamped.push_back(index);
    c.unstamped += static_cast<std::uint32_t>(count);
  }
  if (c.send_filled_bytes > 0) {
    submit_send(c, index);
  } else if (_config.mode == loop_mode::open && !c.in_flight.full() && !c.ready_listed) {
    c.ready_listed = true;
    _ready.push_back(index);
  }
}

// Gives up on the connection's requests, counting each as one error of the given kind.
void load_worker::fail(connection& c, std::uint32_t index, std::uint64_t& error_counter, std::int64_t now) {
  error_counter += std::max<std::size_t>(1, c.in_flight.size());
  c.failed = true;
  close_connection(c, index, now);
}

void load_worker::close_connection(connection& c, std::uint32_t index, std::int64_t now) {
  _in_flight_total -= c.in_flight.size();
  c.in_flight.clear();
  c.state = connection_state::closing;
  shutdown(c.fd, SHUT_RDWR);  // wakes the armed recv, so its buffer comes back to us
  if (c.ops_pending == 0) finish_close(c, index, now);
}

void load_worker::finish_close(connection& c, std::uint32_t index, std::int64_t now) {
  assert(c.ops_pending == 0);
  if (c.fd >= 0) close(c.fd);
  c.fd = -1;
  c.state = connection_state::idle;
  c.sending = false;
  c.send_sent_bytes = c.send_filled_bytes = 0;
  c.recv_filled_bytes = 0;
  c.unstamped = 0;
  c.parser.begin(false);
  c.retry_at_ns = c.failed ? now + reconnect_pause_ns : now;
  c.failed = false;
  if (!_stopping && c.retry_at_ns <= now) submit_connect(c, index, now);
}

}  // namespace warrant::bench

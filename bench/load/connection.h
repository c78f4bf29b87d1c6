// bench/load/connection.h: one client connection's state and buffers.
//
// What it is for: everything a load thread keeps per connection: the socket, the requests in
// flight (a fixed ring of `--pipeline` slots, oldest first, since HTTP/1.1 answers in order),
// the send buffer the next batch is rendered into, the receive buffer and its response
// parser. All buffers are sized when the run starts and reused across reconnects.
//
// Ownership: a connection belongs to one load thread; io_uring operations in flight point
// into its buffers, so it is reused only when `ops_pending` is back to zero.
#pragma once

#include <cassert>
#include <cstdint>
#include <vector>

#include "bench/load/http_response_parser.h"

namespace warrant::bench {

struct in_flight_request {
  std::int64_t latency_origin_ns = 0;  // send time (closed loop) or scheduled time (open loop)
  std::int64_t sent_ns = 0;            // for --timeout
  bool no_response_body = false;
};

// FIFO of the requests sent on a connection and not yet answered; capacity fixed at start.
class request_ring {
 public:
  explicit request_ring(std::size_t capacity) : _slots(capacity) {}
  bool empty() const { return _count == 0; }
  bool full() const { return _count == _slots.size(); }
  std::size_t size() const { return _count; }
  const in_flight_request& front() const { assert(!empty()); return _slots[_head]; }
  void push(const in_flight_request& r) {
    assert(!full());
    _slots[(_head + _count) % _slots.size()] = r;
    ++_count;
  }
  in_flight_request pop() {
    assert(!empty());
    const in_flight_request r = _slots[_head];
    _head = (_head + 1) % _slots.size();
    --_count;
    return r;
  }
  void clear() { _head = _count = 0; }
  // The i-th newest entry (0: the last pushed).
  in_flight_request& from_back(std::size_t i) {
    assert(i < _count);
    return _slots[(_head + _count - 1 - i) % _slots.size()];
  }

 private:
  std::vector<in_flight_request> _slots;
  std::size_t _head = 0;
  std::size_t _count = 0;
};

enum class connection_state : std::uint8_t {
  idle,        // no socket; (re)connects at `retry_at_ns`
  connecting,  // connect in flight
  open,        // recv always armed; sends batches of up to --pipeline requests
  closing,     // socket shut down; waits for its operations to come back before close()
};

struct connection {
  connection(std::size_t pipeline, std::size_t send_bytes, std::size_t recv_bytes)
      : in_flight(pipeline), send_buffer(send_bytes), recv_buffer(recv_bytes) {}

  int fd = -1;
  connection_state state = connection_state::idle;
  std::uint32_t ops_pending = 0;  // SQEs submitted whose CQE has not been seen
  bool sending = false;
  bool ready_listed = false;      // on the open loop's list of connections with free slots
  bool ever_connected = false;
  std::uint32_t unstamped = 0;    // requests rendered this loop turn, stamped at submit
  bool failed = false;            // closing because of an error: reconnect after a pause
  std::int64_t retry_at_ns = 0;
  request_ring in_flight;
  std::vector<char> send_buffer;
  std::size_t send_sent_bytes = 0;   // [sent, filled) is still to be written
  std::size_t send_filled_bytes = 0;
  std::vector<char> recv_buffer;
  std::size_t recv_filled_bytes = 0;
  http_response_parser parser;
};

}  // namespace warrant::bench

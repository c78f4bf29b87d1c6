// net/connection.h: the state of one client connection, owned by one shard.
//
// A connection lives in a slot of its shard's fixed connection table; the slot and a
// generation number name it in io_uring user data and in deferred responses, so a completion
// that arrives after the connection closed (and the slot was reused) is recognised and
// dropped. Everything here is touched by the owning shard thread only.
#pragma once

#include <cstdint>
#include <memory>

#include "net/byte_buffer.h"
#include "net/http_parser.h"
#include "net/peer_address.h"
#include "net/timer_list.h"

namespace warrant::net {

enum class conn_state : std::uint8_t {
  free,       // slot unused
  open,       // reading requests, answering them
  lingering,  // final response sent, write side shut, discarding input until EOF or timeout
  closing,    // waiting for outstanding io_uring operations before close(2)
};

// What a deferred request needs to be answered later.
struct deferred_framing {
  std::uint32_t route_id = 0;
  std::int64_t start_ns = 0;
  std::uint8_t version_minor = 1;
  bool keep_alive = true;
  bool head_request = false;
};

// A request handled but not yet answered in order: it was deferred, or it was answered while
// an earlier request of its connection was still deferred (net/shard.h, "Pipelined writes").
struct held_answer {
  deferred_framing framing;
  bool waiting = false;  // deferred, not completed yet
  bool blocks = false;   // its route does not pipeline: later requests wait for it
  byte_buffer bytes;     // the serialised answer, once done and out of order
};

struct connection {
  timer_link timer;  // first member: the shard maps a timer_link back to its connection

  int fd = -1;
  std::uint32_t slot = 0;
  std::uint32_t generation = 0;
  conn_state state = conn_state::free;
  std::uint8_t ops = 0;  // io_uring operations in flight that name this connection

  bool recv_armed = false;
  bool recv_paused = false;       // input buffer full: recv cancelled until it drains
  bool send_inflight = false;
  bool in_flush_list = false;
  bool close_after_send = false;  // the last response is queued; no more requests
  bool peer_closed = false;       // EOF seen
  bool input_blocked = false;     // the next request waits for the deferred ones before it
  bool continue_sent = false;     // "100 Continue" already queued for the current request
  std::uint32_t requests_served = 0;

  // Requests are numbered as they are handled; answers go out in that order. Requests
  // answered_seq .. next_seq-1 are handled but not yet queued for sending: their state is in
  // `held`, a ring indexed by sequence number (allocated at the connection's first deferral,
  // kept with the slot). `deferred` counts those still waiting for their handler's answer,
  // `blocking` those of them whose route does not pipeline.
  std::uint32_t next_seq = 0;
  std::uint32_t answered_seq = 0;
  std::uint16_t deferred = 0;
  std::uint16_t blocking = 0;
  std::unique_ptr<held_answer[]> held;
  held_answer& held_at(std::uint32_t seq, std::uint32_t ring) { return held[seq & (ring - 1)]; }

  http_parser parser;
  byte_buffer in;       // received bytes not yet consumed (a partial request, pipelined rest)
  byte_buffer sending;  // bytes handed to the kernel by the send in flight
  byte_buffer pending;  // responses queued behind them

  // The client's address, read lazily by shard::peer (only the guard's failure path needs
  // it); valid while peer_generation == generation, so a reused slot never sees a stale one.
  peer_address peer;
  std::uint32_t peer_generation = 0xffffffff;  // never a generation (they have 24 bits)

  bool idle() const {
    return in.empty() && sending.empty() && pending.empty() && !deferred && !parser.headers_done();
  }
};

}  // namespace warrant::net

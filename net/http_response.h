// net/http_response.h: what a handler answers, and how it is written to the wire.
//
// A handler fills an `http_response` (status, extra headers, body); the connection then calls
// `write_response` to serialise it, with the framing headers it owns (Date, Content-Length,
// Connection). Both buffers inside keep their capacity, so one response object per shard,
// reused for every request, allocates nothing in steady state. Shard-thread only.
#pragma once

#include <cstdint>
#include <ctime>
#include <string_view>

#include "net/byte_buffer.h"

namespace warrant::net {

std::string_view http_reason(int status);

// Appends `s` as a JSON string literal (quotes included), escaping per RFC 8259.
void append_json_string(byte_buffer& out, std::string_view s);

class http_response {
 public:
  void reset() {
    _status = 200;
    _close = false;
    _content_type = "application/json";
    _headers.clear();
    _body.clear();
  }

  void set_status(int status) { _status = status; }
  int status() const { return _status; }
  void set_content_type(std::string_view type) { _content_type = type; }  // must outlive the response
  std::string_view content_type() const { return _content_type; }
  // Adds "name: value"; the bytes are copied.
  void add_header(std::string_view name, std::string_view value);
  // Adds header lines exactly as another response's extra_headers() gave them (a deferred
  // answer gets back the headers set before the request was deferred).
  void add_header_lines(std::string_view lines) { _headers.append(lines); }
  // Closes the connection after this response is sent.
  void set_close() { _close = true; }
  bool close_requested() const { return _close; }

  byte_buffer& body() { return _body; }
  const byte_buffer& body() const { return _body; }
  std::string_view extra_headers() const { return _headers.view(); }

  // Empties the body, leaving room before it for the head (write_response_moving_body). For
  // handlers whose answers are large.
  void clear_body_leaving_head_room();

  // Replaces the response with the common JSON error {"error","code","hint"?}.
  void set_error(int status, std::string_view code, std::string_view message, std::string_view hint = {});
  // Replaces the body with `json`, status unchanged.
  void set_json(std::string_view json) {
    _content_type = "application/json";
    _body.clear();
    _body.append(json);
  }

 private:
  int _status = 200;
  bool _close = false;
  std::string_view _content_type = "application/json";
  byte_buffer _headers;
  byte_buffer _body;
};

// The `Date:` header line, rebuilt at most once a second. One per shard.
class http_date_cache {
 public:
  // Returns "Date: <IMF-fixdate>\r\n" for wall-clock second `now_s`.
  std::string_view line(std::time_t now_s);

 private:
  std::time_t _second = -1;
  char _line[64] = {};
  std::size_t _size = 0;
};

struct response_framing {
  std::uint8_t version_minor = 1;
  bool keep_alive = true;     // after this response
  bool head_request = false;  // send headers only
  std::string_view date_line;
};

// Serialises status line, framing headers, extra headers and body onto `out`.
void write_response(byte_buffer& out, const http_response& res, const response_framing& framing);

// Room a handler leaves before a large body (`http_response::clear_body_leaving_head_room`).
inline constexpr std::size_t head_room_bytes = 1024;

// The same bytes, but a body written after clear_body_leaving_head_room() is not copied: the
// head goes into the room before it and the two buffers are swapped (`res` gets `out`'s
// empty one), when `out` is empty and at least as large; otherwise as write_response. A large
// answer (a bulk evaluation's ~40 KB) was otherwise copied once more than needed.
void write_response_moving_body(byte_buffer& out, http_response& res, const response_framing& framing);

// "HTTP/1.1 100 Continue\r\n\r\n"
inline constexpr std::string_view http_continue_line = "HTTP/1.1 100 Continue\r\n\r\n";

}  // namespace warrant::net

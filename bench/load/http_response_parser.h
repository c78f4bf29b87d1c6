// bench/load/http_response_parser.h: incremental HTTP/1.1 response parser (client side).
//
// What it is for: finding where each response ends in the byte stream of a keep-alive or
// pipelined connection, and extracting what the load generator counts: the status code and
// whether the server will close the connection. Bodies are skipped, never buffered, so a
// connection's receive buffer only ever needs to hold one header block.
//
// Contract:
//   - Call `begin(no_body)` before each response: `no_body` is true for the answer to HEAD.
//   - `feed(data)` looks at the front of `data` (the unconsumed bytes received so far) and
//     consumes what it can: `need_more` (everything usable consumed; keep the rest and call
//     again with more bytes appended), `complete` (the response ended `consumed` bytes in;
//     `status()` and `close_after()` describe it) or `error` (the stream cannot be trusted).
//     Interim 1xx responses are skipped inside `feed`.
//   - A body delimited by the end of the connection completes via `finish_on_eof()`.
//   - The header block must fit in `header_bytes_max`, or `feed` reports `error`.
//
// Ownership: one parser per connection, used by the connection's thread only. No allocation.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace warrant::bench {

enum class response_event : std::uint8_t { need_more, complete, error };

struct response_step {
  response_event event = response_event::need_more;
  std::size_t consumed = 0;
};

class http_response_parser {
 public:
  static constexpr std::size_t header_bytes_max = 16 * 1024;
  static constexpr std::size_t chunk_line_bytes_max = 1024;

  void begin(bool no_body);
  response_step feed(std::string_view data);
  // The peer closed the stream: true when that ends the current response normally.
  bool finish_on_eof();

  int status() const { return _status; }
  bool close_after() const { return _close_after; }

 private:
  enum class phase : std::uint8_t {
    head, body_length, chunk_size, chunk_data, chunk_crlf, trailer, body_until_eof, done
  };

  // Each step consumes from `data` and returns the bytes it used; `_phase` says what is next.
  std::size_t step_head(std::string_view data, bool& failed);
  std::size_t step_chunk_size(std::string_view data, bool& failed);
  std::size_t step_chunk_crlf(std::string_view data, bool& failed);
  std::size_t step_trailer(std::string_view data, bool& failed);
  bool parse_head(std::string_view head);
  bool parse_header(std::string_view name, std::string_view value);
  void choose_body();

  phase _phase = phase::head;
  bool _no_body = false;
  int _status = 0;
  bool _close_after = false;
  bool _keep_alive_seen = false;
  bool _http10 = false;
  bool _chunked = false;
  bool _has_length = false;
  std::uint64_t _remaining_bytes = 0;
};

}  // namespace warrant::bench

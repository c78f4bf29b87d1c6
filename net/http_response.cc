#include "net/http_response.h"

#include <charconv>
#include <cstring>
#include <utility>

namespace warrant::net {

std::string_view http_reason(int status) {
  switch (status) {
    case 100: return "Continue";
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 204: return "No Content";
    case 304: return "Not Modified";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 411: return "Length Required";
    case 413: return "Content Too Large";
    case 414: return "URI Too Long";
    case 415: return "Unsupported Media Type";
    case 417: return "Expectation Failed";
    case 422: return "Unprocessable Content";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 503: return "Service Unavailable";
    case 505: return "HTTP Version Not Supported";
    default: return "Unknown";
  }
}

void append_json_string(byte_buffer& out, std::string_view s) {
  static constexpr char hex[] = "0123456789abcdef";
  out.push_back('"');
  std::size_t run = 0;  // start of the current run of bytes that need no escaping
  for (std::size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    out.append(s.data() + run, i - run);
    run = i + 1;
    switch (c) {
      case '"': out.append("\\\""); break;
      case '\\': out.append("\\\\"); break;
      case '\n': out.append("\\n"); break;
      case '\r': out.append("\\r"); break;
      case '\t': out.append("\\t"); break;
      default: {
        const char esc[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 0xf]};
        out.append(esc, sizeof esc);
      }
    }
  }
  out.append(s.data() + run, s.size() - run);
  out.push_back('"');
}

void http_response::add_header(std::string_view name, std::string_view value) {
  _headers.append(name);
  _headers.append(": ");
  _headers.append(value);
  _headers.append("\r\n");
}

void http_response::set_error(int status, std::string_view code, std::string_view message,
                              std::string_view hint) {
  _status = status;
  _content_type = "application/json";
  _body.clear();
  _body.append("{\"error\":");
  append_json_string(_body, message);
  _body.append(",\"code\":");
  append_json_string(_body, code);
  if (!hint.empty()) {
    _body.append(",\"hint\":");
    append_json_string(_body, hint);
  }
  _body.push_back('}');
}

void http_response::clear_body_leaving_head_room() { _body.clear_leaving_front_room(head_room_bytes); }

std::string_view http_date_cache::line(std::time_t now_s) {
  if (now_s != _second) {
    std::tm tm{};
    gmtime_r(&now_s, &tm);
    _size = std::strftime(_line, sizeof _line, "Date: %a, %d %b %Y %H:%M:%S GMT\r\n", &tm);
    _second = now_s;
  }
  return {_line, _size};
}

namespace {

// Upper bound of the head: status line, framing headers, extra headers, blank line.
std::size_t head_bound(const http_response& res, const response_framing& framing) {
  return 200 + framing.date_line.size() + res.content_type().size() + res.extra_headers().size();
}

// Writes the head at `p` (room: head_bound) for a body of `body_bytes`; returns its end.
char* write_head(char* p, const http_response& res, const response_framing& framing, std::size_t body_bytes) {
  const std::string_view headers = res.extra_headers();
  const std::string_view ctype = res.content_type();
  auto put = [&p](std::string_view s) {
    // An empty view from a never-used byte_buffer has a null data(): memcpy must not see it.
    if (s.empty()) return;
    std::memcpy(p, s.data(), s.size());
    p += s.size();
  };
  put(framing.version_minor == 0 ? "HTTP/1.0 " : "HTTP/1.1 ");
  // std::to_chars: fmt::format_to parsed its format string on every response (~0.5 % of a
  // shard's samples under load). The head's room (head_bound) covers both numbers.
  p = std::to_chars(p, p + 8, res.status()).ptr;
  *p++ = ' ';
  put(http_reason(res.status()));
  put("\r\nServer: warrant\r\n");
  put(framing.date_line);
  if (res.status() != 204 && res.status() >= 200) {
    if (!ctype.empty() && body_bytes > 0) {
      put("Content-Type: ");
      put(ctype);
      put("\r\n");
    }
    put("Content-Length: ");
    p = std::to_chars(p, p + 24, body_bytes).ptr;
    put("\r\n");
  }
  if (!framing.keep_alive) {
    put("Connection: close\r\n");
  } else if (framing.version_minor == 0) {
    put("Connection: keep-alive\r\n");
  }
  put(headers);
  put("\r\n");
  return p;
}

}  // namespace

void write_response(byte_buffer& out, const http_response& res, const response_framing& framing) {
  const std::string_view body = res.body().view();
  const std::size_t bound = head_bound(res, framing) + (framing.head_request ? 0 : body.size());
  char* const start = out.prepare(bound);
  char* p = write_head(start, res, framing, body.size());
  if (!framing.head_request && !body.empty()) {
    std::memcpy(p, body.data(), body.size());
    p += body.size();
  }
  out.commit(static_cast<std::size_t>(p - start));
}

void write_response_moving_body(byte_buffer& out, http_response& res, const response_framing& framing) {
  byte_buffer& body = res.body();
  // Only into an empty `out` at least as large (so the response's buffer never shrinks and
  // never has to grow again), and only when the head fits the room left before the body.
  const std::size_t bound = head_bound(res, framing);
  if (!out.empty() || framing.head_request || out.capacity() < body.capacity() || bound > head_room_bytes ||
      body.front_room() < bound) {
    write_response(out, res, framing);
    return;
  }
  char head[head_room_bytes];
  const char* end = write_head(head, res, framing, body.size());
  body.prepend(head, static_cast<std::size_t>(end - head));
  out.clear();
  std::swap(out, body);
}

}  // namespace warrant::net

#include "net/http_response.h"

#include <fmt/format.h>

#include <cstring>

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

std::string_view http_date_cache::line(std::time_t now_s) {
  if (now_s != _second) {
    std::tm tm{};
    gmtime_r(&now_s, &tm);
    _size = std::strftime(_line, sizeof _line, "Date: %a, %d %b %Y %H:%M:%S GMT\r\n", &tm);
    _second = now_s;
  }
  return {_line, _size};
}

void write_response(byte_buffer& out, const http_response& res, const response_framing& framing) {
  const std::string_view body = res.body().view();
  const std::string_view headers = res.extra_headers();
  const std::string_view ctype = res.content_type();
  // Upper bound of the fixed part: status line, framing headers and their separators.
  const std::size_t bound = 200 + framing.date_line.size() + ctype.size() + headers.size() +
                            (framing.head_request ? 0 : body.size());
  char* const start = out.prepare(bound);
  char* p = start;
  auto put = [&p](std::string_view s) {
    // An empty view from a never-used byte_buffer has a null data(): memcpy must not see it.
    if (s.empty()) return;
    std::memcpy(p, s.data(), s.size());
    p += s.size();
  };
  put(framing.version_minor == 0 ? "HTTP/1.0 " : "HTTP/1.1 ");
  p = fmt::format_to(p, "{} ", res.status());
  put(http_reason(res.status()));
  put("\r\nServer: warrant\r\n");
  put(framing.date_line);
  if (res.status() != 204 && res.status() >= 200) {
    if (!ctype.empty() && !body.empty()) {
      put("Content-Type: ");
      put(ctype);
      put("\r\n");
    }
    put("Content-Length: ");
    p = fmt::format_to(p, "{}", body.size());
    put("\r\n");
  }
  if (!framing.keep_alive) {
    put("Connection: close\r\n");
  } else if (framing.version_minor == 0) {
    put("Connection: keep-alive\r\n");
  }
  put(headers);
  put("\r\n");
  if (!framing.head_request) put(body);
  out.commit(static_cast<std::size_t>(p - start));
}

}  // namespace warrant::net

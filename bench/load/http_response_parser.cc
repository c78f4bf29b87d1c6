// bench/load/http_response_parser.cc: status line, the headers that frame a response, and
// the three ways a body can end (Content-Length, chunked, end of stream).
#include "bench/load/http_response_parser.h"

#include <algorithm>
#include <charconv>

namespace warrant::bench {

namespace {

constexpr std::string_view crlf = "\r\n";

char ascii_lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() &&
         std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) { return ascii_lower(x) == ascii_lower(y); });
}

bool icontains(std::string_view haystack, std::string_view needle) {
  if (needle.size() > haystack.size()) return false;
  for (std::size_t i = 0; i + needle.size() <= haystack.size(); ++i) {
    if (iequals(haystack.substr(i, needle.size()), needle)) return true;
  }
  return false;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }

}  // namespace

void http_response_parser::begin(bool no_body) {
  *this = http_response_parser{};
  _no_body = no_body;
}

response_step http_response_parser::feed(std::string_view data) {
  std::size_t pos = 0;
  bool failed = false;
  while (true) {
    const std::string_view rest = data.substr(pos);
    std::size_t used = 0;
    switch (_phase) {
      case phase::head: used = step_head(rest, failed); break;
      case phase::chunk_size: used = step_chunk_size(rest, failed); break;
      case phase::chunk_crlf: used = step_chunk_crlf(rest, failed); break;
      case phase::trailer: used = step_trailer(rest, failed); break;
      case phase::body_length:
      case phase::chunk_data:
        used = static_cast<std::size_t>(std::min<std::uint64_t>(rest.size(), _remaining_bytes));
        _remaining_bytes -= used;
        if (_remaining_bytes == 0) _phase = _phase == phase::body_length ? phase::done : phase::chunk_crlf;
        break;
      case phase::body_until_eof: return {response_event::need_more, data.size()};
      case phase::done: return {response_event::complete, pos};
    }
    if (failed) return {response_event::error, pos};
    if (used == 0 && _phase != phase::done) return {response_event::need_more, pos};
    pos += used;
  }
}

bool http_response_parser::finish_on_eof() {
  if (_phase != phase::body_until_eof) return false;
  _phase = phase::done;
  return true;
}

std::size_t http_response_parser::step_head(std::string_view data, bool& failed) {
  const std::size_t end = data.find("\r\n\r\n");
  if (end == std::string_view::npos) {
    failed = data.size() >= header_bytes_max;
    return 0;
  }
  const std::size_t head_bytes = end + 4;
  if (head_bytes > header_bytes_max || !parse_head(data.substr(0, end + 2))) {
    failed = true;
    return 0;
  }
  if (_status >= 100 && _status < 200 && _status != 101) {
    begin(_no_body);  // interim response: the real one follows
    return head_bytes;
  }
  choose_body();
  return head_bytes;
}

// `head` is the status line and header lines, each ending in CRLF, without the blank line.
bool http_response_parser::parse_head(std::string_view head) {
  std::size_t eol = head.find(crlf);
  const std::string_view line = head.substr(0, eol);
  if (line.size() < 12 || line.substr(0, 7) != "HTTP/1." || line[8] != ' ') return false;
  if (!is_digit(line[9]) || !is_digit(line[10]) || !is_digit(line[11])) return false;
  if (line.size() > 12 && line[12] != ' ') return false;
  _http10 = line[7] == '0';
  _status = (line[9] - '0') * 100 + (line[10] - '0') * 10 + (line[11] - '0');
  head.remove_prefix(eol + 2);
  while (!head.empty()) {
    eol = head.find(crlf);
    const std::string_view field = head.substr(0, eol);
    head.remove_prefix(eol + 2);
    if (field.front() == ' ' || field.front() == '\t') continue;  // obsolete line folding
    const std::size_t colon = field.find(':');
    if (colon == std::string_view::npos || colon == 0) return false;
    if (!parse_header(field.substr(0, colon), trim(field.substr(colon + 1)))) return false;
  }
  return true;
}

bool http_response_parser::parse_header(std::string_view name, std::string_view value) {
  if (iequals(name, "content-length")) {
    std::uint64_t length = 0;
    const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), length);
    if (ec != std::errc{} || end != value.data() + value.size() || value.empty()) return false;
    if (_has_length && length != _remaining_bytes) return false;
    _has_length = true;
    _remaining_bytes = length;
  } else if (iequals(name, "transfer-encoding")) {
    _chunked = icontains(value, "chunked");
  } else if (iequals(name, "connection")) {
    if (icontains(value, "close")) _close_after = true;
    if (icontains(value, "keep-alive")) _keep_alive_seen = true;
  }
  return true;
}

void http_response_parser::choose_body() {
  if (_http10 && !_keep_alive_seen) _close_after = true;
  if (_no_body || _status == 204 || _status == 304 || _status < 200) {
    _phase = phase::done;
  } else if (_chunked) {
    _phase = phase::chunk_size;
  } else if (_has_length) {
    _phase = _remaining_bytes == 0 ? phase::done : phase::body_length;
  } else {
    _phase = phase::body_until_eof;
    _close_after = true;
  }
}

std::size_t http_response_parser::step_chunk_size(std::string_view data, bool& failed) {
  const std::size_t eol = data.find(crlf);
  if (eol == std::string_view::npos) {
    failed = data.size() > chunk_line_bytes_max;
    return 0;
  }
  const std::string_view line = data.substr(0, eol);
  std::uint64_t size = 0;
  const auto [end, ec] = std::from_chars(line.data(), line.data() + line.size(), size, 16);
  const bool ends_well = end == line.data() + line.size() || *end == ';' || *end == ' ' || *end == '\t';
  if (ec != std::errc{} || !ends_well || eol > chunk_line_bytes_max) {
    failed = true;
    return 0;
  }
  _remaining_bytes = size;
  _phase = size == 0 ? phase::trailer : phase::chunk_data;
  return eol + 2;
}

std::size_t http_response_parser::step_chunk_crlf(std::string_view data, bool& failed) {
  if (data.size() < 2) return 0;
  if (data.substr(0, 2) != crlf) {
    failed = true;
    return 0;
  }
  _phase = phase::chunk_size;
  return 2;
}

std::size_t http_response_parser::step_trailer(std::string_view data, bool& failed) {
  const std::size_t eol = data.find(crlf);
  if (eol == std::string_view::npos) {
    failed = data.size() > header_bytes_max;
    return 0;
  }
  if (eol == 0) _phase = phase::done;
  return eol + 2;
}

}  // namespace warrant::bench

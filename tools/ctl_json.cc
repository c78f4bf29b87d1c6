#include "tools/ctl_json.h"

#include <fmt/format.h>

#include "engine/common/ids.h"

namespace warrant::tools {

void append_json_string(std::string& out, std::string_view s) {
  out.push_back('"');
  for (const char c : s) {
    switch (c) {
      case '"': out.append("\\\""); break;
      case '\\': out.append("\\\\"); break;
      case '\n': out.append("\\n"); break;
      case '\r': out.append("\\r"); break;
      case '\t': out.append("\\t"); break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          out.append(fmt::format("\\u{:04x}", static_cast<unsigned>(static_cast<unsigned char>(c))));
        } else {
          out.push_back(c);
        }
    }
  }
  out.push_back('"');
}

void json_out::before_value() {
  if (_after_key) {
    _after_key = false;
    return;
  }
  if (!_has_items.empty()) {
    if (_has_items.back()) _out.push_back(',');
    _has_items.back() = true;
  }
}

json_out& json_out::begin_object() {
  before_value();
  _out.push_back('{');
  _has_items.push_back(false);
  return *this;
}

json_out& json_out::end_object() {
  _out.push_back('}');
  _has_items.pop_back();
  return *this;
}

json_out& json_out::begin_array() {
  before_value();
  _out.push_back('[');
  _has_items.push_back(false);
  return *this;
}

json_out& json_out::end_array() {
  _out.push_back(']');
  _has_items.pop_back();
  return *this;
}

json_out& json_out::key(std::string_view k) {
  before_value();
  append_json_string(_out, k);
  _out.push_back(':');
  _after_key = true;
  return *this;
}

json_out& json_out::str(std::string_view v) {
  before_value();
  append_json_string(_out, v);
  return *this;
}

json_out& json_out::num(std::uint64_t v) {
  before_value();
  fmt::format_to(std::back_inserter(_out), "{}", v);
  return *this;
}

json_out& json_out::num(std::int64_t v) {
  before_value();
  fmt::format_to(std::back_inserter(_out), "{}", v);
  return *this;
}

json_out& json_out::boolean(bool v) {
  before_value();
  _out.append(v ? "true" : "false");
  return *this;
}

json_out& json_out::null() {
  before_value();
  _out.append("null");
  return *this;
}

json_out& json_out::time_or_null(std::int64_t unix_ms) {
  if (unix_ms == 0) return null();
  return str(engine::format_time_ms(unix_ms));
}

json_out& json_out::raw(std::string_view json) {
  before_value();
  _out.append(json);
  return *this;
}

namespace {

void newline(std::string& out, int depth) {
  out.push_back('\n');
  out.append(static_cast<std::size_t>(depth < 0 ? 0 : depth) * 2, ' ');
}

// The index just past the string starting at `at` (an opening quote), escapes honoured.
std::size_t string_end(std::string_view json, std::size_t at) {
  std::size_t i = at + 1;
  while (i < json.size() && json[i] != '"') i += json[i] == '\\' ? 2 : 1;
  return i < json.size() ? i + 1 : json.size();
}

}  // namespace

std::string pretty_json(std::string_view json) {
  std::string out;
  out.reserve(json.size() * 2);
  int depth = 0;
  for (std::size_t i = 0; i < json.size(); ++i) {
    const char c = json[i];
    switch (c) {
      case '"': {
        const std::size_t end = string_end(json, i);
        out.append(json.substr(i, end - i));
        i = end - 1;
        break;
      }
      case '{':
      case '[': {
        // An empty container stays on one line.
        std::size_t next = i + 1;
        while (next < json.size() && (json[next] == ' ' || json[next] == '\n' || json[next] == '\r' || json[next] == '\t')) {
          ++next;
        }
        if (next < json.size() && json[next] == (c == '{' ? '}' : ']')) {
          out.push_back(c);
          out.push_back(json[next]);
          i = next;
          break;
        }
        out.push_back(c);
        newline(out, ++depth);
        break;
      }
      case '}':
      case ']':
        newline(out, --depth);
        out.push_back(c);
        break;
      case ',':
        out.push_back(',');
        newline(out, depth);
        break;
      case ':': out.append(": "); break;
      case ' ':
      case '\n':
      case '\r':
      case '\t': break;
      default: out.push_back(c);
    }
  }
  return out;
}

}  // namespace warrant::tools

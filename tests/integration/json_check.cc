// A strict, minimal JSON reader for checking the server's error bodies (RFC 8259 syntax;
// \u escapes are kept verbatim rather than decoded, which is enough for these checks).
#include <cctype>

#include "tests/integration/harness.h"

namespace warrant::integration {
namespace {

class json_reader {
 public:
  explicit json_reader(std::string_view text) : _text(text) {}

  std::optional<std::map<std::string, std::string>> top_level_object() {
    std::map<std::string, std::string> members;
    skip_space();
    if (!eat('{')) return std::nullopt;
    skip_space();
    if (!eat('}')) {
      while (true) {
        skip_space();
        std::string key;
        if (!string(&key)) return std::nullopt;
        skip_space();
        if (!eat(':')) return std::nullopt;
        skip_space();
        const std::size_t start = _pos;
        const bool is_string = peek() == '"';
        std::string decoded;
        if (!(is_string ? string(&decoded) : value())) return std::nullopt;
        members[key] = is_string ? decoded : std::string(_text.substr(start, _pos - start));
        skip_space();
        if (eat('}')) break;
        if (!eat(',')) return std::nullopt;
      }
    }
    skip_space();
    if (_pos != _text.size()) return std::nullopt;
    return members;
  }

 private:
  char peek() const { return _pos < _text.size() ? _text[_pos] : '\0'; }
  bool eat(char c) {
    if (peek() != c) return false;
    ++_pos;
    return true;
  }
  void skip_space() {
    while (_pos < _text.size() && (peek() == ' ' || peek() == '\t' || peek() == '\n' || peek() == '\r')) ++_pos;
  }
  bool literal(std::string_view word) {
    if (_text.substr(_pos, word.size()) != word) return false;
    _pos += word.size();
    return true;
  }

  bool string(std::string* out) {
    if (!eat('"')) return false;
    while (_pos < _text.size()) {
      const char c = _text[_pos++];
      if (c == '"') return true;
      if (static_cast<unsigned char>(c) < 0x20) return false;
      if (c != '\\') {
        if (out) out->push_back(c);
        continue;
      }
      const char e = peek();
      ++_pos;
      switch (e) {
        case '"': case '\\': case '/': if (out) out->push_back(e); break;
        case 'b': if (out) out->push_back('\b'); break;
        case 'f': if (out) out->push_back('\f'); break;
        case 'n': if (out) out->push_back('\n'); break;
        case 'r': if (out) out->push_back('\r'); break;
        case 't': if (out) out->push_back('\t'); break;
        case 'u':
          for (int i = 0; i < 4; ++i) {
            if (!std::isxdigit(static_cast<unsigned char>(peek()))) return false;
            ++_pos;
          }
          if (out) out->append(_text.substr(_pos - 6, 6));
          break;
        default: return false;
      }
    }
    return false;
  }

  bool number() {
    eat('-');
    if (eat('0')) {
    } else if (std::isdigit(static_cast<unsigned char>(peek()))) {
      while (std::isdigit(static_cast<unsigned char>(peek()))) ++_pos;
    } else {
      return false;
    }
    if (eat('.')) {
      if (!std::isdigit(static_cast<unsigned char>(peek()))) return false;
      while (std::isdigit(static_cast<unsigned char>(peek()))) ++_pos;
    }
    if (eat('e') || eat('E')) {
      if (!eat('+')) eat('-');
      if (!std::isdigit(static_cast<unsigned char>(peek()))) return false;
      while (std::isdigit(static_cast<unsigned char>(peek()))) ++_pos;
    }
    return true;
  }

  bool value(int depth = 0) {
    if (depth > 64) return false;
    skip_space();
    switch (peek()) {
      case '"': return string(nullptr);
      case '{': {
        ++_pos;
        skip_space();
        if (eat('}')) return true;
        while (true) {
          skip_space();
          if (!string(nullptr)) return false;
          skip_space();
          if (!eat(':') || !value(depth + 1)) return false;
          skip_space();
          if (eat('}')) return true;
          if (!eat(',')) return false;
        }
      }
      case '[': {
        ++_pos;
        skip_space();
        if (eat(']')) return true;
        while (true) {
          if (!value(depth + 1)) return false;
          skip_space();
          if (eat(']')) return true;
          if (!eat(',')) return false;
        }
      }
      case 't': return literal("true");
      case 'f': return literal("false");
      case 'n': return literal("null");
      default: return number();
    }
  }

  std::string_view _text;
  std::size_t _pos = 0;
};

}  // namespace

std::optional<std::map<std::string, std::string>> parse_json_object(std::string_view text) {
  return json_reader(text).top_level_object();
}

bool is_ready_body(std::string_view body) {
  const auto members = parse_json_object(body);
  if (!members || members->count("status") == 0 || members->at("status") != "ready") return false;
  const auto checks = members->find("checks");
  if (checks == members->end() || !parse_json_object(checks->second)) return false;
  return checks->second.find("\"storage\":\"ok\"") != std::string::npos &&
         checks->second.find("failing") == std::string::npos;
}

::testing::AssertionResult is_json_error(const http_message& m, int status, std::string_view code) {
  if (m.status != status) {
    return ::testing::AssertionFailure() << "status " << m.status << ", want " << status << "; body: " << m.body;
  }
  const std::string type = m.header("Content-Type");
  if (type.rfind("application/json", 0) != 0) {
    return ::testing::AssertionFailure() << "Content-Type '" << type << "', want application/json";
  }
  const auto members = parse_json_object(m.body);
  if (!members) return ::testing::AssertionFailure() << "body is not a JSON object: " << m.body;
  const auto error = members->find("error");
  if (error == members->end() || error->second.empty()) {
    return ::testing::AssertionFailure() << "no \"error\" message in " << m.body;
  }
  const auto c = members->find("code");
  if (c == members->end() || c->second != code) {
    return ::testing::AssertionFailure() << "\"code\" is not \"" << code << "\" in " << m.body;
  }
  return ::testing::AssertionSuccess();
}

}  // namespace warrant::integration

#include "engine/idempotency/canonical_json.h"

#include <simdjson.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <vector>

namespace warrant::engine::idempotency {
namespace {

namespace od = simdjson::ondemand;

// Numbers whose normalised exponent (as written in the canonical form, d.ddd e±X) is beyond
// this are refused rather than carried: no body needs them, and the bound keeps every exponent
// computation far inside int64. The bound applies to the normalised value, not to the spelling,
// so that every accepted number's canonical form is accepted again (a fixed point).
constexpr std::int64_t exponent_abs_max = 1'000'000'000'000'000;  // 10^15
constexpr std::int64_t exponent_read_max = 10 * exponent_abs_max;  // while reading the digits
// simdjson's own depth limit sits above ours, so that ours is the one that answers.
constexpr std::size_t parser_depth_max = canonical_depth_max + 8;
static_assert(parser_depth_max > canonical_depth_max);

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

void append_escaped(std::string& out, std::string_view s) {
  static constexpr char hex[] = "0123456789abcdef";
  out.push_back('"');
  for (const char c : s) {
    const auto u = static_cast<unsigned char>(c);
    switch (c) {
      case '"': out.append("\\\""); break;
      case '\\': out.append("\\\\"); break;
      case '\b': out.append("\\b"); break;
      case '\f': out.append("\\f"); break;
      case '\n': out.append("\\n"); break;
      case '\r': out.append("\\r"); break;
      case '\t': out.append("\\t"); break;
      default:
        if (u < 0x20) {
          out.append("\\u00");
          out.push_back(hex[u >> 4]);
          out.push_back(hex[u & 0xf]);
        } else {
          out.push_back(c);
        }
    }
  }
  out.push_back('"');
}

// Appends the decimal digits of a non-negative value.
void append_uint(std::string& out, std::uint64_t v) {
  char buf[24];
  std::size_t n = 0;
  do {
    buf[n++] = static_cast<char>('0' + v % 10);
    v /= 10;
  } while (v != 0);
  while (n > 0) out.push_back(buf[--n]);
}

struct member_span {
  std::string_view name;  // unescaped, in the parser's string buffer (valid for the document)
  std::size_t begin;      // the member's canonical `"name":value` in `out`
  std::size_t end;
};

// One per thread: the parser and buffers keep their capacity between calls.
struct thread_state {
  od::parser parser;
  std::string padded;
  std::vector<member_span> members;  // a stack: each object's members above its parent's
  std::string scratch;               // an object's members while they are put in order
  std::string digits;                // a number's significant digits

  thread_state() {
    if (parser.allocate(64 * 1024, parser_depth_max) != simdjson::SUCCESS) std::abort();  // out of memory
  }
};

thread_state& state() {
  thread_local thread_state s;
  return s;
}

class canonicalizer {
 public:
  canonicalizer(thread_state& st, std::string& out, const char* input, std::size_t input_bytes)
      : _st(st), _out(out), _input(input), _input_bytes(input_bytes) {}

  bool value(od::value v, std::size_t depth) {
    od::json_type type;
    if (v.type().get(type) != simdjson::SUCCESS) return fail(canonical_errc::malformed, v);
    switch (type) {
      case od::json_type::object: return object(v, depth + 1);
      case od::json_type::array: return array(v, depth + 1);
      case od::json_type::string: {
        std::string_view s;
        if (v.get_string().get(s) != simdjson::SUCCESS) return fail(canonical_errc::malformed, v);
        append_escaped(_out, s);
        return true;
      }
      case od::json_type::number:
        if (!canonical_number(trim(v.raw_json_token()), _out)) return fail(canonical_errc::bad_number, v);
        return true;
      case od::json_type::boolean:
      case od::json_type::null: return literal(trim(v.raw_json_token()), v);
    }
    return fail(canonical_errc::malformed, v);
  }

  bool scalar_document(od::document& doc, std::string_view body) {
    od::json_type type;
    std::string_view token;
    if (doc.type().get(type) != simdjson::SUCCESS || doc.raw_json_token().get(token) != simdjson::SUCCESS) {
      return fail_at(canonical_errc::malformed, 0);
    }
    token = trim(token);
    // The token must be the whole body: anything else after it is trailing content.
    const std::string_view whole = trim(body);
    if (token.size() != whole.size()) return fail_at(canonical_errc::trailing, offset_of(token.data()) + token.size());
    switch (type) {
      case od::json_type::string: {
        std::string_view s;
        if (doc.get_string().get(s) != simdjson::SUCCESS) return fail_at(canonical_errc::malformed, 0);
        append_escaped(_out, s);
        return true;
      }
      case od::json_type::number:
        if (!canonical_number(token, _out)) return fail_at(canonical_errc::bad_number, offset_of(token.data()));
        return true;
      case od::json_type::boolean:
      case od::json_type::null:
        if (token != "true" && token != "false" && token != "null") {
          return fail_at(canonical_errc::malformed, offset_of(token.data()));
        }
        _out.append(token);
        return true;
      default: return fail_at(canonical_errc::malformed, 0);
    }
  }

  canonical_result result() const { return _result; }
  bool fail_at(canonical_errc e, std::size_t offset) {
    if (_result.ok()) _result = {e, std::min(offset, _input_bytes)};
    return false;
  }
  std::size_t offset_of(const char* p) const {
    return p >= _input && p <= _input + _input_bytes ? static_cast<std::size_t>(p - _input) : _input_bytes;
  }

 private:
  bool fail(canonical_errc e, od::value& v) { return fail_at(e, offset_of(v.raw_json_token().data())); }

  bool literal(std::string_view token, od::value& v) {
    if (token != "true" && token != "false" && token != "null") return fail(canonical_errc::malformed, v);
    _out.append(token);
    return true;
  }

  bool object(od::value v, std::size_t depth) {
    const std::size_t at = offset_of(v.raw_json_token().data());
    if (depth > canonical_depth_max) return fail_at(canonical_errc::too_deep, at);
    od::object obj;
    if (v.get_object().get(obj) != simdjson::SUCCESS) return fail_at(canonical_errc::malformed, at);
    const std::size_t mark = _st.members.size();
    const std::size_t region = _out.size() + 1;
    _out.push_back('{');
    for (auto field : obj) {
      std::string_view name;
      od::value child;
      if (field.error() != simdjson::SUCCESS || field.unescaped_key().get(name) != simdjson::SUCCESS ||
          field.value().get(child) != simdjson::SUCCESS) {
        return fail_at(canonical_errc::malformed, at);
      }
      const std::size_t begin = _out.size();
      append_escaped(_out, name);
      _out.push_back(':');
      if (!value(child, depth)) return false;
      _st.members.push_back({name, begin, _out.size()});
    }
    return order_members(mark, region, at);
  }

  // Rewrites the members written since `region` in name order, comma-separated, and closes
  // the object.
  bool order_members(std::size_t mark, std::size_t region, std::size_t at) {
    const auto first = _st.members.begin() + static_cast<std::ptrdiff_t>(mark);
    std::sort(first, _st.members.end(), [](const member_span& a, const member_span& b) { return a.name < b.name; });
    for (auto it = first; it != _st.members.end() && it + 1 != _st.members.end(); ++it) {
      if (it->name == (it + 1)->name) return fail_at(canonical_errc::duplicate_name, at);
    }
    _st.scratch.assign(_out, region, std::string::npos);
    _out.resize(region);
    for (auto it = first; it != _st.members.end(); ++it) {
      if (it != first) _out.push_back(',');
      _out.append(_st.scratch, it->begin - region, it->end - it->begin);
    }
    _out.push_back('}');
    _st.members.resize(mark);
    return true;
  }

  bool array(od::value v, std::size_t depth) {
    const std::size_t at = offset_of(v.raw_json_token().data());
    if (depth > canonical_depth_max) return fail_at(canonical_errc::too_deep, at);
    od::array arr;
    if (v.get_array().get(arr) != simdjson::SUCCESS) return fail_at(canonical_errc::malformed, at);
    _out.push_back('[');
    bool first = true;
    for (auto item : arr) {
      od::value child;
      if (item.get(child) != simdjson::SUCCESS) return fail_at(canonical_errc::malformed, at);
      if (!first) _out.push_back(',');
      first = false;
      if (!value(child, depth)) return false;
    }
    _out.push_back(']');
    return true;
  }

  thread_state& _st;
  std::string& _out;
  const char* _input;
  std::size_t _input_bytes;
  canonical_result _result;
};

canonical_errc from_simdjson(simdjson::error_code e) {
  if (e == simdjson::DEPTH_ERROR) return canonical_errc::too_deep;
  if (e == simdjson::TRAILING_CONTENT) return canonical_errc::trailing;
  return canonical_errc::malformed;
}

}  // namespace

std::string_view canonical_errc_message(canonical_errc e) {
  switch (e) {
    case canonical_errc::ok: return "ok";
    case canonical_errc::malformed: return "malformed JSON";
    case canonical_errc::too_deep: return "JSON nested deeper than 64 levels";
    case canonical_errc::duplicate_name: return "an object names the same member twice";
    case canonical_errc::bad_number: return "malformed or out-of-range number";
    case canonical_errc::trailing: return "content after the JSON value";
  }
  return "?";
}

bool canonical_number(std::string_view t, std::string& out) {
  std::size_t i = 0;
  const bool negative = i < t.size() && t[i] == '-';
  if (negative) ++i;
  // Integer part: 0 | [1-9][0-9]*
  const std::size_t int_begin = i;
  if (i == t.size() || !is_digit(t[i])) return false;
  if (t[i] == '0') {
    ++i;
  } else {
    while (i < t.size() && is_digit(t[i])) ++i;
  }
  const std::string_view int_part = t.substr(int_begin, i - int_begin);
  std::string_view frac_part;
  if (i < t.size() && t[i] == '.') {
    const std::size_t begin = ++i;
    while (i < t.size() && is_digit(t[i])) ++i;
    if (i == begin) return false;
    frac_part = t.substr(begin, i - begin);
  }
  std::int64_t exponent = 0;
  if (i < t.size() && (t[i] == 'e' || t[i] == 'E')) {
    ++i;
    bool exp_negative = false;
    if (i < t.size() && (t[i] == '+' || t[i] == '-')) exp_negative = t[i++] == '-';
    const std::size_t begin = i;
    while (i < t.size() && t[i] == '0') ++i;  // leading zeros of the exponent mean nothing
    while (i < t.size() && is_digit(t[i])) {
      exponent = exponent * 10 + (t[i++] - '0');
      if (exponent > exponent_read_max) return false;
    }
    if (i == begin) return false;
    if (exp_negative) exponent = -exponent;
  }
  if (i != t.size()) return false;

  // value = digits × 10^exponent, digits without leading or trailing zeros.
  std::string& digits = state().digits;
  digits.assign(int_part);
  digits.append(frac_part);
  exponent -= static_cast<std::int64_t>(frac_part.size());
  const std::size_t lead = digits.find_first_not_of('0');
  if (lead == std::string::npos) {
    out.push_back('0');  // every zero, -0 included
    return true;
  }
  digits.erase(0, lead);
  const std::size_t last = digits.find_last_not_of('0');
  exponent += static_cast<std::int64_t>(digits.size() - 1 - last);
  digits.resize(last + 1);

  // ECMAScript Number::toString layout, with k digits and the point after n of them.
  const auto k = static_cast<std::int64_t>(digits.size());
  const std::int64_t n = exponent + k;
  if (n - 1 > exponent_abs_max || n - 1 < -exponent_abs_max) return false;
  if (negative) out.push_back('-');
  if (k <= n && n <= 21) {
    out.append(digits);
    out.append(static_cast<std::size_t>(n - k), '0');
  } else if (0 < n && n <= 21) {
    out.append(digits, 0, static_cast<std::size_t>(n));
    out.push_back('.');
    out.append(digits, static_cast<std::size_t>(n), std::string::npos);
  } else if (-6 < n && n <= 0) {
    out.append("0.");
    out.append(static_cast<std::size_t>(-n), '0');
    out.append(digits);
  } else {
    out.push_back(digits[0]);
    if (k > 1) {
      out.push_back('.');
      out.append(digits, 1, std::string::npos);
    }
    const std::int64_t e = n - 1;
    out.push_back('e');
    out.push_back(e < 0 ? '-' : '+');
    append_uint(out, static_cast<std::uint64_t>(e < 0 ? -e : e));
  }
  return true;
}

canonical_result canonicalize(std::string_view json, std::string& out) {
  thread_state& st = state();
  out.clear();
  st.members.clear();
  if (st.padded.size() < json.size() + simdjson::SIMDJSON_PADDING) st.padded.resize(json.size() + simdjson::SIMDJSON_PADDING);
  std::copy(json.begin(), json.end(), st.padded.begin());
  std::fill_n(st.padded.begin() + static_cast<std::ptrdiff_t>(json.size()), simdjson::SIMDJSON_PADDING, '\0');
  const simdjson::padded_string_view input(st.padded.data(), json.size(), st.padded.size());
  canonicalizer c(st, out, st.padded.data(), json.size());

  od::document doc;
  if (const auto e = st.parser.iterate(input).get(doc); e != simdjson::SUCCESS) {
    c.fail_at(from_simdjson(e), 0);
    return c.result();
  }
  bool scalar = false;
  if (const auto e = doc.is_scalar().get(scalar); e != simdjson::SUCCESS) {
    c.fail_at(from_simdjson(e), 0);
    return c.result();
  }
  if (scalar) {
    c.scalar_document(doc, json);
    return c.result();
  }
  od::value root;
  if (const auto e = doc.get_value().get(root); e != simdjson::SUCCESS) {
    c.fail_at(from_simdjson(e), 0);
    return c.result();
  }
  if (!c.value(root, 0)) return c.result();
  // After the value the document must be exhausted: a location means trailing content.
  const char* at = nullptr;
  if (doc.current_location().get(at) == simdjson::SUCCESS && at != nullptr) {
    c.fail_at(canonical_errc::trailing, c.offset_of(at));
  }
  return c.result();
}

}  // namespace warrant::engine::idempotency

#include "engine/evidence/evaluate_response.h"

#include <cstdlib>
#include <charconv>
#include <cstring>
#include <limits>

#include "net/http_response.h"

namespace warrant::engine::evidence {

namespace {

// Most strings here need no escaping (ids, versions, names): a word-at-a-time scan decides,
// so they are copied in one go; the rest go through net::append_json_string.
constexpr std::uint64_t ones = 0x0101010101010101ull;
constexpr std::uint64_t highs = 0x8080808080808080ull;

// A byte of `w` is below 0x20, '"' or '\\' (SWAR: a byte b has b < n when (b - n) borrows
// into its top bit while b's own top bit is clear; equality is "xor is zero").
constexpr bool word_special(std::uint64_t w) {
  const std::uint64_t control = (w - 0x20 * ones) & ~w & highs;
  const std::uint64_t q = w ^ ('"' * ones);
  const std::uint64_t b = w ^ ('\\' * ones);
  const std::uint64_t quote = (q - ones) & ~q & highs;
  const std::uint64_t backslash = (b - ones) & ~b & highs;
  return (control | quote | backslash) != 0;
}

bool json_plain(std::string_view s) {
  std::uint64_t w = 'a' * ones;  // short strings are padded with a plain byte
  if (s.size() < 8) {
    if (!s.empty()) std::memcpy(&w, s.data(), s.size());
    return !word_special(w);
  }
  for (std::size_t i = 0; i + 8 < s.size(); i += 8) {
    std::memcpy(&w, s.data() + i, 8);
    if (word_special(w)) return false;
  }
  std::memcpy(&w, s.data() + s.size() - 8, 8);  // the last 8 bytes, overlapping
  return !word_special(w);
}

void append_string(net::byte_buffer& out, std::string_view s) {
  if (!json_plain(s)) {
    net::append_json_string(out, s);
    return;
  }
  char* p = out.prepare(s.size() + 2);
  p[0] = '"';
  if (!s.empty()) std::memcpy(p + 1, s.data(), s.size());
  p[s.size() + 1] = '"';
  out.commit(s.size() + 2);
}

void append_uint(net::byte_buffer& out, std::uint64_t v) {
  char buf[24];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, static_cast<std::size_t>(r.ptr - buf));
}

void append_int(net::byte_buffer& out, std::int64_t v) {
  char buf[24];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, static_cast<std::size_t>(r.ptr - buf));
}

void append_time(net::byte_buffer& out, std::int64_t unix_ms) {
  char buf[time_text_bytes];
  out.push_back('"');
  out.append(format_time_ms_into(buf, unix_ms));
  out.push_back('"');
}

// `"key":"VALUE"` for values known to need no escaping (codes and names from this module).
void append_code(net::byte_buffer& out, std::string_view key_with_colon, std::string_view code) {
  out.append(key_with_colon);
  out.push_back('"');
  out.append(code);
  out.push_back('"');
}

void append_band(net::byte_buffer& out, std::string_view key_with_colon, int tier) {
  out.append(key_with_colon);
  if (tier == no_band) {
    out.append("null");
  } else {
    append_int(out, tier);
  }
}

void append_thresholds(net::byte_buffer& out, const tier_thresholds& t) {
  out.append("\"thresholds\":{");
  for (std::size_t i = 0; i < t.at.size(); ++i) {
    if (i) out.push_back(',');
    out.append("\"tier");
    out.push_back(static_cast<char>('1' + i));
    out.append("\":{\"count\":");
    append_uint(out, t.at[i].count);
    out.append(",\"ageDays\":");
    append_uint(out, t.at[i].age_days);
    out.append(",\"partners\":");
    append_uint(out, t.at[i].partners);
    out.push_back('}');
  }
  out.push_back('}');
}

void append_claims(net::byte_buffer& out, const claim_summary& c) {
  out.append("\"claims\":{");
  for (std::size_t i = 0; i < claim_state_count; ++i) {
    if (i) out.push_back(',');
    out.push_back('"');
    out.append(claim_state_name(static_cast<claim_state>(i)));
    out.append("\":");
    append_uint(out, c.in_state[i]);
  }
  out.append(",\"latestUpheldAt\":");
  if (c.latest_upheld_ms == no_time_ms) {
    out.append("null");
  } else {
    append_time(out, c.latest_upheld_ms);
  }
  out.push_back('}');
}

void append_rules(net::byte_buffer& out, const decision_result& r) {
  out.append(",\"rules\":[");
  const auto& rules = r.action->rules;
  for (std::size_t i = 0; i < rules.size(); ++i) {
    if (i) out.push_back(',');
    out.append("{\"field\":");
    append_string(out, rules[i].field);
    append_code(out, ",\"op\":", rule_op_name(rules[i].op));
    append_code(out, ",\"atLeast\":", decision_name(rules[i].at_least));
    out.append(",\"reason\":");
    append_string(out, rules[i].reason);
    out.append((r.rules_matched >> i) & 1 ? ",\"matched\":true" : ",\"matched\":false");
    out.append((r.rules_tightened >> i) & 1 ? ",\"tightened\":true}" : ",\"tightened\":false}");
  }
  out.push_back(']');
}

void append_steps(net::byte_buffer& out, const decision_result& r) {
  out.append("\"steps\":[");
  for (std::size_t i = 0; i < decision_step_count; ++i) {
    const auto step = static_cast<decision_step>(i);
    const step_effect& e = r.steps[i];
    if (i) out.push_back(',');
    append_code(out, "{\"step\":", decision_step_name(step));
    out.append(e.evaluated ? ",\"evaluated\":true" : ",\"evaluated\":false");
    if (e.evaluated) {
      append_code(out, ",\"before\":", decision_name(e.before));
      append_code(out, ",\"after\":", decision_name(e.after));
    }
    if (step != decision_step::context) {
      out.append(",\"reason\":");
      if (e.reason.empty()) {
        out.append("null");
      } else {
        append_string(out, e.reason);
      }
    } else if (e.evaluated) {
      append_rules(out, r);
    }
    out.push_back('}');
  }
  out.push_back(']');
}

void append_signals(net::byte_buffer& out, const decision_result& r) {
  const evaluation_facts& f = r.facts;
  out.append(",\"signals\":{\"history\":{\"countedEvents\":");
  append_uint(out, r.signals.count);
  out.append(",\"ageDays\":");
  append_uint(out, r.signals.age_days);
  out.append(",\"partners\":");
  append_uint(out, r.signals.partners);
  out.append(",\"earliestCountedAt\":");
  if (f.history.counted_events == 0 || f.history.earliest_counted_ms == no_time_ms) {
    out.append("null");
  } else {
    append_time(out, f.history.earliest_counted_ms);
  }
  append_code(out, "},\"tierMode\":", tier_mode_name(f.mode));
  out.push_back(',');
  append_thresholds(out, *r.thresholds);
  out.push_back(',');
  append_claims(out, f.claims);
  append_code(out, ",\"actionPolicy\":{\"risk\":", risk_name(r.action->risk));
  append_band(out, ",\"allowTier\":", r.action->allow_tier);
  append_band(out, ",\"stepUpTier\":", r.action->step_up_tier);
  append_band(out, ",\"limitTier\":", r.action->limit_tier);
  append_code(out, "},\"agentStatus\":", agent_status_name(f.agent));
  out.push_back(',');
  append_steps(out, r);
  append_code(out, ",\"decidingStep\":", decision_step_name(r.deciding_step));
  out.push_back('}');
}

}  // namespace

namespace {

// "YYYY-MM-DDTHH:MM:SS" of a whole second (civil_from_days, H. Hinnant), years clamped to 0..9999.
void format_second(char* buf, std::int64_t days, std::int64_t second_of_day) {
  const std::int64_t z = days + 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const std::int64_t doe = z - era * 146097;
  const std::int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const std::int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const std::int64_t mp = (5 * doy + 2) / 153;
  const std::int64_t d = doy - (153 * mp + 2) / 5 + 1;
  const std::int64_t m = mp < 10 ? mp + 3 : mp - 9;
  std::int64_t y = yoe + era * 400 + (m <= 2 ? 1 : 0);
  y = y < 0 ? 0 : (y > 9999 ? 9999 : y);
  const auto put = [buf](std::size_t at, std::int64_t v, int digits) {
    for (int i = digits - 1; i >= 0; --i) {
      buf[at + static_cast<std::size_t>(i)] = static_cast<char>('0' + v % 10);
      v /= 10;
    }
  };
  put(0, y, 4);
  buf[4] = '-';
  put(5, m, 2);
  buf[7] = '-';
  put(8, d, 2);
  buf[10] = 'T';
  put(11, second_of_day / 3600, 2);
  buf[13] = ':';
  put(14, second_of_day / 60 % 60, 2);
  buf[16] = ':';
  put(17, second_of_day % 60, 2);
}

}  // namespace

std::string_view format_time_ms_into(char (&buf)[time_text_bytes], std::int64_t unix_ms) {
  std::int64_t seconds = unix_ms / 1000;
  std::int64_t ms = unix_ms % 1000;
  if (ms < 0) {
    ms += 1000;
    seconds -= 1;
  }
  // Answers in the same second share their date and time: this thread keeps the last one.
  thread_local std::int64_t cached_second = std::numeric_limits<std::int64_t>::min();
  thread_local char cached[19];
  if (seconds != cached_second) {
    std::int64_t days = seconds / 86'400;
    std::int64_t second_of_day = seconds % 86'400;
    if (second_of_day < 0) {
      second_of_day += 86'400;
      days -= 1;
    }
    format_second(cached, days, second_of_day);
    cached_second = seconds;
  }
  std::memcpy(buf, cached, sizeof cached);
  buf[19] = '.';
  buf[20] = static_cast<char>('0' + ms / 100);
  buf[21] = static_cast<char>('0' + ms / 10 % 10);
  buf[22] = static_cast<char>('0' + ms % 10);
  buf[23] = 'Z';
  return {buf, time_text_bytes};
}

namespace {

// Writes the answer's fixed fields through one raw cursor into room reserved once: literals
// are fixed-size copies the compiler inlines, so the common answer costs a handful of calls.
class cursor {
 public:
  cursor(net::byte_buffer& out, std::size_t bound) : _out(out), _start(out.prepare(bound)), _p(_start), _bound(bound) {}
  ~cursor() {
    const auto used = static_cast<std::size_t>(_p - _start);
    if (used > _bound) std::abort();  // wrote past the reserved room: the bound is wrong
    _out.commit(used);
  }
  cursor(const cursor&) = delete;
  cursor& operator=(const cursor&) = delete;

  template <std::size_t N>
  void lit(const char (&s)[N]) {
    std::memcpy(_p, s, N - 1);
    _p += N - 1;
  }
  void raw(std::string_view s) {
    if (s.empty()) return;
    std::memcpy(_p, s.data(), s.size());
    _p += s.size();
  }
  void code(std::string_view s) {  // a name of this module: no escaping needed
    *_p++ = '"';
    raw(s);
    *_p++ = '"';
  }
  void str(std::string_view s) {
    *_p++ = '"';
    if (json_plain(s)) {
      raw(s);
    } else {
      escape(s);
    }
    *_p++ = '"';
  }
  void integer(std::int64_t v) { _p = std::to_chars(_p, _p + 20, v).ptr; }

  // Room `str` may need for s: every byte escaped as \u00XX, plus quotes.
  static std::size_t str_bound(std::string_view s) { return 6 * s.size() + 2; }

 private:
  // RFC 8259 escaping, as net::append_json_string does it.
  void escape(std::string_view s) {
    static constexpr char hex[] = "0123456789abcdef";
    for (const char ch : s) {
      const auto c = static_cast<unsigned char>(ch);
      if (c >= 0x20 && c != '"' && c != '\\') {
        *_p++ = ch;
        continue;
      }
      *_p++ = '\\';
      switch (c) {
        case '"': *_p++ = '"'; break;
        case '\\': *_p++ = '\\'; break;
        case '\n': *_p++ = 'n'; break;
        case '\r': *_p++ = 'r'; break;
        case '\t': *_p++ = 't'; break;
        default:
          *_p++ = 'u';
          *_p++ = '0';
          *_p++ = '0';
          *_p++ = hex[c >> 4];
          *_p++ = hex[c & 0xf];
      }
    }
  }

  net::byte_buffer& _out;
  char* const _start;
  char* _p;
  const std::size_t _bound;
};

}  // namespace

void append_decision_fields(net::byte_buffer& out, const decision_fields& f) {
  std::size_t bound = 320 + cursor::str_bound(f.correlation_id) + cursor::str_bound(f.action) +
                      cursor::str_bound(f.actor_id) + cursor::str_bound(f.policy_version) +
                      (f.why_json.empty() ? cursor::str_bound(f.why_plain) : f.why_json.size());
  for (std::size_t i = 0; i < f.reason_count; ++i) bound += cursor::str_bound(f.reasons[i]) + 1;
  cursor c(out, bound);
  c.lit("\"decision\":");
  c.code(decision_name(f.outcome));
  c.lit(",\"decision_correlation_id\":");
  c.code(f.correlation_id);  // a UUID we made, or one is_uuid checked: no escaping needed
  c.lit(",\"tier\":");
  c.integer(f.tier);
  c.lit(",\"requiredTier\":");
  c.integer(f.required_tier);
  c.lit(",\"claimStatus\":");
  c.code(claim_status_name(f.claims));
  c.lit(",\"whyRec\":");
  if (!f.why_json.empty()) {
    c.raw(f.why_json);  // pre-rendered with the policy, quotes included
  } else {
    c.str(f.why_plain);
  }
  c.lit(",\"reasons\":[");
  for (std::size_t i = 0; i < f.reason_count; ++i) {
    if (i) c.lit(",");
    c.code(f.reasons[i]);  // [A-Z0-9_]: built in, or checked by the policy loader
  }
  c.lit("],\"action\":");
  c.code(f.action);  // letters, digits and . _ - : (policy loader)
  c.lit(",\"actor\":{\"type\":");
  c.code(actor_type_name(f.actor));
  c.lit(",\"id\":");
  c.str(f.actor_id);
  c.lit("},\"policyVersion\":");
  c.str(f.policy_version);
  c.lit(",\"evaluatedAt\":\"");
  char time[time_text_bytes];
  c.raw(format_time_ms_into(time, f.evaluated_at_ms));
  c.lit("\"");
}

void append_decision_fields(net::byte_buffer& out, const evaluation_response& resp) {
  const decision_result& r = *resp.result;
  why_text why;
  if (r.why_json.empty()) render_why(r, why);  // a result not made by decide()
  decision_fields f;
  f.outcome = r.outcome;
  f.correlation_id = resp.correlation_id;
  f.tier = r.tier;
  f.required_tier = r.required_tier;
  f.claims = r.claims;
  f.why_json = r.why_json;
  f.why_plain = why.view();
  f.reasons = r.reasons.data();
  f.reason_count = r.reason_count;
  f.action = r.action->name;
  f.actor = resp.actor;
  f.actor_id = resp.actor_id;
  f.policy_version = resp.policy_version;
  f.evaluated_at_ms = resp.evaluated_at_ms;
  append_decision_fields(out, f);
  if (resp.debug) append_signals(out, r);
}

void append_evaluation_json(net::byte_buffer& out, const evaluation_response& resp) {
  out.push_back('{');
  append_decision_fields(out, resp);
  out.push_back('}');
}

}  // namespace warrant::engine::evidence

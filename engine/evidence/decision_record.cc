#include "engine/evidence/decision_record.h"

#include <algorithm>
#include <cassert>
#include <cstdint>
#include <cstring>
#include <type_traits>

#include "engine/common/ids.h"
#include "storage/record.h"

namespace warrant::engine::evidence {
namespace {

// Field tags of single records (on disk, never reused): docs/storage-format.md.
enum : std::uint8_t {
  tag_version = 1,
  tag_correlation_id = 2,
  tag_workspace_id = 3,
  tag_evaluated_at = 4,
  tag_decision = 5,
  tag_action = 6,
  tag_actor_type = 7,
  tag_actor_id = 8,
  tag_policy_version = 9,
  tag_tier = 10,
  tag_required_tier = 11,
  tag_claim_status = 12,
  tag_reason = 13,  // repeated, in order
  tag_answer = 14,
};

// Field tags of groups, and of one item inside a group's item field.
enum : std::uint8_t {
  group_version = 1,
  group_evaluated_at = 2,
  group_policy_version = 3,
  group_item = 4,  // repeated, in index order; empty: no decision at this index
  group_workspace = 5,  // written since groups are keyed by group id (decision_group_key)
};
enum : std::uint8_t {
  item_decision = 1,      // 0 ALLOW, 1 STEP_UP, 2 LIMIT, 3 DENY
  item_tier = 2,
  item_required_tier = 3,
  item_claim_status = 4,  // 0 clean, 1 contested, 2 flagged
  item_action = 5,
  item_actor_type = 6,    // 0 human, 1 service
  item_actor_id = 7,
  item_why = 8,           // whyRec, the JSON string literal sent
  item_reason = 9,        // repeated, in order
  item_why_ref = 10,      // instead of item_why: the group's n-th item_why literal (from 0)
  // Group version 2 writes these instead of 1-4, 6, and of 5 and 9 when they repeat:
  item_codes = 11,        // decision, claim status, actor type (one byte each), tier, requiredTier (varints)
  item_action_ref = 12,   // instead of item_action: the group's n-th item_action literal (from 0)
  item_reason_ref = 13,   // instead of item_reason: the group's n-th item_reason literal (from 0)
};

// The on-disk codes are the enums' values: pin them.
static_assert(static_cast<int>(decision::allow) == 0 && static_cast<int>(decision::step_up) == 1 &&
              static_cast<int>(decision::limit) == 2 && static_cast<int>(decision::deny) == 3);
static_assert(static_cast<int>(claim_status::clean) == 0 && static_cast<int>(claim_status::contested) == 1 &&
              static_cast<int>(claim_status::flagged) == 2);
static_assert(static_cast<int>(actor_type::human) == 0 && static_cast<int>(actor_type::service) == 1);

// The largest tier or requiredTier a stored decision may hold (a reader refuses more).
constexpr std::uint64_t stored_tier_max = 1'000'000;

void put_bytes(std::string& out, std::uint8_t tag, std::string_view v) {
  out.push_back(static_cast<char>(tag));
  storage::append_varint(out, v.size());
  out.append(v);
}

void put_u64(std::string& out, std::uint8_t tag, std::uint64_t v) {
  char buf[10];
  std::size_t n = 0;
  do {
    std::uint8_t b = v & 0x7f;
    v >>= 7;
    if (v != 0) b |= 0x80;
    buf[n++] = static_cast<char>(b);
  } while (v != 0);
  put_bytes(out, tag, {buf, n});
}

// A varint field's value as T, refusing values above `max`.
template <typename T>
bool number(std::string_view v, std::uint64_t max, T& into) {
  const auto n = storage::field_reader::as_u64(v);
  if (!n || *n > max) return false;
  into = static_cast<T>(*n);
  return true;
}

// The literals a group's items have written so far, per kind, for the *_ref fields.
struct group_literals {
  std::vector<std::string_view> whys;
  std::vector<std::string_view> actions;
  std::vector<std::string_view> reasons;
};

// The n-th literal of `kind` into `into`; false when that literal is not written yet.
bool literal_ref(std::string_view v, const std::vector<std::string_view>& kind, std::string_view& into) {
  std::size_t n = 0;
  if (!number(v, UINT64_MAX, n) || n >= kind.size()) return false;
  into = kind[n];
  return true;
}

// item_codes: three code bytes, then tier and requiredTier as varints.
bool codes(std::string_view v, stored_decision& d) {
  if (v.size() < 5) return false;
  const auto b = [&](std::size_t i) { return static_cast<std::uint8_t>(v[i]); };
  if (b(0) > 3 || b(1) > 2 || b(2) > 1) return false;
  d.outcome = static_cast<decision>(b(0));
  d.claims = static_cast<claim_status>(b(1));
  d.actor = static_cast<actor_type>(b(2));
  std::string_view tiers = v.substr(3);
  std::uint64_t tier = 0;
  std::uint64_t required = 0;
  if (!storage::read_varint(tiers, tier) || !storage::read_varint(tiers, required) || !tiers.empty()) return false;
  if (tier > stored_tier_max || required > stored_tier_max) return false;
  d.tier = static_cast<int>(tier);
  d.required_tier = static_cast<int>(required);
  return true;
}

bool decode_item(std::string_view bytes, group_literals& literals, stored_decision& d) {
  d = stored_decision{};
  if (bytes.empty()) return true;  // no decision at this index
  storage::field_reader r(bytes);
  std::uint8_t tag = 0;
  std::string_view v;
  bool have_decision = false;
  while (r.next(tag, v)) {
    bool ok = true;
    switch (tag) {
      case item_decision: ok = have_decision = number(v, 3, d.outcome); break;
      case item_tier: ok = number(v, stored_tier_max, d.tier); break;
      case item_required_tier: ok = number(v, stored_tier_max, d.required_tier); break;
      case item_claim_status: ok = number(v, 2, d.claims); break;
      case item_action:
        d.action = v;
        literals.actions.push_back(v);
        break;
      case item_action_ref: ok = literal_ref(v, literals.actions, d.action); break;
      case item_actor_type: ok = number(v, 1, d.actor); break;
      case item_actor_id: d.actor_id = v; break;
      case item_why:
        d.why_json = v;
        literals.whys.push_back(v);
        break;
      case item_why_ref: ok = literal_ref(v, literals.whys, d.why_json); break;
      case item_reason:
      case item_reason_ref:
        ok = d.reason_count < d.reasons.size();
        if (!ok) break;
        if (tag == item_reason) {
          d.reasons[d.reason_count] = v;
          literals.reasons.push_back(v);
        } else {
          ok = literal_ref(v, literals.reasons, d.reasons[d.reason_count]);
        }
        ++d.reason_count;
        break;
      case item_codes: ok = have_decision = codes(v, d); break;
      default: break;  // a newer writer's field
    }
    if (!ok) return false;
  }
  // whyRec is rendered raw: it must at least be a string literal.
  const bool why_ok = d.why_json.size() >= 2 && d.why_json.front() == '"' && d.why_json.back() == '"';
  if (r.malformed() || !have_decision || d.action.empty() || d.actor_id.empty() || !why_ok) return false;
  d.decided = true;
  return true;
}

constexpr char hex_digits[] = "0123456789abcdef";

}  // namespace

// ---- groups -------------------------------------------------------------------------------

decision_group_writer::decision_group_writer(std::string& out, std::int64_t evaluated_at_ms,
                                             std::string_view policy_version, std::string_view workspace_id)
    : _out(out) {
  _out.clear();
  put_u64(_out, group_version, decision_group_version);
  put_u64(_out, group_evaluated_at, static_cast<std::uint64_t>(evaluated_at_ms));
  put_bytes(_out, group_policy_version, policy_version);
  put_bytes(_out, group_workspace, workspace_id);
}

namespace {

constexpr std::size_t varint_bytes(std::uint64_t v) {
  std::size_t n = 1;
  while (v >= 0x80) {
    v >>= 7;
    ++n;
  }
  return n;
}

// Bytes of one field holding `value_bytes` bytes.
constexpr std::size_t field_bytes(std::size_t value_bytes) { return 1 + varint_bytes(value_bytes) + value_bytes; }
constexpr std::size_t u64_field_bytes(std::uint64_t v) { return field_bytes(varint_bytes(v)); }

// Writes fields through a raw cursor into room measured beforehand (the bulk route encodes up
// to 1000 items per request: one resize per item, no per-byte push_back).
class field_cursor {
 public:
  explicit field_cursor(char* p) : _p(p) {}
  void varint(std::uint64_t v) {
    while (v >= 0x80) {
      *_p++ = static_cast<char>((v & 0x7f) | 0x80);
      v >>= 7;
    }
    *_p++ = static_cast<char>(v);
  }
  void bytes(std::uint8_t tag, std::string_view v) {
    *_p++ = static_cast<char>(tag);
    varint(v.size());
    if (!v.empty()) std::memcpy(_p, v.data(), v.size());
    _p += v.size();
  }
  void byte(std::uint8_t b) { *_p++ = static_cast<char>(b); }
  void field(std::uint8_t tag, std::size_t value_bytes) {  // a field's tag and length; its value follows
    *_p++ = static_cast<char>(tag);
    varint(value_bytes);
  }
  void u64(std::uint8_t tag, std::uint64_t v) {
    *_p++ = static_cast<char>(tag);
    varint(varint_bytes(v));
    varint(v);
  }
  char* at() const { return _p; }

 private:
  char* _p;
};

}  // namespace

std::optional<std::size_t> decision_group_writer::literals::find_equal(std::string_view s) const {
  for (std::size_t i = 0; i < _remembered_count; ++i) {
    const entry& e = _remembered[i];
    if (e.size == s.size() && std::string_view(e.data, e.size) == s) return e.number;
  }
  return std::nullopt;
}

void decision_group_writer::literals::written(std::string_view s) {
  if (_remembered_count < _remembered.size()) _remembered[_remembered_count++] = {s.data(), s.size(), _written};
  ++_written;
}

void decision_group_writer::add(const decision_item_view& d) {
  assert(_items < decision_group_items_max);
  assert(d.why_json.size() >= 2);  // decide() always points at a sentence of the policy's table
  assert(d.reason_count <= reasons_max);
  assert(d.tier >= 0 && d.tier <= static_cast<int>(stored_tier_max) && d.required_tier >= 0 &&
         d.required_tier <= static_cast<int>(stored_tier_max));
  const auto tier = static_cast<std::uint64_t>(d.tier);
  const auto required = static_cast<std::uint64_t>(d.required_tier);
  const std::size_t codes_bytes = 3 + varint_bytes(tier) + varint_bytes(required);
  // A string field, or a reference to the same string written earlier in the group.
  const auto string_bytes = [](std::optional<std::size_t> ref, std::string_view s) {
    return ref ? u64_field_bytes(*ref) : field_bytes(s.size());
  };
  const std::optional<std::size_t> action_ref = _actions.find(d.action);
  const std::optional<std::size_t> why_ref = _whys.find(d.why_json);
  std::array<std::optional<std::size_t>, reasons_max> reason_refs{};
  std::size_t item = field_bytes(codes_bytes) + string_bytes(action_ref, d.action) + field_bytes(d.actor_id.size()) +
                     string_bytes(why_ref, d.why_json);
  for (std::size_t i = 0; i < d.reason_count; ++i) {
    reason_refs[i] = _reasons.find(d.reasons[i]);
    item += string_bytes(reason_refs[i], d.reasons[i]);
  }
  const std::size_t at = _out.size();
  _out.resize(at + field_bytes(item));
  _out[at] = static_cast<char>(group_item);
  field_cursor c(_out.data() + at + 1);
  c.varint(item);
  c.field(item_codes, codes_bytes);
  c.byte(static_cast<std::uint8_t>(d.outcome));
  c.byte(static_cast<std::uint8_t>(d.claims));
  c.byte(static_cast<std::uint8_t>(d.actor));
  c.varint(tier);
  c.varint(required);
  const auto string = [&c](literals& kind, std::optional<std::size_t> ref, std::uint8_t tag, std::uint8_t ref_tag,
                           std::string_view s) {
    if (ref) {
      c.u64(ref_tag, *ref);
    } else {
      c.bytes(tag, s);
      kind.written(s);
    }
  };
  string(_actions, action_ref, item_action, item_action_ref, d.action);
  c.bytes(item_actor_id, d.actor_id);
  string(_whys, why_ref, item_why, item_why_ref, d.why_json);
  for (std::size_t i = 0; i < d.reason_count; ++i) {
    string(_reasons, reason_refs[i], item_reason, item_reason_ref, d.reasons[i]);
  }
  assert(c.at() == _out.data() + _out.size());
  ++_items;
}

void decision_group_writer::skip() {
  assert(_items < decision_group_items_max);
  put_bytes(_out, group_item, {});
  ++_items;
}

bool decode_decision_group(std::string_view payload, std::size_t index, decision_group_header& h,
                           stored_decision& item) {
  h = decision_group_header{};
  item = stored_decision{};
  storage::field_reader r(payload);
  std::uint8_t tag = 0;
  std::string_view v;
  stored_decision scratch;
  group_literals literals;  // every literal so far, for the *_ref fields
  while (r.next(tag, v)) {
    bool ok = true;
    switch (tag) {
      case group_version: ok = number(v, 255, h.version); break;
      case group_evaluated_at: ok = number(v, UINT64_MAX, h.evaluated_at_ms); break;
      case group_policy_version: h.policy_version = v; break;
      case group_workspace: h.workspace_id = v; break;
      case group_item:
        ok = h.items < decision_group_items_max && decode_item(v, literals, h.items == index ? item : scratch);
        ++h.items;
        break;
      default: break;  // a newer writer's field
    }
    if (!ok) return false;
  }
  return !r.malformed() && h.version != 0 && h.items > 0;
}

void make_bulk_group_id(char* id36) {
  for (std::size_t i = 36 - decision_id_index_digits; i < 36; ++i) id36[i] = '0';
}

void bulk_item_id(const char* group_id36, std::size_t index, char* out36) {
  assert(index < decision_group_items_max);
  if (out36 != group_id36) std::copy(group_id36, group_id36 + 36, out36);
  out36[33] = hex_digits[(index >> 8) & 0xf];
  out36[34] = hex_digits[(index >> 4) & 0xf];
  out36[35] = hex_digits[index & 0xf];
}

bool group_of(std::string_view id, std::string& group_id, std::size_t& index) {
  if (id.size() != 36) return false;
  index = 0;
  for (std::size_t i = 33; i < 36; ++i) {
    const char c = id[i];
    int d = -1;
    if (c >= '0' && c <= '9') d = c - '0';
    if (c >= 'a' && c <= 'f') d = c - 'a' + 10;
    if (d < 0) return false;
    index = index * 16 + static_cast<std::size_t>(d);
  }
  if (index == 0) return false;
  group_id.assign(id);
  make_bulk_group_id(group_id.data());
  return true;
}

// ---- single records -----------------------------------------------------------------------

void encode_decision_payload(std::string& out, const decision_record_view& d) {
  put_u64(out, tag_version, decision_record_version);
  put_bytes(out, tag_correlation_id, d.correlation_id);
  put_bytes(out, tag_workspace_id, d.workspace_id);
  put_u64(out, tag_evaluated_at, static_cast<std::uint64_t>(d.evaluated_at_ms));
  put_bytes(out, tag_decision, d.decision);
  put_bytes(out, tag_action, d.action);
  put_bytes(out, tag_actor_type, d.actor_type);
  put_bytes(out, tag_actor_id, d.actor_id);
  put_bytes(out, tag_policy_version, d.policy_version);
  put_u64(out, tag_tier, static_cast<std::uint64_t>(d.tier));
  put_u64(out, tag_required_tier, static_cast<std::uint64_t>(d.required_tier));
  put_bytes(out, tag_claim_status, d.claim_status);
  for (std::size_t i = 0; i < d.reason_count; ++i) put_bytes(out, tag_reason, d.reasons[i]);
  put_bytes(out, tag_answer, d.answer);
}

std::optional<decision_record> decode_decision_payload(std::string_view payload) {
  decision_record d;
  storage::field_reader r(payload);
  std::uint8_t tag = 0;
  std::string_view v;
  auto number = [&v](auto& into) {
    const auto n = storage::field_reader::as_u64(v);
    if (!n) return false;
    into = static_cast<std::remove_reference_t<decltype(into)>>(*n);
    return true;
  };
  while (r.next(tag, v)) {
    bool ok = true;
    switch (tag) {
      case tag_version: ok = number(d.version); break;
      case tag_correlation_id: d.correlation_id = v; break;
      case tag_workspace_id: d.workspace_id = v; break;
      case tag_evaluated_at: ok = number(d.evaluated_at_ms); break;
      case tag_decision: d.decision = v; break;
      case tag_action: d.action = v; break;
      case tag_actor_type: d.actor_type = v; break;
      case tag_actor_id: d.actor_id = v; break;
      case tag_policy_version: d.policy_version = v; break;
      case tag_tier: ok = number(d.tier); break;
      case tag_required_tier: ok = number(d.required_tier); break;
      case tag_claim_status: d.claim_status = v; break;
      case tag_reason: d.reasons.emplace_back(v); break;
      case tag_answer: d.answer = v; break;
      default: break;  // a newer writer's field
    }
    if (!ok) return std::nullopt;
  }
  if (r.malformed() || d.version == 0 || d.correlation_id.empty() || d.workspace_id.empty() || d.answer.empty()) {
    return std::nullopt;
  }
  return d;
}

bool append_decision_group_key(std::string& out, std::string_view group_id) {
  if (!is_uuid(group_id)) return false;
  const std::size_t at = out.size();
  out.resize(at + decision_group_key_bytes);
  std::size_t o = at;
  for (std::size_t i = 0; i < group_id.size(); i += 2) {
    if (group_id[i] == '-') ++i;  // the hyphens sit before an even number of hex digits
    auto nibble = [](char c) { return c <= '9' ? c - '0' : c - 'a' + 10; };
    out[o++] = static_cast<char>(nibble(group_id[i]) << 4 | nibble(group_id[i + 1]));
  }
  return true;
}

void append_decision_key(std::string& out, std::string_view workspace_id, std::string_view id) {
  out.append(workspace_id);
  out.push_back('\0');
  out.append(id);
}

std::string decision_key(std::string_view workspace_id, std::string_view id) {
  std::string key;
  append_decision_key(key, workspace_id, id);
  return key;
}

decision_item_view decision_item_of(const evaluate_request& req, const decision_result& r) {
  decision_item_view d;
  d.outcome = r.outcome;
  d.tier = r.tier;
  d.required_tier = r.required_tier;
  d.claims = r.claims;
  d.actor = req.actor;
  d.action = req.action->name;
  d.actor_id = req.actor_id;
  d.why_json = r.why_json;
  d.reasons = r.reasons.data();
  d.reason_count = r.reason_count;
  return d;
}

}  // namespace warrant::engine::evidence

#include "engine/evidence/policy.h"

#include <algorithm>
#include <bit>
#include <cassert>
#include <cstring>

#include "engine/evidence/decision.h"
#include "net/byte_buffer.h"
#include "net/http_response.h"

namespace warrant::engine::evidence {

std::string_view risk_name(risk_level r) {
  switch (r) {
    case risk_level::low: return "low";
    case risk_level::medium: return "medium";
    case risk_level::high: return "high";
    case risk_level::critical: return "critical";
  }
  return "";
}

std::string_view decision_name(decision d) {
  switch (d) {
    case decision::allow: return "ALLOW";
    case decision::step_up: return "STEP_UP";
    case decision::limit: return "LIMIT";
    case decision::deny: return "DENY";
  }
  return "";
}

std::optional<risk_level> risk_from_name(std::string_view s) {
  for (auto r : {risk_level::low, risk_level::medium, risk_level::high, risk_level::critical}) {
    if (risk_name(r) == s) return r;
  }
  return std::nullopt;
}

std::optional<decision> decision_from_name(std::string_view s) {
  for (auto d : {decision::allow, decision::step_up, decision::limit, decision::deny}) {
    if (decision_name(d) == s) return d;
  }
  return std::nullopt;
}

std::string_view rule_op_name(rule_op op) {
  switch (op) {
    case rule_op::gt: return "gt";
    case rule_op::gte: return "gte";
    case rule_op::lt: return "lt";
    case rule_op::lte: return "lte";
    case rule_op::eq: return "eq";
    case rule_op::ne: return "ne";
    case rule_op::in: return "in";
  }
  return "";
}

std::string_view value_kind_name(value_kind k) {
  switch (k) {
    case value_kind::number: return "number";
    case value_kind::string: return "string";
    case value_kind::boolean: return "boolean";
  }
  return "";
}

// Runs once per evaluation: 8 bytes at a time (the last word overlapping), not byte by byte.
std::uint64_t policy_name_hash(std::string_view s) {
  const auto mix = [](std::uint64_t h, std::uint64_t w) {
    h ^= w * 0xc2b2ae3d27d4eb4full;
    return (h ^ (h >> 29)) * 0xbf58476d1ce4e5b9ull;
  };
  std::uint64_t h = s.size() * 0x9e3779b97f4a7c15ull;
  std::uint64_t w = 0;
  if (s.size() < 8) {
    if (!s.empty()) std::memcpy(&w, s.data(), s.size());
    h = mix(h, w);
  } else {
    for (std::size_t at = 0; at + 8 < s.size(); at += 8) {
      std::memcpy(&w, s.data() + at, 8);
      h = mix(h, w);
    }
    std::memcpy(&w, s.data() + s.size() - 8, 8);
    h = mix(h, w);
  }
  return h ^ (h >> 32);
}

namespace {

void append_band(net::byte_buffer& out, std::string_view key, int tier) {
  out.append(key);
  if (tier == no_band) {
    out.append("null");
  } else {
    out.push_back(static_cast<char>('0' + tier));
  }
}

void append_rule_value(net::byte_buffer& out, const rule_value& v) {
  if (v.kind == value_kind::string) {
    net::append_json_string(out, v.text);
  } else {
    out.append(v.text);  // numbers are stored in JSON form; booleans as true/false
  }
}

void append_rule(net::byte_buffer& out, const context_rule& r) {
  out.append("{\"field\":");
  net::append_json_string(out, r.field);
  out.append(",\"");
  out.append(rule_op_name(r.op));
  out.append("\":");
  if (r.op == rule_op::in) {
    out.push_back('[');
    for (std::size_t i = 0; i < r.values.size(); ++i) {
      if (i) out.push_back(',');
      append_rule_value(out, r.values[i]);
    }
    out.push_back(']');
  } else {
    append_rule_value(out, r.values.front());
  }
  out.append(",\"atLeast\":\"");
  out.append(decision_name(r.at_least));
  out.append("\",\"reason\":");
  net::append_json_string(out, r.reason);
  out.push_back('}');
}

void append_action(net::byte_buffer& out, const action_policy& a) {
  out.append("{\"action\":");
  net::append_json_string(out, a.name);
  out.append(",\"risk\":\"");
  out.append(risk_name(a.risk));
  out.push_back('"');
  append_band(out, ",\"allowTier\":", a.allow_tier);
  append_band(out, ",\"stepUpTier\":", a.step_up_tier);
  append_band(out, ",\"limitTier\":", a.limit_tier);
  out.append(",\"rules\":[");
  for (std::size_t i = 0; i < a.rules.size(); ++i) {
    if (i) out.push_back(',');
    append_rule(out, a.rules[i]);
  }
  out.append("]}");
}

}  // namespace

policy::policy(policy_parts parts) : _parts(std::move(parts)) {
  std::sort(_parts.namespace_modes.begin(), _parts.namespace_modes.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });

  // At most half full, so a miss ends at an empty slot after a probe or two.
  const std::size_t n = _parts.actions.size();
  assert(n <= actions_max);
  const std::size_t slots = std::bit_ceil(std::max<std::size_t>(8, n * 2));
  _action_slots.assign(slots, 0);
  _slot_mask = slots - 1;
  for (std::size_t row = 0; row < n; ++row) {
    std::size_t at = policy_name_hash(_parts.actions[row].name) & _slot_mask;
    while (_action_slots[at] != 0) at = (at + 1) & _slot_mask;
    _action_slots[at] = static_cast<std::uint16_t>(row + 1);
  }

  net::byte_buffer all;
  all.append("{\"policyVersion\":");
  net::append_json_string(all, _parts.version);
  all.append(",\"actions\":[");
  _action_json.reserve(n);
  for (std::size_t row = 0; row < n; ++row) {
    net::byte_buffer one;
    append_action(one, _parts.actions[row]);
    _action_json.emplace_back(one.view());
    if (row) all.push_back(',');
    all.append(one.view());
  }
  all.append("]}");
  _actions_json.assign(all.view());

  net::byte_buffer version;
  net::append_json_string(version, _parts.version);
  _version_json.assign(version.view());
  _why_json.reserve(n);
  for (const action_policy& a : _parts.actions) _why_json.push_back(render_why_table(a));
}

std::shared_ptr<const policy> policy::make(policy_parts parts) {
  return std::make_shared<const policy>(std::move(parts));
}

tier_mode policy::mode_for(std::string_view identity_namespace) const {
  const auto& modes = _parts.namespace_modes;
  auto it = std::lower_bound(modes.begin(), modes.end(), identity_namespace,
                             [](const auto& entry, std::string_view key) { return entry.first < key; });
  if (it != modes.end() && it->first == identity_namespace) return it->second;
  return _parts.default_mode;
}

const action_policy* policy::find_action(std::string_view name) const {
  std::size_t at = policy_name_hash(name) & _slot_mask;
  while (const std::uint16_t slot = _action_slots[at]) {
    const action_policy& a = _parts.actions[slot - 1u];
    if (a.name == name) return &a;
    at = (at + 1) & _slot_mask;
  }
  return nullptr;
}

std::optional<std::size_t> policy::find_context_field(std::string_view name) const {
  const auto& fields = _parts.context_fields;
  for (std::size_t i = 0; i < fields.size(); ++i) {
    if (fields[i].name == name) return i;
  }
  return std::nullopt;
}

std::string_view policy::why_json(const action_policy& a, std::size_t slot) const {
  const std::size_t row = static_cast<std::size_t>(&a - _parts.actions.data());
  assert(row < _why_json.size() && slot < _why_json[row].size());
  if (row >= _why_json.size() || slot >= _why_json[row].size()) return "\"\"";
  return _why_json[row][slot];
}

std::string_view policy::action_json(const action_policy& a) const {
  const std::size_t row = static_cast<std::size_t>(&a - _parts.actions.data());
  assert(row < _action_json.size());
  return _action_json[row];
}

}  // namespace warrant::engine::evidence

#include "engine/evidence/policy_load.h"

#include <fmt/format.h>
#include <openssl/evp.h>
#include <yaml-cpp/yaml.h>

#include <array>
#include <charconv>
#include <cmath>
#include <fstream>
#include <initializer_list>
#include <system_error>
#include <unordered_map>
#include <utility>

namespace warrant::engine::evidence {

std::string policy_error::to_string() const {
  if (line == 0) return message;
  if (column == 0) return fmt::format("line {}: {}", line, message);
  return fmt::format("line {}, column {}: {}", line, column, message);
}

namespace {

using keys = std::initializer_list<std::string_view>;
constexpr const keys* any_key = nullptr;

// Reason codes the decision function itself emits; a rule may not reuse them.
constexpr std::array<std::string_view, 9> builtin_reasons = {
    "TIER_SUFFICIENT",   "TIER_STEP_UP_BAND", "TIER_LIMIT_BAND", "TIER_BELOW_ALLOW", "TIER_BELOW_ALL_BANDS",
    "CLAIMS_FLAGGED",    "CLAIMS_CONTESTED",  "AGENT_SUSPENDED", "AGENT_REVOKED",
};

std::string join(keys allowed) {
  std::string out;
  for (std::string_view k : allowed) {
    if (!out.empty()) out += ", ";
    out += k;
  }
  return out;
}

bool plain(const YAML::Node& n) { return n.Tag() == "?"; }  // an unquoted, untagged scalar

std::string_view kind_of(const YAML::Node& n) {
  if (!n.IsDefined() || n.IsNull()) return "nothing";
  if (n.IsMap()) return "a mapping";
  if (n.IsSequence()) return "a list";
  return plain(n) ? "a plain scalar" : "a string";
}

bool name_chars_ok(std::string_view s, bool upper_only) {
  if (s.empty()) return false;
  for (const char c : s) {
    const bool ok = upper_only ? ((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_')
                               : ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                                  c == '_' || c == '.' || c == '-' || c == ':');
    if (!ok) return false;
  }
  return true;
}

class loader {
 public:
  policy_error error;

  bool fail(const YAML::Mark& at, std::string message) {
    error.line = at.line >= 0 ? at.line + 1 : 0;
    error.column = at.line >= 0 ? at.column + 1 : 0;
    error.message = std::move(message);
    return false;
  }
  bool fail(const YAML::Node& at, std::string message) { return fail(at.Mark(), std::move(message)); }

  // Calls f(key, value) for each entry of the mapping `map` (`what` names it in messages),
  // refusing keys outside `allowed` and keys given twice.
  template <typename F>
  bool entries(const YAML::Node& map, std::string_view what, keys allowed, F&& f) {
    return entries(map, what, &allowed, std::forward<F>(f));
  }
  // The same with any key allowed (allowed == nullptr).
  template <typename F>
  bool entries(const YAML::Node& map, std::string_view what, const keys* allowed, F&& f) {
    if (!map.IsMap()) return fail(map, fmt::format("{} must be a mapping, not {}", what, kind_of(map)));
    std::unordered_map<std::string, int> seen;  // key -> line; namespaces may be many
    for (auto it = map.begin(); it != map.end(); ++it) {
      // Copies (cheap handles): `it->` yields a temporary proxy, so references would dangle.
      const YAML::Node key_node = it->first;
      const YAML::Node value = it->second;
      if (!key_node.IsScalar()) return fail(key_node, fmt::format("a key of {} must be a name", what));
      const std::string key = key_node.Scalar();
      bool known = allowed == nullptr;
      if (allowed != nullptr) {
        for (std::string_view k : *allowed) known = known || k == key;
      }
      if (!known) {
        return fail(key_node, fmt::format("unknown key '{}' in {}; expected one of: {}", key, what, join(*allowed)));
      }
      const auto [first, fresh] = seen.emplace(key, key_node.Mark().line + 1);
      if (!fresh) {
        return fail(key_node, fmt::format("duplicate key '{}' in {} (first at line {})", key, what, first->second));
      }
      // Said at the key: yaml-cpp places an empty value at the start of the next line.
      if (value.IsNull()) return fail(key_node, fmt::format("'{}' in {} has no value", key, what));
      if (!f(std::string_view(key), value)) return false;
    }
    return true;
  }

  // Requires `key` to be present in `map` (already walked); `what` names the mapping.
  bool require(const YAML::Node& map, std::string_view key, std::string_view what) {
    if (map[std::string(key)]) return true;
    return fail(map, fmt::format("{} needs '{}'", what, key));
  }

  bool integer(const YAML::Node& n, std::string_view what, std::uint64_t min, std::uint64_t max, std::uint64_t& out) {
    const auto bad = [&] { return fail(n, fmt::format("'{}' must be an integer from {} to {}", what, min, max)); };
    if (!n.IsScalar() || !plain(n)) return bad();
    const std::string& s = n.Scalar();
    std::uint64_t v = 0;
    const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (s.empty() || ec != std::errc() || end != s.data() + s.size() || v < min || v > max) return bad();
    out = v;
    return true;
  }

  bool tier(const YAML::Node& n, std::string_view what, int& out) {
    std::uint64_t v = 0;
    if (!integer(n, what, 0, tier_max, v)) return false;
    out = static_cast<int>(v);
    return true;
  }

  bool text(const YAML::Node& n, std::string_view what, std::size_t bytes_max, std::string& out) {
    if (!n.IsScalar()) return fail(n, fmt::format("'{}' must be a string, not {}", what, kind_of(n)));
    if (n.Scalar().empty() || n.Scalar().size() > bytes_max) {
      return fail(n, fmt::format("'{}' must be 1 to {} bytes", what, bytes_max));
    }
    out = n.Scalar();
    return true;
  }

  bool name(const YAML::Node& n, std::string_view what, std::size_t bytes_max, bool upper_only, std::string& out) {
    if (!text(n, what, bytes_max, out)) return false;
    if (name_chars_ok(out, upper_only)) return true;
    return fail(n, upper_only ? fmt::format("'{}' must use only A-Z, 0-9 and _", what)
                              : fmt::format("'{}' must use only letters, digits and . _ - :", what));
  }

  bool mode(const YAML::Node& n, std::string_view what, tier_mode& out) {
    if (n.IsScalar() && n.Scalar() == "enterprise") {
      out = tier_mode::enterprise;
    } else if (n.IsScalar() && n.Scalar() == "marketplace") {
      out = tier_mode::marketplace;
    } else {
      return fail(n, fmt::format("'{}' must be enterprise or marketplace", what));
    }
    return true;
  }

  bool load(const YAML::Node& root, policy_parts& parts);

 private:
  bool thresholds(const YAML::Node& n, tier_thresholds& out);
  bool modes(const YAML::Node& n, policy_parts& parts);
  bool caps(const YAML::Node& n, policy_caps& out);
  bool actions(const YAML::Node& n, policy_parts& parts);
  bool action(const YAML::Node& n, action_policy& out);
  bool bands(const YAML::Node& n, const action_policy& a);
  bool rule(const YAML::Node& n, const action_policy& a, context_rule& out);
  bool rule_value_of(const YAML::Node& n, rule_op op, rule_value& out);
  bool field_kind(const YAML::Node& at, context_rule& r, value_kind kind);

  std::vector<context_field> _fields;
  std::vector<int> _field_lines;  // where each field's kind was first fixed
};

bool loader::load(const YAML::Node& root, policy_parts& parts) {
  if (!root.IsMap()) {
    if (!root.IsDefined() || root.IsNull()) return fail(YAML::Mark::null_mark(), "the policy file is empty");
    return fail(root, fmt::format("the policy must be a mapping, not {}", kind_of(root)));
  }
  const bool ok = entries(root, "the policy", {"version", "tiers", "tierMode", "actions", "caps"},
                          [&](std::string_view key, const YAML::Node& v) {
                            if (key == "version") {
                              if (!text(v, "version", version_bytes_max, parts.version)) return false;
                              for (const char c : parts.version) {
                                if (c < 0x21 || c > 0x7e) return fail(v, "'version' must be printable ASCII without spaces");
                              }
                              return true;
                            }
                            if (key == "tiers") return thresholds(v, parts.thresholds);
                            if (key == "tierMode") return modes(v, parts);
                            if (key == "actions") return actions(v, parts);
                            return caps(v, parts.caps);
                          });
  if (!ok) return false;
  if (!require(root, "tiers", "the policy") || !require(root, "actions", "the policy")) return false;
  parts.context_fields = std::move(_fields);
  return true;
}

bool loader::thresholds(const YAML::Node& n, tier_thresholds& out) {
  static constexpr std::array<std::string_view, tier_max> names = {"tier1", "tier2", "tier3"};
  std::array<YAML::Node, tier_max> where;
  const bool ok = entries(n, "tiers", {"tier1", "tier2", "tier3"}, [&](std::string_view key, const YAML::Node& v) {
    const std::size_t t = static_cast<std::size_t>(key.back() - '1');
    where[t] = v;
    tier_threshold& th = out.at[t];
    std::uint64_t age = 0;
    std::uint64_t partners = 0;
    const std::string what = fmt::format("tiers.{}", key);
    const bool fields_ok = entries(v, what, {"count", "ageDays", "partners"}, [&](std::string_view k, const YAML::Node& x) {
      if (k == "count") return integer(x, "count", 1, 1'000'000'000'000, th.count);
      if (k == "ageDays") return integer(x, "ageDays", 0, 100'000, age);
      return integer(x, "partners", 0, 1'000'000, partners);
    });
    if (!fields_ok || !require(v, "count", what) || !require(v, "ageDays", what)) return false;
    th.age_days = static_cast<std::uint32_t>(age);
    th.partners = static_cast<std::uint32_t>(partners);
    return true;
  });
  if (!ok) return false;
  for (std::string_view key : names) {
    if (!require(n, key, "tiers")) return false;
  }
  for (std::size_t t = 1; t < tier_max; ++t) {
    const tier_threshold& lower = out.at[t - 1];
    const tier_threshold& upper = out.at[t];
    if (upper.count < lower.count || upper.age_days < lower.age_days || upper.partners < lower.partners) {
      return fail(where[t], fmt::format("{} asks less than {} (count, ageDays and partners must not decrease "
                                        "from tier1 to tier3)",
                                        names[t], names[t - 1]));
    }
  }
  return true;
}

bool loader::modes(const YAML::Node& n, policy_parts& parts) {
  return entries(n, "tierMode", {"default", "namespaces"}, [&](std::string_view key, const YAML::Node& v) {
    if (key == "default") return mode(v, "tierMode.default", parts.default_mode);
    // Namespace names are the keys here, so any name is allowed (still once each).
    return entries(v, "tierMode.namespaces", any_key, [&](std::string_view ns, const YAML::Node& m) {
      if (ns.empty() || ns.size() > namespace_bytes_max) {
        return fail(m, fmt::format("a namespace name must be 1 to {} bytes", namespace_bytes_max));
      }
      tier_mode mode_value = tier_mode::enterprise;
      if (!mode(m, fmt::format("tierMode.namespaces.{}", ns), mode_value)) return false;
      parts.namespace_modes.emplace_back(std::string(ns), mode_value);
      return true;
    });
  });
}

bool loader::caps(const YAML::Node& n, policy_caps& out) {
  std::uint64_t bulk = out.bulk_max;
  std::uint64_t agent = out.agent_bulk_max;
  YAML::Node agent_at;
  const bool ok = entries(n, "caps", {"bulkMax", "agentBulkMax"}, [&](std::string_view key, const YAML::Node& v) {
    if (key == "bulkMax") return integer(v, "bulkMax", 1, bulk_items_hard_max, bulk);
    agent_at = v;
    return integer(v, "agentBulkMax", 1, bulk_items_hard_max, agent);
  });
  if (!ok) return false;
  if (agent > bulk) {
    return fail(agent_at ? agent_at : n, fmt::format("'agentBulkMax' ({}) must not exceed 'bulkMax' ({})", agent, bulk));
  }
  out.bulk_max = static_cast<std::uint32_t>(bulk);
  out.agent_bulk_max = static_cast<std::uint32_t>(agent);
  return true;
}

bool loader::actions(const YAML::Node& n, policy_parts& parts) {
  if (!n.IsSequence()) return fail(n, fmt::format("'actions' must be a list, not {}", kind_of(n)));
  if (n.size() == 0) return fail(n, "'actions' must name at least one action");
  if (n.size() > actions_max) return fail(n, fmt::format("'actions' lists more than {} actions", actions_max));
  std::vector<int> lines;
  for (const YAML::Node& item : n) {
    action_policy a;
    if (!action(item, a)) return false;
    for (std::size_t i = 0; i < parts.actions.size(); ++i) {
      if (parts.actions[i].name == a.name) {
        return fail(item, fmt::format("duplicate action '{}' (first at line {})", a.name, lines[i]));
      }
    }
    lines.push_back(item.Mark().line + 1);
    parts.actions.push_back(std::move(a));
  }
  return true;
}

bool loader::action(const YAML::Node& n, action_policy& out) {
  const bool ok = entries(n, "an action", {"action", "risk", "allowTier", "stepUpTier", "limitTier", "rules"},
                          [&](std::string_view key, const YAML::Node& v) {
                            if (key == "action") return name(v, "action", action_name_bytes_max, false, out.name);
                            if (key == "risk") {
                              const auto r = v.IsScalar() ? risk_from_name(v.Scalar()) : std::nullopt;
                              if (!r) return fail(v, "'risk' must be low, medium, high or critical");
                              out.risk = *r;
                              return true;
                            }
                            if (key == "allowTier") return tier(v, "allowTier", out.allow_tier);
                            if (key == "stepUpTier") return tier(v, "stepUpTier", out.step_up_tier);
                            if (key == "limitTier") return tier(v, "limitTier", out.limit_tier);
                            return true;  // rules: after the name is known, below
                          });
  if (!ok || !require(n, "action", "an action")) return false;
  const std::string what = fmt::format("action '{}'", out.name);
  if (!require(n, "risk", what) || !require(n, "allowTier", what) || !bands(n, out)) return false;
  const YAML::Node rules = n["rules"];
  if (!rules) return true;
  if (!rules.IsSequence()) return fail(rules, fmt::format("'rules' of {} must be a list, not {}", what, kind_of(rules)));
  if (rules.size() > rules_per_action_max) {
    return fail(rules, fmt::format("{} has more than {} rules", what, rules_per_action_max));
  }
  for (const YAML::Node& item : rules) {
    context_rule r;
    if (!rule(item, out, r)) return false;
    out.rules.push_back(std::move(r));
  }
  return true;
}

// allowTier > stepUpTier > limitTier, each present band strictly below the ones above it: an
// equal tier would make the lower band unreachable, which is always a mistake in the file.
bool loader::bands(const YAML::Node& n, const action_policy& a) {
  if (a.step_up_tier != no_band && a.step_up_tier >= a.allow_tier) {
    return fail(n["stepUpTier"], fmt::format("action '{}': stepUpTier ({}) must be below allowTier ({})", a.name,
                                             a.step_up_tier, a.allow_tier));
  }
  const int above = a.step_up_tier != no_band ? a.step_up_tier : a.allow_tier;
  if (a.limit_tier != no_band && a.limit_tier >= above) {
    return fail(n["limitTier"], fmt::format("action '{}': limitTier ({}) must be below {} ({})", a.name, a.limit_tier,
                                            a.step_up_tier != no_band ? "stepUpTier" : "allowTier", above));
  }
  return true;
}

bool loader::rule(const YAML::Node& n, const action_policy& a, context_rule& out) {
  const std::string what = fmt::format("a rule of action '{}'", a.name);
  YAML::Node op_at;
  int ops = 0;
  const bool ok = entries(n, what, {"field", "gt", "gte", "lt", "lte", "eq", "ne", "in", "atLeast", "reason"},
                          [&](std::string_view key, const YAML::Node& v) {
                            if (key == "field") return name(v, "field", context_field_bytes_max, false, out.field);
                            if (key == "reason") return name(v, "reason", reason_bytes_max, true, out.reason);
                            if (key == "atLeast") {
                              const auto d = v.IsScalar() ? decision_from_name(v.Scalar()) : std::nullopt;
                              if (!d || *d == decision::allow) return fail(v, "'atLeast' must be STEP_UP, LIMIT or DENY");
                              out.at_least = *d;
                              return true;
                            }
                            for (auto op : {rule_op::gt, rule_op::gte, rule_op::lt, rule_op::lte, rule_op::eq,
                                            rule_op::ne, rule_op::in}) {
                              if (rule_op_name(op) == key) out.op = op;
                            }
                            if (++ops > 1) {
                              return fail(v, fmt::format("{} compares more than once; give exactly one of gt, gte, "
                                                         "lt, lte, eq, ne, in",
                                                         what));
                            }
                            op_at = v;
                            return true;
                          });
  if (!ok || !require(n, "field", what) || !require(n, "atLeast", what) || !require(n, "reason", what)) return false;
  if (ops == 0) return fail(n, fmt::format("{} needs one comparison: gt, gte, lt, lte, eq, ne or in", what));
  for (std::string_view builtin : builtin_reasons) {
    if (out.reason == builtin) return fail(n["reason"], fmt::format("reason '{}' is reserved for the decision itself", builtin));
  }
  out.line = n.Mark().line + 1;
  if (out.op == rule_op::in) {
    if (!op_at.IsSequence() || op_at.size() == 0 || op_at.size() > rule_in_values_max) {
      return fail(op_at, fmt::format("'in' must be a list of 1 to {} values", rule_in_values_max));
    }
    for (const YAML::Node& item : op_at) {
      rule_value v;
      if (!rule_value_of(item, out.op, v)) return false;
      if (!out.values.empty() && v.kind != out.values.front().kind) {
        return fail(item, fmt::format("the values of 'in' must all be of one kind; this one is a {}, the first a {}",
                                      value_kind_name(v.kind), value_kind_name(out.values.front().kind)));
      }
      out.values.push_back(std::move(v));
    }
  } else {
    rule_value v;
    if (!rule_value_of(op_at, out.op, v)) return false;
    out.values.push_back(std::move(v));
  }
  return field_kind(op_at, out, out.values.front().kind);
}

bool loader::rule_value_of(const YAML::Node& n, rule_op op, rule_value& out) {
  if (!n.IsScalar()) return fail(n, fmt::format("'{}' takes a number, string or boolean, not {}", rule_op_name(op), kind_of(n)));
  const std::string& s = n.Scalar();
  const bool is_plain = plain(n);
  double d = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), d);
  if (is_plain && !s.empty() && ec == std::errc() && end == s.data() + s.size() && std::isfinite(d)) {
    out.kind = value_kind::number;
    out.number = d;
    char buf[32];
    const auto r = std::to_chars(buf, buf + sizeof buf, d);  // shortest round-trip form, valid JSON
    out.text.assign(buf, r.ptr);
  } else if (is_plain && (s == "true" || s == "false")) {
    out.kind = value_kind::boolean;
    out.flag = s == "true";
    out.text = s;
  } else {
    if (s.size() > rule_string_bytes_max) {
      return fail(n, fmt::format("a rule's string value must be at most {} bytes", rule_string_bytes_max));
    }
    out.kind = value_kind::string;
    out.text = s;
  }
  const bool ordered = op == rule_op::gt || op == rule_op::gte || op == rule_op::lt || op == rule_op::lte;
  if (ordered && out.kind != value_kind::number) {
    return fail(n, fmt::format("'{}' needs a number, not the {} '{}'", rule_op_name(op), value_kind_name(out.kind), s));
  }
  return true;
}

// Every rule naming a field must compare it as the same kind, so a request's value for it has
// one expected type (a request sending another type is refused, never silently unmatched).
bool loader::field_kind(const YAML::Node& at, context_rule& r, value_kind kind) {
  for (std::size_t i = 0; i < _fields.size(); ++i) {
    if (_fields[i].name != r.field) continue;
    if (_fields[i].kind != kind) {
      return fail(at, fmt::format("field '{}' is compared as a {} here but as a {} at line {}", r.field,
                                  value_kind_name(kind), value_kind_name(_fields[i].kind), _field_lines[i]));
    }
    r.field_index = static_cast<std::uint8_t>(i);
    return true;
  }
  if (_fields.size() == context_fields_max) {
    return fail(at, fmt::format("rules may name at most {} distinct context fields", context_fields_max));
  }
  r.field_index = static_cast<std::uint8_t>(_fields.size());
  _fields.push_back({r.field, kind});
  _field_lines.push_back(at.Mark().line + 1);
  return true;
}

// Offset of the first byte that is not part of well-formed UTF-8 (RFC 3629: no overlong
// forms, no surrogates, nothing above U+10FFFF), or npos. Checked before parsing so every
// string the policy keeps can be written into JSON answers as is.
std::size_t first_invalid_utf8(std::string_view s) {
  const auto byte = [&s](std::size_t i) { return static_cast<unsigned char>(s[i]); };
  std::size_t i = 0;
  while (i < s.size()) {
    const unsigned char c = byte(i);
    if (c < 0x80) {
      ++i;
      continue;
    }
    std::size_t n = 0;
    unsigned char lo = 0x80;
    unsigned char hi = 0xbf;  // range of the second byte
    if (c >= 0xc2 && c <= 0xdf) {
      n = 1;
    } else if (c >= 0xe0 && c <= 0xef) {
      n = 2;
      if (c == 0xe0) lo = 0xa0;
      if (c == 0xed) hi = 0x9f;
    } else if (c >= 0xf0 && c <= 0xf4) {
      n = 3;
      if (c == 0xf0) lo = 0x90;
      if (c == 0xf4) hi = 0x8f;
    } else {
      return i;
    }
    if (i + n >= s.size()) return i;  // truncated sequence
    if (byte(i + 1) < lo || byte(i + 1) > hi) return i;
    for (std::size_t k = 2; k <= n; ++k) {
      if (byte(i + k) < 0x80 || byte(i + k) > 0xbf) return i;
    }
    i += n + 1;
  }
  return std::string_view::npos;
}

YAML::Mark mark_at(std::string_view text, std::size_t offset) {
  YAML::Mark m;
  m.pos = static_cast<int>(offset);
  m.line = 0;
  m.column = 0;
  for (std::size_t i = 0; i < offset; ++i) {
    if (text[i] == '\n') {
      ++m.line;
      m.column = 0;
    } else {
      ++m.column;
    }
  }
  return m;
}

std::string content_version(std::string_view text) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_Digest(text.data(), text.size(), digest, &len, EVP_sha256(), nullptr) != 1) return "sha256:unknown";
  std::string out = "sha256:";
  for (unsigned int i = 0; i < 8 && i < len; ++i) out += fmt::format("{:02x}", digest[i]);
  return out;
}

}  // namespace

policy_load_result load_policy(std::string_view text) {
  policy_load_result result;
  if (text.size() > policy_file_bytes_max) {
    result.error.message = fmt::format("the policy file is larger than {} bytes", policy_file_bytes_max);
    return result;
  }
  loader l;
  if (const std::size_t bad = first_invalid_utf8(text); bad != std::string_view::npos) {
    l.fail(mark_at(text, bad), "the policy file is not valid UTF-8 here");
    result.error = std::move(l.error);
    return result;
  }
  policy_parts parts;
  try {
    const YAML::Node root = YAML::Load(std::string(text));
    if (!l.load(root, parts)) {
      result.error = std::move(l.error);
      return result;
    }
  } catch (const YAML::Exception& e) {
    l.fail(e.mark, e.msg.empty() ? std::string("malformed YAML") : fmt::format("malformed YAML: {}", e.msg));
    result.error = std::move(l.error);
    return result;
  }
  if (parts.version.empty()) parts.version = content_version(text);
  result.loaded = policy::make(std::move(parts));
  return result;
}

policy_load_result load_policy_file(const std::string& path) {
  policy_load_result result;
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    result.error.message = fmt::format("cannot read the policy file {}", path);
    return result;
  }
  std::string text;
  char buf[64 * 1024];
  while (in.read(buf, sizeof buf) || in.gcount() > 0) {
    text.append(buf, static_cast<std::size_t>(in.gcount()));
    if (text.size() > policy_file_bytes_max) {
      result.error.message = fmt::format("the policy file {} is larger than {} bytes", path, policy_file_bytes_max);
      return result;
    }
  }
  result = load_policy(text);
  if (!result.ok()) result.error.message = fmt::format("{}: {}", path, result.error.message);
  return result;
}

}  // namespace warrant::engine::evidence

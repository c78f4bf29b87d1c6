// engine/evidence/policy.h: the evidence policy: tier thresholds, tier modes, the action
// registry with its bands and context rules, and caps. Format: docs/policy-file.md.
//
// What it is for: everything `POST /v1/policy/evaluate` decides with, and what
// `GET /v1/policy/actions[/{action}]` lists. A policy is loaded once (start-up, SIGHUP, an
// admin route) by `load_policy` (policy_load.cc), validated in full, and never changes
// afterwards: callers hold a `std::shared_ptr<const policy>`, and a reload publishes a new
// pointer atomically, so an evaluation in flight finishes on the policy it started with and
// reports that policy's `version()` as `policyVersion`.
//
// Lookups (`find_action`, `find_context_field`) are allocation-free and safe from any thread
// (the object is immutable). Views returned point into the policy and live as long as it does.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/evidence/tier.h"

namespace warrant::engine::evidence {

// Named limits of a policy file (docs/policy-file.md, "Limits").
inline constexpr std::size_t policy_file_bytes_max = 1024 * 1024;
inline constexpr std::size_t actions_max = 1024;
inline constexpr std::size_t action_name_bytes_max = 128;
inline constexpr std::size_t rules_per_action_max = 16;
inline constexpr std::size_t context_fields_max = 16;  // distinct fields all rules may name
inline constexpr std::size_t context_field_bytes_max = 64;
inline constexpr std::size_t rule_in_values_max = 64;
inline constexpr std::size_t rule_string_bytes_max = 255;
inline constexpr std::size_t reason_bytes_max = 64;
inline constexpr std::size_t version_bytes_max = 128;
inline constexpr std::size_t namespace_bytes_max = 255;
inline constexpr std::uint32_t bulk_items_hard_max = 1000;

enum class risk_level : std::uint8_t { low, medium, high, critical };
// Recommendations in order of severity: a later step may only move to the right.
enum class decision : std::uint8_t { allow, step_up, limit, deny };

std::string_view risk_name(risk_level r);    // "low", ...
std::string_view decision_name(decision d);  // "ALLOW" | "STEP_UP" | "LIMIT" | "DENY"
std::optional<risk_level> risk_from_name(std::string_view s);
std::optional<decision> decision_from_name(std::string_view s);
constexpr decision tighter(decision a, decision b) { return a > b ? a : b; }

enum class rule_op : std::uint8_t { gt, gte, lt, lte, eq, ne, in };
std::string_view rule_op_name(rule_op op);  // "gt", ...

// A context field's type, fixed by the rules that name it.
enum class value_kind : std::uint8_t { number, string, boolean };
std::string_view value_kind_name(value_kind k);  // "number" | "string" | "boolean"

struct rule_value {
  value_kind kind = value_kind::number;
  double number = 0;
  bool flag = false;
  std::string text;  // strings: the value; numbers and booleans: as written in the file
};

struct context_rule {
  std::string field;
  std::uint8_t field_index = 0;  // into policy::context_fields()
  rule_op op = rule_op::eq;
  std::vector<rule_value> values;  // one, or the list of `in`
  decision at_least = decision::step_up;
  std::string reason;  // machine code, [A-Z0-9_]+
  int line = 0;        // in the policy file (1-based), for messages
};

inline constexpr int no_band = -1;

struct action_policy {
  std::string name;
  risk_level risk = risk_level::low;
  int allow_tier = 0;         // tier >= allow_tier: ALLOW
  int step_up_tier = no_band;  // else tier >= step_up_tier: STEP_UP
  int limit_tier = no_band;    // else tier >= limit_tier: LIMIT; else DENY
  std::vector<context_rule> rules;
};

// A field some rule names, and the kind every rule naming it compares it as.
struct context_field {
  std::string name;
  value_kind kind = value_kind::number;
};

struct policy_caps {
  std::uint32_t bulk_max = 100;
  std::uint32_t agent_bulk_max = 25;  // for AI_AGENT keys
};

// The parts of a policy, as the loader builds them before `policy::make` indexes them.
struct policy_parts {
  std::string version;  // empty: the loader names it by content hash
  tier_thresholds thresholds;
  tier_mode default_mode = tier_mode::enterprise;
  std::vector<std::pair<std::string, tier_mode>> namespace_modes;
  std::vector<action_policy> actions;  // in file order
  std::vector<context_field> context_fields;  // rules' field_index points in here
  policy_caps caps;
};

class policy {
 public:
  // Indexes validated parts (names unique, bands and rules checked by the loader).
  static std::shared_ptr<const policy> make(policy_parts parts);

  std::string_view version() const { return _parts.version; }
  const tier_thresholds& thresholds() const { return _parts.thresholds; }
  tier_mode default_mode() const { return _parts.default_mode; }
  tier_mode mode_for(std::string_view identity_namespace) const;
  const policy_caps& caps() const { return _parts.caps; }

  const std::vector<action_policy>& actions() const { return _parts.actions; }
  const action_policy* find_action(std::string_view name) const;

  // Every field some rule names, and its kind; a rule's field_index points in here.
  const std::vector<context_field>& context_fields() const { return _parts.context_fields; }
  std::optional<std::size_t> find_context_field(std::string_view name) const;

  // Pre-rendered bodies of GET /v1/policy/actions and GET /v1/policy/actions/{action}
  // (docs/policy-file.md, "Listing actions").
  std::string_view actions_json() const { return _actions_json; }
  std::string_view action_json(const action_policy& a) const;
  // version() as a JSON string literal, and an action's whyRec sentences as JSON string
  // literals (decision.h, render_why_table), rendered once here for the evaluate answer.
  std::string_view version_json() const { return _version_json; }
  std::string_view why_json(const action_policy& a, std::size_t slot) const;

  explicit policy(policy_parts parts);  // use make()

 private:
  policy_parts _parts;  // namespace_modes sorted by name
  // Open-addressing index of _parts.actions by name: slot holds row + 1, 0 is empty.
  std::vector<std::uint16_t> _action_slots;
  std::uint64_t _slot_mask = 0;
  std::string _actions_json;
  std::vector<std::string> _action_json;  // per action, same order as actions()
  std::string _version_json;
  std::vector<std::vector<std::string>> _why_json;  // per action, per slot
};

std::uint64_t policy_name_hash(std::string_view s);

}  // namespace warrant::engine::evidence

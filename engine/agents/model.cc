#include "engine/agents/model.h"

#include "engine/evidence/catalogue.h"
#include "storage/record.h"

namespace warrant::engine {

using storage::field_reader;
using storage::field_writer;

namespace {

static_assert(evidence::event_type_count <= 64, "the allowlist is one 64-bit mask");

// Field tags (on disk, never reused): docs/storage-format.md "agent", "spawn_policy".
enum : std::uint8_t {
  tag_id = 1,
  tag_workspace_id = 2,
  tag_name = 3,
  tag_type = 4,
  tag_preset = 5,
  tag_allowed_event_type = 6,  // repeated: one field per catalogue name
  tag_require_idempotency = 7,
  tag_requests_per_minute = 8,
  tag_owner = 9,
  tag_model_version = 10,
  tag_endpoint = 11,
  tag_operational_state = 12,
  tag_root_authorizer = 13,
  tag_status = 14,
  tag_parent_id = 15,
  tag_root_id = 16,
  tag_depth = 17,
  tag_source = 18,
  tag_key_id = 19,
  tag_key_prefix = 20,
  tag_key_last4 = 21,
  tag_child = 22,  // repeated, in spawn order
  tag_created_at = 23,
  tag_updated_at = 24,
  tag_last_activity_at = 25,
};

enum : std::uint8_t {
  tag_sp_workspace_id = 1,
  tag_sp_enabled = 2,
  tag_sp_max_depth = 3,
  tag_sp_approval_depth = 4,
  tag_sp_max_children = 5,
  tag_sp_updated_at = 6,
};

template <typename E, std::size_t N>
std::optional<E> from_name(std::string_view s, const std::string_view (&names)[N]) {
  for (std::size_t i = 0; i < N; ++i) {
    if (names[i] == s) return static_cast<E>(i);
  }
  return std::nullopt;
}

constexpr std::string_view type_names[] = {"AI_AGENT", "SERVICE_ACCOUNT"};
constexpr std::string_view preset_names[] = {"read_only", "standard", "operator", "admin"};
constexpr std::string_view state_names[] = {"ACTIVE", "SUSPENDED", "REVOKED", "PENDING_APPROVAL"};
constexpr std::string_view source_names[] = {"registered", "spawned"};

template <typename E, std::size_t N>
bool read_enum(std::string_view v, E& out) {
  auto n = field_reader::as_u64(v);
  if (!n || *n >= N) return false;
  out = static_cast<E>(*n);
  return true;
}

}  // namespace

std::string_view agent_type_name(agent_type t) { return type_names[static_cast<std::size_t>(t)]; }
std::string_view agent_preset_name(agent_preset p) { return preset_names[static_cast<std::size_t>(p)]; }
std::string_view agent_state_name(agent_state s) { return state_names[static_cast<std::size_t>(s)]; }
std::string_view membership_source_name(membership_source m) { return source_names[static_cast<std::size_t>(m)]; }
std::optional<agent_type> agent_type_from_name(std::string_view s) { return from_name<agent_type>(s, type_names); }
std::optional<agent_preset> agent_preset_from_name(std::string_view s) {
  return from_name<agent_preset>(s, preset_names);
}
std::optional<agent_state> agent_state_from_name(std::string_view s) { return from_name<agent_state>(s, state_names); }
std::optional<membership_source> membership_source_from_name(std::string_view s) {
  return from_name<membership_source>(s, source_names);
}

std::string encode_agent(const agent_record& a) {
  field_writer f;
  f.bytes(tag_id, a.id).bytes(tag_workspace_id, a.workspace_id).bytes(tag_name, a.name);
  f.u64(tag_type, static_cast<std::uint64_t>(a.type)).u64(tag_preset, static_cast<std::uint64_t>(a.preset));
  for (std::string_view t : event_type_names(a.allowed_event_types)) f.bytes(tag_allowed_event_type, t);
  f.boolean(tag_require_idempotency, a.require_idempotency).u64(tag_requests_per_minute, a.requests_per_minute);
  f.bytes(tag_owner, a.owner).bytes(tag_model_version, a.model_version).bytes(tag_endpoint, a.endpoint);
  f.bytes(tag_operational_state, a.operational_state).bytes(tag_root_authorizer, a.root_authorizer);
  f.u64(tag_status, static_cast<std::uint64_t>(a.status)).bytes(tag_parent_id, a.parent_id);
  f.bytes(tag_root_id, a.root_id).u64(tag_depth, a.depth).u64(tag_source, static_cast<std::uint64_t>(a.source));
  f.bytes(tag_key_id, a.key_id).bytes(tag_key_prefix, a.key_prefix).bytes(tag_key_last4, a.key_last4);
  for (const std::string& c : a.children) f.bytes(tag_child, c);
  f.i64(tag_created_at, a.created_at_ms).i64(tag_updated_at, a.updated_at_ms);
  f.i64(tag_last_activity_at, a.last_activity_at_ms);
  return f.take();
}

std::optional<agent_record> decode_agent(std::string_view payload) {
  agent_record a;
  field_reader r(payload);
  std::uint8_t tag = 0;
  std::string_view v;
  auto u64 = [&](std::uint64_t& out) {
    auto n = field_reader::as_u64(v);
    if (n) out = *n;
    return n.has_value();
  };
  std::uint64_t n = 0;
  while (r.next(tag, v)) {
    switch (tag) {
      case tag_id: a.id = v; break;
      case tag_workspace_id: a.workspace_id = v; break;
      case tag_name: a.name = v; break;
      case tag_type:
        if (!read_enum<agent_type, 2>(v, a.type)) return std::nullopt;
        break;
      case tag_preset:
        if (!read_enum<agent_preset, 4>(v, a.preset)) return std::nullopt;
        break;
      case tag_allowed_event_type: {
        auto t = evidence::find_event_type(v);
        if (!t) return std::nullopt;  // the catalogue is fixed: a name it lacks is corruption
        a.allowed_event_types |= std::uint64_t{1} << static_cast<unsigned>(*t);
        break;
      }
      case tag_require_idempotency:
        if (!u64(n)) return std::nullopt;
        a.require_idempotency = n != 0;
        break;
      case tag_requests_per_minute:
        if (!u64(n) || n > 0xffff'ffffu) return std::nullopt;
        a.requests_per_minute = static_cast<std::uint32_t>(n);
        break;
      case tag_owner: a.owner = v; break;
      case tag_model_version: a.model_version = v; break;
      case tag_endpoint: a.endpoint = v; break;
      case tag_operational_state: a.operational_state = v; break;
      case tag_root_authorizer: a.root_authorizer = v; break;
      case tag_status:
        if (!read_enum<agent_state, 4>(v, a.status)) return std::nullopt;
        break;
      case tag_parent_id: a.parent_id = v; break;
      case tag_root_id: a.root_id = v; break;
      case tag_depth:
        if (!u64(n) || n > spawn_depth_max) return std::nullopt;
        a.depth = static_cast<std::uint32_t>(n);
        break;
      case tag_source:
        if (!read_enum<membership_source, 2>(v, a.source)) return std::nullopt;
        break;
      case tag_key_id: a.key_id = v; break;
      case tag_key_prefix: a.key_prefix = v; break;
      case tag_key_last4: a.key_last4 = v; break;
      case tag_child: a.children.emplace_back(v); break;
      case tag_created_at:
      case tag_updated_at:
      case tag_last_activity_at:
        if (!u64(n)) return std::nullopt;
        (tag == tag_created_at ? a.created_at_ms : tag == tag_updated_at ? a.updated_at_ms : a.last_activity_at_ms) =
            static_cast<std::int64_t>(n);
        break;
      default: break;  // a newer writer's field
    }
  }
  if (r.malformed() || a.id.empty() || a.workspace_id.empty() || a.root_id.empty()) return std::nullopt;
  if ((a.depth == 0) != a.parent_id.empty()) return std::nullopt;
  return a;
}

std::string encode_spawn_policy(const spawn_policy& p) {
  field_writer f;
  f.bytes(tag_sp_workspace_id, p.workspace_id).boolean(tag_sp_enabled, p.enabled);
  f.u64(tag_sp_max_depth, p.max_depth).u64(tag_sp_approval_depth, p.approval_depth);
  f.u64(tag_sp_max_children, p.max_children).i64(tag_sp_updated_at, p.updated_at_ms);
  return f.take();
}

std::optional<spawn_policy> decode_spawn_policy(std::string_view payload) {
  spawn_policy p;
  field_reader r(payload);
  std::uint8_t tag = 0;
  std::string_view v;
  while (r.next(tag, v)) {
    if (tag == tag_sp_workspace_id) {
      p.workspace_id = v;
      continue;
    }
    auto n = field_reader::as_u64(v);
    if (!n) {
      if (tag >= tag_sp_enabled && tag <= tag_sp_updated_at) return std::nullopt;
      continue;
    }
    switch (tag) {
      case tag_sp_enabled: p.enabled = *n != 0; break;
      case tag_sp_max_depth: p.max_depth = static_cast<std::uint32_t>(*n); break;
      case tag_sp_approval_depth: p.approval_depth = static_cast<std::uint32_t>(*n); break;
      case tag_sp_max_children: p.max_children = static_cast<std::uint32_t>(*n); break;
      case tag_sp_updated_at: p.updated_at_ms = static_cast<std::int64_t>(*n); break;
      default: break;
    }
  }
  if (r.malformed() || p.workspace_id.empty()) return std::nullopt;
  if (p.max_depth > spawn_depth_max || p.approval_depth > spawn_depth_max || p.max_children > spawn_children_max) {
    return std::nullopt;
  }
  return p;
}

std::string agent_storage_key(std::string_view workspace_id, std::string_view agent_id) {
  std::string k(workspace_id);
  k.push_back('\0');
  k.append(agent_id);
  return k;
}

std::vector<std::string_view> event_type_names(std::uint64_t mask) {
  std::vector<std::string_view> out;
  for (std::size_t i = 0; i < evidence::event_type_count; ++i) {
    if (mask & (std::uint64_t{1} << i)) out.push_back(evidence::event_catalogue[i].name);
  }
  return out;
}

bool event_types_mask(const std::vector<std::string>& names, std::uint64_t& mask, std::string& unknown) {
  mask = 0;
  for (const std::string& n : names) {
    auto t = evidence::find_event_type(n);
    if (!t) {
      unknown = n;
      return false;
    }
    mask |= std::uint64_t{1} << static_cast<unsigned>(*t);
  }
  return true;
}

std::string_view agent_action_name(agent_action a) {
  switch (a) {
    case agent_action::suspend: return "suspend";
    case agent_action::reactivate: return "reactivate";
    case agent_action::revoke: return "revoke";
    case agent_action::approve: return "approve";
  }
  return "";
}

std::optional<agent_state> agent_transition(agent_state from, agent_action action) {
  switch (action) {
    case agent_action::suspend:
      if (from == agent_state::active) return agent_state::suspended;
      break;
    case agent_action::reactivate:
      if (from == agent_state::suspended) return agent_state::active;
      break;
    case agent_action::revoke:
      if (from != agent_state::revoked) return agent_state::revoked;
      break;
    case agent_action::approve:
      if (from == agent_state::pending_approval) return agent_state::active;
      break;
  }
  return std::nullopt;
}

std::string_view agent_audit_action(agent_action a) {
  switch (a) {
    case agent_action::suspend: return "agent.suspended";
    case agent_action::reactivate: return "agent.reactivated";
    case agent_action::revoke: return "agent.revoked";
    case agent_action::approve: return "agent.approved";
  }
  return "";
}

}  // namespace warrant::engine

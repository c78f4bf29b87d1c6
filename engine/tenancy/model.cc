#include "engine/tenancy/model.h"

#include <cstring>

#include "storage/record.h"

namespace warrant::engine {

using storage::field_reader;
using storage::field_writer;

namespace {

// Field tags (on disk).
enum : std::uint8_t {
  tag_id = 1,
  tag_name = 2,
  tag_identity_namespace = 3,
  tag_requests_per_minute = 4,
  tag_created_at = 5,
  tag_workspace_id = 6,
  tag_hash = 7,
  tag_prefix = 8,
  tag_last4 = 9,
  tag_roles = 10,
  tag_expires_at = 11,
  tag_revoked_at = 12,
  tag_key_requests_per_minute = 13,  // api key only; absent: no limit of its own
  tag_agent_id = 14,                 // api key only; absent: a workspace key
};

bool read_u64(std::string_view v, std::uint64_t& out) {
  auto n = field_reader::as_u64(v);
  if (!n) return false;
  out = *n;
  return true;
}

}  // namespace

std::optional<std::uint32_t> role_from_name(std::string_view name) {
  for (std::uint32_t bit = 1; bit <= roles_all; bit <<= 1) {
    if (role_name(bit) == name) return bit;
  }
  return std::nullopt;
}

std::string_view role_name(std::uint32_t bit) {
  switch (bit) {
    case role_platform_admin: return "platform.admin";
    case role_platform_operator: return "platform.operator";
    case role_platform_viewer: return "platform.viewer";
    case role_governance_approver: return "governance.approver";
    case role_governance_reviewer: return "governance.reviewer";
    default: return "";
  }
}

std::string encode_workspace(const workspace& w) {
  field_writer f;
  f.bytes(tag_id, w.id).bytes(tag_name, w.name).bytes(tag_identity_namespace, w.identity_namespace);
  f.u64(tag_requests_per_minute, w.requests_per_minute).i64(tag_created_at, w.created_at_ms);
  return f.take();
}

std::optional<workspace> decode_workspace(std::string_view payload) {
  workspace w;
  field_reader r(payload);
  std::uint8_t tag = 0;
  std::string_view v;
  std::uint64_t n = 0;
  while (r.next(tag, v)) {
    switch (tag) {
      case tag_id: w.id = v; break;
      case tag_name: w.name = v; break;
      case tag_identity_namespace: w.identity_namespace = v; break;
      case tag_requests_per_minute:
        if (!read_u64(v, n)) return std::nullopt;
        w.requests_per_minute = static_cast<std::uint32_t>(n);
        break;
      case tag_created_at:
        if (!read_u64(v, n)) return std::nullopt;
        w.created_at_ms = static_cast<std::int64_t>(n);
        break;
      default: break;  // a newer writer's field
    }
  }
  if (r.malformed() || w.id.empty()) return std::nullopt;
  return w;
}

std::string encode_api_key(const api_key_record& k) {
  field_writer f;
  f.bytes(tag_id, k.id).bytes(tag_workspace_id, k.workspace_id).bytes(tag_name, k.name);
  f.bytes(tag_hash, std::string_view(reinterpret_cast<const char*>(k.hash.data()), k.hash.size()));
  f.bytes(tag_prefix, k.prefix).bytes(tag_last4, k.last4).u64(tag_roles, k.roles);
  f.i64(tag_created_at, k.created_at_ms).i64(tag_expires_at, k.expires_at_ms).i64(tag_revoked_at, k.revoked_at_ms);
  // Written only when set, so keys without a limit of their own encode as before.
  if (k.requests_per_minute != 0) f.u64(tag_key_requests_per_minute, k.requests_per_minute);
  if (!k.agent_id.empty()) f.bytes(tag_agent_id, k.agent_id);
  return f.take();
}

std::optional<api_key_record> decode_api_key(std::string_view payload) {
  api_key_record k;
  field_reader r(payload);
  std::uint8_t tag = 0;
  std::string_view v;
  std::uint64_t n = 0;
  bool have_hash = false;
  while (r.next(tag, v)) {
    switch (tag) {
      case tag_id: k.id = v; break;
      case tag_workspace_id: k.workspace_id = v; break;
      case tag_name: k.name = v; break;
      case tag_hash:
        if (v.size() != k.hash.size()) return std::nullopt;
        std::memcpy(k.hash.data(), v.data(), v.size());
        have_hash = true;
        break;
      case tag_prefix: k.prefix = v; break;
      case tag_last4: k.last4 = v; break;
      case tag_roles:
        if (!read_u64(v, n)) return std::nullopt;
        k.roles = static_cast<std::uint32_t>(n);
        break;
      case tag_created_at:
      case tag_expires_at:
      case tag_revoked_at:
        if (!read_u64(v, n)) return std::nullopt;
        (tag == tag_created_at ? k.created_at_ms : tag == tag_expires_at ? k.expires_at_ms : k.revoked_at_ms) =
            static_cast<std::int64_t>(n);
        break;
      case tag_key_requests_per_minute:
        if (!read_u64(v, n) || n == 0 || n > requests_per_minute_max) return std::nullopt;
        k.requests_per_minute = static_cast<std::uint32_t>(n);
        break;
      case tag_agent_id: k.agent_id = v; break;
      default: break;
    }
  }
  if (r.malformed() || k.id.empty() || k.workspace_id.empty() || !have_hash) return std::nullopt;
  return k;
}

std::string api_key_storage_key(std::string_view workspace_id, std::string_view key_id) {
  std::string k(workspace_id);
  k.push_back('\0');
  k.append(key_id);
  return k;
}

std::string encode_key_revocation(const key_revocation& r) {
  field_writer f;
  f.bytes(tag_workspace_id, r.workspace_id).bytes(tag_id, r.key_id).i64(tag_revoked_at, r.revoked_at_ms);
  return f.take();
}

std::optional<key_revocation> decode_key_revocation(std::string_view payload) {
  key_revocation out;
  field_reader r(payload);
  std::uint8_t tag = 0;
  std::string_view v;
  while (r.next(tag, v)) {
    if (tag == tag_workspace_id) out.workspace_id = v;
    if (tag == tag_id) out.key_id = v;
    if (tag == tag_revoked_at) {
      auto n = field_reader::as_u64(v);
      if (!n) return std::nullopt;
      out.revoked_at_ms = static_cast<std::int64_t>(*n);
    }
  }
  if (r.malformed() || out.key_id.empty()) return std::nullopt;
  return out;
}

std::string encode_key_erasure(const key_erasure& e) {
  field_writer f;
  f.bytes(tag_workspace_id, e.workspace_id).bytes(tag_id, e.key_id);
  return f.take();
}

std::optional<key_erasure> decode_key_erasure(std::string_view payload) {
  key_erasure out;
  field_reader r(payload);
  std::uint8_t tag = 0;
  std::string_view v;
  while (r.next(tag, v)) {
    if (tag == tag_workspace_id) out.workspace_id = v;
    if (tag == tag_id) out.key_id = v;
  }
  if (r.malformed() || out.workspace_id.empty() || out.key_id.empty()) return std::nullopt;
  return out;
}

std::string encode_limits_change(const limits_change& c) {
  field_writer f;
  f.bytes(tag_workspace_id, c.workspace_id).u64(tag_requests_per_minute, c.requests_per_minute);
  return f.take();
}

std::optional<limits_change> decode_limits_change(std::string_view payload) {
  limits_change out;
  field_reader r(payload);
  std::uint8_t tag = 0;
  std::string_view v;
  while (r.next(tag, v)) {
    if (tag == tag_workspace_id) out.workspace_id = v;
    if (tag == tag_requests_per_minute) {
      auto n = field_reader::as_u64(v);
      if (!n) return std::nullopt;
      out.requests_per_minute = static_cast<std::uint32_t>(*n);
    }
  }
  if (r.malformed() || out.workspace_id.empty()) return std::nullopt;
  return out;
}

}  // namespace warrant::engine

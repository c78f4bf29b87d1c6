// engine/tenancy/model.h: workspaces and API keys as stored and as indexed.
//
// The record payloads (storage/record.h field codec) are documented in
// docs/storage-format.md; tags below are on disk and never reused. Storage keys: a workspace
// under its id in `workspaces`; a key under `<workspace id> 0x00 <key id>` in `api_keys`,
// so every key is prefixed by its workspace. Pure data and codecs, any thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "engine/common/limiter_cell.h"
#include "engine/tenancy/api_key.h"

namespace warrant::engine {

inline constexpr std::string_view default_workspace_id = "default";
inline constexpr std::uint32_t default_requests_per_minute = 2000;
inline constexpr std::uint32_t requests_per_minute_max = 10'000'000;

// Roles a key may carry (spec/authority.md "Roles"); bit per role.
enum role : std::uint32_t {
  role_platform_admin = 1u << 0,
  role_platform_operator = 1u << 1,
  role_platform_viewer = 1u << 2,
  role_governance_approver = 1u << 3,
  role_governance_reviewer = 1u << 4,
};
inline constexpr std::uint32_t roles_all = (1u << 5) - 1;
std::optional<std::uint32_t> role_from_name(std::string_view name);
// Calls f(name) for each role in the mask, in a fixed order.
template <typename F>
void for_each_role(std::uint32_t mask, F&& f);
std::string_view role_name(std::uint32_t single_role_bit);

struct workspace {
  std::string id;
  std::string name;
  std::string identity_namespace;
  std::uint32_t requests_per_minute = default_requests_per_minute;
  std::int64_t created_at_ms = 0;

  // Not stored: this workspace's rate-limiter cell, given by the tenancy index when the
  // workspace is first staged and kept across updates (nullptr in offline snapshots).
  limiter_cell* limiter = nullptr;
};

// The limit a workspace is held to: its own, or the default when it has none (0).
inline std::uint32_t workspace_requests_per_minute(const workspace& w) {
  return w.requests_per_minute == 0 ? default_requests_per_minute : w.requests_per_minute;
}

struct api_key_record {
  std::string id;
  std::string workspace_id;
  std::string name;  // optional
  key_hash hash{};
  std::string prefix;
  std::string last4;
  std::uint32_t roles = 0;
  std::int64_t created_at_ms = 0;
  std::int64_t expires_at_ms = 0;  // 0: never
  std::int64_t revoked_at_ms = 0;  // 0: not revoked
  // The key's own limit, never above its workspace's (effective: the smaller); 0: none.
  std::uint32_t requests_per_minute = 0;
  // The agent this key belongs to (engine/agents/model.h); empty for a workspace key.
  std::string agent_id;

  // Not stored: the key's own rate-limiter cell when it has its own limit (see workspace).
  limiter_cell* limiter = nullptr;

  bool usable_at(std::int64_t now_ms) const {
    return revoked_at_ms == 0 && (expires_at_ms == 0 || now_ms < expires_at_ms);
  }
};

std::string encode_workspace(const workspace& w);
std::optional<workspace> decode_workspace(std::string_view payload);
std::string encode_api_key(const api_key_record& k);
std::optional<api_key_record> decode_api_key(std::string_view payload);

std::string api_key_storage_key(std::string_view workspace_id, std::string_view key_id);

// Log payloads of the changes that are not whole records.
struct key_revocation {
  std::string workspace_id;
  std::string key_id;
  std::int64_t revoked_at_ms = 0;
};
std::string encode_key_revocation(const key_revocation& r);
std::optional<key_revocation> decode_key_revocation(std::string_view payload);

// An erased key (an agent's key after rotation or revocation): its record is deleted, so
// not even its hash remains.
struct key_erasure {
  std::string workspace_id;
  std::string key_id;
};
std::string encode_key_erasure(const key_erasure& e);
std::optional<key_erasure> decode_key_erasure(std::string_view payload);

struct limits_change {
  std::string workspace_id;
  std::uint32_t requests_per_minute = 0;
};
std::string encode_limits_change(const limits_change& c);
std::optional<limits_change> decode_limits_change(std::string_view payload);

template <typename F>
void for_each_role(std::uint32_t mask, F&& f) {
  for (std::uint32_t bit = 1; bit <= roles_all; bit <<= 1) {
    if (mask & bit) f(role_name(bit));
  }
}

}  // namespace warrant::engine

#include "engine/tenancy/key_table.h"

#include <algorithm>
#include <bit>
#include <cassert>
#include <cstring>

#include "net/http_response.h"

namespace warrant::engine {

void render_identity_json(net::byte_buffer& b, const api_key_record& key, const workspace& ws) {
  // The response writer's own escaping: the bytes a handler rendering per request would write.
  b.append(R"({"user_id":)");
  net::append_json_string(b, key.id);
  b.append(R"(,"workspace_id":)");
  net::append_json_string(b, ws.id);
  b.append(R"(,"org_id":)");
  net::append_json_string(b, ws.identity_namespace.empty() ? ws.id : ws.identity_namespace);
  b.append(R"(,"key_prefix":)");
  net::append_json_string(b, key.prefix);
  b.append(R"(,"roles":[)");
  bool first = true;
  for_each_role(key.roles, [&](std::string_view name) {
    if (!first) b.push_back(',');
    first = false;
    net::append_json_string(b, name);
  });
  b.append("]}");
}

bool key_table::same_hash(const key_hash& a, const key_hash& b) {
  std::uint64_t diff = 0;
  for (std::size_t i = 0; i < a.size(); i += 8) {
    std::uint64_t x = 0;
    std::uint64_t y = 0;
    std::memcpy(&x, a.data() + i, 8);
    std::memcpy(&y, b.data() + i, 8);
    diff |= x ^ y;
  }
  return diff == 0;
}

void key_table::clear() {
  _slots.clear();
  _slots.shrink_to_fit();
  _identities.clear();
  _identities.shrink_to_fit();
  _mask = 0;
  _size = 0;
  _probe_max = 0;
}

void key_table::reserve_for(std::size_t keys) {
  // At least twice as many slots as keys (load ≤ 1/2: short probes, and an absent hash
  // soon meets an empty slot), and never empty, so that `find` always ends.
  const std::size_t slots = std::bit_ceil(std::max<std::size_t>(2 * keys, 16));
  _slots.assign(slots, key_admission{});
  _mask = slots - 1;
  _identities.reserve(keys * 224);  // a typical answer: three UUIDs, a prefix, one role
}

void key_table::insert(const api_key_record& key, const workspace& ws, net::byte_buffer& scratch,
                       std::vector<std::size_t>& identity_offsets) {
  assert(key.revoked_at_ms == 0);
  assert(2 * (_size + 1) <= _slots.size());
  std::size_t i = home(key.hash);
  std::size_t probes = 1;
  while (_slots[i].key != nullptr) {
    // A hash entered twice would be a second record for one key: the maps hold one per hash.
    assert(!same_hash(_slots[i].hash, key.hash));
    i = (i + 1) & _mask;
    ++probes;
  }
  key_admission& s = _slots[i];
  s.hash = key.hash;
  s.usable_before_ms = key.expires_at_ms == 0 ? std::numeric_limits<std::int64_t>::max() : key.expires_at_ms;
  s.workspace_limiter = ws.limiter;
  s.workspace_limit = workspace_requests_per_minute(ws);
  // A key's own limit, never above its workspace's; without a cell (offline) it has none.
  if (key.requests_per_minute != 0 && key.limiter != nullptr) {
    s.key_limiter = key.limiter;
    s.key_limit = std::min(key.requests_per_minute, s.workspace_limit);
  }
  s.key = &key;
  s.ws = &ws;
  s.roles = key.roles;
  s.in_default_workspace = key.workspace_id == default_workspace_id;
  scratch.clear();
  render_identity_json(scratch, key, ws);
  identity_offsets[i] = _identities.size();
  _identities.append(scratch.view());
  s.identity_json_bytes = static_cast<std::uint32_t>(scratch.size());
  ++_size;
  _probe_max = std::max(_probe_max, probes);
}

void key_table::point_identities(const std::vector<std::size_t>& identity_offsets) {
  for (std::size_t i = 0; i < _slots.size(); ++i) {
    if (_slots[i].key != nullptr) _slots[i].identity_json = _identities.data() + identity_offsets[i];
  }
}

}  // namespace warrant::engine

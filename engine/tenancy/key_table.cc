#include "engine/tenancy/key_table.h"

#include <algorithm>
#include <bit>
#include <cassert>
#include <cstring>
#include <stdexcept>

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
  _index.clear();
  _index.shrink_to_fit();
  _arena.clear();
  _arena.shrink_to_fit();
  _mask = 0;
  _size = 0;
  _probe_max = 0;
}

void key_table::lay_out(const std::vector<pending>& entries, std::string_view identities) {
  constexpr std::size_t line = sizeof(cache_line);
  constexpr std::size_t entry_lines = sizeof(key_admission) / line;
  std::size_t lines = 0;
  for (const pending& p : entries) lines += entry_lines + (p.identity_bytes + line - 1) / line;
  if (lines + 1 > 0xffff'ffffu) throw std::length_error("key table: too many keys");
  _arena.assign(lines, cache_line{});
  // At least twice as many slots as keys (load ≤ 1/2: short probes, and an absent hash soon
  // meets an empty slot), and never empty, so that `find` always ends.
  const std::size_t slots = std::bit_ceil(std::max<std::size_t>(2 * entries.size(), 16));
  _index.assign(slots, 0);
  _mask = slots - 1;

  std::size_t at = 0;  // the next free line
  for (const pending& p : entries) {
    const api_key_record& key = *p.key;
    const workspace& ws = *p.ws;
    auto* e = new (&_arena[at]) key_admission{};
    e->hash = key.hash;
    e->usable_before_ms = key.expires_at_ms == 0 ? std::numeric_limits<std::int64_t>::max() : key.expires_at_ms;
    e->workspace_limiter = ws.limiter;
    e->workspace_limit = workspace_requests_per_minute(ws);
    // A key's own limit, never above its workspace's; without a cell (offline) it has none.
    if (key.requests_per_minute != 0 && key.limiter != nullptr) {
      e->key_limiter = key.limiter;
      e->key_limit = std::min(key.requests_per_minute, e->workspace_limit);
    }
    e->key = &key;
    e->ws = &ws;
    e->roles = key.roles;
    e->in_default_workspace = key.workspace_id == default_workspace_id;
    e->agent = p.agent;
    e->activity = p.agent != nullptr ? p.agent->activity : nullptr;
    e->scopes = key_scopes(key.roles, p.agent != nullptr ? &p.agent->rec : nullptr);
    e->identity_json_bytes = static_cast<std::uint32_t>(p.identity_bytes);
    if (p.identity_bytes != 0) {
      std::memcpy(_arena[at + entry_lines].bytes, identities.data() + p.identity_offset, p.identity_bytes);
    }

    std::size_t i = home(key.hash);
    std::size_t probes = 1;
    while (_index[i] != 0) {
      // A hash entered twice would be a second record for one key: the maps hold one per hash.
      assert(!same_hash(std::launder(reinterpret_cast<const key_admission*>(&_arena[(_index[i] & 0xffff'ffffu) - 1]))->hash,
                        key.hash));
      i = (i + 1) & _mask;
      ++probes;
    }
    _index[i] = (tag_of(key.hash) << 32) | (at + 1);
    ++_size;
    _probe_max = std::max(_probe_max, probes);
    at += entry_lines + (p.identity_bytes + line - 1) / line;
  }
  assert(at == lines);
}

}  // namespace warrant::engine

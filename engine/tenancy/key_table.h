// engine/tenancy/key_table.h: the request path's view of the usable API keys — one flat,
// open-addressing table built with each published tenancy snapshot.
//
// WHY. The guard authenticates and rate-limits every request. Looking a key up in the
// snapshot's maps meant a hash-map node, the key's heap strings, an ordered-map walk to find
// its workspace and the workspace record: 15-20 cold cache lines per request at 10,000 keys
// (docs/PERFORMANCE.md, "Guard"). Here everything a request reads is resolved once, at
// publish, into one contiguous entry per key: a 128-byte `key_admission` whose first cache
// line holds the full SHA-256 of the key, its expiry and both limiter cells and limits (all an
// acceptance or a 429 needs) and whose second holds what comes after admission (roles, the
// records for handlers), followed by the key's pre-rendered /api/me answer.
//
// LAYOUT. An index of power-of-two 8-byte slots, at least twice as many as keys (load ≤ 1/2;
// 256 KiB for 10,000 keys, so it mostly stays in the CPU's L2), linear probing from the first
// 8 bytes of the hash (SHA-256 output: uniform, so no further mixing). A slot holds 32 more
// bits of the hash (bytes 8-11, a tag that skips other keys' entries without touching them)
// and the entry's position in the arena of cache lines; 0 is an empty slot. A found entry is
// compared on the full 32 bytes, and its other lines are prefetched at once, so that a
// request's few misses (entry, answer, limiter cell) overlap instead of queueing.
//
// Only usable keys are entered: revoked keys, keys whose workspace is missing and agent keys
// whose agent is not effectively ACTIVE (itself or an ancestor suspended, revoked or pending
// approval: engine/tenancy/index.h) are left out, so "absent", "revoked" and "agent disabled"
// are one answer (the same 401) and cost one probe like any other key. Each entry also carries
// the key's scope set, resolved here from its roles or its agent's preset (engine/guard/
// access.h `key_scopes`), and for agent keys the agent and its activity cell. Expiry depends on the time and is
// checked by the reader (`usable_before_ms`).
//
// LIFETIME AND THREADS. Built on the writer thread by tenancy_index::publish, after the new
// snapshot's maps are final; it points into that snapshot's records (and at limiter cells,
// which outlive every snapshot), so it is immutable and dies with its snapshot. A copy is an
// empty table (the pointers would dangle into the source): every published snapshot builds its
// own. Readers (shards) probe it lock-free, allocation-free.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <new>
#include <string>
#include <string_view>
#include <vector>

#include "engine/common/activity_cell.h"
#include "engine/common/limiter_cell.h"
#include "engine/guard/access.h"
#include "engine/tenancy/agent_entry.h"
#include "engine/tenancy/api_key.h"
#include "engine/tenancy/model.h"
#include "net/byte_buffer.h"

namespace warrant::engine {

struct alignas(64) key_admission {
  // ---- first cache line: the probe and admission ----
  key_hash hash{};                                                    // SHA-256 of the key text
  std::int64_t usable_before_ms = std::numeric_limits<std::int64_t>::max();  // expires_at, or never
  limiter_cell* workspace_limiter = nullptr;                          // nullptr: unlimited (offline)
  limiter_cell* key_limiter = nullptr;                                // nullptr: no limit of its own
  std::uint32_t workspace_limit = 0;                                  // requests per minute (effective)
  std::uint32_t key_limit = 0;                                        // min(key's, workspace's); 0: none

  // ---- second cache line: after admission ----
  const api_key_record* key = nullptr;
  const workspace* ws = nullptr;
  std::uint32_t identity_json_bytes = 0;  // the /api/me answer, right after this entry
  std::uint32_t roles = 0;
  bool in_default_workspace = false;  // the operator's workspace (platform routes)
  scope_set scopes = 0;                   // granted by the roles, or by the agent's preset
  const indexed_agent* agent = nullptr;   // the key's agent (effectively ACTIVE), or nullptr
  activity_cell* activity = nullptr;      // the agent's lastActivityAt cell, or nullptr

  bool usable_at(std::int64_t now_ms) const { return now_ms < usable_before_ms; }
  // The key's /api/me answer (engine/guard/identity_routes.h), stored after the entry.
  std::string_view identity() const {
    return {reinterpret_cast<const char*>(this) + sizeof(key_admission), identity_json_bytes};
  }
};
static_assert(sizeof(key_admission) == 128);
static_assert(offsetof(key_admission, key_limit) < 64, "admission reads the first line only");

// The /api/me answer for `key` of `ws` (spec/compliance.md; engine/guard/identity_routes.h):
// {"user_id","workspace_id","org_id","key_prefix","roles"}. Rendered once per key per publish.
void render_identity_json(net::byte_buffer& out, const api_key_record& key, const workspace& ws);

class key_table {
 public:
  key_table() = default;
  // A copy is empty: see the header comment.
  key_table(const key_table&) {}
  key_table& operator=(const key_table&) {
    clear();
    return *this;
  }

  // Writer thread: one entry per usable key. `find_ws(workspace_id)` resolves a key's
  // workspace (nullptr: the key is left out); `find_agent(agent_id)` an agent key's agent
  // (nullptr, or not effectively ACTIVE: left out). Pointers must outlive the table.
  template <typename Keys, typename FindWorkspace, typename FindAgent>
  void build(const Keys& keys, FindWorkspace&& find_ws, FindAgent&& find_agent);
  template <typename Keys, typename FindWorkspace>
  void build(const Keys& keys, FindWorkspace&& find_ws) {
    build(keys, find_ws, [](std::string_view) -> const indexed_agent* { return nullptr; });
  }

  // Any thread: the entry of the key whose SHA-256 is `h`, or nullptr. Constant-time compare
  // of the full hash for the candidate entries.
  const key_admission* find(const key_hash& h) const {
    return probe(h, [&h](const cache_line* line, const key_admission* e) {
      // The entry's second line and the answer after it: loads that overlap with the compare
      // and the admission instead of waiting for the handler.
      for (std::size_t l = 1; l < prefetch_lines; ++l) __builtin_prefetch(line + l);
      return same_hash(e->hash, h);
    });
  }
  // Any thread, for a batch of lookups to come (engine/guard/guard.h, "Warming"): each step
  // only starts loads, so that the misses of many keys overlap. `prefetch_slot` asks for the
  // index slot of `h`; `prefetch_entry` then reads it (and any collisions after it) and asks
  // for the lines of the entry whose tag matches, returning it (not compared: it may be
  // another key's) or nullptr.
  void prefetch_slot(const key_hash& h) const {
    if (!_index.empty()) __builtin_prefetch(&_index[home(h)]);
  }
  const key_admission* prefetch_entry(const key_hash& h) const {
    return probe(h, [](const cache_line* line, const key_admission*) {
      for (std::size_t l = 0; l < prefetch_lines; ++l) __builtin_prefetch(line + l);
      return true;
    });
  }
  std::size_t size() const { return _size; }
  std::size_t slots() const { return _index.size(); }
  // The longest probe sequence of any key present (tests, diagnostics).
  std::size_t probe_max() const { return _probe_max; }

 private:
  struct alignas(64) cache_line {
    unsigned char bytes[64];
  };
  static_assert(sizeof(key_admission) % sizeof(cache_line) == 0);
  // The entry and a typical answer (~210 bytes: three UUIDs, a prefix, one role).
  static constexpr std::size_t prefetch_lines = 6;

  struct pending {
    const api_key_record* key;
    const workspace* ws;
    const indexed_agent* agent;
    std::size_t identity_offset;
    std::size_t identity_bytes;
  };
  // Walks the probe sequence of `h` over the entries whose tag matches, until `take(first
  // line, entry)` says yes: that entry, or nullptr at the first empty slot.
  template <typename Take>
  const key_admission* probe(const key_hash& h, Take&& take) const {
    if (_index.empty()) return nullptr;
    const std::uint64_t tag = tag_of(h);
    for (std::size_t i = home(h);; i = (i + 1) & _mask) {
      const std::uint64_t slot = _index[i];
      if (slot == 0) return nullptr;
      if ((slot >> 32) != tag) continue;
      const cache_line* line = &_arena[(slot & 0xffff'ffffu) - 1];
      const key_admission* e = std::launder(reinterpret_cast<const key_admission*>(line));
      if (take(line, e)) return e;
    }
  }
  void clear();
  void lay_out(const std::vector<pending>& entries, std::string_view identities);
  std::size_t home(const key_hash& h) const {
    std::uint64_t v = 0;
    for (std::size_t i = 0; i < 8; ++i) v = (v << 8) | h[i];
    return static_cast<std::size_t>(v) & _mask;
  }
  static std::uint64_t tag_of(const key_hash& h) {
    return (std::uint64_t{h[8]} << 24) | (std::uint64_t{h[9]} << 16) | (std::uint64_t{h[10]} << 8) | h[11];
  }
  // No early exit: the time does not depend on where the hashes differ.
  static bool same_hash(const key_hash& a, const key_hash& b);

  std::vector<std::uint64_t> _index;  // (tag << 32) | (first line of the entry + 1); 0: empty
  std::vector<cache_line> _arena;     // entries, each followed by its answer, line-aligned
  std::size_t _mask = 0;
  std::size_t _size = 0;
  std::size_t _probe_max = 0;
};

template <typename Keys, typename FindWorkspace, typename FindAgent>
void key_table::build(const Keys& keys, FindWorkspace&& find_ws, FindAgent&& find_agent) {
  clear();
  std::vector<pending> entries;
  std::string identities;
  net::byte_buffer scratch;
  for (const auto& entry : keys) {
    const api_key_record& key = entry.second;
    if (key.revoked_at_ms != 0) continue;
    const workspace* ws = find_ws(key.workspace_id);
    if (ws == nullptr) continue;
    const indexed_agent* agent = nullptr;
    if (!key.agent_id.empty()) {
      agent = find_agent(key.agent_id);
      if (agent == nullptr || agent->effective != agent_state::active || agent->rec.key_id != key.id) continue;
    }
    scratch.clear();
    render_identity_json(scratch, key, *ws);
    entries.push_back({&key, ws, agent, identities.size(), scratch.size()});
    identities.append(scratch.view());
  }
  lay_out(entries, identities);
}

}  // namespace warrant::engine

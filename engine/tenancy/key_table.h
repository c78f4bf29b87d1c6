// engine/tenancy/key_table.h: the request path's view of the usable API keys — one flat,
// open-addressing table built with each published tenancy snapshot.
//
// WHY. The guard authenticates and rate-limits every request. Looking a key up in the
// snapshot's maps meant a hash-map node, the key's heap strings, an ordered-map walk to find
// its workspace and the workspace record: 15-20 cold cache lines per request at 10,000 keys
// (docs/PERFORMANCE.md, "Guard"). Here everything admission reads is resolved once, at publish,
// into a 128-byte slot: the first cache line holds the full SHA-256 of the key (the probe
// compares it), its expiry and both limiter cells and limits — all an acceptance or a 429
// needs; the second holds what comes after admission (roles, the records for handlers, the
// pre-rendered /api/me answer).
//
// LAYOUT. Power-of-two slots, at least twice as many as keys (load factor ≤ 1/2), linear
// probing from the first 8 bytes of the hash (SHA-256 output: uniform, so no further mixing).
// A slot is empty when `key` is nullptr. Only usable keys are entered: revoked keys and keys
// whose workspace is missing are left out, so "absent" and "revoked" are one answer (the same
// 401). Expiry depends on the time and is checked by the reader (`usable_before_ms`).
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
#include <string>
#include <string_view>
#include <vector>

#include "engine/common/limiter_cell.h"
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
  const api_key_record* key = nullptr;  // nullptr: an empty slot
  const workspace* ws = nullptr;
  const char* identity_json = nullptr;  // the /api/me answer (engine/guard/identity_routes.h)
  std::uint32_t identity_json_bytes = 0;
  std::uint32_t roles = 0;
  bool in_default_workspace = false;  // the operator's workspace (platform routes)

  bool usable_at(std::int64_t now_ms) const { return now_ms < usable_before_ms; }
  std::string_view identity() const { return {identity_json, identity_json_bytes}; }
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

  // Writer thread: one slot per usable key. `find_ws(workspace_id)` resolves a key's
  // workspace (nullptr: the key is left out). Pointers must outlive the table.
  template <typename Keys, typename FindWorkspace>
  void build(const Keys& keys, FindWorkspace&& find_ws);

  // Any thread: the slot of the key whose SHA-256 is `h`, or nullptr. Constant-time compare of
  // the full hash for the candidate slots.
  const key_admission* find(const key_hash& h) const {
    if (_slots.empty()) return nullptr;
    for (std::size_t i = home(h);; i = (i + 1) & _mask) {
      const key_admission& s = _slots[i];
      if (s.key == nullptr) return nullptr;
      if (same_hash(s.hash, h)) return &s;
    }
  }

  std::size_t size() const { return _size; }
  std::size_t slots() const { return _slots.size(); }
  // The longest probe sequence of any key present (tests, diagnostics).
  std::size_t probe_max() const { return _probe_max; }

 private:
  void clear();
  void reserve_for(std::size_t keys);
  void insert(const api_key_record& key, const workspace& ws, net::byte_buffer& scratch,
              std::vector<std::size_t>& identity_offsets);
  void point_identities(const std::vector<std::size_t>& identity_offsets);
  std::size_t home(const key_hash& h) const {
    std::uint64_t v = 0;
    for (std::size_t i = 0; i < 8; ++i) v = (v << 8) | h[i];
    return static_cast<std::size_t>(v) & _mask;
  }
  // No early exit: the time does not depend on where the hashes differ.
  static bool same_hash(const key_hash& a, const key_hash& b);

  std::vector<key_admission> _slots;
  std::size_t _mask = 0;
  std::size_t _size = 0;
  std::size_t _probe_max = 0;
  std::string _identities;  // every slot's identity_json, back to back
};

template <typename Keys, typename FindWorkspace>
void key_table::build(const Keys& keys, FindWorkspace&& find_ws) {
  clear();
  std::size_t usable = 0;
  for (const auto& entry : keys) usable += entry.second.revoked_at_ms == 0 ? 1 : 0;
  reserve_for(usable);
  std::vector<std::size_t> identity_offsets(_slots.size());
  net::byte_buffer scratch;
  for (const auto& entry : keys) {
    const api_key_record& key = entry.second;
    if (key.revoked_at_ms != 0) continue;
    const workspace* ws = find_ws(key.workspace_id);
    if (ws != nullptr) insert(key, *ws, scratch, identity_offsets);
  }
  point_identities(identity_offsets);  // _identities no longer grows: its addresses are final
}

}  // namespace warrant::engine

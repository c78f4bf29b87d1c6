// engine/guard/guard.h: the admission step in front of every protected route.
//
// HOW A ROUTE OPTS IN. Register it through the guard instead of the router:
//
//     guard.route(router, net::http_method::post, "/v1/things", [](net::request_context& ctx,
//                                                                 const principal& who) {
//       // who.workspace_id(), who.key_id(), who.key, who.ws, who.snapshot ...
//     });
//
// The access rule comes from the one roles/scopes table (engine/guard/access.cc, keyed by
// method and pattern); a route missing from it fails start-up (std::logic_error). Test-only
// route families may pass their rule explicitly: `guard.route(router, m, pattern, rule, h)`.
// Unprotected routes (/healthz, /readyz, /metrics, /api/health) register on the router.
//
// WHAT HAPPENS BEFORE THE HANDLER (shard thread, per request, no lock, no allocation):
//   1. the key (`x-api-key` or `Authorization: Bearer`) is parsed and looked up in the current
//      tenancy snapshot's key table (engine/tenancy/key_table.h: one probe gives the key, its
//      workspace, limits and limiter cells, resolved when the snapshot was published). Missing, malformed, unknown, revoked, expired: one identical 401 —
//      or 429 once the client address has failed too often (per-address failure limiter);
//   2. the workspace's (and the key's own, if it has one) GCRA limiter admits or refuses:
//      429 RATE_LIMITED with Retry-After. `RateLimit-Policy` and `RateLimit` headers are set on
//      the response now, so every authenticated answer carries them, the handler's too;
//   3. the route's access rule: a missing role or scope is 403 FORBIDDEN naming it (the key's
//      scopes were resolved at publish: roles, or an agent key's preset); an agent key's
//      lastActivityAt cell is touched (engine/common/activity_cell.h);
//   4. the handler runs with the principal.
// The 404/405 answers of the router come before all of this (no handler runs).
//
// WARMING. At 10,000 keys a request's key-table slot, its entry and its workspace's limiter
// cell are usually not in the CPU caches, and each waits for the one before: two or three
// dependent misses per request. `warm` (installed as the shards' net::shard_receive_hook by
// warrantd) runs once per loop turn before the turn's requests are handled: it reads the key
// of each received head (raw_head.h presented_key_in_head), hashes it, and asks for the slots of
// all of them, then for their entries, then for their limiter cells, so that the misses of the
// whole batch overlap. The requests are then handled as always; a request finds its key's hash
// already made when its connection's warmed key is the same text (warmed_keys::hash), and
// computes it otherwise. Nothing but the time a request takes depends on warming.
//
// DEFERRED ANSWERS. Headers on ctx.res when a handler defers (ctx.defer() + write_path's
// submit) travel with the command and are put back on the deferred answer
// (engine/write_path.cc), so writes answered by the storage writer carry them too.
//
// LIFETIMES. A principal and everything it points to (key record, workspace, snapshot) is
// valid only during the handler call (the snapshot lives until the shard's loop turn ends).
// A handler that defers copies what it needs (ids as std::string) first.
//
// Threading: `route` at start-up (main thread, before the shards run); the admission on shard
// threads, each writing only its own counters; `render_metrics` on whichever shard serves
// /metrics (relaxed reads of every shard's counters).
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "engine/guard/access.h"
#include "engine/guard/auth.h"
#include "engine/guard/rate_limit.h"
#include "engine/tenancy/index.h"
#include "net/metrics.h"
#include "net/router.h"
#include "net/shard.h"

namespace warrant::engine {

// Who is calling, established by the guard for one request.
struct principal {
  const api_key_record& key;
  const workspace& ws;
  const tenancy_snapshot& snapshot;  // the one the key was found in; consistent with `key`, `ws`
  scope_set scopes = 0;              // granted by the key's roles or its agent's preset (access.h)
  rate_decision limit;               // what the limiter said (allowed, here)
  std::string_view identity_json;    // the key's /api/me answer, rendered at publish (key_table.h)
  const indexed_agent* agent = nullptr;  // an agent key's agent (effectively ACTIVE), else nullptr

  std::string_view workspace_id() const { return key.workspace_id; }
  std::string_view key_id() const { return key.id; }
  std::uint32_t roles() const { return key.roles; }
  bool has_role(std::uint32_t role_bit) const { return (key.roles & role_bit) != 0; }
  bool has_scope(scope_set s) const { return (scopes & s) == s; }
};

using guarded_handler = std::function<void(net::request_context&, const principal&)>;

// Wall clock for key expiry, monotonic clock for the limiters; injectable for tests.
struct guard_clock {
  std::int64_t (*unix_ms)() = nullptr;      // nullptr: the shard's wall clock of the loop turn
  std::int64_t (*monotonic_ns)() = nullptr;  // nullptr: the shard's monotonic clock of the loop turn
};

struct guard_options {
  // Failed authentications per client address per minute (GCRA, burst = the limit); 0: off.
  std::uint32_t auth_failures_per_minute = auth_failures_per_minute_default;
  guard_clock clock;
};

// Shard counters for /metrics: one cache line per shard, written by that shard alone.
inline constexpr std::size_t guard_shards_max = 1024;  // = warrantd's --shards maximum

struct alignas(64) guard_shard_counters {
  net::counter auth_failures;          // 401 or 429 for a missing/bad key
  net::counter auth_failures_limited;  // ... of which answered 429 (address over its budget)
  net::counter rate_limited_workspace; // 429: the workspace's limit
  net::counter rate_limited_key;       // 429: the key's own limit
  net::counter forbidden;              // 403
};

class guard {
 public:
  guard(tenancy_index& tenancy, const guard_options& options);
  ~guard();
  guard(const guard&) = delete;
  guard& operator=(const guard&) = delete;

  // Start-up: registers a protected route with its rule from the access table.
  const net::route& route(net::router& routes, net::http_method method, std::string_view pattern, guarded_handler handler);
  // Start-up: the same with an explicit rule (test-only route families).
  const net::route& route(net::router& routes, net::http_method method, std::string_view pattern, const access_rule& rule,
                          guarded_handler handler);

  // Whether `r` was registered through this guard (start-up checks and tests).
  bool guards(const net::route& r) const;

  // Shard thread `shard_index`, once per loop turn, before its requests (see WARMING).
  void warm(std::size_t shard_index, const net::received_bytes* received, std::size_t count);
  // The hook that calls `warm`, for net::shard_config::receive_batch.
  net::shard_receive_hook receive_hook();

  // Prometheus series: auth failures, rate-limit rejections, 403s (summed over shards).
  void render_metrics(net::byte_buffer& out) const;

  const guard_options& options() const { return _options; }
  address_failure_limiter& address_limiter() { return _addresses; }

 private:
  struct guarded_route;
  void serve(net::request_context& ctx, const guarded_route& route);
  void refuse_authentication(net::request_context& ctx, guard_shard_counters& counters, std::int64_t now_ns);
  std::int64_t now_ns(const net::shard& owner) const;
  std::int64_t now_unix_ms(const net::shard& owner) const;
  guard_shard_counters& counters(std::size_t shard_index);

  tenancy_index& _tenancy;
  guard_options _options;
  address_failure_limiter _addresses;
  std::vector<std::unique_ptr<guarded_route>> _routes;
  std::vector<const net::route*> _registered;
  std::unique_ptr<guard_shard_counters[]> _counters;
  // Per shard, made by its first `warm` (on that shard's thread; nullptr until then).
  std::unique_ptr<std::unique_ptr<warmed_keys>[]> _warmed;
};

}  // namespace warrant::engine

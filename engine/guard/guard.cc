#include "engine/guard/guard.h"

#include <fmt/format.h>

#include <array>
#include <cassert>
#include <stdexcept>

#include "engine/common/ids.h"
#include "engine/guard/auth.h"
#include "engine/guard/raw_head.h"

namespace warrant::engine {
namespace {

// This shard's counters' index. warrantd runs at most guard_shards_max shards.
std::size_t shard_slot(std::size_t shard_index) {
  assert(shard_index < guard_shards_max);
  return shard_index < guard_shards_max ? shard_index : guard_shards_max - 1;
}

}  // namespace

struct guard::guarded_route {
  access_rule rule;
  guarded_handler handler;
};

guard::guard(tenancy_index& tenancy, const guard_options& options)
    : _tenancy(tenancy),
      _options(options),
      _addresses(options.auth_failures_per_minute),
      _counters(std::make_unique<guard_shard_counters[]>(guard_shards_max)),
      _warmed(std::make_unique<std::unique_ptr<warmed_keys>[]>(guard_shards_max)) {
  if (_options.auth_failures_per_minute > auth_failures_per_minute_max) {
    throw std::invalid_argument("auth failures per minute: at most 1000000");
  }
}

guard::~guard() = default;

const net::route& guard::route(net::router& routes, net::http_method method, std::string_view pattern,
                                guarded_handler handler) {
  const access_rule* rule = find_route_access(method, pattern);
  if (rule == nullptr) {
    throw std::logic_error(fmt::format("{} {} has no rule in the access table (engine/guard/access.cc)",
                                       net::http_method_name(method), pattern));
  }
  return route(routes, method, pattern, *rule, std::move(handler));
}

const net::route& guard::route(net::router& routes, net::http_method method, std::string_view pattern,
                                const access_rule& rule, guarded_handler handler) {
  if (rule.operator_workspace && rule.roles_any == 0) {
    throw std::logic_error(fmt::format("{} {}: an operator-workspace rule must name its roles",
                                       net::http_method_name(method), pattern));
  }
  auto entry = std::make_unique<guarded_route>(guarded_route{rule, std::move(handler)});
  const guarded_route* e = entry.get();
  const net::route& r = routes.add(method, pattern, [this, e](net::request_context& ctx) { serve(ctx, *e); });
  _routes.push_back(std::move(entry));
  _registered.push_back(&r);
  return r;
}

bool guard::guards(const net::route& r) const {
  for (const net::route* g : _registered) {
    if (g == &r) return true;
  }
  return false;
}

// The shard's clocks of this loop turn: one read of each per turn, not per request. A turn's
// time is read after its requests arrived and before they are handled, so it trails the true
// time by at most the turn's length (microseconds). For a key's expiry that only moves it that
// much later. The limiters see each request at a time between its arrival and its handling;
// GCRA admits at most burst + span / interval requests over any span of such times, in
// whatever order the shards' compare-and-swaps apply them, so the limit stays exact.
std::int64_t guard::now_ns(const net::shard& owner) const {
  return _options.clock.monotonic_ns != nullptr ? _options.clock.monotonic_ns() : owner.now_ns();
}

std::int64_t guard::now_unix_ms(const net::shard& owner) const {
  return _options.clock.unix_ms != nullptr ? _options.clock.unix_ms() : owner.now_unix_ms();
}

guard_shard_counters& guard::counters(std::size_t shard_index) { return _counters[shard_slot(shard_index)]; }

static_assert(warmed_keys::capacity >= net::receive_batch_max, "a turn's receives all fit");

void guard::warm(std::size_t shard_index, const net::received_bytes* received, std::size_t count) {
  if (shard_index >= guard_shards_max) return;  // never shared between shards
  std::unique_ptr<warmed_keys>& w = _warmed[shard_index];
  if (w == nullptr) w = std::make_unique<warmed_keys>();
  w->clear();
  const key_table& table = _tenancy.current().usable_keys;
  if (table.size() == 0) return;
  // Three passes, each only starting loads for the next: index slots, entries, limiter cells.
  for (std::size_t i = 0; i < count; ++i) {
    const std::string_view key = presented_key_in_head(received[i].bytes);
    if (!api_key_shaped(key) || !w->add(received[i].conn_slot, received[i].conn_generation, key)) continue;
    table.prefetch_slot((w->end() - 1)->hash);
  }
  for (warmed_keys::entry& e : *w) e.candidate = table.prefetch_entry(e.hash);
  for (const warmed_keys::entry& e : *w) {
    if (e.candidate == nullptr) continue;
    if (e.candidate->workspace_limiter != nullptr) __builtin_prefetch(e.candidate->workspace_limiter, 1);
    if (e.candidate->key_limiter != nullptr) __builtin_prefetch(e.candidate->key_limiter, 1);
  }
}

net::shard_receive_hook guard::receive_hook() {
  return {[](net::shard& s, const net::received_bytes* received, std::size_t count, void* self) {
            static_cast<guard*>(self)->warm(s.index(), received, count);
          },
          this};
}

// The admission step (see guard.h). Everything here reads the one snapshot loaded at the top,
// so the key, its workspace and its limits are mutually consistent for this request.
void guard::serve(net::request_context& ctx, const guarded_route& route) {
  guard_shard_counters& n = counters(ctx.owner.index());
  const std::int64_t now = now_ns(ctx.owner);
  const tenancy_snapshot& snapshot = _tenancy.current();
  // One probe of the snapshot's key table (engine/tenancy/key_table.h): the slot carries the
  // key's workspace, limits and limiter cells, resolved when the snapshot was published.
  // Shape only (prefix, length, alphabet), not the checksum: a key whose checksum is wrong was
  // never generated, so it is in no table and gets the same 401 after one lookup; verifying
  // the checksum would cost a second SHA-256 on every request to answer the same thing earlier.
  const std::string_view presented = presented_key(ctx.req);
  if (!api_key_shaped(presented)) return refuse_authentication(ctx, n, now);
  const std::size_t shard_index = ctx.owner.index();
  warmed_keys* warmed = shard_index < guard_shards_max ? _warmed[shard_index].get() : nullptr;
  const key_hash h = warmed != nullptr ? warmed->hash(ctx.conn_slot, ctx.conn_generation, presented)
                                       : hash_api_key(presented);
  const key_admission* key = find_usable_key(h, snapshot, now_unix_ms(ctx.owner));
  if (key == nullptr) return refuse_authentication(ctx, n, now);

  const rate_decision limit = admit_request(*key, now);
  add_rate_limit_headers(ctx.res, limit);
  if (!limit.allowed()) {
    (limit.refused == rate_decision::refused_by::key ? n.rate_limited_key : n.rate_limited_workspace).add();
    return answer_rate_limited(ctx.res, limit.retry_after_s);
  }

  const access_denial denial =
      check_access_with_scopes(route.rule, key->in_default_workspace, key->roles, key->scopes);
  if (!denial.allowed()) {
    n.forbidden.add();
    std::array<char, denial_message_bytes_max> buf{};
    return answer_forbidden(ctx.res, denial_message(denial, buf));
  }
  if (key->activity != nullptr) key->activity->touch(now_unix_ms(ctx.owner));
  const principal who{*key->key, *key->ws, snapshot, key->scopes, limit, key->identity(), key->agent};
  route.handler(ctx, who);
}

// One answer for every kind of bad key, so that nothing can be learnt from it; past the
// address's failure budget the answer becomes 429 (still saying nothing about the key). A
// valid key is never refused for its address's failures: keys have 256 random bits, so no
// guess is ever confirmed, and blocking valid keys would let one bad client behind a shared
// address (a NAT, a proxy) lock out everybody else there.
void guard::refuse_authentication(net::request_context& ctx, guard_shard_counters& n, std::int64_t now_ns) {
  n.auth_failures.add();
  const address_failure_limiter::verdict v = _addresses.record_failure(ctx.owner.peer(ctx.conn_slot), now_ns);
  if (!v.limited) return answer_unauthorized(ctx.res);
  n.auth_failures_limited.add();
  answer_rate_limited(ctx.res, v.retry_after_s);
}

void guard::render_metrics(net::byte_buffer& out) const {
  std::uint64_t failures = 0;
  std::uint64_t failures_limited = 0;
  std::uint64_t by_workspace = 0;
  std::uint64_t by_key = 0;
  std::uint64_t forbidden = 0;
  for (std::size_t i = 0; i < guard_shards_max; ++i) {
    const guard_shard_counters& c = _counters[i];
    failures += c.auth_failures.get();
    failures_limited += c.auth_failures_limited.get();
    by_workspace += c.rate_limited_workspace.get();
    by_key += c.rate_limited_key.get();
    forbidden += c.forbidden.get();
  }
  out.append(fmt::format(
      "# HELP warrant_auth_failures_total Requests with a missing, malformed, unknown, revoked or expired key.\n"
      "# TYPE warrant_auth_failures_total counter\nwarrant_auth_failures_total {}\n"
      "# HELP warrant_rate_limited_total Requests answered 429, by the limit that refused them.\n"
      "# TYPE warrant_rate_limited_total counter\n"
      "warrant_rate_limited_total{{limit=\"workspace\"}} {}\n"
      "warrant_rate_limited_total{{limit=\"key\"}} {}\n"
      "warrant_rate_limited_total{{limit=\"auth_failures\"}} {}\n"
      "# HELP warrant_forbidden_total Requests answered 403: a valid key lacking the route's role or scope.\n"
      "# TYPE warrant_forbidden_total counter\nwarrant_forbidden_total {}\n",
      failures, by_workspace, by_key, failures_limited, forbidden));
}

}  // namespace warrant::engine

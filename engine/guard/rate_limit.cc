#include "engine/guard/rate_limit.h"

#include <fmt/format.h>
#include <xxhash.h>

#include <algorithm>
#include <array>
#include <cassert>
#include <cstring>

#include "engine/common/ids.h"

namespace warrant::engine {

gcra_params gcra_params_for(std::uint32_t per_minute) {
  assert(per_minute >= 1);
  const std::int64_t limit = std::max<std::uint32_t>(per_minute, 1);
  const std::int64_t interval = rate_window_ns / limit;  // rounded down: W = L×T ≤ 60 s, burst exactly L
  return {interval, interval * limit};
}

gcra_step gcra_decide(std::int64_t tat_ns, std::int64_t now_ns, std::uint32_t per_minute) {
  const gcra_params p = gcra_params_for(per_minute);
  // The quota is at most empty: a TAT further ahead than W only arises from a clock that went
  // backwards, and must not refuse for longer than an empty quota would.
  const std::int64_t base = std::min(std::max(tat_ns, now_ns), now_ns + p.window_ns);
  const std::int64_t next = base + p.interval_ns;
  gcra_step out;
  if (next - now_ns > p.window_ns) {
    out.allowed = false;
    out.retry_after_ns = next - p.window_ns - now_ns;
    out.reset_ns = base - now_ns;
    return out;
  }
  out.allowed = true;
  out.next_tat_ns = next;
  out.remaining = static_cast<std::uint32_t>((now_ns + p.window_ns - next) / p.interval_ns);
  out.reset_ns = next - now_ns;
  return out;
}

gcra_step gcra_admit(std::atomic<std::int64_t>& tat_ns, std::int64_t now_ns, std::uint32_t per_minute) {
  // Relaxed is enough: the cell is the only state, and a read-modify-write on one location is
  // totally ordered whatever the memory order. Each success moved the TAT by exactly T.
  std::int64_t tat = tat_ns.load(std::memory_order_relaxed);
  while (true) {
    const gcra_step step = gcra_decide(tat, now_ns, per_minute);
    if (step.allowed) {
      if (tat_ns.compare_exchange_weak(tat, step.next_tat_ns, std::memory_order_relaxed)) return step;
      continue;
    }
    // A TAT beyond now + W (the clock went backwards) is brought down to now + W, so that the
    // quota refills from "empty" on the new clock instead of staying shut until the old one.
    const std::int64_t ceiling = now_ns + gcra_params_for(per_minute).window_ns;
    if (tat <= ceiling || tat_ns.compare_exchange_weak(tat, ceiling, std::memory_order_relaxed)) return step;
  }
}

void gcra_refund(std::atomic<std::int64_t>& tat_ns, std::uint32_t per_minute) {
  // If the TAT has meanwhile fallen behind the clock, the refund lands in the past, where
  // max(TAT, now) ignores it: a full quota cannot be overfilled.
  tat_ns.fetch_sub(gcra_params_for(per_minute).interval_ns, std::memory_order_relaxed);
}

std::uint32_t whole_seconds_up(std::int64_t ns, bool at_least_one) {
  const std::int64_t s = ns <= 0 ? 0 : (ns + 999'999'999) / 1'000'000'000;
  const std::int64_t bounded = std::min<std::int64_t>(s, 1'000'000'000);
  return static_cast<std::uint32_t>(at_least_one ? std::max<std::int64_t>(bounded, 1) : bounded);
}

// ---- one request --------------------------------------------------------------------------

namespace {

policy_state policy_of(const gcra_step& step, std::uint32_t quota) {
  return {quota, step.allowed ? step.remaining : 0, whole_seconds_up(step.reset_ns, false)};
}

// The state of a cell without spending from it.
policy_state current_policy(const std::atomic<std::int64_t>& tat_ns, std::int64_t now_ns, std::uint32_t quota) {
  const gcra_params p = gcra_params_for(quota);
  const std::int64_t tat = tat_ns.load(std::memory_order_relaxed);
  const std::int64_t debt = std::min(std::max(tat - now_ns, std::int64_t{0}), p.window_ns);
  return {quota, static_cast<std::uint32_t>((p.window_ns - debt) / p.interval_ns), whole_seconds_up(debt, false)};
}

std::uint32_t workspace_limit(const workspace& ws) {
  return ws.requests_per_minute == 0 ? default_requests_per_minute : ws.requests_per_minute;
}

}  // namespace

std::uint32_t key_requests_per_minute(const workspace& ws, const api_key_record& key) {
  if (key.requests_per_minute == 0) return 0;
  return std::min(key.requests_per_minute, workspace_limit(ws));
}

rate_decision admit_request(const workspace& ws, const api_key_record& key, std::int64_t now_ns) {
  rate_decision d;
  const std::uint32_t ws_limit = workspace_limit(ws);
  const std::uint32_t key_limit = key_requests_per_minute(ws, key);
  d.workspace.quota = ws_limit;
  d.workspace.remaining = ws_limit;
  if (key_limit != 0 && key.limiter != nullptr) {
    d.has_key_policy = true;
    const gcra_step k = gcra_admit(key.limiter->tat_ns, now_ns, key_limit);
    d.key = policy_of(k, key_limit);
    if (!k.allowed) {
      // The workspace was not charged; its state is reported as it stands.
      if (ws.limiter != nullptr) d.workspace = current_policy(ws.limiter->tat_ns, now_ns, ws_limit);
      d.refused = rate_decision::refused_by::key;
      d.retry_after_s = whole_seconds_up(k.retry_after_ns, true);
      return d;
    }
  }
  if (ws.limiter == nullptr) return d;
  const gcra_step w = gcra_admit(ws.limiter->tat_ns, now_ns, ws_limit);
  d.workspace = policy_of(w, ws_limit);
  if (!w.allowed) {
    if (d.has_key_policy) {
      gcra_refund(key.limiter->tat_ns, key_limit);
      d.key.remaining = std::min(d.key.remaining + 1, key_limit);
    }
    d.refused = rate_decision::refused_by::workspace;
    d.retry_after_s = whole_seconds_up(w.retry_after_ns, true);
  }
  return d;
}

void add_rate_limit_headers(net::http_response& res, const rate_decision& d) {
  // Formatted into stack buffers: no allocation. 128 bytes hold the longest values (10-digit numbers).
  std::array<char, 128> policy{};
  std::array<char, 128> state{};
  fmt::format_to_n_result<char*> p{};
  fmt::format_to_n_result<char*> r{};
  if (d.has_key_policy) {
    p = fmt::format_to_n(policy.data(), policy.size(), R"("workspace";q={};w=60, "key";q={};w=60)",
                         d.workspace.quota, d.key.quota);
    r = fmt::format_to_n(state.data(), state.size(), R"("workspace";r={};t={}, "key";r={};t={})",
                         d.workspace.remaining, d.workspace.reset_s, d.key.remaining, d.key.reset_s);
  } else {
    p = fmt::format_to_n(policy.data(), policy.size(), R"("workspace";q={};w=60)", d.workspace.quota);
    r = fmt::format_to_n(state.data(), state.size(), R"("workspace";r={};t={})", d.workspace.remaining,
                         d.workspace.reset_s);
  }
  res.add_header("RateLimit-Policy", std::string_view(policy.data(), std::min(p.size, policy.size())));
  res.add_header("RateLimit", std::string_view(state.data(), std::min(r.size, state.size())));
}

void answer_rate_limited(net::http_response& res, std::uint32_t retry_after_s) {
  res.set_error(429, "RATE_LIMITED", "rate limit exceeded");
  std::array<char, 16> buf{};
  const auto r = fmt::format_to_n(buf.data(), buf.size(), "{}", std::max<std::uint32_t>(retry_after_s, 1));
  res.add_header("Retry-After", std::string_view(buf.data(), r.size));
}

// ---- failed authentications per address ---------------------------------------------------

address_failure_limiter::address_failure_limiter(std::uint32_t per_minute)
    : _per_minute(per_minute), _cells(std::make_unique<std::atomic<std::int64_t>[]>(address_limiter_cells)) {
  // Keyed hashing: nobody outside can aim many addresses at one victim's cells.
  random_bytes(&_seed, sizeof _seed);
  for (std::size_t i = 0; i < address_limiter_cells; ++i) _cells[i].store(0, std::memory_order_relaxed);
}

address_failure_limiter::verdict address_failure_limiter::record_failure(const net::peer_address& addr,
                                                                         std::int64_t now_ns) {
  if (_per_minute == 0) return {};
  // IPv6 per /64; IPv4 per address; unknown (the peer is gone) shares one budget.
  std::array<std::uint8_t, 9> key{};
  key[0] = static_cast<std::uint8_t>(addr.family);
  const std::size_t n = addr.family == net::peer_address::family_kind::ipv4 ? 4 : 8;
  std::memcpy(key.data() + 1, addr.bytes.data(), n);
  const XXH64_hash_t h = XXH3_64bits_withSeed(key.data(), 1 + n, _seed);
  const std::size_t mask = address_limiter_cells - 1;
  std::size_t a = static_cast<std::size_t>(h) & mask;
  std::size_t b = static_cast<std::size_t>(h >> 32) & mask;
  if (a == b) b = (b + 1) & mask;  // two distinct cells
  const gcra_step first = gcra_admit(_cells[a], now_ns, _per_minute);
  const gcra_step second = gcra_admit(_cells[b], now_ns, _per_minute);
  if (first.allowed || second.allowed) return {};
  return {true, whole_seconds_up(std::min(first.retry_after_ns, second.retry_after_ns), true)};
}

}  // namespace warrant::engine

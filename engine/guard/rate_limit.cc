#include "engine/guard/rate_limit.h"

#include <xxhash.h>

#include <algorithm>
#include <array>
#include <charconv>
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

}  // namespace

std::uint32_t key_requests_per_minute(const workspace& ws, const api_key_record& key) {
  if (key.requests_per_minute == 0) return 0;
  return std::min(key.requests_per_minute, workspace_requests_per_minute(ws));
}

rate_decision admit_request(limiter_cell* ws_cell, std::uint32_t ws_limit, limiter_cell* key_cell,
                            std::uint32_t key_limit, std::int64_t now_ns) {
  rate_decision d;
  d.workspace.quota = ws_limit;
  d.workspace.remaining = ws_limit;
  if (key_limit != 0 && key_cell != nullptr) {
    d.has_key_policy = true;
    const gcra_step k = gcra_admit(key_cell->tat_ns, now_ns, key_limit);
    d.key = policy_of(k, key_limit);
    if (!k.allowed) {
      // The workspace was not charged; its state is reported as it stands.
      if (ws_cell != nullptr) d.workspace = current_policy(ws_cell->tat_ns, now_ns, ws_limit);
      d.refused = rate_decision::refused_by::key;
      d.retry_after_s = whole_seconds_up(k.retry_after_ns, true);
      return d;
    }
  }
  if (ws_cell == nullptr) return d;
  const gcra_step w = gcra_admit(ws_cell->tat_ns, now_ns, ws_limit);
  d.workspace = policy_of(w, ws_limit);
  if (!w.allowed) {
    if (d.has_key_policy) {
      gcra_refund(key_cell->tat_ns, key_limit);
      d.key.remaining = std::min(d.key.remaining + 1, key_limit);
    }
    d.refused = rate_decision::refused_by::workspace;
    d.retry_after_s = whole_seconds_up(w.retry_after_ns, true);
  }
  return d;
}

rate_decision admit_request(const workspace& ws, const api_key_record& key, std::int64_t now_ns) {
  const std::uint32_t key_limit = key_requests_per_minute(ws, key);
  return admit_request(ws.limiter, workspace_requests_per_minute(ws), key_limit != 0 ? key.limiter : nullptr,
                       key_limit, now_ns);
}

rate_decision admit_request(const key_admission& key, std::int64_t now_ns) {
  return admit_request(key.workspace_limiter, key.workspace_limit, key.key_limiter, key.key_limit, now_ns);
}

namespace {

// A tiny appender over a stack buffer: the header values are formatted without fmt (its
// run-time format strings showed in the profile) and without allocation.
class header_text {
 public:
  header_text& operator<<(std::string_view s) {
    const std::size_t n = std::min(s.size(), _buf.size() - _size);
    std::memcpy(_buf.data() + _size, s.data(), n);
    _size += n;
    return *this;
  }
  header_text& operator<<(std::uint32_t v) {
    const auto r = std::to_chars(_buf.data() + _size, _buf.data() + _buf.size(), v);
    if (r.ec == std::errc{}) _size = static_cast<std::size_t>(r.ptr - _buf.data());
    return *this;
  }
  std::string_view view() const { return {_buf.data(), _size}; }

 private:
  std::array<char, 128> _buf;  // the longest values (10-digit numbers) need 76 bytes
  std::size_t _size = 0;
};

}  // namespace

void add_rate_limit_headers(net::http_response& res, const rate_decision& d) {
  header_text policy;
  header_text state;
  policy << R"("workspace";q=)" << d.workspace.quota << ";w=60";
  state << R"("workspace";r=)" << d.workspace.remaining << ";t=" << d.workspace.reset_s;
  if (d.has_key_policy) {
    policy << R"(, "key";q=)" << d.key.quota << ";w=60";
    state << R"(, "key";r=)" << d.key.remaining << ";t=" << d.key.reset_s;
  }
  res.add_header("RateLimit-Policy", policy.view());
  res.add_header("RateLimit", state.view());
}

void answer_rate_limited(net::http_response& res, std::uint32_t retry_after_s) {
  res.set_error(429, "RATE_LIMITED", "rate limit exceeded");
  header_text value;
  value << std::max<std::uint32_t>(retry_after_s, 1);
  res.add_header("Retry-After", value.view());
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

// engine/guard/rate_limit.h: per-workspace and per-key request limits (GCRA), and the
// per-address limiter of failed authentications.
//
// GCRA (the generic cell rate algorithm, a token bucket kept as one number). A limit of L
// requests per minute has an emission interval T = 60 s / L and a window W = L × T (60 s,
// minus rounding below 1 ns per unit). The state is one "theoretical arrival time" (TAT) per
// limited thing. A request at `now` is admitted when max(TAT, now) + T − now ≤ W, and then
// TAT becomes max(TAT, now) + T. So a full quota of L can be spent at once (burst = L), and
// one unit comes back every T (refill at L/60 per second). Because the state is a time, a
// limit changed mid-stream keeps the debt already built up, measured in time, and repays it at
// the new rate.
//
// Concurrency: the TAT lives in a `limiter_cell` (engine/common/limiter_cell.h) that never
// moves and is shared by every shard; admission is a compare-and-swap loop on it — exact
// across shards (each admitted request moved the TAT by exactly T), lock-free, no allocation,
// and no other shared write. The clock is CLOCK_MONOTONIC read per admission (not the shard's
// turn-start time, which can lag by a whole loop turn and would make shards disagree).
//
// Clock edge cases: a TAT more than W ahead of `now` (the clock went backwards, or an injected
// clock jumped) is treated as, and brought down to, exactly W ahead — the quota is empty,
// never "more than empty" — so after a backwards jump the quota refills on the new clock
// instead of staying shut until the old one catches up. A huge forward gap just finds the
// quota full. Times are nanoseconds in [0, 2^62].
//
// Per key: a key with its own `requests_per_minute` has its own cell too, limited at
// min(key, workspace); a request must pass both (the key first; a unit the key spent on a
// request its workspace then refused is given back).
//
// Failed authentications: `address_failure_limiter` is a fixed table of cells (constant memory
// whatever the number of addresses or keys tried). Each address hashes (keyed hash, random
// seed per process) to two cells; every failure charges both; the address is over its budget
// only when both refuse, so an innocent address sharing one cell with a flooder stays usable.
// IPv6 addresses count per /64 (one host usually holds the whole /64).
//
// Threading: all of it from any shard thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>

#include "engine/common/limiter_cell.h"
#include "engine/tenancy/key_table.h"
#include "engine/tenancy/model.h"
#include "net/http_response.h"
#include "net/peer_address.h"

namespace warrant::engine {

inline constexpr std::int64_t rate_window_ns = 60'000'000'000;
inline constexpr std::uint32_t auth_failures_per_minute_default = 120;
inline constexpr std::uint32_t auth_failures_per_minute_max = 1'000'000;
inline constexpr std::size_t address_limiter_cells = 1u << 16;  // 512 KiB, whatever the flood
static_assert((address_limiter_cells & (address_limiter_cells - 1)) == 0);
static_assert(requests_per_minute_max <= 60'000'000, "T must stay at least 1 µs");

// ---- GCRA ---------------------------------------------------------------------------------

struct gcra_params {
  std::int64_t interval_ns;  // T
  std::int64_t window_ns;    // W = limit × T
};
gcra_params gcra_params_for(std::uint32_t per_minute);

// One decision on a TAT value, without touching any cell: the pure core.
struct gcra_step {
  bool allowed = false;
  std::int64_t next_tat_ns = 0;     // allowed: the TAT to store
  std::uint32_t remaining = 0;      // units still available after this request
  std::int64_t reset_ns = 0;        // until the quota is full again
  std::int64_t retry_after_ns = 0;  // refused: until one unit is available (> 0)
};
gcra_step gcra_decide(std::int64_t tat_ns, std::int64_t now_ns, std::uint32_t per_minute);

// Admits one request against the TAT in `tat_ns` (compare-and-swap loop).
gcra_step gcra_admit(std::atomic<std::int64_t>& tat_ns, std::int64_t now_ns, std::uint32_t per_minute);
// Gives back one unit admitted at `per_minute` (a request a later check refused).
void gcra_refund(std::atomic<std::int64_t>& tat_ns, std::uint32_t per_minute);

// Whole seconds for a header: rounded up; `at_least_one` for Retry-After.
std::uint32_t whole_seconds_up(std::int64_t ns, bool at_least_one);

// ---- one request's limits -----------------------------------------------------------------

struct policy_state {
  std::uint32_t quota = 0;      // q: requests per minute
  std::uint32_t remaining = 0;  // r
  std::uint32_t reset_s = 0;    // t: seconds until the quota is full again
};

struct rate_decision {
  enum class refused_by : std::uint8_t { none, workspace, key };
  refused_by refused = refused_by::none;
  bool has_key_policy = false;   // the key has its own limit: a second policy in the headers
  policy_state workspace;
  policy_state key;
  std::uint32_t retry_after_s = 0;  // refused: Retry-After (≥ 1)

  bool allowed() const { return refused == refused_by::none; }
};

// The key's effective limit: its own, capped by its workspace's; 0 when it has none.
std::uint32_t key_requests_per_minute(const workspace& ws, const api_key_record& key);

// Admits one request of `key` (of `ws`) at `now_ns`. Records without a cell (tests, offline
// snapshots) are unlimited.
rate_decision admit_request(const workspace& ws, const api_key_record& key, std::int64_t now_ns);
// The same from a key-table slot (the request path): its limits and cells, resolved at publish.
rate_decision admit_request(const key_admission& key, std::int64_t now_ns);
// The core: a workspace cell at `ws_limit` and, when `key_limit` ≠ 0 and `key_cell` is set, the
// key's own; a null cell is unlimited.
rate_decision admit_request(limiter_cell* ws_cell, std::uint32_t ws_limit, limiter_cell* key_cell,
                            std::uint32_t key_limit, std::int64_t now_ns);

// `RateLimit-Policy: "workspace";q=2000;w=60[, "key";q=100;w=60]` and
// `RateLimit: "workspace";r=1999;t=1[, "key";r=99;t=1]`.
void add_rate_limit_headers(net::http_response& res, const rate_decision& d);
// 429 {"error":"rate limit exceeded","code":"RATE_LIMITED"} with Retry-After (headers kept).
void answer_rate_limited(net::http_response& res, std::uint32_t retry_after_s);

// ---- failed authentications per client address -------------------------------------------

class address_failure_limiter {
 public:
  // `per_minute` 0: never limits.
  explicit address_failure_limiter(std::uint32_t per_minute);

  struct verdict {
    bool limited = false;
    std::uint32_t retry_after_s = 0;  // limited: Retry-After (≥ 1)
  };
  // Charges one failed authentication from `addr`; limited once the address is over budget.
  verdict record_failure(const net::peer_address& addr, std::int64_t now_ns);

  std::uint32_t per_minute() const { return _per_minute; }

 private:
  std::uint32_t _per_minute;
  std::uint64_t _seed;
  std::unique_ptr<std::atomic<std::int64_t>[]> _cells;  // TATs; unpadded: only floods write here
};

}  // namespace warrant::engine

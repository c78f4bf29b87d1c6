// engine/idempotency/service.h: the idempotency step of a write route (spec/common.md
// "Idempotency (writes)"; docs/api-common.md "Idempotency").
//
// HOW A WRITE ROUTE OPTS IN (shard thread, after authentication and after the route has
// validated its body — a request refused by validation never executed, so nothing is stored):
//
//   1. read the Idempotency-Key header (`read_key`, key.h): invalid -> `answer_invalid_key`;
//      absent -> the route may derive an automatic key from the body (auto-dedup, e.g. events);
//   2. canonicalise the body (canonical_json.h) and call `admit` with the request's identity.
//      `admit` claims the scope in the in-flight table, then looks for a stored answer in LMDB
//      (a short read transaction). It answers on `res` and returns false for: a replay (the
//      stored status, headers and body, plus `X-Idempotency-Replay: true`, and
//      `X-Idempotency-Auto: true` for automatic keys), 409 IDEMPOTENCY_IN_PROGRESS
//      (Retry-After: 1), 422 IDEMPOTENCY_KEY_REUSED (same key, other fingerprint; automatic
//      keys replay whatever the payload: they name the event, not the request), 503 when the
//      in-flight table's window is full or storage cannot be read. Otherwise it returns true
//      with a `ticket` (inactive when there is no key at all);
//   3. build the write as an `idempotent_command` (command.h) carrying the ticket and submit it.
//      The writer stores the answer in the write's own transaction; the ticket's claim is
//      released when the command is destroyed, after its answer exists — on every path.
//
// What is stored: only answers of requests that executed and changed state (the command
// applied). Validation errors (400/415/422 of the route), 401, 403, 409, 429, 5xx and a write
// the command itself rejected are not stored: a retry with the same key is evaluated afresh.
// Records live `ttl_ms` (--idempotency-ttl-hours, default 24 h); an expired record is ignored
// at once and deleted by the sweeper (sweeper.h) soon after.
//
// Recovery: nothing to rebuild. The in-flight table starts empty (no request survives a
// restart) and every stored answer is in LMDB, committed with its write.
//
// Threading: `admit` and the counters on shard threads (each shard writes only its own
// counters); `render_metrics` on any thread.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "engine/idempotency/fingerprint.h"
#include "engine/idempotency/inflight_table.h"
#include "engine/idempotency/record.h"
#include "net/byte_buffer.h"
#include "net/http_response.h"
#include "net/metrics.h"
#include "storage/lmdb_store.h"

namespace warrant::engine::idempotency {

inline constexpr std::int64_t ttl_ms_default = 24LL * 3600 * 1000;
inline constexpr std::size_t shards_max = 1024;  // = warrantd's --shards maximum

struct service_options {
  std::int64_t ttl_ms = ttl_ms_default;
  std::size_t inflight_slots = idempotency::inflight_slots;
};

// One cache line per shard, written by that shard alone (net::counter), summed on scrape.
struct alignas(64) shard_counters {
  net::counter replays;          // answered from a stored response (client key)
  net::counter replays_auto;     // ... for an automatic key
  net::counter in_progress;      // 409 IDEMPOTENCY_IN_PROGRESS
  net::counter key_reused;       // 422 IDEMPOTENCY_KEY_REUSED
  net::counter inflight_full;    // 503: the in-flight table's window was full
  net::counter lookup_failures;  // 503: the stored response could not be read
  net::counter stored;           // answers stored with their write
};

// What names an idempotent request. Views must outlive the `admit` call only.
struct request_identity {
  std::string_view workspace_id;
  std::string_view method;          // "POST"
  std::string_view route_pattern;   // as registered: "/v1/test/writes"
  std::string_view canonical_body;  // canonical_json.h
  key_kind kind = key_kind::client;
  std::string_view key;             // empty: the request is not idempotent
};

class service;

// What an admitted idempotent request carries to its command: the claim, and the record
// to store beside the write. Move-only; destroying it releases the claim.
class ticket {
 public:
  ticket() = default;
  bool active() const { return _claim.held(); }
  const std::string& record_key() const { return _record_key; }
  // The record to store, without its response (the command fills that in).
  record& pending() { return _record; }
  const record& pending() const { return _record; }
  service* owner() const { return _service; }
  std::size_t shard_index() const { return _shard_index; }

 private:
  friend class service;
  claim _claim;
  std::string _record_key;
  record _record;
  service* _service = nullptr;
  std::size_t _shard_index = 0;
};

class service {
 public:
  service(storage::lmdb_store& store, const service_options& options);
  service(const service&) = delete;
  service& operator=(const service&) = delete;

  // Shard thread: see the header comment. `now_ms` is the wall clock (record times).
  bool admit(const request_identity& id, std::size_t shard_index, std::int64_t now_ms, net::http_response& res,
             ticket& out);

  // Answers a repeat from a stored record found by `admit` or, as a last check, by the
  // command inside the writer's transaction: a replay, or 422 when the fingerprints differ.
  void answer_stored(const record& stored, const digest& fingerprint, key_kind kind, std::size_t shard_index,
                     net::http_response& res);

  shard_counters& counters(std::size_t shard_index) { return _counters[shard_index % shards_max]; }
  inflight_table& inflight() { return _inflight; }
  std::int64_t ttl_ms() const { return _options.ttl_ms; }

  // Sweeper statistics (sweeper thread writes, any thread reads).
  std::atomic<std::uint64_t> swept_records{0};
  std::atomic<std::uint64_t> sweep_commits{0};

  void render_metrics(net::byte_buffer& out) const;

 private:
  storage::lmdb_store& _store;
  service_options _options;
  inflight_table _inflight;
  std::unique_ptr<shard_counters[]> _counters;
};

// The fixed answers (spec/common.md).
void answer_invalid_key(net::http_response& res);
void answer_in_progress(net::http_response& res);
void answer_key_reused(net::http_response& res);
void answer_replay(const stored_response& stored, key_kind kind, net::http_response& res);

inline constexpr std::string_view replay_header = "X-Idempotency-Replay";
inline constexpr std::string_view auto_header = "X-Idempotency-Auto";

}  // namespace warrant::engine::idempotency

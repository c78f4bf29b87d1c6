#include "engine/idempotency/service.h"

#include <fmt/format.h>

#include <cstdio>
#include <stdexcept>

#include "storage/record.h"

namespace warrant::engine::idempotency {
namespace {

enum class lookup_status : std::uint8_t { absent, found, failed };

// The live stored record of `key`, if any. Expired records count as absent; they are
// overwritten by the next write with the same scope or removed by the sweeper.
lookup_status lookup(storage::lmdb_store& store, std::string_view key, std::int64_t now_ms, record& out) {
  try {
    storage::lmdb_store::reader r(store);  // short-lived: ends with this function
    const auto raw = r.get(storage::table::idempotency, key);
    if (!raw) return lookup_status::absent;
    storage::decoded_record rec;
    if (storage::decode_record(*raw, rec) != storage::decode_errc::ok ||
        rec.type != storage::record_type::idempotent_response) {
      return lookup_status::failed;
    }
    auto decoded = decode_record(rec.payload);
    if (!decoded) return lookup_status::failed;
    if (decoded->expired_at(now_ms)) return lookup_status::absent;
    out = std::move(*decoded);
    return lookup_status::found;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "warrantd: idempotency lookup failed: %s\n", e.what());
    return lookup_status::failed;
  }
}

void answer_inflight_full(net::http_response& res) {
  res.set_error(503, "OVERLOADED", "too many idempotent requests are in flight; nothing was written", "retry later");
  res.add_header("Retry-After", "1");
}

void answer_lookup_failed(net::http_response& res) {
  res.set_error(503, "STORAGE_UNAVAILABLE", "the stored response of this Idempotency-Key cannot be read", "retry later");
  res.add_header("Retry-After", "1");
}

}  // namespace

service::service(storage::lmdb_store& store, const service_options& options)
    : _store(store), _options(options), _inflight(options.inflight_slots),
      _counters(std::make_unique<shard_counters[]>(shards_max)) {
  if (_options.ttl_ms <= 0) throw std::invalid_argument("idempotency: the retention must be positive");
}

bool service::admit(const request_identity& id, std::size_t shard_index, std::int64_t now_ms,
                    net::http_response& res, ticket& out) {
  out = ticket();
  if (id.key.empty()) return true;
  shard_counters& c = counters(shard_index);
  const digest scope = scope_digest(id.workspace_id, id.method, id.route_pattern, id.kind, id.key);
  const std::uint64_t hash = scope_hash(scope);
  const inflight_table::claim_result claimed = _inflight.try_claim(hash);
  if (claimed.status == claim_status::in_progress) {
    c.in_progress.add();
    answer_in_progress(res);
    return false;
  }
  if (claimed.status == claim_status::full) {
    c.inflight_full.add();
    answer_inflight_full(res);
    return false;
  }
  claim held(_inflight, claimed.slot, hash);  // released on every return below but the last
  const digest fingerprint = request_fingerprint(id.method, id.route_pattern, id.canonical_body);
  std::string key = record_key(id.workspace_id, scope);
  record stored;
  switch (lookup(_store, key, now_ms, stored)) {
    case lookup_status::failed:
      c.lookup_failures.add();
      answer_lookup_failed(res);
      return false;
    case lookup_status::found:
      answer_stored(stored, fingerprint, id.kind, shard_index, res);
      return false;
    case lookup_status::absent: break;
  }
  out._claim = std::move(held);
  out._record_key = std::move(key);
  out._service = this;
  out._shard_index = shard_index;
  record& r = out._record;
  r.workspace_id = id.workspace_id;
  r.method = id.method;
  r.route_pattern = id.route_pattern;
  r.kind = id.kind;
  r.key = id.key;
  r.fingerprint = fingerprint;
  r.created_at_ms = now_ms;
  r.expires_at_ms = now_ms + _options.ttl_ms;
  return true;
}

void service::answer_stored(const record& stored, const digest& fingerprint, key_kind kind, std::size_t shard_index,
                            net::http_response& res) {
  shard_counters& c = counters(shard_index);
  if (kind == key_kind::client && stored.fingerprint != fingerprint) {
    c.key_reused.add();
    answer_key_reused(res);
    return;
  }
  (kind == key_kind::automatic ? c.replays_auto : c.replays).add();
  answer_replay(stored.response, kind, res);
}

void answer_invalid_key(net::http_response& res) {
  res.set_error(400, "INVALID_IDEMPOTENCY_KEY",
                "the Idempotency-Key header must be 1 to 255 printable ASCII characters, or one quoted "
                "structured-field string, and be sent once",
                "use a random UUID as the key");
}

void answer_in_progress(net::http_response& res) {
  res.set_error(409, "IDEMPOTENCY_IN_PROGRESS",
                "A request with this Idempotency-Key is currently in progress. Retry after the in-flight request "
                "completes.");
  res.add_header("Retry-After", "1");
}

void answer_key_reused(net::http_response& res) {
  res.set_error(422, "IDEMPOTENCY_KEY_REUSED",
                "this Idempotency-Key was used with a different request (method, route or body)",
                "send a new Idempotency-Key for a different request");
}

void answer_replay(const stored_response& stored, key_kind kind, net::http_response& res) {
  write_response(stored, res);
  res.add_header(replay_header, "true");
  if (kind == key_kind::automatic) res.add_header(auto_header, "true");
}

void service::render_metrics(net::byte_buffer& out) const {
  shard_counters sum;
  for (std::size_t i = 0; i < shards_max; ++i) {
    const shard_counters& s = _counters[i];
    sum.replays.add(s.replays.get());
    sum.replays_auto.add(s.replays_auto.get());
    sum.in_progress.add(s.in_progress.get());
    sum.key_reused.add(s.key_reused.get());
    sum.inflight_full.add(s.inflight_full.get());
    sum.lookup_failures.add(s.lookup_failures.get());
    sum.stored.add(s.stored.get());
  }
  out.append(fmt::format(
      "# HELP warrant_idempotency_replays_total Repeats answered with the stored response.\n"
      "# TYPE warrant_idempotency_replays_total counter\n"
      "warrant_idempotency_replays_total{{key=\"client\"}} {}\n"
      "warrant_idempotency_replays_total{{key=\"auto\"}} {}\n"
      "# HELP warrant_idempotency_conflicts_total Repeats refused: still in flight (409) or another payload (422).\n"
      "# TYPE warrant_idempotency_conflicts_total counter\n"
      "warrant_idempotency_conflicts_total{{reason=\"in_progress\"}} {}\n"
      "warrant_idempotency_conflicts_total{{reason=\"key_reused\"}} {}\n"
      "# HELP warrant_idempotency_unavailable_total 503s: in-flight table window full, or stored response unreadable.\n"
      "# TYPE warrant_idempotency_unavailable_total counter\n"
      "warrant_idempotency_unavailable_total{{reason=\"inflight_full\"}} {}\n"
      "warrant_idempotency_unavailable_total{{reason=\"lookup_failed\"}} {}\n"
      "# HELP warrant_idempotency_stored_total Responses stored with their write.\n"
      "# TYPE warrant_idempotency_stored_total counter\nwarrant_idempotency_stored_total {}\n"
      "# HELP warrant_idempotency_inflight Idempotent requests executing now.\n"
      "# TYPE warrant_idempotency_inflight gauge\nwarrant_idempotency_inflight {}\n"
      "# HELP warrant_idempotency_swept_total Expired stored responses deleted by the sweeper.\n"
      "# TYPE warrant_idempotency_swept_total counter\nwarrant_idempotency_swept_total {}\n",
      sum.replays.get(), sum.replays_auto.get(), sum.in_progress.get(), sum.key_reused.get(), sum.inflight_full.get(),
      sum.lookup_failures.get(), sum.stored.get(), _inflight.occupied(),
      swept_records.load(std::memory_order_relaxed)));
}

}  // namespace warrant::engine::idempotency

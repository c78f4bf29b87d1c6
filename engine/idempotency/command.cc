#include "engine/idempotency/command.h"

#include "storage/record.h"

namespace warrant::engine::idempotency {

using storage::apply_status;
using storage::table;

namespace {

std::optional<record> stored_record(storage::write_txn& txn, std::string_view key) {
  const auto raw = txn.get(table::idempotency, key);
  if (!raw) return std::nullopt;
  storage::decoded_record rec;
  if (storage::decode_record(*raw, rec) != storage::decode_errc::ok ||
      rec.type != storage::record_type::idempotent_response) {
    return std::nullopt;  // unreadable: the write replaces it
  }
  return decode_record(rec.payload);
}

}  // namespace

apply_status idempotent_command::apply(storage::write_txn& txn, storage::log_appender& log) {
  std::optional<record> previous;
  if (_ticket.active()) {
    previous = stored_record(txn, _ticket.record_key());
    if (previous && !previous->expired_at(_ticket.pending().created_at_ms)) {
      _found = std::move(previous);
      return apply_status::rejected;
    }
  }
  if (apply_write(txn, log, _answer) != apply_status::applied) return apply_status::rejected;
  if (!_ticket.active()) return apply_status::applied;

  record& r = _ticket.pending();
  r.response = _answer;
  const std::string& key = _ticket.record_key();
  if (previous) txn.del(table::idempotency_expiry, expiry_key(previous->expires_at_ms, key));
  txn.put(table::idempotency, key, storage::encode_record(storage::record_type::idempotent_response, encode_record(r)));
  txn.put(table::idempotency_expiry, expiry_key(r.expires_at_ms, key),
          storage::encode_record(storage::record_type::idempotency_expiry, {}));
  return apply_status::applied;
}

void idempotent_command::respond(storage::outcome result, net::http_response& res) {
  if (result == storage::outcome::committed) {
    respond_committed(_answer, res);
    if (_ticket.active()) _ticket.owner()->counters(_ticket.shard_index()).stored.add();
    return;
  }
  if (_found) {
    const record& pending = _ticket.pending();
    _ticket.owner()->answer_stored(*_found, pending.fingerprint, pending.kind, _ticket.shard_index(), res);
    return;
  }
  respond_rejected(res);
}

}  // namespace warrant::engine::idempotency

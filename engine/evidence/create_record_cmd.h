// engine/evidence/create_record_cmd.h: the writer command that stores a new event or claim.
//
// Both are written once under a fresh UUIDv7, in the same transaction as their idempotency
// record (engine/idempotency/command.h), answered 201 with the rendered record, and applied
// to the entity index only after the commit (publish), so readers never see uncommitted
// state. A write that could create an entity is refused while the index is nearly full
// (503 ENTITY_INDEX_FULL). `Traits` names what differs: the table (`where`), the record type, the key,
// the codec, the rendering, the index update and the noun of the (never expected) id clash.
//
// Threading: constructed on a shard; apply_write and publish on the writer thread.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "engine/evidence/entity_index.h"
#include "engine/evidence/evidence_routes.h"
#include "engine/idempotency/command.h"
#include "storage/record.h"

namespace warrant::engine::evidence {

template <typename Traits>
class create_record_cmd final : public idempotency::idempotent_command {
 public:
  using record = typename Traits::record;

  create_record_cmd(net::shard& s, net::deferred_response t, idempotency::ticket tk, entity_index& index, record r)
      : idempotent_command(s, t, std::move(tk)), _index(index), _r(std::move(r)) {}

 protected:
  storage::apply_status apply_write(storage::write_txn& txn, storage::log_appender&,
                                    idempotency::stored_response& answer) override {
    if (_index.full(entity_headroom)) {
      _full = true;
      return storage::apply_status::rejected;
    }
    const std::optional<std::string> key = Traits::key(_r);
    if (!key) return storage::apply_status::rejected;
    // Writer-thread scratch, reused: the record and the answer are built without growing a
    // fresh buffer per write; only answer.body, which outlives the command, is allocated.
    thread_local std::string record;
    thread_local net::byte_buffer body;
    record.clear();
    storage::encode_record(record, Traits::type, Traits::encode(_r));
    // Ids are unique, so the key is never present; if it were, nothing is written (`insert`).
    if (txn.insert(Traits::where, *key, record) == storage::errc::exists) return storage::apply_status::rejected;
    answer.status = 201;
    answer.content_type = "application/json";
    body.clear();
    Traits::render(body, _r);
    answer.body.assign(body.view());
    return storage::apply_status::applied;
  }
  // After the commit, in commit order: only now may readers see the record.
  void publish() override { Traits::index(_index, _r); }
  void respond_rejected(net::http_response& res) override {
    if (_full) return answer_index_full(res);
    res.set_error(409, "CONFLICT", Traits::clash_message);
  }

 private:
  entity_index& _index;
  record _r;
  bool _full = false;
};

}  // namespace warrant::engine::evidence

// engine/idempotency/command.h: a write whose answer is stored with it.
//
// An idempotent route builds its write as a subclass of `idempotent_command` and submits it
// like any request_command (engine/write_path.h). In the writer's transaction, `apply`:
//   1. (defence in depth, behind the shard's in-flight claim) looks for a live stored answer
//      of the same scope — one committed by another node of a shared store, or by an earlier
//      command of this very batch. Found: nothing is written and the request is answered from
//      it (replay or 422), as `admit` would have;
//   2. runs the subclass's `apply_write`, which validates, writes, and fills in the answer;
//   3. when it applied, writes the idempotency record (the answer, the fingerprint, the times)
//      and its expiry entry into the same transaction, replacing an expired record of the
//      scope and its expiry entry.
// So a committed write always has its stored answer, and a failed commit has neither. On
// the shard, `respond` sends exactly the bytes that were stored. The ticket's in-flight claim
// is released when the command is destroyed: after the answer is handed to the connection,
// or when the connection is gone, or when the writer could not take the command.
//
// A command built with an inactive ticket (no key) behaves as a plain write.
//
// Threading: as request_command — apply on the writer thread, respond on the owner shard.
#pragma once

#include <optional>

#include "engine/idempotency/service.h"
#include "engine/write_path.h"

namespace warrant::engine::idempotency {

class idempotent_command : public request_command {
 public:
  idempotent_command(net::shard& owner, net::deferred_response token, ticket t)
      : request_command(owner, token), _ticket(std::move(t)) {}

 protected:
  // Writer thread: validate against `txn`, write, and fill `answer` (status, content type,
  // replayed headers, body). Returning `rejected` must leave nothing written.
  virtual storage::apply_status apply_write(storage::write_txn& txn, storage::log_appender& log,
                                            stored_response& answer) = 0;
  // Shard thread: the answer when apply_write rejected.
  virtual void respond_rejected(net::http_response& res) = 0;
  // Shard thread: the first answer of a committed write — by default exactly the stored one. A
  // write whose first answer carries what must never be stored (an agent's new API key, shown
  // once) stores an answer without it and puts it back here; replays then show the stored one.
  virtual void respond_committed(const stored_response& stored, net::http_response& res) {
    write_response(stored, res);
  }

  const ticket& idempotency() const { return _ticket; }

 private:
  storage::apply_status apply(storage::write_txn& txn, storage::log_appender& log) final;
  void respond(storage::outcome result, net::http_response& res) final;

  ticket _ticket;
  stored_response _answer;
  std::optional<record> _found;  // a live stored answer seen inside the transaction
};

}  // namespace warrant::engine::idempotency

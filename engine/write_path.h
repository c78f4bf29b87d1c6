// engine/write_path.h: how an HTTP request becomes a durable write and gets its answer.
//
// A handler builds a `request_command` (validated input, ids and secrets made on the shard),
// defers its response and submits the command to the storage writer. The writer applies it
// in a group-committed batch and calls `complete` on the writer thread; the command then
// posts itself back to its shard, where `respond` writes the answer and the shard sends it.
// A full writer queue or a stopping writer is answered at once with 503 and Retry-After.
//
// Headers already on the response when the handler submits (the guard's RateLimit headers,
// engine/guard/guard.h) are carried by the command and put back on the deferred answer,
// whatever it turns out to be (the command's own, or a storage failure's 503).
#pragma once

#include <memory>
#include <string>

#include "net/shard.h"
#include "storage/writer.h"

namespace warrant::engine {

class request_command : public storage::command {
 public:
  request_command(net::shard& owner, net::deferred_response token) : _owner(owner), _token(token) {}

  // Writer thread: hand the outcome back to the shard.
  void complete(storage::outcome result) final;

  // Shard thread, before submitting: header lines to put on the deferred answer.
  void carry_headers(std::string_view lines) { _carried_headers.assign(lines); }

 protected:
  // Shard thread: the answer for `result`. The default handles storage failures; subclasses
  // answer `committed` and `rejected`.
  virtual void respond(storage::outcome result, net::http_response& res) = 0;

 private:
  static void run_on_shard(net::shard& s, void* self);

  net::shard& _owner;
  net::deferred_response _token;
  storage::outcome _result = storage::outcome::unavailable;
  std::string _carried_headers;
};

// The 503 answers for storage failures (STORAGE_UNAVAILABLE, STORAGE_FULL, OVERLOADED).
void answer_storage_failure(storage::outcome result, net::http_response& res);
void answer_submit_refused(storage::errc e, net::http_response& res);

// Defers ctx's response and submits `cmd` (built with ctx.defer()'s token, see make_command).
// The headers on ctx.res go with it. On refusal the response is answered at once (keeping
// those headers) and the command is destroyed.
void submit(storage::writer& writer, net::request_context& ctx, std::unique_ptr<request_command> cmd);

}  // namespace warrant::engine

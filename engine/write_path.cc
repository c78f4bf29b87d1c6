#include "engine/write_path.h"

#include <sched.h>

#include <cstdio>

namespace warrant::engine {

void request_command::complete(storage::outcome result) {
  _result = result;
  // The shard drains its queue every loop turn; a full queue is momentary. A shard that has
  // already exited (after its drain deadline) never will: give up after a bounded wait.
  for (int attempt = 0; attempt < 100'000; ++attempt) {
    if (_owner.post({&request_command::run_on_shard, this})) return;
    sched_yield();
  }
  std::fprintf(stderr, "warrantd: shard %zu is not taking completions; a response was dropped\n", _owner.index());
  delete this;
}

void request_command::run_on_shard(net::shard& s, void* self) {
  std::unique_ptr<request_command> cmd(static_cast<request_command*>(self));
  net::http_response& res = s.scratch_response();
  res.reset();
  res.add_header_lines(cmd->_carried_headers);
  if (cmd->_result == storage::outcome::unavailable || cmd->_result == storage::outcome::full) {
    answer_storage_failure(cmd->_result, res);
  } else {
    cmd->respond(cmd->_result, res);
  }
  s.complete(cmd->_token, res);
}

void answer_storage_failure(storage::outcome result, net::http_response& res) {
  if (result == storage::outcome::full) {
    res.set_error(503, "STORAGE_FULL", "storage is full; nothing was written",
                  "the operator must raise --map-size-mb and restart");
  } else {
    res.set_error(503, "STORAGE_UNAVAILABLE", "storage is unavailable; nothing was written", "retry later");
  }
  res.add_header("Retry-After", "1");
}

void answer_submit_refused(storage::errc e, net::http_response& res) {
  if (e == storage::errc::queue_full) {
    res.set_error(503, "OVERLOADED", "the write queue is full; nothing was written", "retry later");
  } else {
    res.set_error(503, "SHUTTING_DOWN", "the server is shutting down; nothing was written", "retry on another node");
  }
  res.add_header("Retry-After", "1");
}

void submit(storage::writer& writer, net::request_context& ctx, std::unique_ptr<request_command> cmd) {
  cmd->carry_headers(ctx.res.extra_headers());
  const storage::errc e = writer.submit(cmd.get());
  if (e == storage::errc::ok) {
    cmd.release();  // the writer owns it until complete()
    return;
  }
  ctx.deferred = false;  // answer now instead
  answer_submit_refused(e, ctx.res);
}

}  // namespace warrant::engine

// engine/evidence/decision_log.h: every policy decision appended durably, group committed.
//
// What it is for: `POST /v1/policy/evaluate` (and the bulk route) answer at once, on the shard,
// without waiting for a commit; the decision goes to this log, which may trail the answer by
// a bounded window and never drops one silently (spec/evidence.md "Policy";
// docs/operations.md, "Decision log").
//
// How: each shard appends decision groups (decision_record.h), encoded as LMDB key + record,
// to its own open batch: a bulk request's items are one group; a shard's evaluates of one
// workspace in one millisecond under one policy version share one, so that the writer puts
// one record per several decisions rather than one per decision (and a group's strings are
// written once). Such a group stays open across the shard's loop turns until its millisecond
// has passed: `flush` seals the groups of earlier milliseconds and asks the shard to run it
// again when the current one ends (net::shard_turn_hook's wait bound), so a group is sealed at
// most ~1 ms after its first decision even when no other request comes. A batch is handed to
// the storage writer as ONE command when the shard's loop turn ends (every group sealed in a
// turn shares one command) or as soon as it holds `batch_decisions_max` decisions. The writer
// commits it in its group commit with everything else. Batches are `lazy` writer commands:
// while nothing else is queued the writer lets them linger until `linger_us` after its
// previous commit began, so that a steady stream of decisions costs one commit (with one disk
// flush: storage/writer.h, "commit_lazy") per `linger_us` rather than one per commit time; any
// other write ends the wait and the batches ride along. The lag is therefore: the rest of the
// decision's millisecond (its group open; the answer has already gone to the kernel) + at most
// `linger_us` + the writer's queue + one commit; durable against a power loss at most one more
// `linger_us` and commit later.
//
// Back-pressure: a shard counts its decisions not yet committed (buffered, queued, in a
// failed batch awaiting retry). `reserve(n)` refuses when that count would pass
// `shard_pending_max`: the route answers 503 OVERLOADED with Retry-After and decides
// nothing — a decision the client never saw is not one to log. Nothing that was answered is
// ever dropped: a batch the writer's queue refuses stays with its shard and is submitted again
// next turn; a batch whose commit failed (EIO, full map) comes back to its shard and is
// submitted again once the writer is healthy. At shutdown, after the shards have stopped,
// `flush_stopped` submits what is left before the writer stops.
// `warrant_decision_log_dropped_total` counts decisions lost anyway (a batch still unwritten
// when the log is destroyed) and must stay 0.
//
// Threading: `reserve`, `append`, `flush` on shard `i`'s thread for shard i's state only;
// the batch commands' apply/complete on the writer thread (they hand batches back through two
// lock-free stacks per shard); `flush_stopped` on the main thread once the shards have been
// joined; `stats`/`render_metrics` any thread (relaxed counters). The log must outlive the
// writer's processing of its batches (stop the writer before destroying it).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "engine/common/ids.h"
#include "engine/evidence/decision_record.h"
#include "net/byte_buffer.h"
#include "storage/writer.h"

namespace warrant::engine::evidence {

inline constexpr std::size_t decision_log_shards_max = 1024;  // = warrantd's --shards maximum

struct decision_log_options {
  // A shard hands its open batch to the writer when it holds this many decisions (and at the
  // end of every loop turn in any case).
  std::size_t batch_decisions_max = 1024;
  // Decisions of one shard not yet committed; beyond: 503 OVERLOADED.
  std::size_t shard_pending_max = 65536;
  // The writer's lazy_linger_us (storage/writer.h, "Lingering"): while only decision batches
  // are queued, commits are at least this far apart. Bounds the log's extra lag.
  std::int64_t linger_us = 5000;
};

struct decision_log_stats {
  std::uint64_t logged = 0;    // committed
  std::uint64_t refused = 0;   // decisions refused by back-pressure (503 OVERLOADED)
  std::uint64_t dropped = 0;   // answered but never committed: must stay 0
  std::uint64_t retried = 0;   // batches submitted again (queue full or failed commit)
  std::uint64_t pending = 0;   // not yet committed, now
  std::uint64_t batches = 0;   // batches committed
};

class decision_log {
 public:
  // Throws std::invalid_argument unless 1 <= batch_decisions_max <= shard_pending_max.
  decision_log(storage::writer& writer, const decision_log_options& options);
  ~decision_log();
  decision_log(const decision_log&) = delete;
  decision_log& operator=(const decision_log&) = delete;

  // Shard thread: room for `n` decisions, or false (back-pressure; counted as refused).
  bool reserve(std::size_t shard, std::size_t n);
  // Shard thread, after a successful reserve of `decisions`: one request's group record
  // (`payload` from decision_group_writer, holding that many decisions and naming their
  // workspace; a bulk request) under its group id (a UUID: decision_record.h, "Key"), into the
  // shard's open batch.
  void append(std::size_t shard, std::string_view group_id, std::string_view payload, std::size_t decisions);
  // Shard thread, after a successful reserve of 1: one evaluate's decision. It joins the
  // shard's open group of its workspace, millisecond and policy version (a new one, under a
  // fresh group id, if there is none), and `id` gets its correlation id: the group id with its
  // index in the last 3 hex digits (decision_record.h). The open groups become records when a
  // turn ends after their millisecond (`flush`), when the batch is full, or when more than
  // `open_groups_max` workspaces or milliseconds are open at once.
  void append_one(std::size_t shard, std::string_view workspace_id, std::int64_t evaluated_at_ms,
                  std::string_view policy_version, const decision_item_view& d, char (&id)[uuid_text_bytes]);
  // Shard thread, end of loop turn: seals the open groups of every millisecond but the
  // current one (a group of a later millisecond, after the clock stepped back, is sealed too),
  // then submits the open batch and any batch waiting for a retry. Returns the µs until the
  // current millisecond ends if a group is still open (the shard must call again by then:
  // net::shard_turn_hook), else 0. Reads the wall clock (unix_now_us, CLOCK_REALTIME) only
  // while a group is open. Evaluate stamps its decisions with the shard's time of the turn
  // (net::shard::now_unix_ms), read from the same clock when the turn began, so no decision of
  // the turn is of a later millisecond than this read.
  std::int64_t flush(std::size_t shard);
  // The same at Unix time `now_unix_us` (tests).
  std::int64_t flush(std::size_t shard, std::int64_t now_unix_us);
  // Main thread, after every shard has stopped and before the writer stops: submits every
  // shard's remaining batches, waiting (bounded) for room in the writer's queue.
  void flush_stopped();

  decision_log_stats stats() const;
  void render_metrics(net::byte_buffer& out) const;
  const decision_log_options& options() const { return _options; }

  class batch;  // a storage::command holding encoded decisions (decision_log.cc)
  static constexpr std::size_t open_groups_max = 8;

 private:
  struct open_group;
  struct shard_state;
  batch& open_batch(shard_state& s);
  void add_record(shard_state& s, std::string_view group_id, std::string_view payload,
                  std::size_t decisions);
  void seal_groups(shard_state& s, std::int64_t keep_ms = keep_no_group);
  static constexpr std::int64_t keep_no_group = INT64_MIN;  // a millisecond no group has
  void reserve_groups(shard_state& s);
  void hand_on_if_full(shard_state& s);
  void submit_held(shard_state& s, bool wait_for_room);
  friend class batch;

  storage::writer& _writer;
  const decision_log_options _options;
  std::unique_ptr<shard_state[]> _shards;
};

}  // namespace warrant::engine::evidence

#include "engine/evidence/decision_log.h"

#include <fmt/format.h>

#include <cassert>
#include <chrono>
#include <optional>
#include <cstdio>
#include <stdexcept>
#include <thread>

#include "engine/common/ids.h"
#include "storage/record.h"

namespace warrant::engine::evidence {

// One writer command: the encoded decision groups of one shard's batch, as (key, value) ranges of
// one string. Recycled through its shard's free stack once committed, so a shard in steady
// state allocates nothing per decision.
class decision_log::batch final : public storage::command {
 public:
  struct entry {
    std::uint32_t key_offset;
    std::uint32_t key_bytes;
    std::uint32_t value_offset;
    std::uint32_t value_bytes;
  };

  // Room for a full batch of evaluates up front (~64 bytes each with their share of the group
  // keys and headers; more when the loop turns are short and the groups small). Without it a
  // batch's data grew whenever the request rate made more, smaller groups than any batch
  // before: an allocation on the request path that depended on timing.
  static constexpr std::size_t data_bytes_per_decision = 64;

  batch(decision_log::shard_state& owner, std::size_t entries_reserved) : _owner(owner) {
    entries.reserve(entries_reserved);
    data.reserve(entries_reserved * data_bytes_per_decision);
    lazy = true;  // the answers have gone out: nobody waits for this commit
  }

  storage::apply_status apply(storage::write_txn& txn, storage::log_appender&) override {
    for (const entry& e : entries) {
      const std::string_view key(data.data() + e.key_offset, e.key_bytes);
      const std::string_view value(data.data() + e.value_offset, e.value_bytes);
      // Group ids are fresh UUIDv7s: a put never replaces another decision. A batch
      // submitted again after a failed commit wrote nothing the first time. They also sort
      // by time, so they nearly always go at the table's end (other shards' batches of the
      // same milliseconds aside).
      if (txn.append_or_put(storage::table::decisions, key, value) != storage::errc::ok) break;  // the writer fails the batch
    }
    return storage::apply_status::applied;
  }

  void complete(storage::outcome result) override;

  bool empty() const { return entries.empty(); }
  void clear() {
    data.clear();
    entries.clear();
    decisions = 0;
  }

  std::string data;
  std::vector<entry> entries;
  std::size_t decisions = 0;  // over all entries (a bulk's group holds many)
  batch* link = nullptr;  // held list, returned stack, free stack

 private:
  decision_log::shard_state& _owner;
};

// An evaluate decision's group still open on its shard: the shard's decisions of one
// workspace, made in one millisecond under one policy version, become one record at the end of
// the first loop turn after that millisecond.
struct decision_log::open_group {
  std::string workspace_id;
  std::string policy_version;
  std::int64_t evaluated_at_ms = 0;
  char id[uuid_text_bytes] = {};
  std::string payload;
  std::optional<decision_group_writer> writer;  // writes into `payload`; engaged while open
};

struct alignas(64) decision_log::shard_state {
  // Shard thread only.
  std::array<open_group, open_groups_max> groups;
  std::size_t groups_open = 0;  // slots whose writer is engaged (the others are free)
  bool groups_reserved = false;  // reserve_groups ran (at the shard's first evaluate)
  std::size_t group_decisions = 0;  // in the open groups
  batch* open = nullptr;
  batch* held_head = nullptr;  // waiting to be submitted, oldest first
  batch* held_tail = nullptr;
  batch* spare = nullptr;      // recycled batches taken from `free`
  std::size_t entries_reserved = 0;

  // Writer thread -> shard: batches whose commit failed, and committed batches to reuse.
  alignas(64) std::atomic<batch*> returned{nullptr};
  std::atomic<batch*> free{nullptr};

  // Counters. pending: + by the shard at reserve, - by the writer at commit.
  alignas(64) std::atomic<std::uint64_t> pending{0};
  std::atomic<std::uint64_t> logged{0};
  std::atomic<std::uint64_t> batches{0};
  std::atomic<std::uint64_t> refused_total{0};
  std::atomic<std::uint64_t> retried{0};
  std::atomic<std::uint64_t> dropped{0};

  void hold(batch* b) {
    b->link = nullptr;
    if (held_tail) held_tail->link = b; else held_head = b;
    held_tail = b;
  }
  batch* unhold() {
    batch* b = held_head;
    held_head = b->link;
    if (held_head == nullptr) held_tail = nullptr;
    b->link = nullptr;
    return b;
  }
  void hold_front(batch* b) {
    b->link = held_head;
    held_head = b;
    if (held_tail == nullptr) held_tail = b;
  }
};

namespace {

template <typename T>
void push_stack(std::atomic<T*>& stack, T* item) {
  item->link = stack.load(std::memory_order_relaxed);
  while (!stack.compare_exchange_weak(item->link, item, std::memory_order_release, std::memory_order_relaxed)) {
  }
}

}  // namespace

void decision_log::batch::complete(storage::outcome result) {
  if (result == storage::outcome::committed) {
    const std::size_t n = decisions;
    _owner.logged.fetch_add(n, std::memory_order_relaxed);
    _owner.batches.fetch_add(1, std::memory_order_relaxed);
    _owner.pending.fetch_sub(n, std::memory_order_relaxed);
    clear();
    push_stack(_owner.free, this);
  } else {
    // Nothing of the batch was written (storage failure): back to the shard, to try again.
    push_stack(_owner.returned, this);
  }
}

decision_log::decision_log(storage::writer& writer, const decision_log_options& options)
    : _writer(writer), _options(options), _shards(std::make_unique<shard_state[]>(decision_log_shards_max)) {
  if (_options.batch_decisions_max == 0 || _options.shard_pending_max < _options.batch_decisions_max) {
    throw std::invalid_argument("--decision-log-pending-max must be at least --decision-log-batch-max (>= 1)");
  }
  for (std::size_t i = 0; i < decision_log_shards_max; ++i) _shards[i].entries_reserved = _options.batch_decisions_max;
}

decision_log::~decision_log() {
  std::uint64_t lost = 0;
  auto release = [&lost](batch* b) {
    while (b != nullptr) {
      batch* next = b->link;
      lost += b->decisions;
      delete b;
      b = next;
    }
  };
  for (std::size_t i = 0; i < decision_log_shards_max; ++i) {
    shard_state& s = _shards[i];
    lost += s.group_decisions;
    if (s.open) {
      s.open->link = nullptr;
      release(s.open);
    }
    release(s.held_head);
    release(s.returned.exchange(nullptr));
    release(s.free.exchange(nullptr));
    release(s.spare);
  }
  if (lost > 0) {
    std::fprintf(stderr, "warrantd: %llu logged decisions could not be written before shutdown\n",
                 static_cast<unsigned long long>(lost));
    _shards[0].dropped.fetch_add(lost, std::memory_order_relaxed);
  }
}

bool decision_log::reserve(std::size_t shard, std::size_t n) {
  assert(shard < decision_log_shards_max);
  shard_state& s = _shards[shard];
  const std::uint64_t pending = s.pending.load(std::memory_order_relaxed);
  if (pending + n > _options.shard_pending_max) {
    s.refused_total.fetch_add(n, std::memory_order_relaxed);
    return false;
  }
  s.pending.fetch_add(n, std::memory_order_relaxed);
  return true;
}

decision_log::batch& decision_log::open_batch(shard_state& s) {
  if (s.open == nullptr) {
    if (s.spare == nullptr) s.spare = s.free.exchange(nullptr, std::memory_order_acquire);
    if (s.spare != nullptr) {
      s.open = s.spare;
      s.spare = s.spare->link;
      s.open->link = nullptr;
    } else {
      s.open = new batch(s, s.entries_reserved);
    }
  }
  return *s.open;
}

void decision_log::add_record(shard_state& s, std::string_view group_id,
                              std::string_view payload, std::size_t decisions) {
  batch& b = open_batch(s);
  batch::entry e{};
  e.key_offset = static_cast<std::uint32_t>(b.data.size());
  [[maybe_unused]] const bool keyed = append_decision_group_key(b.data, group_id);
  assert(keyed && "group ids are UUIDs made by this process");
  e.key_bytes = static_cast<std::uint32_t>(b.data.size() - e.key_offset);
  e.value_offset = static_cast<std::uint32_t>(b.data.size());
  storage::encode_record(b.data, storage::record_type::policy_decision_group, payload);
  e.value_bytes = static_cast<std::uint32_t>(b.data.size() - e.value_offset);
  b.entries.push_back(e);
  b.decisions += decisions;
}

void decision_log::hand_on_if_full(shard_state& s) {
  const std::size_t sealed = s.open != nullptr ? s.open->decisions : 0;
  if (sealed + s.group_decisions < _options.batch_decisions_max) return;
  seal_groups(s);
  s.hold(s.open);
  s.open = nullptr;
  if (_writer.healthy()) submit_held(s, false);
}

// Seals the open groups of every millisecond but `keep_ms` (all of them with the default);
// their slots become free.
void decision_log::seal_groups(shard_state& s, std::int64_t keep_ms) {
  for (open_group& g : s.groups) {
    if (!g.writer || g.evaluated_at_ms == keep_ms) continue;
    const std::size_t n = g.writer->items();
    add_record(s, std::string_view(g.id, uuid_text_bytes), g.payload, n);
    g.writer.reset();
    s.group_decisions -= n;
    --s.groups_open;
  }
}

void decision_log::append(std::size_t shard, std::string_view group_id, std::string_view payload,
                          std::size_t decisions) {
  assert(shard < decision_log_shards_max);
  shard_state& s = _shards[shard];
  add_record(s, group_id, payload, decisions);
  hand_on_if_full(s);
}

// How many group slots a turn uses depends on how many milliseconds and workspaces it spans,
// that is on timing: a slot first used late, or a group larger than any before in its slot,
// would allocate on the request path. So every slot gets room for a typical group when the
// shard logs its first evaluate: ids and policy versions up to 64 bytes, and 8 KiB of payload
// (~250 decisions); a larger group grows its slot once.
void decision_log::reserve_groups(shard_state& s) {
  constexpr std::size_t name_bytes_reserved = 64;       // a workspace id, a policy version
  constexpr std::size_t payload_bytes_reserved = 8192;  // ~250 decisions
  for (open_group& g : s.groups) {
    g.workspace_id.reserve(name_bytes_reserved);
    g.policy_version.reserve(name_bytes_reserved);
    g.payload.reserve(payload_bytes_reserved);
  }
  s.groups_reserved = true;
}

void decision_log::append_one(std::size_t shard, std::string_view workspace_id, std::int64_t evaluated_at_ms,
                              std::string_view policy_version, const decision_item_view& d,
                              char (&id)[uuid_text_bytes]) {
  assert(shard < decision_log_shards_max);
  shard_state& s = _shards[shard];
  open_group* g = nullptr;
  open_group* free_slot = nullptr;
  for (open_group& c : s.groups) {
    if (!c.writer) {
      if (free_slot == nullptr) free_slot = &c;
    } else if (c.evaluated_at_ms == evaluated_at_ms && c.workspace_id == workspace_id &&
               c.policy_version == policy_version && c.writer->items() < decision_group_items_max) {
      g = &c;
      break;
    }
  }
  if (g == nullptr) {
    if (free_slot == nullptr) {  // many workspaces (or milliseconds) open at once
      seal_groups(s);
      free_slot = &s.groups[0];
    }
    if (!s.groups_reserved) reserve_groups(s);
    g = free_slot;
    ++s.groups_open;
    g->workspace_id.assign(workspace_id);
    g->policy_version.assign(policy_version);
    g->evaluated_at_ms = evaluated_at_ms;
    new_uuid_v7_into(g->id, evaluated_at_ms);
    make_bulk_group_id(g->id);
    g->writer.emplace(g->payload, evaluated_at_ms, g->policy_version, g->workspace_id);
  }
  bulk_item_id(g->id, g->writer->items(), id);
  g->writer->add(d);
  ++s.group_decisions;
  hand_on_if_full(s);
}

std::int64_t decision_log::flush(std::size_t shard) {
  assert(shard < decision_log_shards_max);
  // Most turns of a shard that is not evaluating hold no open group: no clock read for them.
  return flush(shard, _shards[shard].groups_open > 0 ? unix_now_us() : 0);
}

std::int64_t decision_log::flush(std::size_t shard, std::int64_t now_unix_us) {
  assert(shard < decision_log_shards_max);
  shard_state& s = _shards[shard];
  constexpr std::int64_t us_per_ms = 1000;
  std::int64_t wait_us = 0;
  if (s.groups_open > 0) {
    seal_groups(s, now_unix_us / us_per_ms);
    if (s.groups_open > 0) wait_us = us_per_ms - now_unix_us % us_per_ms;
  }
  // Every loop turn comes here: a plain load first keeps the idle case free of RMWs.
  if (s.returned.load(std::memory_order_relaxed) != nullptr) {
    for (batch* b = s.returned.exchange(nullptr, std::memory_order_acquire); b != nullptr;) {
      batch* next = b->link;
      s.retried.fetch_add(1, std::memory_order_relaxed);
      s.hold(b);
      b = next;
    }
  }
  if (s.open != nullptr && !s.open->empty()) {
    s.hold(s.open);
    s.open = nullptr;
  }
  // While the writer is unhealthy its commits fail: keep the batches (back-pressure builds)
  // rather than spin them through failing commits.
  if (s.held_head != nullptr && _writer.healthy()) submit_held(s, false);
  return wait_us;
}

void decision_log::submit_held(shard_state& s, bool wait_for_room) {
  int waits = 0;
  while (s.held_head != nullptr) {
    batch* b = s.unhold();
    const storage::errc e = _writer.submit(b);
    if (e == storage::errc::ok) continue;  // the writer owns it until complete()
    s.hold_front(b);
    if (e == storage::errc::queue_full) s.retried.fetch_add(1, std::memory_order_relaxed);
    // Shutdown only: the queue drains quickly, wait for room (bounded, 10 s).
    if (!wait_for_room || e != storage::errc::queue_full || ++waits > 10'000) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}

void decision_log::flush_stopped() {
  for (std::size_t i = 0; i < decision_log_shards_max; ++i) {
    shard_state& s = _shards[i];
    for (batch* b = s.returned.exchange(nullptr, std::memory_order_acquire); b != nullptr;) {
      batch* next = b->link;
      s.hold(b);
      b = next;
    }
    if (s.groups_open > 0) seal_groups(s);
    if (s.open != nullptr && !s.open->empty()) {
      s.hold(s.open);
      s.open = nullptr;
    }
    submit_held(s, true);
  }
}

decision_log_stats decision_log::stats() const {
  decision_log_stats out;
  for (std::size_t i = 0; i < decision_log_shards_max; ++i) {
    const shard_state& s = _shards[i];
    out.logged += s.logged.load(std::memory_order_relaxed);
    out.refused += s.refused_total.load(std::memory_order_relaxed);
    out.dropped += s.dropped.load(std::memory_order_relaxed);
    out.retried += s.retried.load(std::memory_order_relaxed);
    out.pending += s.pending.load(std::memory_order_relaxed);
    out.batches += s.batches.load(std::memory_order_relaxed);
  }
  return out;
}

void decision_log::render_metrics(net::byte_buffer& out) const {
  const decision_log_stats s = stats();
  out.append(fmt::format(
      "# HELP warrant_decisions_logged_total Policy decisions committed to the decision log.\n"
      "# TYPE warrant_decisions_logged_total counter\nwarrant_decisions_logged_total {}\n"
      "# HELP warrant_decisions_refused_total Policy decisions refused with 503 OVERLOADED (decision log back-pressure).\n"
      "# TYPE warrant_decisions_refused_total counter\nwarrant_decisions_refused_total {}\n"
      "# HELP warrant_decision_log_dropped_total Answered decisions never written to the log (must stay 0).\n"
      "# TYPE warrant_decision_log_dropped_total counter\nwarrant_decision_log_dropped_total {}\n"
      "# HELP warrant_decision_log_retries_total Decision batches submitted again (writer queue full or failed commit).\n"
      "# TYPE warrant_decision_log_retries_total counter\nwarrant_decision_log_retries_total {}\n"
      "# HELP warrant_decision_log_batches_total Decision batches committed.\n"
      "# TYPE warrant_decision_log_batches_total counter\nwarrant_decision_log_batches_total {}\n"
      "# HELP warrant_decision_log_pending Decisions answered and not yet committed.\n"
      "# TYPE warrant_decision_log_pending gauge\nwarrant_decision_log_pending {}\n",
      s.logged, s.refused, s.dropped, s.retried, s.batches, s.pending));
}

}  // namespace warrant::engine::evidence

#include "engine/idempotency/sweeper.h"

#include <cstdio>
#include <future>
#include <string>
#include <vector>

#include "engine/common/ids.h"
#include "storage/record.h"

namespace warrant::engine::idempotency {
namespace {

using storage::apply_status;
using storage::table;

struct sweep_result {
  storage::outcome outcome = storage::outcome::unavailable;
  std::size_t entries = 0;  // expiry entries deleted
  std::size_t records = 0;  // stored responses deleted with them
};

class sweep_command final : public storage::command {
 public:
  explicit sweep_command(std::vector<std::string> expiry_keys) : _keys(std::move(expiry_keys)) {}

  apply_status apply(storage::write_txn& txn, storage::log_appender&) override {
    for (const std::string& entry : _keys) {
      std::int64_t expires_at_ms = 0;
      std::string_view key;
      if (split_expiry_key(entry, expires_at_ms, key) && still_expiring_at(txn, key, expires_at_ms)) {
        txn.del(table::idempotency, key);
        ++_result.records;
      }
      txn.del(table::idempotency_expiry, entry);
      ++_result.entries;
    }
    return apply_status::applied;
  }
  void complete(storage::outcome result) override {
    _result.outcome = result;
    _done.set_value(_result);
    delete this;  // the sweeper holds the future, not the command
  }
  std::future<sweep_result> result() { return _done.get_future(); }

 private:
  // The record the entry names still carries this expiry (it was not rewritten since).
  static bool still_expiring_at(storage::write_txn& txn, std::string_view key, std::int64_t expires_at_ms) {
    const auto raw = txn.get(table::idempotency, key);
    if (!raw) return false;
    storage::decoded_record rec;
    if (storage::decode_record(*raw, rec) != storage::decode_errc::ok) return false;  // left for verify
    const auto r = decode_record(rec.payload);
    return r && r->expires_at_ms == expires_at_ms;
  }

  std::vector<std::string> _keys;
  sweep_result _result;
  std::promise<sweep_result> _done;
};

}  // namespace

sweeper::sweeper(storage::lmdb_store& store, storage::writer& writer, service& svc, const sweeper_options& options,
                 std::function<std::int64_t()> clock_ms)
    : _store(store), _writer(writer), _service(svc), _options(options), _clock_ms(std::move(clock_ms)) {
  if (!_clock_ms) _clock_ms = [] { return unix_now_ms(); };
}

sweeper::~sweeper() { stop(); }

void sweeper::start() {
  std::lock_guard lock(_mutex);
  _stop = false;
  _thread = std::thread([this] { run(); });
}

void sweeper::stop() {
  {
    std::lock_guard lock(_mutex);
    _stop = true;
  }
  _wake.notify_all();
  if (_thread.joinable()) _thread.join();
}

void sweeper::run() {
  std::unique_lock lock(_mutex);
  while (!_stop) {
    lock.unlock();
    const std::size_t swept = sweep_once(_clock_ms());
    lock.lock();
    if (swept >= _options.batch_max) continue;  // more may be due: go on at once
    _wake.wait_for(lock, std::chrono::milliseconds(_options.interval_ms), [this] { return _stop; });
  }
}

std::size_t sweeper::sweep_once(std::int64_t now_ms) {
  std::vector<std::string> due;
  try {
    storage::lmdb_store::reader r(_store);
    r.scan(table::idempotency_expiry, {}, [&](std::string_view key, std::string_view) {
      std::int64_t expires_at_ms = 0;
      std::string_view record_key;
      // Keys too short to hold a time are junk; they sort first and are removed with the rest.
      if (split_expiry_key(key, expires_at_ms, record_key) && expires_at_ms > now_ms) return false;
      due.emplace_back(key);
      return due.size() < _options.batch_max;
    });
  } catch (const std::exception& e) {
    std::fprintf(stderr, "warrantd: idempotency sweep: %s\n", e.what());
    return 0;
  }
  if (due.empty()) return 0;
  auto cmd = std::make_unique<sweep_command>(std::move(due));
  std::future<sweep_result> done = cmd->result();
  if (_writer.submit(cmd.get()) != storage::errc::ok) return 0;  // queue full or stopping: next time
  cmd.release();  // the writer owns it until complete()
  const sweep_result result = done.get();
  if (result.outcome != storage::outcome::committed) return 0;
  _service.swept_records.fetch_add(result.records, std::memory_order_relaxed);
  _service.sweep_commits.fetch_add(1, std::memory_order_relaxed);
  return result.entries;
}

}  // namespace warrant::engine::idempotency

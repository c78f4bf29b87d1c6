// tests/storage/fake_store.h: stand-ins for the storage engine behind the writer.
//
// `fake_store` keeps each table in a std::map and can be told to fail: the next N
// `begin_write`s, the Nth write (put/append/del) of its lifetime, or the next N commits, each
// with a chosen errc, and the next N `sync`s; and to take a given time per commit, like an
// fsync. It tracks whether a `commit_lazy` is not yet made durable (`unsynced`): a later
// `commit` or `sync` does that, as with LMDB's meta page. A transaction stages its writes and applies them at commit, so a failed
// or aborted transaction leaves nothing behind, as LMDB does. It also counts calls and checks
// the protocol the writer must follow (one transaction at a time, commit/abort only inside one).
//
// `faulty_store` wraps a real `lmdb_store` and fails the next N commits, lazy or not (the transaction is
// aborted, so nothing becomes durable), the way a failing fsync would.
//
// Threading: the store's methods run on the writer thread; the switches, counters and
// `committed_*` accessors may be used from the test thread at any time (one mutex).
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "storage/lmdb_store.h"
#include "storage/record.h"
#include "storage/store.h"

namespace warrant::storage::testing {

class fake_store final : public store {
 public:
  using table_map = std::map<std::string, std::string>;

  // ---- fault switches (any thread) ----
  void fail_begin_write(errc e, int times = 1) {
    std::lock_guard lock(_mutex);
    _begin_failure = e;
    _begin_failures_left = times;
  }
  // The `nth` write from now on (1 = the very next) fails with `e`.
  void fail_write_at(std::uint64_t nth, errc e) {
    std::lock_guard lock(_mutex);
    _fail_write_number = _writes + nth;
    _write_failure = e;
  }
  void fail_commit(errc e, int times = 1) {
    std::lock_guard lock(_mutex);
    _commit_failure = e;
    _commit_failures_left = times;
  }

  void fail_sync(errc e, int times = 1) {
    std::lock_guard lock(_mutex);
    _sync_failure = e;
    _sync_failures_left = times;
  }

  // Every commit from now on sleeps this long first (outside the store's mutex).
  void set_commit_delay(std::chrono::microseconds delay) {
    std::lock_guard lock(_mutex);
    _commit_delay = delay;
  }

  // ---- observations (any thread) ----
  std::uint64_t begin_calls() const { return locked(_begin_calls); }
  std::uint64_t commit_calls() const { return locked(_commit_calls); }
  std::uint64_t commits() const { return locked(_commits); }
  std::uint64_t lazy_commits() const { return locked(_lazy_commits); }
  std::uint64_t sync_calls() const { return locked(_sync_calls); }
  // A lazy commit succeeded and no commit or sync has succeeded since.
  bool unsynced() const { return locked(_unsynced); }
  std::uint64_t aborts() const { return locked(_aborts); }
  std::uint64_t writes() const { return locked(_writes); }
  std::uint64_t protocol_violations() const { return locked(_violations); }
  table_map committed(table t) const {
    std::lock_guard lock(_mutex);
    return _tables[index(t)];
  }
  std::optional<std::string> committed_value(table t, std::string_view key) const {
    std::lock_guard lock(_mutex);
    const auto& m = _tables[index(t)];
    const auto it = m.find(std::string(key));
    if (it == m.end()) return std::nullopt;
    return it->second;
  }
  // Seeds committed data, as if an earlier run had written it.
  void seed(table t, std::string key, std::string value) {
    std::lock_guard lock(_mutex);
    _tables[index(t)][std::move(key)] = std::move(value);
  }

  // ---- store ----
  errc begin_write(write_txn*& txn) override {
    std::lock_guard lock(_mutex);
    check_thread();
    ++_begin_calls;
    if (_open) ++_violations;
    if (_begin_failures_left > 0) {
      --_begin_failures_left;
      return _begin_failure;
    }
    _open = true;
    _txn.reset();
    txn = &_txn;
    return errc::ok;
  }

  errc commit() override { return commit_as(false); }
  errc commit_lazy() override { return commit_as(true); }

  errc sync() override {
    std::lock_guard lock(_mutex);
    check_thread();
    ++_sync_calls;
    if (_open) ++_violations;
    if (_sync_failures_left > 0) {
      --_sync_failures_left;
      return _sync_failure;
    }
    _unsynced = false;
    return errc::ok;
  }

  void abort() override {
    std::lock_guard lock(_mutex);
    check_thread();
    if (!_open) ++_violations;
    _open = false;
    ++_aborts;
  }

  std::uint64_t last_log_sequence() override {
    std::lock_guard lock(_mutex);
    const auto& log = _tables[index(table::log)];
    return log.empty() ? 0 : be64_value(log.rbegin()->first);
  }

 private:
  errc commit_as(bool lazy) {
    if (const auto delay = locked(_commit_delay); delay.count() > 0) std::this_thread::sleep_for(delay);
    std::lock_guard lock(_mutex);
    check_thread();
    ++_commit_calls;
    if (!_open) ++_violations;
    _open = false;
    if (_txn.failed) ++_violations;  // LMDB refuses to commit after a failed write
    if (_commit_failures_left > 0) {
      --_commit_failures_left;
      return _commit_failure;
    }
    for (std::size_t t = 0; t < table_count; ++t) {
      for (auto& [key, value] : _txn.staged[t]) {
        if (value) {
          _tables[t][key] = std::move(*value);
        } else {
          _tables[t].erase(key);
        }
      }
    }
    ++_commits;
    if (lazy) ++_lazy_commits;
    _unsynced = lazy;
    return errc::ok;
  }

  static std::size_t index(table t) { return static_cast<std::size_t>(t); }
  template <class T>
  T locked(const T& v) const {
    std::lock_guard lock(_mutex);
    return v;
  }
  // All transactions must come from one thread: the writer's.
  void check_thread() {
    if (_thread == std::thread::id{}) _thread = std::this_thread::get_id();
    if (_thread != std::this_thread::get_id()) ++_violations;
  }

  class fake_txn final : public write_txn {
   public:
    explicit fake_txn(fake_store& s) : _store(s) {}
    void reset() {
      for (auto& m : staged) m.clear();
      failed = false;
    }
    std::optional<std::string_view> get(table t, std::string_view key) override {
      std::lock_guard lock(_store._mutex);
      const auto& pending = staged[index(t)];
      if (const auto it = pending.find(std::string(key)); it != pending.end()) {
        if (!it->second) return std::nullopt;
        return std::string_view(*it->second);
      }
      const auto& base = _store._tables[index(t)];
      if (const auto it = base.find(std::string(key)); it != base.end()) return std::string_view(it->second);
      return std::nullopt;
    }
    errc put(table t, std::string_view key, std::string_view value) override {
      std::lock_guard lock(_store._mutex);
      if (const errc e = _store.count_write(); e != errc::ok) return fail(e);
      staged[index(t)][std::string(key)] = std::string(value);
      return errc::ok;
    }
    errc insert(table t, std::string_view key, std::string_view value) override {
      if (get(t, key)) return errc::exists;
      return put(t, key, value);
    }
    errc append(table t, std::string_view key, std::string_view value) override {
      std::lock_guard lock(_store._mutex);
      if (const errc e = _store.count_write(); e != errc::ok) return fail(e);
      const auto& base = _store._tables[index(t)];
      auto& pending = staged[index(t)];
      if ((!base.empty() && key <= base.rbegin()->first) || (!pending.empty() && key <= pending.rbegin()->first)) {
        return errc::exists;
      }
      pending[std::string(key)] = std::string(value);
      return errc::ok;
    }
    errc append_or_put(table t, std::string_view key, std::string_view value) override {
      return put(t, key, value);
    }
    errc del(table t, std::string_view key) override {
      std::lock_guard lock(_store._mutex);
      if (const errc e = _store.count_write(); e != errc::ok) return fail(e);
      staged[index(t)][std::string(key)] = std::nullopt;
      return errc::ok;
    }

    std::array<std::map<std::string, std::optional<std::string>>, table_count> staged;
    bool failed = false;

   private:
    errc fail(errc e) {
      failed = true;
      return e;
    }
    fake_store& _store;
  };

  errc count_write() {
    ++_writes;
    if (_writes == _fail_write_number) return _write_failure;
    return errc::ok;
  }

  mutable std::mutex _mutex;
  std::array<table_map, table_count> _tables;
  fake_txn _txn{*this};
  bool _open = false;
  std::thread::id _thread;

  errc _begin_failure = errc::ok;
  int _begin_failures_left = 0;
  errc _write_failure = errc::ok;
  std::uint64_t _fail_write_number = 0;
  errc _commit_failure = errc::ok;
  int _commit_failures_left = 0;
  std::chrono::microseconds _commit_delay{0};
  errc _sync_failure = errc::ok;
  int _sync_failures_left = 0;

  std::uint64_t _begin_calls = 0;
  std::uint64_t _commit_calls = 0;
  std::uint64_t _commits = 0;
  std::uint64_t _lazy_commits = 0;
  std::uint64_t _sync_calls = 0;
  bool _unsynced = false;
  std::uint64_t _aborts = 0;
  std::uint64_t _writes = 0;
  std::uint64_t _violations = 0;
};

class faulty_store final : public store {
 public:
  explicit faulty_store(lmdb_store& inner) : _inner(inner) {}

  void fail_commit(errc e, int times = 1) {
    std::lock_guard lock(_mutex);
    _failure = e;
    _failures_left = times;
  }
  std::uint64_t injected_failures() const {
    std::lock_guard lock(_mutex);
    return _injected;
  }

  errc begin_write(write_txn*& txn) override { return _inner.begin_write(txn); }
  errc commit() override {
    const errc e = injected();
    return e != errc::ok ? e : _inner.commit();
  }
  errc commit_lazy() override {
    const errc e = injected();
    return e != errc::ok ? e : _inner.commit_lazy();
  }
  errc sync() override { return _inner.sync(); }
  void abort() override { _inner.abort(); }
  std::uint64_t last_log_sequence() override { return _inner.last_log_sequence(); }

 private:
  // The failure injected into this commit, or ok. A failed commit's transaction is aborted:
  // nothing of it reaches the disk.
  errc injected() {
    errc e = errc::ok;
    {
      std::lock_guard lock(_mutex);
      if (_failures_left <= 0) return errc::ok;
      --_failures_left;
      ++_injected;
      e = _failure;
    }
    _inner.abort();
    return e;
  }

  lmdb_store& _inner;
  mutable std::mutex _mutex;
  errc _failure = errc::ok;
  int _failures_left = 0;
  std::uint64_t _injected = 0;
};

}  // namespace warrant::storage::testing

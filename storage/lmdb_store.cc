#include "storage/lmdb_store.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <stdexcept>

#include "storage/record.h"

namespace warrant::storage {

std::string_view table_name(table t) {
  switch (t) {
    case table::log: return "log";
    case table::meta: return "meta";
    case table::workspaces: return "workspaces";
    case table::api_keys: return "api_keys";
    case table::idempotency: return "idempotency";
    case table::idempotency_expiry: return "idempotency_expiry";
    case table::test_writes: return "test_writes";
    case table::decisions: return "decisions";
    case table::events: return "events";
    case table::claims: return "claims";
    case table::agents: return "agents";
    case table::spawn_policies: return "spawn_policies";
    case table::audit: return "audit";
  }
  return "?";
}

std::string_view errc_name(errc e) {
  switch (e) {
    case errc::ok: return "ok";
    case errc::not_found: return "not found";
    case errc::exists: return "exists";
    case errc::map_full: return "storage map full";
    case errc::io_error: return "storage I/O error";
    case errc::corrupt: return "corrupt record";
    case errc::queue_full: return "writer queue full";
    case errc::shutting_down: return "shutting down";
  }
  return "?";
}

errc errc_from_mdb(int rc) {
  switch (rc) {
    case MDB_SUCCESS: return errc::ok;
    case MDB_NOTFOUND: return errc::not_found;
    case MDB_KEYEXIST: return errc::exists;
    case MDB_MAP_FULL: return errc::map_full;
    case MDB_CORRUPTED:
    case MDB_PAGE_NOTFOUND: return errc::corrupt;
    default: return errc::io_error;
  }
}

namespace {

MDB_val to_val(std::string_view s) { return MDB_val{s.size(), const_cast<char*>(s.data())}; }
std::string_view to_view(const MDB_val& v) { return {static_cast<const char*>(v.mv_data), v.mv_size}; }

[[noreturn]] void fail(const std::string& what, int rc) {
  throw std::runtime_error(fmt::format("{}: {}", what, mdb_strerror(rc)));
}

}  // namespace

class lmdb_store::lmdb_write_txn final : public write_txn {
 public:
  explicit lmdb_write_txn(lmdb_store& s) : _store(s) {}
  MDB_txn* txn = nullptr;

  std::optional<std::string_view> get(table t, std::string_view key) override {
    MDB_val k = to_val(key);
    MDB_val v{};
    if (mdb_get(txn, _store.dbi(t), &k, &v) != MDB_SUCCESS) return std::nullopt;
    return to_view(v);
  }
  errc put(table t, std::string_view key, std::string_view value) override {
    MDB_val k = to_val(key);
    MDB_val v = to_val(value);
    return errc_from_mdb(mdb_put(txn, _store.dbi(t), &k, &v, 0));
  }
  errc insert(table t, std::string_view key, std::string_view value) override {
    MDB_val k = to_val(key);
    MDB_val v = to_val(value);
    return errc_from_mdb(mdb_put(txn, _store.dbi(t), &k, &v, MDB_NOOVERWRITE));
  }
  errc append(table t, std::string_view key, std::string_view value) override {
    MDB_val k = to_val(key);
    MDB_val v = to_val(value);
    return errc_from_mdb(mdb_put(txn, _store.dbi(t), &k, &v, MDB_APPEND));
  }
  errc append_or_put(table t, std::string_view key, std::string_view value) override {
    MDB_val k = to_val(key);
    MDB_val v = to_val(value);
    // MDB_APPEND refuses (MDB_KEYEXIST, nothing written) a key not above the table's last.
    int rc = mdb_put(txn, _store.dbi(t), &k, &v, MDB_APPEND);
    if (rc == MDB_KEYEXIST) rc = mdb_put(txn, _store.dbi(t), &k, &v, 0);
    return errc_from_mdb(rc);
  }
  errc del(table t, std::string_view key) override {
    MDB_val k = to_val(key);
    const int rc = mdb_del(txn, _store.dbi(t), &k, nullptr);
    return rc == MDB_NOTFOUND ? errc::ok : errc_from_mdb(rc);
  }

 private:
  lmdb_store& _store;
};

std::unique_ptr<lmdb_store> lmdb_store::open(const lmdb_options& options, int* stale_readers_cleared) {
  std::error_code ec;
  std::filesystem::create_directories(options.path, ec);
  if (ec) throw std::runtime_error(fmt::format("cannot create '{}': {}", options.path, ec.message()));
  std::unique_ptr<lmdb_store> s(new lmdb_store());
  int rc = mdb_env_create(&s->_env);
  if (rc != 0) fail("mdb_env_create", rc);
  mdb_env_set_maxdbs(s->_env, static_cast<MDB_dbi>(table_count + 4));
  mdb_env_set_maxreaders(s->_env, options.max_readers);
  rc = mdb_env_set_mapsize(s->_env, options.map_size_bytes);
  if (rc != 0) fail("mdb_env_set_mapsize", rc);
  rc = mdb_env_open(s->_env, options.path.c_str(), MDB_NOTLS | MDB_NORDAHEAD, 0600);
  if (rc != 0) fail(fmt::format("cannot open LMDB environment in '{}'", options.path), rc);
  int dead = 0;
  mdb_reader_check(s->_env, &dead);
  if (stale_readers_cleared != nullptr) *stale_readers_cleared = dead;

  MDB_txn* txn = nullptr;
  rc = mdb_txn_begin(s->_env, nullptr, 0, &txn);
  if (rc != 0) fail("mdb_txn_begin", rc);
  for (std::size_t i = 0; i < table_count; ++i) {
    const std::string name(table_name(static_cast<table>(i)));
    rc = mdb_dbi_open(txn, name.c_str(), MDB_CREATE, &s->_dbis[i]);
    if (rc != 0) {
      mdb_txn_abort(txn);
      fail(fmt::format("mdb_dbi_open({})", name), rc);
    }
  }
  rc = mdb_txn_commit(txn);
  if (rc != 0) fail("mdb_txn_commit (opening tables)", rc);
  s->_write = std::make_unique<lmdb_write_txn>(*s);
  return s;
}

lmdb_store::~lmdb_store() {
  if (_write && _write->txn != nullptr) mdb_txn_abort(_write->txn);
  if (_env != nullptr) mdb_env_close(_env);
}

errc lmdb_store::begin_write(write_txn*& txn) {
  if (_write->txn != nullptr) return errc::io_error;  // one write transaction at a time
  const int rc = mdb_txn_begin(_env, nullptr, 0, &_write->txn);
  if (rc != 0) {
    _write->txn = nullptr;
    return errc_from_mdb(rc);
  }
  txn = _write.get();
  return errc::ok;
}

errc lmdb_store::commit() { return commit_with_meta_sync(true); }

errc lmdb_store::commit_lazy() { return commit_with_meta_sync(false); }

errc lmdb_store::commit_with_meta_sync(bool meta_sync) {
  if (_meta_nosync == meta_sync) {  // flipped only when the kind of commit changes
    const int rc = mdb_env_set_flags(_env, MDB_NOMETASYNC, meta_sync ? 0 : 1);
    if (rc != 0) {
      abort();
      return errc_from_mdb(rc);
    }
    _meta_nosync = !meta_sync;
  }
  const int rc = mdb_txn_commit(_write->txn);  // frees the txn whatever the outcome
  _write->txn = nullptr;
  return errc_from_mdb(rc);
}

errc lmdb_store::sync() { return errc_from_mdb(mdb_env_sync(_env, 1)); }

void lmdb_store::abort() {
  if (_write->txn != nullptr) mdb_txn_abort(_write->txn);
  _write->txn = nullptr;
}

std::uint64_t lmdb_store::last_log_sequence() {
  reader r(*this);
  auto last = r.last(table::log);
  return last ? be64_value(last->first) : 0;
}

lmdb_store::reader::reader(lmdb_store& store) : _store(store) {
  const int rc = mdb_txn_begin(store._env, nullptr, MDB_RDONLY, &_txn);
  if (rc != 0) fail("mdb_txn_begin(read)", rc);
}

lmdb_store::reader::~reader() {
  if (_txn != nullptr) mdb_txn_abort(_txn);
}

std::optional<std::string_view> lmdb_store::reader::get(table t, std::string_view key) {
  MDB_val k = to_val(key);
  MDB_val v{};
  if (mdb_get(_txn, _store.dbi(t), &k, &v) != MDB_SUCCESS) return std::nullopt;
  return to_view(v);
}

errc lmdb_store::reader::scan(table t, std::string_view from,
                              const std::function<bool(std::string_view, std::string_view)>& f) {
  MDB_cursor* raw = nullptr;
  int rc = mdb_cursor_open(_txn, _store.dbi(t), &raw);
  if (rc != 0) return errc_from_mdb(rc);
  // A read-only transaction does not free its cursors: close this one even when f throws
  // (recovery does, on a corrupt record).
  const std::unique_ptr<MDB_cursor, decltype(&mdb_cursor_close)> cursor(raw, &mdb_cursor_close);
  MDB_val k = to_val(from);
  MDB_val v{};
  rc = from.empty() ? mdb_cursor_get(raw, &k, &v, MDB_FIRST) : mdb_cursor_get(raw, &k, &v, MDB_SET_RANGE);
  while (rc == MDB_SUCCESS) {
    if (!f(to_view(k), to_view(v))) break;
    rc = mdb_cursor_get(raw, &k, &v, MDB_NEXT);
  }
  return rc == MDB_SUCCESS || rc == MDB_NOTFOUND ? errc::ok : errc_from_mdb(rc);
}

std::optional<std::pair<std::string_view, std::string_view>> lmdb_store::reader::last(table t) {
  MDB_cursor* cursor = nullptr;
  if (mdb_cursor_open(_txn, _store.dbi(t), &cursor) != 0) return std::nullopt;
  MDB_val k{};
  MDB_val v{};
  const int rc = mdb_cursor_get(cursor, &k, &v, MDB_LAST);
  mdb_cursor_close(cursor);
  if (rc != MDB_SUCCESS) return std::nullopt;
  return std::make_pair(to_view(k), to_view(v));
}

std::size_t lmdb_store::reader::entries(table t) {
  MDB_stat st{};
  mdb_stat(_txn, _store.dbi(t), &st);
  return st.ms_entries;
}

std::size_t lmdb_store::reader::pages(table t) {
  MDB_stat st{};
  if (mdb_stat(_txn, _store.dbi(t), &st) != 0) return 0;
  return st.ms_branch_pages + st.ms_leaf_pages + st.ms_overflow_pages;
}

std::size_t lmdb_store::used_pages() {
  MDB_envinfo info{};
  mdb_env_info(_env, &info);
  return info.me_last_pgno + 1;
}

std::size_t lmdb_store::readahead(std::size_t bytes_max) {
  mdb_filehandle_t fd = -1;
  if (mdb_env_get_fd(_env, &fd) != 0) return 0;
  MDB_stat env_stat{};
  mdb_env_stat(_env, &env_stat);
  const std::size_t end = std::min(used_pages() * env_stat.ms_psize, bytes_max);
  for (std::size_t at = 0; at < end; at += readahead_step_bytes) {
    const std::size_t len = std::min(readahead_step_bytes, end - at);
    if (::posix_fadvise(fd, static_cast<off_t>(at), static_cast<off_t>(len), POSIX_FADV_WILLNEED) != 0) return at;
  }
  return end;
}

std::size_t lmdb_store::readahead_bytes_default() {
  const long pages = ::sysconf(_SC_PHYS_PAGES);
  const long page_bytes = ::sysconf(_SC_PAGESIZE);
  if (pages <= 0 || page_bytes <= 0) return 1ull << 30;  // unknown: 1 GiB
  return static_cast<std::size_t>(pages) * static_cast<std::size_t>(page_bytes) / 2;
}

lmdb_stats lmdb_store::stats() {
  lmdb_stats out;
  MDB_envinfo info{};
  MDB_stat env_stat{};
  mdb_env_info(_env, &info);
  mdb_env_stat(_env, &env_stat);
  out.map_size_bytes = info.me_mapsize;
  out.page_size = env_stat.ms_psize;
  out.used_bytes = (info.me_last_pgno + 1) * env_stat.ms_psize;
  reader r(*this);
  for (std::size_t i = 0; i < table_count; ++i) {
    out.entries[i] = r.entries(static_cast<table>(i));
  }
  auto last = r.last(table::log);
  out.last_log_sequence = last ? be64_value(last->first) : 0;
  return out;
}

void lmdb_store::copy_to(const std::string& dest) {
  std::error_code ec;
  std::filesystem::create_directories(dest, ec);
  if (ec) throw std::runtime_error(fmt::format("cannot create '{}': {}", dest, ec.message()));
  const int rc = mdb_env_copy2(_env, dest.c_str(), MDB_CP_COMPACT);
  if (rc != 0) fail(fmt::format("copying the environment to '{}'", dest), rc);
}

}  // namespace warrant::storage

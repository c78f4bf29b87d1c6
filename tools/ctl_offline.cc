#include "tools/ctl_offline.h"

#include <fmt/format.h>

#include <cstdio>
#include <filesystem>

#include "engine/app.h"
#include "storage/record.h"
#include "tools/ctl_json.h"
#include "tools/ctl_records.h"
#include "tools/ctl_verify.h"

namespace warrant::tools {
namespace {

namespace fs = std::filesystem;

// export writes its lines in chunks of about this size.
constexpr std::size_t export_flush_bytes = 64 * 1024;

void write_stdout(std::string& buf) {
  if (!buf.empty() && std::fwrite(buf.data(), 1, buf.size(), stdout) != buf.size()) {
    throw ctl_error(exit_failed, "writing to stdout failed");
  }
  buf.clear();
}

}  // namespace

std::string environment_dir(const std::string& data_dir) { return data_dir + "/" + std::string(engine::lmdb_subdir); }

std::unique_ptr<storage::lmdb_store> open_environment(const std::string& env_dir) {
  std::error_code ec;
  if (!fs::is_regular_file(fs::path(env_dir) / lmdb_data_file, ec)) {
    throw ctl_error(exit_failed, fmt::format("no Warrant database in '{}' (no {}; is --data-dir right?)", env_dir,
                                             lmdb_data_file));
  }
  storage::lmdb_options lo;
  lo.path = env_dir;
  lo.map_size_bytes = 0;  // 0: LMDB keeps the size recorded in the environment
  return storage::lmdb_store::open(lo);
}

std::string stats_json(storage::lmdb_store& store, const std::string& env_dir) {
  const storage::lmdb_stats s = store.stats();
  MDB_envinfo info{};
  mdb_env_info(store.env(), &info);
  std::error_code ec;
  const auto file_bytes = fs::file_size(fs::path(env_dir) / lmdb_data_file, ec);
  json_out j;
  j.begin_object().member("environment", env_dir);
  j.member("map_size_bytes", std::uint64_t{s.map_size_bytes}).member("used_bytes", std::uint64_t{s.used_bytes});
  j.member("file_bytes", std::uint64_t{ec ? 0 : file_bytes}).member("page_size", std::uint64_t{s.page_size});
  j.key("readers").begin_object().member("max", std::uint64_t{info.me_maxreaders});
  j.member("used", std::uint64_t{info.me_numreaders}).end_object();
  j.key("entries").begin_object();
  for (std::size_t i = 0; i < storage::table_count; ++i) {
    j.member(storage::table_name(static_cast<storage::table>(i)), std::uint64_t{s.entries[i]});
  }
  j.end_object().member("last_sequence", s.last_log_sequence).end_object();
  return j.take();
}

int export_log(const ctl_options& o, std::uint64_t from, std::uint64_t to) {
  auto store = open_environment(environment_dir(resolve_data_dir(o)));
  storage::lmdb_store::reader r(*store);
  std::string buf;
  std::string error;
  std::uint64_t bad_sequence = 0;
  const storage::errc e = r.scan(storage::table::log, storage::be64_key(from), [&](std::string_view key, std::string_view value) {
    const std::uint64_t seq = storage::be64_value(key);
    if (to != 0 && seq > to) return false;
    storage::decoded_record rec;
    const storage::decode_errc d = storage::decode_record(value, rec);
    if (d != storage::decode_errc::ok) error = std::string(storage::decode_errc_name(d));
    if (error.empty() && append_log_record_json(buf, seq, rec, error)) {
      buf.push_back('\n');
      if (buf.size() >= export_flush_bytes) write_stdout(buf);
      return true;
    }
    bad_sequence = seq;
    return false;
  });
  write_stdout(buf);
  std::fflush(stdout);
  if (!error.empty()) throw ctl_error(exit_failed, fmt::format("log record {}: {} (export stopped)", bad_sequence, error));
  if (e != storage::errc::ok) throw ctl_error(exit_failed, fmt::format("reading the log: {}", storage::errc_name(e)));
  return exit_ok;
}

int print_stats(const ctl_options& o) {
  const std::string env_dir = environment_dir(resolve_data_dir(o));
  auto store = open_environment(env_dir);
  print_json(stats_json(*store, env_dir), o.pretty);
  return exit_ok;
}

int verify(const ctl_options& o) {
  const std::string data_dir = resolve_data_dir(o);
  auto store = open_environment(environment_dir(data_dir));
  const verify_report report = verify_store(*store);
  print_json(render_verify_report(report, data_dir), o.pretty);
  return report.consistent() ? exit_ok : exit_failed;
}

}  // namespace warrant::tools

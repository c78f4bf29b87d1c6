// tools/ctl_backup.cc: `warrantctl backup` and `warrantctl restore` (declared in
// tools/ctl_offline.h; the backup layout is in docs/warrantctl.md).
#include <fcntl.h>
#include <fmt/format.h>
#include <simdjson.h>
#include <unistd.h>

#include <ctime>
#include <filesystem>
#include <fstream>
#include <optional>

#include "engine/app.h"
#include "engine/common/ids.h"
#include "generated/build_info.h"
#include "storage/data_dir.h"
#include "tools/ctl_json.h"
#include "tools/ctl_offline.h"
#include "tools/ctl_verify.h"

namespace warrant::tools {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view manifest_format = "warrant-backup";
constexpr std::uint64_t manifest_format_version = 1;
constexpr std::string_view restore_staging_dir = "db.restore-tmp";

// Backups and restored files hold tenant data: owner-only, like warrantd's own files.
void make_private(const fs::path& p) {
  fs::permissions(p, fs::perms::owner_read | fs::perms::owner_write, fs::perm_options::replace);
}

// fsync a file or a directory, so a rename or a copy survives a crash.
void sync_path(const fs::path& p) {
  const int fd = ::open(p.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw ctl_error(exit_failed, fmt::format("cannot open '{}' to sync it", p.string()));
  const bool ok = ::fsync(fd) == 0;
  ::close(fd);
  if (!ok) throw ctl_error(exit_failed, fmt::format("fsync '{}' failed", p.string()));
}

// Writes `text` to `path` through a temporary file, synced and renamed into place.
void write_file_durably(const fs::path& path, const std::string& text) {
  const fs::path tmp = path.string() + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << text;
    if (!out.flush()) throw ctl_error(exit_failed, fmt::format("cannot write '{}'", tmp.string()));
  }
  make_private(tmp);
  sync_path(tmp);
  fs::rename(tmp, path);
  sync_path(path.parent_path());
}

bool empty_or_absent(const fs::path& dir) {
  std::error_code ec;
  if (!fs::exists(dir, ec)) return true;
  return fs::is_directory(dir, ec) && fs::is_empty(dir, ec);
}

std::string compact_utc_stamp() {
  const std::time_t now = std::time(nullptr);
  std::tm utc{};
  gmtime_r(&now, &utc);
  char text[32];
  std::strftime(text, sizeof text, "%Y%m%dT%H%M%SZ", &utc);
  return text;
}

std::uint64_t total_entries(storage::lmdb_store& store) {
  storage::lmdb_store::reader r(store);
  std::uint64_t n = 0;
  for (std::size_t i = 0; i < storage::table_count; ++i) n += r.entries(static_cast<storage::table>(i));
  return n;
}

// Opens the environment copied into `env_dir`, verifies it and closes it again, removing the
// lock file the check created (a backup or a staged restore holds data.mdb alone).
verify_report verify_copy(const std::string& env_dir, std::string& stats) {
  verify_report report;
  {
    auto store = open_environment(env_dir);
    report = verify_store(*store);
    stats = stats_json(*store, env_dir);
  }
  std::error_code ec;
  fs::remove(fs::path(env_dir) / lmdb_lock_file, ec);
  return report;
}

std::string manifest_json(const std::string& source_data_dir, const verify_report& report, std::uint64_t data_bytes) {
  json_out j;
  j.begin_object().member("format", manifest_format).member("format_version", manifest_format_version);
  j.member("created_at", engine::format_time_ms(engine::unix_now_ms()));
  j.member("source_data_dir", fs::absolute(source_data_dir).lexically_normal().string());
  j.member("last_sequence", report.last_sequence).member("data_file", lmdb_data_file).member("data_bytes", data_bytes);
  j.key("entries").begin_object();
  for (std::size_t i = 0; i < storage::table_count; ++i) {
    j.member(storage::table_name(static_cast<storage::table>(i)), report.entries[i]);
  }
  j.end_object().member("consistent", report.consistent());
  j.member("warrantctl", fmt::format("{} ({})", build::version, build::commit)).end_object();
  return j.take();
}

// last_sequence from a backup's MANIFEST: nullopt when there is no MANIFEST; throws when it
// is there but unreadable.
std::optional<std::uint64_t> manifest_last_sequence(const fs::path& dir) {
  const fs::path path = dir / backup_manifest_file;
  std::error_code ec;
  if (!fs::exists(path, ec)) return std::nullopt;
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  std::uint64_t seq = 0;
  std::string_view format;
  if (parser.load(path.string()).get(doc) || doc["format"].get_string().get(format) || format != manifest_format ||
      doc["last_sequence"].get_uint64().get(seq)) {
    throw ctl_error(exit_failed, fmt::format("'{}' is not a Warrant backup manifest", path.string()));
  }
  return seq;
}

// Copies the backup into <data-dir>/db.restore-tmp and verifies it there; the staging
// directory, or throws (removing it) when the backup is unusable.
fs::path stage_backup(const fs::path& source, const fs::path& data_dir, std::string& stats) {
  const fs::path staging = data_dir / restore_staging_dir;
  fs::remove_all(staging);
  fs::create_directories(staging);
  fs::copy_file(source / lmdb_data_file, staging / lmdb_data_file);
  make_private(staging / lmdb_data_file);
  sync_path(staging / lmdb_data_file);
  const verify_report report = verify_copy(staging.string(), stats);
  std::string problem;
  if (!report.consistent()) {
    problem = fmt::format("the backup fails verification:\n{}", render_verify_report(report, source.string()));
  } else if (auto expected = manifest_last_sequence(source); expected && *expected != report.last_sequence) {
    problem = fmt::format("the backup's log ends at sequence {} but its MANIFEST says {}", report.last_sequence, *expected);
  }
  if (!problem.empty()) {
    fs::remove_all(staging);
    throw ctl_error(exit_failed, problem + "\nnothing was changed");
  }
  return staging;
}

}  // namespace

int backup(const ctl_options& o, const std::string& dest) {
  const std::string data_dir = resolve_data_dir(o);
  if (!empty_or_absent(dest)) {
    throw ctl_error(exit_failed, fmt::format("backup destination '{}' must be an empty directory or not exist", dest));
  }
  {
    auto store = open_environment(environment_dir(data_dir));
    store->copy_to(dest);  // mdb_env_copy2(MDB_CP_COMPACT): one read transaction, the server keeps writing
  }
  const fs::path data_file = fs::path(dest) / lmdb_data_file;
  make_private(data_file);
  sync_path(data_file);
  std::string stats;
  const verify_report report = verify_copy(dest, stats);
  write_file_durably(fs::path(dest) / backup_manifest_file, manifest_json(data_dir, report, fs::file_size(data_file)));
  json_out j;
  j.begin_object().member("backup", dest).member("consistent", report.consistent());
  j.member("last_sequence", report.last_sequence).key("stats").raw(stats);
  if (!report.consistent()) j.key("verify").raw(render_verify_report(report, dest));
  j.end_object();
  print_json(j.text(), o.pretty);
  if (!report.consistent()) std::fprintf(stderr, "warrantctl: the copy in '%s' fails verification\n", dest.c_str());
  return report.consistent() ? exit_ok : exit_failed;
}

int restore(const ctl_options& o, const std::string& source, bool force) {
  const fs::path data_dir = resolve_data_dir(o);
  std::error_code ec;
  if (!fs::is_regular_file(fs::path(source) / lmdb_data_file, ec)) {
    throw ctl_error(exit_failed, fmt::format("'{}' is not a backup (no {})", source, lmdb_data_file));
  }
  // Held until we return: no warrantd can start on the directory mid-restore.
  std::optional<storage::data_dir> claimed;
  try {
    claimed.emplace(storage::data_dir::open(data_dir.string()));
  } catch (const std::exception& e) {
    throw ctl_error(exit_failed, fmt::format("refusing to restore: {}", e.what()));
  }
  const fs::path env_dir = environment_dir(data_dir.string());
  bool had_data = false;
  if (fs::is_regular_file(env_dir / lmdb_data_file, ec)) {
    auto current = open_environment(env_dir.string());
    had_data = total_entries(*current) > 0;
  }
  if (had_data && !force) {
    throw ctl_error(exit_failed, fmt::format("refusing to restore: '{}' already holds data; pass --force to replace it "
                                             "(the current data is then kept beside it as db.replaced-<time>)",
                                             env_dir.string()));
  }
  std::string staged_stats;
  const fs::path staging = stage_backup(source, data_dir, staged_stats);

  std::string replaced;
  if (had_data) {
    replaced = (data_dir / ("db.replaced-" + compact_utc_stamp())).string();
    fs::rename(env_dir, replaced);
  } else {
    fs::remove_all(env_dir);
  }
  fs::rename(staging, env_dir);
  sync_path(data_dir);

  std::string stats;
  const verify_report report = verify_copy(env_dir.string(), stats);
  json_out j;
  j.begin_object().member("restored_from", source).member("data_dir", data_dir.string());
  j.member("consistent", report.consistent()).member("last_sequence", report.last_sequence);
  j.key("replaced");
  replaced.empty() ? j.null() : j.str(replaced);
  j.key("stats").raw(stats).end_object();
  print_json(j.text(), o.pretty);
  if (had_data && fs::exists(data_dir / std::string(engine::bootstrap_key_file), ec)) {
    std::fprintf(stderr, "warrantctl: note: %s/%s belongs to the replaced data and may not be a key of the restored data\n",
                 data_dir.c_str(), std::string(engine::bootstrap_key_file).c_str());
  }
  return report.consistent() ? exit_ok : exit_failed;
}

}  // namespace warrant::tools

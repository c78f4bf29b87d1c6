// tools/ctl_offline.h: warrantctl's offline commands, which open the LMDB environment in
// <data-dir>/db directly.
//
// LMDB lets other processes read an environment a warrantd is writing, so `export`, `stats`,
// `verify` and `backup` work beside a running server: they open the environment without
// taking <data-dir>/LOCK, read inside one read transaction, and write nothing to it (opening
// the named databases takes LMDB's writer lock for an instant and changes nothing). The map
// size is adopted from the environment, never imposed. `restore` is the exception: it claims
// <data-dir>/LOCK (storage::data_dir) and refuses while a server holds it. Single-threaded.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "storage/lmdb_store.h"
#include "tools/ctl_common.h"

namespace warrant::tools {

inline constexpr const char* backup_manifest_file = "MANIFEST";
inline constexpr const char* lmdb_data_file = "data.mdb";
inline constexpr const char* lmdb_lock_file = "lock.mdb";

// Opens the environment in directory `env_dir`, which must already hold data.mdb (throws
// ctl_error(exit_failed) otherwise, or std::runtime_error from LMDB).
std::unique_ptr<storage::lmdb_store> open_environment(const std::string& env_dir);
// <data-dir>/db
std::string environment_dir(const std::string& data_dir);

// The log as JSON lines, sequences `from`..`to` inclusive (`to` 0: to the end).
int export_log(const ctl_options& o, std::uint64_t from, std::uint64_t to);
int print_stats(const ctl_options& o);
int verify(const ctl_options& o);
// A compacted, consistent copy of the environment plus MANIFEST into `dest` (empty or absent).
int backup(const ctl_options& o, const std::string& dest);
// Replaces <data-dir>/db with the backup in `source`, after verifying it.
int restore(const ctl_options& o, const std::string& source, bool force);

// The stats JSON object of an open environment (shared by stats, backup and restore).
std::string stats_json(storage::lmdb_store& store, const std::string& env_dir);

}  // namespace warrant::tools

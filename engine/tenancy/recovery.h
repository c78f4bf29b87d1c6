// engine/tenancy/recovery.h: rebuilding the tenancy index at start-up, and checking it.
//
// `recover` loads the materialised `workspaces`, `api_keys`, `agents` and `spawn_policies` tables (written in the same
// transactions as the log) into the index's staging copy and publishes it, verifying every
// record's checksum; a corrupt record stops start-up with its table and key. `replay_log`
// folds the log from the beginning into a fresh snapshot: `warrantctl verify` and the crash
// test compare the two, which must be equal. Start-up / offline tools only.
//
// Both read data.mdb ahead first (storage::lmdb_store::readahead, bounded by half of physical
// memory) when the tables they scan occupy at least 1/16 of its used pages: from a cold page
// cache a scan otherwise faults the file in 4 KiB at a time (see docs/PERFORMANCE.md).
#pragma once

#include <cstdint>
#include <string>

#include "engine/tenancy/index.h"
#include "storage/lmdb_store.h"

namespace warrant::engine {

struct recovery_report {
  std::size_t workspaces = 0;
  std::size_t keys = 0;
  std::size_t agents = 0;
  std::size_t records_read = 0;
  std::uint64_t log_records = 0;
  std::uint64_t last_sequence = 0;
  std::size_t readahead_bytes = 0;  // of data.mdb, before the scan
  double seconds = 0;
};

// Throws std::runtime_error on a corrupt or undecodable record.
recovery_report recover_tenancy(storage::lmdb_store& store, tenancy_index& index);
// The same inside the caller's read transaction, so that an offline check (warrantctl verify,
// running beside a live server) sees the tables and the log at one instant.
recovery_report recover_tenancy(storage::lmdb_store::reader& r, tenancy_index& index);

struct replay_report {
  std::uint64_t records = 0;
  std::uint64_t first_sequence = 0;
  std::uint64_t last_sequence = 0;
  bool sequences_dense = true;  // 1, 2, 3, ... with no gap
  std::size_t readahead_bytes = 0;  // of data.mdb, before the scan
};

// Throws std::runtime_error on a corrupt or undecodable log record.
replay_report replay_log(storage::lmdb_store& store, tenancy_snapshot& out);
replay_report replay_log(storage::lmdb_store::reader& r, tenancy_snapshot& out);

// Empty when equal; otherwise the first difference found, for a person.
std::string compare_snapshots(const tenancy_snapshot& a, const tenancy_snapshot& b);

}  // namespace warrant::engine

// tools/ctl_verify.h: `warrantctl verify` — is a data directory's LMDB environment whole and
// self-consistent?
//
// Inside one read transaction (so it may run beside a live warrantd and still see one
// instant) it checks:
//   record    every value of every table but `meta` is a record whose envelope and checksum
//             hold, whose type belongs to its table, whose payload decodes, and whose key is
//             the one its content implies (workspace id; <workspace id> 0x00 <key id>; an
//             8-byte sequence);
//   sequence  the log's sequences are 1, 2, 3, ... with no gap;
//   recovery  engine::recover_tenancy loads the materialised tables;
//   replay    engine::replay_log folds the log from the start;
//   compare   engine::compare_snapshots finds the two equal.
// Problems are listed up to verify_problems_max. Single-threaded, offline.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "storage/lmdb_store.h"

namespace warrant::tools {

inline constexpr std::size_t verify_problems_max = 100;

struct verify_problem {
  std::string check;  // record, sequence, lmdb, recovery, replay, compare
  std::string table;  // "" when the problem is not in one table
  std::string key;    // printable: sequence number, workspace id, "<workspace>/<key id>"
  std::string detail;
};

struct verify_report {
  std::array<std::uint64_t, storage::table_count> entries{};
  std::array<std::uint64_t, storage::table_count> bad_records{};
  std::uint64_t first_sequence = 0;
  std::uint64_t last_sequence = 0;
  bool sequences_dense = true;
  std::uint64_t workspaces = 0;  // materialised, as recovered
  std::uint64_t keys = 0;
  std::uint64_t replayed_workspaces = 0;
  std::uint64_t replayed_keys = 0;
  std::vector<verify_problem> problems;
  std::uint64_t problems_total = 0;  // problems.size() stops at verify_problems_max

  bool consistent() const { return problems_total == 0; }
  void add(verify_problem p);
};

verify_report verify_store(storage::lmdb_store& store);

// The report as one JSON object (`data_dir` is echoed in it).
std::string render_verify_report(const verify_report& r, const std::string& data_dir);

}  // namespace warrant::tools

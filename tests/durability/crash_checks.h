// tests/durability/crash_checks.h: reading the state back, through the API and from disk.
//
// `fetch_dump` lists every workspace (paged) and every workspace's keys from a running server.
// `check_offline` opens a stopped server's LMDB environment in-process, loads the materialised
// tables with `recover_tenancy`, folds the log with `replay_log` into a fresh snapshot, and
// checks that the two agree and that the log's sequence numbers are 1, 2, 3, ... with no gap.
// `compare_dump_with_snapshot` checks that the API showed exactly what is on disk.
// Test thread only.
#pragma once

#include <string>
#include <vector>

#include "engine/tenancy/index.h"
#include "engine/tenancy/recovery.h"
#include "tests/durability/crash_model.h"

namespace warrant::test {

// Throws std::runtime_error when a request fails.
api_dump fetch_dump(std::uint16_t port, const std::string& admin_key);

// GET /v1/admin/workspaces/{id} for every listed workspace whose name contains `name_part`:
// each must answer 200 with exactly the listed workspace.
void check_gets(std::uint16_t port, const std::string& admin_key, const api_dump& dump, const std::string& name_part,
                std::vector<std::string>& errors);

struct offline_state {
  engine::recovery_report recovered;
  engine::replay_report replayed;
  engine::tenancy_snapshot snapshot;  // the materialised tables
};

offline_state check_offline(const std::string& db_dir, std::vector<std::string>& errors);

// The API's rendering of stored records, to compare with what the server answered.
json render(const engine::workspace& w);
json render(const engine::api_key_record& k);

void compare_dump_with_snapshot(const api_dump& dump, const engine::tenancy_snapshot& snapshot,
                                std::vector<std::string>& errors);

}  // namespace warrant::test

// engine/audit/audit.h: the workspace audit trail of registry and lifecycle changes
// (spec/evidence.md "Agents and genealogy": every registry, lifecycle and spawn action is
// audited; `GET /v1/audit`).
//
// An entry is written by the command that makes the change, in the same LMDB transaction
// (`append_audit` from a command's apply()), so a committed change always has its entry and
// an aborted one never does. Entries live in table `audit` under
// `<workspace id> 0x00 <inverted UUIDv7 id>` (engine/evidence/event.h's key form): a forward
// scan of a workspace's range is newest first, and a key of workspace A cannot reach B's.
//
// Record payload (storage/record.h field codec, tags on disk, never reused): see
// docs/storage-format.md "audit".
//
// Codecs: any thread. append_audit: the writer thread, inside apply(). Reads: shard threads,
// in their own read transaction (engine/audit/audit_routes.h).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "storage/store.h"

namespace warrant::engine {

struct audit_entry {
  std::string id;             // UUIDv7, made when the command is built (new_uuid_v7)
  std::string workspace_id;   // the workspace whose trail holds it
  std::string actor_key_id;   // the API key that asked for the change
  std::string actor_id;       // who holds that key: the agent id for an agent key, else the key id
  std::string target_type;    // "agent", "spawn_policy", ...
  std::string target_id;      // the changed object's id
  std::string action;         // "agent.created", "agent.suspended", ... (docs/api-evidence.md)
  std::string before_status;  // "" when the object did not exist / has no status
  std::string after_status;   // "" when the change has no status
  std::int64_t at_ms = 0;     // when the change was made (Unix ms)
};

std::string encode_audit_entry(const audit_entry& e);
std::optional<audit_entry> decode_audit_entry(std::string_view payload);

// The entry's key in table `audit`; nullopt when `e.id` is not a UUIDv7.
std::optional<std::string> audit_storage_key(std::string_view workspace_id, std::string_view id);

// Writer thread, inside a command's apply(): puts `e` into table `audit` in `txn`. The caller
// gives each entry its own id (entries made in one apply() need distinct, increasing ids:
// new_uuid_v7() is monotonic within the process); an empty id (or one that is not a UUID) gets
// a new UUIDv7. Errors surface through the writer, as for every put.
void append_audit(storage::write_txn& txn, const audit_entry& e);

}  // namespace warrant::engine

// tests/durability/crash_model.h: what the crash test's clients were told, and what must hold.
//
// The clients of one cycle each log every write they sent and whether it was acknowledged
// (a 2xx answer) or not (the connection failed: the write may or may not have happened).
// `merge` folds those logs into the `model` of the tenancy state the server owes us;
// `check_and_adopt` compares a full listing from the restarted server with it:
//
// - every acknowledged workspace and key is present exactly once, with the fields it was
//   acknowledged with; its revocation and limit are the acknowledged ones or a later write
//   that was sent but not acknowledged;
// - anything present that was never acknowledged must be one of the unacknowledged creates
//   (matched by its unique name), at most once;
// - nothing else exists.
//
// Then the model adopts what the server showed (it is durable now) for the next cycle.
// Each workspace is owned by the client thread that created it (its name says which): only
// that thread changes it, so its writes are ordered and "later" is well defined.
// Test thread only.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "tests/admin/server_harness.h"

namespace warrant::test {

enum class op_kind { create_workspace, create_key, revoke_key, set_limits };

// One write as a client saw it.
struct op_record {
  op_kind kind = op_kind::create_workspace;
  bool acknowledged = false;
  std::string name;                                   // creates: the unique name sent
  std::string workspace_id;                           // create_key, revoke_key, set_limits
  std::string key_id;                                 // revoke_key
  std::int64_t requests_per_minute = 0;               // set_limits
  json answer;                                        // acknowledged: the 2xx body
  std::chrono::steady_clock::time_point failed_at{};  // unanswered: when the connection failed
};

struct client_log {
  std::vector<op_record> ops;
  std::vector<std::string> errors;  // answers no correct server gives (non-2xx, bad bodies)
};

struct workspace_model {
  json acknowledged;                         // the workspace as last acknowledged or observed
  int owner = -1;                            // client thread, -1 for `default`
  std::vector<std::int64_t> limits_pending;  // sent after the last acknowledged limit, unanswered
};

struct key_model {
  json acknowledged;  // the key as acknowledged at creation (without its secret) or observed
  bool revoke_pending = false;
};

struct unacknowledged_create {
  std::string workspace_id;  // keys: the workspace it was sent to
  int owner = -1;
};

struct model {
  std::map<std::string, workspace_model> workspaces;  // by id
  std::map<std::string, key_model> keys;              // by key id
  // Creates whose answer never came, by the unique name sent.
  std::map<std::string, unacknowledged_create> workspace_creates_unanswered;
  std::map<std::string, unacknowledged_create> key_creates_unanswered;
};

struct merge_counts {
  std::size_t acknowledged = 0;
  std::size_t unacknowledged = 0;
  std::map<op_kind, std::size_t> acknowledged_by_kind;
};

// Folds one cycle's client logs (index = owner thread) into the model; errors found (such as
// a duplicate id in two acknowledgements) are appended to `errors`.
merge_counts merge(model& m, const std::vector<client_log>& logs, std::vector<std::string>& errors);

// Everything the restarted server lists.
struct api_dump {
  std::vector<json> workspaces;                                // list order (newest first)
  std::map<std::string, std::vector<json>> keys_by_workspace;  // list order (oldest first)
  std::size_t key_count = 0;
};

struct check_counts {
  std::size_t unanswered_creates_present = 0;
  std::size_t unanswered_updates_applied = 0;
};

// Checks the dump against the model (appending every violation to `errors`) and adopts it.
check_counts check_and_adopt(model& m, const api_dump& dump, std::vector<std::string>& errors);

// The owner thread encoded in a name made by `unique_name` (-1 if none).
int owner_of_name(const std::string& name);
std::string unique_name(char what, int cycle, int thread, int n);

}  // namespace warrant::test

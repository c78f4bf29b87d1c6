// engine/idempotency/test_routes.h: a route family FOR TESTS ONLY, proving the idempotency
// mechanism end to end until the evidence family's POST /v1/events opts into it.
//
// Registered only with --enable-test-routes (WARRANT_ENABLE_TEST_ROUTES=1); off by default and
// not for production. Any valid API key may call them; everything is scoped to its workspace.
//
//   POST /v1/test/writes       any JSON object body. Stored durably through the writer (table
//                              `test_writes`), answered 201 with
//                              {"id","workspace_id","body":<the object, canonical JSON>,"created_at"}
//                              and `Location: /v1/test/writes/{id}`. Opts into idempotency
//                              (Idempotency-Key); without the header, a body whose string fields
//                              `userExternalId`, `eventType` and `occurredAt` are all present
//                              gets an automatic key (the events' auto-dedup hook).
//   GET  /v1/test/writes/{id}  200 with the same object; 404 for an unknown id or another
//                              workspace's.
//
// Threading: handlers on shard threads; the command's apply on the writer thread.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "engine/guard/guard.h"
#include "engine/idempotency/service.h"
#include "net/router.h"
#include "storage/lmdb_store.h"
#include "storage/writer.h"

namespace warrant::engine::idempotency {

inline constexpr std::string_view test_writes_pattern = "/v1/test/writes";
inline constexpr std::string_view test_write_pattern = "/v1/test/writes/{id}";

struct test_routes {
  storage::lmdb_store& store;
  storage::writer& writer;
  service& idempotency;
};

void register_test_routes(net::router& routes, guard& g, test_routes& api);

// The automatic key of a body (auto-dedup), or nullopt when it lacks one of the three string
// fields: the hex SHA-256 of (workspace, userExternalId, eventType, occurredAt).
std::optional<std::string> automatic_event_key(std::string_view workspace_id, std::string_view body);

// The stored test write (table test_writes, record type test_write).
struct test_write {
  std::string id;
  std::string workspace_id;
  std::string body;  // canonical JSON of the object
  std::int64_t created_at_ms = 0;
};
std::string encode_test_write(const test_write& w);
std::optional<test_write> decode_test_write(std::string_view payload);
std::string test_write_key(std::string_view workspace_id, std::string_view id);

}  // namespace warrant::engine::idempotency

// engine/app.h: the engine assembled — storage, writer, indexes and routes — for warrantd.
//
// Start-up order (main thread): open LMDB in <data-dir>/db, recover the indexes, start the
// writer, bootstrap workspace `default` on an empty store, register routes. `attach` connects
// the running server (reader quiescence for snapshots, metrics, readiness). At SIGTERM the
// server drains first, then `stop` stops the idempotency sweeper, flushes and stops the writer.
// The entity index (engine/evidence/entity_index.h) is rebuilt from the `events` and `claims`
// tables right after tenancy, before the writer starts. The evidence policy is the embedded
// default, held in a swappable slot read once per request (a reload replaces it whole).
// Idempotency needs no recovery step: its stored responses are in LMDB and its in-flight
// table starts empty (engine/idempotency/service.h).
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "engine/agents/agent_routes.h"
#include "engine/evidence/decision_log.h"
#include "engine/evidence/facts_source.h"
#include "engine/evidence/policy_holder.h"
#include "engine/evidence/policy_routes.h"
#include "engine/evidence/entity_index.h"
#include "engine/evidence/evidence_recovery.h"
#include "engine/evidence/evidence_routes.h"
#include "engine/guard/guard.h"
#include "engine/idempotency/service.h"
#include "engine/idempotency/sweeper.h"
#include "engine/idempotency/test_routes.h"
#include "engine/ops_routes.h"
#include "engine/tenancy/admin_routes.h"
#include "engine/tenancy/index.h"
#include "engine/tenancy/recovery.h"
#include "net/server.h"
#include "storage/data_dir.h"
#include "storage/lmdb_store.h"
#include "storage/writer.h"

namespace warrant::engine {

struct app_options {
  std::size_t map_size_bytes = 64ull << 30;
  unsigned max_readers = 512;
  storage::writer_options writer;
  guard_options guard;
  // Stored responses of idempotent writes live this long (--idempotency-ttl-hours).
  std::int64_t idempotency_ttl_ms = idempotency::ttl_ms_default;
  // POST /v1/test/writes and GET /v1/test/writes/{id}: for tests only (--enable-test-routes).
  bool enable_test_routes = false;
  // The evidence policy file (--policy-file); empty: the embedded default policy.
  std::string policy_file;
  evidence::policy_routes_options policy;
  evidence::decision_log_options decision_log;
};

inline constexpr std::string_view bootstrap_key_file = "bootstrap-admin-key";
inline constexpr std::string_view lmdb_subdir = "db";

class app {
 public:
  // Throws std::runtime_error with a message for the operator.
  app(const storage::data_dir& dir, const app_options& options);
  ~app();

  void register_routes(net::router& routes);
  void attach(net::server& server, net::metrics_registry& metrics, ops_state& ops);
  // Stops the reload worker, hands the decisions the (joined) shards left to the writer, then
  // stops the sweeper and the writer.
  void stop();

  // Shard threads: called at the end of every loop turn (net::shard_config::turn_end); the
  // decision log's group-commit point. It asks the shard to come back within ~1 ms while an
  // evaluate group is open (decision_log::flush). Set it on the server's shard config before start.
  net::shard_turn_hook shard_turn_hook();
  // Main thread (SIGHUP): reloads the policy file; the old policy stays on failure.
  evidence::policy_reload_result reload_policy() { return _policies->reload(); }
  evidence::policy_holder& policies() { return *_policies; }
  evidence::decision_log& decisions() { return *_decisions; }

  const recovery_report& recovery() const { return _recovery; }
  const evidence::evidence_recovery_report& evidence_recovery() const { return _evidence_recovery; }
  evidence::entity_index& entities() { return _entities; }
  // The admin key created on this start (first start on an empty store), else nullopt.
  const std::optional<std::string>& bootstrap_key() const { return _bootstrap_key; }
  storage::writer& writer() { return *_writer; }
  tenancy_index& tenancy() { return _tenancy; }
  // Protected routes register through it (engine/guard/guard.h).
  engine::guard& access_guard() { return *_guard; }

 private:
  std::string _data_dir;
  std::unique_ptr<storage::lmdb_store> _store;
  tenancy_index _tenancy;
  evidence::entity_index _entities;
  std::unique_ptr<storage::writer> _writer;
  std::unique_ptr<engine::guard> _guard;
  std::unique_ptr<admin_api> _admin;
  std::unique_ptr<idempotency::service> _idempotency;
  std::unique_ptr<idempotency::sweeper> _sweeper;  // started after the writer, stopped before it
  std::unique_ptr<idempotency::test_routes> _test_routes;  // only with enable_test_routes
  std::unique_ptr<evidence::policy_holder> _policies;
  std::unique_ptr<evidence::policy_reloader> _reloader;
  std::unique_ptr<evidence::decision_log> _decisions;
  std::unique_ptr<evidence::facts_source> _facts;
  std::unique_ptr<evidence::policy_api> _policy_api;
  std::unique_ptr<evidence::evidence_api> _evidence;
  std::unique_ptr<agents_api> _agents;
  recovery_report _recovery;
  evidence::evidence_recovery_report _evidence_recovery;
  std::optional<std::string> _bootstrap_key;
};

// Prometheus series of the writer, appended to /metrics.
void render_writer_metrics(net::byte_buffer& out, const storage::writer_stats& s);

}  // namespace warrant::engine

// engine/evidence/policy_routes.h: the policy routes of the evidence family
// (spec/evidence.md "Policy"; reference: docs/api-evidence.md).
//
//   POST /v1/policy/evaluate       (and /policy/evaluate)        one decision; ?debug=true adds "signals"
//   POST /v1/policy/evaluate/bulk  (and /policy/evaluate/bulk)   1..bulk cap decisions, each independent
//   GET  /v1/policy/actions        (and /policy/actions)         the action registry of the policy in force
//   GET  /v1/policy/actions/{action}                             one action; 404 UNKNOWN_ACTION
//   GET  /v1/policy/decisions/{decision_correlation_id}          a logged decision of the caller's workspace
//   POST /v1/admin/policy/reload                                 platform.admin of `default`: reload the file
//
// An evaluation runs entirely on its shard: parse (evaluate_request.h / bulk_request.h), facts
// (facts_source.h, by the workspace's identity namespace), decide (decision.h), write the
// answer (evaluate_response.h), append the decision to the log (decision_log.h) and answer —
// without waiting for the log's commit. A full log answers 503 OVERLOADED instead. The reload
// route defers its answer: the file is read and parsed by the reload worker (policy_holder.h).
//
// Threading: handlers on shard threads; the reload completion on the reload worker, which
// posts the answer back to the shard.
#pragma once

#include <cstdint>

#include "engine/evidence/decision.h"
#include "engine/evidence/decision_log.h"
#include "engine/evidence/evaluate_request.h"
#include "engine/evidence/facts_source.h"
#include "engine/evidence/policy_holder.h"
#include "engine/guard/guard.h"
#include "storage/lmdb_store.h"

namespace warrant::engine::evidence {

inline constexpr std::uint32_t bulk_max_default = 100;

struct policy_routes_options {
  // Items per bulk request (--bulk-max), further bounded by the policy's caps.bulkMax.
  std::uint32_t bulk_max = bulk_max_default;
};

struct policy_api {
  policy_holder& policies;
  policy_reloader& reloader;
  decision_log& decisions;
  const facts_source& facts;
  storage::lmdb_store& store;
  policy_routes_options options;
};

void register_policy_routes(net::router& routes, guard& g, policy_api& api);

// ---- the agent registry's answers (engine/agents) ----------------------------------------
// Step 1 of the decision: a `service` actor whose id is an agent of the caller's workspace gets
// that agent's effective status (ancestors included; PENDING_APPROVAL counts as suspended);
// humans, unregistered services and active agents are `none`. O(1): one hash lookup.
agent_status agent_status_for(const principal& who, actor_type type, std::string_view actor_id);
// Whether the calling key is an AI_AGENT's key (bulk cap caps.agentBulkMax).
bool is_ai_agent_key(const principal& who);

// The bulk cap for this caller under policy `p`: min(--bulk-max, caps.bulkMax), and for
// AI_AGENT keys also caps.agentBulkMax.
std::size_t bulk_cap(const policy_routes_options& options, const policy& p, bool ai_agent);

// Whether the query string asks for debug output (`debug=true` among its parameters).
bool debug_requested(std::string_view query);

}  // namespace warrant::engine::evidence

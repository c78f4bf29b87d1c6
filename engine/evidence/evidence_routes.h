// engine/evidence/evidence_routes.h: the evidence family's event, history and claim routes
// (spec/evidence.md; reference: docs/api-evidence.md).
//
//   GET  /v1/events/types, /events/types          the event catalogue (catalogue.h)
//   POST /v1/events, /events                       submit an event (idempotent; auto-dedup)
//   GET  /v1/events, /events                       the workspace's own events, newest first
//   GET  /v1/history/{userExternalId}              the entity's neutral facts, from the index
//   POST /v1/claims, /claims                       file a claim (idempotent)
//   GET  /v1/claims, /claims                       the workspace's own claims, newest first
//   POST /v1/claims/{id}/dispute|uphold|dismiss|withdraw (and unprefixed)
//
// Writes go through the storage writer as commands (engine/write_path.h); idempotent ones
// as engine/idempotency/command.h describes, with the stored answer in the write's own
// transaction. After a batch commits, each command's publish() applies its change to the
// entity index (entity_index.h), so history never shows uncommitted state. Lists read LMDB
// in one short read transaction per request; history reads only the index.
//
// Threading: handlers on shard threads; commands' apply and publish on the writer thread.
#pragma once

#include <atomic>
#include <memory>

#include "engine/evidence/catalogue.h"
#include "engine/evidence/entity_index.h"
#include "engine/evidence/policy.h"
#include "engine/guard/guard.h"
#include "engine/idempotency/service.h"
#include "net/router.h"
#include "engine/evidence/policy_holder.h"
#include "storage/lmdb_store.h"
#include "storage/writer.h"

namespace warrant::engine::evidence {

struct evidence_api {
  storage::lmdb_store& store;
  storage::writer& writer;
  idempotency::service& idempotency;
  entity_index& entities;
  policy_holder& policies;  // the policy in force (thresholds and tier modes for history)
};

void register_evidence_routes(net::router& routes, guard& g, evidence_api& api);

// Route registration by part (evidence_routes.cc, claim_routes.cc).
void register_event_routes(net::router& routes, guard& g, evidence_api& api);
void register_claim_routes(net::router& routes, guard& g, evidence_api& api);

// Agent guardrails on event ingest. Called after the body validated and before the idempotency
// step, so its refusals are never stored: 400 AGENT_IDEMPOTENCY_REQUIRED for an agent key with
// requireIdempotency and no Idempotency-Key, and 403 EVENT_TYPE_NOT_ALLOWED for a type outside
// the agent's allowlist (an empty allowlist, possible only for service accounts, allows all).
// Workspace keys always pass. True: go on.
bool admit_agent_event(const principal& who, bool has_idempotency_key, event_type_id type, net::http_response& res);
// The idempotency half of it, for every agent write (events, agent creation, spawn): an agent
// key with requireIdempotency and no Idempotency-Key → 400 AGENT_IDEMPOTENCY_REQUIRED. True: go on.
bool admit_agent_write(const principal& who, bool has_idempotency_key, net::http_response& res);

// Shared by the event and claim handlers. ------------------------------------------------

// A batch adds at most writer_options::batch_commands_max (4096) entities: a write that would
// create an entity is refused (503 ENTITY_INDEX_FULL) while fewer than this remain, so every
// publish stays within entity_index::entities_max.
inline constexpr std::size_t entity_headroom = 4096;
void answer_index_full(net::http_response& res);
// The answer of a read that could not open or read LMDB.
void answer_read_failure(net::http_response& res, const char* what, const std::exception& e);
// 400 INVALID_JSON for a body the idempotency canonicaliser refused (after validation, so
// this is rare: e.g. a lone surrogate escape).
void answer_canonical_error(std::size_t offset, std::string_view reason, net::http_response& res);

}  // namespace warrant::engine::evidence

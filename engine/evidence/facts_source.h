// engine/evidence/facts_source.h: where `POST /v1/policy/evaluate` learns what an actor has done.
//
// What it is for: the evaluate routes (policy_routes.h) ask a `facts_source` for the actor's
// counted history and claim summary, by the workspace's identity namespace and the actor id
// (the partner's userExternalId; the source derives the entity id itself). In warrantd the
// entity index answers (engine/app.cc, `entity_facts_source` over entity_index.h); in-process
// route tests use an in-memory map.
//
// Threading: `lookup` is called on shard threads, concurrently, per request: it must be
// lock-free, must not block and should not allocate.
#pragma once

#include <string_view>

#include "engine/evidence/claims.h"
#include "engine/evidence/tier.h"

namespace warrant::engine::evidence {

class facts_source {
 public:
  virtual ~facts_source() = default;
  // Fills `history` and `claims` and returns true when the entity is known; returns false
  // (leaving both untouched: the caller passes them default-initialised) when it has no history.
  virtual bool lookup(std::string_view identity_namespace, std::string_view actor_id, counted_history& history,
                      claim_summary& claims) const = 0;
};

}  // namespace warrant::engine::evidence

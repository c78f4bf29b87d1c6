// engine/evidence/evidence_recovery.h: rebuilding the entity index from LMDB at start-up.
//
// The index is a fold of the `events` and `claims` tables: every event adds to its entity's
// counts, times and partners; every claim adds its current state (and, when upheld, the time
// it was upheld) to the entity's claim summary. The fold is order-independent (sums, min,
// max, set union), so one forward scan of each table rebuilds exactly the state the writer
// had built incrementally — which the property test checks (tests/evidence).
//
// Main thread at start-up, before the writer and the shards run; or any thread on an index
// no one else uses (tests, verification). Throws std::runtime_error on a corrupt record.
#pragma once

#include <cstddef>

#include "engine/evidence/entity_index.h"
#include "storage/lmdb_store.h"

namespace warrant::engine::evidence {

struct evidence_recovery_report {
  std::size_t events = 0;
  std::size_t claims = 0;
  std::size_t entities = 0;
  std::size_t readahead_bytes = 0;
  double seconds = 0;
};

evidence_recovery_report rebuild_entity_index(storage::lmdb_store& store, entity_index& index);
evidence_recovery_report rebuild_entity_index(storage::lmdb_store::reader& r, entity_index& index);

// Applies one event or one claim as the rebuild does (and as the writer's publish does).
struct event_record;
struct claim_record;
void index_event(entity_index& index, const event_record& e);
void index_claim(entity_index& index, const claim_record& c);

}  // namespace warrant::engine::evidence

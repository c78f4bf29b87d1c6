// engine/tenancy/agent_entry.h: an agent as the tenancy snapshot holds it.
//
// The stored record (engine/agents/model.h) plus what publish() derives for readers: the
// effective status (the agent's own folded with its ancestors', O(depth), recomputed for every
// agent at each publish that changed tenancy) and the agent's activity cell (kept across
// snapshots, engine/common/activity_cell.h). Immutable once published; any thread reads it.
#pragma once

#include "engine/agents/model.h"
#include "engine/common/activity_cell.h"

namespace warrant::engine {

struct indexed_agent {
  agent_record rec;
  agent_state effective = agent_state::active;  // derived at publish
  activity_cell* activity = nullptr;            // nullptr in offline snapshots

  // lastActivityAt as readers see it: the cell's value, or the stored one.
  std::int64_t last_activity_at_ms() const {
    const std::int64_t live = activity != nullptr ? activity->get() : 0;
    return live > rec.last_activity_at_ms ? live : rec.last_activity_at_ms;
  }
};

}  // namespace warrant::engine

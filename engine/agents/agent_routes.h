// engine/agents/agent_routes.h: the agent registry and genealogy routes (spec/evidence.md
// "Agents and genealogy"; reference: docs/api-evidence.md "Agents").
//
//   POST /v1/agents                          register (idempotent): 201 {"agent","apiKey"}
//   GET  /v1/agents                          list, newest first; filters, limit, cursor
//   GET  /v1/agents/{id}                     one agent
//   POST /v1/agents/{id}/suspend|reactivate|revoke|approve
//   POST /v1/agents/{id}/key/rotate          new key shown once; the old one dead at once
//   POST /v1/agents/{id}/spawn               a child (idempotent), within the parent's rights
//   POST /v1/agents/{id}/revoke-descendants  the agent and its subtree, one transaction
//   GET  /v1/agents/{id}/lineage             ancestors (root first), self, children
//   GET  /v1/agents/tree                     nested nodes (rootId, depth, membershipSource, status)
//   PUT|GET /v1/agents/spawn-policy          the workspace's spawn policy
//
// Reads come from the tenancy snapshot the request authenticated against (the registry is
// tenancy: engine/tenancy/index.h), so they never touch LMDB. Writes are commands
// (engine/agents/commands.h). Another workspace's agent id is 404, never 403.
//
// Threading: handlers on shard threads.
#pragma once

#include "engine/guard/guard.h"
#include "engine/idempotency/service.h"
#include "engine/tenancy/index.h"
#include "net/router.h"
#include "storage/writer.h"

namespace warrant::engine {

struct agents_api {
  tenancy_index& index;
  storage::writer& writer;
  idempotency::service& idempotency;
};

void register_agent_routes(net::router& routes, guard& g, agents_api& api);

}  // namespace warrant::engine

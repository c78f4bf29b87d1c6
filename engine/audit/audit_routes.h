// engine/audit/audit_routes.h: `GET /v1/audit`, a workspace's audit trail, newest first
// (spec/evidence.md "Agents and genealogy"; reference: docs/api-evidence.md "Audit").
//
// Filters (query, all optional, combined with AND): `target_id`, `action`, `actor_id` (exact
// match), `since` / `until` (RFC 3339, on the entry's time: since ≤ at < until), `limit`
// (1..500, default 50), `cursor` (the previous page's nextCursor). Answer:
// `{"entries":[{"id","at","action","actorKeyId","actorId","targetType","targetId",
// "beforeStatus","afterStatus"}],"nextCursor":str|null}`. A page reads at most
// evidence::list_scan_records_max entries (engine/evidence/list_page.h), so a narrow filter
// may give a short or empty page with a cursor to continue from.
//
// Read from LMDB in one short read transaction on the shard; only the caller's workspace's
// range is scanned, so another workspace's entries are unreachable.
#pragma once

#include "engine/audit/audit.h"
#include "engine/guard/guard.h"
#include "net/byte_buffer.h"
#include "net/router.h"
#include "storage/lmdb_store.h"

namespace warrant::engine {

void register_audit_routes(net::router& routes, guard& g, storage::lmdb_store& store);

// One entry as the list renders it.
void render_audit_entry(net::byte_buffer& out, const audit_entry& e);

}  // namespace warrant::engine

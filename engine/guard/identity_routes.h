// engine/guard/identity_routes.h: GET /api/me — who the presented key is (spec/compliance.md).
//
//   {"user_id":     the key's id (a key is the caller; people and agents hold keys),
//    "workspace_id": the key's workspace,
//    "org_id":      the workspace's identity_namespace: the organisation whose identities the
//                   workspace shares (its own id unless the operator grouped workspaces),
//    "key_prefix":  the key's displayed prefix ("wrnt_xxxx"),
//    "roles":       the key's roles}
//
// Any valid key may ask (engine/guard/access.cc). Shard threads; reads the principal only.
#pragma once

#include "engine/guard/guard.h"
#include "net/router.h"

namespace warrant::engine {

void register_identity_routes(net::router& routes, guard& g);

}  // namespace warrant::engine

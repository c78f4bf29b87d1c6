// engine/tenancy/admin_routes.h: the admin API for workspaces, keys and limits
// (spec/common.md "Admin API"). Every route goes through the guard and needs a platform.admin
// key of workspace `default` (engine/guard/access.cc); reads come from the snapshot the guard
// authenticated against; writes go through the storage writer.
#pragma once

#include "engine/guard/guard.h"
#include "engine/tenancy/index.h"
#include "net/router.h"
#include "storage/writer.h"

namespace warrant::engine {

inline constexpr std::size_t list_limit_default = 100;
inline constexpr std::size_t list_limit_max = 500;
inline constexpr std::size_t roles_per_key_max = 16;

struct admin_api {
  tenancy_index& index;
  storage::writer& writer;
};

void register_admin_routes(net::router& routes, guard& g, admin_api& api);

}  // namespace warrant::engine

// tools/ctl_online.h: warrantctl's online commands, the admin API of a running warrantd
// (docs/api-admin.md) over tools/ctl_http.h.
//
// Each command sends one request (`workspaces list --all` one per page), prints the server's
// JSON answer on stdout on a 2xx and returns exit_ok; on any other status prints the error
// JSON on stderr and returns exit_failed. Failing to get an HTTP answer at all throws
// ctl_error(exit_unreachable). Single-threaded.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "tools/ctl_common.h"

namespace warrant::tools {

struct workspace_list_args {
  std::uint32_t limit = 0;  // 0: the server's default page
  std::string cursor;
  bool all = false;  // follow next_cursor and print every workspace as one list
};

struct key_create_args {
  std::string workspace_id;
  std::vector<std::string> roles;
  std::string name;
  std::string expires_at;  // RFC 3339, checked by the server
  std::uint32_t requests_per_minute = 0;  // the key's own limit; 0: none
};

int workspaces_list(const ctl_options& o, const workspace_list_args& a);
int workspaces_get(const ctl_options& o, const std::string& workspace_id);
int workspaces_create(const ctl_options& o, const std::string& name, const std::string& identity_namespace);
int keys_list(const ctl_options& o, const std::string& workspace_id);
int keys_create(const ctl_options& o, const key_create_args& a);
int keys_revoke(const ctl_options& o, const std::string& workspace_id, const std::string& key_id);
int limits_set(const ctl_options& o, const std::string& workspace_id, std::uint32_t requests_per_minute);

}  // namespace warrant::tools

// engine/tenancy/commands.h: the durable changes to workspaces and keys.
//
// Each command is built on a shard from a validated request, applied by the writer thread
// (validation against the transaction, then the materialised record and its log record in
// the same transaction), published to the tenancy index after commit, and answered on its
// shard. `bootstrap` is the start-up variant that waits for its own commit.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "engine/tenancy/index.h"
#include "engine/write_path.h"

namespace warrant::engine {

std::unique_ptr<request_command> make_create_workspace(net::shard& s, net::deferred_response t, tenancy_index& idx,
                                                       workspace w);
std::unique_ptr<request_command> make_create_key(net::shard& s, net::deferred_response t, tenancy_index& idx,
                                                 api_key_record k, std::string secret);
std::unique_ptr<request_command> make_revoke_key(net::shard& s, net::deferred_response t, tenancy_index& idx,
                                                 std::string workspace_id, std::string key_id, std::int64_t now_ms);
std::unique_ptr<request_command> make_set_limits(net::shard& s, net::deferred_response t, tenancy_index& idx,
                                                 std::string workspace_id, std::uint32_t requests_per_minute);

// Start-up, before the server listens: creates workspace `default` and a platform.admin key
// when the store has no workspace `default`. `persist_key` saves the key's text before the
// commit (see app.cc). Returns the key's text, or nullopt when the workspace already existed.
// Throws std::runtime_error when the commit fails.
std::optional<std::string> bootstrap_default_workspace(storage::writer& writer, tenancy_index& idx,
                                                       const std::function<void(const std::string&)>& persist_key);

// JSON renderings shared by commands and read routes.
void render_workspace(net::byte_buffer& out, const workspace& w);
void render_key(net::byte_buffer& out, const api_key_record& k, std::string_view secret = {});

}  // namespace warrant::engine

// tools/warrantctl.cc: Warrant's operator tool (docs/warrantctl.md).
//
// Online commands (workspaces, keys, limits) call the admin API of a running warrantd
// (tools/ctl_online.h); offline commands (export, backup, restore, stats, verify) open the
// data directory's LMDB environment directly (tools/ctl_offline.h). This file only builds the
// command line and dispatches; every command returns its exit status (tools/ctl_common.h).
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <cstdio>
#include <functional>

#include "generated/build_info.h"
#include "tools/ctl_common.h"
#include "tools/ctl_offline.h"
#include "tools/ctl_online.h"

namespace {

using namespace warrant::tools;

struct arguments {
  ctl_options options;
  workspace_list_args list;
  key_create_args key;
  std::string workspace_id;
  std::string key_id;
  std::string name;
  std::string identity_namespace;
  std::uint32_t requests_per_minute = 0;
  std::uint64_t from = 1;
  std::uint64_t to = 0;
  std::string path;
  bool force = false;
};

using action = std::function<int()>;

// The options every online command takes; also accepted before the command name.
void add_online_options(CLI::App* app, ctl_options& o) {
  app->add_option("--url", o.url, "warrantd's address, http://HOST:PORT (env WARRANT_URL; default http://127.0.0.1:8080)");
  app->add_option("--key", o.key,
                  "platform.admin API key (env WARRANT_KEY; default: <data-dir>/bootstrap-admin-key)");
  app->add_option("--data-dir", o.data_dir, "Data directory holding bootstrap-admin-key (env WARRANT_DATA_DIR; default ./data)");
  app->add_option("--timeout-ms", o.timeout_ms, "Bound on one request, connecting included")
      ->check(CLI::Range(1, 3'600'000))->capture_default_str();
  app->add_flag("--pretty", o.pretty, "Indent the JSON printed");
}

void add_offline_options(CLI::App* app, ctl_options& o) {
  app->add_option("--data-dir", o.data_dir, "Data directory (env WARRANT_DATA_DIR; default ./data)");
  app->add_flag("--pretty", o.pretty, "Indent the JSON printed");
}

// A leaf command: its options, and what runs when it was chosen.
CLI::App* leaf(CLI::App* parent, const std::string& name, const std::string& help, action& chosen, action run) {
  CLI::App* sub = parent->add_subcommand(name, help);
  sub->callback([&chosen, run = std::move(run)] { chosen = run; });
  return sub;
}

void add_workspaces(CLI::App& app, arguments& a, action& chosen) {
  CLI::App* ws = app.add_subcommand("workspaces", "List, show and create workspaces (online)")->require_subcommand(1);
  CLI::App* list = leaf(ws, "list", "List workspaces, newest first", chosen, [&a] { return workspaces_list(a.options, a.list); });
  list->add_option("--limit", a.list.limit, "Workspaces per page (1-500; default: the server's, 100)")->check(CLI::Range(1, 500));
  list->add_option("--cursor", a.list.cursor, "Continue after this next_cursor");
  list->add_flag("--all", a.list.all, "Follow next_cursor and print every workspace in one list");
  add_online_options(list, a.options);

  CLI::App* get = leaf(ws, "get", "Show one workspace", chosen, [&a] { return workspaces_get(a.options, a.workspace_id); });
  get->add_option("ID", a.workspace_id, "Workspace id")->required();
  add_online_options(get, a.options);

  CLI::App* create = leaf(ws, "create", "Create a workspace", chosen,
                          [&a] { return workspaces_create(a.options, a.name, a.identity_namespace); });
  create->add_option("--name", a.name, "Workspace name")->required();
  create->add_option("--identity-namespace", a.identity_namespace, "Identity namespace (default: the new workspace's id)");
  add_online_options(create, a.options);
}

void add_keys(CLI::App& app, arguments& a, action& chosen) {
  CLI::App* keys = app.add_subcommand("keys", "List, create and revoke API keys (online)")->require_subcommand(1);
  CLI::App* list = leaf(keys, "list", "List a workspace's keys (never their secrets)", chosen,
                        [&a] { return keys_list(a.options, a.workspace_id); });
  list->add_option("WORKSPACE", a.workspace_id, "Workspace id")->required();
  add_online_options(list, a.options);

  CLI::App* create = leaf(keys, "create", "Create a key; the answer holds the key, shown this once", chosen,
                          [&a] { return keys_create(a.options, a.key); });
  create->add_option("WORKSPACE", a.key.workspace_id, "Workspace id")->required();
  create->add_option("--role", a.key.roles,
                     "Role (repeatable): platform.admin, platform.operator, platform.viewer, governance.approver, "
                     "governance.reviewer")
      ->required()->allow_extra_args(false);  // one role per --role, so WORKSPACE may follow
  create->add_option("--name", a.key.name, "Key name");
  create->add_option("--expires-at", a.key.expires_at, "Expiry, RFC 3339 (2027-01-01T00:00:00.000Z)");
  create->add_option("--requests-per-minute", a.key.requests_per_minute,
                     "The key's own rate limit (1-10000000), never above its workspace's")
      ->check(CLI::Range(1, 10'000'000));
  add_online_options(create, a.options);

  CLI::App* revoke = leaf(keys, "revoke", "Revoke a key", chosen, [&a] { return keys_revoke(a.options, a.workspace_id, a.key_id); });
  revoke->add_option("WORKSPACE", a.workspace_id, "Workspace id")->required();
  revoke->add_option("KEY_ID", a.key_id, "Key id (from keys list)")->required();
  add_online_options(revoke, a.options);
}

void add_limits(CLI::App& app, arguments& a, action& chosen) {
  CLI::App* limits = app.add_subcommand("limits", "Set a workspace's rate limit (online)")->require_subcommand(1);
  CLI::App* set = leaf(limits, "set", "Set requests per minute", chosen,
                       [&a] { return limits_set(a.options, a.workspace_id, a.requests_per_minute); });
  set->add_option("WORKSPACE", a.workspace_id, "Workspace id")->required();
  set->add_option("--requests-per-minute", a.requests_per_minute, "Requests per minute (1-10000000)")
      ->required()->check(CLI::Range(1, 10'000'000));
  add_online_options(set, a.options);
}

void add_offline(CLI::App& app, arguments& a, action& chosen) {
  CLI::App* exp = leaf(&app, "export", "Print the log as JSON lines, oldest first (offline)", chosen,
                       [&a] { return export_log(a.options, a.from, a.to); });
  exp->add_option("--from", a.from, "First sequence (inclusive)")->capture_default_str()->check(CLI::PositiveNumber);
  exp->add_option("--to", a.to, "Last sequence (inclusive; default: the end)")->check(CLI::PositiveNumber);
  add_offline_options(exp, a.options);

  CLI::App* backup_cmd = leaf(&app, "backup", "Copy the database consistently, compacted, with a MANIFEST (offline; safe "
                                              "while warrantd runs)",
                              chosen, [&a] { return backup(a.options, a.path); });
  backup_cmd->add_option("DEST_DIR", a.path, "Destination directory (empty or absent)")->required();
  add_offline_options(backup_cmd, a.options);

  CLI::App* restore_cmd = leaf(&app, "restore", "Replace the data directory's database with a backup (warrantd stopped)",
                               chosen, [&a] { return restore(a.options, a.path, a.force); });
  restore_cmd->add_option("SRC_BACKUP_DIR", a.path, "A directory written by warrantctl backup")->required();
  restore_cmd->add_flag("--force", a.force, "Replace a database that holds data (kept aside as db.replaced-<time>)");
  add_offline_options(restore_cmd, a.options);

  CLI::App* stats = leaf(&app, "stats", "Map size, bytes used, entries per table, last sequence (offline)", chosen,
                         [&a] { return print_stats(a.options); });
  add_offline_options(stats, a.options);

  CLI::App* verify_cmd = leaf(&app, "verify", "Check every record and the log against the tables; exit 1 on a problem "
                                              "(offline)",
                              chosen, [&a] { return verify(a.options); });
  add_offline_options(verify_cmd, a.options);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"warrantctl: manage a Warrant server (workspaces, keys, limits) and its data directory"};
  app.set_version_flag("--version", fmt::format("warrantctl {} ({}, {})", warrant::build::version, warrant::build::commit,
                                                warrant::build::build_type));
  app.require_subcommand(1);
  app.footer("Exit status: 0 ok, 1 refused or inconsistent, 2 server unreachable, 64 usage. See docs/warrantctl.md.");
  arguments a;
  action chosen;
  add_online_options(&app, a.options);
  add_workspaces(app, a, chosen);
  add_keys(app, a, chosen);
  add_limits(app, a, chosen);
  add_offline(app, a, chosen);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e);
    return rc == 0 ? exit_ok : exit_usage;
  }
  try {
    return chosen ? chosen() : exit_usage;
  } catch (const ctl_error& e) {
    std::fprintf(stderr, "warrantctl: %s\n", e.what());
    return e.exit_status();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "warrantctl: %s\n", e.what());
    return exit_failed;
  }
}

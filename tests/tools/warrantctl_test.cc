// tests/tools/warrantctl_test.cc: warrantctl end to end, against a real warrantd and real
// data directories (tools/warrantctl.cc and the commands behind it).
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>

#include "storage/lmdb_store.h"
#include "storage/record.h"
#include "tests/tools/ctl_test_support.h"

namespace warrant::tools::testing {
namespace {

namespace fs = std::filesystem;

class warrantctl_test : public ::testing::Test {
 protected:
  temp_dir tmp;
  std::string data = tmp.sub("data");

  // An online command against `server`, the key read from the data directory's bootstrap file.
  run_result online(const warrantd_process& server, std::vector<std::string> args) {
    args.insert(args.end(), {"--url", server.url(), "--data-dir", data});
    return ctl(args);
  }
  // Creates workspace `name` and returns its id.
  std::string create_workspace(const warrantd_process& server, const std::string& name) {
    const run_result r = online(server, {"workspaces", "create", "--name", name});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return json_doc(r.out).str({"id"});
  }
};

std::string field_of(const std::string& json, std::string_view name) { return json_doc(json).str({name}); }

// A loopback port nobody listens on (bound, then closed).
std::uint16_t closed_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

// Overwrites the last byte of the value stored under `key` in table `t` of the environment in
// `env_dir`: the record's envelope stays whole, its checksum no longer holds.
void corrupt_value(const std::string& env_dir, storage::table t, std::string_view key) {
  storage::lmdb_options lo;
  lo.path = env_dir;
  lo.map_size_bytes = 0;
  auto store = storage::lmdb_store::open(lo);
  storage::write_txn* txn = nullptr;
  ASSERT_EQ(store->begin_write(txn), storage::errc::ok);
  auto value = txn->get(t, key);
  ASSERT_TRUE(value.has_value());
  std::string bytes(*value);
  bytes.back() = static_cast<char>(bytes.back() ^ 0x5a);
  ASSERT_EQ(txn->put(t, key, bytes), storage::errc::ok);
  ASSERT_EQ(store->commit(), storage::errc::ok);
}

TEST(warrantctl_cli, help_for_every_command_exits_0) {
  const std::vector<std::vector<std::string>> commands = {
      {},          {"workspaces"}, {"workspaces", "list"}, {"workspaces", "get"}, {"workspaces", "create"},
      {"keys"},    {"keys", "list"}, {"keys", "create"},   {"keys", "revoke"},    {"limits"},
      {"limits", "set"}, {"export"}, {"backup"},           {"restore"},           {"stats"},
      {"verify"}};
  for (std::vector<std::string> args : commands) {
    args.push_back("--help");
    const run_result r = ctl(args);
    EXPECT_EQ(r.exit_code, 0) << ::testing::PrintToString(args) << r.err;
    EXPECT_NE(r.out.find("Usage:"), std::string::npos) << ::testing::PrintToString(args);
  }
  const run_result version = ctl({"--version"});
  EXPECT_EQ(version.exit_code, 0);
  EXPECT_EQ(version.out.rfind("warrantctl ", 0), 0u) << version.out;
}

TEST(warrantctl_cli, usage_errors_exit_64) {
  EXPECT_EQ(ctl({}).exit_code, 64);
  EXPECT_EQ(ctl({"keys", "create", "ws"}).exit_code, 64);  // no --role
  EXPECT_EQ(ctl({"limits", "set", "ws", "--requests-per-minute", "0"}).exit_code, 64);
  EXPECT_EQ(ctl({"workspaces", "list", "--url", "https://127.0.0.1:1", "--key", "k"}).exit_code, 64);
  const run_result no_key = ctl({"workspaces", "list", "--data-dir", "/nonexistent/warrant"});
  EXPECT_EQ(no_key.exit_code, 64);
  EXPECT_NE(no_key.err.find("no API key"), std::string::npos) << no_key.err;
}

TEST_F(warrantctl_test, manages_workspaces_keys_and_limits) {
  warrantd_process server(data);
  ASSERT_TRUE(server.ready());

  run_result r = online(server, {"workspaces", "create", "--name", "acme", "--identity-namespace", "acme-users"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const json_doc created(r.out);
  const std::string ws = created.str({"id"});
  EXPECT_EQ(created.str({"name"}), "acme");
  EXPECT_EQ(created.str({"identity_namespace"}), "acme-users");

  r = online(server, {"workspaces", "list"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("\"acme\""), std::string::npos);
  EXPECT_NE(r.out.find("\"default\""), std::string::npos);

  r = online(server, {"workspaces", "get", ws, "--pretty"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("\n  \"name\": \"acme\""), std::string::npos) << r.out;  // indented
  EXPECT_EQ(json_doc(r.out).str({"id"}), ws);

  // The role option may come before the workspace; the key is shown once, here.
  r = online(server, {"keys", "create", "--role", "platform.viewer", ws, "--role", "governance.reviewer", "--name", "ci"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const json_doc key(r.out);
  const std::string key_id = key.str({"id"});
  const std::string secret = key.str({"key"});
  EXPECT_EQ(secret.rfind("wrnt_", 0), 0u);
  EXPECT_EQ(key.str({"name"}), "ci");

  r = online(server, {"keys", "list", ws});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find(key_id), std::string::npos);
  EXPECT_EQ(r.out.find(secret), std::string::npos);
  EXPECT_NE(r.out.find("governance.reviewer"), std::string::npos);

  r = online(server, {"keys", "revoke", ws, key_id});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_FALSE(json_doc(r.out).is_null({"revoked_at"})) << r.out;

  r = online(server, {"limits", "set", ws, "--requests-per-minute", "5000"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(json_doc(r.out).uint({"requests_per_minute"}), 5000u);

  // The environment alone names the server and the key.
  r = ctl({"workspaces", "get", ws}, {{"WARRANT_URL", server.url()}, {"WARRANT_KEY", bootstrap_key(data)}});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(json_doc(r.out).uint({"requests_per_minute"}), 5000u);

  r = online(server, {"workspaces", "list", "--all", "--limit", "1"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const json_doc all(r.out);
  simdjson::dom::array items;
  ASSERT_FALSE(all.root()["workspaces"].get_array().get(items));
  EXPECT_EQ(items.size(), 2u);
  EXPECT_TRUE(all.is_null({"next_cursor"}));
  EXPECT_EQ(server.stop(), 0);
}

TEST_F(warrantctl_test, server_errors_go_to_stderr_with_exit_1) {
  warrantd_process server(data);
  ASSERT_TRUE(server.ready());
  run_result r = online(server, {"workspaces", "get", "no-such-workspace"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_TRUE(r.out.empty()) << r.out;
  EXPECT_EQ(field_of(r.err, "code"), "NOT_FOUND") << r.err;

  r = ctl({"workspaces", "list", "--url", server.url(), "--key", "wrnt_not_a_key"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(field_of(r.err, "code"), "UNAUTHORIZED") << r.err;

  const std::string ws = create_workspace(server, "acme");
  r = online(server, {"keys", "create", ws, "--role", "no.such.role"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(field_of(r.err, "code"), "VALIDATION_ERROR") << r.err;
}

TEST(warrantctl_cli, unreachable_server_exits_2) {
  const std::string url = "http://127.0.0.1:" + std::to_string(closed_port());
  const run_result r = ctl({"workspaces", "list", "--url", url, "--key", "k"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("cannot reach warrantd"), std::string::npos) << r.err;
}

TEST_F(warrantctl_test, export_prints_the_log_in_order) {
  warrantd_process server(data);
  ASSERT_TRUE(server.ready());
  const std::string ws = create_workspace(server, "acme");
  run_result r = online(server, {"keys", "create", ws, "--role", "platform.operator"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string secret = field_of(r.out, "key");
  const std::string key_id = field_of(r.out, "id");
  ASSERT_EQ(online(server, {"keys", "revoke", ws, key_id}).exit_code, 0);
  ASSERT_EQ(online(server, {"limits", "set", ws, "--requests-per-minute", "42"}).exit_code, 0);

  r = ctl({"export", "--data-dir", data});  // while the server runs
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::vector<std::string> records = lines(r.out);
  const std::vector<std::string> types = {"workspace_created", "key_created", "workspace_created",
                                          "key_created",       "key_revoked", "limits_set"};
  ASSERT_EQ(records.size(), types.size()) << r.out;
  for (std::size_t i = 0; i < records.size(); ++i) {
    const json_doc line(records[i]);
    ASSERT_TRUE(line.ok()) << records[i];
    EXPECT_EQ(line.uint({"seq"}), i + 1);
    EXPECT_EQ(line.str({"type"}), types[i]);
  }
  const json_doc created_key(records[3]);
  EXPECT_EQ(created_key.str({"id"}), key_id);
  EXPECT_EQ(created_key.str({"workspace_id"}), ws);
  EXPECT_EQ(created_key.str({"prefix"}), secret.substr(0, 9));
  EXPECT_EQ(created_key.str({"last4"}), secret.substr(secret.size() - 4));
  EXPECT_EQ(created_key.str({"sha256"}).size(), 64u);
  EXPECT_EQ(r.out.find(secret), std::string::npos) << "export must never show a secret";
  EXPECT_EQ(json_doc(records[4]).str({"key_id"}), key_id);
  EXPECT_EQ(json_doc(records[5]).uint({"requests_per_minute"}), 42u);

  r = ctl({"export", "--data-dir", data, "--from", "3", "--to", "4"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::vector<std::string> range = lines(r.out);
  ASSERT_EQ(range.size(), 2u);
  EXPECT_EQ(json_doc(range[0]).uint({"seq"}), 3u);
  EXPECT_EQ(json_doc(range[1]).uint({"seq"}), 4u);
}

TEST_F(warrantctl_test, stats_and_verify_work_beside_a_running_server) {
  warrantd_process server(data);
  ASSERT_TRUE(server.ready());
  const std::string ws = create_workspace(server, "acme");
  ASSERT_EQ(online(server, {"keys", "create", ws, "--role", "platform.viewer"}).exit_code, 0);

  run_result r = ctl({"stats", "--data-dir", data});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const json_doc stats(r.out);
  EXPECT_EQ(stats.uint({"last_sequence"}), 4u);
  EXPECT_EQ(stats.uint({"entries", "log"}), 4u);
  EXPECT_EQ(stats.uint({"entries", "workspaces"}), 2u);
  EXPECT_EQ(stats.uint({"entries", "api_keys"}), 2u);
  EXPECT_GT(stats.uint({"map_size_bytes"}), stats.uint({"used_bytes"}));

  r = ctl({"verify", "--data-dir", data});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  const json_doc report(r.out);
  EXPECT_TRUE(report.boolean({"consistent"}));
  EXPECT_TRUE(report.boolean({"log", "dense"}));
  EXPECT_EQ(report.uint({"recovered", "keys"}), 2u);
  EXPECT_EQ(report.uint({"replayed", "keys"}), 2u);

  // The server is unaffected: it still writes.
  EXPECT_EQ(online(server, {"limits", "set", ws, "--requests-per-minute", "7"}).exit_code, 0);
  EXPECT_EQ(server.stop(), 0);
  EXPECT_EQ(ctl({"verify", "--data-dir", data}).exit_code, 0);
}

TEST_F(warrantctl_test, backup_while_running_then_restore_into_a_fresh_directory) {
  const std::string backup_dir = tmp.sub("backup");
  const std::string fresh = tmp.sub("fresh");
  std::string ws;
  std::string key_id;
  const std::string admin_key = [&] {
    warrantd_process server(data);
    EXPECT_TRUE(server.ready());
    ws = create_workspace(server, "acme");
    const run_result k = online(server, {"keys", "create", ws, "--role", "platform.viewer", "--name", "ci"});
    key_id = field_of(k.out, "id");

    run_result r = ctl({"backup", backup_dir, "--data-dir", data});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_TRUE(json_doc(r.out).boolean({"consistent"})) << r.out;
    const json_doc manifest(run({"/bin/cat", backup_dir + "/MANIFEST"}).out);
    EXPECT_EQ(manifest.str({"format"}), "warrant-backup");
    EXPECT_EQ(manifest.uint({"last_sequence"}), 4u);
    EXPECT_TRUE(fs::exists(backup_dir + "/data.mdb"));

    r = ctl({"backup", backup_dir, "--data-dir", data});  // not empty any more
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_NE(r.err.find("must be an empty directory"), std::string::npos) << r.err;

    r = ctl({"restore", backup_dir, "--data-dir", data, "--force"});  // the server holds LOCK
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_NE(r.err.find("in use"), std::string::npos) << r.err;
    EXPECT_EQ(server.stop(), 0);
    return bootstrap_key(data);
  }();

  run_result r = ctl({"restore", backup_dir, "--data-dir", fresh});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(json_doc(r.out).boolean({"consistent"}));
  EXPECT_EQ(json_doc(r.out).uint({"last_sequence"}), 4u);

  r = ctl({"restore", backup_dir, "--data-dir", fresh});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("already holds data"), std::string::npos) << r.err;
  r = ctl({"restore", backup_dir, "--data-dir", fresh, "--force"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string replaced = field_of(r.out, "replaced");
  EXPECT_TRUE(fs::exists(replaced + "/data.mdb")) << r.out;

  warrantd_process restored(fresh);
  ASSERT_TRUE(restored.ready());
  r = ctl({"workspaces", "get", ws, "--url", restored.url(), "--key", admin_key});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(field_of(r.out, "name"), "acme");
  r = ctl({"keys", "list", ws, "--url", restored.url(), "--key", admin_key});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find(key_id), std::string::npos);
  EXPECT_FALSE(fs::exists(fresh + "/bootstrap-admin-key")) << "no second bootstrap on restored data";
  EXPECT_EQ(restored.stop(), 0);
}

TEST_F(warrantctl_test, verify_names_a_corrupt_record_and_restore_refuses_it) {
  std::string ws;
  {
    warrantd_process server(data);
    ASSERT_TRUE(server.ready());
    ws = create_workspace(server, "acme");
    ASSERT_EQ(server.stop(), 0);
  }
  const std::string bad_table = tmp.sub("bad-table");
  const std::string bad_log = tmp.sub("bad-log");
  for (const std::string& copy : {bad_table, bad_log}) {
    fs::create_directories(copy + "/db");
    fs::copy_file(data + "/db/data.mdb", copy + "/db/data.mdb");
  }
  corrupt_value(bad_table + "/db", storage::table::workspaces, ws);
  corrupt_value(bad_log + "/db", storage::table::log, storage::be64_key(3));

  run_result r = ctl({"verify", "--data-dir", bad_table});
  EXPECT_EQ(r.exit_code, 1) << r.out;
  const json_doc report(r.out);
  EXPECT_FALSE(report.boolean({"consistent"}));
  EXPECT_EQ(report.uint({"tables", "workspaces", "bad_records"}), 1u);
  simdjson::dom::element first;
  ASSERT_FALSE(report.root()["problems"].at(0).get(first)) << r.out;
  EXPECT_EQ(std::string_view(first["check"]), "record");
  EXPECT_EQ(std::string_view(first["table"]), "workspaces");
  EXPECT_EQ(std::string_view(first["key"]), ws);
  EXPECT_EQ(std::string_view(first["detail"]), "checksum mismatch");

  r = ctl({"verify", "--data-dir", bad_log});
  EXPECT_EQ(r.exit_code, 1) << r.out;
  const json_doc log_report(r.out);
  ASSERT_FALSE(log_report.root()["problems"].at(0).get(first)) << r.out;
  EXPECT_EQ(std::string_view(first["table"]), "log");
  EXPECT_EQ(std::string_view(first["key"]), "3");
  EXPECT_NE(r.out.find("\"check\":\"replay\""), std::string::npos) << r.out;

  r = ctl({"export", "--data-dir", bad_log});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(lines(r.out).size(), 2u);  // the records before the bad one
  EXPECT_NE(r.err.find("log record 3: checksum mismatch"), std::string::npos) << r.err;

  // A backup of the corrupt data says so; restoring it changes nothing.
  const std::string backup_dir = tmp.sub("backup");
  EXPECT_EQ(ctl({"backup", backup_dir, "--data-dir", bad_log}).exit_code, 1);
  const std::string target = tmp.sub("target");
  r = ctl({"restore", backup_dir, "--data-dir", target});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("fails verification"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(target + "/db"));
}

TEST_F(warrantctl_test, offline_commands_need_a_database) {
  for (const char* command : {"stats", "verify", "export"}) {
    const run_result r = ctl({command, "--data-dir", data});
    EXPECT_EQ(r.exit_code, 1) << command;
    EXPECT_NE(r.err.find("no Warrant database"), std::string::npos) << r.err;
  }
  EXPECT_FALSE(fs::exists(data)) << "a read-only command must not create the data directory";
  const run_result r = ctl({"restore", tmp.sub("nothing-here"), "--data-dir", data});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("is not a backup"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace warrant::tools::testing

// tests/admin/admin_fixture.h: a warrantd per test, on a data directory the test may restart on.
//
// Starts `warrantd --shards 2` on `<temp>/data`, reads the bootstrap admin key from
// `<data>/bootstrap-admin-key`, and offers one keep-alive client plus shorthands for the admin
// routes. TearDown stops the server with SIGTERM and expects exit 0 and no sanitizer report.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "tests/admin/server_harness.h"

namespace warrant::test {

inline constexpr std::string_view json_type = "application/json";

class admin_fixture : public ::testing::Test {
 public:
  void SetUp() override { start(); }
  void TearDown() override;

  // Starts a server on the fixture's data directory (with `extra` flags).
  void start(const std::vector<std::string>& extra = {});
  // SIGTERM; expects exit 0 and a clean stderr.
  void stop();

  std::string data_dir() const { return _dir.path() + "/data"; }
  std::uint16_t port() const { return _server->port(); }
  warrantd_process& server() { return *_server; }
  const std::string& admin_key() const { return _admin_key; }

  // A request on the fixture's connection; throws when the connection fails. `key` empty: no
  // key header. `content_type` empty: no Content-Type header.
  http_response call(std::string_view method, std::string_view path, std::string_view body = {},
                     std::string_view key = {}, std::string_view content_type = json_type);
  // The same with the bootstrap admin key.
  http_response admin(std::string_view method, std::string_view path, std::string_view body = {}) {
    return call(method, path, body, _admin_key);
  }

  // 201 answers, checked.
  json create_workspace(std::string_view name);
  json create_key(std::string_view workspace_id, std::string_view roles_json, std::string_view extra_members = {});
  // The key's secret, for a new key of workspace `default` with these roles.
  std::string new_default_key(std::string_view roles_json);

  temp_dir _dir{"warrant-admin"};
  std::unique_ptr<warrantd_process> _server;
  std::unique_ptr<http_client> _client;
  std::string _admin_key;
  int _starts = 0;
};

// `{"roles":[...]}` etc. are written inline; this quotes a string for JSON (ASCII test data).
std::string json_quote(std::string_view s);

}  // namespace warrant::test

#include "tests/admin/admin_fixture.h"

#include <stdexcept>

namespace warrant::test {

std::string json_quote(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  out.push_back('"');
  return out;
}

void admin_fixture::TearDown() {
  if (_server) stop();
}

void admin_fixture::start(const std::vector<std::string>& extra) {
  ++_starts;
  const std::string log = _dir.path() + "/warrantd-" + std::to_string(_starts) + ".stderr";
  _server = std::make_unique<warrantd_process>(data_dir(), 2, log, extra);
  _client = std::make_unique<http_client>(_server->port());
  _admin_key = read_bootstrap_admin_key(data_dir());
}

void admin_fixture::stop() {
  _client.reset();
  const int code = _server->stop();
  EXPECT_EQ(code, 0) << _server->stderr_text();
  EXPECT_FALSE(_server->sanitizer_reported()) << _server->stderr_text();
  _server.reset();
}

http_response admin_fixture::call(std::string_view method, std::string_view path, std::string_view body,
                                  std::string_view key, std::string_view content_type) {
  header_list headers;
  if (!key.empty()) headers.emplace_back("x-api-key", std::string(key));
  if (!content_type.empty() && (!body.empty() || method == "POST" || method == "PUT")) {
    headers.emplace_back("Content-Type", std::string(content_type));
  }
  auto r = _client->request(method, path, body, headers);
  if (!r) throw std::runtime_error("request failed on the wire: " + std::string(method) + " " + std::string(path));
  return *r;
}

json admin_fixture::create_workspace(std::string_view name) {
  const http_response r = admin("POST", "/v1/admin/workspaces", R"({"name":)" + json_quote(name) + "}");
  if (r.status != 201) throw std::runtime_error("create workspace: " + std::to_string(r.status) + " " + r.body);
  return body_json(r);
}

json admin_fixture::create_key(std::string_view workspace_id, std::string_view roles_json,
                               std::string_view extra_members) {
  std::string body = R"({"roles":)" + std::string(roles_json);
  if (!extra_members.empty()) body.append(",").append(extra_members);
  body += "}";
  const http_response r = admin("POST", "/v1/admin/workspaces/" + std::string(workspace_id) + "/keys", body);
  if (r.status != 201) throw std::runtime_error("create key: " + std::to_string(r.status) + " " + r.body);
  return body_json(r);
}

std::string admin_fixture::new_default_key(std::string_view roles_json) {
  return create_key("default", roles_json)["key"].string;
}

}  // namespace warrant::test

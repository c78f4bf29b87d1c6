// tests/admin/server_harness.h: runs the real warrantd for the admin and durability suites.
//
// What it is for: black-box tests of the admin API and of crash recovery, which start
// `warrantd` (WARRANTD_PATH) as a child on an ephemeral loopback port and a data directory the
// test chooses (so it can restart, or kill -9 and restart, on the same directory).
//
// - `warrantd_process` spawns the server, reads its ready line for the port, sends its stderr
//   to a file, and stops it with SIGTERM or SIGKILL. Failures throw std::runtime_error, which
//   GoogleTest reports as a failure of the running test.
// - `http_client` is one blocking keep-alive connection (reconnecting on demand); a request
//   that fails on the wire returns nullopt: the caller cannot know whether it was executed.
// - `json` is an owned JSON tree (parsed with simdjson) for checking answers.
//
// Threading: every object belongs to one thread; the durability test gives each of its client
// threads its own `http_client`.
#pragma once

#include <gtest/gtest.h>
#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace warrant::test {

using namespace std::chrono_literals;
using std::chrono::milliseconds;

// A fresh directory under $TMPDIR (or /tmp), removed with its contents on destruction.
class temp_dir {
 public:
  explicit temp_dir(std::string_view tag = "warrant");
  ~temp_dir();
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;
  const std::string& path() const { return _path; }

 private:
  std::string _path;
};

std::string read_file(const std::string& path);
// The bootstrap admin key warrantd wrote into `<data_dir>/bootstrap-admin-key` (its first line).
std::string read_bootstrap_admin_key(const std::string& data_dir);

class warrantd_process {
 public:
  // Starts `warrantd --listen 127.0.0.1:0 --data-dir <data_dir> --shards <shards> <extra...>`
  // and waits for its ready line. Its stderr goes to `<stderr_path>`.
  warrantd_process(const std::string& data_dir, unsigned shards, const std::string& stderr_path,
                   const std::vector<std::string>& extra = {}, milliseconds ready_timeout = 60s);
  // Kills (SIGKILL) a server still running.
  ~warrantd_process();
  warrantd_process(const warrantd_process&) = delete;
  warrantd_process& operator=(const warrantd_process&) = delete;

  std::uint16_t port() const { return _port; }
  pid_t pid() const { return _pid; }
  const std::string& ready_line() const { return _ready_line; }
  std::string stderr_text() const { return read_file(_stderr_path); }
  // Whether stderr holds a sanitizer report.
  bool sanitizer_reported() const;

  // SIGTERM and wait: the exit code (128 + signal when killed by one), -1 on timeout.
  int stop(milliseconds timeout = 60s);
  // SIGKILL and reap.
  void kill9();
  // Sends a signal (while the process runs); no wait.
  void signal(int sig);

 private:
  int wait_exit(milliseconds timeout);

  pid_t _pid = -1;
  int _stdout_fd = -1;
  std::uint16_t _port = 0;
  std::string _ready_line;
  std::string _stderr_path;
  bool _exited = false;
};

using header_list = std::vector<std::pair<std::string, std::string>>;

struct http_response {
  int status = 0;
  header_list headers;
  std::string body;
  // The first header of this name (case-insensitive), or "".
  std::string header(std::string_view name) const;
};

class http_client {
 public:
  explicit http_client(std::uint16_t port, milliseconds timeout = 30s) : _port(port), _timeout(timeout) {}
  ~http_client() { close(); }
  http_client(const http_client&) = delete;
  http_client& operator=(const http_client&) = delete;

  // Connects from this loopback source address (e.g. "127.0.0.2": every 127/8 address is
  // local on Linux), so that a test can play several clients; takes effect on the next connect.
  void set_source(std::string ipv4) { _source = std::move(ipv4); }
  // Connects now (requests connect on demand). False when the server refuses.
  bool connect();
  bool connected() const { return _fd >= 0; }
  void close();
  // One request on the keep-alive connection. `Content-Length` is added when a body is given
  // (or the method is POST/PUT). nullopt when connecting, sending or reading failed (the
  // connection is then closed) or the answer was not HTTP/1.1.
  std::optional<http_response> request(std::string_view method, std::string_view target, std::string_view body = {},
                                       const header_list& headers = {});
  // Sends bytes as they are and reads one answer.
  std::optional<http_response> raw(std::string_view bytes);
  // Reads the next answer on the connection (after `raw` sent several requests at once).
  std::optional<http_response> next() { return read_response(); }

 private:
  std::optional<http_response> read_response();
  bool fill();

  std::uint16_t _port;
  milliseconds _timeout;
  int _fd = -1;
  std::string _buf;
  std::string _source;
};

// An owned JSON value. Objects keep their members in order (duplicates would show).
struct json {
  enum class kind { null, boolean, integer, number, string, array, object };
  kind type = kind::null;
  bool boolean = false;
  std::int64_t integer = 0;
  double number = 0;
  std::string string;
  std::vector<json> items;
  std::vector<std::pair<std::string, json>> members;

  static std::optional<json> parse(std::string_view text);
  bool is_null() const { return type == kind::null; }
  bool is_string() const { return type == kind::string; }
  bool is_object() const { return type == kind::object; }
  bool has(std::string_view key) const;
  // The member, or a null value when absent.
  const json& operator[](std::string_view key) const;
  std::vector<std::string> keys() const;
  // Sets (or adds) a member of an object.
  void set(std::string_view key, json value);
  // Compact JSON text (for messages and comparisons).
  std::string dump() const;
  bool operator==(const json& other) const;

  static json of(std::string_view s);
  static json of(std::int64_t n);
};

// The answer's body as JSON; throws when it is not JSON.
json body_json(const http_response& r);

// An answer of `status` in the common error form: Content-Type application/json and a JSON
// object with a non-empty "error" string and "code" == `code`.
::testing::AssertionResult is_error(const std::optional<http_response>& r, int status, std::string_view code);

// The value of a Prometheus sample line `series` (name and labels exactly as rendered).
std::optional<double> metric_value(std::string_view metrics_text, std::string_view series);

// "2026-05-20T10:00:00.000Z" for `unix_ms`.
std::string rfc3339_ms(std::int64_t unix_ms);
std::int64_t now_unix_ms();
bool is_rfc3339_ms(std::string_view s);
bool is_uuid(std::string_view s);

}  // namespace warrant::test

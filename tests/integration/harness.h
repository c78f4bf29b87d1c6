// tests/integration/harness.h: runs the real warrantd and talks raw HTTP/1.1 to it.
//
// What it is for: integration tests that start `warrantd` (the binary named by WARRANTD_PATH)
// as a child process on an ephemeral loopback port with a fresh data directory, and drive it
// through blocking sockets with timeouts, byte by byte if need be.
//
// - `server_process` spawns warrantd, reads its ready line (to learn the port), captures its
//   stderr, and stops it with SIGTERM. Its destructor stops a server still running and records
//   a test failure if it does not exit 0 or if a sanitizer reported on its stderr.
// - `client` is one connection: send raw bytes, read one response (status line, headers,
//   Content-Length body; 1xx answers come back on their own), or wait for EOF / reset.
// - Small helpers scrape /metrics and check the common JSON error body (spec/common.md).
//
// Threading: every object is used by the test thread only; `server_process` owns one helper
// thread that drains the child's stderr.
#pragma once

#include <gtest/gtest.h>
#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

namespace warrant::integration {

using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;
using std::chrono::milliseconds;

// Seconds elapsed since `start`, as a double (for generous timing assertions).
double seconds_since(steady::time_point start);

// A directory under $TMPDIR (or /tmp), removed with its contents on destruction.
class temp_dir {
 public:
  temp_dir();
  ~temp_dir();
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;
  const std::string& path() const { return _path; }

 private:
  std::string _path;
};

struct launch_options {
  std::vector<std::string> args;                          // flags after the defaults below
  std::vector<std::pair<std::string, std::string>> env;  // added to a WARRANT_*-free environment
  bool default_listen = true;                             // --listen 127.0.0.1:0
  bool default_data_dir = true;                           // --data-dir <fresh temp dir>
  milliseconds ready_timeout = 20s;
  bool expect_ready = true;  // false: a failure or --help is expected, not the ready line
};

class server_process {
 public:
  // Spawns warrantd and waits for its ready line, its exit, or the ready timeout.
  explicit server_process(launch_options options = {});
  // Shorthand: default options plus these flags.
  explicit server_process(std::vector<std::string> args);
  ~server_process();
  server_process(const server_process&) = delete;
  server_process& operator=(const server_process&) = delete;

  bool ready() const { return _port != 0; }
  std::uint16_t port() const { return _port; }
  const std::string& ready_line() const { return _ready_line; }
  // What the process printed on stdout before it was ready (or exited).
  const std::string& stdout_text() const { return _stdout; }
  const std::string& data_dir() const { return _data_dir; }
  pid_t pid() const { return _pid; }

  void send_signal(int sig);
  // Waits for the process to exit; the exit code (128 + signal when killed), or nullopt on
  // timeout. Once exited, stderr has been read to its end.
  std::optional<int> wait_exit(milliseconds timeout);
  // SIGTERM, then wait_exit.
  std::optional<int> stop(milliseconds timeout = 15s);
  bool exited() const { return _exit_code.has_value(); }
  std::string stderr_text() const;
  // Waits until stderr contains `needle`.
  bool wait_stderr(std::string_view needle, milliseconds timeout);

 private:
  void spawn(const launch_options& options);
  void read_ready_line(milliseconds timeout, bool expect_ready);
  void check_sanitizer_reports();

  std::optional<temp_dir> _temp;
  std::string _data_dir;
  pid_t _pid = -1;
  int _stdout_fd = -1;
  std::uint16_t _port = 0;
  std::string _ready_line;
  std::string _stdout;
  std::optional<int> _exit_code;
  bool _checked_reports = false;

  mutable std::mutex _stderr_mutex;
  std::string _stderr;
  std::thread _stderr_reader;
};

// One parsed HTTP response.
struct http_message {
  std::string version;  // "HTTP/1.1"
  int status = 0;
  std::string reason;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;

  // Value of the first header with this name (ASCII case-insensitive), or "".
  std::string header(std::string_view name) const;
  bool has_header(std::string_view name) const;
};

enum class read_status { ok, eof, reset, timeout, malformed };
std::string_view to_string(read_status s);

class client {
 public:
  // Connects to 127.0.0.1:port; check connected() (connect_errno() says why not).
  explicit client(std::uint16_t port, milliseconds timeout = 5s);
  ~client();
  client(const client&) = delete;
  client& operator=(const client&) = delete;
  client(client&& other) noexcept;
  client& operator=(client&& other) noexcept;

  bool connected() const { return _fd >= 0; }
  int connect_errno() const { return _connect_errno; }
  int fd() const { return _fd; }

  // Sends every byte (blocking, bounded by the timeout); false on error, see last_errno().
  bool send(std::string_view bytes, milliseconds timeout = 10s);
  int last_errno() const { return _last_errno; }

  // Reads one response. A 1xx answer is returned on its own; HEAD answers have no body.
  read_status read_response(http_message& out, bool head_request = false, milliseconds timeout = 5s);
  // send + read_response; nullopt (with the reason in last_read()) when either fails.
  std::optional<http_message> roundtrip(std::string_view request, bool head_request = false,
                                        milliseconds timeout = 5s);
  read_status last_read() const { return _last_read; }

  // Reads until EOF or reset, keeping any bytes in buffered(); timeout if neither comes.
  read_status wait_closed(milliseconds timeout = 5s);
  // True when the peer has sent nothing and not closed within `quiet` (a poll, no read).
  bool quiet_for(milliseconds quiet);
  const std::string& buffered() const { return _buf; }

  void shutdown_write();
  // Closes with SO_LINGER 0: the kernel sends RST instead of FIN.
  void reset();
  void close();

 private:
  read_status fill(steady::time_point deadline);
  read_status parse_one(http_message& out, bool head_request, steady::time_point deadline);

  int _fd = -1;
  int _connect_errno = 0;
  int _last_errno = 0;
  read_status _last_read = read_status::ok;
  std::string _buf;  // received, not yet returned
};

// "GET <path> HTTP/1.1" with a Host header, `extra` header lines (each ending in CRLF), and
// the empty line.
std::string request(std::string_view method, std::string_view path, std::string_view extra = {});
inline std::string get(std::string_view path, std::string_view extra = {}) { return request("GET", path, extra); }

// One request on a fresh connection; nullopt when anything fails.
std::optional<http_message> fetch(std::uint16_t port, std::string_view raw_request, bool head_request = false);
// The /metrics body, or "" on failure.
std::string scrape_metrics(std::uint16_t port);
// The value of the sample line `series` (name with labels exactly as rendered), if present.
std::optional<double> metric_value(std::string_view metrics_text, std::string_view series);
// Sum over every sample of metric `name` whatever its labels.
double metric_sum(std::string_view metrics_text, std::string_view name);
// Sum of warrant_connections_open over shards, from a fresh scrape (includes the scraper).
std::optional<double> open_connections(std::uint16_t port);

// Polls `condition` every 20 ms until it holds or `timeout` passes.
bool wait_until(const std::function<bool()>& condition, milliseconds timeout);

// A top-level JSON object's members: strings decoded, other values as their raw text.
// nullopt when `text` is not a valid JSON object.
std::optional<std::map<std::string, std::string>> parse_json_object(std::string_view text);

// The common error answer: `status`, Content-Type application/json, a JSON object body with
// a non-empty "error" string and "code" == `code`.
::testing::AssertionResult is_json_error(const http_message& m, int status, std::string_view code);

// A /readyz answer that says ready: {"status":"ready","checks":{...}} with "storage":"ok" and
// no failing check (other checks may be added as the server grows).
bool is_ready_body(std::string_view body);

// Raises RLIMIT_NOFILE to at least `want` (as far as the hard limit allows); the new soft limit.
std::size_t raise_fd_limit(std::size_t want);

}  // namespace warrant::integration

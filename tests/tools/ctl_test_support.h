// tests/tools/ctl_test_support.h: running warrantctl and warrantd as child processes, for the
// end-to-end tests of tests/tools.
//
// - `temp_dir`: a fresh directory under /tmp, removed with its contents afterwards.
// - `run`: spawns a program with arguments and extra environment (WARRANT_* variables of the
//   test's own environment are dropped, so a test says what it means), captures stdout and
//   stderr, and waits for it with a timeout (then kills it and reports exit -1).
// - `warrantd_process`: starts the real warrantd (WARRANTD_PATH) on 127.0.0.1:0 with a given
//   data directory and --shards 1, waits for its ready line to learn the port, and stops it
//   with SIGTERM (its destructor too). Its stdout and stderr go to files in a temp directory.
// - `json_doc`: a parsed JSON text (simdjson DOM) for assertions.
// Everything is used from the test thread only.
#pragma once

#include <simdjson.h>
#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace warrant::tools::testing {

using namespace std::chrono_literals;
using env_list = std::vector<std::pair<std::string, std::string>>;

class temp_dir {
 public:
  temp_dir();
  ~temp_dir();
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;
  const std::string& path() const { return _path; }
  std::string sub(std::string_view name) const { return _path + "/" + std::string(name); }

 private:
  std::string _path;
};

struct run_result {
  int exit_code = -1;  // 128 + signal when killed; -1 when it had to be killed for time
  std::string out;
  std::string err;
};

run_result run(const std::vector<std::string>& argv, const env_list& env = {},
               std::chrono::milliseconds timeout = 30s);

// warrantctl with these arguments.
run_result ctl(const std::vector<std::string>& args, const env_list& env = {});

class warrantd_process {
 public:
  explicit warrantd_process(std::string data_dir);
  ~warrantd_process();
  warrantd_process(const warrantd_process&) = delete;
  warrantd_process& operator=(const warrantd_process&) = delete;

  bool ready() const { return _port != 0; }
  std::uint16_t port() const { return _port; }
  std::string url() const;
  // SIGTERM, then the exit status (nullopt when it did not exit in time; then it is killed).
  std::optional<int> stop();
  std::string stderr_text() const;

 private:
  temp_dir _logs;
  pid_t _pid = -1;
  std::uint16_t _port = 0;
};

// The first line of <data-dir>/bootstrap-admin-key.
std::string bootstrap_key(const std::string& data_dir);
// The lines of `text`, without their newlines; a final empty line is dropped.
std::vector<std::string> lines(const std::string& text);

class json_doc {
 public:
  explicit json_doc(std::string_view text);
  // Elements point into the parser's document: a json_doc stays where it was made.
  json_doc(const json_doc&) = delete;
  json_doc& operator=(const json_doc&) = delete;
  bool ok() const { return _ok; }
  simdjson::dom::element root() const { return _root; }
  // Members of the root object by path ("stats", "entries", "log"), as string / uint / bool.
  std::string str(std::initializer_list<std::string_view> path) const;
  std::uint64_t uint(std::initializer_list<std::string_view> path) const;
  bool boolean(std::initializer_list<std::string_view> path) const;
  bool is_null(std::initializer_list<std::string_view> path) const;
  bool has(std::initializer_list<std::string_view> path) const;

 private:
  simdjson::simdjson_result<simdjson::dom::element> at(std::initializer_list<std::string_view> path) const;
  simdjson::dom::parser _parser;
  simdjson::dom::element _root;
  bool _ok = false;
};

}  // namespace warrant::tools::testing

// tools/ctl_common.h: what every warrantctl command shares — exit codes, the options that
// name the server and the data directory, and how they are resolved.
//
// Precedence for each setting: the flag, then the WARRANT_* environment variable, then the
// default (--url http://127.0.0.1:8080, --data-dir ./data). The API key comes from --key,
// else WARRANT_KEY, else the first line of <data-dir>/bootstrap-admin-key. Single-threaded.
#pragma once

#include <stdexcept>
#include <string>

namespace warrant::tools {

// Exit statuses (docs/warrantctl.md "Exit status").
inline constexpr int exit_ok = 0;
inline constexpr int exit_failed = 1;       // the server refused, a check failed, an operation was refused
inline constexpr int exit_unreachable = 2;  // no HTTP answer from the server
inline constexpr int exit_usage = 64;       // bad flags or arguments (EX_USAGE)

inline constexpr const char* default_url = "http://127.0.0.1:8080";
inline constexpr const char* default_data_dir = "./data";
inline constexpr int default_timeout_ms = 10'000;

// As given on the command line; empty means "not given".
struct ctl_options {
  std::string url;
  std::string key;
  std::string data_dir;
  int timeout_ms = default_timeout_ms;
  bool pretty = false;
};

// A failure with its exit status and a message for a person (printed as "warrantctl: ...").
class ctl_error : public std::runtime_error {
 public:
  ctl_error(int exit_status, const std::string& message) : std::runtime_error(message), _exit_status(exit_status) {}
  int exit_status() const { return _exit_status; }

 private:
  int _exit_status;
};

std::string resolve_url(const ctl_options& o);
std::string resolve_data_dir(const ctl_options& o);
// Throws ctl_error(exit_usage) naming the three places a key may come from.
std::string resolve_key(const ctl_options& o);

// Writes `text` and a newline to stdout (or stderr), pretty-printed when asked.
void print_json(const std::string& text, bool pretty, bool to_stderr = false);

}  // namespace warrant::tools

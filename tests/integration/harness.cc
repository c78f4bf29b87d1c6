// The server side of the integration harness: spawning warrantd, its ready line, its stderr,
// stopping it, and sanitizer reports.
#include "tests/integration/harness.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <stdexcept>

extern char** environ;

namespace warrant::integration {
namespace {

int remaining_ms(steady::time_point deadline) {
  const auto left = std::chrono::duration_cast<milliseconds>(deadline - steady::now()).count();
  return left <= 0 ? 0 : static_cast<int>(left);
}

int exit_code_of(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

// The child's environment: ours without WARRANT_* (tests set what they mean), plus `extra`.
std::vector<std::string> child_environment(const std::vector<std::pair<std::string, std::string>>& extra) {
  std::vector<std::string> env;
  for (char** e = environ; *e != nullptr; ++e) {
    if (std::string_view(*e).rfind("WARRANT_", 0) == 0) continue;
    env.emplace_back(*e);
  }
  for (const auto& [key, value] : extra) env.push_back(key + "=" + value);
  return env;
}

std::vector<char*> c_strings(std::vector<std::string>& v) {
  std::vector<char*> out;
  for (std::string& s : v) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

}  // namespace

double seconds_since(steady::time_point start) {
  return std::chrono::duration<double>(steady::now() - start).count();
}

// ---- temp_dir -----------------------------------------------------------------------------

temp_dir::temp_dir() {
  const char* base = std::getenv("TMPDIR");
  std::string pattern = std::string(base != nullptr && *base != '\0' ? base : "/tmp") + "/warrant-it-XXXXXX";
  if (mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  _path = pattern;
}

temp_dir::~temp_dir() {
  std::error_code ec;
  std::filesystem::remove_all(_path, ec);
}

// ---- server_process -----------------------------------------------------------------------

server_process::server_process(std::vector<std::string> args) : server_process(launch_options{std::move(args)}) {}

server_process::server_process(launch_options options) {
  spawn(options);
  if (_pid > 0) read_ready_line(options.ready_timeout, options.expect_ready);
}

void server_process::spawn(const launch_options& options) {
  std::vector<std::string> argv = {WARRANTD_PATH};
  if (options.default_listen) argv.insert(argv.end(), {"--listen", "127.0.0.1:0"});
  if (options.default_data_dir) {
    _temp.emplace();
    _data_dir = _temp->path() + "/data";
    argv.insert(argv.end(), {"--data-dir", _data_dir});
  }
  argv.insert(argv.end(), options.args.begin(), options.args.end());
  std::vector<std::string> env = child_environment(options.env);

  // Our ends are close-on-exec so that no other child inherits them (EOF must mean exit).
  int out_pipe[2];
  int err_pipe[2];
  if (pipe2(out_pipe, O_CLOEXEC) != 0 || pipe2(err_pipe, O_CLOEXEC) != 0) {
    ADD_FAILURE() << "pipe2: " << std::strerror(errno);
    return;
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, out_pipe[1], 1);
  posix_spawn_file_actions_adddup2(&actions, err_pipe[1], 2);
  std::vector<char*> c_argv = c_strings(argv);
  std::vector<char*> c_env = c_strings(env);
  const int rc = posix_spawn(&_pid, argv[0].c_str(), &actions, nullptr, c_argv.data(), c_env.data());
  posix_spawn_file_actions_destroy(&actions);
  ::close(out_pipe[1]);
  ::close(err_pipe[1]);
  if (rc != 0) {
    ADD_FAILURE() << "posix_spawn " << argv[0] << ": " << std::strerror(rc);
    _pid = -1;
    ::close(out_pipe[0]);
    ::close(err_pipe[0]);
    return;
  }
  _stdout_fd = out_pipe[0];
  const int err_fd = err_pipe[0];
  _stderr_reader = std::thread([this, err_fd] {
    char chunk[4096];
    while (true) {
      const ssize_t n = ::read(err_fd, chunk, sizeof chunk);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      std::lock_guard lock(_stderr_mutex);
      _stderr.append(chunk, static_cast<std::size_t>(n));
    }
    ::close(err_fd);
  });
}

void server_process::read_ready_line(milliseconds timeout, bool expect_ready) {
  const auto deadline = steady::now() + timeout;
  while (_stdout.find('\n') == std::string::npos || !expect_ready) {
    pollfd p{_stdout_fd, POLLIN, 0};
    const int rc = ::poll(&p, 1, remaining_ms(deadline));
    if (rc < 0 && errno == EINTR) continue;
    if (rc <= 0) {
      if (expect_ready) {
        ADD_FAILURE() << "warrantd printed no ready line within " << timeout.count() << " ms; stdout so far: '"
                      << _stdout << "'";
      }
      return;
    }
    char chunk[4096];
    const ssize_t n = ::read(_stdout_fd, chunk, sizeof chunk);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;  // exited (start-up error tests expect this)
    _stdout.append(chunk, static_cast<std::size_t>(n));
  }
  _ready_line = _stdout.substr(0, _stdout.find('\n'));
  // "warrantd ready on 127.0.0.1:PORT shards=N data-dir=DIR pid=PID"
  const std::string prefix = "warrantd ready on ";
  if (_ready_line.rfind(prefix, 0) != 0) {
    ADD_FAILURE() << "unexpected ready line: " << _ready_line;
    return;
  }
  const std::size_t space = _ready_line.find(' ', prefix.size());
  const std::string address = _ready_line.substr(prefix.size(), space - prefix.size());
  const std::size_t colon = address.rfind(':');
  const int port = colon == std::string::npos ? 0 : std::atoi(address.c_str() + colon + 1);
  if (port <= 0 || port > 65535) {
    ADD_FAILURE() << "no port in ready line: " << _ready_line;
    return;
  }
  _port = static_cast<std::uint16_t>(port);
}

void server_process::send_signal(int sig) {
  if (_pid > 0 && !_exit_code) ::kill(_pid, sig);
}

std::optional<int> server_process::wait_exit(milliseconds timeout) {
  if (_exit_code) return _exit_code;
  if (_pid <= 0) return std::nullopt;
  const auto deadline = steady::now() + timeout;
  while (true) {
    int status = 0;
    const pid_t r = ::waitpid(_pid, &status, WNOHANG);
    if (r == _pid) {
      _exit_code = exit_code_of(status);
      break;
    }
    if (r < 0 && errno != EINTR) {
      ADD_FAILURE() << "waitpid: " << std::strerror(errno);
      _exit_code = -1;
      break;
    }
    if (steady::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(5ms);
  }
  if (_stderr_reader.joinable()) _stderr_reader.join();  // EOF: the only writer has exited
  check_sanitizer_reports();
  return _exit_code;
}

std::optional<int> server_process::stop(milliseconds timeout) {
  send_signal(SIGTERM);
  return wait_exit(timeout);
}

std::string server_process::stderr_text() const {
  std::lock_guard lock(_stderr_mutex);
  return _stderr;
}

bool server_process::wait_stderr(std::string_view needle, milliseconds timeout) {
  return wait_until([&] { return stderr_text().find(needle) != std::string::npos; }, timeout);
}

void server_process::check_sanitizer_reports() {
  if (_checked_reports) return;
  _checked_reports = true;
  const std::string text = stderr_text();
  for (std::string_view marker : {"ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:",
                                  "WARNING: ThreadSanitizer", "AddressSanitizer:DEADLYSIGNAL"}) {
    if (text.find(marker) != std::string::npos) {
      ADD_FAILURE() << "sanitizer report on warrantd's stderr (" << marker << "):\n" << text;
      return;
    }
  }
}

server_process::~server_process() {
  if (_pid > 0 && !_exit_code) {
    // A test that did not stop its server: a graceful stop must still end in exit 0.
    const std::optional<int> code = stop(15s);
    if (!code) {
      ADD_FAILURE() << "warrantd did not exit within 15 s of SIGTERM; killing it. stderr:\n" << stderr_text();
      ::kill(_pid, SIGKILL);
      wait_exit(10s);
    } else if (*code != 0) {
      ADD_FAILURE() << "warrantd exited with " << *code << " after SIGTERM. stderr:\n" << stderr_text();
    }
  }
  if (_pid > 0 && !_exit_code) {
    ::kill(_pid, SIGKILL);
    int status = 0;
    ::waitpid(_pid, &status, 0);
  }
  if (_stderr_reader.joinable()) _stderr_reader.join();
  check_sanitizer_reports();
  if (_stdout_fd >= 0) ::close(_stdout_fd);
}

}  // namespace warrant::integration

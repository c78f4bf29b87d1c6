#include "tests/tools/ctl_test_support.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

extern char** environ;

namespace warrant::tools::testing {
namespace {

using steady = std::chrono::steady_clock;

int exit_code_of(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

std::vector<std::string> child_environment(const env_list& extra) {
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

// Spawns argv[0] with stdin from /dev/null and stdout/stderr onto the given fds.
pid_t spawn(std::vector<std::string> argv, const env_list& extra, int out_fd, int err_fd) {
  std::vector<std::string> env = child_environment(extra);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, out_fd, 1);
  posix_spawn_file_actions_adddup2(&actions, err_fd, 2);
  std::vector<char*> c_argv = c_strings(argv);
  std::vector<char*> c_env = c_strings(env);
  pid_t pid = -1;
  const int rc = posix_spawn(&pid, argv[0].c_str(), &actions, nullptr, c_argv.data(), c_env.data());
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) throw std::runtime_error("posix_spawn " + argv[0] + ": " + std::strerror(rc));
  return pid;
}

std::optional<int> wait_exit(pid_t pid, std::chrono::milliseconds timeout) {
  const auto deadline = steady::now() + timeout;
  while (true) {
    int status = 0;
    const pid_t r = ::waitpid(pid, &status, WNOHANG);
    if (r == pid) return exit_code_of(status);
    if (r < 0 && errno != EINTR) return std::nullopt;
    if (steady::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(5ms);
  }
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

temp_dir::temp_dir() {
  std::string pattern = "/tmp/warrant-ctl-test-XXXXXX";
  if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  _path = pattern;
}

temp_dir::~temp_dir() {
  std::error_code ec;
  std::filesystem::remove_all(_path, ec);
}

run_result run(const std::vector<std::string>& argv, const env_list& env, std::chrono::milliseconds timeout) {
  int out_pipe[2];
  int err_pipe[2];
  if (::pipe2(out_pipe, O_CLOEXEC) != 0 || ::pipe2(err_pipe, O_CLOEXEC) != 0) throw std::runtime_error("pipe2 failed");
  const pid_t pid = spawn(argv, env, out_pipe[1], err_pipe[1]);
  ::close(out_pipe[1]);
  ::close(err_pipe[1]);
  run_result result;
  pollfd fds[2] = {{out_pipe[0], POLLIN, 0}, {err_pipe[0], POLLIN, 0}};
  std::string* sinks[2] = {&result.out, &result.err};
  const auto deadline = steady::now() + timeout;
  int open_fds = 2;
  bool timed_out = false;
  while (open_fds > 0) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - steady::now()).count();
    if (left <= 0) {
      timed_out = true;
      break;
    }
    const int rc = ::poll(fds, 2, static_cast<int>(left));
    if (rc < 0 && errno == EINTR) continue;
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || fds[i].revents == 0) continue;
      char chunk[8192];
      const ssize_t n = ::read(fds[i].fd, chunk, sizeof chunk);
      if (n > 0) {
        sinks[i]->append(chunk, static_cast<std::size_t>(n));
      } else if (n == 0 || errno != EINTR) {
        ::close(fds[i].fd);
        fds[i].fd = -1;
        --open_fds;
      }
    }
  }
  for (const pollfd& p : fds) {
    if (p.fd >= 0) ::close(p.fd);
  }
  if (timed_out) {
    ::kill(pid, SIGKILL);
    wait_exit(pid, 5s);
    ADD_FAILURE() << argv[0] << " did not finish within " << timeout.count() << " ms";
    return result;
  }
  result.exit_code = wait_exit(pid, timeout).value_or(-1);
  return result;
}

run_result ctl(const std::vector<std::string>& args, const env_list& env) {
  std::vector<std::string> argv = {WARRANTCTL_PATH};
  argv.insert(argv.end(), args.begin(), args.end());
  return run(argv, env);
}

warrantd_process::warrantd_process(std::string data_dir) {
  const std::string out_path = _logs.sub("stdout");
  const std::string err_path = _logs.sub("stderr");
  const int out_fd = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  const int err_fd = ::open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  _pid = spawn({WARRANTD_PATH, "--listen", "127.0.0.1:0", "--data-dir", data_dir, "--shards", "1"}, {}, out_fd, err_fd);
  ::close(out_fd);
  ::close(err_fd);
  // "warrantd ready on 127.0.0.1:PORT shards=1 data-dir=DIR pid=PID"
  const std::string prefix = "warrantd ready on 127.0.0.1:";
  const auto deadline = steady::now() + 20s;
  while (steady::now() < deadline) {
    const std::string out = read_file(out_path);
    if (const std::size_t at = out.find(prefix); at != std::string::npos && out.find('\n', at) != std::string::npos) {
      _port = static_cast<std::uint16_t>(std::atoi(out.c_str() + at + prefix.size()));
      return;
    }
    int status = 0;
    if (::waitpid(_pid, &status, WNOHANG) == _pid) {
      _pid = -1;
      ADD_FAILURE() << "warrantd exited before it was ready: " << read_file(err_path);
      return;
    }
    std::this_thread::sleep_for(10ms);
  }
  ADD_FAILURE() << "warrantd printed no ready line: " << read_file(err_path);
}

warrantd_process::~warrantd_process() {
  if (_pid > 0) stop();
}

std::string warrantd_process::url() const { return "http://127.0.0.1:" + std::to_string(_port); }

std::optional<int> warrantd_process::stop() {
  if (_pid <= 0) return std::nullopt;
  ::kill(_pid, SIGTERM);
  std::optional<int> code = wait_exit(_pid, 15s);
  if (!code) {
    ::kill(_pid, SIGKILL);
    wait_exit(_pid, 5s);
  }
  _pid = -1;
  _port = 0;
  return code;
}

std::string warrantd_process::stderr_text() const { return read_file(_logs.sub("stderr")); }

std::string bootstrap_key(const std::string& data_dir) {
  std::ifstream in(data_dir + "/bootstrap-admin-key");
  std::string line;
  std::getline(in, line);
  return line;
}

std::vector<std::string> lines(const std::string& text) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start < text.size()) {
    const std::size_t nl = text.find('\n', start);
    out.push_back(text.substr(start, nl - start));
    if (nl == std::string::npos) break;
    start = nl + 1;
  }
  return out;
}

json_doc::json_doc(std::string_view text) { _ok = !_parser.parse(text.data(), text.size()).get(_root); }

simdjson::simdjson_result<simdjson::dom::element> json_doc::at(std::initializer_list<std::string_view> path) const {
  simdjson::simdjson_result<simdjson::dom::element> cur{simdjson::dom::element(_root)};
  for (std::string_view key : path) cur = cur[key];
  return cur;
}

std::string json_doc::str(std::initializer_list<std::string_view> path) const {
  std::string_view v;
  return at(path).get_string().get(v) ? std::string("<missing>") : std::string(v);
}

std::uint64_t json_doc::uint(std::initializer_list<std::string_view> path) const {
  std::uint64_t v = 0;
  return at(path).get_uint64().get(v) ? ~std::uint64_t{0} : v;
}

bool json_doc::boolean(std::initializer_list<std::string_view> path) const {
  bool v = false;
  return at(path).get_bool().get(v) ? false : v;
}

bool json_doc::is_null(std::initializer_list<std::string_view> path) const {
  auto r = at(path);
  return r.error() == simdjson::SUCCESS && r.value_unsafe().is_null();
}

bool json_doc::has(std::initializer_list<std::string_view> path) const { return at(path).error() == simdjson::SUCCESS; }

}  // namespace warrant::tools::testing

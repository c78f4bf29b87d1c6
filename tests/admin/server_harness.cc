#include "tests/admin/server_harness.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <simdjson.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

extern char** environ;

namespace warrant::test {
namespace {

using steady = std::chrono::steady_clock;

int remaining_ms(steady::time_point deadline) {
  const auto left = std::chrono::duration_cast<milliseconds>(deadline - steady::now()).count();
  return left <= 0 ? 0 : static_cast<int>(left);
}

char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; }

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

std::string trim(std::string_view v) {
  while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
  while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.remove_suffix(1);
  return std::string(v);
}

int exit_code_of(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

json from_dom(simdjson::dom::element e) {
  json out;
  switch (e.type()) {
    case simdjson::dom::element_type::ARRAY:
      out.type = json::kind::array;
      {
        const simdjson::dom::array arr = e.get_array().value();
        for (simdjson::dom::element item : arr) out.items.push_back(from_dom(item));
      }
      break;
    case simdjson::dom::element_type::OBJECT:
      out.type = json::kind::object;
      {
        const simdjson::dom::object obj = e.get_object().value();
        for (simdjson::dom::key_value_pair kv : obj) out.members.emplace_back(std::string(kv.key), from_dom(kv.value));
      }
      break;
    case simdjson::dom::element_type::INT64:
      out.type = json::kind::integer;
      out.integer = e.get_int64().value();
      break;
    case simdjson::dom::element_type::UINT64:
      out.type = json::kind::number;
      out.number = static_cast<double>(e.get_uint64().value());
      break;
    case simdjson::dom::element_type::DOUBLE:
      out.type = json::kind::number;
      out.number = e.get_double().value();
      break;
    case simdjson::dom::element_type::STRING:
      out.type = json::kind::string;
      out.string = std::string(e.get_string().value());
      break;
    case simdjson::dom::element_type::BOOL:
      out.type = json::kind::boolean;
      out.boolean = e.get_bool().value();
      break;
    case simdjson::dom::element_type::NULL_VALUE:
      break;
  }
  return out;
}

}  // namespace

// ---- files --------------------------------------------------------------------------------

temp_dir::temp_dir(std::string_view tag) {
  const char* base = std::getenv("TMPDIR");
  std::string pattern =
      std::string(base != nullptr && *base != '\0' ? base : "/tmp") + "/" + std::string(tag) + "-XXXXXX";
  if (mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  _path = pattern;
}

temp_dir::~temp_dir() {
  std::error_code ec;
  std::filesystem::remove_all(_path, ec);
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string read_bootstrap_admin_key(const std::string& data_dir) {
  std::string key = read_file(data_dir + "/bootstrap-admin-key");
  key.resize(std::min(key.size(), key.find_first_of("\r\n")));
  return key;
}

// ---- warrantd_process ---------------------------------------------------------------------

warrantd_process::warrantd_process(const std::string& data_dir, unsigned shards, const std::string& stderr_path,
                                   const std::vector<std::string>& extra, milliseconds ready_timeout)
    : _stderr_path(stderr_path) {
  std::vector<std::string> args = {WARRANTD_PATH, "--listen", "127.0.0.1:0",         "--data-dir",
                                   data_dir,      "--shards", std::to_string(shards)};
  args.insert(args.end(), extra.begin(), extra.end());
  std::vector<std::string> env;
  for (char** e = environ; *e != nullptr; ++e) {
    if (std::string_view(*e).rfind("WARRANT_", 0) != 0) env.emplace_back(*e);  // the test sets what it means
  }
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::vector<char*> envp;
  for (std::string& e : env) envp.push_back(e.data());
  envp.push_back(nullptr);

  const int err_fd = ::open(stderr_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  int out_pipe[2];
  if (err_fd < 0 || pipe2(out_pipe, O_CLOEXEC) != 0) throw std::runtime_error("cannot set up the child's output");
  const pid_t parent = getpid();
  _pid = fork();
  if (_pid == 0) {
    // Async-signal-safe calls only. The server dies with the test (a crashed test leaves no
    // server behind holding the data directory).
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(127);
    const int in_fd = ::open("/dev/null", O_RDONLY);
    dup2(in_fd, 0);
    dup2(out_pipe[1], 1);
    dup2(err_fd, 2);
    execve(argv[0], argv.data(), envp.data());
    _exit(127);
  }
  ::close(out_pipe[1]);
  ::close(err_fd);
  if (_pid < 0) {
    ::close(out_pipe[0]);
    throw std::runtime_error("fork failed");
  }
  _stdout_fd = out_pipe[0];

  std::string out;
  const auto deadline = steady::now() + ready_timeout;
  while (out.find('\n') == std::string::npos) {
    pollfd p{_stdout_fd, POLLIN, 0};
    const int rc = ::poll(&p, 1, remaining_ms(deadline));
    if (rc < 0 && errno == EINTR) continue;
    char chunk[1024];
    const ssize_t n = rc > 0 ? ::read(_stdout_fd, chunk, sizeof chunk) : 0;
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      kill9();
      ::close(_stdout_fd);
      throw std::runtime_error((rc <= 0 ? "warrantd printed no ready line in time" : "warrantd exited before ready") +
                               std::string("; stderr:\n") + stderr_text());
    }
    out.append(chunk, static_cast<std::size_t>(n));
  }
  _ready_line = out.substr(0, out.find('\n'));
  const std::string prefix = "warrantd ready on 127.0.0.1:";
  if (_ready_line.rfind(prefix, 0) != 0) {
    kill9();
    ::close(_stdout_fd);
    throw std::runtime_error("unexpected ready line: " + _ready_line);
  }
  _port = static_cast<std::uint16_t>(std::atoi(_ready_line.c_str() + prefix.size()));
}

warrantd_process::~warrantd_process() {
  if (!_exited) kill9();
  if (_stdout_fd >= 0) ::close(_stdout_fd);
}

bool warrantd_process::sanitizer_reported() const {
  const std::string text = stderr_text();
  return text.find("ERROR: AddressSanitizer") != std::string::npos ||
         text.find("ERROR: LeakSanitizer") != std::string::npos || text.find("runtime error:") != std::string::npos;
}

int warrantd_process::wait_exit(milliseconds timeout) {
  const auto deadline = steady::now() + timeout;
  while (true) {
    int status = 0;
    const pid_t r = ::waitpid(_pid, &status, WNOHANG);
    if (r == _pid) {
      _exited = true;
      return exit_code_of(status);
    }
    if (r < 0) {
      _exited = true;
      return -1;
    }
    if (steady::now() >= deadline) return -1;
    ::usleep(2000);
  }
}

int warrantd_process::stop(milliseconds timeout) {
  if (_exited) return -1;
  ::kill(_pid, SIGTERM);
  return wait_exit(timeout);
}

void warrantd_process::signal(int sig) {
  if (!_exited && _pid > 0) ::kill(_pid, sig);
}

void warrantd_process::kill9() {
  if (_exited || _pid <= 0) return;
  ::kill(_pid, SIGKILL);
  int status = 0;
  while (::waitpid(_pid, &status, 0) < 0 && errno == EINTR) {
  }
  _exited = true;
}

// ---- http_client --------------------------------------------------------------------------

std::string http_response::header(std::string_view name) const {
  for (const auto& [k, v] : headers) {
    if (iequals(k, name)) return v;
  }
  return {};
}

bool http_client::connect() {
  close();
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(_port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (!_source.empty()) {
    sockaddr_in from{};
    from.sin_family = AF_INET;
    if (::inet_pton(AF_INET, _source.c_str(), &from.sin_addr) != 1 ||
        ::bind(fd, reinterpret_cast<sockaddr*>(&from), sizeof from) != 0) {
      ::close(fd);
      return false;
    }
  }
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return false;
  }
  _fd = fd;
  _buf.clear();
  return true;
}

void http_client::close() {
  if (_fd >= 0) ::close(_fd);
  _fd = -1;
  _buf.clear();
}

std::optional<http_response> http_client::request(std::string_view method, std::string_view target,
                                                  std::string_view body, const header_list& headers) {
  std::string req;
  req.reserve(256 + body.size());
  req.append(method).append(" ").append(target).append(" HTTP/1.1\r\nHost: 127.0.0.1\r\n");
  for (const auto& [k, v] : headers) req.append(k).append(": ").append(v).append("\r\n");
  if (!body.empty() || method == "POST" || method == "PUT") {
    req.append("Content-Length: ").append(std::to_string(body.size())).append("\r\n");
  }
  req.append("\r\n").append(body);
  return raw(req);
}

std::optional<http_response> http_client::raw(std::string_view bytes) {
  if (_fd < 0 && !connect()) return std::nullopt;
  const auto deadline = steady::now() + _timeout;
  while (!bytes.empty()) {
    const ssize_t n = ::send(_fd, bytes.data(), bytes.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n > 0) {
      bytes.remove_prefix(static_cast<std::size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      pollfd p{_fd, POLLOUT, 0};
      if (::poll(&p, 1, remaining_ms(deadline)) > 0) continue;
    }
    close();
    return std::nullopt;
  }
  auto r = read_response();
  if (!r) close();
  return r;
}

bool http_client::fill() {
  pollfd p{_fd, POLLIN, 0};
  int rc = 0;
  do {
    rc = ::poll(&p, 1, static_cast<int>(_timeout.count()));
  } while (rc < 0 && errno == EINTR);
  if (rc <= 0) return false;
  char chunk[16384];
  ssize_t n = 0;
  do {
    n = ::recv(_fd, chunk, sizeof chunk, 0);
  } while (n < 0 && errno == EINTR);
  if (n <= 0) return false;
  _buf.append(chunk, static_cast<std::size_t>(n));
  return true;
}

std::optional<http_response> http_client::read_response() {
  std::size_t end = 0;
  while ((end = _buf.find("\r\n\r\n")) == std::string::npos) {
    if (!fill()) return std::nullopt;
  }
  const std::string head = _buf.substr(0, end);
  std::size_t line_end = head.find("\r\n");
  const std::string status_line = head.substr(0, line_end);
  if (status_line.rfind("HTTP/1.1 ", 0) != 0 || status_line.size() < 12) return std::nullopt;
  http_response r;
  r.status = std::atoi(status_line.c_str() + 9);
  while (line_end != std::string::npos) {
    const std::size_t start = line_end + 2;
    line_end = head.find("\r\n", start);
    const std::string line = head.substr(start, line_end == std::string::npos ? std::string::npos : line_end - start);
    const std::size_t colon = line.find(':');
    if (colon == std::string::npos) return std::nullopt;
    r.headers.emplace_back(trim(line.substr(0, colon)), trim(line.substr(colon + 1)));
  }
  const std::string length_text = r.header("content-length");
  const std::size_t length = length_text.empty() ? 0 : std::strtoull(length_text.c_str(), nullptr, 10);
  while (_buf.size() < end + 4 + length) {
    if (!fill()) return std::nullopt;
  }
  r.body = _buf.substr(end + 4, length);
  _buf.erase(0, end + 4 + length);
  if (iequals(r.header("connection"), "close")) close();
  return r;
}

// ---- json ---------------------------------------------------------------------------------

std::optional<json> json::parse(std::string_view text) {
  simdjson::dom::parser parser;
  simdjson::padded_string padded(text);
  simdjson::dom::element root;
  if (parser.parse(padded).get(root) != simdjson::SUCCESS) return std::nullopt;
  return from_dom(root);
}

bool json::has(std::string_view key) const {
  for (const auto& [k, v] : members) {
    if (k == key) return true;
  }
  return false;
}

const json& json::operator[](std::string_view key) const {
  static const json null_value;
  for (const auto& [k, v] : members) {
    if (k == key) return v;
  }
  return null_value;
}

std::vector<std::string> json::keys() const {
  std::vector<std::string> out;
  for (const auto& [k, v] : members) out.push_back(k);
  return out;
}

void json::set(std::string_view key, json value) {
  for (auto& [k, v] : members) {
    if (k == key) {
      v = std::move(value);
      return;
    }
  }
  members.emplace_back(std::string(key), std::move(value));
}

json json::of(std::string_view s) {
  json j;
  j.type = kind::string;
  j.string = std::string(s);
  return j;
}

json json::of(std::int64_t n) {
  json j;
  j.type = kind::integer;
  j.integer = n;
  return j;
}

bool json::operator==(const json& o) const {
  if (type != o.type) return false;
  switch (type) {
    case kind::null:
      return true;
    case kind::boolean:
      return boolean == o.boolean;
    case kind::integer:
      return integer == o.integer;
    case kind::number:
      return number == o.number;
    case kind::string:
      return string == o.string;
    case kind::array:
      return items == o.items;
    case kind::object:
      return members == o.members;
  }
  return false;
}

namespace {
void dump_string(std::string& out, const std::string& s) {
  out.push_back('"');
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(c);
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      out += buf;
    } else {
      out.push_back(c);
    }
  }
  out.push_back('"');
}

void dump_to(std::string& out, const json& j) {
  switch (j.type) {
    case json::kind::null:
      out += "null";
      break;
    case json::kind::boolean:
      out += j.boolean ? "true" : "false";
      break;
    case json::kind::integer:
      out += std::to_string(j.integer);
      break;
    case json::kind::number:
      out += std::to_string(j.number);
      break;
    case json::kind::string:
      dump_string(out, j.string);
      break;
    case json::kind::array:
      out.push_back('[');
      for (std::size_t i = 0; i < j.items.size(); ++i) {
        if (i > 0) out.push_back(',');
        dump_to(out, j.items[i]);
      }
      out.push_back(']');
      break;
    case json::kind::object:
      out.push_back('{');
      for (std::size_t i = 0; i < j.members.size(); ++i) {
        if (i > 0) out.push_back(',');
        dump_string(out, j.members[i].first);
        out.push_back(':');
        dump_to(out, j.members[i].second);
      }
      out.push_back('}');
      break;
  }
}
}  // namespace

std::string json::dump() const {
  std::string out;
  dump_to(out, *this);
  return out;
}

json body_json(const http_response& r) {
  auto j = json::parse(r.body);
  if (!j) throw std::runtime_error("answer is not JSON: " + r.body);
  return *j;
}

::testing::AssertionResult is_error(const std::optional<http_response>& r, int status, std::string_view code) {
  if (!r) return ::testing::AssertionFailure() << "no answer (connection failed)";
  if (r->status != status) {
    return ::testing::AssertionFailure() << "status " << r->status << ", expected " << status << "; body " << r->body;
  }
  if (r->header("content-type") != "application/json") {
    return ::testing::AssertionFailure() << "Content-Type '" << r->header("content-type") << "'";
  }
  auto j = json::parse(r->body);
  if (!j || !j->is_object()) return ::testing::AssertionFailure() << "body is not a JSON object: " << r->body;
  if (!(*j)["error"].is_string() || (*j)["error"].string.empty()) {
    return ::testing::AssertionFailure() << "no error message: " << r->body;
  }
  if ((*j)["code"].string != code) {
    return ::testing::AssertionFailure() << "code '" << (*j)["code"].string << "', expected '" << code << "'; body "
                                         << r->body;
  }
  return ::testing::AssertionSuccess();
}

std::optional<double> metric_value(std::string_view text, std::string_view series) {
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t eol = text.find('\n', pos);
    if (eol == std::string_view::npos) eol = text.size();
    const std::string_view line = text.substr(pos, eol - pos);
    if (line.size() > series.size() && line.substr(0, series.size()) == series && line[series.size()] == ' ') {
      return std::strtod(std::string(line.substr(series.size() + 1)).c_str(), nullptr);
    }
    pos = eol + 1;
  }
  return std::nullopt;
}

// ---- times and ids ------------------------------------------------------------------------

std::string rfc3339_ms(std::int64_t unix_ms) {
  const std::time_t secs = static_cast<std::time_t>(unix_ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[40];
  const std::size_t n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  char ms[8];
  std::snprintf(ms, sizeof ms, ".%03dZ", static_cast<int>(unix_ms % 1000));
  return std::string(buf, n) + ms;
}

std::int64_t now_unix_ms() {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1'000'000;
}

bool is_rfc3339_ms(std::string_view s) {
  // 2026-05-20T10:00:00.000Z
  constexpr std::string_view shape = "dddd-dd-ddTdd:dd:dd.dddZ";
  if (s.size() != shape.size()) return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (shape[i] == 'd' ? (s[i] < '0' || s[i] > '9') : s[i] != shape[i]) return false;
  }
  return true;
}

bool is_uuid(std::string_view s) {
  if (s.size() != 36) return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash ? s[i] != '-' : !((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f'))) return false;
  }
  return true;
}

}  // namespace warrant::test

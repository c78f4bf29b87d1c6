#include "storage/data_dir.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <stdexcept>

namespace warrant::storage {

data_dir data_dir::open(const std::string& path) {
  std::error_code ec;
  std::filesystem::create_directories(path, ec);
  if (ec) throw std::runtime_error(fmt::format("cannot create data directory '{}': {}", path, ec.message()));
  if (!std::filesystem::is_directory(path, ec)) {
    throw std::runtime_error(fmt::format("data directory '{}' is not a directory", path));
  }
  const std::string lock_path = path + "/LOCK";
  const int fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) {
    throw std::runtime_error(
        fmt::format("data directory '{}' is not writable: {}", path, std::strerror(errno)));
  }
  if (::flock(fd, LOCK_EX | LOCK_NB) < 0) {
    char owner[32] = {};
    [[maybe_unused]] ssize_t n = ::pread(fd, owner, sizeof owner - 1, 0);
    ::close(fd);
    throw std::runtime_error(fmt::format("data directory '{}' is in use by another warrantd (pid {})", path,
                                         std::string(owner).substr(0, std::string(owner).find('\n'))));
  }
  const std::string pid = fmt::format("{}\n", ::getpid());
  if (::ftruncate(fd, 0) < 0 || ::pwrite(fd, pid.data(), pid.size(), 0) != static_cast<ssize_t>(pid.size())) {
    const int err = errno;
    ::close(fd);
    throw std::runtime_error(fmt::format("data directory '{}' is not writable: {}", path, std::strerror(err)));
  }
  data_dir d(path, fd);
  if (!d.writable()) {
    throw std::runtime_error(fmt::format("data directory '{}' is not writable", path));
  }
  return d;
}

data_dir::data_dir(data_dir&& other) noexcept : _path(std::move(other._path)), _lock_fd(other._lock_fd) {
  other._lock_fd = -1;
}

data_dir::~data_dir() {
  if (_lock_fd >= 0) ::close(_lock_fd);
}

bool data_dir::writable() const {
  // Creating a file proves more than access(2) does (read-only mounts, a full inode table).
  const std::string probe = _path + "/.write-probe";
  const int fd = ::open(probe.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return false;
  ::close(fd);
  ::unlink(probe.c_str());
  return true;
}

writability_probe::writability_probe(const data_dir& dir, std::chrono::milliseconds period)
    : _dir(dir), _period(period) {
  _writable.store(_dir.writable(), std::memory_order_relaxed);
  _thread = std::thread([this] { run(); });
}

writability_probe::~writability_probe() {
  {
    std::lock_guard lock(_mutex);
    _stop = true;
  }
  _wake.notify_all();
  _thread.join();
}

void writability_probe::run() {
  std::unique_lock lock(_mutex);
  while (!_wake.wait_for(lock, _period, [this] { return _stop; })) {
    lock.unlock();
    _writable.store(_dir.writable(), std::memory_order_relaxed);
    lock.lock();
  }
}

}  // namespace warrant::storage

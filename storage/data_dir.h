// storage/data_dir.h: the server's data directory, claimed for exclusive use.
//
// Start-up only (main thread). `open` creates the directory if needed, proves it writable,
// and takes an exclusive lock on `<dir>/LOCK` (flock, released by the kernel when the process
// dies, so kill -9 never leaves a stale lock) recording the owner's pid. A second warrantd on
// the same directory is refused with the first one's pid. `writable()` does file I/O; the
// `writability_probe` runs it on its own thread so /readyz (a shard thread) only loads a flag.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>

namespace warrant::storage {

class data_dir {
 public:
  // Throws std::runtime_error with a message for the operator.
  static data_dir open(const std::string& path);

  data_dir(data_dir&& other) noexcept;
  data_dir& operator=(data_dir&&) = delete;
  data_dir(const data_dir&) = delete;
  ~data_dir();

  const std::string& path() const { return _path; }
  bool writable() const;

 private:
  data_dir(std::string path, int lock_fd) : _path(std::move(path)), _lock_fd(lock_fd) {}
  std::string _path;
  int _lock_fd = -1;
};

// Re-checks `dir.writable()` every `period` on a thread of its own; `writable()` is the latest
// answer (true until the first probe says otherwise). Stops and joins on destruction.
class writability_probe {
 public:
  writability_probe(const data_dir& dir, std::chrono::milliseconds period);
  ~writability_probe();
  writability_probe(const writability_probe&) = delete;
  writability_probe& operator=(const writability_probe&) = delete;

  bool writable() const { return _writable.load(std::memory_order_relaxed); }

 private:
  void run();

  const data_dir& _dir;
  const std::chrono::milliseconds _period;
  std::atomic<bool> _writable{true};
  std::mutex _mutex;
  std::condition_variable _wake;
  bool _stop = false;
  std::thread _thread;
};

}  // namespace warrant::storage

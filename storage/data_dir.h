// storage/data_dir.h: the server's data directory, claimed for exclusive use.
//
// Start-up only (main thread). `open` creates the directory if needed, proves it writable,
// and takes an exclusive lock on `<dir>/LOCK` (flock, released by the kernel when the process
// dies, so kill -9 never leaves a stale lock) recording the owner's pid. A second warrantd on
// the same directory is refused with the first one's pid. `writable()` is the cheap probe
// behind /readyz.
#pragma once

#include <string>

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

}  // namespace warrant::storage

// tests/storage/temp_dir.h: a fresh directory under /tmp for one test, removed afterwards.
#pragma once

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <string>

namespace warrant::storage::testing {

class temp_dir {
 public:
  temp_dir() {
    std::string pattern = "/tmp/warrant-storage-test-XXXXXX";
    if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    _path = pattern;
  }
  ~temp_dir() {
    std::error_code ec;
    std::filesystem::remove_all(_path, ec);
  }
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;

  const std::string& path() const { return _path; }
  std::string sub(const std::string& name) const { return _path + "/" + name; }

 private:
  std::string _path;
};

}  // namespace warrant::storage::testing

// tests/storage/data_dir_test.cc: claiming the data directory (LOCK file, one owner).
#include "storage/data_dir.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "tests/storage/temp_dir.h"

namespace warrant::storage {
namespace {

using testing::temp_dir;

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST(DataDir, CreatesTheDirectoryAndRecordsTheOwner) {
  temp_dir dir;
  const std::string path = dir.sub("a/b");
  data_dir d = data_dir::open(path);
  EXPECT_EQ(d.path(), path);
  EXPECT_TRUE(std::filesystem::is_directory(path));
  EXPECT_EQ(read_file(path + "/LOCK"), std::to_string(::getpid()) + "\n");
  EXPECT_TRUE(d.writable());
  EXPECT_FALSE(std::filesystem::exists(path + "/.write-probe"));
}

TEST(DataDir, SecondClaimIsRefusedWithTheOwnersPid) {
  temp_dir dir;
  data_dir first = data_dir::open(dir.path());
  try {
    data_dir::open(dir.path());
    FAIL() << "a second claim succeeded";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("pid " + std::to_string(::getpid())), std::string::npos) << e.what();
  }
  // The refused claim did not disturb the owner's record.
  EXPECT_EQ(read_file(dir.sub("LOCK")), std::to_string(::getpid()) + "\n");
}

TEST(DataDir, ReleasedOnDestructionAndMove) {
  temp_dir dir;
  {
    data_dir first = data_dir::open(dir.path());
    data_dir moved(std::move(first));  // the lock travels with the move
    EXPECT_THROW(data_dir::open(dir.path()), std::runtime_error);
  }
  EXPECT_NO_THROW(data_dir::open(dir.path()));
}

TEST(DataDir, AFileIsNotADataDirectory) {
  temp_dir dir;
  const std::string file = dir.sub("file");
  std::ofstream(file) << "x";
  EXPECT_THROW(data_dir::open(file), std::runtime_error);
}

TEST(DataDir, ProbeFollowsTheDirectoryOffThread) {
  temp_dir dir;
  const std::string path = dir.sub("probed");
  data_dir d = data_dir::open(path);
  writability_probe probe(d, std::chrono::milliseconds(5));
  EXPECT_TRUE(probe.writable());
  // Removing the directory makes the probe's file creation fail; the flag follows.
  std::filesystem::remove_all(path);
  for (int i = 0; i < 2000 && probe.writable(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  EXPECT_FALSE(probe.writable());
  std::filesystem::create_directories(path);
  for (int i = 0; i < 2000 && !probe.writable(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  EXPECT_TRUE(probe.writable());
}

}  // namespace
}  // namespace warrant::storage

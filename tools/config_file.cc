#include "tools/config_file.h"

#include <fmt/format.h>

#include <cstdlib>
#include <fstream>
#include <stdexcept>

namespace warrant::tools {
namespace {

std::string trim(const std::string& s) {
  const std::size_t b = s.find_first_not_of(" \t\r");
  if (b == std::string::npos) return {};
  const std::size_t e = s.find_last_not_of(" \t\r");
  return s.substr(b, e - b + 1);
}

std::string find_config_path(int argc, char** argv, const std::string& env_prefix) {
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--config" && i + 1 < argc) return argv[i + 1];
    if (arg.rfind("--config=", 0) == 0) return arg.substr(9);
  }
  const char* env = std::getenv((env_prefix + "CONFIG").c_str());
  return env != nullptr ? env : "";
}

}  // namespace

void apply_config_file_as_env(int argc, char** argv, const std::string& env_prefix, const CLI::App& app) {
  const std::string path = find_config_path(argc, argv, env_prefix);
  if (path.empty()) return;
  std::ifstream in(path);
  if (!in) throw std::runtime_error(fmt::format("cannot read config file '{}'", path));
  std::string line;
  for (int number = 1; std::getline(in, line); ++number) {
    if (const std::size_t hash = line.find('#'); hash != std::string::npos) line.resize(hash);
    line = trim(line);
    if (line.empty()) continue;
    const std::size_t eq = line.find('=');
    if (eq == std::string::npos) {
      throw std::runtime_error(fmt::format("{}:{}: expected 'key = value'", path, number));
    }
    const std::string key = trim(line.substr(0, eq));
    std::string value = trim(line.substr(eq + 1));
    if (value.size() >= 2 && value.front() == '"' && value.back() == '"') value = value.substr(1, value.size() - 2);
    const CLI::Option* opt = app.get_option_no_throw("--" + key);
    if (opt == nullptr || key == "config") {
      throw std::runtime_error(fmt::format("{}:{}: unknown setting '{}'", path, number, key));
    }
    std::string env = env_prefix;
    for (char c : key) env.push_back(c == '-' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
    setenv(env.c_str(), value.c_str(), 0);
  }
}

}  // namespace warrant::tools

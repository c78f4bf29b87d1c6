#include "tools/ctl_common.h"

#include <fmt/format.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>

#include "engine/app.h"
#include "tools/ctl_json.h"

namespace warrant::tools {
namespace {

std::string env_or(const char* name, const char* fallback) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? std::string(v) : std::string(fallback);
}

}  // namespace

std::string resolve_url(const ctl_options& o) { return o.url.empty() ? env_or("WARRANT_URL", default_url) : o.url; }

std::string resolve_data_dir(const ctl_options& o) {
  return o.data_dir.empty() ? env_or("WARRANT_DATA_DIR", default_data_dir) : o.data_dir;
}

std::string resolve_key(const ctl_options& o) {
  if (!o.key.empty()) return o.key;
  if (std::string env = env_or("WARRANT_KEY", ""); !env.empty()) return env;
  const std::string path = resolve_data_dir(o) + "/" + std::string(engine::bootstrap_key_file);
  std::ifstream in(path);
  std::string line;
  if (in && std::getline(in, line)) {
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ' || line.back() == '\t')) line.pop_back();
    if (!line.empty()) return line;
  }
  throw ctl_error(exit_usage, fmt::format("no API key: pass --key, set WARRANT_KEY, or point --data-dir at the server's "
                                          "data directory (cannot read {})",
                                          path));
}

void print_json(const std::string& text, bool pretty, bool to_stderr) {
  std::FILE* out = to_stderr ? stderr : stdout;
  const std::string shown = pretty ? pretty_json(text) : text;
  std::fwrite(shown.data(), 1, shown.size(), out);
  std::fputc('\n', out);
  std::fflush(out);
}

}  // namespace warrant::tools

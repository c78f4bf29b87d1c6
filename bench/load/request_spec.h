// bench/load/request_spec.h: the requests a run sends, as the user wrote them.
//
// What it is for: reading `--template FILE` (format in bench/README.md: blocks separated by a
// line `---`; `METHOD PATH`, header lines, a blank line, an optional body; a `weight: N`
// pseudo-header) and the simple `--method/--header/--body` options into one shape,
// `request_spec`, before placeholders are compiled (request_renderer.h).
//
// Runs at start-up on the main thread; errors are thrown as std::runtime_error with the file
// and line they come from.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace warrant::bench {

struct request_header {
  std::string name;
  std::string value;
};

struct request_spec {
  std::string method = "GET";
  std::string path = "/";
  std::vector<request_header> headers;
  std::string body;
  std::uint32_t weight = 1;
};

inline constexpr std::uint32_t template_weight_max = 1'000'000;
inline constexpr std::size_t templates_max = 10'000;

// Parses the text of a template file; `source` names it in error messages.
std::vector<request_spec> parse_templates(std::string_view text, std::string_view source);
std::vector<request_spec> load_template_file(const std::string& path);

// "Name: value" as given to --header.
request_header parse_header_option(std::string_view text);

bool iequals_ascii(std::string_view a, std::string_view b);

}  // namespace warrant::bench

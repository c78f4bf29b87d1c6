// bench/load/request_spec.cc: template file syntax (blocks, request line, headers, body).
#include "bench/load/request_spec.h"

#include <algorithm>
#include <charconv>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include <fmt/format.h>

namespace warrant::bench {

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

// One line of a file and its 1-based number.
struct text_line {
  std::string_view text;
  std::size_t number = 0;
};

std::vector<text_line> split_lines(std::string_view text) {
  std::vector<text_line> lines;
  std::size_t number = 1;
  while (!text.empty()) {
    const std::size_t eol = text.find('\n');
    std::string_view line = text.substr(0, eol);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    lines.push_back({line, number++});
    if (eol == std::string_view::npos) break;
    text.remove_prefix(eol + 1);
  }
  return lines;
}

[[noreturn]] void fail(std::string_view source, std::size_t line, std::string_view what) {
  throw std::runtime_error(fmt::format("{}:{}: {}", source, line, what));
}

bool is_token(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return c > ' ' && c < 127 && c != ':' && c != '(' && c != ')' && c != ',' && c != '"';
  });
}

void parse_request_line(const text_line& line, std::string_view source, request_spec& spec) {
  const std::string_view text = trim(line.text);
  const std::size_t space = text.find(' ');
  if (space == std::string_view::npos) fail(source, line.number, "expected `METHOD PATH`");
  const std::string_view method = text.substr(0, space);
  std::string_view path = trim(text.substr(space + 1));
  const std::size_t version = path.find(' ');
  if (version != std::string_view::npos) {
    if (trim(path.substr(version)) != "HTTP/1.1") fail(source, line.number, "only HTTP/1.1 is sent");
    path = path.substr(0, version);
  }
  if (!is_token(method)) fail(source, line.number, "bad method");
  if (path.empty() || (path.front() != '/' && path != "*")) fail(source, line.number, "path must start with '/'");
  spec.method = method;
  spec.path = path;
}

std::uint32_t parse_weight(std::string_view value, std::string_view source, std::size_t line) {
  std::uint32_t weight = 0;
  const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), weight);
  if (ec != std::errc{} || end != value.data() + value.size() || weight == 0 || weight > template_weight_max) {
    fail(source, line, fmt::format("weight must be 1..{}", template_weight_max));
  }
  return weight;
}

// Lines [first, last) of one block; blank lines and `#` comments before the request line.
request_spec parse_block(const std::vector<text_line>& lines, std::size_t first, std::size_t last,
                         std::string_view source) {
  request_spec spec;
  std::size_t i = first;
  while (i < last && (trim(lines[i].text).empty() || lines[i].text.starts_with('#'))) ++i;
  parse_request_line(lines[i], source, spec);
  for (++i; i < last && !lines[i].text.empty(); ++i) {
    const std::size_t colon = lines[i].text.find(':');
    if (colon == std::string_view::npos) fail(source, lines[i].number, "expected `Name: value`");
    const std::string_view name = trim(lines[i].text.substr(0, colon));
    const std::string_view value = trim(lines[i].text.substr(colon + 1));
    if (!is_token(name)) fail(source, lines[i].number, "bad header name");
    if (iequals_ascii(name, "weight")) {
      spec.weight = parse_weight(value, source, lines[i].number);
    } else if (!iequals_ascii(name, "content-length")) {  // recomputed per request
      spec.headers.push_back({std::string(name), std::string(value)});
    }
  }
  // The body is every line after the blank one, joined by '\n', without a final line break
  // (trailing blank lines, such as one before the `---`, are dropped).
  std::size_t body_end = last;
  while (body_end > i + 1 && lines[body_end - 1].text.empty()) --body_end;
  for (std::size_t b = i + 1; b < body_end; ++b) {
    if (b > i + 1) spec.body += '\n';
    spec.body += lines[b].text;
  }
  return spec;
}

bool block_is_empty(const std::vector<text_line>& lines, std::size_t first, std::size_t last) {
  return std::all_of(lines.begin() + static_cast<std::ptrdiff_t>(first), lines.begin() + static_cast<std::ptrdiff_t>(last),
                     [](const text_line& l) { return trim(l.text).empty() || l.text.starts_with('#'); });
}

}  // namespace

bool iequals_ascii(std::string_view a, std::string_view b) {
  const auto lower = [](char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; };
  return a.size() == b.size() &&
         std::equal(a.begin(), a.end(), b.begin(), [&](char x, char y) { return lower(x) == lower(y); });
}

std::vector<request_spec> parse_templates(std::string_view text, std::string_view source) {
  const std::vector<text_line> lines = split_lines(text);
  std::vector<request_spec> specs;
  std::size_t first = 0;
  for (std::size_t i = 0; i <= lines.size(); ++i) {
    if (i < lines.size() && lines[i].text != "---") continue;
    if (!block_is_empty(lines, first, i)) {
      if (specs.size() == templates_max) fail(source, lines[first].number, "too many templates");
      specs.push_back(parse_block(lines, first, i, source));
    }
    first = i + 1;
  }
  if (specs.empty()) throw std::runtime_error(fmt::format("{}: no request in template file", source));
  return specs;
}

std::vector<request_spec> load_template_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error(fmt::format("cannot read template file {}", path));
  std::ostringstream text;
  text << in.rdbuf();
  return parse_templates(text.str(), path);
}

request_header parse_header_option(std::string_view text) {
  const std::size_t colon = text.find(':');
  if (colon == std::string_view::npos || !is_token(trim(text.substr(0, colon)))) {
    throw std::runtime_error(fmt::format("--header expects `Name: value`, got `{}`", text));
  }
  return {std::string(trim(text.substr(0, colon))), std::string(trim(text.substr(colon + 1)))};
}

}  // namespace warrant::bench

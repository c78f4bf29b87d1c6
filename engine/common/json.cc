#include "engine/common/json.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>

namespace warrant::engine {

namespace json_detail {

simdjson::ondemand::parser& thread_parser() {
  thread_local simdjson::ondemand::parser parser = [] {
    simdjson::ondemand::parser p;
    if (p.allocate(64 * 1024, json_depth_max) != simdjson::SUCCESS) std::abort();  // out of memory at start
    return p;
  }();
  return parser;
}

simdjson::padded_string_view padded(std::string_view body) {
  thread_local std::string buffer;
  if (buffer.size() < body.size() + simdjson::SIMDJSON_PADDING) buffer.resize(body.size() + simdjson::SIMDJSON_PADDING);
  std::copy(body.begin(), body.end(), buffer.begin());
  std::fill_n(buffer.begin() + static_cast<std::ptrdiff_t>(body.size()), simdjson::SIMDJSON_PADDING, '\0');
  return simdjson::padded_string_view(buffer.data(), body.size(), buffer.size());
}

void malformed(json_error& err, std::string_view body, const char* where, simdjson::error_code code) {
  std::size_t offset = body.size();
  if (where != nullptr && where >= body.data() && where <= body.data() + body.size()) {
    offset = static_cast<std::size_t>(where - body.data());
  }
  if (code == simdjson::DEPTH_ERROR) {
    err = {400, "INVALID_JSON", fmt::format("JSON nested deeper than {} levels", json_depth_max), ""};
    return;
  }
  if (body.empty()) {
    err = {400, "INVALID_JSON", "the request body is empty; a JSON object is required", ""};
    return;
  }
  err = {400, "INVALID_JSON", fmt::format("malformed JSON at byte {}: {}", offset, simdjson::error_message(code)),
         "send one JSON object, UTF-8 encoded"};
}

void not_an_object(json_error& err, std::string_view body) {
  std::size_t at = 0;
  while (at < body.size() && (body[at] == ' ' || body[at] == '\t' || body[at] == '\n' || body[at] == '\r')) ++at;
  err = {400, "INVALID_JSON", fmt::format("the request body must be a JSON object; the value at byte {} is not one", at),
         "send one JSON object, UTF-8 encoded"};
}

}  // namespace json_detail

void answer_json_error(const json_error& e, net::http_response& res) {
  res.set_error(e.status, e.code, e.message, e.hint);
}

bool require_json_content_type(const net::http_request& req, net::http_response& res) {
  std::string_view type = req.header("content-type");
  const std::size_t semi = type.find(';');
  type = type.substr(0, semi);
  while (!type.empty() && type.back() == ' ') type.remove_suffix(1);
  constexpr std::string_view json_type = "application/json";
  // ASCII case folding by hand: std::tolower is a locale call per byte, ~1 % of an evaluate.
  const bool is_json = type == json_type ||
                       (type.size() == json_type.size() &&
                        std::equal(type.begin(), type.end(), json_type.begin(), [](char a, char b) {
                          return (a >= 'A' && a <= 'Z' ? static_cast<char>(a + ('a' - 'A')) : a) == b;
                        }));
  if (is_json) return true;
  res.set_error(415, "UNSUPPORTED_MEDIA_TYPE", "the request body must be application/json",
                "send Content-Type: application/json");
  return false;
}

bool get_string(simdjson::ondemand::value& v, std::string_view field, std::size_t bytes_max, std::string& out,
                json_error& err) {
  std::string_view s;
  if (v.get_string().get(s)) {
    err = {400, "VALIDATION_ERROR", fmt::format("field '{}' must be a string", field), ""};
    return false;
  }
  if (s.size() > bytes_max) {
    err = {400, "VALIDATION_ERROR", fmt::format("field '{}' is longer than {} bytes", field, bytes_max), ""};
    return false;
  }
  out.assign(s);
  return true;
}

bool get_uint(simdjson::ondemand::value& v, std::string_view field, std::uint64_t min, std::uint64_t max,
              std::uint64_t& out, json_error& err) {
  std::uint64_t n = 0;
  if (v.get_uint64().get(n) || n < min || n > max) {
    err = {400, "VALIDATION_ERROR", fmt::format("field '{}' must be an integer from {} to {}", field, min, max), ""};
    return false;
  }
  out = n;
  return true;
}

bool get_string_array(simdjson::ondemand::value& v, std::string_view field, std::size_t items_max,
                      std::size_t bytes_max, std::vector<std::string>& out, json_error& err) {
  simdjson::ondemand::array arr;
  if (v.get_array().get(arr)) {
    err = {400, "VALIDATION_ERROR", fmt::format("field '{}' must be an array of strings", field), ""};
    return false;
  }
  out.clear();
  for (auto item : arr) {
    std::string_view s;
    if (item.get_string().get(s)) {
      err = {400, "VALIDATION_ERROR", fmt::format("field '{}' must be an array of strings", field), ""};
      return false;
    }
    if (out.size() == items_max || s.size() > bytes_max) {
      err = {400, "VALIDATION_ERROR", fmt::format("field '{}' has too many or too long items", field), ""};
      return false;
    }
    out.emplace_back(s);
  }
  return true;
}

bool unknown_field(std::string_view field, json_error& err) {
  err = {400, "VALIDATION_ERROR", fmt::format("unknown field '{}'", field), "remove the field"};
  return false;
}

bool missing_field(std::string_view field, json_error& err) {
  err = {400, "VALIDATION_ERROR", fmt::format("missing required field '{}'", field), ""};
  return false;
}

}  // namespace warrant::engine

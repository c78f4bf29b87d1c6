#include "engine/evidence/bulk_request.h"

#include <fmt/format.h>

namespace warrant::engine::evidence {
namespace {

using simdjson::ondemand::json_type;

constexpr std::string_view bulk_hint = R"(send {"evaluations":[{"actor":{"id":...},"action":...}, ...]})";

bool validation(json_error& err, std::string message) {
  err = {400, "VALIDATION_ERROR", std::move(message), std::string(bulk_hint)};
  return false;
}

bool malformed_item(json_error& err, std::size_t index, std::string_view detail) {
  err = {400, "INVALID_JSON", fmt::format("malformed JSON in evaluations[{}]: {}", index, detail),
         "send one JSON object, UTF-8 encoded"};
  return false;
}

bool read_items(simdjson::ondemand::value& value, const policy& p, std::size_t items_max,
                std::vector<bulk_item>& items, json_error& err) {
  simdjson::ondemand::array array;
  if (value.get_array().get(array) != simdjson::SUCCESS) return validation(err, "evaluations must be an array");
  std::size_t count = 0;
  if (auto e = array.count_elements().get(count); e) return malformed_item(err, 0, simdjson::error_message(e));
  if (count == 0) return validation(err, fmt::format("evaluations must hold 1 to {} items", items_max));
  if (count > items_max) {
    err = {400, "BULK_LIMIT_EXCEEDED",
           fmt::format("a bulk request takes at most {} evaluations; this one has {}", items_max, count),
           fmt::format("split the evaluations into requests of at most {}", items_max)};
    return false;
  }
  items.resize(count);
  std::size_t i = 0;
  for (auto element : array) {
    if (i == count) return malformed_item(err, i, "more items than counted");
    bulk_item& item = items[i];
    item.ok = false;
    simdjson::ondemand::value v;
    if (auto e = element.get(v); e) return malformed_item(err, i, simdjson::error_message(e));
    json_type type{};
    if (auto e = v.type().get(type); e) return malformed_item(err, i, simdjson::error_message(e));
    if (type != json_type::object) {
      item.error = {400, "VALIDATION_ERROR", fmt::format("evaluations[{}] must be an object", i), std::string(bulk_hint)};
      ++i;
      continue;
    }
    simdjson::ondemand::object obj;
    if (auto e = v.get_object().get(obj); e) return malformed_item(err, i, simdjson::error_message(e));
    if (parse_evaluate_object(obj, p, item.request, item.error)) {
      item.ok = true;
    } else if (item.error.code == "INVALID_JSON") {
      return malformed_item(err, i, item.error.message);
    }
    ++i;
  }
  if (i != count) return malformed_item(err, i, "fewer items than counted");
  return true;
}

}  // namespace

bool parse_bulk_request(std::string_view body, const policy& p, std::size_t items_max, std::vector<bulk_item>& items,
                        json_error& err) {
  items.clear();
  bool seen = false;
  bool ok = true;
  const bool parsed = for_each_member(body, err, [&](std::string_view key, simdjson::ondemand::value& value) {
    if (key != "evaluations") {
      err = {400, "UNKNOWN_FIELD", fmt::format("unknown field '{}'", utf8_clip(key)), "the body takes only evaluations"};
      ok = false;
      return false;
    }
    if (seen) {
      ok = validation(err, "field 'evaluations' is given twice");
      return false;
    }
    seen = true;
    bool is_null = false;
    if (value.is_null().get(is_null) == simdjson::SUCCESS && is_null) return true;  // missing, below
    ok = read_items(value, p, items_max, items, err);
    return ok;
  });
  if (!parsed) {
    items.clear();
    return false;
  }
  if (items.empty()) {
    validation(err, "Missing required field: evaluations");
    return false;
  }
  return true;
}

}  // namespace warrant::engine::evidence

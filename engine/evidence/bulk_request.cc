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

// Reads item `i` into `item`. False only for malformed JSON (`err` says where): the items
// after it cannot be found, so the whole body fails. A refused item is `item.error`.
bool read_item(simdjson::simdjson_result<simdjson::ondemand::value> element, const policy& p, std::size_t i,
               bulk_item& item, json_error& err) {
  item.ok = false;
  simdjson::ondemand::value v;
  if (auto e = element.get(v); e) return malformed_item(err, i, simdjson::error_message(e));
  json_type type{};
  if (auto e = v.type().get(type); e) return malformed_item(err, i, simdjson::error_message(e));
  if (type != json_type::object) {
    item.error = {400, "VALIDATION_ERROR", fmt::format("evaluations[{}] must be an object", i), std::string(bulk_hint)};
    return true;
  }
  simdjson::ondemand::object obj;
  if (auto e = v.get_object().get(obj); e) return malformed_item(err, i, simdjson::error_message(e));
  if (parse_evaluate_object(obj, p, item.request, item.error)) {
    item.ok = true;
  } else if (item.error.code == "INVALID_JSON") {
    return malformed_item(err, i, item.error.message);
  }
  return true;
}

// The reading the rules describe: the items are counted first (0 or more than `items_max` is
// refused before any item is read), then read.
bool read_items_counted(simdjson::ondemand::array& array, const policy& p, std::size_t items_max,
                        std::vector<bulk_item>& items, json_error& err) {
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
    if (!read_item(element, p, i, items[i], err)) return false;
    ++i;
  }
  if (i != count) return malformed_item(err, i, "fewer items than counted");
  return true;
}

// The fast reading of a body that turns out well: items read as the array is walked (no
// counting pass), into the caller's items as they are (no clearing: every field an item's
// reading sets is reset by it). False whenever it cannot be sure of giving what the counted
// reading gives (any error, no item, more than `items_max`); the caller then reads again,
// counted. A walk that completed validly would have counted the same items.
bool read_items_as_walked(simdjson::ondemand::array& array, const policy& p, std::size_t items_max,
                          std::vector<bulk_item>& items, json_error& err) {
  std::size_t i = 0;
  for (auto element : array) {
    if (i == items_max) return false;
    if (i == items.size()) items.emplace_back();
    if (!read_item(element, p, i, items[i], err)) return false;
    ++i;
  }
  if (i == 0) return false;
  items.resize(i);
  return true;
}

enum class reading { counted, as_walked };

bool read_items(simdjson::ondemand::value& value, const policy& p, std::size_t items_max, reading how,
                std::vector<bulk_item>& items, json_error& err) {
  simdjson::ondemand::array array;
  if (value.get_array().get(array) != simdjson::SUCCESS) return validation(err, "evaluations must be an array");
  if (how == reading::counted) return read_items_counted(array, p, items_max, items, err);
  return read_items_as_walked(array, p, items_max, items, err);
}

// One reading of the whole body; false with `err` set (in the counted reading, the answer).
bool parse_body(std::string_view body, const policy& p, std::size_t items_max, reading how,
                std::vector<bulk_item>& items, json_error& err) {
  if (how == reading::counted) items.clear();
  bool seen = false;
  bool have_items = false;
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
    ok = read_items(value, p, items_max, how, items, err);
    have_items = ok;
    return ok;
  });
  if (!parsed) return false;
  if (!have_items) {
    validation(err, "Missing required field: evaluations");
    return false;
  }
  return true;
}

}  // namespace

bool parse_bulk_request(std::string_view body, const policy& p, std::size_t items_max, std::vector<bulk_item>& items,
                        json_error& err) {
  // Nearly every body is well formed: read it once, as walked. Anything else is read again,
  // counted first, so that its answer is the one the rules (bulk_request.h) describe.
  if (parse_body(body, p, items_max, reading::as_walked, items, err)) return true;
  if (parse_body(body, p, items_max, reading::counted, items, err)) return true;
  items.clear();
  return false;
}

}  // namespace warrant::engine::evidence

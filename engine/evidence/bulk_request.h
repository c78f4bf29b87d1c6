// engine/evidence/bulk_request.h: the body of `POST /v1/policy/evaluate/bulk`.
//
//   {"evaluations": [ <evaluate request>, ... ]}     1..items_max items
//
// Rules (docs/api-evidence.md, "Bulk evaluation"):
//   - the body is one JSON object whose only member is "evaluations", an array (unknown member:
//     400 UNKNOWN_FIELD; missing, null or not an array: 400 VALIDATION_ERROR; given twice: 400);
//   - 0 items: 400 VALIDATION_ERROR; more than `items_max`: 400 BULK_LIMIT_EXCEEDED (counted
//     before any item is read);
//   - each item is read as evaluate_request.h reads a single body (parse_evaluate_object). An
//     item that is refused (missing actor id, unknown action, wrong types, not an object)
//     becomes that item's error and the others are still evaluated: one bad item never fails
//     the batch. Malformed JSON anywhere is a 400 INVALID_JSON for the whole body, since the
//     items after it cannot be found.
//
// Items' views (actor ids, context strings) point into this thread's simdjson parser, valid
// until the thread parses another body. `items` is the caller's, reused across requests: no
// allocation once it has grown, except for item errors. Any thread.
#pragma once

#include <cstddef>
#include <string_view>
#include <vector>

#include "engine/common/json.h"
#include "engine/evidence/evaluate_request.h"
#include "engine/evidence/policy.h"

namespace warrant::engine::evidence {

struct bulk_item {
  bool ok = false;
  evaluate_request request;  // when ok
  json_error error;          // when !ok
};

// Fills `items` (resized to the item count) or `err` (the whole request's 400).
bool parse_bulk_request(std::string_view body, const policy& p, std::size_t items_max, std::vector<bulk_item>& items,
                        json_error& err);

}  // namespace warrant::engine::evidence

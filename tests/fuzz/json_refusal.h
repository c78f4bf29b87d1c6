// tests/fuzz/json_refusal.h: the property every refused request body must have, shared by the
// fuzz targets of the JSON request parsers: a 4xx with a code and a message, and the message,
// which may quote part of the input, still makes valid JSON once written into the answer.
#pragma once

#include <simdjson.h>

#include <string>

#include "engine/common/json.h"
#include "net/http_response.h"
#include "tests/fuzz/fuzz_check.h"

inline void check_json_refusal(const warrant::engine::json_error& err) {
  FUZZ_CHECK(err.status >= 400 && err.status < 500);
  FUZZ_CHECK(!err.code.empty());
  FUZZ_CHECK(!err.message.empty());
  warrant::net::byte_buffer body;
  warrant::net::append_json_string(body, err.message);
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  FUZZ_CHECK(parser.parse(std::string(body.view())).get(doc) == simdjson::SUCCESS);
}

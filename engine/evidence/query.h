// engine/evidence/query.h: reading list parameters of the evidence routes (limit, cursor,
// filters) from a request's query string and path, percent-decoded.
//
// Pure functions, any thread.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "net/http_response.h"

namespace warrant::engine::evidence {

// spec/common.md "Limits": list `limit` 500. Default page: 50.
inline constexpr std::size_t list_limit_default = 50;
inline constexpr std::size_t list_limit_max = 500;
// A list request reads at most this many records of its range; when filters match little,
// the page ends early with a nextCursor to continue from (docs/api-evidence.md "Paging").
inline constexpr std::size_t list_scan_records_max = 10'000;

// Whether parameter `name` is present, and its raw (still percent-encoded) value.
bool query_param(std::string_view query, std::string_view name, std::string_view& raw);
// Percent-decodes `raw` ('+' is a space in a query). False on a bad escape.
bool percent_decode(std::string_view raw, bool plus_is_space, std::string& out);
// Present and decoded; false with a 400 VALIDATION_ERROR on `res` when the escape is bad.
bool decoded_param(std::string_view query, std::string_view name, std::string& out, bool& present,
                   net::http_response& res);
// `limit`: 1..500, default 50; false with 400 VALIDATION_ERROR on `res` otherwise.
bool parse_limit(std::string_view query, std::size_t& limit, net::http_response& res);
// An RFC 3339 time parameter: `out` untouched when absent; false with 400 VALIDATION_ERROR on
// `res` when present and not a time.
bool parse_time_param(std::string_view query, std::string_view name, std::int64_t& out, net::http_response& res);
// Where a newest-first page of `owner`'s range starts (list_page.h): its beginning, or just
// after `cursor`. False with 400 VALIDATION_ERROR on `res` for a cursor that is not one.
bool parse_page_start(std::string_view query, std::string_view owner, std::string& from, net::http_response& res);

}  // namespace warrant::engine::evidence

// engine/guard/raw_head.h: the API key a request presents, read from the raw bytes of its head
// before the request is parsed (engine/guard/guard.h, "Warming").
//
// The same choice as presented_key (auth.h) makes on a parsed request: the first `x-api-key`
// header when it is not empty, else the first `Authorization` header when its scheme is
// `Bearer`; header names and the scheme case-insensitive, optional whitespace trimmed. Only
// whole lines are read (a line cut short by the end of the bytes is not), from the line after
// the first line break (the request line) up to the blank line that ends the head, so bytes
// that begin in the middle of a request are read from their first whole line.
//
// A hint only: the guard uses what it returns only when the parsed request presents the same
// text. Any thread; no allocation; the answer is a view into `bytes`. Fuzzed with the HTTP
// parser (tests/fuzz/raw_head_fuzz.cc): on every head the parser accepts, both agree.
#pragma once

#include <string_view>

namespace warrant::engine {

std::string_view presented_key_in_head(std::string_view bytes);

// The token of an `Authorization` header value (optional whitespace already trimmed at both
// ends) whose scheme is `Bearer` (case-insensitive, RFC 9110 §11.1), or empty. The one rule
// both presented_key (auth.h, on a parsed request) and presented_key_in_head use.
std::string_view bearer_token(std::string_view authorization);

}  // namespace warrant::engine

// engine/idempotency/canonical_json.h: one canonical text for every spelling of a JSON value.
//
// What it is for: the request fingerprint of an idempotent write (fingerprint.h) hashes the
// canonical form of the body, so that a retry whose JSON is spelled differently — members in
// another order, other whitespace, `1.0` for `1`, `\u0041` for `A` — is recognised as the
// same request, and a retry that differs in any value is not.
//
// The canonical form (close to RFC 8785, JCS, but exact for every number):
//   - no insignificant whitespace;
//   - object members sorted by their unescaped names, compared as unsigned bytes (UTF-8);
//     a duplicate name is an error (the value it would mean is ambiguous);
//   - array items in their order;
//   - strings unescaped and re-escaped minimally: `\"`, `\\`, `\b \f \n \r \t`, other control
//     characters as `\u00xx` (lower-case hex); every other character literally, as UTF-8;
//   - numbers as exact decimals, never through a double: sign, significant digits and exponent
//     are normalised (`-0` and `0.0` are `0`, `1.50` is `1.5`, `1e2` is `100`) and written
//     with ECMAScript's Number-to-string layout (integers up to 21 digits in full, `1e+21`,
//     `0.000001`, `1e-7`), so numbers a double holds exactly come out as JCS would write them,
//     and larger or longer ones stay distinct instead of being rounded together;
//   - `true`, `false`, `null` as they are.
// Input must be one JSON value (any type), UTF-8, nested at most `canonical_depth_max` deep,
// with nothing after it but whitespace. Parsing uses simdjson's on-demand API (error codes).
//
// Threading: any thread; each thread reuses its own parser and scratch buffers, so the steady
// state allocates only when `out` must grow.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace warrant::engine::idempotency {

inline constexpr std::size_t canonical_depth_max = 64;  // spec/common.md "Limits": JSON nesting

enum class canonical_errc : unsigned char {
  ok,
  malformed,       // not JSON (or not UTF-8)
  too_deep,        // nested deeper than canonical_depth_max
  duplicate_name,  // an object names a member twice
  bad_number,      // a number outside the JSON grammar, or beyond 10^±(10^15)
  trailing,        // something after the value
};

struct canonical_result {
  canonical_errc error = canonical_errc::ok;
  std::size_t offset = 0;  // where it broke (best effort: the value being read), for the 400
  bool ok() const { return error == canonical_errc::ok; }
};

std::string_view canonical_errc_message(canonical_errc e);

// Replaces `out` with the canonical form of `json`. On error `out` holds garbage.
canonical_result canonicalize(std::string_view json, std::string& out);

// The number grammar and normalisation alone (exposed for tests): appends the canonical form
// of the JSON number `token` to `out`; false when `token` is not a JSON number.
bool canonical_number(std::string_view token, std::string& out);

}  // namespace warrant::engine::idempotency

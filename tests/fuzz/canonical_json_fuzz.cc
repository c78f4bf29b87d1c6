// tests/fuzz/canonical_json_fuzz.cc: libFuzzer target for engine/idempotency/canonical_json.*
// — the canonicaliser behind idempotency fingerprints. Arbitrary bytes as a JSON body, and as a
// number token. Checks: no crash or sanitizer report; an accepted input's canonical form is a
// fixed point (canonicalising it again gives the same bytes, so the fingerprint of a body and
// of its canonical form agree); an accepted number is canonical JSON on its own.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "engine/idempotency/canonical_json.h"
#include "tests/fuzz/fuzz_check.h"

namespace {

using warrant::engine::idempotency::canonical_number;
using warrant::engine::idempotency::canonicalize;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  std::string once;
  const auto r = canonicalize(input, once);
  FUZZ_CHECK(r.offset <= size);
  if (r.ok()) {
    FUZZ_CHECK(!once.empty());
    std::string twice;
    FUZZ_CHECK(canonicalize(once, twice).ok());
    FUZZ_CHECK(twice == once);
  }
  std::string number;
  if (canonical_number(input, number)) {
    std::string again;
    FUZZ_CHECK(canonicalize(number, again).ok());
    FUZZ_CHECK(again == number);
  }
  return 0;
}

// tests/fuzz/bulk_request_fuzz.cc: libFuzzer target for the POST /v1/policy/evaluate/bulk body
// parser (engine/evidence/bulk_request.*), against the default policy plus an action with
// context rules.
//
// A refused body must be a 400 with a message and an error JSON that parses; an accepted one
// must hold 1..cap items, each either a known action with an actor id of 1..255 bytes, or an
// error of status 400 whose JSON parses; decided items must serialize to parseable JSON.
#include <simdjson.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "engine/evidence/bulk_request.h"
#include "engine/evidence/decision.h"
#include "engine/evidence/evaluate_response.h"
#include "engine/evidence/policy_load.h"
#include "tests/fuzz/fuzz_check.h"

namespace {

using namespace warrant::engine::evidence;
using warrant::engine::json_error;

const policy& fuzz_policy() {
  static const std::shared_ptr<const policy> p = [] {
    const policy_load_result r = load_policy(R"(version: bulk-1
tiers:
  tier1: {count: 10, ageDays: 14}
  tier2: {count: 50, ageDays: 30, partners: 2}
  tier3: {count: 200, ageDays: 90, partners: 3}
actions:
  - {action: account.login, risk: low, allowTier: 0}
  - {action: data.export_pii, risk: high, allowTier: 3, stepUpTier: 2}
  - action: pay
    risk: high
    allowTier: 2
    stepUpTier: 1
    rules:
      - {field: amount_usd, gt: 250, atLeast: STEP_UP, reason: HIGH_VALUE}
      - {field: country, in: [KP, IR], atLeast: DENY, reason: EMBARGO}
)");
    if (!r.ok()) std::abort();
    return r.loaded;
  }();
  return *p;
}

void check_error_json(const json_error& err) {
  FUZZ_CHECK(err.status == 400);
  FUZZ_CHECK(!err.message.empty());
  warrant::net::byte_buffer body;
  append_error_json(body, err);
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  FUZZ_CHECK(parser.parse(std::string(body.view())).get(doc) == simdjson::SUCCESS);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  constexpr std::size_t cap = 8;
  const policy& p = fuzz_policy();
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  static std::vector<bulk_item> items;
  json_error err;
  if (!parse_bulk_request(body, p, cap, items, err)) {
    check_error_json(err);
    return 0;
  }
  FUZZ_CHECK(!items.empty() && items.size() <= cap);
  evaluation_facts facts;
  facts.as_of_ms = 1'780'000'000'000;
  decision_result r;
  warrant::net::byte_buffer out;
  for (const bulk_item& item : items) {
    if (!item.ok) {
      check_error_json(item.error);
      continue;
    }
    FUZZ_CHECK(item.request.action != nullptr && p.find_action(item.request.action->name) == item.request.action);
    FUZZ_CHECK(!item.request.actor_id.empty() && item.request.actor_id.size() <= warrant::engine::identifier_bytes_max);
    decide(p, *item.request.action, facts, item.request.context, r);
    out.clear();
    out.push_back('{');
    append_decision_fields(out, {&r, "id", item.request.actor, item.request.actor_id, p.version(), facts.as_of_ms, true});
    out.push_back('}');
    simdjson::dom::parser parser;
    simdjson::dom::element doc;
    FUZZ_CHECK(parser.parse(std::string(out.view())).get(doc) == simdjson::SUCCESS);
  }
  return 0;
}

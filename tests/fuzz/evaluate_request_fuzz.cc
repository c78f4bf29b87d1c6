// tests/fuzz/evaluate_request_fuzz.cc: libFuzzer target for the POST /v1/policy/evaluate body
// parser (engine/evidence/evaluate_request.*), against the default policy plus an action with
// context rules of every kind.
//
// Each input is parsed twice: as a whole body (parse_evaluate_request), and, when it is a JSON
// array, item by item as the bulk route does (parse_evaluate_object). A refused body must give
// a 400 whose error JSON parses; an accepted one must name a known action and an actor id of
// 1..255 bytes, keep context values only of their field's kind, and decide and serialize to
// JSON that parses back with the same actor id.
#include <simdjson.h>

#include <cstddef>
#include <cstdio>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>

#include "engine/evidence/decision.h"
#include "engine/evidence/evaluate_request.h"
#include "engine/evidence/evaluate_response.h"
#include "engine/evidence/policy_load.h"
#include "tests/fuzz/fuzz_check.h"

namespace {

using namespace warrant::engine::evidence;
using warrant::engine::json_error;

const policy& fuzz_policy() {
  static const std::shared_ptr<const policy> p = [] {
    const policy_load_result r = load_policy(R"(version: rules-1
tiers:
  tier1: {count: 10, ageDays: 14}
  tier2: {count: 50, ageDays: 30, partners: 2}
  tier3: {count: 200, ageDays: 90, partners: 3}
actions:
  - {action: account.login, risk: low, allowTier: 0}
  - {action: data.export_pii, risk: high, allowTier: 3, stepUpTier: 2}
  - {action: finance.approve_payment, risk: high, allowTier: 3, stepUpTier: 2, limitTier: 1}
  - action: pay
    risk: high
    allowTier: 2
    stepUpTier: 1
    rules:
      - {field: amount_usd, gt: 250, atLeast: STEP_UP, reason: HIGH_VALUE}
      - {field: country, in: [KP, IR], atLeast: DENY, reason: EMBARGO}
      - {field: first_payee, eq: true, atLeast: LIMIT, reason: NEW_PAYEE}
      - {field: channel, ne: api, atLeast: STEP_UP, reason: INTERACTIVE}
)");
    if (!r.ok()) {
      std::fprintf(stderr, "rules policy: %s\n", r.error.to_string().c_str());
      std::abort();
    }
    return r.loaded;
  }();
  return *p;
}

void check_error(const json_error& err) {
  FUZZ_CHECK(err.status == 400);
  FUZZ_CHECK(!err.message.empty());
  warrant::net::byte_buffer body;
  append_error_json(body, err);
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  FUZZ_CHECK(parser.parse(std::string(body.view())).get(doc) == simdjson::SUCCESS);
}

void check_request(const policy& p, const evaluate_request& req) {
  FUZZ_CHECK(req.action != nullptr && p.find_action(req.action->name) == req.action);
  FUZZ_CHECK(!req.actor_id.empty() && req.actor_id.size() <= warrant::engine::identifier_bytes_max);
  for (std::size_t i = 0; i < context_fields_max; ++i) {
    const context_value& v = req.context.by_field[i];
    if (!v.present) continue;
    FUZZ_CHECK(i < p.context_fields().size());
    FUZZ_CHECK(v.kind == p.context_fields()[i].kind);
  }
  evaluation_facts facts;
  facts.as_of_ms = 1'780'000'000'000;
  facts.history = {60, facts.as_of_ms - 40 * ms_per_day, 2};
  decision_result r;
  decide(p, *req.action, facts, req.context, r);
  // The actor id view dies with the next parse: copy it before serializing re-parses nothing.
  const std::string actor_id(req.actor_id);
  warrant::net::byte_buffer out;
  append_evaluation_json(out, {&r, "id", req.actor, actor_id, p.version(), facts.as_of_ms, true});
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  FUZZ_CHECK(parser.parse(std::string(out.view())).get(doc) == simdjson::SUCCESS);
  std::string_view echoed;
  FUZZ_CHECK(doc["actor"]["id"].get_string().get(echoed) == simdjson::SUCCESS);
  FUZZ_CHECK(echoed == actor_id);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const policy& p = fuzz_policy();
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  {
    evaluate_request req;
    json_error err;
    if (parse_evaluate_request(body, p, req, err)) {
      check_request(p, req);
    } else {
      check_error(err);
    }
  }
  // Item by item, as the bulk route reads "evaluations".
  simdjson::ondemand::parser parser;
  const simdjson::padded_string padded(body);
  simdjson::ondemand::document doc;
  simdjson::ondemand::array items;
  if (parser.iterate(padded).get(doc) != simdjson::SUCCESS || doc.get_array().get(items) != simdjson::SUCCESS) return 0;
  for (auto item : items) {
    simdjson::ondemand::object obj;
    if (item.get_object().get(obj) != simdjson::SUCCESS) break;
    evaluate_request req;
    json_error err;
    if (parse_evaluate_object(obj, p, req, err)) {
      FUZZ_CHECK(req.action != nullptr && !req.actor_id.empty());
    } else {
      FUZZ_CHECK(err.status == 400 && !err.message.empty());
      if (err.code == "INVALID_JSON") break;  // the array cannot be trusted past malformed JSON
    }
  }
  return 0;
}

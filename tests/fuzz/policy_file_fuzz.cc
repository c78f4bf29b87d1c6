// tests/fuzz/policy_file_fuzz.cc: libFuzzer target for the policy file loader
// (engine/evidence/policy_load.*): arbitrary bytes as a policy file.
//
// A refused file must say why (and where, within the file's lines). An accepted one must hold
// every invariant the decision function relies on: bands in 0..3 and strictly ordered, rules
// within their limits and pointing at a context field of their kind, every action found by
// name; and deciding on every action at every tier, rendering whyRec and the debug answer must
// produce valid, bounded output.
#include <simdjson.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "engine/evidence/decision.h"
#include "engine/evidence/evaluate_response.h"
#include "engine/evidence/policy_load.h"
#include "tests/fuzz/fuzz_check.h"

namespace {

using namespace warrant::engine::evidence;

std::size_t line_count(std::string_view text) {
  std::size_t n = 1;
  for (char c : text) n += c == '\n';
  return n;
}

void check_action(const policy& p, const action_policy& a) {
  FUZZ_CHECK(p.find_action(a.name) == &a);
  FUZZ_CHECK(!a.name.empty() && a.name.size() <= action_name_bytes_max);
  FUZZ_CHECK(a.allow_tier >= 0 && a.allow_tier <= tier_max);
  FUZZ_CHECK(a.step_up_tier == no_band || (a.step_up_tier >= 0 && a.step_up_tier < a.allow_tier));
  const int above = a.step_up_tier != no_band ? a.step_up_tier : a.allow_tier;
  FUZZ_CHECK(a.limit_tier == no_band || (a.limit_tier >= 0 && a.limit_tier < above));
  FUZZ_CHECK(a.rules.size() <= rules_per_action_max);
  for (const context_rule& r : a.rules) {
    FUZZ_CHECK(r.field_index < p.context_fields().size());
    FUZZ_CHECK(p.context_fields()[r.field_index].name == r.field);
    FUZZ_CHECK(!r.values.empty() && r.values.size() <= rule_in_values_max);
    for (const rule_value& v : r.values) FUZZ_CHECK(v.kind == p.context_fields()[r.field_index].kind);
    FUZZ_CHECK(r.at_least != decision::allow);
    FUZZ_CHECK(!r.reason.empty() && r.reason.size() <= reason_bytes_max);
  }
}

void check_decisions(const policy& p, const action_policy& a) {
  simdjson::dom::parser parser;
  for (int tier = 0; tier <= tier_max; ++tier) {
    evaluation_facts f;
    f.as_of_ms = 1'780'000'000'000;
    const tier_threshold& need = p.thresholds().at[static_cast<std::size_t>(tier == 0 ? 0 : tier - 1)];
    if (tier > 0) f.history = {need.count, f.as_of_ms - static_cast<std::int64_t>(need.age_days) * ms_per_day, need.partners};
    if (tier == 2) f.claims.on_filed();
    // Every rule's field present with its first value: rules may fire.
    context_values ctx;
    for (const context_rule& r : a.rules) {
      const rule_value& v = r.values.front();
      ctx.by_field[r.field_index] = {true, v.kind, v.number, v.flag, v.text};
    }
    decision_result out;
    decide(p, a, f, ctx, out);
    FUZZ_CHECK(out.tier >= (tier == 0 ? 0 : tier));  // thresholds only ever rise with the tier
    FUZZ_CHECK(out.outcome >= out.step(decision_step::tier).after);
    FUZZ_CHECK(out.reason_count >= 1 && out.reason_count <= reasons_max);
    why_text why;
    render_why(out, why);
    FUZZ_CHECK(why.size > 0 && why.size <= why_bytes_max && why.view().back() == '.');
    warrant::net::byte_buffer body;
    append_evaluation_json(body, {&out, "id", actor_type::human, "u", p.version(), f.as_of_ms, true});
    simdjson::dom::element doc;
    FUZZ_CHECK(parser.parse(std::string(body.view())).get(doc) == simdjson::SUCCESS);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const policy_load_result r = load_policy(text);
  if (!r.ok()) {
    FUZZ_CHECK(!r.error.message.empty());
    FUZZ_CHECK(r.error.line >= 0 && static_cast<std::size_t>(r.error.line) <= line_count(text) + 1);
    return 0;
  }
  const policy& p = *r.loaded;
  FUZZ_CHECK(!p.version().empty() && p.version().size() <= version_bytes_max);
  FUZZ_CHECK(!p.actions().empty() && p.actions().size() <= actions_max);
  FUZZ_CHECK(p.context_fields().size() <= context_fields_max);
  for (int t = 1; t < tier_max; ++t) {
    FUZZ_CHECK(p.thresholds().at[t].count >= p.thresholds().at[t - 1].count);
    FUZZ_CHECK(p.thresholds().at[t].age_days >= p.thresholds().at[t - 1].age_days);
  }
  FUZZ_CHECK(p.caps().agent_bulk_max <= p.caps().bulk_max && p.caps().bulk_max <= bulk_items_hard_max);
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  FUZZ_CHECK(parser.parse(std::string(p.actions_json())).get(doc) == simdjson::SUCCESS);
  for (const action_policy& a : p.actions()) {
    check_action(p, a);
    check_decisions(p, a);
  }
  return 0;
}

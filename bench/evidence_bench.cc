// bench/evidence_bench.cc: Google Benchmark micro-benchmarks of the evidence core's hot path
// (engine/evidence/): event-type lookup on ingest, and for POST /v1/policy/evaluate the body
// parse, the decision, the answer's serialization and all three together, next to references
// measured in the same run (a sorted-array binary search for the catalogue; the /healthz
// request parse + response write for the route). Figures: docs/PERFORMANCE.md, "Evidence core".
//
//   build/bench/warrant-evidence-micro --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdio>
#include <array>
#include <string>
#include <vector>

#include "engine/evidence/bulk_request.h"
#include "engine/evidence/catalogue.h"
#include "engine/evidence/decision.h"
#include "engine/evidence/decision_record.h"
#include "engine/evidence/default_policy.h"
#include "engine/evidence/evaluate_request.h"
#include "engine/evidence/evaluate_response.h"
#include "engine/evidence/policy_load.h"
#include "net/http_parser.h"
#include "net/http_response.h"

namespace {

using namespace warrant::engine::evidence;
namespace net = warrant::net;

constexpr std::int64_t as_of = 1'780'000'000'000;
constexpr std::string_view correlation_id = "01890f4e-8a6b-7cc3-9d2e-4b5a69788a9b";

// ---- catalogue ------------------------------------------------------------------------------

std::vector<std::string> catalogue_names() {
  std::vector<std::string> names;
  for (const auto& t : event_catalogue) names.emplace_back(t.name);
  return names;
}

void BM_event_type_lookup(benchmark::State& state) {
  const std::vector<std::string> names = catalogue_names();
  std::size_t i = 0;
  for (auto _ : state) {
    auto id = find_event_type(names[i]);
    benchmark::DoNotOptimize(id);
    i = i + 1 == names.size() ? 0 : i + 1;
  }
}
BENCHMARK(BM_event_type_lookup);

void BM_event_type_lookup_unknown(benchmark::State& state) {
  std::vector<std::string> names = catalogue_names();
  for (auto& n : names) n.back() = n.back() == 'x' ? 'y' : 'x';  // same lengths and prefixes
  std::size_t i = 0;
  for (auto _ : state) {
    auto id = find_event_type(names[i]);
    benchmark::DoNotOptimize(id);
    i = i + 1 == names.size() ? 0 : i + 1;
  }
}
BENCHMARK(BM_event_type_lookup_unknown);

// Reference: binary search over the names sorted once.
void BM_event_type_lookup_sorted_reference(benchmark::State& state) {
  const std::vector<std::string> names = catalogue_names();
  std::vector<std::string_view> sorted(names.begin(), names.end());
  std::sort(sorted.begin(), sorted.end());
  std::size_t i = 0;
  for (auto _ : state) {
    auto it = std::lower_bound(sorted.begin(), sorted.end(), std::string_view(names[i]));
    bool found = it != sorted.end() && *it == names[i];
    benchmark::DoNotOptimize(found);
    i = i + 1 == names.size() ? 0 : i + 1;
  }
}
BENCHMARK(BM_event_type_lookup_sorted_reference);

// ---- evaluate -------------------------------------------------------------------------------

const std::string seed_body = R"({"actor": { "type": "human", "id": "emp-12345" }, "action": "data.export_pii"})";

const std::string context_body =
    R"({"actor":{"type":"service","id":"svc-billing-7"},"action":"pay",)"
    R"("resource":{"id":"inv-20260520-0042","kind":"invoice"},)"
    R"("context":{"amount_usd":1250.75,"country":"FR","first_payee":false,"channel":"web","note":"monthly"}})";

std::shared_ptr<const policy> rules_policy() {
  static const auto p = [] {
    auto r = load_policy(R"(version: rules-1
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
      - {field: amount_usd, gte: 10000, atLeast: DENY, reason: VERY_HIGH_VALUE}
      - {field: country, in: [KP, IR, SY, CU], atLeast: DENY, reason: EMBARGO}
      - {field: first_payee, eq: true, atLeast: LIMIT, reason: NEW_PAYEE}
)");
    if (!r.ok()) {
      std::fprintf(stderr, "rules policy: %s\n", r.error.to_string().c_str());
      std::abort();
    }
    return r.loaded;
  }();
  return p;
}

evaluation_facts tier2_contested() {
  evaluation_facts f;
  f.history = {57, as_of - 41 * ms_per_day, 2};
  f.claims.on_filed();
  f.claims.on_transition(claim_state::open, claim_state::disputed, as_of - ms_per_day);
  f.as_of_ms = as_of;
  return f;
}

void BM_parse_request(benchmark::State& state, const std::string& body, bool with_rules) {
  const auto p = with_rules ? rules_policy() : default_policy();
  evaluate_request req;
  warrant::engine::json_error err;
  for (auto _ : state) {
    bool ok = parse_evaluate_request(body, *p, req, err);
    benchmark::DoNotOptimize(ok);
    benchmark::DoNotOptimize(req);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * body.size()));
}
BENCHMARK_CAPTURE(BM_parse_request, seed_body, seed_body, false);
BENCHMARK_CAPTURE(BM_parse_request, with_context, context_body, true);

void BM_action_lookup(benchmark::State& state) {
  const auto p = default_policy();
  std::vector<std::string> names;
  for (const auto& a : p->actions()) names.push_back(a.name);
  std::size_t i = 0;
  for (auto _ : state) {
    const action_policy* a = p->find_action(names[i]);
    benchmark::DoNotOptimize(a);
    i = i + 1 == names.size() ? 0 : i + 1;
  }
}
BENCHMARK(BM_action_lookup);

void BM_decide(benchmark::State& state, std::string_view action, bool with_context) {
  const auto p = with_context ? rules_policy() : default_policy();
  const action_policy& a = *p->find_action(action);
  context_values ctx;
  if (with_context) {
    ctx.by_field[*p->find_context_field("amount_usd")] = {true, value_kind::number, 1250.75, false, {}};
    ctx.by_field[*p->find_context_field("country")] = {true, value_kind::string, 0, false, "FR"};
    ctx.by_field[*p->find_context_field("first_payee")] = {true, value_kind::boolean, 0, false, {}};
  }
  const evaluation_facts facts = tier2_contested();
  decision_result r;
  for (auto _ : state) {
    decide(*p, a, facts, ctx, r);
    benchmark::DoNotOptimize(r.outcome);
  }
}
BENCHMARK_CAPTURE(BM_decide, data_export_pii, "data.export_pii", false);
BENCHMARK_CAPTURE(BM_decide, pay_four_rules, "pay", true);

void BM_serialize(benchmark::State& state, bool debug) {
  const auto p = default_policy();
  decision_result r;
  decide(*p, *p->find_action("data.export_pii"), tier2_contested(), {}, r);
  const evaluation_response resp{&r, correlation_id, actor_type::human, "emp-12345", p->version(), as_of, debug};
  net::byte_buffer out;
  for (auto _ : state) {
    out.clear();
    append_evaluation_json(out, resp);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * out.size()));
}
BENCHMARK_CAPTURE(BM_serialize, plain, false);
BENCHMARK_CAPTURE(BM_serialize, debug, true);

void BM_render_why(benchmark::State& state) {
  const auto p = default_policy();
  decision_result r;
  decide(*p, *p->find_action("data.export_pii"), tier2_contested(), {}, r);
  why_text w;
  for (auto _ : state) {
    render_why(r, w);
    benchmark::DoNotOptimize(w.size);
  }
}
BENCHMARK(BM_render_why);

// Parse + decide + serialize: what the evaluate route adds to an HTTP request's cost (the
// facts lookup in the entity index and the decision-log append come on top).
void BM_evaluate_core(benchmark::State& state, const std::string& body, bool with_rules) {
  const auto p = with_rules ? rules_policy() : default_policy();
  const evaluation_facts facts = tier2_contested();
  evaluate_request req;
  warrant::engine::json_error err;
  decision_result r;
  net::byte_buffer out;
  for (auto _ : state) {
    if (!parse_evaluate_request(body, *p, req, err)) std::abort();
    decide(*p, *req.action, facts, req.context, r);
    out.clear();
    append_evaluation_json(out, {&r, correlation_id, req.actor, req.actor_id, p->version(), facts.as_of_ms, false});
    benchmark::DoNotOptimize(out.data());
  }
}
BENCHMARK_CAPTURE(BM_evaluate_core, seed_body, seed_body, false);
BENCHMARK_CAPTURE(BM_evaluate_core, with_context, context_body, true);

// Bulk against singles: N items in one bulk body (one parse, one answer buffer) against N
// single bodies parsed and answered one by one (the HTTP, guard and log costs saved by the
// bulk route come on top). Items per second in both, so the two compare directly.
std::string bulk_body(std::int64_t n) {
  std::string body = R"({"evaluations":[)";
  for (std::int64_t i = 0; i < n; ++i) body += (i ? "," : "") + seed_body;
  return body + "]}";
}

void BM_bulk_core(benchmark::State& state) {
  const auto p = default_policy();
  const std::string body = bulk_body(state.range(0));
  const evaluation_facts facts = tier2_contested();
  std::vector<bulk_item> items;
  warrant::engine::json_error err;
  decision_result r;
  net::byte_buffer out;
  for (auto _ : state) {
    if (!parse_bulk_request(body, *p, 1000, items, err)) std::abort();
    out.clear();
    for (const bulk_item& item : items) {
      decide(*p, *item.request.action, facts, item.request.context, r);
      append_decision_fields(out, {&r, correlation_id, item.request.actor, item.request.actor_id, p->version(),
                                   facts.as_of_ms, false});
    }
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_bulk_core)->Arg(1)->Arg(10)->Arg(100);

// The decision log's record of a group of n decisions (decision_record.h): what the bulk route
// adds per item (and an evaluate per decision) to log it.
void BM_decision_group_encode(benchmark::State& state) {
  const auto p = default_policy();
  const evaluation_facts facts = tier2_contested();
  evaluate_request req;
  warrant::engine::json_error err;
  if (!parse_evaluate_request(seed_body, *p, req, err)) std::abort();
  decision_result r;
  decide(*p, *req.action, facts, req.context, r);
  const decision_item_view d = decision_item_of(req, r);
  std::string payload;
  for (auto _ : state) {
    decision_group_writer w(payload, facts.as_of_ms, p->version(), "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b");
    for (std::int64_t i = 0; i < state.range(0); ++i) w.add(d);
    benchmark::DoNotOptimize(payload.data());
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
  state.counters["bytes_per_decision"] = static_cast<double>(payload.size()) / static_cast<double>(state.range(0));
}
BENCHMARK(BM_decision_group_encode)->Arg(1)->Arg(100);

void BM_singles_core(benchmark::State& state) {
  const auto p = default_policy();
  const evaluation_facts facts = tier2_contested();
  evaluate_request req;
  warrant::engine::json_error err;
  decision_result r;
  net::byte_buffer out;
  for (auto _ : state) {
    for (std::int64_t i = 0; i < state.range(0); ++i) {
      if (!parse_evaluate_request(seed_body, *p, req, err)) std::abort();
      decide(*p, *req.action, facts, req.context, r);
      out.clear();
      append_evaluation_json(out, {&r, correlation_id, req.actor, req.actor_id, p->version(), facts.as_of_ms, false});
      benchmark::DoNotOptimize(out.data());
    }
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_singles_core)->Arg(1)->Arg(10)->Arg(100);

// ---- against /healthz, in the same run ------------------------------------------------------

const std::string healthz_request = "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n\r\n";

std::string evaluate_request_bytes() {
  return "POST /v1/policy/evaluate HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nContent-Type: application/json\r\n"
         "x-api-key: wrnt_4f3c9a1b2d7e8f6a5c4b3a29182736455463728190abcdefXYZ123\r\nContent-Length: " +
         std::to_string(seed_body.size()) + "\r\n\r\n" + seed_body;
}

// Reference: the /healthz request as the shard handles it, parse + fixed body + write.
void BM_http_healthz_reference(benchmark::State& state) {
  net::http_parser parser;
  net::http_request req;
  net::http_response res;
  net::byte_buffer wire;
  const net::response_framing framing{1, true, false, "Date: Wed, 20 May 2026 10:00:00 GMT\r\n"};
  for (auto _ : state) {
    parser.reset();
    if (parser.parse(healthz_request, req).status != net::parse_status::complete) std::abort();
    res.reset();
    res.set_json(R"({"status":"ok","service":"warrant"})");
    wire.clear();
    net::write_response(wire, res, framing);
    benchmark::DoNotOptimize(wire.data());
  }
}
BENCHMARK(BM_http_healthz_reference);

// The same HTTP framing around the evaluate core (no auth, rate limit, index or log).
void BM_http_evaluate(benchmark::State& state) {
  const std::string raw = evaluate_request_bytes();
  const auto p = default_policy();
  const evaluation_facts facts = tier2_contested();
  net::http_parser parser;
  net::http_request req;
  net::http_response res;
  net::byte_buffer wire;
  const net::response_framing framing{1, true, false, "Date: Wed, 20 May 2026 10:00:00 GMT\r\n"};
  evaluate_request ev;
  warrant::engine::json_error err;
  decision_result r;
  for (auto _ : state) {
    parser.reset();
    if (parser.parse(raw, req).status != net::parse_status::complete) std::abort();
    res.reset();
    if (!parse_evaluate_request(req.body, *p, ev, err)) std::abort();
    decide(*p, *ev.action, facts, ev.context, r);
    append_evaluation_json(res.body(), {&r, correlation_id, ev.actor, ev.actor_id, p->version(), facts.as_of_ms, false});
    wire.clear();
    net::write_response(wire, res, framing);
    benchmark::DoNotOptimize(wire.data());
  }
}
BENCHMARK(BM_http_evaluate);

}  // namespace

BENCHMARK_MAIN();

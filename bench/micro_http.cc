// bench/micro_http.cc: Google Benchmark micro-benchmarks of the HTTP hot path pieces:
// request parsing (one-shot, split across reads, pipelined), routing, response writing and
// JSON string escaping. Run: build/bench/warrant-micro --benchmark_repetitions=5
// --benchmark_report_aggregates_only=true
#include <benchmark/benchmark.h>

#include <string>

#include "net/http_parser.h"
#include "net/http_response.h"
#include "net/router.h"

namespace {

using namespace warrant::net;

const std::string healthz_request = "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n\r\n";

const std::string evaluate_request =
    "POST /v1/policy/evaluate HTTP/1.1\r\n"
    "Host: warrant.internal:8080\r\n"
    "User-Agent: partner-sdk/2.3.1 (linux; x86_64)\r\n"
    "Accept: application/json\r\n"
    "Accept-Encoding: gzip, deflate\r\n"
    "Content-Type: application/json\r\n"
    "x-api-key: wrnt_4f3c9a1b2d7e8f6a5c4b3a29182736455463728190abcdefXYZ123\r\n"
    "Idempotency-Key: 6f1c2d3e-4b5a-6978-8a9b-0c1d2e3f4a5b\r\n"
    "traceparent: 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01\r\n"
    "Content-Length: 96\r\n"
    "\r\n"
    "{\"userExternalId\":\"user-1234567\",\"action\":\"data.export_pii\",\"actorType\":\"human\",\"ctx\":{}}";

std::string padded_body_request() {
  std::string r = evaluate_request;
  const std::size_t body_at = r.find("\r\n\r\n") + 4;
  const std::size_t body_size = r.size() - body_at;
  r.replace(r.find("Content-Length: 96"), 18, "Content-Length: " + std::to_string(body_size));
  return r;
}

void BM_parse_request(benchmark::State& state, const std::string& raw) {
  http_parser parser;
  http_request req;
  for (auto _ : state) {
    parser.reset();
    parse_result r = parser.parse(raw, req);
    benchmark::DoNotOptimize(r);
    benchmark::DoNotOptimize(req.header_count);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * raw.size()));
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK_CAPTURE(BM_parse_request, healthz, healthz_request);
BENCHMARK_CAPTURE(BM_parse_request, evaluate_10_headers, padded_body_request());

// The request arrives in `chunks` reads; the parser is called after each.
void BM_parse_split(benchmark::State& state) {
  const std::string raw = padded_body_request();
  const auto chunks = static_cast<std::size_t>(state.range(0));
  const std::size_t step = (raw.size() + chunks - 1) / chunks;
  http_parser parser;
  http_request req;
  for (auto _ : state) {
    parser.reset();
    parse_result r;
    for (std::size_t end = step; ; end += step) {
      r = parser.parse(std::string_view(raw).substr(0, std::min(end, raw.size())), req);
      if (r.status != parse_status::need_more || end >= raw.size()) break;
    }
    benchmark::DoNotOptimize(r);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_parse_split)->Arg(1)->Arg(2)->Arg(8)->Arg(32);

// `depth` requests back to back in one buffer, as a pipelining client sends them.
void BM_parse_pipelined(benchmark::State& state) {
  std::string raw;
  for (int i = 0; i < state.range(0); ++i) raw += healthz_request;
  http_parser parser;
  http_request req;
  for (auto _ : state) {
    std::string_view rest = raw;
    while (!rest.empty()) {
      parser.reset();
      parse_result r = parser.parse(rest, req);
      rest.remove_prefix(r.consumed);
    }
    benchmark::DoNotOptimize(req.path);
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_parse_pipelined)->Arg(8)->Arg(64);

const router& bench_router() {
  static const router* r = [] {
    auto* out = new router;  // lives for the whole run
    const char* patterns[] = {"/healthz", "/readyz", "/metrics", "/v1/events", "/v1/events/types", "/v1/claims",
                              "/v1/claims/{id}", "/v1/claims/{id}/resolve", "/v1/policy/evaluate",
                              "/v1/policy/evaluate/bulk", "/v1/policy/actions", "/v1/policy/actions/{action}",
                              "/v1/history/{userExternalId}", "/v1/agents", "/v1/agents/{id}",
                              "/v1/agents/{id}/suspend", "/v1/agents/{id}/lineage", "/api/me",
                              "/api/workspaces/{id}/governance/evidence", "/v1/admin/workspaces/{id}/keys/{key_id}/revoke"};
    for (const char* p : patterns) {
      out->add(http_method::get, p, [](request_context&) {});
      out->add(http_method::post, p, [](request_context&) {});
    }
    return out;
  }();
  return *r;
}

void BM_route(benchmark::State& state, std::string path) {
  const router& r = bench_router();
  for (auto _ : state) {
    route_match m = r.match(http_method::post, path);
    benchmark::DoNotOptimize(m.matched);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK_CAPTURE(BM_route, static_short, std::string("/healthz"));
BENCHMARK_CAPTURE(BM_route, static_deep, std::string("/v1/policy/evaluate/bulk"));
BENCHMARK_CAPTURE(BM_route, two_params, std::string("/v1/admin/workspaces/ws_123/keys/key_456/revoke"));
BENCHMARK_CAPTURE(BM_route, not_found, std::string("/v1/nothing/here"));

void BM_write_response(benchmark::State& state) {
  http_response res;
  std::string body(static_cast<std::size_t>(state.range(0)), 'x');
  res.set_json(body);
  http_date_cache date;
  const std::string_view date_line = date.line(1'800'000'000);
  byte_buffer out;
  for (auto _ : state) {
    out.clear();
    write_response(out, res, {1, true, false, date_line});
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_write_response)->Arg(35)->Arg(1024)->Arg(16384);

// A large answer (the bulk route's ~42 KB for 100 items) written into the handler's body and
// then onto the connection's output: copied behind the head (write_response) or moved, the
// head put into the room left before it (write_response_moving_body). Both include writing
// the body itself, as a handler would; the difference is the copy.
void BM_write_large_answer(benchmark::State& state, bool moved) {
  const std::string rendered(static_cast<std::size_t>(state.range(0)), 'x');
  http_response res;
  http_date_cache date;
  const std::string_view date_line = date.line(1'800'000'000);
  byte_buffer out;
  for (auto _ : state) {
    res.reset();
    if (moved) {
      res.clear_body_leaving_head_room();
    } else {
      res.body().clear();
    }
    res.body().append(rendered);
    out.clear();  // the previous answer was sent
    if (moved) {
      write_response_moving_body(out, res, {1, true, false, date_line});
    } else {
      write_response(out, res, {1, true, false, date_line});
    }
    benchmark::DoNotOptimize(out.data());
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * rendered.size()));
}
BENCHMARK_CAPTURE(BM_write_large_answer, copied, false)->Arg(42'000);
BENCHMARK_CAPTURE(BM_write_large_answer, moved, true)->Arg(42'000);

void BM_json_escape(benchmark::State& state) {
  const std::string plain(256, 'a');
  std::string mixed;
  for (int i = 0; i < 32; ++i) mixed += "abc\"def\\\n\x01";
  const std::string& s = state.range(0) == 0 ? plain : mixed;
  byte_buffer out;
  for (auto _ : state) {
    out.clear();
    append_json_string(out, s);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * s.size()));
}
BENCHMARK(BM_json_escape)->Arg(0)->Arg(1);

}  // namespace

BENCHMARK_MAIN();

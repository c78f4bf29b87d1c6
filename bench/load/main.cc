// bench/load/main.cc: warrant-bench, an io_uring HTTP/1.1 load generator.
//
// What it is for: the command line (CLI11), checking it against the named limits, building
// the requests (from --template or --method/--header/--body), probing the target, running
// (run.h) and printing the result (report.h). Usage and the template format are in
// bench/README.md.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <stdexcept>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "bench/load/report.h"
#include "bench/load/request_renderer.h"
#include "bench/load/request_spec.h"
#include "bench/load/run.h"
#include "bench/load/run_config.h"
#include "bench/load/target.h"

namespace warrant::bench {
namespace {

constexpr double requests_mode_duration_cap_s = 60;

struct command_line {
  run_config config;
  std::string template_path;
  std::string method = "GET";
  std::string body;
  std::vector<std::string> headers;
  bool json = false;
};

void add_options(CLI::App& app, command_line& cl) {
  run_config& c = cl.config;
  app.option_defaults()->always_capture_default();
  app.add_option("url,--url", c.url, "Target, http://HOST:PORT/path (IPv6 as http://[::1]:PORT/)")->required();
  app.add_option("-t,--threads", c.threads, "Load threads, each with its own io_uring ring")
      ->check(CLI::Range(1u, threads_max));
  app.add_option("-c,--connections", c.connections, "Connections in total")->check(CLI::Range(1u, connections_max));
  app.add_option("-p,--pipeline", c.pipeline, "Requests in flight per connection")->check(CLI::Range(1u, pipeline_max));
  app.add_option("-d,--duration", c.duration_s, "Measured seconds (with --requests: the longest the run may take)")
      ->check(CLI::Range(0.001, 86400.0));
  app.add_option("-n,--requests", c.requests_total, "Stop after this many measured responses");
  app.add_option("-w,--warmup", c.warmup_s, "Seconds of load before measuring")->check(CLI::Range(0.0, 3600.0));
  app.add_option("-R,--rate", c.rate_per_s, "Open loop: requests per second in total, on a fixed schedule")
      ->check(CLI::Range(0.001, 1e9));
  app.add_option("--timeout", c.timeout_s, "Seconds a request or a connect may take before it is an error")
      ->check(CLI::Range(0.001, 3600.0));
  app.add_option("--seed", c.seed, "Seed of the {{rand}}/{{zipf}} generators and template mix");
  app.add_option("-T,--template", cl.template_path, "File of request templates (see bench/README.md)");
  app.add_option("-m,--method", cl.method, "Method of the request (without --template)");
  app.add_option("-H,--header", cl.headers, "Extra header `Name: value` (repeatable; added to templates too)");
  app.add_option("-b,--body", cl.body, "Request body (without --template); placeholders allowed");
  app.add_flag("--json", cl.json, "Print one JSON object instead of the summary");
}

std::vector<request_spec> build_specs(const command_line& cl, const target& where) {
  std::vector<request_spec> specs;
  if (!cl.template_path.empty()) {
    specs = load_template_file(cl.template_path);
  } else {
    request_spec spec;
    spec.method = cl.method;
    spec.path = where.path;
    spec.body = cl.body;
    specs.push_back(spec);
  }
  for (const std::string& text : cl.headers) {
    const request_header h = parse_header_option(text);
    for (request_spec& spec : specs) {
      const bool present = std::any_of(spec.headers.begin(), spec.headers.end(),
                                       [&](const request_header& e) { return iequals_ascii(e.name, h.name); });
      if (!present) spec.headers.push_back(h);
    }
  }
  return specs;
}

void finish_config(CLI::App& app, command_line& cl) {
  run_config& c = cl.config;
  if (!cl.template_path.empty() && (app.count("--method") > 0 || app.count("--body") > 0)) {
    throw std::runtime_error("--method and --body apply without --template; put them in the template");
  }
  c.mode = app.count("--rate") > 0 ? loop_mode::open : loop_mode::closed;
  if (c.requests_total > 0 && app.count("--duration") == 0) c.duration_s = requests_mode_duration_cap_s;
  c.threads = std::min(c.threads, c.connections);
  if (c.requests_total > 0) c.threads = static_cast<std::uint32_t>(std::min<std::uint64_t>(c.threads, c.requests_total));
}

int run_main(CLI::App& app, command_line& cl) {
  finish_config(app, cl);
  const target where = resolve_target(cl.config.url);
  const request_set requests(build_specs(cl, where), where.host_header);
  probe_target(where, std::chrono::milliseconds(static_cast<long>(cl.config.timeout_s * 1000)));
  const run_outcome outcome = run_load(cl.config, where, requests);
  const run_result result{cl.config, outcome.stats, cl.config.url, outcome.duration_s};
  if (cl.json) {
    print_json(stdout, result);
  } else {
    print_summary(stdout, result);
  }
  if (cl.config.requests_total > 0 && outcome.stats.requests < cl.config.requests_total) {
    fmt::print(stderr, "warrant-bench: stopped at the {:.0f} s cap with {} of {} requests\n", cl.config.duration_s,
               outcome.stats.requests, cl.config.requests_total);
  }
  if (outcome.stats.requests == 0) {
    fmt::print(stderr, "warrant-bench: no complete response from {} ({} errors)\n", describe_address(where),
               outcome.stats.errors.total());
    return 2;
  }
  return 0;
}

}  // namespace
}  // namespace warrant::bench

int main(int argc, char** argv) {
  warrant::bench::command_line cl;
  CLI::App app{"warrant-bench: io_uring HTTP/1.1 load generator (closed and open loop)"};
  warrant::bench::add_options(app, cl);
  CLI11_PARSE(app, argc, argv);
  try {
    return warrant::bench::run_main(app, cl);
  } catch (const std::exception& e) {
    fmt::print(stderr, "warrant-bench: {}\n", e.what());
    return 1;
  }
}

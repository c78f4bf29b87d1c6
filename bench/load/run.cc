// bench/load/run.cc: thread start-up, the shared start signal, join and merge.
#include "bench/load/run.h"

#include <sys/resource.h>

#include <latch>
#include <memory>
#include <stdexcept>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "bench/load/clock.h"
#include "bench/load/load_worker.h"

namespace warrant::bench {

namespace {

// Each connection needs a descriptor; ask for the hard limit rather than fail at 1024.
void raise_descriptor_limit(std::uint32_t connections) {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur >= connections + 64) return;
  limit.rlim_cur = limit.rlim_max;
  setrlimit(RLIMIT_NOFILE, &limit);
}

worker_share share_of(const run_config& config, std::uint32_t index) {
  const auto part = [&](std::uint64_t total) {
    return total / config.threads + (index < total % config.threads ? 1 : 0);
  };
  return {index, static_cast<std::uint32_t>(part(config.connections)), part(config.requests_total)};
}

}  // namespace

run_outcome run_load(const run_config& config, const target& where, const request_set& requests) {
  raise_descriptor_limit(config.connections);
  std::vector<std::unique_ptr<load_worker>> workers;
  for (std::uint32_t i = 0; i < config.threads; ++i) {
    workers.push_back(std::make_unique<load_worker>(config, where, requests, share_of(config, i)));
  }
  std::vector<std::string> setup_errors(config.threads);
  std::latch ready(config.threads);
  std::latch go(1);
  run_window window;
  std::vector<std::thread> threads;
  for (std::uint32_t i = 0; i < config.threads; ++i) {
    threads.emplace_back([&, i] {
      try {
        setup_errors[i] = workers[i]->setup();
      } catch (const std::exception& e) {
        setup_errors[i] = e.what();
      }
      ready.count_down();
      go.wait();
      if (setup_errors[i].empty() && window.end_ns > window.start_ns) workers[i]->run(window);
    });
  }
  ready.wait();
  bool setup_ok = true;
  for (const std::string& e : setup_errors) setup_ok = setup_ok && e.empty();
  window.start_ns = now_ns();
  window.measure_start_ns = window.start_ns + seconds_to_ns(config.warmup_s);
  window.end_ns = setup_ok ? window.measure_start_ns + seconds_to_ns(config.duration_s) : window.start_ns;
  go.count_down();  // publishes `window` to the threads
  for (std::thread& t : threads) t.join();
  for (const std::string& e : setup_errors) {
    if (!e.empty()) throw std::runtime_error(e);
  }
  run_outcome outcome;
  for (const auto& w : workers) outcome.stats.merge(w->stats());
  const std::int64_t finish_ns = config.requests_total == 0 ? window.end_ns : outcome.stats.finish_ns;
  outcome.duration_s = static_cast<double>(finish_ns - window.measure_start_ns) / static_cast<double>(ns_per_s);
  return outcome;
}

}  // namespace warrant::bench

// tools/warrantd.cc: the Warrant server.
//
// Reads its configuration (flags > WARRANT_* environment > --config file > defaults),
// claims the data directory, builds the routes, starts the shards, prints one ready line on
// stdout, then waits for signals on the main thread: SIGTERM/SIGINT drain and exit 0 (a
// second one exits at once with status 1); SIGHUP reloads the evidence policy file (on this
// thread: the shards never parse it; a bad file keeps the running policy).
#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <pthread.h>
#include <signal.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <thread>

#include "engine/app.h"
#include "engine/ops_routes.h"
#include "generated/build_info.h"
#include "net/server.h"
#include "storage/data_dir.h"
#include "tools/config_file.h"

namespace {

using namespace warrant;

struct options {
  net::server_config server;
  engine::app_options engine;
  std::size_t map_size_mb = 64 * 1024;
  double idempotency_ttl_hours = 24;
  std::string data_dir = "./data";
  std::string config_file;
};

void add_options(CLI::App& app, options& o) {
  net::shard_config& sc = o.server.shard;
  o.server.shards = std::max(1u, std::thread::hardware_concurrency());
  app.add_option("--config", o.config_file, "Configuration file of 'key = value' lines (keys are flag names)")
      ->envname("WARRANT_CONFIG");
  app.add_option("--listen", o.server.listen, "Address to listen on, HOST:PORT or [IPv6]:PORT")
      ->envname("WARRANT_LISTEN")->capture_default_str();
  app.add_option("--shards", o.server.shards, "Reactor threads (default: number of cores)")
      ->envname("WARRANT_SHARDS")->check(CLI::Range(1, 1024))->capture_default_str();
  app.add_option("--data-dir", o.data_dir, "Data directory")->envname("WARRANT_DATA_DIR")->capture_default_str();
  app.add_flag("--pin", o.server.pin, "Pin shard i to CPU i")->envname("WARRANT_PIN");
  app.add_option("--connections-max", sc.connections_max, "Open connections per shard")
      ->envname("WARRANT_CONNECTIONS_MAX")->check(CLI::Range(1, 1'000'000))->capture_default_str();
  app.add_option("--backlog", o.server.backlog, "listen(2) backlog per shard")
      ->envname("WARRANT_BACKLOG")->check(CLI::Range(1, 65535))->capture_default_str();
  app.add_option("--header-timeout-ms", sc.header_timeout_ms, "Time to receive a request's headers")
      ->envname("WARRANT_HEADER_TIMEOUT_MS")->check(CLI::Range(1, 3'600'000))->capture_default_str();
  app.add_option("--body-timeout-ms", sc.body_timeout_ms, "Time to receive a request's body")
      ->envname("WARRANT_BODY_TIMEOUT_MS")->check(CLI::Range(1, 3'600'000))->capture_default_str();
  app.add_option("--idle-timeout-ms", sc.idle_timeout_ms, "Keep-alive idle time before closing")
      ->envname("WARRANT_IDLE_TIMEOUT_MS")->check(CLI::Range(1, 3'600'000))->capture_default_str();
  app.add_option("--send-timeout-ms", sc.send_timeout_ms, "Time a response may make no sending progress")
      ->envname("WARRANT_SEND_TIMEOUT_MS")->check(CLI::Range(1, 3'600'000))->capture_default_str();
  app.add_option("--drain-timeout-ms", o.server.drain_timeout_ms, "Bound on the graceful drain at SIGTERM")
      ->envname("WARRANT_DRAIN_TIMEOUT_MS")->check(CLI::Range(0, 3'600'000))->capture_default_str();
  app.add_option("--header-bytes-max", sc.limits.header_bytes_max, "Request line and headers, bytes")
      ->envname("WARRANT_HEADER_BYTES_MAX")->check(CLI::Range(1024, 1 << 20))->capture_default_str();
  app.add_option("--headers-max", sc.limits.headers_max, "Request headers, count")
      ->envname("WARRANT_HEADERS_MAX")->check(CLI::Range(1, static_cast<int>(net::http_header_slots)))
      ->capture_default_str();
  app.add_option("--url-bytes-max", sc.limits.url_bytes_max, "Request target, bytes")
      ->envname("WARRANT_URL_BYTES_MAX")->check(CLI::Range(64, 1 << 20))->capture_default_str();
  app.add_option("--body-bytes-max", sc.limits.body_bytes_max, "JSON request body, bytes")
      ->envname("WARRANT_BODY_BYTES_MAX")->check(CLI::Range(0, 64 << 20))->capture_default_str();
  app.add_option("--recv-buffers", sc.recv_buffer_count, "Receive buffers per shard (power of two)")
      ->envname("WARRANT_RECV_BUFFERS")->check(CLI::IsMember({64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384}))
      ->capture_default_str();
  app.add_option("--map-size-mb", o.map_size_mb, "LMDB map size (virtual; the file grows as used); full → 503 STORAGE_FULL")
      ->envname("WARRANT_MAP_SIZE_MB")->check(CLI::Range(1, 64 * 1024 * 1024))->capture_default_str();
  app.add_option("--writer-queue-max", o.engine.writer.queue_commands_max, "Writes waiting for the writer; beyond: 503")
      ->envname("WARRANT_WRITER_QUEUE_MAX")->check(CLI::Range(1, 10'000'000))->capture_default_str();
  app.add_option("--writer-batch-max", o.engine.writer.batch_commands_max, "Writes per group commit, at most")
      ->envname("WARRANT_WRITER_BATCH_MAX")->check(CLI::Range(1, 1'000'000))->capture_default_str();
  app.add_option("--writer-batch-us-max", o.engine.writer.batch_apply_us_max, "Time applying one batch, at most")
      ->envname("WARRANT_WRITER_BATCH_US_MAX")->check(CLI::Range(100, 10'000'000))->capture_default_str();
  app.add_option("--pipeline-depth-max", sc.pipeline_depth_max,
                 "Pipelined requests of one connection handled ahead of their answers, at most (power of two; 1: none)")
      ->envname("WARRANT_PIPELINE_DEPTH_MAX")->check(CLI::IsMember({1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024}))
      ->capture_default_str();
  app.add_option("--recv-buffer-bytes", sc.recv_buffer_bytes, "Bytes per receive buffer")
      ->envname("WARRANT_RECV_BUFFER_BYTES")->check(CLI::Range(1024, 1 << 20))->capture_default_str();
  app.add_option("--idempotency-ttl-hours", o.idempotency_ttl_hours,
                 "How long stored answers of idempotent writes are kept, in hours (fractions allowed)")
      ->envname("WARRANT_IDEMPOTENCY_TTL_HOURS")->check(CLI::Range(0.0001, 8760.0))->capture_default_str();
  app.add_flag("--enable-test-routes", o.engine.enable_test_routes,
               "Serve the /v1/test/* routes (FOR TESTS ONLY: they store arbitrary JSON)")
      ->envname("WARRANT_ENABLE_TEST_ROUTES");
  app.add_option("--policy-file", o.engine.policy_file,
                 "Evidence policy file (YAML, docs/policy-file.md); default: the embedded defaults. SIGHUP reloads it")
      ->envname("WARRANT_POLICY_FILE");
  app.add_option("--bulk-max", o.engine.policy.bulk_max,
                 "Items per POST /v1/policy/evaluate/bulk, at most (the policy's caps.bulkMax may lower it)")
      ->envname("WARRANT_BULK_MAX")->check(CLI::Range(1u, engine::evidence::bulk_items_hard_max))->capture_default_str();
  app.add_option("--decision-log-batch-max", o.engine.decision_log.batch_decisions_max,
                 "Decisions per decision-log batch before a shard hands it to the writer mid-turn")
      ->envname("WARRANT_DECISION_LOG_BATCH_MAX")->check(CLI::Range(1, 65536))->capture_default_str();
  app.add_option("--decision-log-pending-max", o.engine.decision_log.shard_pending_max,
                 "Decisions per shard answered but not yet committed; beyond: 503 OVERLOADED")
      ->envname("WARRANT_DECISION_LOG_PENDING_MAX")->check(CLI::Range(1, 10'000'000))->capture_default_str();
  app.add_option("--decision-log-linger-us", o.engine.decision_log.linger_us,
                 "While only decisions wait for the writer, commit them at most this often (0: at once)")
      ->envname("WARRANT_DECISION_LOG_LINGER_US")->check(CLI::Range(0, 1'000'000))->capture_default_str();
  app.add_option("--auth-failures-per-minute", o.engine.guard.auth_failures_per_minute,
                 "Failed authentications per client address per minute before 429 (0: no limit)")
      ->envname("WARRANT_AUTH_FAILURES_PER_MINUTE")
      ->check(CLI::Range(0u, engine::auth_failures_per_minute_max))->capture_default_str();
}

// Waits for SIGTERM/SIGINT, drains, and returns the exit status.
int serve(net::server& server, engine::ops_state& ops, engine::app& engine_app) {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGHUP);
  sigaddset(&set, SIGUSR1);
  while (true) {
    int sig = 0;
    sigwait(&set, &sig);
    if (sig == SIGHUP) {
      const engine::evidence::policy_reload_result r = engine_app.reload_policy();
      if (r.ok) {
        std::fprintf(stderr, "warrantd: SIGHUP: policy %s in force (was %s), from %s\n", r.version.c_str(),
                     r.previous_version.c_str(), r.source.c_str());
      } else {
        std::fprintf(stderr, "warrantd: SIGHUP: policy file %s rejected, keeping %s: %s\n", r.source.c_str(),
                     r.version.c_str(), r.error.to_string().c_str());
      }
      continue;
    }
    if (sig == SIGTERM || sig == SIGINT) break;
  }
  std::fprintf(stderr, "warrantd: draining\n");
  ops.draining.store(true);
  server.stop();
  const pthread_t main_thread = pthread_self();
  std::thread joiner([&server, main_thread] {
    server.join();
    pthread_kill(main_thread, SIGUSR1);
  });
  while (true) {
    int sig = 0;
    sigwait(&set, &sig);
    if (sig == SIGUSR1) break;
    if (sig == SIGTERM || sig == SIGINT) {
      std::fprintf(stderr, "warrantd: second signal, exiting without draining\n");
      std::fflush(stderr);
      std::_Exit(1);
    }
  }
  joiner.join();
  engine_app.stop();  // flushes what the shards submitted, then stops the writer
  std::fprintf(stderr, "warrantd: stopped\n");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  // Every thread inherits this mask; the main thread alone takes signals, with sigwait.
  sigset_t set;
  sigemptyset(&set);
  for (int sig : {SIGTERM, SIGINT, SIGHUP, SIGUSR1, SIGPIPE}) sigaddset(&set, sig);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);

  CLI::App app{"warrantd: the Warrant authorization and evidence server"};
  app.set_version_flag("--version", fmt::format("warrantd {} ({}, {})", build::version, build::commit,
                                                build::build_type));
  options opts;
  add_options(app, opts);
  try {
    // The config file only supplies defaults below the environment (see tools/config_file.h).
    tools::apply_config_file_as_env(argc, argv, "WARRANT_", app);
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "warrantd: %s\n", e.what());
    return 2;
  }

  try {
    storage::data_dir data = storage::data_dir::open(opts.data_dir);
    opts.engine.map_size_bytes = opts.map_size_mb << 20;
    opts.engine.idempotency_ttl_ms = std::llround(opts.idempotency_ttl_hours * 3'600'000.0);
    opts.engine.max_readers = static_cast<unsigned>(opts.server.shards * 2 + 64);
    engine::app engine_app(data, opts.engine);
    net::router routes;
    engine::ops_state ops;
    // File I/O stays off the shards: /readyz reads the probe's last answer (at most 1 s old).
    storage::writability_probe data_probe(data, std::chrono::seconds(1));
    ops.checks.push_back({"storage", [&data_probe] { return data_probe.writable(); }});
    engine::register_ops_routes(routes, ops);
    engine_app.register_routes(routes);
    net::metrics_registry metrics(routes, opts.server.shards);
    ops.metrics = &metrics;

    opts.server.shard.turn_end = engine_app.shard_turn_hook();  // the decision log's group-commit point
    opts.server.shard.receive_batch = engine_app.access_guard().receive_hook();  // key lookups warmed per turn
    net::server server(opts.server, routes, metrics);
    server.start();
    engine_app.attach(server, metrics, ops);
    std::printf("warrantd ready on %s shards=%zu data-dir=%s pid=%d\n", server.address().c_str(),
                server.shard_count(), data.path().c_str(), static_cast<int>(getpid()));
    std::fflush(stdout);
    return serve(server, ops, engine_app);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "warrantd: %s\n", e.what());
    return 1;
  }
}

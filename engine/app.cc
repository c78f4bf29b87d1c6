#include "engine/app.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include "engine/audit/audit_routes.h"
#include "engine/guard/identity_routes.h"
#include "engine/tenancy/commands.h"

namespace warrant::engine {
namespace {

// Written and synced before the bootstrap commit: a crash in between leaves a key file for a
// key that never existed, replaced on the next start, rather than an admin key nobody knows.
void write_key_file(const std::string& path, const std::string& key) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) throw std::runtime_error(fmt::format("cannot write {}: {}", path, std::strerror(errno)));
  const std::string line = key + "\n";
  const bool ok = ::fchmod(fd, 0600) == 0 && ::write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size()) &&
                  ::fsync(fd) == 0;
  const int err = errno;
  ::close(fd);
  if (!ok) throw std::runtime_error(fmt::format("cannot write {}: {}", path, std::strerror(err)));
}

// The policy routes' facts come from the entity index: the actor id is the entity's
// userExternalId within the workspace's identity namespace.
class entity_facts_source final : public evidence::facts_source {
 public:
  explicit entity_facts_source(const evidence::entity_index& entities) : _entities(entities) {}
  bool lookup(std::string_view identity_namespace, std::string_view actor_id, evidence::counted_history& history,
              evidence::claim_summary& claims) const override {
    evidence::entity_facts facts;
    if (!_entities.lookup(evidence::compute_entity_id(identity_namespace, actor_id), facts)) return false;
    history = facts.history;
    claims = facts.claims;
    return true;
  }

 private:
  const evidence::entity_index& _entities;
};

}  // namespace

app::app(const storage::data_dir& dir, const app_options& options)
    : _data_dir(dir.path()) {
  // First: a policy file that does not load stops start-up with its line-precise error.
  _policies = std::make_unique<evidence::policy_holder>(options.policy_file);
  std::fprintf(stderr, "warrantd: evidence policy %s from %s\n", std::string(_policies->current()->version()).c_str(),
               options.policy_file.empty() ? "the embedded defaults" : options.policy_file.c_str());
  storage::lmdb_options lo;
  lo.path = _data_dir + "/" + std::string(lmdb_subdir);
  lo.map_size_bytes = options.map_size_bytes;
  lo.max_readers = options.max_readers;
  int stale = 0;
  _store = storage::lmdb_store::open(lo, &stale);
  if (stale > 0) std::fprintf(stderr, "warrantd: cleared %d stale LMDB reader slots\n", stale);

  _recovery = recover_tenancy(*_store, _tenancy);
  std::fprintf(stderr,
               "warrantd: recovered %zu workspaces and %zu keys (%zu records read, log of %llu records at sequence "
               "%llu) in %.3f ms\n",
               _recovery.workspaces, _recovery.keys, _recovery.records_read,
               static_cast<unsigned long long>(_recovery.log_records),
               static_cast<unsigned long long>(_recovery.last_sequence), _recovery.seconds * 1000);

  std::fprintf(stderr, "warrantd: recovered %zu agents\n", _recovery.agents);

  _evidence_recovery = evidence::rebuild_entity_index(*_store, _entities);
  std::fprintf(stderr,
               "warrantd: rebuilt the entity index: %zu entities from %zu events and %zu claims in %.3f ms (%zu bytes "
               "in memory)\n",
               _evidence_recovery.entities, _evidence_recovery.events, _evidence_recovery.claims,
               _evidence_recovery.seconds * 1000, _entities.memory_bytes());

  // The shards start serving a moment before attach() installs the reader sampler: from here
  // on, nothing retired is freed until the sampler can vouch that no shard holds it.
  _tenancy.hold_until_sampler();
  _entities.hold_until_sampler();
  storage::writer_options writer_options = options.writer;
  writer_options.lazy_linger_us = options.decision_log.linger_us;
  _writer = std::make_unique<storage::writer>(*_store, writer_options);
  _writer->set_after_publish([this] {
    _tenancy.publish();
    _entities.reclaim();  // slot tables retired by growth, once the shards have moved on
  });
  _writer->start();
  _guard = std::make_unique<engine::guard>(_tenancy, options.guard);
  _admin = std::make_unique<admin_api>(admin_api{_tenancy, *_writer});
  _idempotency = std::make_unique<idempotency::service>(*_store, idempotency::service_options{options.idempotency_ttl_ms});
  _sweeper = std::make_unique<idempotency::sweeper>(*_store, *_writer, *_idempotency, idempotency::sweeper_options{});
  _sweeper->start();
  _reloader = std::make_unique<evidence::policy_reloader>(*_policies);
  _decisions = std::make_unique<evidence::decision_log>(*_writer, options.decision_log);
  _facts = std::make_unique<entity_facts_source>(_entities);
  _policy_api = std::make_unique<evidence::policy_api>(
      evidence::policy_api{*_policies, *_reloader, *_decisions, *_facts, *_store, options.policy});
  if (options.enable_test_routes) {
    _test_routes = std::make_unique<idempotency::test_routes>(idempotency::test_routes{*_store, *_writer, *_idempotency});
  }

  _evidence = std::make_unique<evidence::evidence_api>(
      evidence::evidence_api{*_store, *_writer, *_idempotency, _entities, *_policies});

  _agents = std::make_unique<agents_api>(agents_api{_tenancy, *_writer, *_idempotency});

  const std::string key_path = _data_dir + "/" + std::string(bootstrap_key_file);
  _bootstrap_key = bootstrap_default_workspace(*_writer, _tenancy,
                                               [&key_path](const std::string& key) { write_key_file(key_path, key); });
  if (_bootstrap_key) {
    std::fprintf(stderr,
                 "warrantd: created workspace 'default' and its admin key (shown once; also in %s):\n%s\n",
                 key_path.c_str(), _bootstrap_key->c_str());
  }
}

app::~app() { stop(); }

void app::register_routes(net::router& routes) {
  register_identity_routes(routes, *_guard);
  register_admin_routes(routes, *_guard, *_admin);
  evidence::register_policy_routes(routes, *_guard, *_policy_api);
  if (_test_routes) idempotency::register_test_routes(routes, *_guard, *_test_routes);
  evidence::register_evidence_routes(routes, *_guard, *_evidence);
  register_agent_routes(routes, *_guard, *_agents);
  register_audit_routes(routes, *_guard, *_store);
}

void app::attach(net::server& server, net::metrics_registry& metrics, ops_state& ops) {
  // Runs on the writer thread, which starts using it at its next publish.
  auto sampler = [&server](std::vector<reader_turn>& out) {
    out.clear();
    for (std::size_t i = 0; i < server.shard_count(); ++i) {
      const net::shard& s = server.shard_at(i);
      out.push_back({s.turns(), s.running()});
    }
  };
  _tenancy.set_sampler(sampler);
  _entities.set_sampler(sampler);
  metrics.add_source([this](net::byte_buffer& out) { render_writer_metrics(out, _writer->stats()); });
  metrics.add_source([this](net::byte_buffer& out) { _guard->render_metrics(out); });
  metrics.add_source([this](net::byte_buffer& out) { _idempotency->render_metrics(out); });
  metrics.add_source([this](net::byte_buffer& out) { _decisions->render_metrics(out); });
  ops.checks.push_back({"writer", [this] { return _writer->running() && _writer->healthy(); }});
}

void app::stop() {
  if (_reloader) _reloader->stop();
  // The shards have stopped: what they still buffer goes to the writer before it stops.
  if (_decisions && _writer && _writer->running()) _decisions->flush_stopped();
  if (_sweeper) _sweeper->stop();  // its pending sweep completes first: the writer still runs
  if (_writer) _writer->stop();
}

net::shard_turn_hook app::shard_turn_hook() {
  return {[](net::shard& s, void* self) { return static_cast<app*>(self)->_decisions->flush(s.index()); }, this};
}

void render_writer_metrics(net::byte_buffer& out, const storage::writer_stats& s) {
  auto put = [&out](const std::string& text) { out.append(text); };
  put(fmt::format("# HELP warrant_writer_queue_depth Commands waiting for the storage writer.\n"
                  "# TYPE warrant_writer_queue_depth gauge\nwarrant_writer_queue_depth {}\n",
                  s.queue_depth));
  put(fmt::format("# HELP warrant_writer_queue_rejections_total Writes refused with 503 because the queue was full.\n"
                  "# TYPE warrant_writer_queue_rejections_total counter\nwarrant_writer_queue_rejections_total {}\n",
                  s.queue_rejections));
  put(fmt::format("# HELP warrant_writer_commits_total Group commits that succeeded.\n"
                  "# TYPE warrant_writer_commits_total counter\nwarrant_writer_commits_total {}\n",
                  s.commits));
  put(fmt::format("# HELP warrant_writer_commit_failures_total Group commits that failed (nothing acknowledged).\n"
                  "# TYPE warrant_writer_commit_failures_total counter\nwarrant_writer_commit_failures_total {}\n",
                  s.commit_failures));
  put(fmt::format("# HELP warrant_writer_lazy_commits_total Commits of decision-log batches only, made durable by the next flush.\n"
                  "# TYPE warrant_writer_lazy_commits_total counter\nwarrant_writer_lazy_commits_total {}\n"
                  "# HELP warrant_writer_syncs_total Flushes that made a lazy commit durable when no commit followed it.\n"
                  "# TYPE warrant_writer_syncs_total counter\nwarrant_writer_syncs_total {}\n"
                  "# HELP warrant_writer_sync_failures_total Such flushes that failed (the writer is then unhealthy).\n"
                  "# TYPE warrant_writer_sync_failures_total counter\nwarrant_writer_sync_failures_total {}\n",
                  s.lazy_commits, s.syncs, s.sync_failures));
  put(fmt::format("# HELP warrant_writer_commands_total Commands by outcome.\n"
                  "# TYPE warrant_writer_commands_total counter\n"
                  "warrant_writer_commands_total{{outcome=\"committed\"}} {}\n"
                  "warrant_writer_commands_total{{outcome=\"rejected\"}} {}\n"
                  "warrant_writer_commands_total{{outcome=\"failed\"}} {}\n",
                  s.commands_committed, s.commands_rejected, s.commands_failed));
  put(fmt::format("# HELP warrant_writer_healthy 1 while commits succeed.\n# TYPE warrant_writer_healthy gauge\n"
                  "warrant_writer_healthy {}\n# HELP warrant_log_last_sequence Last committed log sequence.\n"
                  "# TYPE warrant_log_last_sequence gauge\nwarrant_log_last_sequence {}\n",
                  s.healthy ? 1 : 0, s.last_sequence));
  put("# HELP warrant_writer_batch_size Commands per group commit.\n# TYPE warrant_writer_batch_size histogram\n");
  std::uint64_t cumulative = 0;
  std::uint64_t total_commands = 0;
  for (std::size_t i = 0; i < s.batch_sizes.size(); ++i) {
    cumulative += s.batch_sizes[i];
    const std::string le = i < storage::batch_size_bounds.size() ? std::to_string(storage::batch_size_bounds[i]) : "+Inf";
    put(fmt::format("warrant_writer_batch_size_bucket{{le=\"{}\"}} {}\n", le, cumulative));
  }
  total_commands = s.commands_committed + s.commands_rejected + s.commands_failed;
  put(fmt::format("warrant_writer_batch_size_sum {}\nwarrant_writer_batch_size_count {}\n", total_commands, cumulative));
  put("# HELP warrant_writer_commit_seconds Time to apply and commit one batch.\n"
      "# TYPE warrant_writer_commit_seconds histogram\n");
  cumulative = 0;
  for (std::size_t i = 0; i < s.commit_latency.size(); ++i) {
    cumulative += s.commit_latency[i];
    const std::string le = i < storage::commit_latency_bounds_us.size()
                               ? fmt::format("{}", static_cast<double>(storage::commit_latency_bounds_us[i]) / 1e6)
                               : "+Inf";
    put(fmt::format("warrant_writer_commit_seconds_bucket{{le=\"{}\"}} {}\n", le, cumulative));
  }
  put(fmt::format("warrant_writer_commit_seconds_sum {}\nwarrant_writer_commit_seconds_count {}\n",
                  static_cast<double>(s.commit_latency_sum_us) / 1e6, cumulative));
}

}  // namespace warrant::engine

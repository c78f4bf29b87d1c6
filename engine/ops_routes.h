// engine/ops_routes.h: the operations routes every deployment probes.
//
//   GET /healthz  liveness: the process answers HTTP. Never touches storage.
//   GET /api/health  the same for the compliance family's clients: {"status":"ok"}.
//   GET /readyz   readiness: every registered check passes and the server is not draining.
//   GET /metrics  Prometheus text, every shard's counters summed.
//
// Readiness checks are added at start-up by the modules that own the state (data directory
// now; the storage writer and catalogues later); they run on the shard thread that serves
// /readyz and must be cheap and thread-safe.
#pragma once

#include <atomic>
#include <functional>
#include <string>
#include <vector>

#include "net/metrics.h"
#include "net/router.h"

namespace warrant::engine {

struct readiness_check {
  std::string name;
  std::function<bool()> ok;
};

inline constexpr std::size_t readiness_checks_max = 16;

struct ops_state {
  net::metrics_registry* metrics = nullptr;  // set once the registry exists, before serving
  std::vector<readiness_check> checks;  // at most readiness_checks_max
  std::atomic<bool> draining{false};
};

inline constexpr std::string_view healthz_body = R"({"status":"ok","service":"warrant"})";
inline constexpr std::string_view api_health_body = R"({"status":"ok"})";

void register_ops_routes(net::router& routes, ops_state& state);

}  // namespace warrant::engine

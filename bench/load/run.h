// bench/load/run.h: one whole run: threads started together, joined, stats merged.
//
// What it is for: giving each load thread its share of connections and of --requests,
// starting them on one shared clock (after every ring is set up, so set-up time is not
// measured), and merging their stats. Main thread; throws std::runtime_error when a thread
// cannot set up.
#pragma once

#include "bench/load/request_renderer.h"
#include "bench/load/run_config.h"
#include "bench/load/run_stats.h"
#include "bench/load/target.h"

namespace warrant::bench {

struct run_outcome {
  run_stats stats;
  double duration_s = 0;  // measured window: end of warmup to the end (or the last response)
};

run_outcome run_load(const run_config& config, const target& where, const request_set& requests);

}  // namespace warrant::bench

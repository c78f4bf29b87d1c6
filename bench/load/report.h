// bench/load/report.h: the run's results, for people (default) or as one JSON object.
//
// What it is for: printing the merged stats of a run. The JSON shape is what
// bench/compare-http.sh and other scripts read (documented in bench/README.md):
//   {"requests","duration_s","rps","errors":{connect,reset,timeout,parse},"status":{"200":n},
//    "latency_us":{p50,p90,p99,p999,p9999,max,mean},"connections","pipeline","threads",
//    "mode":"closed|open","target_rate", ...}
// Main thread only, after the load threads are joined.
#pragma once

#include <cstdio>
#include <string>

#include "bench/load/run_config.h"
#include "bench/load/run_stats.h"

namespace warrant::bench {

struct run_result {
  const run_config& config;
  const run_stats& stats;
  std::string target_url;
  double duration_s = 0;  // measured window
};

void print_summary(std::FILE* out, const run_result& result);
void print_json(std::FILE* out, const run_result& result);

}  // namespace warrant::bench

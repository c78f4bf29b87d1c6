// bench/load/report.cc: human summary and JSON output.
#include "bench/load/report.h"

#include <string_view>

#include <fmt/format.h>

namespace warrant::bench {

namespace {

struct percentile_row {
  std::string_view label;
  std::string_view json_key;
  double percent;
};

constexpr percentile_row percentile_rows[] = {
    {"p50", "p50", 50.0},     {"p90", "p90", 90.0},        {"p99", "p99", 99.0},
    {"p99.9", "p999", 99.9}, {"p99.99", "p9999", 99.99},
};

double us(double ns) { return ns / 1000.0; }

double rps(const run_result& r) {
  return r.duration_s > 0 ? static_cast<double>(r.stats.requests) / r.duration_s : 0.0;
}

std::string_view mode_name(loop_mode mode) { return mode == loop_mode::open ? "open" : "closed"; }

std::string json_string(std::string_view text) {
  std::string out = "\"";
  for (const char ch : text) {
    if (ch == '"' || ch == '\\') {
      out += '\\';
      out += ch;
    } else if (static_cast<unsigned char>(ch) < 0x20) {
      out += fmt::format("\\u{:04x}", static_cast<unsigned>(ch));
    } else {
      out += ch;
    }
  }
  return out + "\"";
}

std::string status_json(const run_stats& s) {
  std::string out = "{";
  for (std::size_t code = 0; code < s.status.size(); ++code) {
    if (s.status[code] == 0) continue;
    if (out.size() > 1) out += ',';
    out += fmt::format("\"{}\":{}", code, s.status[code]);
  }
  return out + "}";
}

std::string latency_json(const latency_histogram& h) {
  std::string out = "{";
  for (const percentile_row& row : percentile_rows) {
    out += fmt::format("\"{}\":{:.1f},", row.json_key, us(static_cast<double>(h.percentile_ns(row.percent))));
  }
  return out + fmt::format("\"min\":{:.1f},\"max\":{:.1f},\"mean\":{:.1f}}}", us(static_cast<double>(h.min_ns())),
                           us(static_cast<double>(h.max_ns())), us(h.mean_ns()));
}

}  // namespace

void print_json(std::FILE* out, const run_result& r) {
  const run_stats& s = r.stats;
  const error_counts& e = s.errors;
  fmt::print(out,
             "{{\"url\":{},\"mode\":\"{}\",\"threads\":{},\"connections\":{},\"pipeline\":{},\"target_rate\":{},"
             "\"requests\":{},\"duration_s\":{:.3f},\"rps\":{:.1f},"
             "\"errors\":{{\"connect\":{},\"reset\":{},\"timeout\":{},\"parse\":{},\"total\":{}}},"
             "\"status\":{},\"status_class\":{{\"2xx\":{},\"3xx\":{},\"4xx\":{},\"5xx\":{}}},"
             "\"latency_us\":{},\"bytes_received\":{},\"reconnects\":{},\"unfinished\":{}}}\n",
             json_string(r.target_url), mode_name(r.config.mode), r.config.threads, r.config.connections,
             r.config.pipeline, r.config.mode == loop_mode::open ? r.config.rate_per_s : 0.0, s.requests,
             r.duration_s, rps(r), e.connect, e.reset, e.timeout, e.parse, e.total(), status_json(s),
             s.status_class(2), s.status_class(3), s.status_class(4), s.status_class(5), latency_json(s.latency),
             s.bytes_received, s.reconnects, s.unfinished);
}

void print_summary(std::FILE* out, const run_result& r) {
  const run_stats& s = r.stats;
  const latency_histogram& h = s.latency;
  fmt::print(out, "{} ({} loop", r.target_url, mode_name(r.config.mode));
  if (r.config.mode == loop_mode::open) fmt::print(out, ", target {:.0f} req/s", r.config.rate_per_s);
  fmt::print(out, ", {} connections, pipeline {}, {} thread{})\n", r.config.connections, r.config.pipeline,
             r.config.threads, r.config.threads == 1 ? "" : "s");
  fmt::print(out, "  requests    {} in {:.2f} s = {:.1f} req/s, {:.2f} MB/s received\n", s.requests, r.duration_s,
             rps(r), r.duration_s > 0 ? static_cast<double>(s.bytes_received) / r.duration_s / 1e6 : 0.0);
  fmt::print(out, "  latency us ");
  for (const percentile_row& row : percentile_rows) {
    fmt::print(out, " {} {:.1f} ", row.label, us(static_cast<double>(h.percentile_ns(row.percent))));
  }
  fmt::print(out, " max {:.1f}  mean {:.1f}\n", us(static_cast<double>(h.max_ns())), us(h.mean_ns()));
  fmt::print(out, "  status      2xx {}, 3xx {}, 4xx {}, 5xx {}  [", s.status_class(2), s.status_class(3),
             s.status_class(4), s.status_class(5));
  const char* separator = "";
  for (std::size_t code = 0; code < s.status.size(); ++code) {
    if (s.status[code] == 0) continue;
    fmt::print(out, "{}{}: {}", separator, code, s.status[code]);
    separator = ", ";
  }
  fmt::print(out, "]\n  errors      connect {}, reset {}, timeout {}, parse {}\n", s.errors.connect, s.errors.reset,
             s.errors.timeout, s.errors.parse);
  if (s.reconnects > 0) fmt::print(out, "  reconnects  {}\n", s.reconnects);
  // In closed loop every connection always has requests in flight; in open loop a backlog
  // left at the end means the target rate was more than the server (or generator) could do.
  if (r.config.mode == loop_mode::open && s.unfinished > 0) {
    fmt::print(out, "  backlog     {} requests due but unanswered at the end\n", s.unfinished);
  }
}

}  // namespace warrant::bench

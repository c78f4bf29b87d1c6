// bench/storage_bench.cc: durable appends through storage::writer against raw LMDB, measured
// in the same run on the same disk, and the time start-up recovery takes to read the log.
//
// Workloads (every commit synchronous, every record 100 bytes: 16-byte envelope + 84):
//   raw_1       raw LMDB C API, one transaction (mdb_txn_commit) per record
//   raw_64      raw LMDB C API, 64 records per transaction
//   writer_PxK  storage::writer over lmdb_store, P producer threads each keeping K commands in
//               flight (a producer waits for a command's completion before reusing it, like a
//               client waiting for its ack); one log record per command. Each completion wakes
//               its producer (a futex wake per command whose producer sleeps)
//   grouped_PxK the same, but the commands name their producer's completion_waker: complete()
//               only marks the command done, the writer wakes each producer once per batch, and
//               the producer resubmits every command it finds done -- how a shard is woken
//               (one eventfd write per batch) and answers all its clients' completions
//   broadcast_PxK  grouped, but all P producers share one waker: one FUTEX_WAKE per batch wakes
//               every sleeping producer (threads waiting on a shared "batch committed" word)
//   recovery    a log of N records (written 100k per transaction), closed, then timed: open +
//               read-ahead (lmdb_store::readahead, what engine recovery does before a log
//               scan) + scan decoding and checksum-verifying every record, from a cold page
//               cache (several runs), cold without the read-ahead (the old path, once), warm
//
// Each writer workload runs `--repeats` times for `--seconds` after a warm-up, each time right
// after its own raw_1 and raw_64 references; the report gives median, min and max records/s
// and the per-run ratios writer/raw_1 and writer/raw_64 (median [min, max]). `--quick`
// shortens everything for a smoke run. `--json FILE` writes the figures.
#include <fcntl.h>
#include <fmt/format.h>
#include <linux/futex.h>
#include <lmdb.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "storage/lmdb_store.h"
#include "storage/record.h"
#include "storage/writer.h"

namespace {

using namespace warrant;
using clock_type = std::chrono::steady_clock;

constexpr std::size_t record_bytes = 100;
constexpr std::size_t payload_bytes = record_bytes - storage::record_header_bytes;
constexpr std::size_t map_size_bytes = 64ull << 30;
static_assert(payload_bytes == 84);

struct config {
  std::string dir;
  double seconds = 1.0;
  double warmup_seconds = 0.3;
  int repeats = 5;
  std::uint64_t recovery_records = 10'000'000;
  std::uint64_t recovery_records_per_txn = 100'000;
  std::vector<int> producers = {2, 8, 64};
  std::vector<int> in_flight = {1, 16};
  std::vector<std::string> wake = {"per-command", "grouped"};
  std::int64_t gather_us_max = storage::writer_options{}.batch_gather_us_max;
  int recovery_repeats = 3;
  bool recovery_reference = true;  // also time the cold scan without read-ahead
  bool drop_caches = false;        // cold = echo 3 > /proc/sys/vm/drop_caches (root) instead of fadvise
  bool quick = false;
  bool skip_recovery = false;
  bool skip_throughput = false;
  std::string json_path;
};

double seconds_since(clock_type::time_point t0) {
  return std::chrono::duration<double>(clock_type::now() - t0).count();
}

// A log payload shaped like the server's: a few fields, padded to exactly 84 bytes.
std::string make_payload(std::uint64_t i) {
  storage::field_writer f;
  f.bytes(1, fmt::format("ws_{:016x}", i % 1000)).bytes(2, fmt::format("key_{:016x}", i)).u64(3, 1'700'000'000'000 + i);
  const std::size_t used = f.str().size() + 2;  // the filler's tag and 1-byte length
  f.bytes(4, std::string(payload_bytes - used, 'x'));
  if (f.str().size() != payload_bytes) throw std::logic_error("payload size");
  return f.take();
}

std::string fresh_dir(const config& cfg, const std::string& name) {
  const std::string path = cfg.dir + "/" + name;
  std::filesystem::remove_all(path);
  std::filesystem::create_directories(path);
  return path;
}

// ---- (a), (b): raw LMDB --------------------------------------------------------------------

void check(int rc, const char* what) {
  if (rc != 0) throw std::runtime_error(fmt::format("{}: {}", what, mdb_strerror(rc)));
}

struct raw_env {
  MDB_env* env = nullptr;
  MDB_dbi dbi = 0;
  explicit raw_env(const std::string& path) {
    check(mdb_env_create(&env), "mdb_env_create");
    mdb_env_set_maxdbs(env, 8);
    check(mdb_env_set_mapsize(env, map_size_bytes), "mdb_env_set_mapsize");
    // The same flags as lmdb_store: synchronous commits.
    check(mdb_env_open(env, path.c_str(), MDB_NOTLS | MDB_NORDAHEAD, 0600), "mdb_env_open");
    MDB_txn* txn = nullptr;
    check(mdb_txn_begin(env, nullptr, 0, &txn), "mdb_txn_begin");
    check(mdb_dbi_open(txn, "log", MDB_CREATE, &dbi), "mdb_dbi_open");
    check(mdb_txn_commit(txn), "mdb_txn_commit");
  }
  ~raw_env() { mdb_env_close(env); }
};

// Appends records in transactions of `per_txn` for `seconds`; returns records/s.
double run_raw(const config& cfg, int per_txn, const std::string& path) {
  raw_env e(path);
  const std::string payload = make_payload(0);
  std::string value;
  std::uint64_t seq = 0;
  auto batch = [&] {
    MDB_txn* txn = nullptr;
    check(mdb_txn_begin(e.env, nullptr, 0, &txn), "mdb_txn_begin");
    for (int i = 0; i < per_txn; ++i) {
      value.clear();
      storage::encode_record(value, storage::record_type::log_key_created, payload);
      const std::string key = storage::be64_key(++seq);
      MDB_val k{key.size(), const_cast<char*>(key.data())};
      MDB_val v{value.size(), value.data()};
      check(mdb_put(txn, e.dbi, &k, &v, MDB_APPEND), "mdb_put");
    }
    check(mdb_txn_commit(txn), "mdb_txn_commit");
  };
  const auto warm = clock_type::now();
  while (seconds_since(warm) < cfg.warmup_seconds) batch();
  const std::uint64_t seq0 = seq;
  const auto t0 = clock_type::now();
  while (seconds_since(t0) < cfg.seconds) batch();
  return static_cast<double>(seq - seq0) / seconds_since(t0);
}

// ---- (c): storage::writer ------------------------------------------------------------------

struct shared_counters {
  std::atomic<std::uint64_t> committed{0};
  std::atomic<std::uint64_t> failed{0};
};

long futex(std::atomic<std::uint32_t>& word, int op, std::uint32_t value) {
  return syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&word), op, value, nullptr, nullptr, 0);
}

// A grouped producer's waker (or, broadcast, every producer's): the writer bumps `generation`
// once per batch holding any of its commands, after all their complete()s, and wakes every
// producer sleeping on it with one FUTEX_WAKE.
struct producer_waker final : storage::completion_waker {
  std::atomic<std::uint32_t> generation{0};
  std::atomic<std::uint32_t> sleepers{0};
  void wake() override {
    generation.fetch_add(1, std::memory_order_seq_cst);
    if (sleepers.load(std::memory_order_seq_cst) != 0) futex(generation, FUTEX_WAKE_PRIVATE, INT32_MAX);
  }
  // Producer: sleeps unless the generation moved past `seen`.
  void wait(std::uint32_t seen) {
    sleepers.fetch_add(1, std::memory_order_seq_cst);
    if (generation.load(std::memory_order_seq_cst) == seen) futex(generation, FUTEX_WAIT_PRIVATE, seen);
    sleepers.fetch_sub(1, std::memory_order_relaxed);
  }
};

class append_command final : public storage::command {
 public:
  // With a `grouped` waker, complete() only marks the command done; the writer wakes the
  // producer once per batch. Without, complete() wakes the producer itself if it sleeps.
  append_command(std::string payload, shared_counters& counters, producer_waker* grouped)
      : _payload(std::move(payload)), _counters(counters) {
    waker = grouped;
  }
  storage::apply_status apply(storage::write_txn&, storage::log_appender& log) override {
    log.append(storage::record_type::log_key_created, _payload);
    return storage::apply_status::applied;
  }
  void complete(storage::outcome result) override {
    auto& counter = result == storage::outcome::committed ? _counters.committed : _counters.failed;
    counter.fetch_add(1, std::memory_order_relaxed);
    if (waker != nullptr) {
      _state.store(done, std::memory_order_seq_cst);  // before the waker's generation bump
    } else if (_state.exchange(done, std::memory_order_acq_rel) == sleeping) {
      futex(_state, FUTEX_WAKE_PRIVATE, 1);
    }
  }
  bool is_done() const { return _state.load(std::memory_order_seq_cst) == done; }
  // Producer: blocks until complete() ran. A plain futex, no spinning: libstdc++'s
  // atomic::wait spins with sched_yield first, which with 64 producers on 2 cores burns
  // the CPU the writer needs (a third of all cycles in a perf profile).
  void wait_done() {
    std::uint32_t expected = in_flight;
    if (!_state.compare_exchange_strong(expected, sleeping, std::memory_order_acquire)) return;  // already done
    while (_state.load(std::memory_order_acquire) == sleeping) futex(_state, FUTEX_WAIT_PRIVATE, sleeping);
  }
  void rearm() { _state.store(in_flight, std::memory_order_relaxed); }
  void mark_idle() { _state.store(idle, std::memory_order_relaxed); }

 private:
  static constexpr std::uint32_t in_flight = 0;
  static constexpr std::uint32_t done = 1;
  static constexpr std::uint32_t sleeping = 2;
  static constexpr std::uint32_t idle = 3;  // grouped: completed and not resubmitted

  std::string _payload;
  shared_counters& _counters;
  std::atomic<std::uint32_t> _state{in_flight};
};

using command_set = std::vector<std::unique_ptr<append_command>>;

// Keeps every command of `mine` submitted; reuses each one after its completion, in order.
// The commands outlive the writer thread's last touch (they are freed after writer::stop).
void producer_loop(storage::writer& w, command_set& mine, const std::atomic<bool>& stop) {
  auto submit = [&](append_command& c) {
    c.rearm();
    while (w.submit(&c) == storage::errc::queue_full) std::this_thread::yield();
  };
  for (auto& c : mine) submit(*c);
  for (std::size_t i = 0;; i = (i + 1) % mine.size()) {
    append_command& c = *mine[i];
    c.wait_done();
    if (stop.load(std::memory_order_relaxed)) break;
    submit(c);
  }
  for (auto& c : mine) c->wait_done();  // drain what is in flight
}

// Grouped: sleeps until the writer wakes this producer (once per batch), then resubmits every
// command found done, as a shard answers all its clients' completions on one wake-up.
void grouped_producer_loop(storage::writer& w, command_set& mine, producer_waker& waker,
                           const std::atomic<bool>& stop) {
  auto submit = [&](append_command& c) {
    c.rearm();
    while (w.submit(&c) == storage::errc::queue_full) std::this_thread::yield();
  };
  for (auto& c : mine) submit(*c);
  std::size_t in_flight = mine.size();
  while (in_flight > 0) {
    // Read the generation before looking: a wake-up after this read makes wait() return.
    const std::uint32_t seen = waker.generation.load(std::memory_order_seq_cst);
    const bool stopping = stop.load(std::memory_order_relaxed);
    bool found = false;
    for (auto& c : mine) {
      if (!c->is_done()) continue;
      found = true;
      if (stopping) {
        c->mark_idle();  // completed for good: not in flight any more
        --in_flight;
      } else {
        submit(*c);
      }
    }
    if (!found) waker.wait(seen);
  }
}

struct writer_result {
  double records_per_second = 0;
  double mean_batch = 0;
  double mean_commit_us = 0;
  double mean_completion_us = 0;  // publish + complete + wake-ups, per commit
  double mean_gather_us = 0;      // waiting for the batch's producers to resubmit, per commit
};

enum class wake_mode { per_command, grouped, broadcast };

writer_result run_writer(const config& cfg, int producers, int in_flight, wake_mode mode, const std::string& path) {
  storage::lmdb_options options;
  options.path = path;
  options.map_size_bytes = map_size_bytes;
  auto store = storage::lmdb_store::open(options);
  storage::writer_options writer_options;
  writer_options.batch_gather_us_max = cfg.gather_us_max;
  storage::writer w(*store, writer_options);
  w.start();
  shared_counters counters;
  std::atomic<bool> stop{false};
  std::vector<command_set> commands(producers);
  std::vector<producer_waker> wakers(static_cast<std::size_t>(producers));
  auto waker_of = [&](std::size_t p) -> producer_waker& { return wakers[mode == wake_mode::broadcast ? 0 : p]; };
  const bool grouped = mode != wake_mode::per_command;
  for (std::size_t p = 0; p < commands.size(); ++p) {
    for (int i = 0; i < in_flight; ++i) {
      commands[p].push_back(std::make_unique<append_command>(make_payload(i), counters, grouped ? &waker_of(p) : nullptr));
    }
  }
  std::vector<std::thread> threads;
  for (std::size_t p = 0; p < commands.size(); ++p) {
    threads.emplace_back([&, p] {
      if (grouped) {
        grouped_producer_loop(w, commands[p], waker_of(p), stop);
      } else {
        producer_loop(w, commands[p], stop);
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::duration<double>(cfg.warmup_seconds));
  const storage::writer_stats s0 = w.stats();
  const std::uint64_t c0 = counters.committed.load();
  const auto t0 = clock_type::now();
  std::this_thread::sleep_for(std::chrono::duration<double>(cfg.seconds));
  const std::uint64_t c1 = counters.committed.load();
  const double elapsed = seconds_since(t0);
  const storage::writer_stats s1 = w.stats();
  stop.store(true);
  for (auto& t : threads) t.join();
  w.stop();
  if (counters.failed.load() != 0) throw std::runtime_error("writer commands failed");
  writer_result r;
  r.records_per_second = static_cast<double>(c1 - c0) / elapsed;
  const double commits = static_cast<double>(s1.commits - s0.commits);
  r.mean_batch = commits > 0 ? static_cast<double>(s1.commands_committed - s0.commands_committed) / commits : 0;
  r.mean_commit_us =
      commits > 0 ? static_cast<double>(s1.commit_latency_sum_us - s0.commit_latency_sum_us) / commits : 0;
  r.mean_completion_us =
      commits > 0 ? static_cast<double>(s1.completion_sum_us - s0.completion_sum_us) / commits : 0;
  r.mean_gather_us = commits > 0 ? static_cast<double>(s1.gather_sum_us - s0.gather_sum_us) / commits : 0;
  return r;
}

// ---- (d): recovery -------------------------------------------------------------------------

void build_log(const config& cfg, const std::string& path) {
  storage::lmdb_options options;
  options.path = path;
  options.map_size_bytes = map_size_bytes;
  auto store = storage::lmdb_store::open(options);
  std::string value;
  for (std::uint64_t seq = 1; seq <= cfg.recovery_records;) {
    storage::write_txn* txn = nullptr;
    if (store->begin_write(txn) != storage::errc::ok) throw std::runtime_error("begin_write");
    for (std::uint64_t i = 0; i < cfg.recovery_records_per_txn && seq <= cfg.recovery_records; ++i, ++seq) {
      value.clear();
      storage::encode_record(value, storage::record_type::log_key_created, make_payload(seq));
      if (txn->append(storage::table::log, storage::be64_key(seq), value) != storage::errc::ok) {
        throw std::runtime_error("append");
      }
    }
    if (store->commit() != storage::errc::ok) throw std::runtime_error("commit");
  }
}

// Drops the environment's pages from the page cache (they are clean: every commit synced):
// per file with POSIX_FADV_DONTNEED, or the whole page cache with --drop-caches.
void evict(const config& cfg, const std::string& path) {
  for (const char* name : {"/data.mdb", "/lock.mdb"}) {
    const int fd = ::open((path + name).c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) continue;
    ::fdatasync(fd);
    ::posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
    ::close(fd);
  }
  if (cfg.drop_caches) {
    ::sync();
    std::ofstream drop("/proc/sys/vm/drop_caches");
    if (!(drop << "3" << std::flush)) throw std::runtime_error("--drop-caches: cannot write /proc/sys/vm/drop_caches");
  }
}

// What start-up recovery does: open, read data.mdb ahead (engine::replay_log does, through
// lmdb_store::readahead, before a log scan), then read the whole log in order, checking each
// record's envelope (checksum), its sequence (dense from 1) and its fields. Returns seconds.
double recover(const config& cfg, const std::string& path, bool read_ahead) {
  const auto t0 = clock_type::now();
  storage::lmdb_options options;
  options.path = path;
  options.map_size_bytes = map_size_bytes;
  auto store = storage::lmdb_store::open(options);
  if (read_ahead) store->readahead(storage::lmdb_store::readahead_bytes_default());
  storage::lmdb_store::reader r(*store);
  std::uint64_t expected = 1;
  std::uint64_t fields = 0;
  bool ok = true;
  const storage::errc scanned = r.scan(storage::table::log, "", [&](std::string_view key, std::string_view value) {
    storage::decoded_record rec;
    ok = storage::be64_value(key) == expected++ && storage::decode_record(value, rec) == storage::decode_errc::ok;
    storage::field_reader f(rec.payload);
    std::uint8_t tag = 0;
    std::string_view v;
    while (f.next(tag, v)) ++fields;
    ok = ok && !f.malformed();
    return ok;
  });
  const double elapsed = seconds_since(t0);
  if (scanned != storage::errc::ok || !ok || expected - 1 != cfg.recovery_records ||
      fields != 4 * cfg.recovery_records) {
    throw std::runtime_error(fmt::format("recovery check failed at record {}", expected - 1));
  }
  return elapsed;
}

// ---- report --------------------------------------------------------------------------------

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

// One workload's runs. Ratios are per run, against the raw references of the same run.
struct series {
  std::string name;
  std::vector<double> rates;
  std::vector<double> x_raw_1;
  std::vector<double> x_raw_64;
  std::vector<double> mean_batch;
  std::vector<double> mean_commit_us;
  std::vector<double> mean_completion_us;
  std::vector<double> mean_gather_us;
};

std::string json_array(const std::vector<double>& v, int decimals = 1) {
  std::string out = "[";
  for (std::size_t i = 0; i < v.size(); ++i) out += fmt::format("{}{:.{}f}", i == 0 ? "" : ", ", v[i], decimals);
  return out + "]";
}

struct throughput_results {
  series raw_1{"raw_1"};
  series raw_64{"raw_64"};
  std::vector<series> writers;
};

// Every writer run gets its own references: raw_1 and raw_64 measured just before it, so that
// a drift of the disk (a shared VM's neighbours) moves the pair together.
throughput_results run_throughput(const config& cfg) {
  throughput_results out;
  struct shape {
    int producers, in_flight;
    wake_mode mode;
  };
  std::vector<shape> shapes;
  for (const std::string& mode : cfg.wake) {
    const wake_mode m = mode == "grouped" ? wake_mode::grouped : mode == "broadcast" ? wake_mode::broadcast
                                                                                      : wake_mode::per_command;
    for (int p : cfg.producers) {
      for (int k : cfg.in_flight) {
        shapes.push_back({p, k, m});
        out.writers.push_back(series{fmt::format("{}_{}x{}", mode == "per-command" ? "writer" : mode, p, k)});
      }
    }
  }
  for (int run = 0; run < cfg.repeats; ++run) {
    std::size_t i = 0;
    for (const shape& sh : shapes) {
      const double raw_1 = run_raw(cfg, 1, fresh_dir(cfg, "raw1"));
      const double raw_64 = run_raw(cfg, 64, fresh_dir(cfg, "raw64"));
      const writer_result r = run_writer(cfg, sh.producers, sh.in_flight, sh.mode, fresh_dir(cfg, "writer"));
      out.raw_1.rates.push_back(raw_1);
      out.raw_64.rates.push_back(raw_64);
      series& s = out.writers[i++];
      s.rates.push_back(r.records_per_second);
      s.x_raw_1.push_back(r.records_per_second / raw_1);
      s.x_raw_64.push_back(r.records_per_second / raw_64);
      s.mean_batch.push_back(r.mean_batch);
      s.mean_commit_us.push_back(r.mean_commit_us);
      s.mean_completion_us.push_back(r.mean_completion_us);
      s.mean_gather_us.push_back(r.mean_gather_us);
    }
    fmt::print("  run {}/{} done\n", run + 1, cfg.repeats);
  }
  for (const char* name : {"/raw1", "/raw64", "/writer"}) std::filesystem::remove_all(cfg.dir + name);
  return out;
}

void print_throughput(const throughput_results& r) {
  fmt::print("\n{:<15} {:>11} {:>10} {:>10}  {:>20}  {:>20} {:>6} {:>7} {:>7} {:>7}\n", "workload", "median/s",
             "min/s", "max/s", "x raw_1 med [min,max]", "x raw_64 med [min,max]", "batch", "commit", "compl", "gather");
  auto rates = [](const series& s) {
    return fmt::format("{:<15} {:>11.0f} {:>10.0f} {:>10.0f}", s.name, median(s.rates),
                       *std::min_element(s.rates.begin(), s.rates.end()),
                       *std::max_element(s.rates.begin(), s.rates.end()));
  };
  auto ratio = [](const std::vector<double>& v) {
    return fmt::format("{:>7.2f} [{:.2f},{:.2f}]", median(v), *std::min_element(v.begin(), v.end()),
                       *std::max_element(v.begin(), v.end()));
  };
  fmt::print("{}\n", rates(r.raw_1));
  fmt::print("{}\n", rates(r.raw_64));
  for (const series& s : r.writers) {
    fmt::print("{}  {:>20}  {:>20} {:>6.1f} {:>5.0f}us {:>5.0f}us {:>5.0f}us\n", rates(s), ratio(s.x_raw_1),
               ratio(s.x_raw_64), median(s.mean_batch), median(s.mean_commit_us), median(s.mean_completion_us),
               median(s.mean_gather_us));
  }
}

std::string throughput_json(const config& cfg, const throughput_results& r) {
  std::string json = fmt::format("  \"record_bytes\": {},\n  \"seconds\": {},\n  \"repeats\": {},\n", record_bytes,
                                 cfg.seconds, cfg.repeats);
  for (const series* s : {&r.raw_1, &r.raw_64}) {
    json += fmt::format("  \"{}\": {{\"median\": {:.1f}, \"runs\": {}}},\n", s->name, median(s->rates),
                        json_array(s->rates));
  }
  json += "  \"writer\": [\n";
  for (std::size_t i = 0; i < r.writers.size(); ++i) {
    const series& s = r.writers[i];
    json += fmt::format(
        "    {{\"name\": \"{}\", \"median\": {:.1f}, \"runs\": {}, \"x_raw_1\": {}, \"x_raw_64\": {}, "
        "\"mean_batch\": {}, \"mean_commit_us\": {}, \"mean_completion_us\": {}, \"mean_gather_us\": {}}}{}\n",
        s.name, median(s.rates), json_array(s.rates), json_array(s.x_raw_1, 3), json_array(s.x_raw_64, 3),
        json_array(s.mean_batch), json_array(s.mean_commit_us, 0), json_array(s.mean_completion_us, 0),
        json_array(s.mean_gather_us, 0), i + 1 == r.writers.size() ? "" : ",");
  }
  return json + "  ]";
}

// Builds the log, then times recovery: cold with read-ahead (recovery_repeats times), cold
// without it (the old path, once, unless --no-recovery-reference), and warm.
std::string run_recovery(const config& cfg) {
  const std::string path = fresh_dir(cfg, "recovery");
  fmt::print("\nrecovery: building a log of {} records ({} per txn)...\n", cfg.recovery_records,
             cfg.recovery_records_per_txn);
  const auto b0 = clock_type::now();
  build_log(cfg, path);
  const double build_s = seconds_since(b0);
  const auto bytes = std::filesystem::file_size(path + "/data.mdb");
  std::vector<double> cold_s;
  for (int i = 0; i < cfg.recovery_repeats; ++i) {
    evict(cfg, path);
    cold_s.push_back(recover(cfg, path, true));
  }
  double reference_s = 0;
  if (cfg.recovery_reference) {
    evict(cfg, path);
    reference_s = recover(cfg, path, false);
  }
  const double warm_s = recover(cfg, path, true);
  std::filesystem::remove_all(path);

  const auto rate = [&](double s) { return static_cast<double>(cfg.recovery_records) / s; };
  fmt::print("recovery: {} records, data.mdb {:.0f} MiB, built in {:.1f} s; cold cache by {}\n", cfg.recovery_records,
             static_cast<double>(bytes) / (1 << 20), build_s, cfg.drop_caches ? "drop_caches" : "fadvise(DONTNEED)");
  if (!cold_s.empty()) {
    fmt::print("recovery: open + read-ahead + scan + verify, cold cache: median {:.2f} s [{:.2f}, {:.2f}] over {} runs "
               "({:.0f} rec/s)\n",
               median(cold_s), *std::min_element(cold_s.begin(), cold_s.end()),
               *std::max_element(cold_s.begin(), cold_s.end()), cold_s.size(), rate(median(cold_s)));
  }
  if (cfg.recovery_reference) {
    fmt::print("recovery: open + scan + verify, no read-ahead, cold cache: {:.2f} s ({:.0f} rec/s)\n", reference_s,
               rate(reference_s));
  }
  fmt::print("recovery: open + read-ahead + scan + verify, warm cache:  {:.2f} s ({:.0f} rec/s)\n", warm_s,
             rate(warm_s));
  return fmt::format(
      "  \"recovery\": {{\"records\": {}, \"data_bytes\": {}, \"build_s\": {:.2f}, \"cold_s\": {}, "
      "\"cold_no_readahead_s\": {:.3f}, \"warm_s\": {:.3f}}}",
      cfg.recovery_records, bytes, build_s, json_array(cold_s, 3), reference_s, warm_s);
}

config parse(int argc, char** argv) {
  config cfg;
  CLI::App app{"Durable appends through storage::writer vs raw LMDB, and log recovery time"};
  app.add_option("--dir", cfg.dir, "Scratch directory on the disk under test (default: a new /tmp dir)");
  app.add_option("--seconds", cfg.seconds, "Measured seconds per throughput run");
  app.add_option("--repeats", cfg.repeats, "Runs per throughput workload (median reported)");
  app.add_option("--recovery-records", cfg.recovery_records, "Records in the recovery log");
  app.add_option("--recovery-records-per-txn", cfg.recovery_records_per_txn, "Records per txn when building it");
  app.add_option("--producers", cfg.producers, "Producer thread counts for the writer")->delimiter(',');
  app.add_option("--in-flight", cfg.in_flight, "Commands in flight per producer")->delimiter(',');
  app.add_option("--wake", cfg.wake, "How producers are woken: per-command, grouped, broadcast (default: the first two)")
      ->delimiter(',')
      ->check(CLI::IsMember({"per-command", "grouped", "broadcast"}));
  app.add_option("--gather-us-max", cfg.gather_us_max, "writer_options::batch_gather_us_max (0: no gathering)")
      ->capture_default_str();
  app.add_option("--recovery-repeats", cfg.recovery_repeats, "Cold recoveries (with read-ahead) to time");
  app.add_flag("!--no-recovery-reference", cfg.recovery_reference,
               "Skip the cold recovery without read-ahead (the old path; ~25 s here)");
  app.add_flag("--drop-caches", cfg.drop_caches,
               "Make the cache cold with 'echo 3 > /proc/sys/vm/drop_caches' (root) instead of fadvise");
  app.add_flag("--quick", cfg.quick, "Smoke run: 0.3 s, 1 repeat, 200k-record recovery log");
  app.add_flag("--skip-recovery", cfg.skip_recovery, "Skip the recovery workload");
  app.add_flag("--skip-throughput", cfg.skip_throughput, "Skip the append workloads");
  app.add_option("--json", cfg.json_path, "Also write the results as JSON to this file");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    std::exit(app.exit(e));
  }
  if (cfg.quick) {
    if (app.count("--seconds") == 0) cfg.seconds = 0.3;
    if (app.count("--repeats") == 0) cfg.repeats = 1;
    if (app.count("--recovery-records") == 0) cfg.recovery_records = 200'000;
    if (app.count("--recovery-repeats") == 0) cfg.recovery_repeats = 1;
    cfg.warmup_seconds = 0.1;
  }
  return cfg;
}

}  // namespace

int main(int argc, char** argv) {
  config cfg = parse(argc, argv);
  const bool own_dir = cfg.dir.empty();
  if (own_dir) {
    std::string pattern = "/tmp/warrant-storage-bench-XXXXXX";
    if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp");
    cfg.dir = pattern;
  }
  fmt::print("storage-bench: dir {}, {} s x {} runs per workload, {}-byte records, {} cpus\n", cfg.dir, cfg.seconds,
             cfg.repeats, record_bytes, std::thread::hardware_concurrency());
  int status = 0;
  try {
    std::vector<std::string> parts;
    if (!cfg.skip_throughput) {
      const throughput_results results = run_throughput(cfg);
      print_throughput(results);
      parts.push_back(throughput_json(cfg, results));
    }
    if (!cfg.skip_recovery) parts.push_back(run_recovery(cfg));
    std::string json = "{\n";
    for (std::size_t i = 0; i < parts.size(); ++i) json += (i == 0 ? "" : ",\n") + parts[i];
    json += "\n}\n";
    if (!cfg.json_path.empty()) std::ofstream(cfg.json_path) << json;
  } catch (const std::exception& e) {
    fmt::print(stderr, "storage-bench: {}\n", e.what());
    status = 1;
  }
  if (own_dir) std::filesystem::remove_all(cfg.dir);
  return status;
}

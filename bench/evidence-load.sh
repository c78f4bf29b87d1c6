#!/usr/bin/env bash
# bench/evidence-load.sh: the evidence routes under load, against references measured in the
# same run.
#
# What it is for: issue 5, point 10. Targets: POST /v1/policy/evaluate costs ≤ 1.2× the server
# CPU per request of GET /healthz; durable event ingestion (POST /v1/events) reaches ≥ 25× the
# records/s of raw LMDB with one transaction per record (raw_1 of warrant-storage-bench) on the
# same disk, in the same run.
#
# What it does:
#   1. starts `warrantd --shards 1` on a scratch data directory (CPU 0; warrant-bench on CPU 1,
#      as compare-http.sh), provisions WORKSPACES workspaces with one key each through the
#      admin API (bench/guard_provision.py) and raises their limits so nothing is refused;
#   2. writes the template files (bench/templates/evidence_templates.py): entities
#      u-0 .. u-(ENTITIES-1) per workspace, drawn Zipf(ZIPF_S) per request (u-0 the hottest);
#   3. seeds history: BACKFILL events 40-100 days old for the SEEDED hottest entities of every
#      workspace (about 230 events for ranks 0-9, 60 for 10-99, 14 for the rest, so that tiers
#      3, 2, 1 and 0 all occur), then prints the tier of a few entities;
#   4. ROUNDS interleaved rounds (order reversed every other round) of the ARMS, each an
#      unmeasured warm-up of WARMUP s and DURATION measured seconds, CONNECTIONS × 1 in flight:
#        healthz     GET /healthz (the reference)
#        evaluate    POST /v1/policy/evaluate, 14 actions mixed (data.export_pii 30 %)
#        export_pii  the same, data.export_pii only
#        bulk100     POST /v1/policy/evaluate/bulk with 100 items
#        events      POST /v1/events, no occurredAt (never auto-deduplicated): durable appends
#        events@p16  the same, 16 pipelined per connection: handled without waiting for each
#                    other's commit (net/shard.h, "Pipelined writes"), so they share commits
#      NAME@pN keeps N requests in flight per connection (ratios then against healthz@pN);
#      and, in every round, `warrant-storage-bench --producers 1 --in-flight 1` on the scratch
#      directory (same disk), whose raw_1 is the ingestion reference. Server CPU per request:
#      utime + stime of warrantd from /proc/PID/stat over the measured run ÷ responses; the
#      storage writer thread's part of it (thread `warrant-writer`) is printed per run and
#      kept as `writer_share` (median [min, max]) in OUT, and so is the part spent outside the
#      kernel (utime alone, `user_us` per request: what warrantd's own code costs), and the
#      scratch disk's write requests and cache flushes per 1000 requests (from
#      /sys/class/block/<dev>/stat, the whole device: other writers to it count too);
#   5. prints a table and the ratios (median [min, max] over the rounds; for the evaluate
#      arms with 5 rounds or more also the 95 % bootstrap interval of the median,
#      bench/round_stats.py) and writes OUT.
#
# Builds nothing: needs the Release build
#   cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release && cmake --build build -j2
# Needs curl, taskset, python3 (standard library). About 3 minutes with the defaults.
# Environment (defaults in brackets):
#   ROUNDS [3]  DURATION [4]  WARMUP [1]  CONNECTIONS [64]
#   ARMS ["healthz evaluate export_pii bulk100 events events@p16"]
#   WORKSPACES [8]  ENTITIES [100000]  ZIPF_S [1.1]  SEEDED [500]
#   RAW_SECONDS [3]     seconds of raw_1 per round (0: no storage reference)
#   OUT [bench/results/evidence-load-<date>.json]
#   WARRANTD [build/tools/warrantd]  BENCH [build/bench/warrant-bench]
#   STORAGE_BENCH [build/bench/warrant-storage-bench]  PORT [a free one]  KEEP [0]
set -euo pipefail

cd "$(dirname "$0")/.."

ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-4}
WARMUP=${WARMUP:-1}
CONNECTIONS=${CONNECTIONS:-64}
ARMS=${ARMS:-healthz evaluate export_pii bulk100 events events@p16}
WORKSPACES=${WORKSPACES:-8}
ENTITIES=${ENTITIES:-100000}
ZIPF_S=${ZIPF_S:-1.1}
SEEDED=${SEEDED:-500}
RAW_SECONDS=${RAW_SECONDS:-3}
STAMP=$(date +%Y%m%d-%H%M%S)
OUT=${OUT:-bench/results/evidence-load-$STAMP.json}
WARRANTD=${WARRANTD:-build/tools/warrantd}
BENCH=${BENCH:-build/bench/warrant-bench}
STORAGE_BENCH=${STORAGE_BENCH:-build/bench/warrant-storage-bench}
KEEP=${KEEP:-0}
CLK_TCK=$(getconf CLK_TCK)

say() { printf 'evidence-load: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }

for b in "$BENCH" "$WARRANTD" "$STORAGE_BENCH"; do [ -x "$b" ] || die "$b not found: build first (see the top of this script)"; done
for tool in curl taskset python3; do command -v "$tool" >/dev/null || die "$tool is needed"; done

if [ "$(nproc)" -ge 2 ]; then
  SERVER_PIN=(taskset -c 0)
  BENCH_PIN=(taskset -c 1)
else
  say "fewer than 2 CPUs: running without pinning (numbers will be noisy)"
  SERVER_PIN=()
  BENCH_PIN=()
fi

WORK_DIR=$(mktemp -d /tmp/evidence-load.XXXXXX)
SERVER_PID=""

stop_server() {
  [ -n "$SERVER_PID" ] || return 0
  kill -TERM "$SERVER_PID" 2>/dev/null || true
  for _ in $(seq 50); do
    kill -0 "$SERVER_PID" 2>/dev/null || break
    sleep 0.1
  done
  kill -KILL "$SERVER_PID" 2>/dev/null || true
  wait "$SERVER_PID" 2>/dev/null || true
  SERVER_PID=""
}

cleanup() {
  stop_server
  if [ "$KEEP" = 1 ]; then say "scratch directory kept: $WORK_DIR"; else rm -rf "$WORK_DIR"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

start_server() {
  local log="$WORK_DIR/warrantd.log"
  DATA_DIR="$WORK_DIR/data"
  mkdir -p "$DATA_DIR"
  PORT=${PORT:-$(free_port)}
  "${SERVER_PIN[@]}" "$WARRANTD" --shards 1 --listen "127.0.0.1:$PORT" --data-dir "$DATA_DIR" >"$log" 2>&1 &
  SERVER_PID=$!
  BASE="http://127.0.0.1:$PORT"
  for _ in $(seq 100); do
    kill -0 "$SERVER_PID" 2>/dev/null || { cat "$log" >&2; die "warrantd exited before it was ready"; }
    if curl -sf -o /dev/null --max-time 1 "$BASE/healthz"; then return 0; fi
    sleep 0.1
  done
  cat "$log" >&2
  die "warrantd not ready at $BASE after 10 s"
}

cpu_ticks() {  # "TOTAL USER": utime + stime (fields 14, 15) of warrantd, all its threads, and
  # utime alone (the part spent outside the kernel), from one read
  local line fields
  read -r line </proc/"$SERVER_PID"/stat
  read -r -a fields <<<"${line##*) }"
  echo "$((fields[11] + fields[12])) ${fields[11]}"
}

writer_ticks() {  # the same for its storage writer thread alone (named warrant-writer)
  local task line fields
  for task in /proc/"$SERVER_PID"/task/*; do
    [ "$(cat "$task/comm" 2>/dev/null)" = warrant-writer ] || continue
    read -r line <"$task/stat"
    read -r -a fields <<<"${line##*) }"
    echo $((fields[11] + fields[12]))
    return
  done
  echo 0
}

# The block device under the scratch directory, for disk_ios; empty when it has no stat file.
scratch_disk_stat() {
  local dev
  dev=$(df --output=source "$WORK_DIR" 2>/dev/null | tail -1)
  dev=${dev#/dev/}
  [ -n "$dev" ] && [ -r "/sys/class/block/$dev/stat" ] && echo "/sys/class/block/$dev/stat"
}

disk_ios() {  # "WRITES FLUSHES" completed on the scratch device so far (stat fields 5 and 16)
  local fields
  if [ -n "$DISK_STAT" ] && read -r -a fields <"$DISK_STAT" && [ "${#fields[@]}" -ge 16 ]; then
    echo "${fields[4]} ${fields[15]}"
  else
    echo "0 0"
  fi
}

DISK_STAT=$(scratch_disk_stat || true)

arm_args() {  # NAME or NAME@pN (N requests in flight per connection instead of 1)
  local depth=1
  [[ $1 == *@p* ]] && depth=${1##*@p}
  case ${1%%@*} in
    healthz) printf '%s\n' "$BASE/healthz" ;;
    evaluate | export_pii | bulk100 | events) printf '%s\n' "$BASE/" -T "$WORK_DIR/${1%%@*}.txt" ;;
    *) die "unknown arm $1" ;;
  esac
  printf '%s\n' -c "$CONNECTIONS" -p "$depth"
}

run_arm() {  # round, arm
  local round=$1 arm=$2 json before after writer_before writer_after user_before user_after args=()
  mapfile -t args < <(arm_args "$arm")
  "${BENCH_PIN[@]}" "$BENCH" "${args[@]}" -d "$WARMUP" --json >/dev/null || die "warm-up of $arm failed"
  read -r before user_before < <(cpu_ticks)
  writer_before=$(writer_ticks)
  read -r writes_before flushes_before < <(disk_ios)
  json=$("${BENCH_PIN[@]}" "$BENCH" "${args[@]}" -d "$DURATION" --json) || die "run of $arm failed"
  read -r after user_after < <(cpu_ticks)
  writer_after=$(writer_ticks)
  read -r writes_after flushes_after < <(disk_ios)
  printf '{"kind":"http","round":%d,"arm":"%s","cpu_ticks":%d,"writer_ticks":%d,"user_ticks":%d,"disk_writes":%d,"disk_flushes":%d,"bench":%s}\n' \
    "$round" "$arm" $((after - before)) $((writer_after - writer_before)) $((user_after - user_before)) \
    $((writes_after - writes_before)) $((flushes_after - flushes_before)) "$json" >>"$WORK_DIR/runs.jsonl"
  python3 - "$json" $((after - before)) "$CLK_TCK" "$round" "$arm" $((writer_after - writer_before)) \
    $((user_after - user_before)) $((writes_after - writes_before)) $((flushes_after - flushes_before)) <<'PY' >&2
import json, sys
j = json.loads(sys.argv[1]); ticks = int(sys.argv[2]); hz = int(sys.argv[3]); writer = int(sys.argv[6])
user = int(sys.argv[7]); writes = int(sys.argv[8]); flushes = int(sys.argv[9])
n = j["requests"]
cpu = ticks * 1e6 / hz / n if n else 0
user_us = user * 1e6 / hz / n if n else 0
share = f"{100 * writer / ticks:3.0f} %" if ticks else "  - "
disk = f"disk {1000 * writes / n:.2f} writes, {1000 * flushes / n:.2f} flushes /1k req" if n else ""
print(f"evidence-load: round {sys.argv[4]} {sys.argv[5]:10s} {j['rps']:9.0f} req/s  "
      f"p50 {j['latency_us']['p50']:8.1f} us  p99 {j['latency_us']['p99']:8.1f} us  "
      f"{cpu:7.2f} CPU us/req (user {user_us:.2f}, writer {share})  {disk}  status {j['status']}  errors {j['errors']['total']}")
PY
}

run_raw() {  # round: raw LMDB, one transaction per record, on the scratch directory's disk
  local round=$1 dir="$WORK_DIR/storage-$1"
  [ "$RAW_SECONDS" != 0 ] || return 0
  mkdir -p "$dir"
  "${BENCH_PIN[@]}" "$STORAGE_BENCH" --producers 1 --in-flight 1 --seconds "$RAW_SECONDS" --repeats 1 \
    --skip-recovery --dir "$dir" --json "$WORK_DIR/storage-$round.json" >"$WORK_DIR/storage-$round.log" 2>&1 ||
    die "warrant-storage-bench failed: $(tail -3 "$WORK_DIR/storage-$round.log")"
  rm -rf "$dir"
  python3 - "$WORK_DIR/storage-$round.json" "$round" >>"$WORK_DIR/runs.jsonl" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
t = d.get("throughput", d)
print(json.dumps({"kind": "raw", "round": int(sys.argv[2]), "raw_1": t["raw_1"]["median"], "raw_64": t["raw_64"]["median"]}))
PY
  say "round $round raw_1 $(tail -n1 "$WORK_DIR/runs.jsonl")"
}

seed_history() {
  local total json
  total=$(python3 bench/templates/evidence_templates.py warrant "$WORK_DIR/keys" "$WORK_DIR" "$ENTITIES" "$ZIPF_S" "$SEEDED")
  say "seeding about $total BACKFILL events over the $SEEDED hottest entities of $WORKSPACES workspaces"
  json=$("${BENCH_PIN[@]}" "$BENCH" "$BASE/" -T "$WORK_DIR/seed.txt" -c 64 -w 0 -n "$total" -d 300 --seed 7 --json) ||
    die "seeding failed"
  echo "$json" >"$WORK_DIR/seed.json"
  python3 - "$json" <<'PY' >&2
import json, sys
j = json.loads(sys.argv[1])
print(f"evidence-load: seeded {j['requests']} events in {j['duration_s']:.1f} s ({j['rps']:.0f}/s), status {j['status']}")
PY
  local key
  key=$(sed -n 2p "$WORK_DIR/keys")
  for u in u-0 u-5 u-50 u-300 u-5000; do
    say "history of $u (workspace 2): $(curl -s -H "x-api-key: $key" "$BASE/v1/history/$u" |
      python3 -c 'import json,sys; h=json.load(sys.stdin); print({k: h[k] for k in ("tier","countedEventCount","historyAgeDays","claimStatus")})')"
  done
  say "sample evaluate: $(curl -s -H "x-api-key: $key" -H 'Content-Type: application/json' \
    -d '{"actor":{"id":"u-0"},"action":"data.export_pii"}' "$BASE/v1/policy/evaluate")"
}

report() {
  python3 - "$WORK_DIR/runs.jsonl" "$CLK_TCK" "$OUT" "$WORK_DIR/seed.json" <<'PY'
import json, statistics, subprocess, sys, datetime, os
sys.path.insert(0, "bench")
from round_stats import spread, median_ci, ci_text
runs = [json.loads(l) for l in open(sys.argv[1])]
hz = int(sys.argv[2]); out = sys.argv[3]
seed = json.load(open(sys.argv[4]))
env = os.environ
http = [r for r in runs if r["kind"] == "http"]
raw = {r["round"]: r for r in runs if r["kind"] == "raw"}
per_request = {"bulk100": 100}
def base(arm): return arm.split("@")[0]
def shape(arm): return arm[arm.index("@"):] if "@" in arm else ""
for r in http:
    b = r["bench"]; n = b["requests"]
    r["cpu_us"] = r["cpu_ticks"] * 1e6 / hz / n if n else None
def med(xs): return statistics.median(xs) if xs else None
def by_round(arm): return {r["round"]: r for r in http if r["arm"] == arm}
def ok(r): return r["bench"]["status_class"]["2xx"] / r["bench"]["duration_s"]
arms = []
for r in http:
    if r["arm"] not in arms: arms.append(r["arm"])
rows = []
for arm in arms:
    rs = by_round(arm)
    k = per_request.get(base(arm), 1)
    hz_runs = by_round("healthz" + shape(arm))
    # Only 2xx answers count as served: bulk runs can get 503 OVERLOADED (decision log behind).
    row = {"arm": arm, "runs": len(rs), "rps": med([r["bench"]["rps"] for r in rs.values()]),
           "ok_rps": med([ok(r) for r in rs.values()]),
           "decisions_per_s": med([ok(r) * k for r in rs.values()]) if base(arm) not in ("events", "healthz") else None,
           "cpu_us_per_ok_decision": med([r["cpu_ticks"] * 1e6 / hz / (ok(r) * r["bench"]["duration_s"] * k)
                                          for r in rs.values() if ok(r)]),
           "p50_us": med([r["bench"]["latency_us"]["p50"] for r in rs.values()]),
           "p99_us": med([r["bench"]["latency_us"]["p99"] for r in rs.values()]),
           "cpu_us": spread([r["cpu_us"] for r in rs.values()]),
           # the storage writer thread's part of that CPU (the decision log, durable writes)
           "writer_share": spread([r.get("writer_ticks", 0) / r["cpu_ticks"] for r in rs.values() if r["cpu_ticks"]]),
           # the part of cpu_us spent outside the kernel (parsing, the guard, deciding, rendering)
           "user_us": spread([r.get("user_ticks", 0) * 1e6 / hz / r["bench"]["requests"]
                              for r in rs.values() if r["bench"]["requests"]]),
           # the scratch device's write requests and cache flushes per 1000 requests
           "disk_writes_per_1k": spread([1000 * r.get("disk_writes", 0) / r["bench"]["requests"]
                                         for r in rs.values() if r["bench"]["requests"]]),
           "disk_flushes_per_1k": spread([1000 * r.get("disk_flushes", 0) / r["bench"]["requests"]
                                          for r in rs.values() if r["bench"]["requests"]]),
           "non_2xx": sum(r["bench"]["requests"] - r["bench"]["status_class"]["2xx"] for r in rs.values()),
           "errors": sum(r["bench"]["errors"]["total"] for r in rs.values())}
    if base(arm) != "healthz" and hz_runs:
        ratios = [rs[i]["cpu_us"] / hz_runs[i]["cpu_us"] for i in rs if i in hz_runs]
        row["cpu_over_healthz"] = spread(ratios)
        row["cpu_over_healthz_median_ci95"] = median_ci(ratios)
        if k > 1:
            # all of the run's CPU over the decisions actually made (the 503s' cost included)
            row["cpu_per_decision_over_healthz"] = spread([
                rs[i]["cpu_ticks"] * 1e6 / hz / (ok(rs[i]) * rs[i]["bench"]["duration_s"] * k) / hz_runs[i]["cpu_us"]
                for i in rs if i in hz_runs and ok(rs[i])])
    if base(arm) == "events" and raw:
        row["rps_over_raw_1"] = spread([ok(rs[i]) / raw[i]["raw_1"] for i in rs if i in raw])
    rows.append(row)
def f(x, fmt="{:.2f}"): return "-" if x is None else fmt.format(x)
def s3(v): return "-" if not v else f"{v[0]:.3f} [{v[1]:.3f},{v[2]:.3f}]"
print()
print(f"{'arm':11} {'req/s':>9} {'2xx/s':>9} {'decisions/s':>12} {'p50 us':>9} {'p99 us':>9} {'CPU us/req med [min,max]':>26} {'user us':>8}  {'÷ healthz CPU':>22} {'non-2xx':>8}")
for r in rows:
    c = r["cpu_us"]
    u = r["user_us"][0] if r["user_us"] else None
    print(f"{r['arm']:11} {r['rps']:9.0f} {r['ok_rps']:9.0f} {f(r['decisions_per_s'], '{:.0f}'):>12} {r['p50_us']:9.1f} {r['p99_us']:9.1f} "
          f"{c[0]:8.2f} [{c[1]:.2f},{c[2]:.2f}] {f(u):>8}  {s3(r.get('cpu_over_healthz')):>22} {r['non_2xx']:8d}")
print()
if raw:
    print(f"raw_1 (raw LMDB, one txn per record, same disk): median {med([r['raw_1'] for r in raw.values()]):.0f} rec/s over {len(raw)} rounds")
for r in rows:
    if "cpu_per_decision_over_healthz" in r:
        print(f"  {r['arm']}: CPU per decision ÷ /healthz request: {s3(r['cpu_per_decision_over_healthz'])}")
    if "rps_over_raw_1" in r:
        print(f"  {r['arm']}/s ÷ raw_1 rec/s (target ≥ 25): {s3(r['rps_over_raw_1'])}")
    if base(r["arm"]) in ("evaluate", "export_pii"):
        print(f"  {r['arm']} CPU ÷ /healthz (target ≤ 1.2): {s3(r.get('cpu_over_healthz'))}{ci_text(r.get('cpu_over_healthz_median_ci95'))}")
def sh(cmd):
    try: return subprocess.run(cmd, shell=True, capture_output=True, text=True).stdout.strip()
    except Exception: return ""
doc = {"date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
       "git_commit": sh("git rev-parse --short=12 HEAD") or "unknown",
       "machine": {"cpus": os.cpu_count(), "kernel": sh("uname -r"),
                   "cpu_model": sh("sed -n 's/^model name\\s*: //p' /proc/cpuinfo | head -1")},
       "settings": {k: env.get(k) for k in ("ROUNDS", "DURATION", "WARMUP", "CONNECTIONS", "ARMS", "WORKSPACES",
                                            "ENTITIES", "ZIPF_S", "SEEDED", "RAW_SECONDS")},
       "pinning": "warrantd --shards 1 on CPU 0, warrant-bench and warrant-storage-bench on CPU 1",
       "seed": {k: seed[k] for k in ("requests", "duration_s", "rps", "status")},
       "summary": rows, "raw": list(raw.values()),
       "runs": [{k: v for k, v in r.items()} for r in http]}
with open(out, "w") as fh: json.dump(doc, fh)
print(f"\nevidence-load: results written to {out}", file=sys.stderr)
PY
}

main() {
  mkdir -p "$(dirname "$OUT")"
  export ROUNDS DURATION WARMUP CONNECTIONS ARMS WORKSPACES ENTITIES ZIPF_S SEEDED RAW_SECONDS
  start_server
  say "warrantd (pid $SERVER_PID) ready on $BASE; provisioning $WORKSPACES workspaces"
  local admin_key
  admin_key=$(head -n1 "$DATA_DIR/bootstrap-admin-key")
  python3 bench/guard_provision.py create "$BASE" "$admin_key" "$WORKSPACES" "$WORKSPACES" "$WORK_DIR"
  python3 bench/guard_provision.py limits "$BASE" "$admin_key" "$WORK_DIR/workspaces" 10000000
  : >"$WORK_DIR/runs.jsonl"
  seed_history
  local r arms=() arm
  for r in $(seq "$ROUNDS"); do
    # shellcheck disable=SC2206
    if [ $((r % 2)) -eq 1 ]; then arms=($ARMS); else arms=(); for arm in $ARMS; do arms=("$arm" "${arms[@]}"); done; fi
    for arm in "${arms[@]}"; do run_arm "$r" "$arm"; done
    run_raw "$r"
  done
  report
}

main "$@"

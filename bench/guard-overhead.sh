#!/usr/bin/env bash
# bench/guard-overhead.sh: what the guard (authentication + rate limit) costs per request,
# against GET /healthz measured in the same run.
#
# What it is for: the issue-4 target "an authenticated, rate-limited request costs ≤ 1.1× the
# server CPU per request of /healthz in the same run, with 1,000 workspaces and 10,000 keys;
# and at the default limit (2000/min per workspace), where most answers are 429, a refusal
# costs no more than an acceptance".
#
# What it does:
#   1. starts `warrantd --shards 1` on a scratch data directory and a free loopback port,
#      pinned to CPU 0 (warrant-bench on CPU 1), like compare-http.sh;
#   2. provisions WORKSPACES workspaces and KEYS keys through the admin API
#      (bench/guard_provision.py; the bootstrap workspace and its key count), and raises every
#      workspace's limit to RAISED_LIMIT so that nothing is refused;
#   3. phase "raised": ROUNDS interleaved rounds (order reversed every other round, to cancel
#      drift) of the RAISED_ARMS, each an unmeasured warm-up then DURATION measured seconds:
#        healthz      GET /healthz                                 (the reference)
#        healthz+key  GET /healthz with an x-api-key header        (same request bytes, no guard)
#        me           GET /api/me, x-api-key drawn uniformly from the KEYS keys for each request
#        me-hot       the same with the first HOT_KEYS keys only (of as many workspaces): what
#                     the guard costs when its records stay in the CPU caches
#      CONNECTIONS connections, PIPELINE requests in flight on each; an arm named NAME@pN
#      keeps N in flight instead (default: the three arms at PIPELINE, and healthz and me at
#      16, the shape used again in phase "default"). Server CPU per request = utime+stime of
#      warrantd from /proc/PID/stat over the measured run / responses; ratios are taken
#      within each round and reported as median [min, max] over the rounds, with 5 rounds or
#      more also as the 95 % bootstrap interval of the median (bench/round_stats.py). Many
#      short rounds (ROUNDS=40 DURATION=2 WARMUP=0.5) pin the median down better than a few
#      long ones on a machine whose speed changes from minute to minute;
#   4. phase "default": sets every workspace back to 2000/min, then ROUNDS interleaved rounds of
#      the DEFAULT_ARMS (healthz@p16 and me@p16). Before each me run the quotas are drained
#      (pipelined load until the accepted rate is down to the limits' sum: they refill while
#      the other arm runs), so most answers are 429; with 1,000 workspaces at 2000/min the
#      server accepts 33,333/s whatever the load, hence the pipelined shape: at PIPELINE 1 the
#      load generator does not send much more than that. The CPU of one refusal is solved
#      from the mix, with s the run's 429 share:
#         mixed/healthz = (1-s) × acceptance/healthz (same shape, phase "raised") + s × refusal/healthz
#      and reported as refusal/acceptance;
#   5. prints a table, writes OUT (JSON), stops the server and removes the scratch directory.
#
# Builds nothing: needs a Release build with the benchmarks
#   cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release && cmake --build build -j2
# Needs curl, taskset, python3 (standard library). About 8 minutes with the defaults.
# Environment (defaults in brackets):
#   ROUNDS [5]  DURATION [5]  WARMUP [1]   rounds per phase; measured/warm-up seconds per arm
#   CONNECTIONS [64]  PIPELINE [1]         closed-loop shape of the arms without @pN
#   RAISED_ARMS ["healthz healthz+key me healthz@p16 me@p16 me-hot@p16"]  HOT_KEYS [10]
#   DEFAULT_ARMS ["healthz@p16 me@p16"]
#   WORKSPACES [1000]  KEYS [10000]  RAISED_LIMIT [10000000]
#   DRAIN_MAX [120]     longest drain of the quotas before a me run of phase "default", seconds
#   PHASES ["raised default"]
#   PERF [0]            1: after phase "raised", one extra run of each of PERF_ARMS
#                       ["healthz me healthz@p16 me@p16 me-hot@p16"] under `perf record` (flat profile),
#                       and of PERF_GRAPH_ARM [me@p16] with DWARF call graphs (inclusive
#                       profile); text reports next to OUT
#   OUT [bench/results/guard-overhead-<date>.json]
#   WARRANTD [build/tools/warrantd]  BENCH [build/bench/warrant-bench]  PORT [a free one]
#   KEEP [0]            1: keep the scratch directory (data, keys, templates, logs)
set -euo pipefail

cd "$(dirname "$0")/.."

ROUNDS=${ROUNDS:-5}
DURATION=${DURATION:-5}
WARMUP=${WARMUP:-1}
CONNECTIONS=${CONNECTIONS:-64}
PIPELINE=${PIPELINE:-1}
WORKSPACES=${WORKSPACES:-1000}
KEYS=${KEYS:-10000}
RAISED_LIMIT=${RAISED_LIMIT:-10000000}
DEFAULT_LIMIT=2000
DRAIN_MAX=${DRAIN_MAX:-120}
PHASES=${PHASES:-raised default}
RAISED_ARMS=${RAISED_ARMS:-healthz healthz+key me healthz@p16 me@p16 me-hot@p16}
HOT_KEYS=${HOT_KEYS:-10}
DEFAULT_ARMS=${DEFAULT_ARMS:-healthz@p16 me@p16}
PERF_ARMS=${PERF_ARMS:-healthz me healthz@p16 me@p16 me-hot@p16}
PERF_GRAPH_ARM=${PERF_GRAPH_ARM:-me@p16}
PERF=${PERF:-0}
STAMP=$(date +%Y%m%d-%H%M%S)
OUT=${OUT:-bench/results/guard-overhead-$STAMP.json}
WARRANTD=${WARRANTD:-build/tools/warrantd}
BENCH=${BENCH:-build/bench/warrant-bench}
KEEP=${KEEP:-0}
CLK_TCK=$(getconf CLK_TCK)

say() { printf 'guard-overhead: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }

[ -x "$BENCH" ] || die "$BENCH not found: build first (see the top of this script)"
[ -x "$WARRANTD" ] || die "$WARRANTD not found: build first (see the top of this script)"
for tool in curl taskset python3; do command -v "$tool" >/dev/null || die "$tool is needed"; done
[ "$KEYS" -le 10000 ] || die "KEYS: at most 10000 (one warrant-bench template per key)"
[ "$KEYS" -ge "$WORKSPACES" ] || die "KEYS must be at least WORKSPACES"

if [ "$(nproc)" -ge 2 ]; then
  SERVER_PIN=(taskset -c 0)
  BENCH_PIN=(taskset -c 1)
else
  say "fewer than 2 CPUs: running without pinning (numbers will be noisy)"
  SERVER_PIN=()
  BENCH_PIN=()
fi

WORK_DIR=$(mktemp -d /tmp/guard-overhead.XXXXXX)
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

cpu_ticks() {  # utime + stime (fields 14, 15) of warrantd, all its threads
  local line fields
  read -r line </proc/"$SERVER_PID"/stat
  read -r -a fields <<<"${line##*) }"  # fields[0] is field 3 of the file
  echo $((fields[11] + fields[12]))
}

# The /api/me template: one block per key, equal weights, so each request draws a key
# uniformly (bench/README.md, "Template files").
write_templates() {
  local key
  : >"$WORK_DIR/me.txt"
  while read -r key; do
    printf 'GET /api/me\nx-api-key: %s\n---\n' "$key"
  done <"$WORK_DIR/keys" >"$WORK_DIR/me.txt"
  # The same on the first HOT_KEYS keys only (as many workspaces): the guard's cost when
  # its records stay in cache.
  head -n "$HOT_KEYS" "$WORK_DIR/keys" | while read -r key; do
    printf 'GET /api/me\nx-api-key: %s\n---\n' "$key"
  done >"$WORK_DIR/me-hot.txt"
  SAMPLE_KEY=$(sed -n 2p "$WORK_DIR/keys")
}

arm_args() {  # arm name (healthz, healthz+key or me, with an optional @pN) → warrant-bench arguments
  local depth=$PIPELINE
  [[ $1 == *@p* ]] && depth=${1##*@p}
  case ${1%%@*} in
    healthz) printf '%s\n' "$BASE/healthz" ;;
    healthz+key) printf '%s\n' "$BASE/healthz" -H "x-api-key: $SAMPLE_KEY" ;;
    me) printf '%s\n' "$BASE/" -T "$WORK_DIR/me.txt" ;;
    me-hot) printf '%s\n' "$BASE/" -T "$WORK_DIR/me-hot.txt" ;;
    *) die "unknown arm $1" ;;
  esac
  printf '%s\n' -c "$CONNECTIONS" -p "$depth"
}

# One measured arm: warm-up, CPU ticks, measured run, CPU ticks; appends a line to RUNS.
run_arm() {  # phase, round, arm
  local phase=$1 round=$2 arm=$3 json before after args=()
  mapfile -t args < <(arm_args "$arm")
  # The quotas refilled while other arms ran: empty them again, so the run sees the steady state.
  [[ $phase == default && ${arm%%@*} == me ]] && drain_quotas
  "${BENCH_PIN[@]}" "$BENCH" "${args[@]}" -d "$WARMUP" --json >/dev/null ||
    die "warm-up of $arm failed"
  before=$(cpu_ticks)
  json=$("${BENCH_PIN[@]}" "$BENCH" "${args[@]}" -d "$DURATION" --json) ||
    die "run of $arm failed"
  after=$(cpu_ticks)
  printf '{"phase":"%s","round":%d,"arm":"%s","cpu_ticks":%d,"bench":%s}\n' \
    "$phase" "$round" "$arm" $((after - before)) "$json" >>"$WORK_DIR/runs.jsonl"
  python3 - "$json" $((after - before)) "$CLK_TCK" "$phase" "$round" "$arm" <<'PY' >&2
import json, sys
j = json.loads(sys.argv[1]); ticks = int(sys.argv[2]); hz = int(sys.argv[3])
n = j["requests"]; st = j["status"]
cpu = ticks * 1e6 / hz / n if n else 0
s429 = st.get("429", 0) / n if n else 0
print(f"guard-overhead: {sys.argv[4]} round {sys.argv[5]} {sys.argv[6]:12s} {j['rps']:10.0f} req/s  "
      f"p50 {j['latency_us']['p50']:7.1f} us  p99 {j['latency_us']['p99']:7.1f} us  "
      f"{cpu:6.2f} CPU us/req  status {st}  errors {j['errors']['total']}")
PY
}

run_rounds() {  # phase, arms...
  local phase=$1 r arms=() arm
  shift
  for r in $(seq "$ROUNDS"); do
    if [ $((r % 2)) -eq 1 ]; then arms=("$@"); else arms=(); for arm in "$@"; do arms=("$arm" "${arms[@]}"); done; fi
    for arm in "${arms[@]}"; do run_arm "$phase" "$r" "$arm"; done
  done
}

# Pipelined load on /api/me until the accepted rate is down to the limits' sum (quotas empty).
drain_quotas() {
  local steady start json
  steady=$(awk -v w="$WORKSPACES" -v l="$DEFAULT_LIMIT" 'BEGIN { printf("%d", w * l / 60) }')
  start=$SECONDS
  while true; do
    json=$("${BENCH_PIN[@]}" "$BENCH" "$BASE/" -T "$WORK_DIR/me.txt" -c 64 -p 16 -d 2 --json) ||
      die "drain run failed"
    if python3 - "$json" "$steady" <<'PY'; then break; fi
import json, sys
j = json.loads(sys.argv[1]); steady = float(sys.argv[2])
ok = j["status"].get("200", 0) / j["duration_s"]; refused = j["status"].get("429", 0)
print(f"guard-overhead: draining: {ok:.0f} accepted/s (limits' sum {steady:.0f}/s), {refused} refused", file=sys.stderr)
if ok <= 1.25 * steady and refused == 0:
    print("guard-overhead: the server does not outpace the limits' sum here: no steady 429s", file=sys.stderr)
sys.exit(0 if ok <= 1.25 * steady else 1)
PY
    [ $((SECONDS - start)) -lt "$DRAIN_MAX" ] || { say "quotas not drained after $DRAIN_MAX s; measuring anyway"; break; }
  done
}

perf_profiles() {  # flat profiles of PERF_ARMS, call graphs of PERF_GRAPH_ARM, next to OUT
  command -v perf >/dev/null || { say "perf not found: no profile"; return 0; }
  local base=${OUT%.json} arm args=() perf_pid
  for arm in $PERF_ARMS; do
    mapfile -t args < <(arm_args "$arm")
    perf record -q -F 2999 -p "$SERVER_PID" -o "$WORK_DIR/perf.data" -- sleep "$DURATION" 2>/dev/null &
    perf_pid=$!
    "${BENCH_PIN[@]}" "$BENCH" "${args[@]}" -d "$DURATION" --json >/dev/null
    wait "$perf_pid" || true
    perf report -q -i "$WORK_DIR/perf.data" --no-children --sort dso,symbol --percent-limit 0.3 2>/dev/null |
      sed -E 's/ {2,}/  /g; s/[ -]+$//' >"$base-perf-$arm.txt" || true
    say "perf profile of $arm: $base-perf-$arm.txt"
  done
  arm=$PERF_GRAPH_ARM
  mapfile -t args < <(arm_args "$arm")
  perf record -q --call-graph dwarf,16384 -F 499 -p "$SERVER_PID" -o "$WORK_DIR/perf.data" \
    -- sleep "$DURATION" 2>/dev/null &
  perf_pid=$!
  "${BENCH_PIN[@]}" "$BENCH" "${args[@]}" -d "$DURATION" --json >/dev/null
  wait "$perf_pid" || true
  perf report -q -i "$WORK_DIR/perf.data" --children --sort symbol --percent-limit 0.5 -g none 2>/dev/null |
    sed -E 's/ {2,}/  /g; s/[ -]+$//' >"$base-perf-$arm-inclusive.txt" || true
  rm -f "$WORK_DIR/perf.data"
  say "perf call-graph profile of $arm (inclusive): $base-perf-$arm-inclusive.txt"
}

report() {
  mkdir -p "$(dirname "$OUT")"
  python3 - "$WORK_DIR/runs.jsonl" "$CLK_TCK" "$OUT" <<'PY'
import json, statistics, subprocess, sys, datetime, os
sys.path.insert(0, "bench")
from round_stats import spread, median_ci, ci_text
runs = [json.loads(l) for l in open(sys.argv[1])]
hz = int(sys.argv[2]); out = sys.argv[3]
env = os.environ
for r in runs:
    b = r["bench"]; n = b["requests"]
    r["cpu_us"] = r["cpu_ticks"] * 1e6 / hz / n if n else None
    r["share_429"] = b["status"].get("429", 0) / n if n else None
def med(xs): return statistics.median(xs) if xs else None
def arm_runs(phase, arm): return [r for r in runs if r["phase"] == phase and r["arm"] == arm]
def by_round(phase, arm): return {r["round"]: r for r in arm_runs(phase, arm)}
def pooled_cpu(rs):  # all ticks over all responses
    n = sum(r["bench"]["requests"] for r in rs)
    return sum(r["cpu_ticks"] for r in rs) * 1e6 / hz / n if n else None
def round_ratios(phase, num, den="healthz"):
    a, b = by_round(phase, num), by_round(phase, den)
    return [a[k]["cpu_us"] / b[k]["cpu_us"] for k in sorted(a) if k in b and b[k]["cpu_us"]]

def suffix(arm): return arm[arm.index("@"):] if "@" in arm else ""
def base(arm): return arm.split("@")[0]
order = []
for r in runs:
    if (r["phase"], r["arm"]) not in order: order.append((r["phase"], r["arm"]))
summary = {"arms": [], "ratios": []}
rows = []
for phase, arm in order:
    rs = arm_runs(phase, arm)
    row = {"phase": phase, "arm": arm, "runs": len(rs),
           "rps": med([r["bench"]["rps"] for r in rs]),
           "p50_us": med([r["bench"]["latency_us"]["p50"] for r in rs]),
           "p99_us": med([r["bench"]["latency_us"]["p99"] for r in rs]),
           "cpu_us": spread([r["cpu_us"] for r in rs]), "cpu_us_pooled": pooled_cpu(rs),
           "share_429": med([r["share_429"] for r in rs]),
           "errors": sum(r["bench"]["errors"]["total"] for r in rs)}
    ref = "healthz" + suffix(arm)
    if base(arm) != "healthz" or arm != ref:
        if by_round(phase, ref): row["ratio_vs_healthz"] = spread(round_ratios(phase, arm, ref))
    summary["arms"].append(row); rows.append(row)

def add_ratio(name, values, what):
    if values: summary["ratios"].append({"name": name, "what": what, "median_min_max": spread(values),
                                         "median_ci95": median_ci(values), "rounds": len(values)})
for phase, arm in order:
    if phase != "raised" or base(arm) not in ("me", "me-hot"): continue
    sfx = suffix(arm); shape = sfx[1:] if sfx else f"p{env.get('PIPELINE', '1')}"
    hot = base(arm) == "me-hot"
    add_ratio(f"{base(arm)}_over_healthz{sfx}", round_ratios("raised", arm, "healthz" + sfx),
              f"accepted /api/me{' (hot keys)' if hot else ''} ÷ /healthz, {shape}{'' if hot else ' (target ≤ 1.10)'}")
    if hot: continue
    if by_round("raised", "healthz+key" + sfx):
        add_ratio(f"me_over_healthz_with_key{sfx}", round_ratios("raised", arm, "healthz+key" + sfx),
                  f"accepted /api/me ÷ /healthz with the same key header, {shape}")
for phase, arm in order:
    if phase != "default" or base(arm) != "me": continue
    sfx = suffix(arm); shape = sfx[1:] if sfx else f"p{env.get('PIPELINE', '1')}"
    mix = by_round("default", arm); hzd = by_round("default", "healthz" + sfx)
    acc = round_ratios("raised", arm, "healthz" + sfx)
    mixr = [mix[k]["cpu_us"] / hzd[k]["cpu_us"] for k in sorted(mix) if k in hzd]
    add_ratio(f"mixed_over_healthz{sfx}", mixr, f"default limits: /api/me (mostly 429) ÷ /healthz, {shape}")
    add_ratio(f"share_429{sfx}", [mix[k]["share_429"] for k in sorted(mix)], f"default limits: 429 share, {shape}")
    if acc:
        acc_med = med(acc)
        add_ratio(f"mixed_over_acceptance{sfx}", [m / acc_med for m in mixr],
                  f"default limits: mixed ÷ accepted /api/me, {shape}")
        refusal = []
        for k in sorted(mix):
            if k not in hzd or mix[k]["share_429"] < 0.05: continue
            m = mix[k]["cpu_us"] / hzd[k]["cpu_us"]; sh429 = mix[k]["share_429"]
            refusal.append(((m - (1 - sh429) * acc_med) / sh429) / acc_med)
        add_ratio(f"refusal_over_acceptance{sfx}", refusal, f"one refusal ÷ one acceptance, {shape} (target ≤ 1.00)")
    # The same without the /healthz normalisation: absolute CPU per request of the mixed runs
    # against the median absolute CPU per accepted request of phase "raised".
    acc_abs = [r["cpu_us"] for r in arm_runs("raised", arm)]
    if acc_abs:
        a = med(acc_abs)
        refusal_abs = [((mix[k]["cpu_us"] - (1 - mix[k]["share_429"]) * a) / mix[k]["share_429"]) / a
                       for k in sorted(mix) if mix[k]["share_429"] >= 0.05]
        add_ratio(f"refusal_over_acceptance_absolute{sfx}", refusal_abs,
                  f"one refusal ÷ one acceptance, {shape}, absolute CPU (no /healthz normalisation)")

def f(x, fmt="{:.2f}"): return "-" if x is None else fmt.format(x)
print()
print(f"{'phase':8} {'arm':14} {'req/s':>9} {'p50 us':>9} {'p99 us':>9} {'CPU us/req med [min,max]':>27} {'429':>5}  {'÷ healthz med [min,max]':>24}")
for r in rows:
    c = r["cpu_us"]; rv = r.get("ratio_vs_healthz")
    print(f"{r['phase']:8} {r['arm']:14} {r['rps']:9.0f} {r['p50_us']:9.1f} {r['p99_us']:9.1f} "
          f"{c[0]:9.3f} [{c[1]:.3f},{c[2]:.3f}] {100 * r['share_429']:4.0f}%  "
          + (f"{rv[0]:8.3f} [{rv[1]:.3f},{rv[2]:.3f}]" if rv else ""))
print()
for x in summary["ratios"]:
    v = x["median_min_max"]
    print(f"  {x['what']:62} median {v[0]:.3f} [min {v[1]:.3f}, max {v[2]:.3f}], {x['rounds']} rounds"
          + ci_text(x["median_ci95"]))

def sh(cmd):
    try: return subprocess.run(cmd, shell=True, capture_output=True, text=True).stdout.strip()
    except Exception: return ""
doc = {"date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
       "git_commit": sh("git rev-parse --short=12 HEAD") or "unknown",
       "machine": {"cpus": os.cpu_count(), "kernel": sh("uname -r"),
                   "cpu_model": sh("sed -n 's/^model name\\s*: //p' /proc/cpuinfo | head -1")},
       "settings": {k: env.get(k) for k in ("ROUNDS", "DURATION", "WARMUP", "CONNECTIONS", "PIPELINE", "WORKSPACES",
                                            "KEYS", "RAISED_LIMIT", "RAISED_ARMS", "DEFAULT_ARMS", "HOT_KEYS")},
       "pinning": "warrantd --shards 1 on CPU 0, warrant-bench on CPU 1",
       "summary": summary, "runs": runs}
with open(out, "w") as fh: json.dump(doc, fh)
print(f"\nguard-overhead: results written to {out}", file=sys.stderr)
PY
}

main() {
  mkdir -p "$(dirname "$OUT")"
  export ROUNDS DURATION WARMUP CONNECTIONS PIPELINE WORKSPACES KEYS RAISED_LIMIT RAISED_ARMS DEFAULT_ARMS HOT_KEYS
  start_server
  say "warrantd (pid $SERVER_PID) ready on $BASE; provisioning $WORKSPACES workspaces and $KEYS keys"
  local admin_key
  admin_key=$(head -n1 "$DATA_DIR/bootstrap-admin-key")
  python3 bench/guard_provision.py create "$BASE" "$admin_key" "$WORKSPACES" "$KEYS" "$WORK_DIR"
  python3 bench/guard_provision.py limits "$BASE" "$admin_key" "$WORK_DIR/workspaces" "$RAISED_LIMIT"
  write_templates
  : >"$WORK_DIR/runs.jsonl"
  say "check: $(curl -s -H "x-api-key: $SAMPLE_KEY" "$BASE/api/me")"
  if [[ " $PHASES " == *" raised "* ]]; then
    # shellcheck disable=SC2086
    run_rounds raised $RAISED_ARMS
    [ "$PERF" = 1 ] && perf_profiles
  fi
  if [[ " $PHASES " == *" default "* ]]; then
    python3 bench/guard_provision.py limits "$BASE" "$admin_key" "$WORK_DIR/workspaces" "$DEFAULT_LIMIT"
    # shellcheck disable=SC2086
    run_rounds default $DEFAULT_ARMS
  fi
  report
}

main "$@"

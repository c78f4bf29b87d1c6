#!/usr/bin/env bash
# bench/compare-peers.sh: warrantd's policy routes against Cerbos, same machine, same run.
#
# What it is for: issue 5, point 10. Targets: evaluate requests/s ≥ 40× Cerbos with one
# resource per request; evaluate p99 ≤ 1/20 of Cerbos's; bulk-100 decisions/s ≥ 100× Cerbos with
# 100 resources per request.
#
# What it does:
#   1. installs Cerbos from npm (@cerbos/cerbos-linux-x64) into CERBOS_DIR with
#      `npm install --prefix` (nothing global), unless it is there already;
#   2. writes a Cerbos config (disk policy store without watching, audit off, telemetry off,
#      log level error) and one resource policy, kind `data`:
#        allow data.export_pii to role `user` when
#          request.principal.attr.tier >= 2 && request.principal.attr.claimStatus != "flagged"
#      the equivalent of warrantd's "STEP_UP or better for data.export_pii, none if flagged";
#      Cerbos keeps no facts, so the caller sends tier and claimStatus as principal attributes;
#   3. starts Cerbos (GOMAXPROCS=1) and warrantd (--shards 1) both on CPU 0, warrant-bench on
#      CPU 1 (as compare-http.sh), checks that Cerbos answers EFFECT_ALLOW/EFFECT_DENY as the
#      rule says for four principals (stops if not), provisions WORKSPACES workspaces on
#      warrantd and seeds history as bench/evidence-load.sh does (so tiers vary);
#   4. ROUNDS interleaved rounds (order reversed every other round; the idle server costs
#      nothing meanwhile) of WARMUP s unmeasured + DURATION s measured, CONNECTIONS × 1:
#        cerbos1      POST /api/check/resources, 1 resource, principal u-{{zipf}} with random
#                     tier/claimStatus attributes
#        cerbos100    the same with 100 resources (one principal, 100 decisions)
#        evaluate     warrantd POST /v1/policy/evaluate, data.export_pii, actor u-{{zipf}}
#        bulk100      warrantd POST /v1/policy/evaluate/bulk, 100 items of data.export_pii
#      Server CPU per request: utime + stime of that server's process from /proc/PID/stat over
#      the measured run ÷ responses;
#   5. prints a table and the ratios (per round, median [min, max]) and writes OUT.
#
# Builds nothing: needs the Release build (see bench/evidence-load.sh). Needs npm, curl,
# taskset, python3. About 3 minutes with the defaults, plus the npm download the first time.
# Environment (defaults in brackets):
#   ROUNDS [3]  DURATION [4]  WARMUP [1]  CONNECTIONS [64]
#   ARMS ["cerbos1 cerbos100 evaluate bulk100"]
#   WORKSPACES [8]  ENTITIES [100000]  ZIPF_S [1.1]  SEEDED [500]
#   CERBOS_DIR [/tmp/cerbos-npm]  CERBOS_VERSION [latest]
#   OUT [bench/results/compare-peers-<date>.json]
#   WARRANTD [build/tools/warrantd]  BENCH [build/bench/warrant-bench]  KEEP [0]
set -euo pipefail

cd "$(dirname "$0")/.."

ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-4}
WARMUP=${WARMUP:-1}
CONNECTIONS=${CONNECTIONS:-64}
ARMS=${ARMS:-cerbos1 cerbos100 evaluate bulk100}
WORKSPACES=${WORKSPACES:-8}
ENTITIES=${ENTITIES:-100000}
ZIPF_S=${ZIPF_S:-1.1}
SEEDED=${SEEDED:-500}
CERBOS_DIR=${CERBOS_DIR:-/tmp/cerbos-npm}
CERBOS_VERSION=${CERBOS_VERSION:-latest}
STAMP=$(date +%Y%m%d-%H%M%S)
OUT=${OUT:-bench/results/compare-peers-$STAMP.json}
WARRANTD=${WARRANTD:-build/tools/warrantd}
BENCH=${BENCH:-build/bench/warrant-bench}
KEEP=${KEEP:-0}
CLK_TCK=$(getconf CLK_TCK)

say() { printf 'compare-peers: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }

for b in "$BENCH" "$WARRANTD"; do [ -x "$b" ] || die "$b not found: build first"; done
for tool in npm curl taskset python3; do command -v "$tool" >/dev/null || die "$tool is needed"; done

if [ "$(nproc)" -ge 2 ]; then
  SERVER_PIN=(taskset -c 0)
  BENCH_PIN=(taskset -c 1)
else
  say "fewer than 2 CPUs: running without pinning (numbers will be noisy)"
  SERVER_PIN=()
  BENCH_PIN=()
fi

WORK_DIR=$(mktemp -d /tmp/compare-peers.XXXXXX)
WARRANT_PID=""
CERBOS_PID=""

stop_pid() {
  local pid=$1
  [ -n "$pid" ] || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 50); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

cleanup() {
  stop_pid "$WARRANT_PID"
  stop_pid "$CERBOS_PID"
  if [ "$KEEP" = 1 ]; then say "scratch directory kept: $WORK_DIR"; else rm -rf "$WORK_DIR"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

wait_ready() {  # pid, url, log
  for _ in $(seq 200); do
    kill -0 "$1" 2>/dev/null || { cat "$3" >&2; die "server exited before it was ready"; }
    if curl -s -o /dev/null --max-time 1 "$2"; then return 0; fi
    sleep 0.1
  done
  cat "$3" >&2
  die "server not ready at $2 after 20 s"
}

install_cerbos() {
  CERBOS_BIN="$CERBOS_DIR/node_modules/@cerbos/cerbos-linux-x64/cerbos-linux-x64"
  if [ ! -x "$CERBOS_BIN" ]; then
    say "installing @cerbos/cerbos-linux-x64@$CERBOS_VERSION into $CERBOS_DIR"
    mkdir -p "$CERBOS_DIR"
    npm install --prefix "$CERBOS_DIR" --no-save --no-audit --no-fund "@cerbos/cerbos-linux-x64@$CERBOS_VERSION" >&2
  fi
  [ -x "$CERBOS_BIN" ] || die "no Cerbos binary at $CERBOS_BIN"
  CERBOS_VERSION_FOUND=$("$CERBOS_BIN" --version 2>&1 | head -n1)
  say "Cerbos $CERBOS_VERSION_FOUND"
}

start_cerbos() {
  local http_port grpc_port
  http_port=$(free_port)
  grpc_port=$(free_port)
  mkdir -p "$WORK_DIR/cerbos/policies"
  cat >"$WORK_DIR/cerbos/policies/data.yaml" <<'EOF'
# data.export_pii: allowed (EFFECT_ALLOW) from tier 2 up unless the claim status is flagged;
# otherwise the default, EFFECT_DENY. tier and claimStatus come from the caller.
apiVersion: api.cerbos.dev/v1
resourcePolicy:
  version: default
  resource: data
  rules:
    - actions: ["data.export_pii"]
      effect: EFFECT_ALLOW
      roles: ["user"]
      condition:
        match:
          expr: request.principal.attr.tier >= 2 && request.principal.attr.claimStatus != "flagged"
EOF
  cat >"$WORK_DIR/cerbos/config.yaml" <<EOF
server:
  httpListenAddr: "127.0.0.1:$http_port"
  grpcListenAddr: "127.0.0.1:$grpc_port"
  requestLimits:  # the default allows 50 resources per request
    maxActionsPerResource: 50
    maxResourcesPerRequest: 100
storage:
  driver: disk
  disk:
    directory: "$WORK_DIR/cerbos/policies"
    watchForChanges: false
audit:
  enabled: false
telemetry:
  disabled: true
EOF
  GOMAXPROCS=1 CERBOS_NO_TELEMETRY=1 "${SERVER_PIN[@]}" "$CERBOS_BIN" server --config="$WORK_DIR/cerbos/config.yaml" \
    --log-level=error --debug-listen-addr=127.0.0.1:0 >"$WORK_DIR/cerbos.log" 2>&1 &
  CERBOS_PID=$!
  CERBOS_BASE="http://127.0.0.1:$http_port"
  wait_ready "$CERBOS_PID" "$CERBOS_BASE/_cerbos/health" "$WORK_DIR/cerbos.log"
}

check_cerbos() {  # the rule, for four principals, before measuring anything
  local tier status want got
  while read -r tier status want; do
    got=$(curl -s -X POST "$CERBOS_BASE/api/check/resources" -H 'Content-Type: application/json' -d \
      "{\"requestId\":\"check\",\"principal\":{\"id\":\"u-1\",\"roles\":[\"user\"],\"attr\":{\"tier\":$tier,\"claimStatus\":\"$status\"}},\"resources\":[{\"actions\":[\"data.export_pii\"],\"resource\":{\"kind\":\"data\",\"id\":\"r-1\"}}]}" |
      python3 -c 'import json,sys; print(json.load(sys.stdin)["results"][0]["actions"]["data.export_pii"])')
    say "Cerbos check: tier $tier, $status → $got (want $want)"
    [ "$got" = "$want" ] || die "Cerbos does not answer as the policy says"
  done <<'EOF'
3 clean EFFECT_ALLOW
2 contested EFFECT_ALLOW
1 clean EFFECT_DENY
3 flagged EFFECT_DENY
EOF
  # 100 resources in one request: accepted, 100 answers
  got=$(python3 - "$CERBOS_BASE" <<'PY'
import json, sys, urllib.request
res = [{"actions": ["data.export_pii"], "resource": {"kind": "data", "id": f"r-{i}"}} for i in range(100)]
body = {"requestId": "check100", "principal": {"id": "u-1", "roles": ["user"], "attr": {"tier": 2, "claimStatus": "clean"}},
        "resources": res}
req = urllib.request.Request(sys.argv[1] + "/api/check/resources", json.dumps(body).encode(),
                             {"Content-Type": "application/json"})
try:
    out = json.load(urllib.request.urlopen(req))
    print(sum(r["actions"]["data.export_pii"] == "EFFECT_ALLOW" for r in out["results"]))
except Exception as e:
    print(f"error: {e}")
PY
)
  say "Cerbos check: 100 resources, tier 2, clean → $got of 100 EFFECT_ALLOW"
  [ "$got" = 100 ] || die "Cerbos does not take 100 resources per request"
}

start_warrantd() {
  local log="$WORK_DIR/warrantd.log" port
  mkdir -p "$WORK_DIR/data"
  port=$(free_port)
  "${SERVER_PIN[@]}" "$WARRANTD" --shards 1 --listen "127.0.0.1:$port" --data-dir "$WORK_DIR/data" >"$log" 2>&1 &
  WARRANT_PID=$!
  BASE="http://127.0.0.1:$port"
  wait_ready "$WARRANT_PID" "$BASE/healthz" "$log"
  local admin_key total
  admin_key=$(head -n1 "$WORK_DIR/data/bootstrap-admin-key")
  python3 bench/guard_provision.py create "$BASE" "$admin_key" "$WORKSPACES" "$WORKSPACES" "$WORK_DIR"
  python3 bench/guard_provision.py limits "$BASE" "$admin_key" "$WORK_DIR/workspaces" 10000000
  total=$(python3 bench/templates/evidence_templates.py warrant "$WORK_DIR/keys" "$WORK_DIR" "$ENTITIES" "$ZIPF_S" "$SEEDED")
  say "seeding about $total BACKFILL events"
  "${BENCH_PIN[@]}" "$BENCH" "$BASE/" -T "$WORK_DIR/seed.txt" -c 64 -w 0 -n "$total" -d 300 --seed 7 --json >"$WORK_DIR/seed.json" ||
    die "seeding failed"
  local key
  key=$(sed -n 2p "$WORK_DIR/keys")
  for u in u-0 u-50 u-300 u-5000; do
    say "warrantd $u: $(curl -s -H "x-api-key: $key" -H 'Content-Type: application/json' \
      -d "{\"actor\":{\"id\":\"$u\"},\"action\":\"data.export_pii\"}" "$BASE/v1/policy/evaluate" |
      python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["decision"], "tier", d["tier"], d["claimStatus"])')"
  done
}

cpu_ticks() {  # pid → utime + stime of the whole process (all threads)
  local line fields
  read -r line </proc/"$1"/stat
  read -r -a fields <<<"${line##*) }"
  echo $((fields[11] + fields[12]))
}

arm_args() {
  case $1 in
    cerbos1) printf '%s\n' "$CERBOS_BASE/" -T "$WORK_DIR/cerbos1.txt" ;;
    cerbos100) printf '%s\n' "$CERBOS_BASE/" -T "$WORK_DIR/cerbos100.txt" ;;
    evaluate) printf '%s\n' "$BASE/" -T "$WORK_DIR/export_pii.txt" ;;
    bulk100) printf '%s\n' "$BASE/" -T "$WORK_DIR/bulk100_pii.txt" ;;
    *) die "unknown arm $1" ;;
  esac
  printf '%s\n' -c "$CONNECTIONS" -p 1
}

run_arm() {  # round, arm
  local round=$1 arm=$2 json before after pid args=()
  mapfile -t args < <(arm_args "$arm")
  case $arm in cerbos*) pid=$CERBOS_PID ;; *) pid=$WARRANT_PID ;; esac
  "${BENCH_PIN[@]}" "$BENCH" "${args[@]}" -d "$WARMUP" --json >/dev/null || die "warm-up of $arm failed"
  before=$(cpu_ticks "$pid")
  json=$("${BENCH_PIN[@]}" "$BENCH" "${args[@]}" -d "$DURATION" --json) || die "run of $arm failed"
  after=$(cpu_ticks "$pid")
  printf '{"round":%d,"arm":"%s","cpu_ticks":%d,"bench":%s}\n' "$round" "$arm" $((after - before)) "$json" \
    >>"$WORK_DIR/runs.jsonl"
  python3 - "$json" $((after - before)) "$CLK_TCK" "$round" "$arm" <<'PY' >&2
import json, sys
j = json.loads(sys.argv[1]); ticks = int(sys.argv[2]); hz = int(sys.argv[3])
n = j["requests"]
cpu = ticks * 1e6 / hz / n if n else 0
print(f"compare-peers: round {sys.argv[4]} {sys.argv[5]:10s} {j['rps']:9.0f} req/s  "
      f"p50 {j['latency_us']['p50']:9.1f} us  p99 {j['latency_us']['p99']:9.1f} us  "
      f"{cpu:8.2f} CPU us/req  status {j['status']}  errors {j['errors']['total']}")
PY
}

report() {
  python3 - "$WORK_DIR/runs.jsonl" "$CLK_TCK" "$OUT" "$CERBOS_VERSION_FOUND" <<'PY'
import json, statistics, subprocess, sys, datetime, os
runs = [json.loads(l) for l in open(sys.argv[1])]
hz = int(sys.argv[2]); out = sys.argv[3]; cerbos_version = sys.argv[4]
env = os.environ
decisions = {"cerbos1": 1, "cerbos100": 100, "evaluate": 1, "bulk100": 100}
for r in runs:
    n = r["bench"]["requests"]
    r["cpu_us"] = r["cpu_ticks"] * 1e6 / hz / n if n else None
def med(xs): return statistics.median(xs) if xs else None
def spread(xs): return [med(xs), min(xs), max(xs)] if xs else None
def by_round(arm): return {r["round"]: r for r in runs if r["arm"] == arm}
def ok(r): return r["bench"]["status_class"]["2xx"] / r["bench"]["duration_s"]  # 503 OVERLOADED is not served
rows = []
for arm in decisions:
    rs = by_round(arm)
    if not rs: continue
    k = decisions[arm]
    rows.append({"arm": arm, "runs": len(rs), "rps": med([r["bench"]["rps"] for r in rs.values()]),
                 "ok_rps": med([ok(r) for r in rs.values()]),
                 "decisions_per_s": med([ok(r) * k for r in rs.values()]),
                 "p50_us": med([r["bench"]["latency_us"]["p50"] for r in rs.values()]),
                 "p99_us": med([r["bench"]["latency_us"]["p99"] for r in rs.values()]),
                 "cpu_us_per_request": med([r["cpu_us"] for r in rs.values()]),
                 "cpu_us_per_decision": med([r["cpu_ticks"] * 1e6 / hz / (ok(r) * r["bench"]["duration_s"] * k)
                                             for r in rs.values() if ok(r)]),
                 "non_2xx": sum(r["bench"]["requests"] - r["bench"]["status_class"]["2xx"] for r in rs.values()),
                 "errors": sum(r["bench"]["errors"]["total"] for r in rs.values())})
def ratio(num, den, f, what, target):
    a, b = by_round(num), by_round(den)
    v = [f(a[i]) / f(b[i]) for i in a if i in b and f(b[i])]
    return {"name": f"{num}/{den}", "what": what, "target": target, "median_min_max": spread(v), "rounds": len(v)} if v else None
ratios = [x for x in [
    ratio("evaluate", "cerbos1", ok, "evaluate req/s ÷ Cerbos (1 resource) req/s", "≥ 40"),
    ratio("cerbos1", "evaluate", lambda r: r["bench"]["latency_us"]["p99"], "Cerbos (1 resource) p99 ÷ evaluate p99", "≥ 20"),
    ratio("bulk100", "cerbos100", ok, "bulk-100 decisions/s ÷ Cerbos (100 resources) decisions/s", "≥ 100"),
    ratio("cerbos1", "evaluate", lambda r: r["cpu_us"], "Cerbos (1 resource) CPU/request ÷ evaluate CPU/request", None),
    ratio("cerbos100", "bulk100", lambda r: r["cpu_ticks"] / max(ok(r) * r["bench"]["duration_s"], 1),
          "Cerbos (100 resources) CPU/decision ÷ bulk-100 CPU/decision (2xx only)", None),
    ratio("cerbos1", "evaluate", lambda r: r["bench"]["latency_us"]["p50"], "Cerbos (1 resource) p50 ÷ evaluate p50", None),
] if x]
print()
print(f"{'arm':10} {'2xx/s':>9} {'decisions/s':>12} {'p50 us':>9} {'p99 us':>9} {'CPU us/req':>11} {'CPU us/dec':>11} {'non-2xx':>8}")
for r in rows:
    print(f"{r['arm']:10} {r['ok_rps']:9.0f} {r['decisions_per_s']:12.0f} {r['p50_us']:9.1f} {r['p99_us']:9.1f} "
          f"{r['cpu_us_per_request']:11.2f} {r['cpu_us_per_decision']:11.3f} {r['non_2xx']:8d}")
print()
for x in ratios:
    v = x["median_min_max"]
    t = f" (target {x['target']})" if x["target"] else ""
    print(f"  {x['what']}{t}: median {v[0]:.2f} [min {v[1]:.2f}, max {v[2]:.2f}], {x['rounds']} rounds")
def sh(cmd):
    try: return subprocess.run(cmd, shell=True, capture_output=True, text=True).stdout.strip()
    except Exception: return ""
doc = {"date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
       "git_commit": sh("git rev-parse --short=12 HEAD") or "unknown", "cerbos_version": cerbos_version,
       "machine": {"cpus": os.cpu_count(), "kernel": sh("uname -r"),
                   "cpu_model": sh("sed -n 's/^model name\\s*: //p' /proc/cpuinfo | head -1")},
       "settings": {k: env.get(k) for k in ("ROUNDS", "DURATION", "WARMUP", "CONNECTIONS", "ARMS", "WORKSPACES",
                                            "ENTITIES", "ZIPF_S", "SEEDED")},
       "pinning": "Cerbos (GOMAXPROCS=1) and warrantd --shards 1 on CPU 0, warrant-bench on CPU 1",
       "summary": rows, "ratios": ratios, "runs": runs}
with open(out, "w") as fh: json.dump(doc, fh)
print(f"\ncompare-peers: results written to {out}", file=sys.stderr)
PY
}

main() {
  mkdir -p "$(dirname "$OUT")"
  export ROUNDS DURATION WARMUP CONNECTIONS ARMS WORKSPACES ENTITIES ZIPF_S SEEDED
  install_cerbos
  start_cerbos
  say "Cerbos (pid $CERBOS_PID) ready on $CERBOS_BASE"
  check_cerbos
  python3 bench/templates/evidence_templates.py cerbos "$WORK_DIR" "$ENTITIES" "$ZIPF_S"
  start_warrantd
  say "warrantd (pid $WARRANT_PID) ready on $BASE"
  : >"$WORK_DIR/runs.jsonl"
  local r arms=() arm
  for r in $(seq "$ROUNDS"); do
    # shellcheck disable=SC2206
    if [ $((r % 2)) -eq 1 ]; then arms=($ARMS); else arms=(); for arm in $ARMS; do arms=("$arm" "${arms[@]}"); done; fi
    for arm in "${arms[@]}"; do run_arm "$r" "$arm"; done
  done
  report
}

main "$@"

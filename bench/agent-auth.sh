#!/usr/bin/env bash
# bench/agent-auth.sh: what authenticating with an agent key costs against a workspace key,
# measured in the same run (issue 6 target: an agent key, including the ancestor check at
# depth 5, costs ≤ 1.05× a workspace key's server CPU per request).
#
# What it does:
#   1. starts `warrantd --shards 1` on a scratch data directory, pinned to CPU 0 (warrant-bench
#      on CPU 1), like guard-overhead.sh;
#   2. through the API: a workspace with its limit raised to RAISED_LIMIT (nothing refused), a
#      workspace key, the spawn policy enabled, and a chain of agents registered → spawned to
#      depth 5 (neither the workspace key nor the agents has a rate limit of its own, so both
#      arms pay for exactly one limiter cell);
#   3. ROUNDS interleaved rounds (order reversed every other round) of two arms, each a warm-up
#      then DURATION measured seconds of GET /api/me (authenticated, guarded, pre-rendered
#      answer), open loop at RATE requests per second over CONNECTIONS connections (one
#      workspace's limit is at most 10,000,000/min = 166,666/s, so a closed loop would be
#      refused with 429; at a fixed rate under it both arms do identical work but the key):
#        workspace   the workspace key
#        agent-d5    the depth-5 agent's key
#      Server CPU per request = utime+stime of warrantd (/proc/PID/stat) / responses; the
#      ratio agent-d5/workspace is taken within each round, reported as median [min, max].
#
# Builds nothing: needs a Release build (cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release
# && cmake --build build -j2). Needs curl, taskset, python3. About 2 minutes with the defaults.
# Environment: ROUNDS [7] DURATION [5] WARMUP [1] CONNECTIONS [64] RATE [120000]
#   RAISED_LIMIT [10000000] WARRANTD [build/tools/warrantd] BENCH [build/bench/warrant-bench]
set -euo pipefail

cd "$(dirname "$0")/.."

ROUNDS=${ROUNDS:-7}
DURATION=${DURATION:-5}
WARMUP=${WARMUP:-1}
CONNECTIONS=${CONNECTIONS:-64}
RATE=${RATE:-120000}
RAISED_LIMIT=${RAISED_LIMIT:-10000000}
WARRANTD=${WARRANTD:-build/tools/warrantd}
BENCH=${BENCH:-build/bench/warrant-bench}
CLK_TCK=$(getconf CLK_TCK)

say() { printf 'agent-auth: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }

[ -x "$BENCH" ] || die "$BENCH not found: build first"
[ -x "$WARRANTD" ] || die "$WARRANTD not found: build first"
if [ "$(nproc)" -ge 2 ]; then SERVER_PIN=(taskset -c 0); BENCH_PIN=(taskset -c 1); else SERVER_PIN=(); BENCH_PIN=(); fi

WORK_DIR=$(mktemp -d /tmp/agent-auth.XXXXXX)
SERVER_PID=""
cleanup() {
  if [ -n "$SERVER_PID" ]; then kill -TERM "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; fi
  rm -rf "$WORK_DIR"
}
trap cleanup EXIT

PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
BASE="http://127.0.0.1:$PORT"
mkdir -p "$WORK_DIR/data"
"${SERVER_PIN[@]}" "$WARRANTD" --shards 1 --listen "127.0.0.1:$PORT" --data-dir "$WORK_DIR/data" \
  >"$WORK_DIR/warrantd.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 100); do curl -sf -o /dev/null --max-time 1 "$BASE/healthz" && break; sleep 0.1; done
ADMIN=$(head -n1 "$WORK_DIR/data/bootstrap-admin-key")

# Provisioning: python3 standard library only.
read -r WS_KEY AGENT_KEY < <(python3 - "$BASE" "$ADMIN" "$RAISED_LIMIT" <<'PY'
import json, sys, urllib.request
base, admin, limit = sys.argv[1], sys.argv[2], int(sys.argv[3])
def call(method, path, key, body=None, idem=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(base + path, data=data, method=method)
    req.add_header("x-api-key", key)
    if data is not None: req.add_header("Content-Type", "application/json")
    if idem: req.add_header("Idempotency-Key", idem)
    with urllib.request.urlopen(req) as r: return json.loads(r.read())
ws = call("POST", "/v1/admin/workspaces", admin, {"name": "agent-auth"})
call("PUT", f"/v1/admin/workspaces/{ws['id']}/limits", admin, {"requests_per_minute": limit})
wkey = call("POST", f"/v1/admin/workspaces/{ws['id']}/keys", admin, {"roles": ["platform.operator"]})["key"]
call("PUT", "/v1/agents/spawn-policy", wkey, {"enabled": True, "maxDepth": 5, "maxChildren": 1})
a = call("POST", "/v1/agents", wkey, {"name": "d0", "type": "AI_AGENT", "preset": "operator",
                                      "allowedEventTypes": ["ai.task.completed"]})
for d in range(1, 6):
    a = call("POST", f"/v1/agents/{a['agent']['id']}/spawn", a["apiKey"], {"name": f"d{d}"}, idem=f"s{d}")
assert a["agent"]["depth"] == 5
print(wkey, a["apiKey"])
PY
)

cpu_ticks() { local line f; read -r line </proc/"$SERVER_PID"/stat; read -r -a f <<<"${line##*) }"; echo $((f[11] + f[12])); }

: >"$WORK_DIR/runs"
run_arm() {  # round arm key
  local before after json
  "${BENCH_PIN[@]}" "$BENCH" "$BASE/api/me" -H "x-api-key: $3" -c "$CONNECTIONS" -R "$RATE" -d "$WARMUP" --json >/dev/null
  before=$(cpu_ticks)
  json=$("${BENCH_PIN[@]}" "$BENCH" "$BASE/api/me" -H "x-api-key: $3" -c "$CONNECTIONS" -R "$RATE" -d "$DURATION" --json)
  after=$(cpu_ticks)
  printf '%s %s %s %s\n' "$1" "$2" $((after - before)) "$json" >>"$WORK_DIR/runs"
}

for round in $(seq 1 "$ROUNDS"); do
  if [ $((round % 2)) -eq 1 ]; then
    run_arm "$round" workspace "$WS_KEY"; run_arm "$round" agent-d5 "$AGENT_KEY"
  else
    run_arm "$round" agent-d5 "$AGENT_KEY"; run_arm "$round" workspace "$WS_KEY"
  fi
  say "round $round done"
done

python3 - "$WORK_DIR/runs" "$CLK_TCK" <<'PY'
import json, statistics, sys
hz = int(sys.argv[2]); per = {}
for line in open(sys.argv[1]):
    rnd, arm, ticks, js = line.split(" ", 3)
    j = json.loads(js); n = j["requests"]
    ok = sum(v for k, v in j.get("status", {}).items() if k.startswith("2"))
    assert ok == n, f"{arm}: not every answer was 2xx: {j.get('status')}"
    per.setdefault(int(rnd), {})[arm] = (int(ticks) * 1e9 / hz / n, n / j["duration_s"])
ratios = [r["agent-d5"][0] / r["workspace"][0] for r in per.values()]
ws = [r["workspace"][0] for r in per.values()]; ag = [r["agent-d5"][0] for r in per.values()]
print(f"workspace key: {statistics.median(ws):.0f} ns CPU/request (median of {len(ws)} rounds)")
print(f"agent key, depth 5: {statistics.median(ag):.0f} ns CPU/request")
print(f"ratio agent/workspace: median {statistics.median(ratios):.3f} [min {min(ratios):.3f}, max {max(ratios):.3f}]")
PY

#!/usr/bin/env bash
# bench/compare-http.sh: warrantd against nginx on GET /healthz, measured in the same run.
#
# What it is for: a reference point for Warrant's HTTP path. Both servers answer
# {"status":"ok","service":"warrant"} on one core (CPU 0) while warrant-bench drives them
# from CPU 1, over four closed-loop workloads (16, 64, 256 connections with pipeline 1;
# 64 connections with pipeline 8). For each: requests/s, p50, p99, and the server's CPU time
# per request (utime + stime of its whole process tree from /proc, before and after the
# measured run). Prints a table with warrant/nginx ratios and writes the results as JSON.
#
# Builds nothing: run `cmake -B build -G Ninja && cmake --build build` first.
# Relative paths are taken from the repository root. Environment (defaults in brackets):
#   DURATION [10]      measured seconds per workload
#   WARMUP [2]         seconds of unmeasured load before each workload
#   OUT [bench/results/compare-http-<date>.json]
#   WARRANTD [build/tools/warrantd]   BENCH [build/bench/warrant-bench]
#   WARRANTD_CMD       any command to run as server A instead of warrantd; it gets $PORT and
#                      $DATA_DIR in its environment and must serve 127.0.0.1:$PORT/healthz
#   SERVER_A_NAME [warrant]   label of server A
#   SERVERS ["a nginx"]       which servers to run ("a", "nginx" or both)
#   PORT_A [18090] PORT_B [18091]
#   WORKLOADS ["16:1 64:1 256:1 64:8"]   connections:pipeline pairs
set -euo pipefail

cd "$(dirname "$0")/.."

DURATION=${DURATION:-10}
WARMUP=${WARMUP:-2}
OUT=${OUT:-bench/results/compare-http-$(date +%Y%m%d-%H%M%S).json}
WARRANTD=${WARRANTD:-build/tools/warrantd}
BENCH=${BENCH:-build/bench/warrant-bench}
SERVER_A_NAME=${SERVER_A_NAME:-warrant}
SERVERS=${SERVERS:-a nginx}
PORT_A=${PORT_A:-18090}
PORT_B=${PORT_B:-18091}
WORKLOADS=${WORKLOADS:-16:1 64:1 256:1 64:8}
HEALTHZ_BODY='{"status":"ok","service":"warrant"}'
CLK_TCK=$(getconf CLK_TCK)

say() { printf 'compare-http: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }

# --- prerequisites ------------------------------------------------------------------------

check_binaries() {
  [ -x "$BENCH" ] || die "$BENCH not found: run 'cmake -B build -G Ninja && cmake --build build' (or set BENCH)"
  if [[ " $SERVERS " == *" a "* && -z "${WARRANTD_CMD:-}" && ! -x "$WARRANTD" ]]; then
    die "$WARRANTD not found: run 'cmake --build build' (or set WARRANTD / WARRANTD_CMD)"
  fi
  command -v curl >/dev/null || die "curl is needed to wait for the servers"
  command -v taskset >/dev/null || die "taskset (util-linux) is needed to pin the processes"
}

ensure_nginx() {
  command -v nginx >/dev/null && return
  say "nginx not found; installing it from Debian"
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends nginx-light >/dev/null ||
    $sudo apt-get install -y -qq --no-install-recommends nginx >/dev/null
  # The package may start a system nginx on port 80; ours does not need it.
  command -v nginx >/dev/null || PATH="$PATH:/usr/sbin"
  command -v nginx >/dev/null || die "could not install nginx"
}

pin_setup() {
  if [ "$(nproc)" -ge 2 ]; then
    SERVER_PIN=(taskset -c 0)
    BENCH_PIN=(taskset -c 1)
  else
    say "fewer than 2 CPUs: running without pinning (numbers will be noisy)"
    SERVER_PIN=()
    BENCH_PIN=()
  fi
}

# --- servers ------------------------------------------------------------------------------

WORK_DIR=$(mktemp -d /tmp/compare-http.XXXXXX)
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
  rm -rf "$WORK_DIR"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

port_busy() { curl -s -o /dev/null --max-time 1 "http://127.0.0.1:$1/" ; }

wait_ready() {  # url, log file
  for _ in $(seq 100); do
    kill -0 "$SERVER_PID" 2>/dev/null || { cat "$2" >&2; die "server exited before it was ready"; }
    if curl -sf -o /dev/null --max-time 1 "$1"; then return 0; fi
    sleep 0.1
  done
  cat "$2" >&2
  die "server not ready at $1 after 10 s"
}

start_server_a() {
  local data_dir="$WORK_DIR/warrant-data" log="$WORK_DIR/server-a.log"
  mkdir -p "$data_dir"
  port_busy "$PORT_A" && die "port $PORT_A is already in use (set PORT_A)"
  if [ -n "${WARRANTD_CMD:-}" ]; then
    SERVER_A_DESC="$WARRANTD_CMD"
    PORT=$PORT_A DATA_DIR=$data_dir "${SERVER_PIN[@]}" bash -c "exec $WARRANTD_CMD" >"$log" 2>&1 &
  else
    SERVER_A_DESC="$WARRANTD --shards 1 --listen 127.0.0.1:$PORT_A"
    "${SERVER_PIN[@]}" "$WARRANTD" --shards 1 --listen "127.0.0.1:$PORT_A" --data-dir "$data_dir" >"$log" 2>&1 &
  fi
  SERVER_PID=$!
  SERVER_PORT=$PORT_A
  wait_ready "http://127.0.0.1:$PORT_A/healthz" "$log"
}

write_nginx_conf() {  # prefix dir
  local user_line=""
  [ "$(id -u)" -eq 0 ] && user_line="user root;"
  mkdir -p "$1/logs" "$1/tmp"
  cat >"$1/nginx.conf" <<EOF
daemon off;
master_process on;
worker_processes 1;
$user_line
pid $1/nginx.pid;
error_log stderr warn;
events { worker_connections 4096; }
http {
  access_log off;
  keepalive_requests 1000000;
  client_body_temp_path $1/tmp/body;
  proxy_temp_path $1/tmp/proxy;
  fastcgi_temp_path $1/tmp/fastcgi;
  uwsgi_temp_path $1/tmp/uwsgi;
  scgi_temp_path $1/tmp/scgi;
  server {
    listen 127.0.0.1:$PORT_B;
    location = /healthz {
      default_type application/json;
      return 200 '$HEALTHZ_BODY';
    }
  }
}
EOF
}

start_nginx() {
  local prefix="$WORK_DIR/nginx" log="$WORK_DIR/nginx.log"
  port_busy "$PORT_B" && die "port $PORT_B is already in use (set PORT_B)"
  write_nginx_conf "$prefix"
  # The master is pinned, so the worker it forks runs on the same CPU.
  "${SERVER_PIN[@]}" nginx -e stderr -p "$prefix" -c "$prefix/nginx.conf" >"$log" 2>&1 &
  SERVER_PID=$!
  SERVER_PORT=$PORT_B
  wait_ready "http://127.0.0.1:$PORT_B/healthz" "$log"
}

# --- measurement --------------------------------------------------------------------------

descendants() {  # pid: the pid and every descendant (from the parent pids in /proc/*/stat)
  local stat rest pid ppid
  local -A children=()
  for stat in /proc/[0-9]*/stat; do
    read -r rest 2>/dev/null <"$stat" || continue
    rest=${rest##*) }  # the command name (field 2) may hold spaces and parentheses
    read -r _ ppid _ <<<"$rest"
    pid=${stat#/proc/}
    children[$ppid]+=" ${pid%/stat}"
  done
  local queue=("$1") next
  while [ ${#queue[@]} -gt 0 ]; do
    next=${queue[0]}
    queue=("${queue[@]:1}")
    echo "$next"
    # shellcheck disable=SC2206
    queue+=(${children[$next]:-})
  done
}

cpu_ticks() {  # utime + stime (fields 14, 15) of the server's process tree
  local total=0 pid line fields
  for pid in $(descendants "$SERVER_PID"); do
    read -r line 2>/dev/null </proc/"$pid"/stat || continue
    read -r -a fields <<<"${line##*) }"  # fields[0] is field 3 of the file
    total=$((total + fields[11] + fields[12]))
  done
  echo "$total"
}

json_number() {  # key, json text: the first "key":number
  sed -E "s/.*\"$1\":(-?[0-9.eE+]+).*/\1/" <<<"$2"
}

run_workload() {  # server label, connections, pipeline; appends to RESULTS and TABLE
  local label=$1 conns=$2 depth=$3 url="http://127.0.0.1:$SERVER_PORT/healthz"
  local name="c${conns}p${depth}" json before after
  "${BENCH_PIN[@]}" "$BENCH" "$url" -c "$conns" -p "$depth" -d "$WARMUP" --json >/dev/null ||
    die "warm-up of $label $name failed"
  before=$(cpu_ticks)
  json=$("${BENCH_PIN[@]}" "$BENCH" "$url" -c "$conns" -p "$depth" -d "$DURATION" --json) ||
    die "run of $label $name failed"
  after=$(cpu_ticks)
  local requests rps p50 p99 errors cpu_us
  requests=$(json_number requests "$json")
  rps=$(json_number rps "$json")
  p50=$(json_number p50 "$json")
  p99=$(json_number p99 "$json")
  errors=$(json_number total "$json")
  cpu_us=$(awk -v t=$((after - before)) -v hz="$CLK_TCK" -v n="$requests" \
    'BEGIN { printf("%.3f", (n > 0) ? t * 1e6 / hz / n : 0) }')
  say "$label $name: $rps req/s, p50 $p50 us, p99 $p99 us, $cpu_us CPU us/request, $errors errors"
  TABLE+=("$label $name $rps $p50 $p99 $cpu_us $errors")
  METRIC[$label/$name/rps]=$rps
  METRIC[$label/$name/p50]=$p50
  METRIC[$label/$name/p99]=$p99
  METRIC[$label/$name/cpu]=$cpu_us
  RESULTS+=("{\"server\":\"$label\",\"workload\":\"$name\",\"connections\":$conns,\"pipeline\":$depth,\"rps\":$rps,\"p50_us\":$p50,\"p99_us\":$p99,\"cpu_us_per_request\":$cpu_us,\"cpu_ticks\":$((after - before)),\"errors\":$errors,\"bench\":$json}")
}

run_server() {  # label
  local w
  for w in $WORKLOADS; do run_workload "$1" "${w%%:*}" "${w##*:}"; done
}

# --- report -------------------------------------------------------------------------------

ratio() { awk -v x="$1" -v y="$2" 'BEGIN { if (y > 0) printf("%.3f", x / y); else printf("null") }'; }

print_report() {
  local a=$SERVER_A_NAME w name row ratios=() r_rps r_p50 r_p99 r_cpu
  printf '\n%-10s %-8s %12s %10s %10s %12s %8s\n' server workload "req/s" "p50 us" "p99 us" "CPU us/req" errors
  for row in "${TABLE[@]}"; do
    # shellcheck disable=SC2086
    printf '%-10s %-8s %12s %10s %10s %12s %8s\n' $row
  done
  if [[ " $SERVERS " == *" a "* && " $SERVERS " == *" nginx "* ]]; then
    printf '\n%-20s %-8s %8s %8s %8s %10s\n' "ratio $a/nginx" workload "req/s" p50 p99 "CPU/req"
    for w in $WORKLOADS; do
      name="c${w%%:*}p${w##*:}"
      r_rps=$(ratio "${METRIC[$a/$name/rps]}" "${METRIC[nginx/$name/rps]}")
      r_p50=$(ratio "${METRIC[$a/$name/p50]}" "${METRIC[nginx/$name/p50]}")
      r_p99=$(ratio "${METRIC[$a/$name/p99]}" "${METRIC[nginx/$name/p99]}")
      r_cpu=$(ratio "${METRIC[$a/$name/cpu]}" "${METRIC[nginx/$name/cpu]}")
      printf '%-20s %-8s %8s %8s %8s %10s\n' "" "$name" "$r_rps" "$r_p50" "$r_p99" "$r_cpu"
      ratios+=("{\"workload\":\"$name\",\"rps\":$r_rps,\"p50\":$r_p50,\"p99\":$r_p99,\"cpu_per_request\":$r_cpu}")
    done
  fi
  write_json "${ratios[@]+"${ratios[@]}"}"
}

join_by_comma() { local IFS=,; echo "$*"; }

json_escape() { local s=${1//\\/\\\\}; s=${s//\"/\\\"}; printf '%s' "$s"; }

write_json() {  # ratio objects
  mkdir -p "$(dirname "$OUT")"
  local nginx_version
  nginx_version=$(nginx -v 2>&1 | sed 's/.*nginx\///')
  cat >"$OUT" <<EOF
{"date":"$(date -u +%Y-%m-%dT%H:%M:%SZ)","git_commit":"$(git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)",
 "machine":{"cpus":$(nproc),"kernel":"$(uname -r)","cpu_model":"$(json_escape "$(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1)")"},
 "duration_s":$DURATION,"warmup_s":$WARMUP,"server_a":{"name":"$SERVER_A_NAME","command":"$(json_escape "${SERVER_A_DESC:-}")"},
 "nginx_version":"$nginx_version","pinning":"server on CPU 0, warrant-bench on CPU 1",
 "results":[$(join_by_comma "${RESULTS[@]+"${RESULTS[@]}"}")],
 "ratios_a_over_nginx":[$(join_by_comma "$@")]}
EOF
  say "results written to $OUT"
}

# --- main ---------------------------------------------------------------------------------

main() {
  check_binaries
  [[ " $SERVERS " == *" nginx "* ]] && ensure_nginx
  pin_setup
  TABLE=()
  RESULTS=()
  declare -gA METRIC=()
  SERVER_A_DESC=""
  if [[ " $SERVERS " == *" a "* ]]; then
    start_server_a
    say "$SERVER_A_NAME ready on port $PORT_A: $(curl -s "http://127.0.0.1:$PORT_A/healthz")"
    run_server "$SERVER_A_NAME"
    stop_server
  fi
  if [[ " $SERVERS " == *" nginx "* ]]; then
    start_nginx
    say "nginx ready on port $PORT_B: $(curl -s "http://127.0.0.1:$PORT_B/healthz")"
    run_server nginx
    stop_server
  fi
  print_report
}

main "$@"

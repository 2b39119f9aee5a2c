#!/usr/bin/env bash
# redirect-vs-nginx.sh - alilink's 302 (cache hit) against nginx `return 302`, one run, same box.
#
#   bench/redirect-vs-nginx.sh            (from the repository root; needs nginx, wrk, taskset)
#
# Both servers run on cpu1, wrk on cpu0 (the method of ../shared/bench/README.md). alilink runs
# `alilink demo` (the fake drive in-process; after the first request every answer is a cache hit).
# Repeats (REPEATS, default 3) interleave the two targets; the medians and their ratio are printed.
# Knobs: DURATION [10s], CONNS [16], SHARED [../shared], PORT_BASE [18400].
set -euo pipefail
cd "$(dirname "$0")/.."
SHARED=${SHARED:-../shared}
DURATION=${DURATION:-10s}
CONNS=${CONNS:-16}
REPEATS=${REPEATS:-3}
base=${PORT_BASE:-18400}
origin=$base proxy=$((base + 1)) redirect=$((base + 2)) ali=$((base + 3))
export PREFIX=${PREFIX:-$(mktemp -d /tmp/alilink-bench-XXXX)}
path='/Movies/Big%20Buck%20Bunny%20(2008).mkv'

go build -o "$PREFIX/alilink" .
cleanup() {
  "$SHARED/bench/nginx-peer.sh" stop >/dev/null 2>&1 || true
  [[ -n ${alipid:-} ]] && kill "$alipid" 2>/dev/null || true
}
trap cleanup EXIT
CPUS=1 "$SHARED/bench/nginx-peer.sh" start "$origin" "$proxy" "$redirect" >/dev/null
ALILINK_LOG_LEVEL=warn ALILINK_ACCESS_LOG=false taskset -c 1 "$PREFIX/alilink" demo --listen "127.0.0.1:$ali" >"$PREFIX/demo.out" 2>&1 &
alipid=$!
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$ali/-/readyz" >/dev/null && break; sleep 0.1; done
for port in "$redirect" "$ali"; do
  code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port$path")
  [[ $code == 302 ]] || { echo "port $port answered $code, not 302" >&2; exit 1; }
done

rps() { taskset -c 0 wrk -t1 -c"$CONNS" -d"$DURATION" "http://127.0.0.1:$1$path" | awk '/Requests\/sec/ {print $2}'; }
median() { sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
nginx_runs=() ali_runs=()
for r in $(seq "$REPEATS"); do
  n=$(rps "$redirect"); a=$(rps "$ali")
  nginx_runs+=("$n"); ali_runs+=("$a")
  echo "repeat $r: nginx return 302 $n req/s, alilink $a req/s"
done
n=$(printf '%s\n' "${nginx_runs[@]}" | median)
a=$(printf '%s\n' "${ali_runs[@]}" | median)
echo "median: nginx $n req/s, alilink $a req/s, alilink/nginx = $(awk -v a="$a" -v n="$n" 'BEGIN {printf "%.2f", a / n}')"

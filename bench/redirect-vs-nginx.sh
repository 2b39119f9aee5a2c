#!/usr/bin/env bash
# redirect-vs-nginx.sh - alilink's 302 (cache hit) against nginx `return 302`, one run, same box.
#
#   bench/redirect-vs-nginx.sh            (from the repository root; needs nginx, wrk, taskset)
#
# Both servers run on cpu1, wrk on cpu0 (the method of ../shared/bench/README.md). alilink runs
# `alilink demo` (the fake drive in-process; after the first request every answer is a cache hit),
# and asks for a film of its /Backup mount, so the 302 goes through the mount router.
# Repeats (REPEATS, default 3) interleave the two targets; the medians and their ratio are printed,
# and each server's CPU time per request (user + system from /proc, the steadier figure on a busy box).
# Knobs: DURATION [10s], CONNS [16], SHARED [../shared], PORT_BASE [18400], KEEP [unset: remove $PREFIX],
# LOG [off]: on = both servers write their access log to a file, as users run them: nginx its default
# combined log (ACCESS_LOG=on of nginx-peer.sh, one write per request) to $PREFIX/peer/access.log,
# alilink its default access log (ALILINK_ACCESS_LOG=true, text) with stderr to $PREFIX/alilink.log.
set -euo pipefail
cd "$(dirname "$0")/.."
SHARED=${SHARED:-../shared}
DURATION=${DURATION:-10s}
CONNS=${CONNS:-16}
REPEATS=${REPEATS:-3}
LOG=${LOG:-off}
base=${PORT_BASE:-18400}
origin=$base proxy=$((base + 1)) redirect=$((base + 2)) ali=$((base + 3))
[[ -z ${PREFIX:-} ]] && own_prefix=1 # a directory of its own is removed at the end (KEEP=1 keeps it)
export PREFIX=${PREFIX:-$(mktemp -d /tmp/alilink-bench-XXXX)}
path='/Backup/Movies/Big%20Buck%20Bunny%20(2008).mkv'

go build -o "$PREFIX/alilink" .
cleanup() {
  "$SHARED/bench/nginx-peer.sh" stop >/dev/null 2>&1 || true
  [[ -n ${alipid:-} ]] && kill "$alipid" 2>/dev/null || true
  # LOG=on writes ~300 MB of access lines a run.
  [[ -n ${own_prefix:-} && -z ${KEEP:-} ]] && rm -rf "$PREFIX" || true
}
trap cleanup EXIT
case $LOG in
off) ali_env=(ALILINK_LOG_LEVEL=warn ALILINK_ACCESS_LOG=false) ;;
on) ali_env=(ALILINK_LOG_LEVEL=info ALILINK_ACCESS_LOG=true ALILINK_LOG_FORMAT=text) ;;
*) echo "LOG must be on or off" >&2; exit 2 ;;
esac
ACCESS_LOG=$LOG CPUS=1 "$SHARED/bench/nginx-peer.sh" start "$origin" "$proxy" "$redirect" >/dev/null
env "${ali_env[@]}" taskset -c 1 "$PREFIX/alilink" demo --listen "127.0.0.1:$ali" >"$PREFIX/demo.out" 2>"$PREFIX/alilink.log" &
alipid=$!
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$ali/-/readyz" >/dev/null && break; sleep 0.1; done
for port in "$redirect" "$ali"; do
  code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port$path")
  [[ $code == 302 ]] || { echo "port $port answered $code, not 302" >&2; exit 1; }
done

nginx_pid=$(pgrep -P "$(cat "$PREFIX/peer/nginx.pid")" | head -1) # the one worker
hz=$(getconf CLK_TCK)
cputicks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
# rps PORT PID -> "req/s CPU-µs-per-request": the server's CPU time (user + system, from
# /proc/PID/stat) over the requests wrk completed. On a shared box the rate follows the CPU share
# the server gets; the CPU per request does not, so it is the steadier of the two.
rps() {
  local t0 t1 out
  t0=$(cputicks "$2")
  out=$(taskset -c 0 wrk -t1 -c"$CONNS" -d"$DURATION" "http://127.0.0.1:$1$path")
  t1=$(cputicks "$2")
  awk -v c=$((t1 - t0)) -v hz="$hz" '/requests in/ {n=$1} /Requests\/sec/ {r=$2}
    END {printf "%s %.2f", r, 1e6 * c / hz / n}' <<<"$out"
}
median() { sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
nginx_runs=() ali_runs=() nginx_cpu=() ali_cpu=()
for r in $(seq "$REPEATS"); do
  read -r n nc <<<"$(rps "$redirect" "$nginx_pid")"; read -r a ac <<<"$(rps "$ali" "$alipid")"
  nginx_runs+=("$n"); ali_runs+=("$a"); nginx_cpu+=("$nc"); ali_cpu+=("$ac")
  echo "repeat $r: nginx return 302 $n req/s ($nc CPU-µs/req), alilink $a req/s ($ac CPU-µs/req)"
done
n=$(printf '%s\n' "${nginx_runs[@]}" | median)
a=$(printf '%s\n' "${ali_runs[@]}" | median)
echo "median: nginx $n req/s, alilink $a req/s, alilink/nginx = $(awk -v a="$a" -v n="$n" 'BEGIN {printf "%.2f", a / n}')"
n=$(printf '%s\n' "${nginx_cpu[@]}" | median)
a=$(printf '%s\n' "${ali_cpu[@]}" | median)
echo "median CPU per request: nginx $n µs, alilink $a µs, nginx/alilink = $(awk -v a="$a" -v n="$n" 'BEGIN {printf "%.2f", n / a}') (above 1: alilink needs less)"
if [[ $LOG == on ]]; then
  sleep 1.5 # alilink writes its lines at least once a second
  nl=$(wc -l <"$PREFIX/peer/access.log") al=$(grep -c 'msg=request' "$PREFIX/alilink.log" || true)
  dropped=$(curl -s "http://127.0.0.1:$ali/-/metrics" | awk '/^alilink_access_log_dropped_total / {print $2}')
  echo "access lines written: nginx $nl, alilink $al (alilink dropped ${dropped:-0})"
fi

#!/usr/bin/env bash
# idle-rss.sh - idle RSS of `alilink serve` (issue 16): the drive pointed at a closed loopback port,
# /proc/PID/status after 4 s (VmRSS = RssAnon + RssFile), then after 20 /-/metrics scrapes and 20
# drive-path requests. BUILDFLAGS as for the Dockerfile: CGO_ENABLED=0 BUILDFLAGS='-tags nodemo -trimpath
# -ldflags="-s -w"'. SMAPS=1 prints smaps_rollup. For the resident pages by package and ELF section
# build without -s -w and run: python3 bench/rss-pages.py PID BINARY.
set -euo pipefail
cd "$(dirname "$0")/.."
B=${B:-/tmp/alilink-h16-alilink-rss}
eval go build ${BUILDFLAGS:-} -o $B .
st=$(mktemp -d)
env ALILINK_REFRESH_TOKEN=x ALILINK_API_URL=http://127.0.0.1:9 ALILINK_AUTH_URL=http://127.0.0.1:9 ALILINK_STATE_DIR=$st ALILINK_LISTEN=127.0.0.1:18620 ${EXTRA:-} $B serve 2>$st/log &
pid=$!
sleep 4
kill -0 $pid 2>/dev/null || { echo "idle-rss: serve exited:" >&2; cat $st/log >&2; exit 1; }
show() { echo "$1: $(awk '/^VmRSS|^RssAnon|^RssFile/ {printf "%s %.1f MiB  ", $1, $2/1024}' /proc/$pid/status)"; }
show idle
[[ -n ${SMAPS:-} ]] && cat /proc/$pid/smaps_rollup | head -20
for i in $(seq 20); do curl -s -o /dev/null http://127.0.0.1:18620/-/metrics; curl -s -o /dev/null http://127.0.0.1:18620/Movies/a$i.mkv; done
sleep 1
show "after 40 requests"
kill $pid; wait $pid 2>/dev/null || true
ls -la $B | awk '{print "binary", $5}'
rm -rf $st

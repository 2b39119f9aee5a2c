#!/usr/bin/env bash
# first-stream.sh - is the first whole-file stream after start slower than the next ones (issue 16)?
# A fresh bench/proxybench (alilink proxy mode) in front of the nginx origin (TLS=on by default, as
# the real CDN), two small Range requests (as proxy-vs-nginx.sh's byte checks), then N [3] whole-file
# downloads with curl: MiB/s, alilink's CPU seconds and RSS after each. alilink on cpu1, origin and
# curl on cpu0. Knobs: TLS [on], N [3], ALI_ENV, SHARED [../shared], DATA [/tmp/alilink-bench-data].
set -euo pipefail
cd "$(dirname "$0")/.."
SHARED=${SHARED:-../shared}
export PREFIX=${PREFIX:-$(mktemp -d /tmp/alilink-first-XXXX)}; mkdir -p "$PREFIX"
export TLS=${TLS:-on}
scheme=$([[ $TLS == on ]] && echo https || echo http)
DATA=${DATA:-/tmp/alilink-bench-data}
source bench/lib.sh
bench_data "$DATA"
origin=18610 ali=18613
hz=$(getconf CLK_TCK)
alone_origin $origin
alone_proxybench $scheme://127.0.0.1:$origin $ali
for _ in 1 2; do curl -s -r 123456789-123457788 $url >/dev/null; done
cput() { awk '{print $14 + $15}' /proc/$alipid/stat; }
for i in $(seq ${N:-3}); do
  t0=$(cput)
  bps=$(taskset -c 0 curl -s -o /dev/null ${CURL_OPTS:-} -w '%{speed_download}' $url)
  t1=$(cput)
  rss=$(awk '/^VmRSS/ {print $2}' /proc/$alipid/status)
  echo "stream $i: $(awk -v b=$bps 'BEGIN{printf "%.0f", b/1048576}') MiB/s, $(awk -v c=$((t1-t0)) -v hz=$hz 'BEGIN{printf "%.2f", c/hz}') CPU-s, RSS ${rss} KiB"
done

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
go build -o $PREFIX/proxybench ./bench/proxybench
cleanup() { [[ -n ${alipid:-} ]] && kill $alipid 2>/dev/null; $SHARED/bench/nginx-peer.sh stop >/dev/null 2>&1 || true; }
trap cleanup EXIT
SENDFILE=off CPUS=0 $SHARED/bench/nginx-peer.sh origin $origin $DATA >/dev/null
env ${ALI_ENV:-} SSL_CERT_FILE=$PREFIX/tls/cert.pem taskset -c 1 $PREFIX/proxybench -listen 127.0.0.1:$ali -origin $scheme://127.0.0.1:$origin -root $DATA ${PB_FLAGS:-} >$PREFIX/pb.out 2>$PREFIX/pb.err &
alipid=$!
for _ in $(seq 100); do grep -q '^ready' $PREFIX/pb.out 2>/dev/null && break; sleep 0.1; done
url=http://127.0.0.1:$ali/big.bin
for _ in 1 2; do curl -s -r 123456789-123457788 $url >/dev/null; done
cput() { awk '{print $14 + $15}' /proc/$alipid/stat; }
for i in $(seq ${N:-3}); do
  t0=$(cput)
  bps=$(taskset -c 0 curl -s -o /dev/null ${CURL_OPTS:-} -w '%{speed_download}' $url)
  t1=$(cput)
  rss=$(awk '/^VmRSS/ {print $2}' /proc/$alipid/status)
  echo "stream $i: $(awk -v b=$bps 'BEGIN{printf "%.0f", b/1048576}') MiB/s, $(awk -v c=$((t1-t0)) -v hz=$hz 'BEGIN{printf "%.2f", c/hz}') CPU-s, RSS ${rss} KiB"
done

#!/usr/bin/env bash
# streams-syscalls.sh - alilink alone over the TLS origin: C [8] concurrent whole-file streams (wrk)
# for D [8] seconds, N [2] runs: MiB/s, CPU-s per GiB, and (PERF=1, default) system calls and context
# switches per GiB from `perf stat`; PREC=1 records a `perf record -g` profile into $PREFIX/perf.data,
# STRACE=1 an strace of its writes (sizes). Issue 16's buffer-rule measurements.
set -euo pipefail
cd "$(dirname "$0")/.."
SHARED=${SHARED:-../shared}
export PREFIX=${PREFIX:-$(mktemp -d /tmp/alilink-multi-XXXX)}; mkdir -p "$PREFIX"
export TLS=${TLS:-on}
scheme=$([[ $TLS == on ]] && echo https || echo http)
DATA=${DATA:-/tmp/alilink-bench-data}
source bench/lib.sh
bench_data "$DATA"
origin=18630 ali=18633
hz=$(getconf CLK_TCK)
go build -o $PREFIX/proxybench ./bench/proxybench
cleanup() { [[ -n ${alipid:-} ]] && kill $alipid 2>/dev/null; $SHARED/bench/nginx-peer.sh stop >/dev/null 2>&1 || true; }
trap cleanup EXIT
SENDFILE=off CPUS=0 $SHARED/bench/nginx-peer.sh origin $origin $DATA >/dev/null
env ${ALI_ENV:-} SSL_CERT_FILE=$PREFIX/tls/cert.pem taskset -c ${ALICPU:-1} $PREFIX/proxybench -listen 127.0.0.1:$ali -origin $scheme://127.0.0.1:$origin -root $DATA ${PB_FLAGS:-} >$PREFIX/pb.out 2>$PREFIX/pb.err &
alipid=$!
for _ in $(seq 100); do grep -q '^ready' $PREFIX/pb.out 2>/dev/null && break; sleep 0.1; done
url=http://127.0.0.1:$ali/big.bin
curl -s -r 0-999 $url >/dev/null
cput() { awk '{print $14 + $15}' /proc/$alipid/stat; }
for i in $(seq ${N:-2}); do
  t0=$(cput)
  if [[ ${PERF:-1} == 1 ]]; then
    perf stat -e 'syscalls:sys_enter_write,syscalls:sys_enter_read,syscalls:sys_enter_nanosleep,syscalls:sys_enter_futex,context-switches' -p $alipid -o $PREFIX/perf.$i -- sleep ${D:-8} >/dev/null 2>&1 &
    pp=$!
  fi
  [[ ${PREC:-0} == 1 ]] && { (sleep 2; perf record -F 1999 -g -p $alipid -o $PREFIX/perf.data -- sleep 5 >/dev/null 2>&1) & }
  [[ ${STRACE:-0} == 1 ]] && { (sleep 3; timeout 3 strace -f -e trace=write -p $alipid -o $PREFIX/strace.$i 2>/dev/null) & }
  out=$(taskset -c 0 wrk -t1 -c${C:-8} -d${D:-8}s --timeout 60s $url)
  t1=$(cput)
  [[ ${PERF:-1} == 1 ]] && wait $pp
  gib=$(awk '/Transfer\/sec/ {v=$2; u=substr(v, length(v)-1); n=v+0; if (u=="GB") n*=1024; else if (u=="KB") n/=1024; printf "%.3f", n*'${D:-8}'/1024}' <<<"$out")
  echo "run $i: $(awk -v g=$gib -v d=${D:-8} 'BEGIN{printf "%.0f MiB/s", g*1024/d}'), $(awk -v c=$((t1-t0)) -v hz=$hz -v g=$gib 'BEGIN{printf "%.2f CPU-s/GiB", c/hz/g}')"
  [[ ${PERF:-1} == 1 ]] && awk -v g=$gib '/syscalls|context/ {gsub(",","",$1); printf "   %s per GiB: %.0f\n", $2, $1/g}' $PREFIX/perf.$i
done

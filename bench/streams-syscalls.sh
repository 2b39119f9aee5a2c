#!/usr/bin/env bash
# streams-syscalls.sh - alilink alone over the TLS origin: C [8] concurrent whole-file streams (wrk)
# for D [8] seconds, N [2] runs: MiB/s, CPU-s per GiB, and (PERF=1, default) system calls and context
# switches per GiB from `perf stat`; PREC=1 records a `perf record -g` profile into $PREFIX/perf.data,
# SIZES=1 the results of its reads and writes over 3 s (EAGAINs, byte-count buckets, from perf);
# STRACE=1 an strace of its writes (STRACE_CALLS [write], e.g. read,write), sizes and errors. Issue 16's buffer-rule measurements.
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
alone_origin $origin
alone_proxybench $scheme://127.0.0.1:$origin $ali
curl -s -r 0-999 $url >/dev/null
cput() { awk '{print $14 + $15}' /proc/$alipid/stat; }
for i in $(seq ${N:-2}); do
  t0=$(cput)
  if [[ ${PERF:-1} == 1 ]]; then
    perf stat -e 'syscalls:sys_enter_write,syscalls:sys_enter_read,syscalls:sys_enter_nanosleep,syscalls:sys_enter_futex,context-switches' -p $alipid -o $PREFIX/perf.$i -- sleep ${D:-8} >/dev/null 2>&1 &
    pp=$!
  fi
  [[ ${PREC:-0} == 1 ]] && { (sleep 2; perf record -F 1999 -g -p $alipid -o $PREFIX/perf.data -- sleep 5 >/dev/null 2>&1) & }
  [[ ${SIZES:-0} == 1 ]] && { (sleep 2; perf record -q -e syscalls:sys_exit_read,syscalls:sys_exit_write -p $alipid -o $PREFIX/sizes.$i -- sleep 3 >/dev/null 2>&1) & }
  [[ ${STRACE:-0} == 1 ]] && { (sleep 3; timeout 3 strace -f -e trace=${STRACE_CALLS:-write} -p $alipid -o $PREFIX/strace.$i 2>/dev/null) & }
  out=$(taskset -c 0 wrk -t1 -c${C:-8} -d${D:-8}s --timeout 60s $url)
  t1=$(cput)
  [[ ${PERF:-1} == 1 ]] && wait $pp
  gib=$(awk '/Transfer\/sec/ {v=$2; u=substr(v, length(v)-1); n=v+0; if (u=="GB") n*=1024; else if (u=="KB") n/=1024; printf "%.3f", n*'${D:-8}'/1024}' <<<"$out")
  echo "run $i: $(awk -v g=$gib -v d=${D:-8} 'BEGIN{printf "%.0f MiB/s", g*1024/d}'), $(awk -v c=$((t1-t0)) -v hz=$hz -v g=$gib 'BEGIN{printf "%.2f CPU-s/GiB", c/hz/g}')"
  if [[ ${SIZES:-0} == 1 ]]; then
    sleep 2.5
    # Each read's and write's result over 3 s: EAGAIN, and byte counts in buckets.
    perf script -i $PREFIX/sizes.$i -F event,trace 2>/dev/null | python3 -c '
import collections, sys
n, t, moved = collections.Counter(), collections.Counter(), collections.Counter()
for line in sys.stdin:
    f = line.split()
    if len(f) < 2: continue
    call, v = ("read" if "read" in f[0] else "write"), int(f[-1], 16)
    b = ("error (EAGAIN...)" if v >= 1 << 63 else "< 16 KiB" if v < 16384 else "16 KiB" if v == 16384
         else "16-256 KiB" if v < 262144 else "256 KiB")
    n[call, b] += 1; t[call] += 1
    if v < 1 << 63: moved[call] += v
for (call, b), k in sorted(n.items()):
    print(f"   {call:5s} {b:18s} {k:6d} ({100 * k / t[call]:.0f}%)")
for call in sorted(t):
    ok = t[call] - n[call, "error (EAGAIN...)"]
    print(f"   {call:5s} mean {moved[call] / 1024 / max(ok, 1):.0f} KiB per call that moved bytes")'
  fi
  [[ ${PERF:-1} == 1 ]] && awk -v g=$gib '/syscalls|context/ {gsub(",","",$1); printf "   %s per GiB: %.0f\n", $2, $1/g}' $PREFIX/perf.$i
done

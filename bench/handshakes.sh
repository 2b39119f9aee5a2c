#!/usr/bin/env bash
# handshakes.sh - where alilink's new upstream (TLS) connections come from (issue 16).
# bench/proxybench against the TLS origin; PHASES [rng rng multi rng single rng] run one after
# another: rng = wrk -c16 random 1 MiB Ranges for D [10s], multi = wrk -c8 whole-file streams for 5 s
# (cut at the end, as proxy-vs-nginx.sh's 8-stream row), single = one whole-file curl. For each
# phase: requests the origin logged, connections it had not seen before, and at which request of the
# phase each appeared.
set -euo pipefail
cd "$(dirname "$0")/.."
SHARED=${SHARED:-../shared}
export PREFIX=${PREFIX:-$(mktemp -d /tmp/alilink-hs-XXXX)}; mkdir -p "$PREFIX"
export TLS=on
DATA=${DATA:-/tmp/alilink-bench-data}
source bench/lib.sh
bench_data "$DATA"
size=$(stat -c%s $DATA/big.bin)
origin=18600 ali=18603
alone_origin $origin
conn_log=$PREFIX/origin/conn.log
sed -i "s|^  access_log off;|  log_format conn '\$connection \$ssl_session_reused \$ssl_protocol/\$ssl_cipher \$status \$body_bytes_sent'; access_log $conn_log conn buffer=64k flush=1s;|" $PREFIX/origin/nginx.conf
nginx -q -p $PREFIX/origin -c $PREFIX/origin/nginx.conf -e $PREFIX/origin/error.log -s reload
for _ in $(seq 50); do [[ -e $conn_log ]] && break; sleep 0.1; done
alone_proxybench https://127.0.0.1:$origin $ali
phase() {
  sleep 1.2; local before=$(wc -l <$conn_log)
  "$@" >/dev/null
  sleep 1.2
  awk -v b=$before -v name="$1 ${*: -1}" 'NR <= b {seen[$1]=1; next} {n++; if (!($1 in seen) && !($1 in fresh)) {fresh[$1]=1; c++; pos=pos" "n}} END {printf "%-10s requests %d new conns %d at request#:%s\n", name, n, c, substr(pos,1,200)}' $conn_log
}
rng() { FILE_SIZE=$size taskset -c 0 wrk -t1 -c16 -d${D:-10s} -s $SHARED/bench/range-random.lua $url; }
multi() { taskset -c 0 wrk -t1 -c8 -d5s --timeout 60s $url; }
single() { taskset -c 0 curl -s -o /dev/null $url; }
for p in ${PHASES:-rng rng multi rng single rng}; do phase $p; done

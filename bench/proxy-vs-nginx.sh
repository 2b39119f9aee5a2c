#!/usr/bin/env bash
# proxy-vs-nginx.sh - alilink's proxy mode against a tuned nginx proxy_pass, one run, same box.
#
#   bench/proxy-vs-nginx.sh        (from the repository root; needs nginx, wrk, curl, taskset)
#
# origin : nginx serving a 1 GiB random file, SENDFILE=off, on cpu0 (the CDN stand-in). The fake
#          drive's API hands out download links on it (bench/proxybench).
# peer   : nginx proxy_pass with the Referer, from ../shared/bench/nginx-peer.sh, tuned
#          (PROXY_BUF=64k PROXY_TEMPFILE=off), on cpu1.
# alilink: bench/proxybench (the real client, resolver and streamer in proxy mode) on cpu1.
# Load generators (curl, wrk) run on cpu0 with the origin.
#
# Per repeat (REPEATS, default 3), the two targets interleaved:
#   single  one whole-file download with curl, MiB/s, and the proxy's CPU seconds per GiB
#   multi   wrk -c8 over whole-file downloads for DURATION, MiB/s, and the proxy's CPU seconds per GiB
#   range   wrk -c16 with ../shared/bench/range-random.lua (random 1 MiB ranges), requests/s
# Once per target: RSS of the proxy idle and at peak with SLOW (default 200) concurrent streams read
# at 100 KiB/s for SLOW_SECS (default 10) seconds.
# Medians and the ratios alilink/nginx are printed at the end.
#
# TLS=on runs the same rows against an HTTPS origin, as the real CDN is: nginx-peer.sh's TLS=on (a
# self-signed certificate under $PREFIX/tls, the peer `proxy_pass https://` with upstream keep-alive
# and proxy_ssl_session_reuse on), alilink trusting the certificate through SSL_CERT_FILE. In both
# modes the origin logs each request's connection number (buffered), which gives the new upstream
# connections (TLS handshakes, and how many of them resumed a session) per 1,000 Range requests.
# Knobs: DURATION [10s], REPEATS [3], SLOW [200], SLOW_SECS [10], TLS [off], SKIP_SLOW [0],
# PROXYBENCH_ENV (extra environment for alilink, e.g. GOMAXPROCS=1), PORT_BASE [18500].
set -euo pipefail
cd "$(dirname "$0")/.."
SHARED=${SHARED:-../shared}
DURATION=${DURATION:-10s}
REPEATS=${REPEATS:-3}
SLOW=${SLOW:-200}
SLOW_SECS=${SLOW_SECS:-10}
DATA=${DATA:-/tmp/alilink-bench-data}
base=${PORT_BASE:-18500}
origin=$base proxy=$((base + 1)) redirect=$((base + 2)) ali=$((base + 3))
export PREFIX=${PREFIX:-$(mktemp -d /tmp/alilink-proxybench-XXXX)}
hz=$(getconf CLK_TCK)
TLS=${TLS:-off}
export TLS
scheme=$([[ $TLS == on ]] && echo https || echo http)

source bench/lib.sh
bench_data "$DATA"
size=$(stat -c%s "$DATA/big.bin")
go build -o "$PREFIX/proxybench" ./bench/proxybench

cleanup() {
  [[ -n ${alipid:-} ]] && kill "$alipid" 2>/dev/null && wait "$alipid" 2>/dev/null
  "$SHARED/bench/nginx-peer.sh" stop >/dev/null 2>&1 || true
}
trap cleanup EXIT
SENDFILE=off CPUS=0 "$SHARED/bench/nginx-peer.sh" origin "$origin" "$DATA" >/dev/null
# The origin logs "<connection number> <session reused: r or .>" per request, buffered, to count
# upstream connections and TLS handshakes (the same cost for both proxies).
conn_log=$PREFIX/origin/conn.log
sed -i "s|^  access_log off;|  log_format conn '\$connection \$ssl_session_reused \$ssl_protocol/\$ssl_cipher'; access_log $conn_log conn buffer=64k flush=1s;|" \
  "$PREFIX/origin/nginx.conf"
nginx -q -p "$PREFIX/origin" -c "$PREFIX/origin/nginx.conf" -e "$PREFIX/origin/error.log" -s reload
for _ in $(seq 50); do [[ -e $conn_log ]] && break; sleep 0.1; done
PROXY_BUF=64k PROXY_TEMPFILE=off CPUS=1 "$SHARED/bench/nginx-peer.sh" start "$origin" "$proxy" "$redirect" >/dev/null
nginx_pid=$(pgrep -P "$(cat "$PREFIX/peer/nginx.pid")" | head -1) # the one worker

ali_env=(${PROXYBENCH_ENV:-})
[[ $TLS == on ]] && ali_env+=("SSL_CERT_FILE=$PREFIX/tls/cert.pem")
env "${ali_env[@]}" taskset -c 1 "$PREFIX/proxybench" -listen "127.0.0.1:$ali" -origin "$scheme://127.0.0.1:$origin" -root "$DATA" \
  >"$PREFIX/proxybench.out" 2>"$PREFIX/proxybench.err" &
alipid=$!
for _ in $(seq 100); do grep -q '^ready' "$PREFIX/proxybench.out" 2>/dev/null && break; sleep 0.1; done
grep -q '^ready' "$PREFIX/proxybench.out" || { cat "$PREFIX/proxybench.err" >&2; exit 1; }

url_nginx="http://127.0.0.1:$proxy/big.bin"
url_ali="http://127.0.0.1:$ali/big.bin"
for u in "$url_nginx" "$url_ali"; do # both must serve the same bytes, Range included
  a=$(curl -s -r 123456789-123457788 "$u" | md5sum)
  b=$(dd if="$DATA/big.bin" iflag=skip_bytes,count_bytes skip=123456789 count=1000 bs=64k 2>/dev/null | md5sum)
  [[ $a == "$b" ]] || { echo "$u serves wrong bytes" >&2; exit 1; }
done

cputicks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
rss_kib() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }
mib() { awk -v b="$1" 'BEGIN {printf "%.0f", b / 1048576}'; }
# wrk prints Transfer/sec as e.g. 1.52GB (binary units); convert to MiB/s.
wrk_mibs() { awk '/Transfer\/sec/ {v=$2; u=substr(v, length(v)-1); n=v+0;
  if (u=="GB") n*=1024; else if (u=="KB") n/=1024; else if (u!="MB") n/=1048576; printf "%.0f", n}'; }

single() { # url pid -> "MiB/s cpu-seconds-per-GiB"
  local t0 t1 bps
  t0=$(cputicks "$2")
  bps=$(taskset -c 0 curl -s -o /dev/null -w '%{speed_download}' "$1")
  t1=$(cputicks "$2")
  awk -v b="$bps" -v s="$size" -v c=$((t1 - t0)) -v hz="$hz" \
    'BEGIN {printf "%.0f %.2f", b / 1048576, (c / hz) / (s / 1073741824)}'
}
multi() { # url pid -> "MiB/s cpu-seconds-per-GiB"
  local t0 t1 out rate
  t0=$(cputicks "$2")
  out=$(taskset -c 0 wrk -t1 -c8 -d"$DURATION" --timeout 60s "$1")
  t1=$(cputicks "$2")
  rate=$(wrk_mibs <<<"$out")
  awk -v r="$rate" -v d="${DURATION%s}" -v c=$((t1 - t0)) -v hz="$hz" \
    'BEGIN {printf "%s %.2f", r, (c / hz) / (r * d / 1024)}'
}
ranges() { # url -> "req/s new-upstream-connections-per-1000 resumed-per-1000"
  local before q
  sleep 1.2 # the origin's log buffer flushes every second
  before=$(wc -l <"$conn_log")
  q=$(FILE_SIZE=$size taskset -c 0 wrk -t1 -c16 -d"$DURATION" -s "$SHARED/bench/range-random.lua" "$1" |
    awk '/Requests\/sec/ {printf "%.0f", $2}')
  sleep 1.2
  # A connection is new if the origin had not logged its number before the run.
  awk -v b="$before" -v q="$q" 'NR <= b {seen[$1] = 1; next}
    {n++; if (!($1 in seen) && !($1 in fresh)) {fresh[$1] = 1; c++; if ($2 == "r") r++}}
    END {printf "%s %.1f %.1f", q, 1000 * c / n, 1000 * r / n}' "$conn_log"
}
slow_rss() { # url pid -> "idle_kib peak_kib"
  local idle peak pids=() r
  idle=$(rss_kib "$2") peak=$idle
  for _ in $(seq "$SLOW"); do
    taskset -c 0 curl -s -o /dev/null --limit-rate 100k --max-time "$SLOW_SECS" "$1" &
    pids+=($!)
  done
  for _ in $(seq $((SLOW_SECS * 4))); do
    r=$(rss_kib "$2"); ((r > peak)) && peak=$r
    sleep 0.25
  done
  wait "${pids[@]}" 2>/dev/null || true
  echo "$idle $peak"
}
median() { sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }

declare -A res
for r in $(seq "$REPEATS"); do
  for t in nginx ali; do
    url=url_$t; pid=$([[ $t == nginx ]] && echo "$nginx_pid" || echo "$alipid")
    read -r s cpu1 <<<"$(single "${!url}" "$pid")"
    read -r m cpu <<<"$(multi "${!url}" "$pid")"
    read -r q hs rs <<<"$(ranges "${!url}")"
    res[$t.single]+="$s "; res[$t.multi]+="$m "; res[$t.cpu1]+="$cpu1 "; res[$t.cpu]+="$cpu "; res[$t.range]+="$q "
    res[$t.hs]+="$hs "; res[$t.rs]+="$rs "
    echo "repeat $r $t: single $s MiB/s ($cpu1 CPU-s/GiB), 8 streams $m MiB/s ($cpu CPU-s/GiB), ranges $q req/s" \
      "($hs new upstream connections per 1000, $rs of them resumed TLS sessions)"
  done
done
for t in nginx ali; do
  [[ ${SKIP_SLOW:-0} == 1 ]] && break
  url=url_$t; pid=$([[ $t == nginx ]] && echo "$nginx_pid" || echo "$alipid")
  read -r idle peak <<<"$(slow_rss "${!url}" "$pid")"
  res[$t.idle]=$idle res[$t.peak]=$peak
  echo "$t: RSS idle $((idle / 1024)) MiB, peak $((peak / 1024)) MiB with $SLOW slow streams"
done

med() { tr ' ' '\n' <<<"${res[$1]}" | grep . | median; }
printf '\norigin: %s\n%-28s %14s %14s %8s\n' "$scheme" measure "nginx tuned" alilink ratio
for k in single multi range; do
  n=$(med nginx.$k) a=$(med ali.$k)
  printf '%-28s %14s %14s %8s\n' "$k" "$n" "$a" "$(awk -v a="$a" -v n="$n" 'BEGIN {printf "%.2f", a / n}')"
done
for k in cpu1 cpu; do
  n=$(med nginx.$k) a=$(med ali.$k)
  label="CPU-s per GiB ($([[ $k == cpu1 ]] && echo single || echo "8 streams"))"
  printf '%-28s %14s %14s %8s\n' "$label" "$n" "$a" "$(awk -v a="$a" -v n="$n" 'BEGIN {printf "%.2f", a / n}')"
done
for k in hs rs; do
  label=$([[ $k == hs ]] && echo "new upstream conns / 1000" || echo "  of them TLS resumed")
  printf '%-28s %14s %14s\n' "$label" "$(med nginx.$k)" "$(med ali.$k)"
done
for t in nginx ali; do
  [[ ${SKIP_SLOW:-0} == 1 ]] && break
  per=$(awk -v i="${res[$t.idle]}" -v p="${res[$t.peak]}" -v s="$SLOW" 'BEGIN {printf "%.1f", (p - i) / s}')
  printf '%-28s %s: idle %d KiB, peak %d KiB, %s KiB per stream\n' "RSS, $SLOW slow streams" "$t" "${res[$t.idle]}" "${res[$t.peak]}" "$per"
done
# Which protocol and cipher the origin negotiated, requests per kind (both proxies together).
echo "origin requests by protocol/cipher: $(awk '{c[$3]++} END {for (k in c) printf "%s %d; ", k, c[k]}' "$conn_log")"

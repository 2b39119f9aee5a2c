# bench/lib.sh - what the side-by-side scripts share; they source it.

# bench_data DIR: the origin's DIR/big.bin, 1 GiB of random bytes, made on first use, and read
# once so that it is in the page cache: a run once found it half evicted, and the origin read it
# from the disk at 350 MB/s, below what the proxies move.
bench_data() {
  mkdir -p "$1"
  if [[ ! -s $1/big.bin ]]; then
    echo "making $1/big.bin (1 GiB of random bytes)" >&2
    head -c $((1 << 30)) /dev/urandom >"$1/big.bin"
  fi
  cat "$1/big.bin" >/dev/null
}

# The scripts that run alilink alone (bench/proxybench) in front of the nginx origin.
# alone_origin PORT: builds proxybench into $PREFIX and starts the origin on cpu0, serving $DATA;
# both stop when the script exits.
alone_origin() {
  go build -o "$PREFIX/proxybench" ./bench/proxybench
  trap alone_cleanup EXIT
  SENDFILE=off CPUS=0 "$SHARED/bench/nginx-peer.sh" origin "$1" "$DATA" >/dev/null
}
alone_cleanup() {
  [[ -n ${alipid:-} ]] && kill "$alipid" 2>/dev/null
  "$SHARED/bench/nginx-peer.sh" stop >/dev/null 2>&1 || true
}
# alone_proxybench ORIGIN_URL PORT: starts proxybench on cpu ALICPU [1] with ALI_ENV and PB_FLAGS,
# waits until it is ready, and sets alipid and url (its big.bin).
alone_proxybench() {
  env ${ALI_ENV:-} SSL_CERT_FILE="$PREFIX/tls/cert.pem" taskset -c "${ALICPU:-1}" "$PREFIX/proxybench" \
    -listen "127.0.0.1:$2" -origin "$1" -root "$DATA" ${PB_FLAGS:-} >"$PREFIX/pb.out" 2>"$PREFIX/pb.err" &
  alipid=$!
  for _ in $(seq 100); do grep -q '^ready' "$PREFIX/pb.out" 2>/dev/null && break; sleep 0.1; done
  url=http://127.0.0.1:$2/big.bin
}

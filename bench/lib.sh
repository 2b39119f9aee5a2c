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

#!/usr/bin/env bash
# idle-faults.sh - what faults the pages of an idle `alilink serve` in (issue 16). Idle RSS is
# mostly the binary's own pages, and the kernel maps them 64 KiB at a time around each fault
# (fault-around, /sys/kernel/debug/fault_around_bytes), so the number of faults per ELF section,
# times 64 KiB, is what the RSS of a section is; this counts them with `perf record -e
# page-faults -c 1 -d` over the same 4 s as idle-rss.sh, and names the functions that fault most.
# Needs perf and readelf. B names the binary; BUILDFLAGS as for idle-rss.sh (the Dockerfile's
# build by default, without -s -w so that perf has symbols). TOP [12] functions per section.
set -euo pipefail
cd "$(dirname "$0")/.."
B=${B:-/tmp/alilink-idle-faults}
eval CGO_ENABLED=0 go build ${BUILDFLAGS:--tags nodemo -trimpath} -o "$B" .
st=$(mktemp -d)
trap 'rm -rf "$st"' EXIT
env ALILINK_REFRESH_TOKEN=x ALILINK_API_URL=http://127.0.0.1:9 ALILINK_AUTH_URL=http://127.0.0.1:9 \
  ALILINK_STATE_DIR="$st" ALILINK_LISTEN=127.0.0.1:18621 ${EXTRA:-} \
  timeout -s INT 4 perf record -q -e page-faults -c 1 -d -o "$st/pf.data" "$B" serve >/dev/null 2>&1 || true
perf script -i "$st/pf.data" -F addr,ip,sym 2>/dev/null >"$st/pf.txt"
readelf -SW "$B" >"$st/sections"
python3 - "$st" "${TOP:-12}" <<'PY'
import collections, re, sys
st, top = sys.argv[1], int(sys.argv[2])
secs = []
for line in open(f'{st}/sections'):
    m = re.match(r'\s*\[\s*\d+\]\s+(\S+)\s+\S+\s+([0-9a-f]+)\s+[0-9a-f]+\s+([0-9a-f]+)', line)
    if m and int(m.group(2), 16):
        secs.append((m.group(1), int(m.group(2), 16), int(m.group(3), 16)))
def section(a):
    for name, start, size in secs:
        if start <= a < start + size:
            return name
    return 'kernel' if a >= 1 << 63 else 'anonymous (heap, stacks)'
count, by = collections.Counter(), collections.defaultdict(collections.Counter)
for line in open(f'{st}/pf.txt'):
    f = line.split()
    if len(f) < 3:
        continue
    s = section(int(f[0], 16))
    count[s] += 1
    by[s][f[-1]] += 1
print(f'faults: {sum(count.values())}')
for s, n in count.most_common():
    # Read faults on the read-only file pages map up to 64 KiB each; anonymous, .bss and written
    # .data pages fault one 4 KiB page at a time.
    ro = s in ('.text', '.rodata', '.gopclntab', '.typelink', '.itablink', '.go.module', '.go.buildinfo')
    print(f'  {s:26s} {n:4d}' + (f'  (x 64 KiB = {n * 64 / 1024:.1f} MiB at most)' if ro else ''))
for s in ('.text', '.gopclntab', '.rodata'):
    print(f'{s}, by faulting function:', ', '.join(f'{k} {v}' for k, v in by[s].most_common(top)))
PY

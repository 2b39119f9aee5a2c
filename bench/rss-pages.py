#!/usr/bin/env python3
# rss-pages.py PID BINARY [TOP]: which packages' symbols lie on the resident pages of BINARY's mappings (from /proc/PID/pagemap, root), and resident KiB per ELF section (issue 16)
import sys, struct, subprocess, bisect, re, collections
pid, binary = sys.argv[1], sys.argv[2]
syms = []
for line in subprocess.run(['go', 'tool', 'nm', '-size', '-sort', 'address', binary], capture_output=True, text=True).stdout.splitlines():
    f = line.split(None, 3)
    if len(f) < 4: continue
    addr, size, typ, name = int(f[0], 16), int(f[1]), f[2], f[3]
    if size == 0: continue
    syms.append((addr, addr + size, typ, name))
starts = [s[0] for s in syms]
def pkg(name):
    if name.startswith('type:') or name.startswith('go:') or name.startswith('runtime.'):
        m = re.match(r'(type:\.?[a-z]+|go:[a-z.]+|runtime)', name)
        return m.group(1) if m else name
    n = name
    i = n.rfind('/')
    j = n.find('.', i + 1)
    return n[:j] if j > 0 else n
maps = []
for line in open(f'/proc/{pid}/maps'):
    f = line.split()
    if len(f) >= 6 and f[5] == binary:
        a, b = (int(x, 16) for x in f[0].split('-'))
        maps.append((a, b, f[1]))
pm = open(f'/proc/{pid}/pagemap', 'rb')
by = collections.Counter(); tot = collections.Counter(); unk = collections.Counter()
for a, b, perm in maps:
    for page in range(a, b, 4096):
        pm.seek(page // 4096 * 8)
        v = struct.unpack('<Q', pm.read(8))[0]
        if not v >> 63 & 1: continue
        tot[perm] += 4096
        i = max(0, bisect.bisect_right(starts, page) - 1)
        covered = 0
        while i < len(syms) and syms[i][0] < page + 4096:
            s, e, t, n = syms[i]
            ov = min(e, page + 4096) - max(s, page)
            if ov > 0:
                by[(perm, pkg(n))] += ov; covered += ov
            i += 1
        unk[perm] += 4096 - covered
for perm, n in tot.items():
    print(f'{perm}: {n/1024:.0f} KiB resident (unattributed {unk[perm]/1024:.0f} KiB)')
top = sorted(by.items(), key=lambda kv: -kv[1])[:int(sys.argv[3]) if len(sys.argv) > 3 else 40]
for (perm, p), n in top:
    print(f'  {perm} {n/1024:8.0f} KiB  {p}')
# per ELF section
secs = []
for line in subprocess.run(['readelf', '-SW', binary], capture_output=True, text=True).stdout.splitlines():
    m = re.match(r'\s*\[\s*\d+\]\s+(\S+)\s+\S+\s+([0-9a-f]+)\s+[0-9a-f]+\s+([0-9a-f]+)', line)
    if m and int(m.group(2), 16):
        secs.append((m.group(1), int(m.group(2), 16), int(m.group(3), 16)))
for name, addr, size in secs:
    res = 0
    for page in range(addr & ~4095, addr + size, 4096):
        pm.seek(page // 4096 * 8)
        if struct.unpack('<Q', pm.read(8))[0] >> 63 & 1: res += 4096
    print(f'section {name:20s} size {size/1024:8.0f} KiB resident {res/1024:6.0f} KiB')

#!/bin/sh
# Regenerates the interop fixtures with the reference command-line tools
# (xz 5.x, bzip2 1.0.x, zstd 1.5.x) and Python's zlib. TestInterop decodes every
# plain.txt.* file and compares it with plain.txt, or with plain.txt twice when the
# name contains ".twice.".
set -eu
cd "$(dirname "$0")"
python3 - <<'PY'
import random
r = random.Random(20240601)
stations = ["011990-99999", "012650-99999", "724940-23234", "035500-99999"]
with open("plain.txt", "w") as f:
    for i in range(600):
        f.write(f"{r.choice(stations)},{-619524000000 + i * 3600000},{r.randint(-300, 400)},{r.random():.6f}\n")
PY
rm -f plain.txt.?*
xz -c --check=crc32 plain.txt > plain.txt.crc32.xz
xz -c --check=crc64 plain.txt > plain.txt.crc64.xz
xz -c --check=sha256 plain.txt > plain.txt.sha256.xz
xz -c --check=none plain.txt > plain.txt.none.xz
xz -c -T1 --block-size=4096 plain.txt > plain.txt.blocks.xz
xz -c -T2 --block-size=4096 plain.txt > plain.txt.mt.xz          # block headers carry sizes
xz -c --lzma2=preset=6,dict=4KiB plain.txt > plain.txt.dict4k.xz
xz -c -9e plain.txt > plain.txt.9e.xz                             # 64 MiB dictionary
{ xz -c plain.txt; printf '\0\0\0\0\0\0\0\0'; xz -c --check=crc32 plain.txt; } > plain.txt.twice.xz
bzip2 -c -9 plain.txt > plain.txt.bz2
bzip2 -c -1 plain.txt > plain.txt.1.bz2
{ bzip2 -c plain.txt; bzip2 -c plain.txt; } > plain.txt.twice.bz2
zstd -q -c -19 plain.txt > plain.txt.zst
zstd -q -c --no-check plain.txt > plain.txt.nocheck.zst
zstd -q -c < plain.txt > plain.txt.stdin.zst                     # no content size
{ zstd -q -c plain.txt; zstd -q -c < plain.txt; } > plain.txt.twice.zst
python3 - <<'PY'
import zlib
data = open("plain.txt", "rb").read()
for name, level in (("deflate", 9), ("stored.deflate", 0), ("fast.deflate", 1)):
    c = zlib.compressobj(level, zlib.DEFLATED, -15)
    open("plain.txt." + name, "wb").write(c.compress(data) + c.flush())
PY

"""Decompression bombs and CPU amplification: a small hostile file must end in a
typed error (or its real rows) quickly, with memory bounded by max_block_size,
and give that memory back.

Every read runs in a child process, which measures its own peak RSS; a crash or a
hang there fails the test instead of the test run.
"""

from __future__ import annotations

import bz2
import json
import lzma
import os
import struct
import subprocess
import sys
import zlib
from pathlib import Path
from typing import Any

import cramjam
import pytest

MiB = 1 << 20
CHUNK = 16 * MiB
MAX_BLOCK_SIZE = 512 * MiB  # the default
SCHEMA = {"type": "record", "name": "R", "fields": [{"name": "x", "type": "long"}]}


def _long(n: int) -> bytes:
    n = (n << 1) ^ (n >> 63)
    out = bytearray()
    while True:
        byte, n = n & 0x7F, n >> 7
        if not n:
            out.append(byte)
            return bytes(out)
        out.append(byte | 0x80)


def _container(codec: str, blocks: list[bytes], count: int) -> bytes:
    """An object container file whose blocks are the given compressed bytes."""
    sync = os.urandom(16)
    meta = {b"avro.schema": json.dumps(SCHEMA).encode(), b"avro.codec": codec.encode()}
    parts = [b"Obj\x01", _long(len(meta))]
    for key, value in meta.items():
        parts += [_long(len(key)), key, _long(len(value)), value]
    parts += [_long(0), sync]
    for data in blocks:
        parts += [_long(count), _long(len(data)), data, sync]
    return b"".join(parts)


# Each bomb inflates to `size` zero bytes (records of x = 0), built from a 16 MiB
# piece repeated, so that making a 1 GiB bomb takes milliseconds.


def _deflate_bomb(size: int) -> bytes:
    c = zlib.compressobj(1, zlib.DEFLATED, -15)
    piece = c.compress(bytes(CHUNK)) + c.flush(zlib.Z_SYNC_FLUSH)
    # Later copies' matches reach back into the zeros of the copy before.
    return piece * (size // CHUNK) + b"\x01\x00\x00\xff\xff"  # a final, empty stored block


def _bzip2_bomb(size: int) -> bytes:
    return bz2.compress(bytes(CHUNK)) * (size // CHUNK)  # concatenated streams


def _zstd_bomb(size: int, *, content_size: bool) -> bytes:
    if content_size:
        # One frame that states its size (a zeroed 1 GiB costs no memory to read).
        return bytes(cramjam.zstd.compress(bytes(size), level=1))
    frame = bytes(cramjam.zstd.compress(bytes(CHUNK)))
    # Drop the frame content size (and its flag), as a streaming encoder writes
    # frames: the decoder cannot refuse them up front.
    descriptor = frame[4]
    fcs_len = {0: 0, 1: 2, 2: 4, 3: 8}[descriptor >> 6]
    assert not descriptor & 0x20, "single-segment frame"
    frame = frame[:4] + bytes([descriptor & 0x3F]) + frame[5:6] + frame[6 + fcs_len :]
    return frame * (size // CHUNK)


def _xz_bomb(size: int) -> bytes:
    """One xz stream of one block whose LZMA2 chunks repeat a 16 MiB piece."""
    lzma2 = [{"id": lzma.FILTER_LZMA2, "preset": 0}]
    raw = lzma.compress(bytes(CHUNK), format=lzma.FORMAT_RAW, filters=lzma2)
    assert raw[0] & 0xE0 == 0xE0 and raw[-1] == 0, "expected a dictionary reset first and an end marker"
    copies = size // CHUNK
    data = raw[:-1] * copies + b"\x00"
    crc = 0
    zeros = bytes(CHUNK)
    for _ in range(copies):
        crc = zlib.crc32(zeros, crc)

    def varint(n: int) -> bytes:
        out = bytearray()
        while n >= 0x80:
            out.append(n & 0x7F | 0x80)
            n >>= 7
        out.append(n)
        return bytes(out)

    flags = b"\x00\x01"  # CRC-32 check
    header = b"\xfd7zXZ\x00" + flags + struct.pack("<I", zlib.crc32(flags))
    dict_byte = 24  # 16 MiB
    body = b"\x00" + b"\x21\x01" + bytes([dict_byte])  # flags, LZMA2 filter, properties
    body += b"\x00" * (-(len(body) + 1 + 4) % 4)
    block_header = bytes([(len(body) + 1 + 4) // 4 - 1]) + body
    block_header += struct.pack("<I", zlib.crc32(block_header))
    padding = b"\x00" * (-len(data) % 4)
    block = block_header + data + padding + struct.pack("<I", crc)
    unpadded = len(block_header) + len(data) + 4
    index = b"\x00" + varint(1) + varint(unpadded) + varint(size)
    index += b"\x00" * (-len(index) % 4)
    index += struct.pack("<I", zlib.crc32(index))
    backward = struct.pack("<I", len(index) // 4 - 1)
    footer = struct.pack("<I", zlib.crc32(backward + flags)) + backward + flags + b"YZ"
    return header + block + index + footer


def _xz_bomb_is_valid() -> None:
    # The construction, checked on a small copy by Python's own xz decoder.
    assert lzma.decompress(_xz_bomb(2 * CHUNK)) == bytes(2 * CHUNK)


BOMBS = {
    "deflate": lambda size: _deflate_bomb(size),
    "bzip2": lambda size: _bzip2_bomb(size),
    "zstandard": lambda size: _zstd_bomb(size, content_size=False),
    "zstandard-sized": lambda size: _zstd_bomb(size, content_size=True),
    "xz": lambda size: _xz_bomb(size),
}

CHILD = r"""
import json, sys, time
def status(key):
    for line in open("/proc/self/status"):
        if line.startswith(key + ":"):
            return int(line.split()[1]) * 1024
import jetliner
path, kwargs = sys.argv[1], json.loads(sys.argv[2])
# Load the engine and warm up before the baseline, so that it is not counted.
jetliner.read_avro_schema(path)
open("/proc/self/clear_refs", "w").write("5")  # reset the peak RSS
base = status("VmRSS")
start = time.monotonic()
out = {}
try:
    with jetliner.open(path, **kwargs) as reader:
        out["rows"] = sum(batch.height for batch in reader)
        out["errors"] = [e.message for e in reader.errors]
except jetliner.JetlinerError as e:
    out["error"] = type(e).__name__
    out["message"] = str(e)
out["seconds"] = time.monotonic() - start
out["peak"] = status("VmHWM") - base
out["after"] = status("VmRSS") - base
print(json.dumps(out))
"""


def read_in_child(path: Path, timeout: float, **kwargs: Any) -> dict[str, Any]:
    proc = subprocess.run(
        [sys.executable, "-c", CHILD, str(path), json.dumps(kwargs)],
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert proc.returncode == 0, f"child died with {proc.returncode}: {proc.stderr[-2000:]}"
    result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


def test_xz_bomb_construction() -> None:
    _xz_bomb_is_valid()


@pytest.mark.parametrize("name", sorted(BOMBS))
def test_one_bomb_is_refused_within_the_limit(tmp_path: Path, name: str) -> None:
    codec = name.split("-")[0]
    path = tmp_path / f"{name}.avro"
    path.write_bytes(_container(codec, [BOMBS[name](1 << 30)], 1 << 30))
    out = read_in_child(path, timeout=120)
    assert out.get("error") == "CodecError", out
    assert "max_block_size" in out["message"]
    # The output never grows past max_block_size, and goes back when refused.
    assert out["peak"] <= MAX_BLOCK_SIZE + 256 * MiB, out
    assert out["after"] <= 64 * MiB, out
    if name in ("xz", "zstandard-sized"):
        # These state their size: refused before anything is decoded.
        assert out["peak"] <= 32 * MiB and out["seconds"] < 1, out


def test_bombs_under_ignore_errors_share_one_limit(tmp_path: Path) -> None:
    # Eight bombs read in parallel used to hold up to the limit in every worker.
    path = tmp_path / "bombs.avro"
    path.write_bytes(_container("deflate", [_deflate_bomb(1 << 30)] * 8, 1 << 30))
    out = read_in_child(path, timeout=300, ignore_errors=True)
    assert out.get("rows") == 0 and len(out["errors"]) == 8, out
    assert all("max_block_size" in m for m in out["errors"])
    assert out["peak"] <= MAX_BLOCK_SIZE + 256 * MiB, out
    assert out["after"] <= 64 * MiB, out


def test_many_xz_streams_asking_for_huge_dictionaries(tmp_path: Path) -> None:
    # One block of a thousand one-byte xz streams, each declaring a 1 GiB
    # dictionary: it took 50 s and 1.5 GiB when each stream allocated one.
    one = lzma.compress(b"\x00", format=lzma.FORMAT_XZ, check=lzma.CHECK_CRC32)
    header_len = (one[12] + 1) * 4
    block_header = bytearray(one[12 : 12 + header_len])
    assert block_header[1] == 0 and block_header[2:4] == b"\x21\x01"
    block_header[4] = 36  # 1 GiB
    block_header[-4:] = struct.pack("<I", zlib.crc32(bytes(block_header[:-4])))
    stream = one[:12] + bytes(block_header) + one[12 + header_len :]
    assert lzma.decompress(stream) == b"\x00"
    path = tmp_path / "streams.avro"
    path.write_bytes(_container("xz", [stream * 1000], 1000))
    out = read_in_child(path, timeout=60)
    assert out.get("rows") == 1000, out
    assert out["seconds"] < 1 and out["peak"] <= 64 * MiB, out

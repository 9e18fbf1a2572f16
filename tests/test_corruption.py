"""Files made with fastavro and then broken: truncated, bytes flipped, sync markers
and headers damaged. Without ignore_errors every case raises a JetlinerError subclass;
with it, a read gives only correct rows (a subset of the original ones, in order) or
raises. Never a crash, a hang, an internal error or wrong data."""

from __future__ import annotations

import os
import random
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import fastavro
import jetliner
import polars as pl
import pytest
from _oracle import (
    build_file,
    encode_long,
    encode_record,
    expected_recovery,
    expected_rows,
    frame_blocks,
    is_subsequence,
    make_block,
    read_all,
    read_header,
    rewrite_header,
    write_blocks,
)
from conftest import avro_bytes

pytestmark = pytest.mark.timeout(30)

SCHEMA: dict[str, Any] = {
    "type": "record",
    "name": "Event",
    "fields": [
        {"name": "id", "type": "long"},
        {"name": "name", "type": "string"},
        {"name": "score", "type": ["null", "double"]},
        {"name": "tags", "type": {"type": "array", "items": "int"}},
        {"name": "kind", "type": {"type": "enum", "name": "Kind", "symbols": ["A", "B", "C"]}},
        {"name": "attrs", "type": {"type": "map", "values": "string"}},
        {"name": "choice", "type": ["null", "int", "string"]},
    ],
}
RECORDS = [
    {
        "id": i * 7919,
        "name": f"event-{i}-" + "ü" * (i % 3),
        "score": None if i % 4 == 0 else i / 2,
        "tags": list(range(i % 5)),
        "kind": "ABC"[i % 3],
        "attrs": {f"k{j}": "v" * j for j in range(i % 3)},
        "choice": [None, i, str(i)][i % 3],
    }
    for i in range(48)
]
ROWS = expected_rows(fastavro.parse_schema(SCHEMA), RECORDS)
SAFE_ERRORS = (jetliner.ParseError, jetliner.SchemaError, jetliner.CodecError, jetliner.DecodeError)


def rows_of(df: pl.DataFrame) -> list[dict[str, Any]]:
    return df.to_dicts()


def read_strict(path: Path, **options: Any) -> list[dict[str, Any]] | Exception:
    """The rows of a read without ignore_errors, or the JetlinerError it raised."""
    try:
        return rows_of(jetliner.read_avro(path, **options))
    except jetliner.JetlinerError as e:
        assert isinstance(e, SAFE_ERRORS), f"{type(e).__name__}: {e}"
        return e


def read_lenient(path: Path, **options: Any) -> tuple[list[dict[str, Any]], list[Any]] | Exception:
    """The rows and errors of a read with ignore_errors, or the JetlinerError it raised."""
    if "columns" in options:
        options["projected_columns"] = options.pop("columns")
    try:
        df, errors = read_all(path, ignore_errors=True, **options)
    except jetliner.JetlinerError as e:
        assert isinstance(e, SAFE_ERRORS), f"{type(e).__name__}: {e}"
        return e
    return rows_of(df), errors


def assert_safe(path: Path, original: list[dict[str, Any]] = ROWS, **options: Any) -> None:
    """The property every corrupted file must have."""
    strict = read_strict(path, **options)
    if not isinstance(strict, Exception):
        assert strict == original, "a damaged file was read without error but gave different rows"
    lenient = read_lenient(path, **options)
    if not isinstance(lenient, Exception):
        rows, errors = lenient
        assert is_subsequence(rows, original), "ignore_errors gave rows that are not in the file"
        if len(rows) < len(original):
            assert errors, "rows were dropped but no error was recorded"


@pytest.fixture
def target(tmp_path) -> Iterator[Callable[[bytes], Path]]:
    """Write bytes to one file, over and over. Some tests write thousands of
    variants, so the file lives in memory (/dev/shm) where there is one."""
    shm = Path("/dev/shm")
    with tempfile.TemporaryDirectory(dir=shm if shm.is_dir() and os.access(shm, os.W_OK) else tmp_path) as d:
        path = Path(d) / "broken.avro"

        def write(data: bytes) -> Path:
            path.write_bytes(data)
            return path

        yield write


# ---- truncation ------------------------------------------------------------------------


@pytest.mark.parametrize("codec", ["null", "deflate"])
def test_truncated_at_every_offset(target, codec):
    records = RECORDS[:16]
    data = avro_bytes(SCHEMA, records, codec=codec, sync_interval=100)
    h, blocks = frame_blocks(data)
    assert len(blocks) >= 4
    rows_before = {h.size: 0}
    for b in blocks:
        rows_before[b.end] = rows_before[b.offset] + b.count
    # Every third offset inside the header (all fail the same way), every one after.
    for n in [*range(0, h.size, 3), *range(h.size, len(data))]:
        path = target(data[:n])
        strict = read_strict(path)
        lenient = read_lenient(path)
        if n < h.size:
            assert isinstance(strict, jetliner.ParseError), n
            assert isinstance(lenient, jetliner.ParseError), n
            continue
        # Whole blocks survive; a cut inside a block is a truncation.
        last_start = max(off for off in rows_before if off <= n)
        complete = ROWS[: rows_before[last_start]]
        if n in rows_before:
            assert strict == complete, n
            assert lenient == (complete, []), n
        else:
            assert isinstance(strict, jetliner.ParseError), n
            assert strict.file_offset == last_start, n
            assert not isinstance(lenient, Exception), n
            rows, errors = lenient
            assert rows == complete, n
            assert [(e.kind, e.file_offset) for e in errors] == [("ParseError", last_start)], n


# ---- flipped bytes --------------------------------------------------------------------


@pytest.mark.parametrize("codec", ["snappy", "bzip2", "xz"])
def test_every_byte_flipped_in_checksummed_blocks(target, codec):
    """These codecs check their data (CRC): no flip may change the rows unnoticed."""
    records = RECORDS[:10]
    data = avro_bytes(SCHEMA, records, codec=codec, sync_interval=200)
    h, blocks = frame_blocks(data)
    assert len(blocks) == 2
    for pos in range(h.size, len(data)):
        broken = bytearray(data)
        broken[pos] ^= 0xFF
        assert_safe(target(bytes(broken)), ROWS[:10])


@pytest.mark.parametrize("codec", ["null", "deflate", "zstandard"])
def test_flipped_block_framing(target, codec):
    """Counts, sizes and sync markers: a flip in any of them must be noticed."""
    records = RECORDS[:20]
    data = avro_bytes(SCHEMA, records, codec=codec, sync_interval=300)
    _, blocks = frame_blocks(data)
    assert len(blocks) >= 3
    for b in blocks:
        header_len = len(encode_long(b.count)) + len(encode_long(len(b.data)))
        positions = [*range(b.offset, b.offset + header_len), b.end - 16, b.end - 9, b.end - 1]
        for pos in positions:
            for mask in (0xFF, 0x01):
                broken = bytearray(data)
                broken[pos] ^= mask
                path = target(bytes(broken))
                assert isinstance(read_strict(path), Exception), (pos, mask)
                assert_safe(path, ROWS[:20])


@pytest.mark.parametrize("codec", ["snappy", "null"])
def test_random_multi_byte_damage(target, codec):
    """Seeded fuzzing over a nested schema. The null codec cannot notice every change
    to record bytes, so there only the absence of crashes and hangs is checked."""
    data = avro_bytes(SCHEMA, RECORDS, codec=codec, sync_interval=200)
    h = read_header(data)
    rng = random.Random(20240601)
    for _ in range(250):
        broken = bytearray(data)
        for _ in range(rng.randint(1, 4)):
            pos = rng.randrange(h.size, len(broken))
            broken[pos] = rng.randrange(256)
        path = target(bytes(broken))
        if codec == "snappy":
            assert_safe(path)
        else:
            # No crash or internal error (read_strict and read_lenient check the
            # class), and a file that reads cleanly reads the same with ignore_errors.
            strict = read_strict(path)
            lenient = read_lenient(path)
            if not isinstance(strict, Exception):
                assert lenient == (strict, [])


# ---- bad record data, block by block -----------------------------------------------------

SMALL: dict[str, Any] = {
    "type": "record",
    "name": "Small",
    "fields": [
        {"name": "s", "type": "string"},
        {"name": "n", "type": "int"},
        {"name": "e", "type": {"type": "enum", "name": "E", "symbols": ["A", "B"]}},
        {"name": "u", "type": ["null", "long", "string"]},
        {"name": "b", "type": "boolean"},
        {"name": "a", "type": {"type": "array", "items": "long"}},
        {"name": "m", "type": {"type": "map", "values": "int"}},
        {"name": "f", "type": {"type": "fixed", "name": "F4", "size": 4}},
        {"name": "d", "type": "double"},
    ],
}
SMALL_RECORD = {
    "s": "hé",
    "n": 5,
    "e": "B",
    "u": 9,
    "b": True,
    "a": [1, 2],
    "m": {"k": 3},
    "f": b"wxyz",
    "d": 0.5,
}


def raw_small(**parts: bytes) -> bytes:
    """SMALL_RECORD in Avro binary, built field by field so any field can be replaced."""
    fields = {
        "s": encode_long(3) + "hé".encode(),
        "n": encode_long(5),
        "e": encode_long(1),
        "u": encode_long(1) + encode_long(9),
        "b": b"\x01",
        "a": encode_long(2) + encode_long(1) + encode_long(2) + encode_long(0),
        "m": encode_long(1) + encode_long(1) + b"k" + encode_long(3) + encode_long(0),
        "f": b"wxyz",
        "d": bytes.fromhex("000000000000e03f"),
    }
    fields.update(parts)
    return b"".join(fields.values())


def test_hand_encoding_matches_fastavro():
    assert raw_small() == encode_record(SMALL, SMALL_RECORD)


BAD_RECORDS = {
    "invalid-utf8-string": raw_small(s=encode_long(2) + b"\xff\xfe"),
    "negative-string-length": raw_small(s=encode_long(-5)),
    "string-longer-than-block": raw_small(s=encode_long(10**9)),
    "int-beyond-32-bits": raw_small(n=encode_long(2**31)),
    "varint-too-long": raw_small(n=b"\xff" * 10 + b"\x01"),
    "enum-index-too-big": raw_small(e=encode_long(2)),
    "enum-index-negative": raw_small(e=encode_long(-1)),
    "union-index-too-big": raw_small(u=encode_long(3) + encode_long(1)),
    "union-index-negative": raw_small(u=encode_long(-1)),
    "boolean-byte-2": raw_small(b=b"\x02"),
    "array-count-huge": raw_small(a=encode_long(2**62)),
    "array-count-min-long": raw_small(a=encode_long(-(2**63))),
    "map-count-huge": raw_small(m=encode_long(2**40)),
    "map-key-invalid-utf8": raw_small(m=encode_long(1) + encode_long(1) + b"\xc3" + encode_long(3) + b"\x00"),
    "fixed-cut-short": raw_small(f=b"wx", d=b""),
}


def small_file(bad: bytes, codec: str = "null") -> bytes:
    """Three blocks of SMALL records; the middle one ends with the ``bad`` record."""
    good = raw_small()
    return build_file(SMALL, [(3, good * 3), (2, good + bad), (2, good * 2)], codec=codec)


def small_rows(n: int) -> list[dict[str, Any]]:
    return expected_rows(fastavro.parse_schema(SMALL), [SMALL_RECORD] * n)


@pytest.mark.parametrize("codec", ["null", "deflate", "snappy"])
@pytest.mark.parametrize("case", sorted(BAD_RECORDS))
def test_bad_record_data(target, case, codec):
    data = small_file(BAD_RECORDS[case], codec)
    path = target(data)
    _, blocks = frame_blocks(data)
    with pytest.raises(jetliner.DecodeError) as info:
        jetliner.read_avro(path)
    assert info.value.block_index == 1
    assert info.value.record_index == 1
    assert info.value.file_offset == blocks[1].offset
    # ignore_errors: the first and last blocks are kept.
    df, errors = read_all(path, ignore_errors=True)
    assert rows_of(df) == rows_of(pl.DataFrame(small_rows(5), schema=df.schema))
    assert [(e.kind, e.block_index, e.record_index, e.file_offset) for e in errors] == [
        ("DecodeError", 1, 1, blocks[1].offset)
    ]
    # Reading one column skips the others; it may not notice every bad byte in
    # them, but what it returns must be right.
    for column in ("n", "d"):
        projected = read_strict(path, columns=[column])
        if not isinstance(projected, Exception):
            assert [r[column] for r in projected] == [SMALL_RECORD[column]] * 7
        assert_safe(path, [{column: SMALL_RECORD[column]}] * 7, columns=[column])


@pytest.mark.parametrize(
    ("case", "count_delta"),
    [("count-too-big", 1), ("count-too-small", -1), ("count-far-too-big", 10**12)],
)
def test_block_count_disagrees_with_data(target, case, count_delta):
    good = raw_small()
    data = build_file(SMALL, [(2, good * 2), (3 + count_delta, good * 3), (1, good)])
    path = target(data)
    with pytest.raises(jetliner.DecodeError) as info:
        jetliner.read_avro(path)
    assert info.value.block_index == 1
    df, errors = read_all(path, ignore_errors=True)
    assert df.height == 3
    assert [(e.kind, e.block_index) for e in errors] == [("DecodeError", 1)]


def test_bytes_left_over_after_the_last_record(target):
    good = raw_small()
    path = target(build_file(SMALL, [(2, good * 2 + b"\x00"), (1, good)]))
    with pytest.raises(jetliner.DecodeError, match="left over"):
        jetliner.read_avro(path)
    df, errors = read_all(path, ignore_errors=True)
    assert df.height == 1
    assert [(e.kind, e.block_index) for e in errors] == [("DecodeError", 0)]


@pytest.mark.parametrize("codec", ["deflate", "snappy", "zstandard", "bzip2", "xz"])
def test_block_that_does_not_decompress(target, codec):
    good = raw_small()
    h_data = build_file(SMALL, [(2, good * 2)], codec=codec)
    h = read_header(h_data)
    garbage = b"\x00\x11garbage that is no compressed stream\xff" * 3
    bad_block = encode_long(2) + encode_long(len(garbage)) + garbage + h.sync
    data = h_data + bad_block + make_block(codec, 1, good, h.sync)
    path = target(data)
    with pytest.raises(jetliner.CodecError) as info:
        jetliner.read_avro(path)
    assert info.value.block_index == 1
    df, errors = read_all(path, ignore_errors=True)
    assert df.height == 3
    assert [(e.kind, e.block_index) for e in errors] == [("CodecError", 1)]


def test_snappy_crc_mismatch_is_a_codec_error(target):
    good = raw_small()
    data = bytearray(build_file(SMALL, [(2, good * 2), (1, good)], codec="snappy"))
    _, blocks = frame_blocks(bytes(data))
    data[blocks[0].end - 17] ^= 0x01  # the last byte of the CRC
    path = target(bytes(data))
    with pytest.raises(jetliner.CodecError) as info:
        jetliner.read_avro(path)
    assert info.value.block_index == 0
    df, errors = read_all(path, ignore_errors=True)
    assert df.height == 1
    assert [e.kind for e in errors] == ["CodecError"]


@pytest.mark.parametrize("codec", ["null", "deflate", "snappy", "zstandard", "bzip2", "xz"])
def test_max_block_size_refuses_decompression_bombs(target, codec):
    schema = {"type": "record", "name": "Z", "fields": [{"name": "z", "type": "bytes"}]}
    big = 4 << 20
    small = encode_record(schema, {"z": b"ok"})
    bomb = encode_long(big) + bytes(big)
    path = target(build_file(schema, [(1, small), (1, bomb), (1, small)], codec=codec))
    with pytest.raises(jetliner.CodecError) as info:
        jetliner.read_avro(path, max_block_size=1 << 20)
    assert info.value.block_index == 1
    df, errors = read_all(path, ignore_errors=True, max_block_size=1 << 20)
    assert df["z"].to_list() == [b"ok", b"ok"]
    assert [(e.kind, e.block_index) for e in errors] == [("CodecError", 1)]
    assert jetliner.read_avro(path, max_block_size=None)["z"].bin.size().to_list() == [2, big, 2]


# ---- sync markers ---------------------------------------------------------------------


@pytest.mark.parametrize("codec", ["null", "deflate"])
def test_broken_sync_marker_after_each_block(target, codec):
    data = avro_bytes(SCHEMA, RECORDS, codec=codec, sync_interval=250)
    _, blocks = frame_blocks(data)
    assert len(blocks) >= 4
    for b in blocks:
        for pos in (b.end - 16, b.end - 8, b.end - 1):
            broken = bytearray(data)
            broken[pos] ^= 0x5A
            path = target(bytes(broken))
            with pytest.raises(jetliner.ParseError, match="sync") as info:
                jetliner.read_avro(path)
            assert info.value.block_index == b.index
            assert info.value.file_offset == b.offset
            want = expected_recovery(bytes(broken))
            lenient = read_lenient(path)
            assert not isinstance(lenient, Exception)
            rows, errors = lenient
            assert rows == want.rows
            assert [(e.kind, e.file_offset) for e in errors] == want.bad
            assert is_subsequence(rows, ROWS)


@pytest.mark.parametrize("damage", ["zeroed", "one-byte", "zeroed-tail"])
def test_damaged_marker_loses_only_its_block(target, tmp_path, damage):
    """Issue 12.8: ten blocks of ten rows, the marker after block 6 damaged. Block 6
    is dropped (its data cannot be checked) and listed; block 7, intact, is read."""
    rows = (RECORDS * 3)[:100]
    written = write_blocks(tmp_path / "ten.avro", SCHEMA, [rows[i * 10 : i * 10 + 10] for i in range(10)])
    data = bytearray(written.read_bytes())
    _, blocks = frame_blocks(bytes(data))
    assert [b.count for b in blocks] == [10] * 10
    b6 = blocks[6]
    if damage == "zeroed":
        data[b6.end - 16 : b6.end] = bytes(16)
    elif damage == "one-byte":
        data[b6.end - 9] ^= 0x01
    else:  # a zeroed run over the end of the data and the marker
        data[b6.end - 40 : b6.end] = bytes(40)
    df, errors = read_all(target(bytes(data)), ignore_errors=True)
    want = [r for b in blocks if b.index != 6 for r in b.records]
    assert rows_of(df) == expected_rows(SCHEMA, want)
    assert df.height == 90
    assert [(e.kind, e.block_index, e.file_offset) for e in errors] == [("ParseError", 6, b6.offset)]
    assert f"dropped the block and its 10 records (bytes {b6.offset} to {b6.end})" in errors[0].message


def test_header_sync_marker_broken(target):
    data = bytearray(avro_bytes(SCHEMA, RECORDS, sync_interval=250))
    h = read_header(bytes(data))
    data[h.size - 1] ^= 0xFF  # now no block ends with the header's marker
    path = target(bytes(data))
    with pytest.raises(jetliner.ParseError):
        jetliner.read_avro(path)
    df, errors = read_all(path, ignore_errors=True)
    assert df.height == 0
    assert [(e.kind, e.block_index) for e in errors] == [("ParseError", 0)]


def test_sync_marker_bytes_inside_record_data(target, tmp_path):
    """The marker may occur inside data; framing is by size, so it must not matter,
    and a resync that lands on such a copy must not produce made-up rows."""
    sync = b"SYNCMARKER123456"
    schema = {
        "type": "record",
        "name": "S",
        "fields": [{"name": "s", "type": "string"}, {"name": "n", "type": "long"}],
    }
    records = [{"s": f"before{sync.decode()}after-{i}", "n": i} for i in range(30)]
    path = tmp_path / "sync-in-data.avro"
    with path.open("wb") as fh:
        fastavro.writer(fh, fastavro.parse_schema(schema), records, sync_interval=100, sync_marker=sync)
    original = rows_of(jetliner.read_avro(path))
    assert original == records
    data = path.read_bytes()
    _, blocks = frame_blocks(data)
    assert len(blocks) >= 3
    for b in blocks:
        for pos in (b.offset, b.offset + 1, b.end - 1):  # count, size, own marker
            broken = bytearray(data)
            broken[pos] ^= 0xFF
            assert_safe(target(bytes(broken)), original)


# ---- headers ----------------------------------------------------------------------------


def good_file() -> bytes:
    return avro_bytes(SCHEMA, RECORDS[:10])


HEADER_CASES: dict[str, tuple[Callable[[], bytes], type[jetliner.JetlinerError]]] = {
    "empty-file": (lambda: b"", jetliner.ParseError),
    "three-bytes": (lambda: b"Obj", jetliner.ParseError),
    "magic-only": (lambda: b"Obj\x01", jetliner.ParseError),
    "wrong-version": (lambda: b"Obj\x02" + good_file()[4:], jetliner.ParseError),
    "lowercase-magic": (lambda: b"obj\x01" + good_file()[4:], jetliner.ParseError),
    "not-avro-at-all": (lambda: b"PAR1" + bytes(200), jetliner.ParseError),
    "metadata-cut": (lambda: good_file()[:40], jetliner.ParseError),
    "no-sync-marker": (lambda: good_file()[: read_header(good_file()).size - 16], jetliner.ParseError),
    "huge-metadata-count": (lambda: b"Obj\x01" + encode_long(2**62) + b"\x02a", jetliner.ParseError),
    "huge-metadata-value": (
        lambda: b"Obj\x01" + encode_long(1) + encode_long(1) + b"k" + encode_long(2**60),
        jetliner.ParseError,
    ),
    "negative-metadata-length": (
        lambda: b"Obj\x01" + encode_long(1) + encode_long(-3) + b"k" * 20,
        jetliner.ParseError,
    ),
    "no-schema-entry": (lambda: rewrite_header(good_file(), drop=["avro.schema"]), jetliner.ParseError),
    "unknown-codec": (lambda: rewrite_header(good_file(), avro_codec=b"lz77"), jetliner.CodecError),
    "codec-wrong-case": (lambda: rewrite_header(good_file(), avro_codec=b"Deflate"), jetliner.CodecError),
    "schema-not-json": (
        lambda: rewrite_header(good_file(), avro_schema=b'{"type": "record",'),
        jetliner.SchemaError,
    ),
    "schema-empty": (lambda: rewrite_header(good_file(), avro_schema=b""), jetliner.SchemaError),
    "schema-unknown-type": (
        lambda: rewrite_header(good_file(), avro_schema=b'{"type": "nope"}'),
        jetliner.SchemaError,
    ),
    "schema-undefined-name": (
        lambda: rewrite_header(
            good_file(),
            avro_schema=b'{"type": "record", "name": "R", "fields": [{"name": "a", "type": "Missing"}]}',
        ),
        jetliner.SchemaError,
    ),
    "schema-record-without-name": (
        lambda: rewrite_header(
            good_file(), avro_schema=b'{"type": "record", "fields": [{"name": "a", "type": "int"}]}'
        ),
        jetliner.SchemaError,
    ),
    "schema-fixed-without-size": (
        lambda: rewrite_header(good_file(), avro_schema=b'{"type": "fixed", "name": "F"}'),
        jetliner.SchemaError,
    ),
    "schema-duplicate-enum-symbols": (
        lambda: rewrite_header(
            good_file(), avro_schema=b'{"type": "enum", "name": "E", "symbols": ["A", "A"]}'
        ),
        jetliner.SchemaError,
    ),
    "schema-union-in-union": (
        lambda: rewrite_header(good_file(), avro_schema=b'["null", ["int", "string"]]'),
        jetliner.SchemaError,
    ),
    "schema-duplicate-union-branch": (
        lambda: rewrite_header(good_file(), avro_schema=b'["int", "string", "int"]'),
        jetliner.SchemaError,
    ),
    "schema-empty-union": (lambda: rewrite_header(good_file(), avro_schema=b"[]"), jetliner.SchemaError),
}


@pytest.mark.parametrize("case", sorted(HEADER_CASES))
def test_broken_header(target, case):
    make, error = HEADER_CASES[case]
    path = target(make())
    for read in (
        lambda: jetliner.read_avro(path),
        lambda: jetliner.read_avro_schema(path),
        lambda: read_all(path, ignore_errors=True),
        lambda: jetliner.scan_avro(path, ignore_errors=True).collect(),
    ):
        with pytest.raises(error) as info:
            read()
        assert type(info.value) is error
        assert info.value.message


def several_bad_blocks(codec: str) -> tuple[bytes, list[int]]:
    """Eight blocks of numbered SMALL records: block 1 has a bad record, block 4 is
    garbage (that does not decompress), and block 5's sync marker is broken (block 6, where block
    5's size says, frames with its own good marker, so it is read)."""
    sizes = [3, 2, 4, 1, 3, 2, 5, 2]
    sync = b"0123456789abcdef"
    header = build_file(SMALL, [], codec=codec, sync=sync)
    out, first = header, 0
    good_numbers = []
    for index, size in enumerate(sizes):
        numbers = list(range(first, first + size))
        first += size
        raw = b"".join(raw_small(n=encode_long(i)) for i in numbers)
        if index == 1:
            raw += b"\xff"  # a byte left over after the last record
        block = make_block(codec, size, raw, sync)
        if index == 4:
            garbage = b"\x07not compressed\xff" * 2
            block = encode_long(size) + encode_long(len(garbage)) + garbage + sync
        if index == 5:
            block = block[:-16] + b"X" * 16
        if index not in (1, 4, 5):
            good_numbers += numbers
        out += block
    return out, good_numbers


@pytest.mark.parametrize("codec", ["null", "deflate"])
def test_several_bad_blocks_with_ignore_errors(target, codec):
    data, good_numbers = several_bad_blocks(codec)
    path = target(data)
    want = expected_recovery(data)
    assert [r["n"] for r in want.records] == good_numbers
    df, errors = read_all(path, ignore_errors=True)
    assert df["n"].to_list() == good_numbers
    assert [(e.kind, e.file_offset) for e in errors] == want.bad
    # Block 4's bytes are no compressed stream; with the null codec they are just bad records.
    garbage_kind = "DecodeError" if codec == "null" else "CodecError"
    assert [(e.kind, e.block_index) for e in errors] == [
        ("DecodeError", 1),
        (garbage_kind, 4),
        ("ParseError", 5),
    ]
    with pytest.raises(jetliner.DecodeError) as info:
        jetliner.read_avro(path)
    assert info.value.block_index == 1
    # n_rows counts rows that come back: the same as cutting the full read.
    for batch_size in (1, 2, 3, 1000):
        for n in range(len(good_numbers) + 2):
            got, _ = read_all(path, ignore_errors=True, n_rows=n, batch_size=batch_size)
            assert got["n"].to_list() == good_numbers[:n], (batch_size, n)
    # Resynchronising must not depend on how the file is read in chunks (a marker
    # can straddle two of them).
    for chunk in (1, 7, 16, 17, 64):
        got, chunk_errors = read_all(path, ignore_errors=True, read_chunk_size=chunk)
        assert got["n"].to_list() == good_numbers, chunk
        assert [(e.kind, e.file_offset) for e in chunk_errors] == want.bad, chunk
    # Without ignore_errors, n_rows that stops before the first bad block reads fine.
    assert jetliner.read_avro(path, n_rows=3)["n"].to_list() == [0, 1, 2]

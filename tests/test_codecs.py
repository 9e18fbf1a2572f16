"""Every codec, block framing, batching and n_rows, against fastavro."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

import jetliner
import pytest
from _oracle import (
    assert_matches_fastavro,
    assert_rows_equal,
    expected_rows,
    expected_schema,
    fastavro_records,
    frame_blocks,
    make_block,
    read_all,
    read_header,
    rewrite_header,
    write_blocks,
    writer_schema,
)

CODECS = ["null", "deflate", "snappy", "zstandard", "bzip2", "xz"]

SCHEMA: dict[str, Any] = {
    "type": "record",
    "name": "Mixed",
    "namespace": "test.codecs",
    "fields": [
        {"name": "id", "type": "long"},
        {"name": "name", "type": "string"},
        {"name": "score", "type": ["null", "double"]},
        {"name": "flag", "type": "boolean"},
        {"name": "tags", "type": {"type": "array", "items": "string"}},
        {"name": "attrs", "type": {"type": "map", "values": "int"}},
        {"name": "kind", "type": {"type": "enum", "name": "Kind", "symbols": ["A", "B", "C"]}},
        {"name": "amount", "type": {"type": "bytes", "logicalType": "decimal", "precision": 12, "scale": 2}},
        {"name": "at", "type": {"type": "long", "logicalType": "timestamp-millis"}},
        {"name": "blob", "type": "bytes"},
        {"name": "choice", "type": ["null", "int", "string"]},
    ],
}
EPOCH = dt.datetime(2020, 1, 1, tzinfo=dt.timezone.utc)


def make_record(i: int) -> dict[str, Any]:
    return {
        "id": i * 1_000_003 - 7,
        "name": f"name-{i}-" + "ü😀" * (i % 4),
        "score": None if i % 5 == 0 else i / 7,
        "flag": i % 2 == 0,
        "tags": [f"t{j}" for j in range(i % 4)],
        "attrs": {f"k{j}": j * i for j in range(i % 3)},
        "kind": "ABC"[i % 3],
        "amount": Decimal(i * 101 - 5000).scaleb(-2),
        "at": EPOCH + dt.timedelta(milliseconds=i * 86_399),
        "blob": bytes(range(i % 17)),
        "choice": [None, i, str(i)][i % 3],
    }


RECORDS = [make_record(i) for i in range(1200)]


def block_counts(path: Path) -> list[int]:
    _, blocks = frame_blocks(path.read_bytes())
    assert all(b.sync_ok and b.records is not None for b in blocks)
    return [b.count for b in blocks]


def expected_frame_rows(path: Path) -> list[dict[str, Any]]:
    return expected_rows(writer_schema(path), fastavro_records(path))


@pytest.mark.parametrize("codec", CODECS)
def test_codec_many_blocks(write_avro, codec):
    path = write_avro(SCHEMA, RECORDS, codec=codec, sync_interval=2000)
    assert read_header(path.read_bytes()).codec == codec
    counts = block_counts(path)
    assert len(counts) >= 24, counts
    df = assert_matches_fastavro(path)
    assert df.height == len(RECORDS)
    # Batches follow one another in file order.
    df_small, errors = read_all(path, batch_size=10)
    assert errors == []
    assert df_small.equals(df)


@pytest.mark.parametrize("codec", CODECS)
def test_codec_one_big_block(write_avro, codec):
    """One block of about 2 MB uncompressed."""
    records = [make_record(i) | {"blob": bytes([i % 256]) * 5000 + bytes(range(i % 256))} for i in range(400)]
    path = write_avro(SCHEMA, records, codec=codec, sync_interval=1 << 30)
    assert block_counts(path) == [400]
    df = assert_matches_fastavro(path)
    assert df["blob"].bin.size().sum() > 2_000_000


@pytest.mark.parametrize("codec", CODECS)
def test_codec_empty_file(write_avro, codec):
    path = write_avro(SCHEMA, [], codec=codec)
    data = path.read_bytes()
    assert read_header(data).size == len(data)  # header only
    want = expected_schema(writer_schema(path))
    df = jetliner.read_avro(path)
    assert df.height == 0
    assert df.schema == want
    assert jetliner.read_avro_schema(path) == want
    assert jetliner.scan_avro(path).collect().schema == want
    with jetliner.open(path) as reader:
        batches = list(reader)
        assert reader.polars_schema == want
        assert reader.is_finished
        assert reader.rows_read == 0
    assert sum(b.height for b in batches) == 0
    assert all(b.schema == want for b in batches)


@pytest.mark.parametrize("codec", CODECS)
def test_codec_single_record(write_avro, codec):
    path = write_avro(SCHEMA, RECORDS[7:8], codec=codec)
    df = assert_matches_fastavro(path)
    assert df.height == 1
    assert df["id"].item() == RECORDS[7]["id"]


@pytest.mark.parametrize("codec", CODECS)
def test_zero_record_blocks_are_skipped_over(tmp_path, codec):
    """Blocks with a count of 0 (which some writers emit) hold no rows."""
    path = write_blocks(tmp_path / "a.avro", SCHEMA, [RECORDS[:3], RECORDS[3:5]], codec=codec)
    data = path.read_bytes()
    h, blocks = frame_blocks(data)
    empty_block = make_block(codec, 0, b"", h.sync)
    crafted = data[: blocks[1].offset] + empty_block + data[blocks[1].offset :] + empty_block
    path.write_bytes(crafted)
    df = jetliner.read_avro(path)
    assert df.height == 5
    assert_rows_equal(expected_rows(writer_schema(path), RECORDS[:5]), df)


def test_zstd_is_an_alias_of_zstandard(write_avro):
    path = write_avro(SCHEMA, RECORDS[:300], codec="zstandard", sync_interval=1000)
    alias = path.with_name("alias.avro")
    alias.write_bytes(rewrite_header(path.read_bytes(), avro_codec=b"zstd"))
    assert read_header(alias.read_bytes()).codec == "zstd"
    assert jetliner.read_avro(alias).equals(jetliner.read_avro(path))


def test_missing_codec_entry_means_null(write_avro):
    path = write_avro(SCHEMA, RECORDS[:50])
    path.write_bytes(rewrite_header(path.read_bytes(), drop=["avro.codec"]))
    assert "avro.codec" not in read_header(path.read_bytes()).meta
    df = jetliner.read_avro(path)
    assert_rows_equal(expected_rows(writer_schema(path), RECORDS[:50]), df)


# ---- batches --------------------------------------------------------------------------

BLOCK = 25
N_BLOCKS = 12


@pytest.fixture(params=["null", "deflate", "snappy"])
def uniform_file(request, tmp_path) -> Path:
    """12 blocks of exactly 25 records, then one of 13."""
    blocks = [RECORDS[i * BLOCK : (i + 1) * BLOCK] for i in range(N_BLOCKS)]
    blocks.append(RECORDS[N_BLOCKS * BLOCK : N_BLOCKS * BLOCK + 13])
    path = write_blocks(tmp_path / "uniform.avro", SCHEMA, blocks, codec=request.param)
    assert block_counts(path) == [BLOCK] * N_BLOCKS + [13]
    return path


TOTAL = BLOCK * N_BLOCKS + 13


@pytest.mark.parametrize(
    "batch_size", [1, 7, BLOCK - 1, BLOCK, BLOCK + 1, 2 * BLOCK, TOTAL - 1, TOTAL, 10 * TOTAL]
)
def test_batch_size(uniform_file, batch_size):
    with jetliner.open(uniform_file, batch_size=batch_size) as reader:
        assert reader.batch_size == batch_size
        heights = []
        for df in reader:
            heights.append(df.height)
            assert reader.rows_read == sum(heights)
        assert reader.is_finished
        assert reader.errors == []
    assert sum(heights) == TOTAL
    assert all(h > 0 for h in heights), heights
    # "A batch may be a little larger [than batch_size] or the last one smaller":
    # never smaller before the end, never a whole block too large.
    assert all(h >= batch_size for h in heights[:-1]), heights
    assert all(h < batch_size + BLOCK for h in heights), heights
    if batch_size >= TOTAL:
        assert heights == [TOTAL]
    df, _ = read_all(uniform_file, batch_size=batch_size)
    assert_rows_equal(expected_frame_rows(uniform_file), df)


def test_batches_are_frames_with_the_full_schema(uniform_file):
    want = expected_schema(writer_schema(uniform_file))
    with jetliner.open(uniform_file, batch_size=BLOCK) as reader:
        for df in reader:
            assert df.schema == want


# ---- n_rows -----------------------------------------------------------------------------

N_ROWS = [
    0,
    1,
    BLOCK - 1,
    BLOCK,
    BLOCK + 1,
    2 * BLOCK - 1,
    2 * BLOCK,
    5 * BLOCK + 3,
    TOTAL - 13,
    TOTAL - 1,
    TOTAL,
    TOTAL + 1,
    10**9,
]


@pytest.mark.parametrize("n_rows", N_ROWS)
def test_n_rows(uniform_file, n_rows):
    want = expected_frame_rows(uniform_file)[:n_rows]
    df = jetliner.read_avro(uniform_file, n_rows=n_rows)
    assert df.schema == expected_schema(writer_schema(uniform_file))
    assert_rows_equal(want, df)
    for batch_size in (1, BLOCK, 1000):
        batches, _ = read_all(uniform_file, n_rows=n_rows, batch_size=batch_size)
        assert_rows_equal(want, batches)
    assert jetliner.scan_avro(uniform_file).head(n_rows).collect().equals(df)


@pytest.mark.parametrize("n_rows", [1, BLOCK, BLOCK + 1])
def test_n_rows_with_projection(uniform_file, n_rows):
    df = jetliner.read_avro(uniform_file, n_rows=n_rows, columns=["kind", "id"])
    full = jetliner.read_avro(uniform_file)
    assert df.equals(full.select("kind", "id").head(n_rows))

"""How local files are read: mapped into memory (the default on Linux) or with
pread (JETLINER_NO_MMAP=1). Both must give the same frames and the same errors,
and a file cut short while it is mapped must be an error, not a crash."""

from __future__ import annotations

import os
from pathlib import Path

import jetliner
import polars as pl
import pytest
from conftest import AvroWriter, read_with_fastavro
from polars.testing import assert_frame_equal

SCHEMA = {
    "type": "record",
    "name": "r",
    "fields": [
        {"name": "id", "type": "long"},
        {"name": "name", "type": ["null", "string"]},
        {"name": "score", "type": "double"},
        {"name": "tags", "type": {"type": "array", "items": "string"}},
    ],
}


def records(n: int) -> list[dict[str, object]]:
    return [
        {
            "id": i,
            "name": None if i % 7 == 0 else f"name-{i}-ü",
            "score": i / 3,
            "tags": [f"t{i % 5}"] * (i % 3),
        }
        for i in range(n)
    ]


@pytest.mark.parametrize("codec", ["null", "deflate", "snappy"])
def test_mapped_and_pread_reads_are_identical(
    write_avro: AvroWriter, monkeypatch: pytest.MonkeyPatch, codec: str
) -> None:
    path = write_avro(SCHEMA, records(20_000), codec=codec, sync_interval=4_000)
    mapped = jetliner.read_avro(path, batch_size=3_000)
    projected = jetliner.scan_avro(path).select("tags", "id").head(12_345).collect()
    monkeypatch.setenv("JETLINER_NO_MMAP", "1")
    assert_frame_equal(jetliner.read_avro(path, batch_size=3_000), mapped)
    assert_frame_equal(jetliner.scan_avro(path).select("tags", "id").head(12_345).collect(), projected)
    assert mapped["id"].to_list() == [r["id"] for r in read_with_fastavro(path)]


def test_corrupt_file_fails_the_same_way(write_avro: AvroWriter, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write_avro(SCHEMA, records(5_000), codec="deflate", sync_interval=2_000)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))

    def outcome() -> tuple[str, str, pl.DataFrame]:
        with pytest.raises(jetliner.JetlinerError) as info:
            jetliner.read_avro(path)
        skipped = jetliner.read_avro(path, ignore_errors=True)
        return type(info.value).__name__, str(info.value), skipped

    mapped = outcome()
    monkeypatch.setenv("JETLINER_NO_MMAP", "1")
    pread = outcome()
    assert mapped[:2] == pread[:2]
    assert_frame_equal(mapped[2], pread[2])
    assert 0 < mapped[2].height < 5_000


def test_file_cut_short_while_read_is_a_source_error(write_avro: AvroWriter) -> None:
    path = write_avro(SCHEMA, records(200_000), codec="null", sync_interval=64_000)
    size = path.stat().st_size
    assert size > 4 << 20
    # Small read-ahead, so most of the file is still unread when it is cut.
    with jetliner.open(path, batch_size=2_000, buffer_bytes=1 << 20, buffer_blocks=1) as reader:
        first = next(iter(reader))
        assert first.height > 0
        os.truncate(path, (size // 2) & ~0xFFFF)
        with pytest.raises(jetliner.SourceError, match="changed while it was being read") as info:
            for _ in reader:
                pass
    assert info.value.path == str(path)


def test_mappings_are_released(write_avro: AvroWriter) -> None:
    path = write_avro(SCHEMA, records(20_000), sync_interval=4_000)
    maps = Path("/proc/self/maps")
    with jetliner.open(path, batch_size=10, buffer_blocks=1) as reader:
        next(iter(reader))
        assert str(path) in maps.read_text()  # mapped while blocks are still to be read
    for _ in range(50):
        jetliner.read_avro(path)
        with jetliner.open(path, batch_size=10) as reader:
            next(iter(reader))  # closed with batches still unread
    assert str(path) not in maps.read_text()

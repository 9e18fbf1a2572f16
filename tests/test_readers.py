"""AvroReader and MultiAvroReader: iteration, properties, closing, native memory."""

from __future__ import annotations

import gc
import json
from pathlib import Path

import jetliner
import polars as pl
import pytest
from jetliner import _native

SCHEMA = {
    "type": "record",
    "name": "Event",
    "namespace": "test",
    "fields": [
        {"name": "id", "type": "long"},
        {"name": "kind", "type": {"type": "enum", "name": "Kind", "symbols": ["A", "B", "C"]}},
        {"name": "payload", "type": "string"},
    ],
}


def records(n: int, start: int = 0) -> list[dict]:
    return [{"id": i, "kind": "ABC"[i % 3], "payload": "x" * (i % 50)} for i in range(start, start + n)]


@pytest.fixture
def path(write_avro) -> Path:
    return write_avro(SCHEMA, records(2000), sync_interval=2000)


def test_properties(path: Path) -> None:
    with jetliner.open(path, batch_size=500) as reader:
        assert json.loads(reader.schema) == reader.schema_dict
        assert reader.schema_dict["name"] in ("Event", "test.Event")
        assert reader.polars_schema == pl.Schema(
            {"id": pl.Int64, "kind": pl.Enum(["A", "B", "C"]), "payload": pl.String}
        )
        assert reader.batch_size == 500
        assert reader.rows_read == 0
        assert not reader.is_finished
        first = next(reader)
        assert reader.rows_read == first.height
        rest = list(reader)
        assert reader.rows_read == 2000 == first.height + sum(b.height for b in rest)
        assert reader.is_finished
        assert reader.errors == []
        assert reader.error_count == 0
    assert reader.is_finished


def test_multi_reader_properties(write_avro, tmp_path: Path) -> None:
    for k in range(3):
        write_avro(SCHEMA, records(10, 10 * k), name=f"f{k}.avro")
    with jetliner.MultiAvroReader(
        str(tmp_path / "f*.avro"), row_index_name="row", include_file_paths="file"
    ) as reader:
        assert reader.total_sources == 3
        assert reader.row_index_name == "row"
        assert reader.include_file_paths == "file"
        seen = []
        for batch in reader:
            seen.append(reader.current_source_index)
            assert batch["file"].unique().to_list() == [
                str(tmp_path / f"f{reader.current_source_index}.avro")
            ]
        assert seen == [0, 1, 2]
        assert reader.rows_read == 30


def test_reading_after_close_raises(path: Path) -> None:
    reader = jetliner.open(path)
    next(reader)
    reader.close()
    reader.close()  # twice is fine
    with pytest.raises(jetliner.JetlinerError, match="closed"):
        next(reader)
    assert reader.is_finished


def test_context_manager_closes_on_error(path: Path) -> None:
    with pytest.raises(RuntimeError), jetliner.open(path, batch_size=100) as reader:
        next(reader)
        raise RuntimeError("user code failed")
    with pytest.raises(jetliner.JetlinerError, match="closed"):
        next(reader)


def test_reader_repr(path: Path) -> None:
    with jetliner.open(path) as reader:
        assert repr(reader).startswith(f"AvroReader({str(path)!r}")
    assert "closed" in repr(reader)


def test_avro_reader_refuses_several_files(path: Path) -> None:
    with pytest.raises(jetliner.ConfigurationError, match="MultiAvroReader"):
        jetliner.AvroReader([path, path])  # type: ignore[arg-type]


def _live() -> int:
    gc.collect()
    return _native.allocated_bytes()


def test_native_memory_is_freed_when_frames_are_dropped(path: Path) -> None:
    before = _live()
    df = jetliner.read_avro(path)
    assert _live() > before  # the frame holds engine memory, zero-copy
    del df
    assert _live() == before


def test_native_memory_is_freed_on_close_mid_stream(path: Path) -> None:
    before = _live()
    reader = jetliner.open(path, batch_size=100, buffer_blocks=8)
    batch = next(reader)
    reader.close()
    del batch
    assert _live() == before


def test_native_memory_is_freed_on_garbage_collection(path: Path) -> None:
    before = _live()
    reader = jetliner.open(path, batch_size=100)
    next(reader)
    del reader
    assert _live() == before


def test_native_memory_is_freed_after_an_error(write_avro, tmp_path: Path) -> None:
    good = write_avro(SCHEMA, records(500), sync_interval=500)
    data = bytearray(good.read_bytes())
    data[-40] ^= 0xFF  # corrupt the last block
    bad = tmp_path / "bad.avro"
    bad.write_bytes(bytes(data))
    before = _live()
    with pytest.raises(jetliner.JetlinerError):
        jetliner.read_avro(bad)
    assert _live() == before


def test_ignore_errors_lists_bad_blocks(write_avro, tmp_path: Path) -> None:
    good = write_avro(SCHEMA, records(3000), sync_interval=1000)
    with good.open("rb") as fh:
        import fastavro

        blocks = [list(b) for b in fastavro.block_reader(fh)]
    assert len(blocks) >= 3
    data = bytearray(good.read_bytes())
    # Break the sync marker after the second block.
    offsets = _block_offsets(bytes(data))
    second_end = offsets[2] - 16
    data[second_end] ^= 0xFF
    bad = tmp_path / "bad.avro"
    bad.write_bytes(bytes(data))
    with pytest.raises(jetliner.ParseError, match="sync marker"):
        jetliner.read_avro(bad)
    with jetliner.open(bad, ignore_errors=True) as reader:
        df = pl.concat(list(reader))
        errors = reader.errors
    assert reader.error_count == len(errors) >= 1
    err = errors[0]
    assert isinstance(err, jetliner.BadBlockError)
    assert err.kind == "ParseError"
    assert err.block_index == 1
    assert err.file_offset == offsets[1]
    assert err.path == str(bad)
    assert "sync" in err.message
    # The rows that come back are whole blocks of the original, in order.
    expected_ids = [r["id"] for b in blocks[:1] + blocks[2:] for r in b]
    kept = df["id"].to_list()
    assert kept == [i for i in expected_ids if i in set(kept)]
    assert set(r["id"] for r in blocks[0]) <= set(kept)
    df2 = jetliner.read_avro(bad, ignore_errors=True)
    assert df2.equals(df)


def _block_offsets(data: bytes) -> list[int]:
    """Offsets of every block in an Avro file (the byte after each sync marker)."""
    sync = data[_header_end(data) - 16 : _header_end(data)]
    offsets = []
    pos = _header_end(data)
    while pos < len(data):
        offsets.append(pos)
        nxt = data.find(sync, pos)
        pos = nxt + 16
    return offsets


def _header_end(data: bytes) -> int:
    import io

    import fastavro

    buf = io.BytesIO(data)
    reader = fastavro.reader(buf)
    sync = reader._header["sync"]
    return data.index(sync) + 16

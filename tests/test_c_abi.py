"""The engine's C ABI beyond what the Python package uses: the Arrow C stream
(``jl_scan_stream``) that any Arrow consumer can import, here pyarrow; and the
package's own hand-off, which needs no pyarrow at all."""

from __future__ import annotations

import ctypes
import gc
import json
import subprocess
import sys
from pathlib import Path

import jetliner
import polars as pl
import pyarrow as pa
import pytest
from conftest import AvroWriter, avro_bytes
from jetliner import _native, _options

SCHEMA = {
    "type": "record",
    "name": "r",
    "fields": [
        {"name": "id", "type": "long"},
        {"name": "s", "type": ["null", "string"]},
        {"name": "e", "type": {"type": "enum", "name": "E", "symbols": ["x", "y"]}},
    ],
}
ROWS = [{"id": i, "s": None if i % 5 == 0 else f"value number {i}", "e": "xy"[i % 2]} for i in range(5_000)]


def _stream(path: Path, **options: object) -> tuple[int, pa.RecordBatchReader]:
    """A scan's handle and its Arrow C stream, imported by pyarrow."""
    reply = _native.call("jl_scan_open", json.dumps(_options.build([str(path)], **options)).encode())
    handle = reply["handle"]
    c_stream = _native.ArrowArrayStream()
    _native.call("jl_scan_stream", ctypes.c_uint64(handle), ctypes.byref(c_stream))
    return handle, pa.RecordBatchReader._import_from_c(ctypes.addressof(c_stream))


def _close(handle: int, reader: pa.RecordBatchReader) -> None:
    reader.close()
    _native.call("jl_scan_close", ctypes.c_uint64(handle))


def test_arrow_stream_gives_the_same_rows(write_avro: AvroWriter) -> None:
    path = write_avro(SCHEMA, ROWS, sync_interval=2_000)
    handle, reader = _stream(path, batch_size=1_000)
    try:
        assert reader.schema.field("s").type == pa.string_view()
        table = reader.read_all()
    finally:
        _close(handle, reader)
    assert table.num_rows == len(ROWS)
    assert pl.from_arrow(table).equals(jetliner.read_avro(path))
    del table  # the last holder of the engine's buffers
    gc.collect()
    assert _native.allocated_bytes() == 0


def test_arrow_stream_of_no_columns(write_avro: AvroWriter) -> None:
    # Batches of no columns (arrow-go cannot export them) keep their heights.
    path = write_avro(SCHEMA, ROWS, sync_interval=2_000)
    handle, reader = _stream(path, columns=[], batch_size=1_000)
    try:
        batches = list(reader)
    finally:
        _close(handle, reader)
    assert [b.num_columns for b in batches] == [0] * len(batches)
    assert sum(b.num_rows for b in batches) == len(ROWS)
    assert max(b.num_rows for b in batches) <= 1_000


def test_arrow_stream_reports_engine_errors(tmp_path: Path) -> None:
    data = bytearray(avro_bytes(SCHEMA, ROWS, sync_interval=2_000))
    data[len(data) // 2 : len(data) // 2 + 64] = b"\xff" * 64
    path = tmp_path / "bad.avro"
    path.write_bytes(bytes(data))
    handle, reader = _stream(path)
    try:
        with pytest.raises(OSError, match=r"sync marker|bad record|decompress|block"):
            reader.read_all()
    finally:
        _close(handle, reader)


def test_reading_does_not_import_pyarrow(write_avro: AvroWriter) -> None:
    path = write_avro(SCHEMA, ROWS)
    code = (
        "import sys, jetliner; "
        f"df = jetliner.read_avro({str(path)!r}); "
        f"jetliner.scan_avro({str(path)!r}).head(10).collect(); "
        f"[b for b in jetliner.open({str(path)!r}, batch_size=1000)]; "
        "print(df.height, 'pyarrow' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.split() == [str(len(ROWS)), "False"]

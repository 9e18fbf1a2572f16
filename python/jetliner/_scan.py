"""One open scan in the Go engine: its handle, schema and stream of batches."""

from __future__ import annotations

import ctypes
import json
import threading
import weakref
from typing import Any

import polars as pl
import pyarrow as pa

from . import _native
from .exceptions import BadBlockError, JetlinerError, from_engine


def _release(handle: int, stream_box: list[pa.RecordBatchReader | None]) -> None:
    """Free the stream, then the scan. Runs on close() and on garbage collection."""
    stream = stream_box[0]
    stream_box[0] = None
    if stream is not None:
        stream.close()
    _native.call("jl_scan_close", ctypes.c_uint64(handle))


class NativeScan:
    """A scan in the engine, read batch by batch.

    Batches arrive through the Arrow C stream interface: the Go engine fills
    C-allocated buffers and pyarrow and Polars take them over without a copy.
    """

    def __init__(self, options: dict[str, Any]) -> None:
        reply = _native.call("jl_scan_open", json.dumps(options).encode("utf-8"))
        self.handle: int = reply["handle"]
        self.avro_schema: str = reply["avro_schema"]
        self.files: list[str] = reply["files"]
        self._final_stats: dict[str, Any] = {}
        self._stream_box: list[pa.RecordBatchReader | None] = [None]
        self._finalizer = weakref.finalize(self, _release, self.handle, self._stream_box)
        self._lock = threading.Lock()
        c_schema = _native.ArrowSchema()
        _native.call("jl_scan_schema", ctypes.c_uint64(self.handle), ctypes.byref(c_schema))
        self.arrow_schema: pa.Schema = pa.Schema._import_from_c(ctypes.addressof(c_schema))
        self.polars_schema: pl.Schema = arrow_to_polars_schema(self.arrow_schema)
        self.finished = False

    @property
    def closed(self) -> bool:
        return not self._finalizer.alive

    def next_batch(self) -> pl.DataFrame | None:
        """Return the next batch as a DataFrame, or None at the end."""
        if self.closed:
            raise JetlinerError("the reader is closed")
        if self.finished:
            return None
        with self._lock:
            stream = self._stream_box[0]
            if stream is None:
                c_stream = _native.ArrowArrayStream()
                _native.call("jl_scan_stream", ctypes.c_uint64(self.handle), ctypes.byref(c_stream))
                stream = pa.RecordBatchReader._import_from_c(ctypes.addressof(c_stream))
                self._stream_box[0] = stream
            try:
                batch = stream.read_next_batch()
            except StopIteration:
                self.finished = True
                return None
            except (pa.ArrowException, OSError) as exc:
                self.finished = True
                raise self._engine_error(exc) from None
        df = pl.from_arrow(batch, rechunk=False)
        assert isinstance(df, pl.DataFrame)
        if df.schema != self.polars_schema:
            df = df.cast(dict(self.polars_schema))  # type: ignore[arg-type]
        return df

    def _engine_error(self, exc: Exception) -> Exception:
        last = self.stats().get("last_error")
        if last:
            return from_engine(last)
        return JetlinerError(f"reading failed: {exc}")

    def stats(self) -> dict[str, Any]:
        """The engine's counters, bad blocks and last error."""
        if self.closed:
            return dict(self._final_stats)
        reply = _native.call("jl_scan_stats", ctypes.c_uint64(self.handle))
        self._final_stats = reply
        return reply

    def errors(self) -> list[BadBlockError]:
        return [
            BadBlockError(
                e["kind"],
                e["message"],
                path=e.get("path") or None,
                block_index=e.get("block_index"),
                record_index=None if e.get("record_index", -1) < 0 else e["record_index"],
                file_offset=e.get("file_offset"),
            )
            for e in (self.stats().get("errors") or [])
        ]

    def close(self) -> None:
        if not self.closed:
            self.stats()  # keep the final counters readable after close
            self._finalizer()


def arrow_to_polars_schema(schema: pa.Schema) -> pl.Schema:
    """The Polars schema of batches with this Arrow schema."""
    df = pl.from_arrow(schema.empty_table())
    assert isinstance(df, pl.DataFrame)
    return df.schema

"""One open scan in the Go engine: its handle, schema and batches."""

from __future__ import annotations

import ctypes
import json
import threading
import weakref
from typing import Any

import polars as pl

from . import _native
from .exceptions import BadBlockError, JetlinerError, bad_block_from_engine

_PyCapsule_New = ctypes.pythonapi.PyCapsule_New
_PyCapsule_New.restype = ctypes.py_object
_PyCapsule_New.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_void_p]
# The capsule names of the Arrow PyCapsule interface. A capsule keeps a pointer to
# its name, so these live as long as the module.
_SCHEMA_CAPSULE = b"arrow_schema"
_ARRAY_CAPSULE = b"arrow_array"


class _Batch:
    """One exported batch, offered to Polars through ``__arrow_c_array__``.

    The capsules carry no destructor: the structs belong to this object, and
    :func:`_to_polars` releases whatever Polars did not take over.
    """

    __slots__ = ("array", "schema")

    def __init__(self, schema: _native.ArrowSchema, array: _native.ArrowArray) -> None:
        self.schema = schema
        self.array = array

    def __arrow_c_array__(self, requested_schema: object = None) -> tuple[object, object]:
        return (
            _PyCapsule_New(ctypes.addressof(self.schema), _SCHEMA_CAPSULE, None),
            _PyCapsule_New(ctypes.addressof(self.array), _ARRAY_CAPSULE, None),
        )


def _to_polars(handle: int, array: _native.ArrowArray) -> pl.DataFrame:
    """Hand an exported batch to Polars, which takes its buffers without a copy."""
    schema = _native.ArrowSchema()
    try:
        _native.call("jl_scan_schema", ctypes.c_uint64(handle), ctypes.byref(schema))
        return pl.DataFrame(_Batch(schema, array))
    finally:
        # Polars moves the array out (its release becomes NULL); anything left,
        # after an error say, is freed here.
        if array.release:
            array.release(ctypes.byref(array))
        if schema.release:
            schema.release(ctypes.byref(schema))


def _release(handle: int) -> None:
    """Free the scan. Runs on close() and on garbage collection."""
    if _native.forked():
        # A scan of the parent's engine, collected in a forked child (at exit,
        # say): that engine cannot run here, and the memory is the child's copy.
        return
    _native.call("jl_scan_close", ctypes.c_uint64(handle))


class NativeScan:
    """A scan in the engine, read batch by batch.

    The Go engine fills C-allocated Arrow buffers and exports each batch through
    the Arrow C data interface; Polars imports it through the PyCapsule interface
    and takes the buffers over without a copy (no pyarrow on the way).
    """

    def __init__(self, options: dict[str, Any]) -> None:
        reply = _native.call("jl_scan_open", json.dumps(options).encode("utf-8"))
        self.handle: int = reply["handle"]
        self.avro_schema: str = reply["avro_schema"]
        self.files: list[str] = reply["files"]
        self._final_stats: dict[str, Any] = {}
        self._finalizer = weakref.finalize(self, _release, self.handle)
        self._lock = threading.Lock()
        empty = _native.ArrowArray()
        _native.call("jl_scan_empty", ctypes.c_uint64(self.handle), ctypes.byref(empty))
        self.polars_schema: pl.Schema = _to_polars(self.handle, empty).schema
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
            array = _native.ArrowArray()
            try:
                # Releases the GIL while the engine waits for the batch.
                reply = _native.call("jl_scan_next", ctypes.c_uint64(self.handle), ctypes.byref(array))
            except BaseException:
                # A KeyboardInterrupt can land after the engine exported the
                # batch and before the reply was read: free the batch then.
                if array.release:
                    array.release(ctypes.byref(array))
                self.finished = True
                raise
            if reply["end"]:
                self.finished = True
                return None
            df = _to_polars(self.handle, array)
        if df.schema != self.polars_schema:
            df = df.cast(dict(self.polars_schema))  # type: ignore[arg-type]
        return df

    def stats(self) -> dict[str, Any]:
        """The engine's counters, bad blocks and last error."""
        if self.closed:
            return dict(self._final_stats)
        reply = _native.call("jl_scan_stats", ctypes.c_uint64(self.handle))
        self._final_stats = reply
        return reply

    def errors(self) -> list[BadBlockError]:
        return [bad_block_from_engine(e) for e in (self.stats().get("errors") or [])]

    def close(self) -> None:
        if self.closed:
            return
        if _native.forked():
            # A scan of the parent's engine, closed in a forked child: nothing of
            # it runs here, so there is nothing to stop.
            self._finalizer.detach()
            return
        self.stats()  # keep the final counters readable after close
        self._finalizer()

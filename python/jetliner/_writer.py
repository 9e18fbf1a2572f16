"""write_avro, sink_avro and AvroWriter: Polars frames to Avro files.

The Go engine does the work: a frame goes to it as an Arrow C stream (Polars'
``__arrow_c_stream__``, no pyarrow, no copy), and it encodes and compresses the
blocks on every core. A path or ``s3://`` URI is written by the engine itself,
atomically; a file object gets the bytes through a callback, block by block.
"""

from __future__ import annotations

import base64
import contextlib
import ctypes
import json
import os
import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from types import TracebackType
from typing import IO, Any, Union

import polars as pl

from . import _native
from ._options import check_storage_options
from .exceptions import ConfigurationError, JetlinerError, SchemaError, SourceError

#: The uncompressed size a block aims at: that of the Avro reference
#: implementations (Java's and Python's DataFileWriter).
DEFAULT_SYNC_INTERVAL = 64_000
MIN_SYNC_INTERVAL = 32
MAX_SYNC_INTERVAL = 1 << 30

#: The size of one part of an S3 multipart upload, and its bounds (S3's own).
DEFAULT_PART_SIZE = 8 << 20
MIN_PART_SIZE = 5 << 20
MAX_PART_SIZE = 5 << 30

CODECS = ("null", "deflate", "snappy", "zstandard", "zstd", "bzip2", "xz")

Destination = Union[str, "os.PathLike[str]", IO[bytes]]
Schema = Union[dict[str, Any], list[Any], str, "os.PathLike[str]"]

_PyCapsule_GetPointer = ctypes.pythonapi.PyCapsule_GetPointer
_PyCapsule_GetPointer.restype = ctypes.c_void_p
_PyCapsule_GetPointer.argtypes = [ctypes.py_object, ctypes.c_char_p]

# The callback through which the engine writes to a file object.
_WRITE_FN = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p, ctypes.c_int64)

# How often a thread waiting for the engine wakes up to notice Ctrl-C.
_POLL_SECONDS = 0.1


def _schema_text(schema: Schema | None) -> str | None:
    """The explicit schema as JSON text: a dict or list, JSON text, or the path
    of an ``.avsc`` file."""
    if schema is None:
        return None
    if isinstance(schema, (dict, list)):
        return json.dumps(schema)
    if isinstance(schema, os.PathLike):
        return Path(schema).read_text(encoding="utf-8")
    if isinstance(schema, str):
        text = schema.strip()
        if text.startswith(("{", "[", '"')):
            return schema
        if text.endswith(".avsc") or os.path.exists(text):
            return Path(text).expanduser().read_text(encoding="utf-8")
        # A bare type name ("long") is a schema too.
        return json.dumps(text)
    raise ConfigurationError(
        f"schema must be a dict, a JSON string or an .avsc path, not {type(schema).__name__}"
    )


def _metadata(metadata: Mapping[str, str | bytes] | None) -> dict[str, str] | None:
    if metadata is None:
        return None
    if not isinstance(metadata, Mapping):
        raise ConfigurationError(f"metadata must be a dict, not {type(metadata).__name__}")
    out = {}
    for key, value in metadata.items():
        if not isinstance(key, str):
            raise ConfigurationError(f"metadata keys must be strings, not {type(key).__name__}")
        if key.startswith("avro."):
            raise ConfigurationError(
                f"metadata key {key!r} is reserved: keys starting with 'avro.' are the Avro format's own"
            )
        if isinstance(value, str):
            value = value.encode("utf-8")
        if not isinstance(value, (bytes, bytearray, memoryview)):
            raise ConfigurationError(f"metadata[{key!r}] must be str or bytes, not {type(value).__name__}")
        out[key] = base64.b64encode(bytes(value)).decode("ascii")
    return out


def _check_int(name: str, value: Any, lo: int, hi: int, *, allow_none: bool = False) -> int | None:
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigurationError(f"{name} must be an integer, not {type(value).__name__}")
    if not lo <= value <= hi:
        raise ConfigurationError(f"{name} must be between {lo:,} and {hi:,}, got {value:,}")
    return int(value)


def _is_file_object(dest: Any) -> bool:
    return not isinstance(dest, (str, os.PathLike)) and callable(getattr(dest, "write", None))


def _interruptible(call: Callable[[], dict[str, Any]], cancel: Callable[[], None]) -> dict[str, Any]:
    """Run an engine call so that Ctrl-C stops it within a moment.

    A call into the engine releases the GIL but cannot be interrupted: Python
    raises KeyboardInterrupt only when it returns. In the main thread the call
    runs on a helper thread while the main thread waits in short sleeps; on
    Ctrl-C the engine is told to stop (``cancel``), the call returns at the next
    block, and the KeyboardInterrupt goes on.
    """
    if threading.current_thread() is not threading.main_thread():
        return call()
    result: list[dict[str, Any]] = []
    error: list[BaseException] = []

    def run() -> None:
        try:
            result.append(call())
        except BaseException as e:  # handed to the waiting thread
            error.append(e)

    worker = threading.Thread(target=run, name="jetliner-write", daemon=True)
    worker.start()
    try:
        while worker.is_alive():
            worker.join(_POLL_SECONDS)
    except KeyboardInterrupt:
        cancel()
        worker.join()
        raise
    if error:
        raise error[0]
    return result[0]


class AvroWriter:
    """Write Polars frames, one after another, into one Avro file.

    A context manager: leaving the ``with`` block normally closes the file (the
    remaining blocks are written and the file appears at the destination);
    leaving it with an exception discards it, so that nothing half-written is
    left behind. Every frame written must have the same columns and types as the
    first.

    Parameters
    ----------
    dest
        Where to write: a path, ``file://`` URL or ``s3://bucket/key`` URI, or a
        binary file object (``io.BytesIO``, a file opened with ``"wb"``). A path
        or URI is written to a temporary name (S3: a multipart upload) and made
        visible only when the writer closes. A file object receives the bytes as
        they are written and is not closed.
    schema
        The Avro schema to write with: a dict, JSON text, or the path of an
        ``.avsc`` file. ``None`` derives it from the first frame (see the
        "Writing Avro" page of the user guide for the mapping). Columns are
        matched to the schema's fields by name.
    codec
        ``"null"``, ``"deflate"``, ``"snappy"`` (the default), ``"zstandard"``
        (or ``"zstd"``), ``"bzip2"`` or ``"xz"``.
    compression_level
        ``None`` for the codec's default, or a level: deflate 0-9 (default 6),
        zstandard 1-22 (default 3), bzip2 1-9 (default 6). The other codecs have
        no levels.
    name
        The name of the top-level record of a derived schema.
    namespace
        Its namespace, if any.
    sync_interval
        The uncompressed size, in bytes, a block aims at (32 B to 1 GiB).
    metadata
        Extra header metadata: ``str`` or ``bytes`` values; ``avro.*`` keys are
        the format's own and are refused.
    storage_options
        S3 settings, as for reading (see :func:`scan_avro`).
    part_size
        S3 only: the size in bytes of one part of the multipart upload (default
        8 MiB; S3 allows 5 MiB to 5 GiB, and at most 10,000 parts). A write
        smaller than one part is sent as a single object. Up to four parts
        upload at once, so memory grows with it.
    mangle_names
        Make column and field names that are not valid Avro names valid
        (invalid characters become ``_``) instead of raising.
    maps
        Write ``List(Struct({"key": String, "value": ...}))`` columns, the shape
        reads give Avro maps, as maps instead of arrays of records.

    Raises
    ------
    EncodeError
        A value the schema cannot hold; names the column and row.
    SchemaError
        A column that Avro cannot represent, a name that is not valid, or a frame
        that does not match the given schema.
    ConfigurationError
        A bad option.

    Examples
    --------
    >>> with jetliner.AvroWriter("out.avro", codec="zstd") as writer:  # doctest: +SKIP
    ...     for df in frames:
    ...         writer.write(df)
    """

    def __init__(
        self,
        dest: Destination,
        *,
        schema: Schema | None = None,
        codec: str = "snappy",
        compression_level: int | None = None,
        name: str = "Record",
        namespace: str | None = None,
        sync_interval: int = DEFAULT_SYNC_INTERVAL,
        metadata: Mapping[str, str | bytes] | None = None,
        storage_options: dict[str, str] | None = None,
        part_size: int = DEFAULT_PART_SIZE,
        mangle_names: bool = False,
        maps: bool = False,
    ) -> None:
        self._handle = 0
        self._rows = 0
        self._schema: str | None = None
        self._file: IO[bytes] | None = None
        self._file_error: BaseException | None = None
        self._file_bytes = 0
        self._callback: Any = None
        if not isinstance(codec, str) or codec not in CODECS:
            raise ConfigurationError(f"codec must be one of {', '.join(CODECS)}, got {codec!r}")
        options: dict[str, Any] = {
            "codec": codec,
            "compression_level": _check_int(
                "compression_level", compression_level, -(2**31), 2**31 - 1, allow_none=True
            ),
            "schema": _schema_text(schema),
            "name": name,
            "namespace": namespace or "",
            "sync_interval": _check_int("sync_interval", sync_interval, MIN_SYNC_INTERVAL, MAX_SYNC_INTERVAL),
            "metadata": _metadata(metadata),
            "storage_options": check_storage_options(storage_options),
            "part_size": _check_int("part_size", part_size, MIN_PART_SIZE, MAX_PART_SIZE),
            "mangle_names": bool(mangle_names),
            "maps": bool(maps),
        }
        if not isinstance(name, str):
            raise ConfigurationError(f"name must be a string, not {type(name).__name__}")
        if namespace is not None and not isinstance(namespace, str):
            raise ConfigurationError(f"namespace must be a string or None, not {type(namespace).__name__}")
        if _is_file_object(dest):
            self._file = dest  # type: ignore[assignment]
            self._callback = _WRITE_FN(self._write_to_file)
            options["write_fn"] = ctypes.cast(self._callback, ctypes.c_void_p).value
        elif isinstance(dest, (str, os.PathLike)):
            path = os.fspath(dest)
            if not isinstance(path, str) or not path:
                raise ConfigurationError("dest must be a non-empty path")
            options["dest"] = os.path.expanduser(path) if path.startswith("~") else path
        else:
            raise ConfigurationError(
                f"Expected str, Path or a binary file object as dest, got {type(dest).__name__}"
            )
        reply = _native.call("jl_writer_open", json.dumps(options).encode("utf-8"))
        self._handle = int(reply["handle"])

    def _write_to_file(self, data: int, length: int) -> int:
        # Called by the engine, on one of its threads, with the GIL taken.
        try:
            assert self._file is not None
            self._file.write(ctypes.string_at(data, length))
            self._file_bytes += length
        except BaseException as e:  # kept, and raised when the engine's call returns
            self._file_error = e
            return -1
        return 0

    @property
    def rows_written(self) -> int:
        """The number of rows written so far."""
        return self._rows

    @property
    def closed(self) -> bool:
        """Whether the writer is closed (or was discarded after an error)."""
        return self._handle == 0

    def _call(self, name: str, *args: Any) -> dict[str, Any]:
        handle = self._handle

        def cancel() -> None:
            _native.call("jl_writer_cancel", ctypes.c_uint64(handle))

        try:
            return _interruptible(lambda: _native.call(name, ctypes.c_uint64(handle), *args), cancel)
        except KeyboardInterrupt:
            self._discard()
            raise
        except JetlinerError as e:
            self._discard()
            raise self._explain(e) from self._file_error

    def _explain(self, e: JetlinerError) -> JetlinerError:
        """Say what became of a file object after a failed write."""
        if self._file is None:
            return e
        if self._file_error is not None:
            return SourceError(
                f"writing to the file object failed ({type(self._file_error).__name__}: {self._file_error}); "
                "the file object holds a partial Avro file"
            )
        if self._file_bytes:
            e.message += f" (the file object holds a partial Avro file of {self._file_bytes:,} bytes)"
        else:
            e.message += " (nothing was written to the file object)"
        return e

    def write(self, df: pl.DataFrame) -> None:
        """Write the rows of a DataFrame.

        Parameters
        ----------
        df
            The frame. Its columns must match the first frame's (names, order
            and types).
        """
        if self._handle == 0:
            raise ConfigurationError("the writer is closed")
        if not isinstance(df, pl.DataFrame):
            raise ConfigurationError(f"write() takes a polars DataFrame, not {type(df).__name__}")
        _check_dtypes(df.schema)
        capsule = df.__arrow_c_stream__()
        stream = _PyCapsule_GetPointer(capsule, b"arrow_array_stream")
        reply = self._call("jl_writer_write", ctypes.c_void_p(stream))
        self._rows = int(reply.get("rows", self._rows))

    def close(self) -> None:
        """Write the remaining blocks and make the file visible at its
        destination. Closing twice is fine."""
        if self._handle == 0:
            return
        reply = self._call("jl_writer_close")
        self._rows = int(reply.get("rows", self._rows))
        self._schema = reply.get("schema")
        self._free()

    def _discard(self) -> None:
        """Stop and leave nothing at the destination."""
        if self._handle != 0:
            handle, self._handle = self._handle, 0
            try:
                _native.call("jl_writer_abort", ctypes.c_uint64(handle))
            finally:
                _native.call("jl_writer_free", ctypes.c_uint64(handle))

    def _free(self) -> None:
        if self._handle != 0:
            handle, self._handle = self._handle, 0
            _native.call("jl_writer_free", ctypes.c_uint64(handle))

    @property
    def schema(self) -> str | None:
        """The Avro schema written (JSON), once the writer is closed."""
        return self._schema

    def __enter__(self) -> AvroWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is None:
            self.close()
        else:
            self._discard()

    def __del__(self) -> None:
        # A writer dropped without close() discards its file.
        if getattr(self, "_handle", 0) and not _native.forked():
            with contextlib.suppress(Exception):
                self._discard()

    def __repr__(self) -> str:
        state = "closed" if self.closed else "open"
        return f"<jetliner.AvroWriter {state}, {self._rows} rows written>"


def _check_dtypes(schema: pl.Schema) -> None:
    """Refuse the column types the Arrow export or Avro cannot carry, by name."""
    for name, dtype in schema.items():
        base = dtype.base_type() if hasattr(dtype, "base_type") else dtype
        if base == pl.Object:
            raise SchemaError(
                f"column {name!r} is of type Object, which has no Avro counterpart",
                "UnsupportedType",
                schema_context=name,
            )
        if str(base) in ("Int128", "UInt128"):
            raise SchemaError(
                f"column {name!r} is of type {base}, which has no Avro counterpart: cast it to pl.Decimal "
                "(written as an Avro decimal) or to a 64-bit integer",
                "UnsupportedType",
                schema_context=name,
            )


def write_avro(
    df: pl.DataFrame,
    dest: Destination,
    *,
    codec: str = "snappy",
    compression_level: int | None = None,
    schema: Schema | None = None,
    name: str = "Record",
    namespace: str | None = None,
    sync_interval: int = DEFAULT_SYNC_INTERVAL,
    metadata: Mapping[str, str | bytes] | None = None,
    storage_options: dict[str, str] | None = None,
    part_size: int = DEFAULT_PART_SIZE,
    mangle_names: bool = False,
    maps: bool = False,
) -> None:
    """Write a DataFrame to an Avro object container file.

    The schema is derived from the frame (the inverse of how :func:`read_avro`
    maps Avro to Polars, so that ``read_avro`` gives the same frame back) unless
    ``schema`` gives one. The engine encodes and compresses blocks on every core.
    A failed write leaves nothing at a path or S3 destination.

    Parameters
    ----------
    df
        The frame to write.
    dest
        A path, ``file://`` URL, ``s3://bucket/key`` URI, or a binary file object.
    codec
        ``"null"``, ``"deflate"``, ``"snappy"``, ``"zstandard"`` (``"zstd"``),
        ``"bzip2"`` or ``"xz"``.
    compression_level
        The codec's level (deflate 0-9, zstandard 1-22, bzip2 1-9), ``None`` for
        its default.
    schema
        An explicit Avro schema: a dict, JSON text or an ``.avsc`` path.
    name
        The top-level record's name in a derived schema.
    namespace
        Its namespace.
    sync_interval
        Uncompressed bytes per block, about (default 64,000).
    metadata
        Extra header metadata, ``str`` or ``bytes`` values (``avro.*`` keys refused).
    storage_options
        S3 settings, as for reading.
    part_size
        S3 only: bytes per part of the multipart upload (default 8 MiB, 5 MiB
        to 5 GiB); see :class:`AvroWriter`.
    mangle_names
        Make invalid Avro names valid instead of raising.
    maps
        Write ``List(Struct({"key": String, "value": ...}))`` columns as Avro maps.

    See Also
    --------
    sink_avro : Stream a LazyFrame to Avro.
    AvroWriter : Write several frames into one file.

    Examples
    --------
    >>> df = pl.DataFrame({"id": [1, 2], "name": ["a", "b"]})
    >>> jetliner.write_avro(df, "out.avro")  # doctest: +SKIP
    >>> jetliner.read_avro("out.avro").equals(df)  # doctest: +SKIP
    True
    """
    if not isinstance(df, pl.DataFrame):
        raise ConfigurationError(f"write_avro() takes a polars DataFrame, not {type(df).__name__}")
    with AvroWriter(
        dest,
        schema=schema,
        codec=codec,
        compression_level=compression_level,
        name=name,
        namespace=namespace,
        sync_interval=sync_interval,
        metadata=metadata,
        storage_options=storage_options,
        part_size=part_size,
        mangle_names=mangle_names,
        maps=maps,
    ) as writer:
        writer.write(df)


def sink_avro(
    lf: pl.LazyFrame,
    dest: Destination,
    *,
    codec: str = "snappy",
    compression_level: int | None = None,
    schema: Schema | None = None,
    name: str = "Record",
    namespace: str | None = None,
    sync_interval: int = DEFAULT_SYNC_INTERVAL,
    metadata: Mapping[str, str | bytes] | None = None,
    storage_options: dict[str, str] | None = None,
    part_size: int = DEFAULT_PART_SIZE,
    mangle_names: bool = False,
    maps: bool = False,
) -> None:
    """Stream a LazyFrame into an Avro file without collecting it first.

    The query runs on Polars' streaming engine and its batches are written as
    they come, so memory stays at a few batches plus the encoder's blocks,
    whatever the size of the result. Usable as ``lf.pipe(jetliner.sink_avro,
    "out.avro")``. Ctrl-C stops the write and leaves nothing at a path or S3
    destination.

    Parameters
    ----------
    lf
        The query to write.
    dest
        A path, ``file://`` URL, ``s3://bucket/key`` URI, or a binary file object.
    codec
        As for :func:`write_avro`.
    compression_level
        As for :func:`write_avro`.
    schema
        As for :func:`write_avro`.
    name
        As for :func:`write_avro`.
    namespace
        As for :func:`write_avro`.
    sync_interval
        As for :func:`write_avro`.
    metadata
        As for :func:`write_avro`.
    storage_options
        As for :func:`write_avro`.
    part_size
        As for :func:`write_avro`.
    mangle_names
        As for :func:`write_avro`.
    maps
        As for :func:`write_avro`.

    See Also
    --------
    write_avro : Write a DataFrame.

    Examples
    --------
    >>> lf = jetliner.scan_avro("big/*.avro").filter(pl.col("x") > 0)  # doctest: +SKIP
    >>> jetliner.sink_avro(lf, "filtered.avro", codec="zstd")  # doctest: +SKIP
    """
    if not isinstance(lf, pl.LazyFrame):
        raise ConfigurationError(f"sink_avro() takes a polars LazyFrame, not {type(lf).__name__}")
    with AvroWriter(
        dest,
        schema=schema,
        codec=codec,
        compression_level=compression_level,
        name=name,
        namespace=namespace,
        sync_interval=sync_interval,
        metadata=metadata,
        storage_options=storage_options,
        part_size=part_size,
        mangle_names=mangle_names,
        maps=maps,
    ) as writer:
        wrote = False
        for batch in lf.collect_batches():
            if batch.height == 0 and wrote:
                continue
            writer.write(batch)
            wrote = True
        if not wrote:
            writer.write(pl.DataFrame(schema=lf.collect_schema()))

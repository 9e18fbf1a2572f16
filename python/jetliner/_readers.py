"""AvroReader and MultiAvroReader: iterators of DataFrame batches."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from types import TracebackType
from typing import Any

import polars as pl

from . import _options, _progress, _repr
from ._options import (
    DEFAULT_BATCH_SIZE,
    DEFAULT_BUFFER_BLOCKS,
    DEFAULT_BUFFER_BYTES,
    DEFAULT_MAX_BLOCK_SIZE,
    DEFAULT_MAX_SCHEMA_DEPTH,
)
from ._scan import NativeScan
from .exceptions import BadBlockError, ConfigurationError, JetlinerError


class _BaseReader:
    """What the two readers share: the scan, iteration, properties and closing."""

    _scan: NativeScan | None = None
    _progress: _progress.ReadProgress | None = None

    def __init__(self, sources: list[str], options: dict[str, Any], progress: bool = False) -> None:
        self._options = options
        self._rows_read = 0
        show_progress = _progress.check(progress)
        self._scan = NativeScan(_options.build(sources, **options))
        self._batch_size: int = options.get("batch_size", DEFAULT_BATCH_SIZE)
        if show_progress:
            try:
                self._progress = _progress.ReadProgress(self._scan)
            except BaseException:
                self._scan.close()
                raise

    # -- iteration ---------------------------------------------------------------
    def __iter__(self) -> Iterator[pl.DataFrame]:
        return self

    def __next__(self) -> pl.DataFrame:
        scan = self._require_open()
        try:
            df = scan.next_batch()
        except Exception:
            if self._progress is not None:
                self._progress.close("failed")
            raise
        except BaseException:
            if self._progress is not None:
                self._progress.close("interrupted")
            # KeyboardInterrupt (Ctrl-C, a kernel interrupt) lands when the batch
            # being decoded is handed over, possibly after it left the engine and
            # before it reached the caller: going on could silently skip it. So
            # the reader closes, which stops the engine and frees its memory now
            # rather than when the reader is garbage-collected.
            self.close()
            raise
        if df is None:
            if self._progress is not None:
                self._progress.finish()
            raise StopIteration
        self._rows_read += df.height
        if self._progress is not None:
            self._progress.update()
        return df

    def __enter__(self) -> _BaseReader:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Stop reading and release every native resource. Closing twice is fine."""
        if self._progress is not None:
            self._progress.close()
        if self._scan is not None:
            self._scan.close()

    def _require_open(self) -> NativeScan:
        if self._scan is None or self._scan.closed:
            raise JetlinerError("the reader is closed")
        return self._scan

    # -- properties --------------------------------------------------------------
    @property
    def schema(self) -> str:
        """The Avro writer schema of the (first) file, as JSON text."""
        assert self._scan is not None
        return self._scan.avro_schema

    @property
    def schema_dict(self) -> Any:
        """The Avro writer schema, parsed from JSON."""
        return json.loads(self.schema)

    @property
    def polars_schema(self) -> pl.Schema:
        """The Polars schema of every batch."""
        assert self._scan is not None
        return self._scan.polars_schema

    @property
    def batch_size(self) -> int:
        """The target number of rows per batch."""
        return self._batch_size

    @property
    def rows_read(self) -> int:
        """Rows yielded so far."""
        return self._rows_read

    @property
    def is_finished(self) -> bool:
        """Whether every batch has been read (or the reader is closed)."""
        return self._scan is None or self._scan.closed or self._scan.finished

    @property
    def errors(self) -> list[BadBlockError]:
        """Blocks skipped so far because of ``ignore_errors=True``."""
        assert self._scan is not None
        return self._scan.errors()

    @property
    def error_count(self) -> int:
        """The number of skipped blocks."""
        return len(self.errors)

    def _stats(self) -> dict[str, Any]:
        """The engine's counters (rows, blocks and bytes read, columns decoded)."""
        assert self._scan is not None
        return dict(self._scan.stats()["stats"])

    def __repr__(self) -> str:
        return _repr.reader_repr(self)

    def _repr_html_(self) -> str:
        return _repr.reader_html(self)

    def __del__(self) -> None:
        # The scan's own finalizer frees the engine side; nothing else to do.
        pass


class AvroReader(_BaseReader):
    """Read one Avro file as an iterator of DataFrame batches.

    Use it as a context manager so its native resources are released when the
    block ends; they are also released by :meth:`close` and on garbage collection.

    Parameters
    ----------
    path
        A local path, ``file://`` URL or ``s3://bucket/key`` URI of one file.
    batch_size
        Target rows per batch (at most 2**32 - 1); a batch may be a little
        larger, the last smaller.
        Very wide rows give smaller batches: a batch holds at most
        ``buffer_bytes / (CPU cores + 2)`` compressed bytes, so that several are
        decoded in parallel.
    buffer_blocks
        How many blocks (decode units) may be read ahead of the decoder; at
        most 65,536.
    buffer_bytes
        Cap on the compressed bytes held by read-ahead; at most 1 TiB (2**40).
    ignore_errors
        Skip bad blocks instead of raising; see :attr:`errors`.
    projected_columns
        Read only these columns. An empty list reads none: batches of the
        file's rows and no columns, counted from the block headers.
    storage_options
        S3 settings; see the S3 guide.
    read_chunk_size
        I/O request size in bytes; ``None`` picks one for the source. At most
        1 GiB (2**30).
    max_block_size
        Refuse blocks that decompress to more than this many bytes (``None``: no
        cap); at most 1 TiB (2**40).
    max_schema_depth
        Refuse a file whose schema nests deeper than this many levels (each
        record, array and union of several types one level, each map two) with
        a ``SchemaError``. At most 128, which is still safe: Polars crashes
        on types nested a few hundred levels deep, so no value reaches that.
    n_rows
        Stop after this many rows.
    row_index_name, row_index_offset
        Add a row index column first, from ``row_index_offset`` (at most
        2**63 - 1; a UInt32 index past 2**32 - 1 is a ``ConfigurationError``).
    include_file_paths
        Add a column of this name holding the file's path.
    progress
        Show a progress bar of the bytes and rows read (tqdm's, if installed;
        otherwise a line of text on stderr).

    Notes
    -----
    A ``KeyboardInterrupt`` (Ctrl-C, or a Jupyter kernel interrupt) that arrives
    while the reader is fetching a batch closes it: the engine stops and its
    memory is freed at once. Iterating a closed reader raises.

    Examples
    --------
    >>> with jetliner.AvroReader("data.avro", batch_size=50_000) as reader:  # doctest: +SKIP
    ...     for df in reader:
    ...         print(df.height)
    """

    def __init__(
        self,
        path: _options.Source,
        *,
        batch_size: int = DEFAULT_BATCH_SIZE,
        buffer_blocks: int = DEFAULT_BUFFER_BLOCKS,
        buffer_bytes: int = DEFAULT_BUFFER_BYTES,
        ignore_errors: bool = False,
        projected_columns: Sequence[str] | None = None,
        storage_options: dict[str, str] | None = None,
        read_chunk_size: int | None = None,
        max_block_size: int | None = DEFAULT_MAX_BLOCK_SIZE,
        max_schema_depth: int = DEFAULT_MAX_SCHEMA_DEPTH,
        n_rows: int | None = None,
        row_index_name: str | None = None,
        row_index_offset: int = 0,
        include_file_paths: str | None = None,
        progress: bool = False,
        **unknown: Any,
    ) -> None:
        _options.reject_unknown("AvroReader", unknown)
        if isinstance(path, (list, tuple)):
            raise ConfigurationError("AvroReader reads one file; use MultiAvroReader for several")
        sources = _options.normalize_sources(path)
        super().__init__(
            sources,
            dict(
                glob=False,
                columns=_columns(projected_columns),
                batch_size=batch_size,
                buffer_blocks=buffer_blocks,
                buffer_bytes=buffer_bytes,
                ignore_errors=ignore_errors,
                storage_options=storage_options,
                read_chunk_size=read_chunk_size,
                max_block_size=max_block_size,
                max_schema_depth=max_schema_depth,
                n_rows=n_rows,
                row_index_name=row_index_name,
                row_index_offset=row_index_offset,
                include_file_paths=include_file_paths,
            ),
            progress,
        )

    def __enter__(self) -> AvroReader:
        return self


class MultiAvroReader(_BaseReader):
    """Read several Avro files (paths, URIs, globs) as one iterator of batches.

    The row index runs on across files, and files are read in order (each glob's
    matches sorted by path). All files must produce the same columns.

    Parameters
    ----------
    sources
        Paths, ``file://`` URLs, ``s3://`` URIs or globs, or a list of them.
    batch_size
        Target rows per batch (at most 2**32 - 1); a batch may be a little
        larger, the last smaller.
        Very wide rows give smaller batches: a batch holds at most
        ``buffer_bytes / (CPU cores + 2)`` compressed bytes, so that several are
        decoded in parallel.
    buffer_blocks
        How many blocks (decode units) may be read ahead of the decoder; at
        most 65,536.
    buffer_bytes
        Cap on the compressed bytes held by read-ahead; at most 1 TiB (2**40).
    ignore_errors
        Skip bad blocks instead of raising; see :attr:`errors`.
    projected_columns
        Read only these columns. An empty list reads none: batches of the
        file's rows and no columns, counted from the block headers.
    storage_options
        S3 settings; see the S3 guide.
    read_chunk_size
        I/O request size in bytes; ``None`` picks one for the source. At most
        1 GiB (2**30).
    max_block_size
        Refuse blocks that decompress to more than this many bytes (``None``: no
        cap); at most 1 TiB (2**40).
    max_schema_depth
        Refuse a file whose schema nests deeper than this many levels (each
        record, array and union of several types one level, each map two) with
        a ``SchemaError``. At most 128, which is still safe: Polars crashes
        on types nested a few hundred levels deep, so no value reaches that.
    n_rows
        Stop after this many rows in total.
    row_index_name, row_index_offset
        Add a row index column first, continuous across files, from
        ``row_index_offset`` (at most 2**63 - 1; a UInt32 index past 2**32 - 1
        is a ``ConfigurationError``).
    include_file_paths
        Add a column of this name holding each row's file path.
    glob
        Expand glob patterns (``*``, ``?``, ``[...]``, ``{a,b}``, ``**``).
    progress
        Show a progress bar of the bytes and rows read.

    Examples
    --------
    >>> with jetliner.MultiAvroReader("logs/**/*.avro", row_index_name="i") as reader:  # doctest: +SKIP
    ...     for df in reader:
    ...         print(reader.current_source_index, df.height)
    """

    def __init__(
        self,
        sources: _options.Sources,
        *,
        batch_size: int = DEFAULT_BATCH_SIZE,
        buffer_blocks: int = DEFAULT_BUFFER_BLOCKS,
        buffer_bytes: int = DEFAULT_BUFFER_BYTES,
        ignore_errors: bool = False,
        projected_columns: Sequence[str] | None = None,
        storage_options: dict[str, str] | None = None,
        read_chunk_size: int | None = None,
        max_block_size: int | None = DEFAULT_MAX_BLOCK_SIZE,
        max_schema_depth: int = DEFAULT_MAX_SCHEMA_DEPTH,
        n_rows: int | None = None,
        row_index_name: str | None = None,
        row_index_offset: int = 0,
        include_file_paths: str | None = None,
        glob: bool = True,
        progress: bool = False,
        **unknown: Any,
    ) -> None:
        _options.reject_unknown("MultiAvroReader", unknown)
        self._row_index_name = row_index_name
        self._include_file_paths = include_file_paths
        super().__init__(
            _options.normalize_sources(sources),
            dict(
                glob=glob,
                columns=_columns(projected_columns),
                batch_size=batch_size,
                buffer_blocks=buffer_blocks,
                buffer_bytes=buffer_bytes,
                ignore_errors=ignore_errors,
                storage_options=storage_options,
                read_chunk_size=read_chunk_size,
                max_block_size=max_block_size,
                max_schema_depth=max_schema_depth,
                n_rows=n_rows,
                row_index_name=row_index_name,
                row_index_offset=row_index_offset,
                include_file_paths=include_file_paths,
            ),
            progress,
        )

    def __enter__(self) -> MultiAvroReader:
        return self

    @property
    def total_sources(self) -> int:
        """How many files the sources resolved to."""
        assert self._scan is not None
        return len(self._scan.files)

    @property
    def current_source_index(self) -> int:
        """The position (from 0) of the file the last batch came from."""
        return int(self._stats().get("current_file", 0))

    @property
    def row_index_name(self) -> str | None:
        """The name of the row index column, if any."""
        return self._row_index_name

    @property
    def include_file_paths(self) -> str | None:
        """The name of the file path column, if any."""
        return self._include_file_paths


def _columns(columns: Sequence[str] | None) -> list[str] | None:
    if columns is None:
        return None
    if isinstance(columns, str) or not all(isinstance(c, str) for c in columns):
        raise ConfigurationError("projected_columns must be a list of column names")
    return list(columns)

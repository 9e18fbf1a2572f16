"""scan_avro, read_avro, read_avro_schema and open."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import polars as pl
from polars.io.plugins import register_io_source

from . import _native, _options, _progress
from ._options import (
    DEFAULT_BATCH_SIZE,
    DEFAULT_BUFFER_BLOCKS,
    DEFAULT_BUFFER_BYTES,
    DEFAULT_MAX_BLOCK_SIZE,
    DEFAULT_MAX_SCHEMA_DEPTH,
)
from ._readers import AvroReader
from ._scan import NativeScan
from .exceptions import ConfigurationError

# The most recent scan_avro read's engine counters, for tests that check pushdown.
_last_scan_stats: dict[str, Any] = {}

# read_chunk_size of the scans that only read a header: on S3 the automatic size is
# a 4 MiB ranged GET, far more than a header needs (a larger header still works).
_HEADER_CHUNK_SIZE = 64 * 1024


def _header_options(opts: dict[str, Any]) -> dict[str, Any]:
    if opts.get("read_chunk_size") is None:
        return {**opts, "read_chunk_size": _HEADER_CHUNK_SIZE}
    return opts


def scan_avro(
    source: _options.Sources,
    *,
    n_rows: int | None = None,
    row_index_name: str | None = None,
    row_index_offset: int = 0,
    glob: bool = True,
    include_file_paths: str | None = None,
    ignore_errors: bool = False,
    storage_options: dict[str, str] | None = None,
    buffer_blocks: int = DEFAULT_BUFFER_BLOCKS,
    buffer_bytes: int = DEFAULT_BUFFER_BYTES,
    read_chunk_size: int | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
    max_block_size: int | None = DEFAULT_MAX_BLOCK_SIZE,
    max_schema_depth: int = DEFAULT_MAX_SCHEMA_DEPTH,
    **unknown: Any,
) -> pl.LazyFrame:
    """Lazily read Avro files into a LazyFrame.

    The scan is a Polars IO plugin: the columns a query selects and a ``head()`` or
    ``n_rows`` limit are pushed down into the reader, so unselected columns are
    skipped without being decoded and reading stops as soon as enough rows are
    there. Filters are applied to each batch as it arrives.

    Parameters
    ----------
    source
        A path, ``file://`` URL, ``s3://bucket/key`` URI or glob, or a list of them.
        Globs support ``*``, ``?``, ``[...]``, ``{a,b}`` and ``**``.
    n_rows
        Stop after this many rows in total.
    row_index_name
        Add a row index column of this name as the first column.
    row_index_offset
        The first value of the row index; at most 2**63 - 1. With Polars' UInt32
        index, an index past 2**32 - 1 is a ``ConfigurationError``, never a
        wrap-around.
    glob
        Expand glob patterns; ``False`` takes every path literally.
    include_file_paths
        Add a String column of this name with each row's source path or URI.
    ignore_errors
        Skip bad blocks (resynchronising on the next sync marker) instead of raising.
    storage_options
        S3 settings: ``aws_access_key_id``, ``aws_secret_access_key``,
        ``aws_session_token``, ``region``, ``endpoint``, ``max_retries``.
    buffer_blocks
        How many blocks (decode units) may be read ahead of the decoder; at
        most 65,536.
    buffer_bytes
        Cap on the compressed bytes held by read-ahead; at most 1 TiB (2**40).
    read_chunk_size
        I/O request size in bytes; ``None`` chooses one for the source. At most
        1 GiB (2**30).
    batch_size
        Target rows per batch; at most 2**32 - 1.
    max_block_size
        Refuse blocks that decompress to more than this many bytes (``None``: no
        cap); at most 1 TiB (2**40).
    max_schema_depth
        Refuse a file whose schema nests deeper than this many levels (each
        record, array and union of several types one level, each map two) with
        a ``SchemaError``. At most 128, which is still safe: Polars crashes
        on types nested a few hundred levels deep, so no value reaches that.

    Returns
    -------
    LazyFrame

    Raises
    ------
    ConfigurationError
        An option of the wrong type or out of its range (each numeric option has
        an upper bound, see the user guide's limits of the options).
    ForkedProcessError
        In a process forked after jetliner's engine started (use the ``spawn`` or
        ``forkserver`` start method of ``multiprocessing``).

    Notes
    -----
    Ctrl-C while the query runs stops it with ``KeyboardInterrupt``. Between the
    batches of ``collect_batches()``, while the caller's own code runs, Ctrl-C
    interrupts that code instead, as it would without jetliner, and the read stays
    paused.

    Examples
    --------
    >>> lf = jetliner.scan_avro("events/*.avro")  # doctest: +SKIP
    >>> lf.select("user_id", "amount").filter(pl.col("amount") > 100).head(10).collect()  # doctest: +SKIP
    """
    _options.reject_unknown("scan_avro", unknown)
    sources = _options.normalize_sources(source)
    base: dict[str, Any] = dict(
        n_rows=n_rows,
        row_index_name=row_index_name,
        row_index_offset=row_index_offset,
        glob=glob,
        include_file_paths=include_file_paths,
        ignore_errors=ignore_errors,
        storage_options=storage_options,
        buffer_blocks=buffer_blocks,
        buffer_bytes=buffer_bytes,
        read_chunk_size=read_chunk_size,
        batch_size=batch_size,
        max_block_size=max_block_size,
        max_schema_depth=max_schema_depth,
    )
    # The header is read now, not at collect(): Polars wraps errors raised while it
    # asks for a schema, and users expect jetliner's own exceptions here.
    header = NativeScan(_options.build(sources, **_header_options(base)))
    schema = header.polars_schema
    header.close()
    generated = {row_index_name, include_file_paths} - {None}

    def source_fn(
        with_columns: list[str] | None,
        predicate: pl.Expr | None,
        n_rows_hint: int | None,
        batch_size_hint: int | None,
    ) -> Iterator[pl.DataFrame]:
        opts: dict[str, Any] = dict(base)
        if with_columns is not None:
            opts["columns"] = [c for c in with_columns if c not in generated]
            if row_index_name is not None and row_index_name not in with_columns:
                opts["row_index_name"] = None
            if include_file_paths is not None and include_file_paths not in with_columns:
                opts["include_file_paths"] = None
        if n_rows_hint is not None:
            opts["n_rows"] = n_rows_hint if n_rows is None else min(n_rows, n_rows_hint)
        scan = NativeScan(_options.build(sources, **opts))
        watch = _native.InterruptWatch()
        try:
            while (df := scan.next_batch()) is not None:
                if watch.interrupted():
                    # This runs on a Polars thread, and the main thread waits in
                    # Polars for the query: raising stops the query, and Polars
                    # raises the KeyboardInterrupt to the main thread. (When the
                    # main thread is elsewhere, the watch hands the signal to it.)
                    raise KeyboardInterrupt
                if with_columns is not None and df.columns != with_columns:
                    df = df.select(with_columns)
                if predicate is not None:
                    df = df.filter(predicate)
                yield df
        finally:
            watch.stop()
            try:
                _finish(scan)
            except KeyboardInterrupt:
                # Polars stops a collect() on Ctrl-C by itself and raises
                # KeyboardInterrupt to the caller; Python's own pending interrupt
                # then fires here, as Polars drops this generator on the way out.
                # The caller has its KeyboardInterrupt already: finish cleaning up.
                _finish(scan)

    return register_io_source(source_fn, schema=schema, explain_name="jetliner")


def _finish(scan: NativeScan) -> None:
    """Close a scan_avro read and keep its counters for the tests."""
    scan.close()  # closing keeps the final counters readable
    _last_scan_stats.clear()
    _last_scan_stats.update(scan.stats().get("stats", {}))


scan = scan_avro


def read_avro(
    source: _options.Sources,
    *,
    columns: Sequence[str] | Sequence[int] | None = None,
    n_rows: int | None = None,
    row_index_name: str | None = None,
    row_index_offset: int = 0,
    glob: bool = True,
    include_file_paths: str | None = None,
    ignore_errors: bool = False,
    storage_options: dict[str, str] | None = None,
    buffer_blocks: int = DEFAULT_BUFFER_BLOCKS,
    buffer_bytes: int = DEFAULT_BUFFER_BYTES,
    read_chunk_size: int | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
    max_block_size: int | None = DEFAULT_MAX_BLOCK_SIZE,
    max_schema_depth: int = DEFAULT_MAX_SCHEMA_DEPTH,
    progress: bool = False,
    **unknown: Any,
) -> pl.DataFrame:
    """Read Avro files into a DataFrame.

    Parameters
    ----------
    source
        A path, ``file://`` URL, ``s3://bucket/key`` URI or glob, or a list of them.
    columns
        Read only these columns, by name or by 0-based position. Unselected
        columns are skipped while decoding. An empty list reads none: a frame of
        the file's height, counted from the block headers without decoding.
    n_rows
        Stop after this many rows in total.
    row_index_name
        Add a row index column of this name as the first column.
    row_index_offset
        The first value of the row index; at most 2**63 - 1. With Polars' UInt32
        index, an index past 2**32 - 1 is a ``ConfigurationError``, never a
        wrap-around.
    glob
        Expand glob patterns; ``False`` takes every path literally.
    include_file_paths
        Add a String column of this name with each row's source path or URI.
    ignore_errors
        Skip bad blocks (resynchronising on the next sync marker) instead of raising.
    storage_options
        S3 settings, as in :func:`scan_avro`.
    buffer_blocks
        How many blocks (decode units) may be read ahead of the decoder; at
        most 65,536.
    buffer_bytes
        Cap on the compressed bytes held by read-ahead; at most 1 TiB (2**40).
    read_chunk_size
        I/O request size in bytes; ``None`` chooses one for the source. At most
        1 GiB (2**30).
    batch_size
        Rows per batch while reading (the result is one DataFrame of them); at
        most 2**32 - 1.
    max_block_size
        Refuse blocks that decompress to more than this many bytes (``None``: no
        cap); at most 1 TiB (2**40).
    max_schema_depth
        Refuse a file whose schema nests deeper than this many levels (each
        record, array and union of several types one level, each map two) with
        a ``SchemaError``. At most 128, which is still safe: Polars crashes
        on types nested a few hundred levels deep, so no value reaches that.
    progress
        Show a progress bar of the bytes and rows read: tqdm's (a widget in
        Jupyter) when tqdm is installed, otherwise a line of text on stderr.

    Returns
    -------
    DataFrame

    Raises
    ------
    ConfigurationError
        An option of the wrong type or out of its range (each numeric option has
        an upper bound, see the user guide's limits of the options).
    ForkedProcessError
        In a process forked after jetliner's engine started (use the ``spawn`` or
        ``forkserver`` start method of ``multiprocessing``).

    Examples
    --------
    >>> df = jetliner.read_avro("data.avro", columns=["id", "name"])  # doctest: +SKIP
    """
    _options.reject_unknown("read_avro", unknown)
    sources = _options.normalize_sources(source)
    opts: dict[str, Any] = dict(
        n_rows=n_rows,
        row_index_name=row_index_name,
        row_index_offset=row_index_offset,
        glob=glob,
        include_file_paths=include_file_paths,
        ignore_errors=ignore_errors,
        storage_options=storage_options,
        buffer_blocks=buffer_blocks,
        buffer_bytes=buffer_bytes,
        read_chunk_size=read_chunk_size,
        batch_size=batch_size,
        max_block_size=max_block_size,
        max_schema_depth=max_schema_depth,
    )
    show_progress = _progress.check(progress)
    names = _column_names(sources, columns, opts)
    scan = NativeScan(_options.build(sources, columns=names, **opts))
    bar = None
    try:
        if show_progress:
            bar = _progress.ReadProgress(scan)
        frames = []
        # A KeyboardInterrupt lands between batches (the engine decodes a batch
        # with the GIL released); the finally below then stops the engine.
        while (df := scan.next_batch()) is not None:
            frames.append(df)
            if bar is not None:
                bar.update()
        if bar is not None:
            bar.finish()
        if not frames:
            return pl.DataFrame(schema=scan.polars_schema)
        if len(frames) == 1:
            return frames[0]
        return pl.concat(frames, how="vertical", rechunk=False)
    except Exception:
        if bar is not None:
            bar.close("failed")
        raise
    except BaseException:
        if bar is not None:
            bar.close("interrupted")
        raise
    finally:
        if bar is not None:
            bar.close()
        scan.close()


def _column_names(
    sources: list[str], columns: Sequence[str] | Sequence[int] | None, opts: dict[str, Any]
) -> list[str] | None:
    """Resolve ``columns`` (names or positions) to names."""
    if columns is None:
        return None
    if isinstance(columns, (str, int)):
        raise ConfigurationError("columns must be a list of names or of 0-based positions")
    cols = list(columns)
    if all(isinstance(c, str) for c in cols):
        return cols  # type: ignore[return-value]
    if not all(isinstance(c, int) and not isinstance(c, bool) for c in cols):
        raise ConfigurationError("columns must be all names or all 0-based positions, not a mix")
    header = NativeScan(
        _options.build(
            sources, **_header_options({**opts, "row_index_name": None, "include_file_paths": None})
        )
    )
    try:
        names = list(header.polars_schema.names())
    finally:
        header.close()
    out = []
    for i in cols:
        assert isinstance(i, int)
        if not -len(names) <= i < len(names):
            raise ConfigurationError(f"column index {i} is out of range for {len(names)} columns")
        out.append(names[i])
    return out


def read_avro_schema(
    source: _options.Sources,
    *,
    storage_options: dict[str, str] | None = None,
    max_schema_depth: int = DEFAULT_MAX_SCHEMA_DEPTH,
    **unknown: Any,
) -> pl.Schema:
    """Return the Polars schema a read of ``source`` would produce.

    Only the header of the first file (of a list or glob) is read.

    Parameters
    ----------
    source
        A path, ``file://`` URL, ``s3://`` URI or glob, or a list of them.
    storage_options
        S3 settings, as in :func:`scan_avro`.
    max_schema_depth
        Refuse a schema nested deeper than this, as in :func:`scan_avro`.

    Returns
    -------
    Schema
    """
    _options.reject_unknown("read_avro_schema", unknown)
    sources = _options.normalize_sources(source)
    scan = NativeScan(
        _options.build(
            sources[:1],
            storage_options=storage_options,
            read_chunk_size=_HEADER_CHUNK_SIZE,
            max_schema_depth=max_schema_depth,
        )
    )
    try:
        return scan.polars_schema
    finally:
        scan.close()


def open(
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
) -> AvroReader:
    """Open one Avro file for reading in batches.

    Returns an :class:`AvroReader`: iterate it for DataFrames, and use it in a
    ``with`` block so its resources are released at the end.

    Parameters
    ----------
    path
        A local path, ``file://`` URL or ``s3://bucket/key`` URI.
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
        Skip bad blocks instead of raising; the reader's ``errors`` lists them.
    projected_columns
        Read only these columns. An empty list reads none: batches of the
        file's rows and no columns, counted from the block headers.
    storage_options
        S3 settings, as in :func:`scan_avro`.
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
    row_index_name
        Add a row index column of this name first.
    row_index_offset
        The first value of the row index; at most 2**63 - 1. With Polars' UInt32
        index, an index past 2**32 - 1 is a ``ConfigurationError``, never a
        wrap-around.
    include_file_paths
        Add a column of this name holding the file's path.
    progress
        Show a progress bar of the bytes and rows read.

    Returns
    -------
    AvroReader

    Examples
    --------
    >>> with jetliner.open("data.avro", batch_size=10_000) as reader:  # doctest: +SKIP
    ...     for batch in reader:
    ...         process(batch)
    """
    return AvroReader(
        path,
        batch_size=batch_size,
        buffer_blocks=buffer_blocks,
        buffer_bytes=buffer_bytes,
        ignore_errors=ignore_errors,
        projected_columns=projected_columns,
        storage_options=storage_options,
        read_chunk_size=read_chunk_size,
        max_block_size=max_block_size,
        max_schema_depth=max_schema_depth,
        n_rows=n_rows,
        row_index_name=row_index_name,
        row_index_offset=row_index_offset,
        include_file_paths=include_file_paths,
        progress=progress,
        **unknown,
    )

"""The ``jetliner`` command line: look into Avro files and convert them.

::

    jetliner schema FILE             the Avro schema and the Polars schema
    jetliner head FILE [-n N]        the first rows
    jetliner count FILE              the number of records, from the block headers
    jetliner convert FILE OUT        to Parquet (or CSV, NDJSON, Arrow IPC), streaming;
                                     or from any of them (or Avro) to Avro

``FILE`` is anything the Python API reads: a path, a glob, a ``file://`` URL or an
``s3://`` URI. S3 credentials come from the environment as for the API, or from
``-s KEY=VALUE`` storage options. Exit codes: 0 success, 1 the read failed,
2 bad arguments, 130 interrupted.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import secrets
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, Literal, NoReturn, TextIO, cast

import polars as pl
from polars.io.plugins import register_io_source

from . import __version__, _native, _options
from ._api import _HEADER_CHUNK_SIZE, scan_avro
from ._options import (
    DEFAULT_BATCH_SIZE,
    DEFAULT_BUFFER_BLOCKS,
    DEFAULT_BUFFER_BYTES,
    DEFAULT_MAX_BLOCK_SIZE,
    DEFAULT_MAX_SCHEMA_DEPTH,
    MAX_SCHEMA_DEPTH_LIMIT,
)
from ._readers import MultiAvroReader
from ._scan import NativeScan
from .exceptions import ConfigurationError, JetlinerError

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130  # 128 + SIGINT, as shells report it

_SIZE = re.compile(r"^\s*(\d+)\s*([kmgt]?)(i?b)?\s*$", re.IGNORECASE)
_UNITS = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40}

# Output formats of `convert`, by file extension.
_CONVERT_FORMATS = {
    ".parquet": "parquet",
    ".pq": "parquet",
    ".csv": "csv",
    ".ndjson": "ndjson",
    ".jsonl": "ndjson",
    ".arrow": "ipc",
    ".ipc": "ipc",
    ".feather": "ipc",
    ".avro": "avro",
}

# Avro's codecs, as write_avro names them (zstd is zstandard's short name).
_AVRO_CODECS = ("null", "deflate", "snappy", "zstandard", "zstd", "bzip2", "xz")


# The --compression choices, as Polars names them.
_ParquetCompression = Literal["lz4", "uncompressed", "snappy", "gzip", "brotli", "zstd"]


class _UsageError(Exception):
    """A bad argument found after parsing: reported like argparse's own (exit 2)."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        # argparse's behaviour (usage, message, exit 2), with a hint for `-h`.
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\nTry '{self.prog} -h' for help.\n")


def _size(text: str) -> int:
    """A byte count: ``1048576``, ``64MiB``, ``4M``, ``512k``."""
    m = _SIZE.match(text)
    if not m:
        raise argparse.ArgumentTypeError(f"not a size in bytes: {text!r} (examples: 65536, 64MiB, 4M)")
    return int(m.group(1)) * _UNITS[m.group(2).lower()]


def _size_or_none(text: str) -> int | None:
    return None if text.lower() == "none" else _size(text)


def _integer(text: str, minimum: int, rule: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
    if value < minimum:
        raise argparse.ArgumentTypeError(f"{rule}, got {value}")
    return value


def _positive(text: str) -> int:
    return _integer(text, 1, "must be at least 1")


def _non_negative(text: str) -> int:
    return _integer(text, 0, "must be non-negative")


def _storage_option(text: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    if not sep or not key:
        # The argument is not shown: it may be a credential typed without its key.
        raise argparse.ArgumentTypeError("expected KEY=VALUE (the argument is not shown: it may be a secret)")
    if key not in _options.STORAGE_KEYS:
        raise argparse.ArgumentTypeError(
            f"unknown storage option {key!r}; expected one of {', '.join(_options.STORAGE_KEYS)}"
        )
    return key, value


def _parser() -> _Parser:
    source = _Parser(add_help=False)
    group = source.add_argument_group("source options")
    group.add_argument(
        "-s",
        "--storage-option",
        metavar="KEY=VALUE",
        type=_storage_option,
        action="append",
        default=[],
        help="an S3 setting (endpoint, region, aws_access_key_id, aws_secret_access_key, "
        "aws_session_token, max_retries); repeat for several. Unset ones come from the environment",
    )
    group.add_argument("--no-glob", action="store_true", help="take FILE literally, not as a glob")
    group.add_argument(
        "--read-chunk-size", type=_size, metavar="BYTES", help="I/O request size (default: automatic)"
    )
    group.add_argument(
        "--max-block-size",
        type=_size_or_none,
        default=DEFAULT_MAX_BLOCK_SIZE,
        metavar="BYTES",
        help="refuse larger blocks, or 'none' (default: 512MiB)",
    )
    group.add_argument(
        "--max-schema-depth",
        type=int,
        default=DEFAULT_MAX_SCHEMA_DEPTH,
        metavar="N",
        help=f"refuse a schema nested deeper (default {DEFAULT_MAX_SCHEMA_DEPTH}, "
        f"at most {MAX_SCHEMA_DEPTH_LIMIT})",
    )

    read = _Parser(add_help=False)
    group = read.add_argument_group("read options")
    group.add_argument(
        "-c",
        "--columns",
        metavar="NAMES",
        help="read only these columns, comma-separated (others are not decoded)",
    )
    group.add_argument("--ignore-errors", action="store_true", help="skip bad blocks instead of failing")
    group.add_argument("--row-index-name", metavar="NAME", help="add a row index column first")
    group.add_argument("--row-index-offset", type=_non_negative, default=0, metavar="N")
    group.add_argument("--include-file-paths", metavar="NAME", help="add a column of each row's file")
    group.add_argument("--batch-size", type=_positive, default=DEFAULT_BATCH_SIZE, metavar="ROWS")
    group.add_argument("--buffer-blocks", type=_positive, default=DEFAULT_BUFFER_BLOCKS, metavar="N")
    group.add_argument("--buffer-bytes", type=_size, default=DEFAULT_BUFFER_BYTES, metavar="BYTES")

    parser = _Parser(
        prog="jetliner",
        description="Read Avro files (local or S3) with jetliner's engine.",
        epilog="FILE is a path, glob, file:// URL or s3:// URI. "
        "Run 'jetliner COMMAND -h' for a command's options.",
    )
    parser.add_argument("--version", action="version", version=f"jetliner {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True, parser_class=_Parser)

    p = sub.add_parser(
        "schema",
        parents=[source],
        help="print the Avro schema and the Polars schema",
        description="Print the Avro writer schema and the Polars schema a read gives. "
        "Only the header of the first file is read.",
    )
    p.add_argument("file", metavar="FILE")
    only = p.add_mutually_exclusive_group()
    only.add_argument("--avro", action="store_true", help="print only the Avro schema (JSON)")
    only.add_argument("--polars", action="store_true", help="print only the Polars schema")

    p = sub.add_parser(
        "head",
        parents=[source, read],
        help="print the first rows",
        description="Print the first rows; reading stops as soon as they are there.",
    )
    p.add_argument("file", metavar="FILE")
    p.add_argument("-n", "--rows", type=_non_negative, default=10, metavar="N", help="rows (default 10)")
    p.add_argument(
        "--format",
        choices=["table", "csv", "ndjson"],
        default="table",
        help="table (default), or csv/ndjson for other programs",
    )

    p = sub.add_parser(
        "count",
        parents=[source],
        help="count records without decoding them",
        description="Count the records by adding up the counts the block headers declare. "
        "Blocks are framed (their sync markers checked) but not decompressed or decoded.",
    )
    p.add_argument("file", metavar="FILE")
    p.add_argument("-v", "--verbose", action="store_true", help="a line per file: blocks, records and bytes")

    p = sub.add_parser(
        "convert",
        parents=[source, read],
        help="convert Avro to Parquet (or CSV, NDJSON, Arrow IPC), or any of them to Avro",
        description="Convert Avro to Parquet, or Parquet, Arrow IPC, CSV, NDJSON or Avro to "
        "Avro, streaming: batches are written as they are read, so memory stays bounded "
        "whatever the input's size. The output format follows OUT's extension (.parquet, "
        ".csv, .ndjson/.jsonl, .arrow/.ipc/.feather, .avro) unless --format says; the input's "
        "follows FILE's unless --from says (Avro by default). OUT appears only once the "
        "conversion has succeeded.",
    )
    p.add_argument("file", metavar="FILE")
    p.add_argument("out", metavar="OUT", help="a path, or an s3:// URI when writing Avro")
    p.add_argument("--format", choices=["parquet", "csv", "ndjson", "ipc", "avro"], help="the output format")
    p.add_argument(
        "--from",
        dest="source_format",
        choices=["avro", "parquet", "csv", "ndjson", "ipc"],
        help="the input format (default: from FILE's extension, else avro); "
        "only Avro can be converted to the other formats",
    )
    p.add_argument(
        "--codec", default="snappy", choices=_AVRO_CODECS, help="Avro output: the codec (default snappy)"
    )
    p.add_argument(
        "--compression-level",
        type=int,
        metavar="N",
        help="Avro output: the codec's level (deflate 0-9, zstandard 1-22, bzip2 1-9)",
    )
    p.add_argument(
        "--compression",
        default="zstd",
        choices=["zstd", "snappy", "gzip", "lz4", "brotli", "none"],
        help="Parquet compression (default zstd)",
    )
    p.add_argument("-n", "--n-rows", type=_non_negative, metavar="N", help="convert only the first N rows")
    p.add_argument("--progress", action="store_true", help="show a progress bar on stderr")
    return parser


def _source_options(args: argparse.Namespace) -> dict[str, Any]:
    return {
        "glob": not args.no_glob,
        "storage_options": dict(args.storage_option) or None,
        "read_chunk_size": args.read_chunk_size,
        "max_block_size": args.max_block_size,
        "max_schema_depth": args.max_schema_depth,
    }


def _read_options(args: argparse.Namespace) -> dict[str, Any]:
    columns = None
    if args.columns is not None:
        columns = [c.strip() for c in args.columns.split(",") if c.strip()]
        if not columns:
            raise _UsageError("--columns needs at least one column name")
    return {
        **_source_options(args),
        "projected_columns": columns,
        "ignore_errors": args.ignore_errors,
        "row_index_name": args.row_index_name,
        "row_index_offset": args.row_index_offset,
        "include_file_paths": args.include_file_paths,
        "batch_size": args.batch_size,
        "buffer_blocks": args.buffer_blocks,
        "buffer_bytes": args.buffer_bytes,
    }


# --- the commands -------------------------------------------------------------


def _schema(args: argparse.Namespace, out: TextIO) -> int:
    opts = _source_options(args)
    if opts["read_chunk_size"] is None:
        opts["read_chunk_size"] = _HEADER_CHUNK_SIZE  # only the header is needed
    scan = NativeScan(_options.build([args.file], **opts))
    try:
        avro = json.loads(scan.avro_schema)
        polars_schema = scan.polars_schema
        first = scan.files[0]
        n_files = len(scan.files)
    finally:
        scan.close()
    if args.avro:
        out.write(json.dumps(avro, indent=2) + "\n")
        return EXIT_OK
    if args.polars:
        _write_polars_schema(polars_schema, out)
        return EXIT_OK
    more = f" (the first of {n_files} files)" if n_files > 1 else ""
    out.write(f"Avro schema of {first}{more}:\n{json.dumps(avro, indent=2)}\n\nPolars schema:\n")
    _write_polars_schema(polars_schema, out)
    return EXIT_OK


def _write_polars_schema(schema: pl.Schema, out: TextIO) -> None:
    width = max((len(name) for name in schema.names()), default=0)
    for name, dtype in schema.items():
        out.write(f"  {name:<{width}}  {dtype}\n")


def _head(args: argparse.Namespace, out: TextIO) -> int:
    opts = _read_options(args)
    frames = []
    with MultiAvroReader(args.file, n_rows=args.rows, **opts) as reader:
        frames = list(reader)
        schema = reader.polars_schema
    df = pl.concat(frames, how="vertical") if frames else pl.DataFrame(schema=schema)
    if args.format == "csv":
        out.write(df.write_csv())
    elif args.format == "ndjson":
        out.write(df.write_ndjson())
    else:
        with pl.Config(tbl_rows=max(args.rows, 1), tbl_cols=-1, fmt_str_lengths=60, tbl_width_chars=200):
            out.write(f"{df}\n")
    return EXIT_OK


def _count(args: argparse.Namespace, out: TextIO) -> int:
    options = _options.build([args.file], **_source_options(args))
    reply = _in_thread(lambda: _native.call("jl_count", json.dumps(options).encode("utf-8")))
    files: list[dict[str, Any]] = reply["files"]
    records = sum(int(f["records"]) for f in files)
    if not args.verbose:
        out.write(f"{records}\n")
        return EXIT_OK
    width = max(len(f["path"]) for f in files)
    out.write(f"{'file':<{width}}  {'blocks':>10}  {'records':>14}  {'bytes':>14}\n")
    for f in files:
        out.write(f"{f['path']:<{width}}  {f['blocks']:>10,}  {f['records']:>14,}  {f['bytes']:>14,}\n")
    if len(files) > 1:
        blocks = sum(int(f["blocks"]) for f in files)
        size = sum(int(f["bytes"]) for f in files)
        out.write(f"{'total':<{width}}  {blocks:>10,}  {records:>14,}  {size:>14,}\n")
    return EXIT_OK


def _in_thread(fn: Any) -> Any:
    """Run a long engine call on a helper thread, so that Ctrl-C reaches the main
    thread at once instead of when the call returns. The helper is a daemon: an
    interrupted CLI exits without waiting for it."""
    result: list[Any] = []
    error: list[BaseException] = []

    def run() -> None:
        try:
            result.append(fn())
        except BaseException as exc:
            error.append(exc)

    t = threading.Thread(target=run, name="jetliner-count", daemon=True)
    t.start()
    while t.is_alive():
        t.join(0.05)
    if error:
        raise error[0]
    return result[0]


def _convert(args: argparse.Namespace, out: TextIO) -> int:
    target = Path(args.out)
    if not args.out.startswith("s3://") and target.is_dir():
        raise _UsageError(f"OUT is a directory: {args.out}")
    fmt = args.format or _CONVERT_FORMATS.get(target.suffix.lower())
    if fmt is None:
        raise _UsageError(
            f"cannot tell the output format from {args.out!r}: use an extension "
            f"({', '.join(sorted(_CONVERT_FORMATS))}) or --format"
        )
    source_fmt = args.source_format or _input_format(args.file)
    if fmt == "avro":
        return _convert_to_avro(args, source_fmt)
    if source_fmt != "avro":
        raise _UsageError(
            f"only Avro converts to {fmt}: {source_fmt} converts to Avro (OUT.avro or --format avro)"
        )
    if args.out.startswith("s3://"):
        raise _UsageError(f"{fmt} output goes to a local path; only Avro is written to S3")
    opts = _read_options(args)
    with (
        MultiAvroReader(args.file, n_rows=args.n_rows, progress=args.progress, **opts) as reader,
        _atomic_output(target) as tmp,
    ):
        rows = _write(reader, tmp, fmt, args.compression)
    if args.progress:
        sys.stderr.write(f"wrote {rows:,} rows to {target}\n")
    return EXIT_OK


def _input_format(name: str) -> str:
    """The input format that FILE's extension names; Avro when it names none."""
    fmt = _CONVERT_FORMATS.get(Path(name.rstrip("/")).suffix.lower(), "avro")
    return fmt


def _convert_to_avro(args: argparse.Namespace, source_fmt: str) -> int:
    """Any input Polars scans (or Avro, through jetliner's scan) streamed into an
    Avro file by sink_avro: Polars' streaming engine hands over batches, so memory
    stays at a few of them whatever the input's size."""
    from ._writer import sink_avro

    opts = _read_options(args)
    columns = opts.pop("projected_columns")
    if source_fmt == "avro":
        lf = scan_avro(args.file, n_rows=args.n_rows, **opts)
    else:
        if args.storage_option:
            raise _UsageError(
                f"-s/--storage-option applies to Avro: {source_fmt} input is read by Polars, "
                "which takes S3 settings from the environment"
            )
        scans: dict[str, Callable[[str], pl.LazyFrame]] = {
            "parquet": pl.scan_parquet,
            "ipc": pl.scan_ipc,
            "csv": pl.scan_csv,
            "ndjson": pl.scan_ndjson,
        }
        lf = scans[source_fmt](args.file)
        if args.row_index_name:
            lf = lf.with_row_index(args.row_index_name, offset=args.row_index_offset)
        if args.n_rows is not None:
            lf = lf.head(args.n_rows)
    if columns:
        lf = lf.select(columns)
    sink_avro(
        lf,
        args.out,
        codec=args.codec,
        compression_level=args.compression_level,
        storage_options=dict(args.storage_option) or None,
    )
    if args.progress:
        sys.stderr.write(f"wrote {args.out}\n")
    return EXIT_OK


@contextlib.contextmanager
def _atomic_output(target: Path) -> Iterator[Path]:
    """A temporary file beside target that replaces it only on success, so a
    failed or interrupted conversion leaves no half-written file behind."""
    # Not mkstemp: its 0600 mode would carry over to OUT. The writers create the
    # file with the usual umask-based mode.
    tmp = target.with_name(f".{target.name}.{os.getpid()}-{secrets.token_hex(4)}.part")
    try:
        yield tmp
        os.replace(tmp, target)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


def _write(reader: MultiAvroReader, path: Path, fmt: str, compression: str) -> int:
    """Write the reader's batches to path as they come; return the rows written."""
    rows = 0
    if fmt in ("parquet", "ipc"):
        return _sink(reader, path, fmt, compression)
    with path.open("wb") as fh:
        first = True
        for df in reader:
            if fmt == "csv":
                df.write_csv(fh, include_header=first)
            else:
                df.write_ndjson(fh)
            first = False
            rows += df.height
        if first and fmt == "csv":
            pl.DataFrame(schema=reader.polars_schema).write_csv(fh)
    return rows


def _sink(reader: MultiAvroReader, path: Path, fmt: str, compression: str) -> int:
    """Stream the reader's batches through Polars' own Parquet or IPC writer (a
    Parquet row group per batch), so that memory holds a few batches at a time."""
    rows = 0

    def batches(
        with_columns: list[str] | None, predicate: Any, n_rows: int | None, batch_size: int | None
    ) -> Iterator[pl.DataFrame]:
        nonlocal rows
        for df in reader:
            rows += df.height
            yield df

    lf = register_io_source(batches, schema=reader.polars_schema)
    if fmt == "parquet":
        codec = cast(_ParquetCompression, "uncompressed" if compression == "none" else compression)
        lf.sink_parquet(path, compression=codec, row_group_size=reader.batch_size)
    else:
        lf.sink_ipc(path, compression="uncompressed")
    return rows


_COMMANDS = {"schema": _schema, "head": _head, "count": _count, "convert": _convert}


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line with ``argv`` (default: ``sys.argv[1:]``); return the exit code."""
    parser = _parser()
    args = parser.parse_args(argv)
    command = _COMMANDS[args.command]
    prog = f"jetliner {args.command}"
    try:
        return command(args, sys.stdout)
    except (_UsageError, ConfigurationError) as exc:
        # Bad values that argparse cannot see (a column list, an option the
        # engine refuses) are usage errors too.
        sys.stderr.write(f"{prog}: error: {exc}\n")
        return EXIT_USAGE
    except JetlinerError as exc:
        # The class and the message: str(exc) would name the class again, in words.
        sys.stderr.write(f"{prog}: error: {type(exc).__name__}: {exc.message}\n")
        return EXIT_FAILED
    except pl.exceptions.PolarsError as exc:
        sys.stderr.write(f"{prog}: error: {type(exc).__name__}: {exc}\n")
        return EXIT_FAILED
    except OSError as exc:
        if isinstance(exc, BrokenPipeError):
            # The reader of stdout went away (`jetliner head f | head -1`): not an
            # error of ours. Point stdout at devnull so the final flush is quiet.
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            return EXIT_FAILED
        sys.stderr.write(f"{prog}: error: {exc}\n")
        return EXIT_FAILED
    except KeyboardInterrupt:
        sys.stderr.write(f"\n{prog}: interrupted\n")
        return EXIT_INTERRUPTED


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())

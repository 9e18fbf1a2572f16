"""The readers under test: who they are, which environment runs them, and how they read.

The registry (`READERS`) is plain data for the orchestrator. `load()` runs inside a worker
process, in the reader's own environment, and is the only place that imports a reader.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import polars as pl

Columns = Sequence[str] | None
ReadFn = Callable[[str, Columns], "pl.DataFrame"]

# Environments: "this" is this project's interpreter (JETLINER_PYTHON); the others are venvs
# that bench/envs.py creates under bench/.venvs/.
THIS, RUST, OTHERS = "this", "rust", "others"


@dataclass(frozen=True)
class Reader:
    """One way of reading an Avro file into a Polars DataFrame."""

    id: str
    group: str
    env: str
    module: str
    method: str
    label: str


READERS: dict[str, Reader] = {
    r.id: r
    for r in (
        Reader("this.scan", "this", THIS, "jetliner", "scan", "jetliner (this) scan_avro"),
        Reader("this.read", "this", THIS, "jetliner", "read", "jetliner (this) read_avro"),
        Reader("this.iter", "this", THIS, "jetliner", "iter", "jetliner (this) open"),
        Reader("rust.scan", "rust", RUST, "jetliner", "scan", "jetliner-rs scan_avro"),
        Reader("rust.read", "rust", RUST, "jetliner", "read", "jetliner-rs read_avro"),
        Reader("rust.iter", "rust", RUST, "jetliner", "iter", "jetliner-rs AvroReader"),
        Reader("polars-avro.scan", "polars-avro", OTHERS, "polars_avro", "scan", "polars-avro scan_avro"),
        Reader("polars-avro.read", "polars-avro", OTHERS, "polars_avro", "read", "polars-avro read_avro"),
        Reader("polars.read", "polars", OTHERS, "polars", "builtin", "polars pl.read_avro"),
        Reader("fastavro", "fastavro", OTHERS, "fastavro", "records", "fastavro + pl.from_dicts"),
    )
}

# Rows per chunk when turning fastavro's dicts into DataFrames: bounds the memory held in
# Python objects (1M wide records as dicts would take ~8 GB).
FASTAVRO_CHUNK_ROWS = 100_000
FASTAVRO_INFER_ROWS = 1_000


def select_readers(patterns: Sequence[str] | None) -> list[Reader]:
    """Readers whose id equals a pattern or whose group is one (`rust` = all rust.*)."""
    if not patterns:
        return list(READERS.values())
    chosen = [r for r in READERS.values() if r.id in patterns or r.group in patterns]
    known = set(READERS) | {r.group for r in READERS.values()}
    unknown = sorted(set(patterns) - known)
    if unknown:
        raise ValueError(f"unknown reader(s) {unknown}; known: {sorted(known)}")
    return chosen


# --- the reads themselves (worker side) --------------------------------------------------


def jetliner_opener(module: Any) -> tuple[Callable[..., Any], str]:
    """This project offers `open()`; the Rust wheel (0.2.x) only the `AvroReader` class."""
    opener = getattr(module, "open", None)
    if callable(opener):
        return opener, "open"
    return module.AvroReader, "AvroReader"


def _scan_and_read_fns(module: Any) -> dict[str, tuple[ReadFn, str]]:
    """`scan_avro` and `read_avro`, which both jetliner wheels and polars-avro offer."""

    def scan(path: str, columns: Columns) -> pl.DataFrame:
        frame = module.scan_avro(path)
        return (frame.select(columns) if columns else frame).collect()

    def read(path: str, columns: Columns) -> pl.DataFrame:
        return module.read_avro(path, columns=list(columns) if columns else None)

    name = module.__name__
    return {
        "scan": (scan, f"{name}.scan_avro(path)[.select(cols)].collect()"),
        "read": (read, f"{name}.read_avro(path, columns=cols)"),
    }


def _jetliner_fns(module: Any, pl: Any) -> dict[str, tuple[ReadFn, str]]:
    opener, opener_name = jetliner_opener(module)

    def iterate(path: str, columns: Columns) -> pl.DataFrame:
        options = {"projected_columns": list(columns)} if columns else {}
        with opener(path, **options) as reader:
            return pl.concat(list(reader), rechunk=False)

    call = f"with {module.__name__}.{opener_name}(path[, projected_columns=cols]): batches -> pl.concat"
    return {**_scan_and_read_fns(module), "iter": (iterate, call)}


def _polars_fns(pl: Any) -> dict[str, tuple[ReadFn, str]]:
    if not hasattr(pl, "read_avro"):
        return {}

    def read(path: str, columns: Columns) -> pl.DataFrame:
        return pl.read_avro(path, columns=list(columns) if columns else None)

    return {"builtin": (read, "pl.read_avro(path, columns=cols)")}


def _projected_schema(schema: dict[str, Any], columns: Columns) -> dict[str, Any]:
    if not columns:
        return schema
    fields = {field["name"]: field for field in schema["fields"]}
    return {**schema, "fields": [fields[name] for name in columns]}


def _fastavro_fns(module: Any, pl: Any) -> dict[str, tuple[ReadFn, str]]:
    def read(path: str, columns: Columns) -> pl.DataFrame:
        with Path(path).open("rb") as fo:
            reader = module.reader(fo)
            if columns:  # schema resolution: fields missing from the reader schema are skipped
                fo.seek(0)
                reader = module.reader(fo, reader_schema=_projected_schema(reader.writer_schema, columns))
            return _records_to_frame(reader, pl)

    return {
        "records": (read, "fastavro.reader(fo[, reader_schema=projected]) -> pl.from_dicts per 100k rows")
    }


def _records_to_frame(records: Any, pl: Any) -> pl.DataFrame:
    """Chunks of dicts -> DataFrames; the schema inferred from the first rows is used for all.

    Inferring over whole chunks costs several times more than building them.
    """
    frames: list[pl.DataFrame] = []
    chunk: list[dict[str, Any]] = []
    for record in records:
        chunk.append(record)
        if len(chunk) == FASTAVRO_CHUNK_ROWS:
            frames.append(_chunk_frame(chunk, frames, pl))
            chunk = []
    if chunk or not frames:
        frames.append(_chunk_frame(chunk, frames, pl))
    return pl.concat(frames, rechunk=False)


def _chunk_frame(chunk: list[dict[str, Any]], frames: list[pl.DataFrame], pl: Any) -> pl.DataFrame:
    if frames:
        return pl.from_dicts(chunk, schema=frames[0].schema)
    return pl.from_dicts(chunk, infer_schema_length=FASTAVRO_INFER_ROWS)


def load(reader: Reader) -> tuple[ReadFn, str, dict[str, str]]:
    """Import the reader; return its read function, a description of the API, versions.

    Raises ImportError/AttributeError/LookupError when the reader or method is unavailable.
    """
    module = importlib.import_module(reader.module)
    pl = importlib.import_module("polars")
    if reader.group in ("this", "rust"):
        fns = _jetliner_fns(module, pl)
    elif reader.group == "polars-avro":
        fns = _scan_and_read_fns(module)
    elif reader.group == "polars":
        fns = _polars_fns(pl)
    else:
        fns = _fastavro_fns(module, pl)
    if reader.method not in fns:
        raise LookupError(f"{reader.module} {_version(module)} has no {reader.method!r} API")
    fn, api = fns[reader.method]
    versions = {
        "library": _version(module),
        "polars": str(pl.__version__),
        "module_file": str(getattr(module, "__file__", "")),
    }
    return fn, api, versions


def _version(module: Any) -> str:
    version = getattr(module, "__version__", None)
    if version:
        return str(version)
    try:
        from importlib.metadata import version as dist_version

        return dist_version(module.__name__.replace("_", "-"))
    except Exception:  # noqa: BLE001 - a missing version is not worth failing over
        return "unknown"

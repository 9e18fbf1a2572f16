"""Generate the benchmark's Avro files with fastavro (run in the "others" venv).

Data is deterministic: every chunk of rows has its own seed, so the files are identical
whatever the number of processes. Chunks are written in parallel as separate container
files that share one sync marker and header, and then spliced into one file: the header
once, followed by every part's blocks.

Usage: python datagen.py --data-dir DIR --rows N [--memory-rows M] DATASET [DATASET ...]
Prints one JSON object: {dataset: {"path", "bytes", "rows", "generated"}}.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import itertools
import json
import os
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import fastavro
import numpy as np

from scenarios import (
    DATASETS,
    GENERATOR_VERSION,
    SCHEMAS,
    SEED,
    SYNC_INTERVAL,
    WIDE_EXTRA_COLUMNS,
    Dataset,
    wide_field,
)

CHUNK_ROWS = 250_000
TS_BASE_MICROS = 1_704_067_200_000_000  # 2024-01-01T00:00:00Z
NULL_FRACTION = 0.15
METRIC_KEYS = ("cpu", "mem", "disk", "net", "gpu", "io", "latency", "errors")
EVENT_KINDS = ("click", "view", "purchase", "scroll", "login", "logout")

Record = dict[str, Any]


@dataclass(frozen=True)
class FileSpec:
    """Everything the bytes of a generated file depend on (stored beside it)."""

    generator_version: int
    schema: str
    codec: str
    rows: int
    sync_interval: int
    seed: int


def _vocabulary(rng: np.random.Generator, size: int, min_len: int, max_len: int) -> list[str]:
    letters = np.array(list("abcdefghijklmnopqrstuvwxyz"))
    lengths = rng.integers(min_len, max_len + 1, size=size)
    return ["".join(rng.choice(letters, size=n)) for n in lengths]


_VOCAB = _vocabulary(np.random.default_rng(SEED), 5_000, 4, 16)
_CITIES = _vocabulary(np.random.default_rng(SEED + 1), 300, 5, 12)


def _strings(rng: np.random.Generator, count: int, vocab: list[str]) -> list[str]:
    return [vocab[i] for i in rng.integers(0, len(vocab), size=count)]


def _with_nulls(rng: np.random.Generator, values: list[Any]) -> list[Any]:
    nulls = rng.random(len(values)) < NULL_FRACTION
    return [None if is_null else v for v, is_null in zip(values, nulls.tolist(), strict=True)]


def _timestamps(rng: np.random.Generator, ids: np.ndarray) -> list[int]:
    jitter = rng.integers(0, 1_000_000, size=len(ids))
    return (TS_BASE_MICROS + ids * 1_000_000 + jitter).tolist()


def _rows(columns: dict[str, list[Any]]) -> list[Record]:
    names = list(columns)
    return [dict(zip(names, row, strict=True)) for row in zip(*columns.values(), strict=True)]


def simple_rows(rng: np.random.Generator, start: int, count: int) -> list[Record]:
    ids = np.arange(start, start + count, dtype=np.int64)
    return _rows(
        {
            "id": ids.tolist(),
            "name": _strings(rng, count, _VOCAB),
            "score": rng.normal(100.0, 15.0, size=count).tolist(),
            "active": (rng.random(count) < 0.5).tolist(),
            "ts": _timestamps(rng, ids),
        }
    )


def _wide_column(rng: np.random.Generator, kind: str, count: int) -> list[Any]:
    if kind == "long":
        return rng.integers(-(2**40), 2**40, size=count).tolist()
    if kind == "double":
        return (rng.random(count) * 1_000.0).tolist()
    if kind == "string":
        return _strings(rng, count, _VOCAB)
    if kind == "int":
        return rng.integers(-(2**31), 2**31 - 1, size=count).tolist()
    if kind == "boolean":
        return (rng.random(count) < 0.5).tolist()
    raise ValueError(f"unknown wide column kind {kind!r}")


def wide_rows(rng: np.random.Generator, start: int, count: int) -> list[Record]:
    columns: dict[str, list[Any]] = {"id": list(range(start, start + count))}
    for index in range(1, WIDE_EXTRA_COLUMNS + 1):
        name, kind, nullable = wide_field(index)
        values = _wide_column(rng, kind, count)
        columns[name] = _with_nulls(rng, values) if nullable else values
    return _rows(columns)


def _split(values: list[Any], counts: list[int]) -> list[list[Any]]:
    """Cut `values` into consecutive lists of the given lengths."""
    offsets = np.concatenate(([0], np.cumsum(counts))).tolist()
    return [values[a:b] for a, b in itertools.pairwise(offsets)]


def _users(rng: np.random.Generator, count: int) -> list[Record]:
    names = _strings(rng, count, _VOCAB)
    ages = rng.integers(18, 90, size=count).tolist()
    cities = _strings(rng, count, _CITIES)
    zips = rng.integers(10_000, 99_999, size=count).tolist()
    return [
        {"name": n, "age": a, "address": {"city": c, "zip": z}}
        for n, a, c, z in zip(names, ages, cities, zips, strict=True)
    ]


def _metrics(rng: np.random.Generator, count: int) -> list[dict[str, float]]:
    sizes = rng.integers(0, 5, size=count).tolist()
    keys = rng.permuted(np.tile(np.arange(len(METRIC_KEYS)), (count, 1)), axis=1).tolist()
    values = rng.random((count, 4)).tolist()
    return [
        {METRIC_KEYS[k]: v for k, v in zip(row_keys[:n], row_values[:n], strict=True)}
        for n, row_keys, row_values in zip(sizes, keys, values, strict=True)
    ]


def _events(rng: np.random.Generator, ids: np.ndarray) -> list[list[Record]]:
    sizes = rng.integers(0, 4, size=len(ids)).tolist()
    total = sum(sizes)
    kinds = [EVENT_KINDS[k] for k in rng.integers(0, len(EVENT_KINDS), size=total)]
    values = rng.normal(size=total).tolist()
    ats = (TS_BASE_MICROS + np.repeat(ids, sizes) * 1_000_000).tolist()
    flat = [{"kind": k, "value": v, "at": t} for k, v, t in zip(kinds, values, ats, strict=True)]
    return _split(flat, sizes)


def complex_rows(rng: np.random.Generator, start: int, count: int) -> list[Record]:
    ids = np.arange(start, start + count, dtype=np.int64)
    tag_sizes = rng.integers(0, 6, size=count).tolist()
    tags = rng.integers(0, 10_000, size=sum(tag_sizes)).tolist()
    return _rows(
        {
            "id": ids.tolist(),
            "user": _users(rng, count),
            "tags": _split(tags, tag_sizes),
            "metrics": _metrics(rng, count),
            "events": _events(rng, ids),
            "note": _with_nulls(rng, _strings(rng, count, _VOCAB)),
            "parent_id": _with_nulls(rng, (ids // 2).tolist()),
        }
    )


ROW_MAKERS: dict[str, Callable[[np.random.Generator, int, int], list[Record]]] = {
    "simple": simple_rows,
    "wide": wide_rows,
    "complex": complex_rows,
}


def _sync_marker(spec: FileSpec) -> bytes:
    return hashlib.md5(json.dumps(asdict(spec), sort_keys=True).encode()).digest()


def _write(fo: Any, spec: FileSpec, records: list[Record]) -> None:
    fastavro.writer(
        fo,
        fastavro.parse_schema(SCHEMAS[spec.schema]()),
        records,
        codec=spec.codec,
        sync_interval=spec.sync_interval,
        sync_marker=_sync_marker(spec),
    )


def _header(spec: FileSpec) -> bytes:
    buffer = io.BytesIO()
    _write(buffer, spec, [])
    return buffer.getvalue()


def _write_part(spec: FileSpec, part: Path, chunk: int) -> Path:
    start = chunk * CHUNK_ROWS
    count = min(CHUNK_ROWS, spec.rows - start)
    rng = np.random.default_rng([spec.seed, chunk])
    records = ROW_MAKERS[spec.schema](rng, start, count)
    with part.open("wb") as fo:
        _write(fo, spec, records)
    return part


def _splice(target: Path, header: bytes, parts: list[Path]) -> None:
    with target.open("wb") as out:
        out.write(header)
        for part in parts:
            with part.open("rb") as fo:
                if fo.read(len(header)) != header:
                    raise RuntimeError(f"{part}: header differs from the first part's")
                while block := fo.read(16 << 20):
                    out.write(block)
            part.unlink()


def _count_rows(path: Path) -> int:
    with path.open("rb") as fo:
        return sum(block.num_records for block in fastavro.block_reader(fo))


def generate(spec: FileSpec, target: Path, workers: int) -> None:
    chunks = range((spec.rows + CHUNK_ROWS - 1) // CHUNK_ROWS)
    parts = [target.with_name(f"{target.name}.part{chunk:05d}") for chunk in chunks]
    tmp = target.with_name(target.name + ".tmp")
    with ProcessPoolExecutor(max_workers=workers) as pool:
        done = list(pool.map(_write_part, [spec] * len(parts), parts, chunks))
    _splice(tmp, _header(spec), done)
    rows = _count_rows(tmp)
    if rows != spec.rows:
        raise RuntimeError(f"{tmp}: wrote {rows} rows, expected {spec.rows}")
    tmp.replace(target)


def _meta_path(target: Path) -> Path:
    return target.with_name(target.name + ".meta.json")


def is_fresh(spec: FileSpec, target: Path) -> bool:
    meta = _meta_path(target)
    if not (target.exists() and meta.exists()):
        return False
    try:
        return json.loads(meta.read_text()) == asdict(spec)
    except (OSError, ValueError):
        return False


def ensure(dataset: Dataset, rows: int, data_dir: Path, workers: int) -> dict[str, Any]:
    spec = FileSpec(GENERATOR_VERSION, dataset.schema, dataset.codec, rows, SYNC_INTERVAL, SEED)
    target = data_dir / dataset.filename
    generated = not is_fresh(spec, target)
    if generated:
        started = time.perf_counter()
        print(f"[datagen] writing {target} ({rows:,} rows, {dataset.codec})", file=sys.stderr)
        _meta_path(target).unlink(missing_ok=True)
        generate(spec, target, workers)
        _meta_path(target).write_text(json.dumps(asdict(spec), indent=2) + "\n")
        took = time.perf_counter() - started
        print(f"[datagen] {target.name}: {took:.1f} s", file=sys.stderr)
    return {"path": str(target), "bytes": target.stat().st_size, "rows": rows, "generated": generated}


def _parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--rows", type=int, required=True)
    parser.add_argument("--memory-rows", type=int, default=0)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("datasets", nargs="+", choices=sorted(DATASETS))
    return parser.parse_args(argv)


def _rows_for(dataset: Dataset, args: argparse.Namespace) -> int:
    return args.memory_rows if dataset.memory else args.rows


def main(argv: list[str]) -> int:
    args = _parse_args(argv)
    args.data_dir.mkdir(parents=True, exist_ok=True)
    wanted: Iterator[Dataset] = (DATASETS[name] for name in args.datasets)
    result = {d.name: ensure(d, _rows_for(d, args), args.data_dir, args.workers) for d in wanted}
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

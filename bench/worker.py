"""Measure one reader in a fresh process; run.py starts it in the reader's environment.

Usage: python worker.py '<json spec>'. The spec's "mode" is one of
  probe:  import the reader, report its API and versions;
  time:   one warm-up read, then timed reads, each checked for shape and content;
  memory: iterate a large file in batches, report the peak RSS and the largest batch.
The result is printed on stdout as one line: RESULT_MARKER followed by JSON.

Peak RSS is per read: before each read the kernel's high-water mark is reset by writing 5
to /proc/self/clear_refs, and VmHWM is read after it. Where that is not possible the peak
is the whole process's (ru_maxrss), which the result says.
"""

from __future__ import annotations

import gc
import importlib
import json
import platform
import re
import resource
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, TypeVar

from readers import READERS, Columns, ReadFn, jetliner_opener, load

RESULT_MARKER = "@@BENCH-RESULT@@ "
Spec = dict[str, Any]
Result = dict[str, Any]


class Unavailable(Exception):
    """The reader cannot be imported, or lacks the API being measured."""


T = TypeVar("T")


def unless_unavailable(get: Callable[[], T]) -> T:
    """`get()`, with any failure (to import, above all) turned into Unavailable."""
    try:
        return get()
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as exc:  # a broken native library may raise anything
        raise Unavailable(describe(exc)) from exc


def load_reader(reader_id: str) -> tuple[ReadFn, str, dict[str, str]]:
    return unless_unavailable(lambda: load(READERS[reader_id]))


# --- memory accounting --------------------------------------------------------------------


def _status_bytes(field: str) -> int | None:
    try:
        text = Path("/proc/self/status").read_text()
    except OSError:
        return None
    match = re.search(rf"^{field}:\s+(\d+) kB", text, re.MULTILINE)
    return int(match.group(1)) * 1024 if match else None


def current_rss() -> int | None:
    return _status_bytes("VmRSS")


def reset_peak() -> bool:
    """Reset VmHWM to the current RSS; False if the kernel does not let us."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def peak_scope() -> str:
    """What a peak measures: one read ("read") or the process's life so far ("process")."""
    return "read" if reset_peak() else "process"


def peak_rss() -> int:
    hwm = _status_bytes("VmHWM")
    if hwm is not None:
        return hwm
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


# --- timed reads --------------------------------------------------------------------------


@dataclass(frozen=True)
class Run:
    seconds: float
    peak_rss: int
    rows: int
    cols: int
    id_sum: int | None


def run_once(fn: ReadFn, path: str, columns: Columns) -> Run:
    gc.collect()
    reset_peak()
    start = time.perf_counter()
    frame = fn(path, columns)
    seconds = time.perf_counter() - start
    peak = peak_rss()
    id_sum = int(frame["id"].sum()) if "id" in frame.columns else None
    run = Run(seconds, peak, frame.height, frame.width, id_sum)
    del frame
    return run


def check(run: Run, spec: Spec) -> str | None:
    """Why the result is wrong, or None. Ids are 0..rows-1, so their sum is known."""
    rows, cols = spec["expect_rows"], spec["expect_cols"]
    if (run.rows, run.cols) != (rows, cols):
        return f"shape {run.rows}x{run.cols}, expected {rows}x{cols}"
    expected_sum = rows * (rows - 1) // 2
    if run.id_sum is not None and run.id_sum != expected_sum:
        return f"sum(id) = {run.id_sum}, expected {expected_sum}"
    return None


def planned_reps(reps: int, warmup_seconds: float, budget_seconds: float) -> int:
    """Fewer repetitions (at least one) for a reader so slow that reps would bust the budget."""
    if warmup_seconds * reps <= budget_seconds:
        return reps
    return max(1, int(budget_seconds / max(warmup_seconds, 1e-9)))


def time_reads(spec: Spec) -> Result:
    fn, api, versions = load_reader(spec["reader"])
    path, columns = spec["path"], spec.get("columns")
    base_rss = current_rss()
    warm = run_once(fn, path, columns)
    result: Result = {
        "api": api,
        "versions": versions,
        "base_rss": base_rss,
        "peak_scope": peak_scope(),
        "warmup_s": warm.seconds,
        "shape": [warm.rows, warm.cols],
    }
    problem = check(warm, spec)
    if problem:
        return {**result, "status": "mismatch", "error": problem}
    runs = [
        run_once(fn, path, columns) for _ in range(planned_reps(spec["reps"], warm.seconds, spec["budget_s"]))
    ]
    problems = [p for p in (check(run, spec) for run in runs) if p]
    if problems:
        return {**result, "status": "mismatch", "error": problems[0]}
    return {
        **result,
        "status": "ok",
        "times": [run.seconds for run in runs],
        "peak_rss": max(run.peak_rss for run in [warm, *runs]),
    }


# --- probe and memory ---------------------------------------------------------------------


def probe(spec: Spec) -> Result:
    _, api, versions = load_reader(spec["reader"])
    return {"status": "ok", "api": api, "versions": versions}


@dataclass
class BatchStats:
    batches: int = 0
    rows: int = 0
    max_batch_bytes: int = 0


def memory(spec: Spec) -> Result:
    reader = READERS[spec["reader"]]
    opener, opener_name = unless_unavailable(lambda: jetliner_opener(importlib.import_module(reader.module)))
    pl = importlib.import_module("polars")
    options = {"batch_size": spec["batch_size"], "buffer_bytes": spec["buffer_bytes"]}
    gc.collect()
    base_rss = current_rss()
    scope = peak_scope()
    stats = BatchStats()
    start = time.perf_counter()
    with opener(spec["path"], **options) as batches:
        for frame in batches:  # the previous batch stays alive while the next one is made
            stats.batches += 1
            stats.rows += frame.height
            stats.max_batch_bytes = max(stats.max_batch_bytes, int(frame.estimated_size()))
    seconds = time.perf_counter() - start
    complete = stats.rows == spec["expect_rows"]
    call = ", ".join(f"{key}={value}" for key, value in options.items())
    return {
        "status": "ok" if complete else "mismatch",
        "error": None if complete else f"{stats.rows} rows, expected {spec['expect_rows']}",
        "api": f"{reader.module}.{opener_name}(path, {call})",
        "versions": {"polars": str(pl.__version__)},
        "seconds": seconds,
        "base_rss": base_rss,
        "peak_rss": peak_rss(),
        "peak_scope": scope,
        **asdict(stats),
    }


# --- entry point --------------------------------------------------------------------------

MODES = {"probe": probe, "time": time_reads, "memory": memory}


def describe(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    text = f"{type(exc).__name__}: {lines[0] if lines else ''}".strip()
    return text if len(text) <= 300 else text[:297] + "..."


def run(spec: Spec) -> Result:
    try:
        result = MODES[spec["mode"]](spec)
    except Unavailable as exc:
        result = {"status": "unavailable", "error": str(exc)}
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as exc:  # noqa: BLE001 - Rust panics are BaseExceptions; record them all
        result = {"status": "error", "error": describe(exc)}
    return {**result, "python": platform.python_version(), "executable": sys.executable}


def main(argv: list[str]) -> int:
    result = run(json.loads(argv[0]))
    sys.stdout.flush()
    print(RESULT_MARKER + json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

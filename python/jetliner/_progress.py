"""Progress bars for long reads: bytes and rows, from the engine's own counters.

``progress=True`` on :func:`~jetliner.read_avro`, :func:`~jetliner.open` and the
readers shows a bar of the bytes read so far out of the files' total size, with
the rows read beside it. The bar is tqdm's ``tqdm.auto`` one, which is a widget
in Jupyter (with ipywidgets installed) and text elsewhere. Without tqdm a plain
line of text on stderr, rewritten in place, takes its place: a progress display
is a convenience, and a missing optional package should not fail the read.
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
import warnings
from typing import Any, Protocol, TextIO
from urllib.parse import unquote, urlparse

from ._scan import NativeScan
from .exceptions import ConfigurationError

# The fallback line is redrawn at most this often (seconds), as tqdm's is.
_TEXT_INTERVAL = 0.1


def check(progress: Any) -> bool:
    """Validate the ``progress`` option."""
    if not isinstance(progress, bool):
        raise ConfigurationError(f"progress must be True or False, not {progress!r}")
    return progress


def total_bytes(files: list[str]) -> int | None:
    """The summed size of the files, or None when one of them is not local.

    S3 sizes would cost a request per object before the read starts, so for S3
    the bar counts bytes without a total until the read ends.
    """
    total = 0
    for f in files:
        if f.startswith("s3://"):
            return None
        path = unquote(urlparse(f).path) if f.startswith("file://") else f
        try:
            total += os.path.getsize(path)
        except OSError:
            return None
    return total


def _tqdm_class() -> Any:
    """tqdm.auto's bar class, or None when tqdm is not installed."""
    try:
        with warnings.catch_warnings():
            # In a notebook without ipywidgets tqdm.auto warns and falls back to
            # its text bar, which is what we want there anyway.
            warnings.simplefilter("ignore")
            from tqdm.auto import tqdm
    except ImportError:
        return None
    return tqdm


class _Bar(Protocol):
    def show(self, done: int, rows: int, note: str = "") -> None: ...
    def complete(self, done: int, rows: int) -> None: ...
    def close(self) -> None: ...


class _TqdmBar:
    def __init__(self, cls: Any, total: int | None, desc: str) -> None:
        self.bar = cls(
            total=total,
            desc=desc,
            unit="B",
            unit_scale=True,
            unit_divisor=1024,
            dynamic_ncols=True,
            leave=True,
        )

    def show(self, done: int, rows: int, note: str = "") -> None:
        if self.bar.total is not None:
            done = min(done, self.bar.total)
        self.bar.set_postfix_str(f"{rows:,} rows{note}", refresh=False)
        if done > self.bar.n:
            self.bar.update(done - self.bar.n)  # redraws, throttled by tqdm
        elif note or time.monotonic() - self.bar.last_print_t >= self.bar.mininterval:
            # Rows moved but bytes did not (a read-ahead chunk holds many
            # batches): tqdm would not redraw for a zero update.
            self.bar.refresh()

    def complete(self, done: int, rows: int) -> None:
        # Reading stopped early (n_rows) or the size was unknown (S3): what was
        # read is the whole of this read, so the bar ends full either way.
        if self.bar.total is None or done < self.bar.total:
            self.bar.total = done
        self.bar.set_postfix_str(f"{rows:,} rows", refresh=False)
        self.bar.update(self.bar.total - self.bar.n)

    def close(self) -> None:
        self.bar.close()


class _TextBar:
    """The display without tqdm: one line on stderr, rewritten with a carriage return."""

    def __init__(self, total: int | None, desc: str, file: TextIO | None = None) -> None:
        self.total = total
        self.desc = desc
        self.file = file if file is not None else sys.stderr
        self.last = 0.0
        self.drawn = False

    def _draw(self, done: int, rows: int, total: int | None, note: str = "") -> None:
        text = f"{_size(done)}/{_size(total)} ({100 * done // total}%)" if total else _size(done)
        self.file.write(f"\r{self.desc}: {text}, {rows:,} rows{note}")
        self.file.flush()
        self.drawn = True

    def show(self, done: int, rows: int, note: str = "") -> None:
        now = time.monotonic()
        if note or now - self.last >= _TEXT_INTERVAL:
            self.last = now
            total = self.total
            self._draw(min(done, total) if total is not None else done, rows, total, note)

    def complete(self, done: int, rows: int) -> None:
        total = done if self.total is None or done < self.total else self.total
        self._draw(total, rows, total)

    def close(self) -> None:
        if self.drawn:
            self.file.write("\n")
            self.file.flush()
            self.drawn = False


def _size(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if n < 1024 or unit == "TiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    raise AssertionError("unreachable")


def _describe(files: list[str]) -> str:
    if len(files) == 1:
        name = files[0].rstrip("/").rsplit("/", 1)[-1]
        return name or files[0]
    return f"{len(files)} files"


class ReadProgress:
    """Shows the progress of one scan, read from the engine's counters.

    The engine counts the bytes it has received from the sources (``bytes_read``)
    and the rows it has handed over (``rows_read``); polling them after each
    batch costs one small call, far less than the batch itself.
    """

    def __init__(self, scan: NativeScan) -> None:
        self._scan = scan
        total = total_bytes(scan.files)
        desc = _describe(scan.files)
        cls = _tqdm_class()
        self._bar: _Bar = _TqdmBar(cls, total, desc) if cls is not None else _TextBar(total, desc)
        self._closed = False

    def _counters(self) -> tuple[int, int]:
        stats = self._scan.stats().get("stats") or {}
        return int(stats.get("bytes_read", 0)), int(stats.get("rows_read", 0))

    def update(self) -> None:
        """Redraw after a batch."""
        if not self._closed:
            self._bar.show(*self._counters())

    def finish(self) -> None:
        """The read reached its end: fill the bar and close it."""
        if not self._closed:
            self._bar.complete(*self._counters())
            self.close()

    def close(self, outcome: str | None = None) -> None:
        """Stop drawing, leaving the bar where it is; ``outcome`` (``"failed"``,
        ``"interrupted"``) is shown beside the rows when the read did not finish."""
        if not self._closed:
            self._closed = True
            if outcome:
                # The bar must not hide the read's own error with one of its own.
                with contextlib.suppress(Exception):
                    self._bar.show(*self._counters(), note=f", {outcome}")
            self._bar.close()

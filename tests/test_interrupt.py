"""Ctrl-C and Jupyter's kernel interrupt stop a read within a second and free the
engine's memory.

Batches are decoded inside the engine with the GIL released; the interrupt lands
in Python when the batch being decoded is handed over. Each test reads something
that takes several seconds, interrupts it after a fraction of one, and checks how
long the read went on, that it really stopped early, and that
``_native.allocated_bytes()`` is back to where it was.

Two ways of interrupting: ``_thread.interrupt_main()`` (what IPython's kernel
does for an interrupt request on some platforms) and a real SIGINT sent to the
process (Ctrl-C in a terminal, the kernel interrupt on Linux).
"""

from __future__ import annotations

import _thread
import gc
import io
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import fastavro
import jetliner
import polars as pl
import pytest
from jetliner import _native

pytestmark = pytest.mark.timeout(120)

COLUMNS = 24
ROWS_PER_BLOCK = 100_000
SCHEMA = {
    "type": "record",
    "name": "Wide",
    "fields": [{"name": f"c{i}", "type": "int"} for i in range(COLUMNS)],
}
FIRE_AFTER = 0.4  # seconds into the read
PROMPT = 1.0  # the read must stop within this long of the interrupt


def _repeated_block_file(path: Path, blocks: int) -> int:
    """A deflate file of `blocks` copies of one 100,000-row block: a few MB on
    disk, seconds to decode. Every block ends with the same sync marker, so the
    copies form a valid file. Returns the row count."""
    buf = io.BytesIO()
    rows = ({f"c{i}": (j * i) % 100 for i in range(COLUMNS)} for j in range(ROWS_PER_BLOCK))
    fastavro.writer(buf, fastavro.parse_schema(SCHEMA), rows, codec="deflate", sync_interval=1 << 30)
    one = buf.getvalue()
    sync = one[-16:]
    header_end = one.index(sync) + 16
    path.write_bytes(one[:header_end] + one[header_end:] * blocks)
    return blocks * ROWS_PER_BLOCK


@pytest.fixture(scope="module")
def big(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, int]:
    """One file of 20 M rows: about 6 s of decoding on two cores."""
    path = tmp_path_factory.mktemp("interrupt") / "wide.avro"
    return path, _repeated_block_file(path, 200)


def _live() -> int:
    gc.collect()
    return _native.allocated_bytes()


def _drain(batches: Iterator[object]) -> None:
    # Not a loop in the test itself: its loop variable would keep the last batch
    # (and its engine memory) alive.
    for _ in batches:
        pass


def _interrupt_main() -> None:
    _thread.interrupt_main()


def _sigint() -> None:
    os.kill(os.getpid(), signal.SIGINT)


INTERRUPTS = {"interrupt_main": _interrupt_main, "SIGINT": _sigint}


class Timer:
    """Fires an interrupt after a delay and remembers when."""

    def __init__(self, fire: Callable[[], None], after: float = FIRE_AFTER) -> None:
        self.fired_at: float | None = None
        self._fire = fire
        self._timer = threading.Timer(after, self._run)

    def _run(self) -> None:
        self.fired_at = time.monotonic()
        self._fire()

    def __enter__(self) -> Timer:
        self._timer.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._timer.cancel()

    def delay(self) -> float:
        """Seconds from the interrupt to now."""
        assert self.fired_at is not None, "the interrupt never fired"
        return time.monotonic() - self.fired_at


@pytest.fixture(params=sorted(INTERRUPTS))
def interrupt(request: pytest.FixtureRequest) -> Iterator[Callable[[], None]]:
    yield INTERRUPTS[request.param]
    # A late interrupt must not leak into the next test.
    time.sleep(0.05)


def test_read_avro_stops_and_frees(big: tuple[Path, int], interrupt: Callable[[], None]) -> None:
    path, _ = big
    before = _live()
    started = time.monotonic()
    stopped_after = None
    with Timer(interrupt) as timer:
        try:
            jetliner.read_avro(path)
        except KeyboardInterrupt:
            stopped_after = timer.delay()
    assert stopped_after is not None, f"the read finished in {time.monotonic() - started:.1f}s, uninterrupted"
    assert stopped_after < PROMPT
    assert _live() == before


def test_reader_stops_closes_and_frees(big: tuple[Path, int], interrupt: Callable[[], None]) -> None:
    path, total = big
    before = _live()
    reader = jetliner.open(path, batch_size=50_000)
    stopped_after = None
    with Timer(interrupt) as timer:
        try:
            _drain(reader)
        except KeyboardInterrupt:
            stopped_after = timer.delay()
    assert stopped_after is not None
    assert stopped_after < PROMPT
    assert 0 < reader.rows_read < total
    # The interrupt closed the reader: the engine is stopped and its memory freed
    # without waiting for `reader` to be collected.
    assert "closed" in repr(reader)
    assert _live() == before
    with pytest.raises(jetliner.JetlinerError, match="closed"):
        next(reader)


def test_multi_reader_with_progress_stops_and_frees(
    big: tuple[Path, int], interrupt: Callable[[], None], capsys: pytest.CaptureFixture[str]
) -> None:
    path, total = big
    before = _live()
    stopped_after = None
    with Timer(interrupt) as timer:
        try:
            with jetliner.MultiAvroReader([path, path], progress=True) as reader:
                _drain(reader)
        except KeyboardInterrupt:
            stopped_after = timer.delay()
    assert stopped_after is not None
    assert stopped_after < PROMPT
    assert 0 < reader.rows_read < 2 * total
    assert _live() == before
    # The bar was closed where it stood, not filled.
    assert "100%" not in capsys.readouterr().err


@pytest.mark.parametrize("kernel", [False, True], ids=["terminal", "jupyter"])
def test_lazy_collect_stops_on_sigint(big: tuple[Path, int], kernel: bool) -> None:
    """scan_avro(...).collect() runs the read on Polars' threads while the main
    thread waits in collect(); a real SIGINT still stops the query promptly, with
    one KeyboardInterrupt, and the scan is closed. A Jupyter kernel installs
    Python's default handler before each cell, which removes Polars' own hook:
    then jetliner's watch is what stops the read."""
    path, _ = big
    if kernel:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    before = _live()
    stopped_after = None
    with Timer(_sigint) as timer:
        try:
            jetliner.scan_avro(path).select("c1", "c2").sum().collect()
        except KeyboardInterrupt:
            stopped_after = timer.delay()
    assert stopped_after is not None
    assert stopped_after < PROMPT
    time.sleep(0.3)  # a second KeyboardInterrupt, had there been one, fires here
    assert _live() == before


def test_lazy_collect_leaves_a_custom_sigint_handler_alone(big: tuple[Path, int]) -> None:
    """A program with a SIGINT handler of its own gets the signal, and the query
    is not cut short behind its back."""
    path, total = big
    seen: list[int] = []
    previous = signal.signal(signal.SIGINT, lambda signum, frame: seen.append(signum))
    try:
        with Timer(_sigint):
            df = jetliner.scan_avro(path, n_rows=total // 4).select(pl.len()).collect()
    finally:
        signal.signal(signal.SIGINT, previous)
    assert seen == [signal.SIGINT]
    assert df.item() == total // 4


def test_cli_convert_exits_130_and_leaves_no_file(big: tuple[Path, int], tmp_path: Path) -> None:
    path, _ = big
    out = tmp_path / "out.parquet"
    proc = subprocess.Popen(
        [sys.executable, "-m", "jetliner", "convert", str(path), str(out)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        # Wait until the conversion is under way (its temporary file exists).
        deadline = time.monotonic() + 30
        while not list(tmp_path.glob(".out.parquet.*.part")):
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline
            time.sleep(0.02)
        sent = time.monotonic()
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=30)
        took = time.monotonic() - sent
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 130, err
    assert "interrupted" in err
    assert took < 2 * PROMPT  # the process also has to exit
    assert not out.exists()
    assert list(tmp_path.iterdir()) == []

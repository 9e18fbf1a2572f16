"""Hostile conditions: fork after the engine started, absurd option values, row
indices at the edge of their type, and Ctrl-C while a lazy read is paused.

Where the failure mode is a hang or a crash (a forked child waiting forever on the
Go runtime, a channel of 2**62 slots, Go's "out of memory" abort, a swallowed
SIGINT), the case runs in a subprocess with a timeout, and the test asserts the
typed error and how long it took.
"""

from __future__ import annotations

import io
import json
import math
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import fastavro
import jetliner
import polars as pl
import pytest
from jetliner import _native, _options

pytestmark = pytest.mark.timeout(180)

SCHEMA = {"type": "record", "name": "R", "fields": [{"name": "x", "type": "long"}]}
ROWS = 25  # in blocks of 10, 10 and 5


@pytest.fixture
def small(tmp_path: Path) -> Path:
    path = tmp_path / "small.avro"
    with path.open("wb") as fh:
        fastavro.writer(fh, fastavro.parse_schema(SCHEMA), [{"x": i} for i in range(ROWS)], sync_interval=60)
    return path


def _run(script: str, *args: str, timeout: float = 60) -> tuple[subprocess.CompletedProcess[str], float]:
    """Run a Python script in a fresh interpreter; return it and how long it took."""
    started = time.monotonic()
    proc = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(script), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    return proc, time.monotonic() - started


def _last_json(proc: subprocess.CompletedProcess[str]) -> Any:
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


# --- the engine is loaded on first use, and refuses in a forked child -------------


def test_import_does_not_start_the_engine(small: Path) -> None:
    """Importing any module of the package leaves the library unloaded (so the Go
    runtime unstarted): a process may fork freely until the first read."""
    proc, _ = _run(
        """
        import json, sys
        import jetliner, jetliner.cli, jetliner._repr, jetliner._progress, jetliner._api
        import jetliner._readers, jetliner._scan, jetliner._options, jetliner.exceptions

        def loaded():
            with open("/proc/self/maps") as fh:
                return "libjetliner" in fh.read()

        before = loaded()
        jetliner.read_avro(sys.argv[1])
        print(json.dumps([before, loaded()]))
        """,
        str(small),
    )
    assert _last_json(proc) == [False, True]


_FORKED_CHILD = """
    import gc, json, os, sys, time
    import jetliner
    from jetliner import _native

    path = sys.argv[1]
    df = jetliner.read_avro(path)  # the engine runs in the parent
    reader = jetliner.open(path)  # and readers are open when the child is forked
    next(reader)
    left_open = jetliner.open(path)  # finalized at the child's exit
    calls = {
        "read_avro": lambda: jetliner.read_avro(path),
        "scan_avro": lambda: jetliner.scan_avro(path).collect(),
        "open": lambda: jetliner.open(path),
        "MultiAvroReader": lambda: jetliner.MultiAvroReader([path]),
        "read_avro_schema": lambda: jetliner.read_avro_schema(path),
        "next(inherited reader)": lambda: next(reader),
        "allocated_bytes": _native.allocated_bytes,
    }
    pid = os.fork()
    if pid == 0:
        out = {}
        for name, fn in calls.items():
            started = time.monotonic()
            try:
                fn()
                out[name] = ["no error", 0, ""]
            except jetliner.JetlinerError as exc:
                out[name] = [type(exc).__name__, time.monotonic() - started, str(exc)]
        # What the parent read stays usable; dropping it runs Polars' release of
        # the engine's batches, and closing an inherited reader has nothing to
        # stop: neither may enter the engine (and hang).
        out["sum"] = int(df["x"].sum())
        del df
        gc.collect()
        reader.close()
        out["closed"] = reader.is_finished
        print(json.dumps(out), flush=True)
        sys.exit(0)  # a normal exit: atexit and finalizers run
    _, status = os.waitpid(pid, 0)
    print(json.dumps({"child_status": status, "parent_rows": jetliner.read_avro(path).height}))
"""


def test_os_fork_after_a_read_raises_in_the_child(small: Path) -> None:
    proc, took = _run(_FORKED_CHILD, str(small))
    lines = proc.stdout.strip().splitlines()
    assert proc.returncode == 0, proc.stderr
    child, parent = json.loads(lines[0]), json.loads(lines[1])
    assert "Traceback" not in proc.stderr and "Exception ignored" not in proc.stderr, proc.stderr
    assert child.pop("sum") == sum(range(ROWS))
    assert child.pop("closed") is True
    for name, (kind, seconds, message) in child.items():
        assert kind == "ForkedProcessError", (name, kind, message)
        assert seconds < 1, name
        assert "multiprocessing.set_start_method('spawn')" in message
        assert "forkserver" in message
    assert parent == {"child_status": 0, "parent_rows": ROWS}  # the parent reads on
    assert took < 30


def test_forked_process_error_is_a_jetliner_error() -> None:
    assert issubclass(jetliner.ForkedProcessError, jetliner.JetlinerError)
    assert issubclass(jetliner.ForkedProcessError, RuntimeError)
    assert "ForkedProcessError" in jetliner.__all__


_POOL = """
    import json, multiprocessing, sys
    import jetliner

    def total(path):
        return int(jetliner.read_avro(path)["x"].sum())

    if __name__ == "__main__":
        path, method = sys.argv[1], sys.argv[2]
        expected = total(path)  # the engine has started in the parent
        ctx = multiprocessing.get_context(method)
        try:
            with ctx.Pool(2) as pool:
                result = ["ok", pool.map(total, [path] * 4), expected]
        except jetliner.JetlinerError as exc:
            result = [type(exc).__name__, str(exc), expected]
        print(json.dumps(result))
"""


def _run_pool(tmp_path: Path, path: Path, method: str) -> tuple[list[Any], float]:
    # A file, not -c: spawn and forkserver children import the main module.
    script = tmp_path / "pool.py"
    script.write_text(textwrap.dedent(_POOL))
    started = time.monotonic()
    proc = subprocess.run(
        [sys.executable, str(script), str(path), method], capture_output=True, text=True, timeout=120
    )
    return _last_json(proc), time.monotonic() - started


def test_fork_pool_after_a_read_raises(small: Path, tmp_path: Path) -> None:
    (kind, message, _), took = _run_pool(tmp_path, small, "fork")
    assert kind == "ForkedProcessError"
    assert "spawn" in message and "forkserver" in message
    assert took < 30  # it used to hang forever


@pytest.mark.parametrize("method", ["spawn", "forkserver"])
def test_spawn_and_forkserver_pools_read(small: Path, tmp_path: Path, method: str) -> None:
    (kind, totals, expected), _ = _run_pool(tmp_path, small, method)
    assert kind == "ok"
    assert expected == sum(range(ROWS))
    assert totals == [expected] * 4


# --- every numeric option has an upper bound ----------------------------------------

BOUNDS = {
    "batch_size": _options.MAX_BATCH_SIZE,
    "buffer_blocks": _options.MAX_BUFFER_BLOCKS,
    "buffer_bytes": _options.MAX_BUFFER_BYTES,
    "read_chunk_size": _options.MAX_READ_CHUNK_SIZE,
    "max_block_size": _options.MAX_BLOCK_SIZE_CAP,
    "n_rows": _options.MAX_ROWS,
    "row_index_offset": _options.MAX_ROWS,
}


def test_the_bounds() -> None:
    # The documented values: a change here is a change of the API.
    assert BOUNDS == {
        "batch_size": 2**32 - 1,
        "buffer_blocks": 65_536,
        "buffer_bytes": 2**40,
        "read_chunk_size": 2**30,
        "max_block_size": 2**40,
        "n_rows": 2**63 - 1,
        "row_index_offset": 2**63 - 1,
    }


@pytest.mark.parametrize("no_mmap", ["", "1"], ids=["mapped", "pread"])
def test_every_option_at_its_bound_reads(small: Path, no_mmap: str) -> None:
    """All bounds at once, in a subprocess: a bound that made the engine allocate
    its value (a read buffer of read_chunk_size bytes, a queue of buffer_blocks
    slots) shows as peak memory."""
    script = """
        import json, os, resource, sys
        import jetliner

        path, bounds = sys.argv[1], json.loads(sys.argv[2])
        opts = {k: v for k, v in bounds.items() if k != "row_index_offset"}
        df = jetliner.read_avro(path, **opts)
        lazy = jetliner.scan_avro(path, **opts).collect()
        with jetliner.MultiAvroReader([path, path], **opts) as reader:
            multi = sum(b.height for b in reader)
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
        print(json.dumps([df["x"].to_list(), lazy["x"].to_list(), multi, rss]))
    """
    env = {**os.environ, "JETLINER_NO_MMAP": no_mmap}
    proc = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(script), str(small), json.dumps(BOUNDS)],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    eager, lazy, multi, rss = _last_json(proc)
    assert eager == lazy == list(range(ROWS))
    assert multi == 2 * ROWS
    assert rss < 400 << 20  # Polars and the engine; not a GiB read buffer


@pytest.mark.parametrize("option", sorted(BOUNDS))
def test_one_past_the_bound_is_a_configuration_error(small: Path, option: str) -> None:
    past = BOUNDS[option] + 1
    for read in (
        lambda: jetliner.read_avro(small, **{option: past}),
        lambda: jetliner.scan_avro(small, **{option: past}),
        lambda: jetliner.MultiAvroReader([small], **{option: past}),
    ):
        with pytest.raises(jetliner.ConfigurationError, match=f"{option} must be at most"):
            read()


# Values that hung the read (2**62: a channel of impossible size, then Close waited
# on it), aborted the process (2**32: Go's "out of memory"), or failed in Go's JSON
# decoder with a message about Go struct fields (2**70); and wrong types.
HOSTILE = [
    "2**62",
    "2**32",
    "2**63",
    "2**64",
    "2**70",
    "-(2**70)",
    "1.0",
    "1e3",
    "math.inf",
    "math.nan",
    "True",
    "False",
    "'4'",
]


def _valid(option: str, value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= BOUNDS[option]


def test_hostile_values_are_configuration_errors(small: Path) -> None:
    """Every numeric option against every hostile value, in one subprocess: the
    failure modes are a hang and an abort. A value within the bounds (n_rows=2**62,
    buffer_bytes=2**32) reads normally."""
    script = """
        import json, math, sys, time
        import jetliner

        path, options, values = sys.argv[1], json.loads(sys.argv[2]), json.loads(sys.argv[3])
        out = []
        for option in options:
            for text in values:
                value = eval(text, {"math": math})
                for api in ("read_avro", "scan_avro", "open"):
                    started = time.monotonic()
                    try:
                        if api == "read_avro":
                            jetliner.read_avro(path, **{option: value})
                        elif api == "scan_avro":
                            jetliner.scan_avro(path, **{option: value}).collect()
                        else:
                            with jetliner.open(path, **{option: value}) as reader:
                                list(reader)
                        kind, message = "no error", ""
                    except Exception as exc:
                        kind, message = type(exc).__name__, str(exc)
                    out.append([option, text, api, kind, message, time.monotonic() - started])
        print(json.dumps(out))
    """
    proc, _ = _run(script, str(small), json.dumps(sorted(BOUNDS)), json.dumps(HOSTILE), timeout=120)
    results = _last_json(proc)
    assert len(results) == len(BOUNDS) * len(HOSTILE) * 3
    for option, text, api, kind, message, seconds in results:
        where = f"{api}({option}={text})"
        assert seconds < 5, where
        if _valid(option, eval(text, {"math": math})):
            assert kind == "no error", (where, kind, message)
            continue
        assert kind == "ConfigurationError", (where, kind, message)
        assert option in message, (where, message)
        assert "Go struct" not in message and "unmarshal" not in message, (where, message)


def test_max_retries_is_bounded(small: Path) -> None:
    """storage_options' one number: checked for every read, not only when an S3
    source is opened (a local read ignored max_retries=2**70)."""
    for ok in (0, 100, "100", " 5 "):
        assert jetliner.read_avro(small, storage_options={"max_retries": ok}).height == ROWS
    for bad in (101, -1, 2**70, True, 1.5, "many", "-1", "1e3", None):
        with pytest.raises(jetliner.ConfigurationError, match="max_retries must be an integer from 0 to 100"):
            jetliner.read_avro(small, storage_options={"max_retries": bad})


def test_the_engine_checks_the_bounds_too(small: Path) -> None:
    """Options sent straight to the C ABI, past the Python checks: the engine
    refuses them with the same words, and a number too large for its field names
    the option rather than Go's struct."""
    cases = {
        "buffer_blocks": (2**62, "buffer_blocks must be at most 65536"),
        "batch_size": (2**32, "batch_size must be at most 4294967295"),
        "read_chunk_size": (2**31, "read_chunk_size must be at most 1073741824"),
        "buffer_bytes": (2**41, "buffer_bytes must be at most 1099511627776"),
        "max_block_size": (2**41, "max_block_size must be at most 1099511627776"),
        "workers": (2**20, "workers must be at most 1024"),
    }
    for option, (value, words) in cases.items():
        raw = json.dumps({"sources": [str(small)], option: value}).encode()
        with pytest.raises(jetliner.ConfigurationError, match=words):
            _native.call("jl_scan_open", raw)
    raw = json.dumps({"sources": [str(small)], "batch_size": 2**70}).encode()
    with pytest.raises(jetliner.ConfigurationError) as info:
        _native.call("jl_scan_open", raw)
    assert str(info.value) == f"option batch_size cannot be number {2**70}: out of range or of the wrong type"


# --- the row index over its whole range ----------------------------------------------


def _two_files(small: Path) -> list[Path]:
    second = small.with_name("second.avro")
    second.write_bytes(small.read_bytes())
    return [small, second]


READS: dict[str, Callable[[list[Path], int], pl.DataFrame]] = {
    "read_avro": lambda paths, offset: jetliner.read_avro(
        paths, row_index_name="i", row_index_offset=offset, batch_size=10
    ),
    "scan_avro": lambda paths, offset: jetliner.scan_avro(
        paths, row_index_name="i", row_index_offset=offset, batch_size=10
    ).collect(),
    "MultiAvroReader": lambda paths, offset: pl.concat(
        list(jetliner.MultiAvroReader(paths, row_index_name="i", row_index_offset=offset, batch_size=10))
    ),
}


@pytest.mark.parametrize("api", sorted(READS))
def test_uint32_row_index_over_its_range(small: Path, api: str) -> None:
    assert _options.row_index_type() == "uint32"  # Polars' default build
    paths = _two_files(small)
    rows = 2 * ROWS
    read = READS[api]
    for offset in (0, 2**32 - 1 - rows, 2**32 - rows):
        df = read(paths, offset)
        assert df.schema["i"] == pl.UInt32
        assert df["i"].to_list() == list(range(offset, offset + rows)), offset
    # One more and the last row has no index; far more and not even the first.
    for offset in (2**32 - rows + 1, 2**32 - 1, 2**32, 2**33, 2**63 - rows, 2**63 - 1):
        with pytest.raises(jetliner.ConfigurationError, match="UInt32"):
            read(paths, offset)
    with pytest.raises(jetliner.ConfigurationError, match="at most"):
        read(paths, 2**63)


@pytest.mark.parametrize("api", sorted(READS))
def test_uint64_row_index_over_its_range(small: Path, api: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The engine's UInt64 index, as Polars' 64-bit-index runtime gets it (this
    Polars is told its index type is UInt64): right up to and past 2**63."""
    monkeypatch.setattr(_options, "row_index_type", lambda: "uint64")
    paths = _two_files(small)
    rows = 2 * ROWS
    read = READS[api]
    for offset in (2**32 - rows + 1, 2**32, 2**63 - 1 - rows, 2**63 - 5, 2**63 - 1):
        df = read(paths, offset)
        assert df.schema["i"] == pl.UInt64
        assert df["i"].to_list() == list(range(offset, offset + rows)), offset
    with pytest.raises(jetliner.ConfigurationError, match="at most"):
        read(paths, 2**63)


def _polars64() -> Path:
    """Polars' 64-bit-index runtime, installed beside the venv's by ``make tools``."""
    path = Path(os.environ.get("JETLINER_POLARS64") or Path(__file__).parent.parent / ".tools" / "polars64")
    if not (path / "_polars_runtime_64").is_dir():
        pytest.fail(
            f"Polars' 64-bit-index runtime is not installed at {path}. Run `make tools` (it pip-installs "
            "polars-runtime-64, of the venv's Polars version, into .tools/polars64), or point "
            "JETLINER_POLARS64 at such a directory."
        )
    return path


def test_row_index_with_polars_64_bit_index_runtime(small: Path) -> None:
    """With Polars' 64-bit-index runtime (polars[rt64]) the row index is UInt64 on
    its own, and right over the whole range, past 2**63 too."""
    script = """
        import json, sys
        import jetliner
        import polars as pl
        from jetliner import _options

        paths = sys.argv[1:]
        polars_index = pl.LazyFrame({"a": [0]}).with_row_index().collect_schema()["index"]
        out = {"type": _options.row_index_type(), "with_row_index": str(polars_index)}
        for offset in (2**32 - 1, 2**32, 2**63 - 51, 2**63 - 1):
            kw = dict(row_index_name="i", row_index_offset=offset, batch_size=10)
            frames = {
                "read_avro": jetliner.read_avro(paths, **kw),
                "scan_avro": jetliner.scan_avro(paths, **kw).collect(),
                "MultiAvroReader": pl.concat(list(jetliner.MultiAvroReader(paths, **kw))),
            }
            for api, df in frames.items():
                right = df["i"].to_list() == list(range(offset, offset + 50))
                out[f"{api} {offset}"] = [str(df.schema["i"]), right]
        try:
            jetliner.read_avro(paths, row_index_name="i", row_index_offset=2**63)
        except jetliner.ConfigurationError as exc:
            out["2**63"] = str(exc)
        print(json.dumps(out))
    """
    paths = [str(p) for p in _two_files(small)]
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(_polars64()), os.environ.get("PYTHONPATH")])),
        "POLARS_FORCE_PKG": "64",
    }
    proc = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(script), *paths],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    out = _last_json(proc)
    assert out.pop("type") == "uint64"
    assert out.pop("with_row_index") == "UInt64"
    assert "row_index_offset must be at most" in out.pop("2**63")
    assert len(out) == 12
    for case, (dtype, right) in out.items():
        assert (dtype, right) == ("UInt64", True), case


def test_row_index_offset_without_a_row_index_is_not_checked_against_uint32(small: Path) -> None:
    # Without row_index_name there is no index column to overflow.
    assert jetliner.read_avro(small, row_index_offset=2**40).height == ROWS


# --- Ctrl-C while a collect_batches() iterator is paused ------------------------------

_COLLECT_BATCHES = """
    import io, json, signal, sys, time
    import fastavro
    import jetliner
    from jetliner import _native

    path, wait, kernel = sys.argv[1], sys.argv[2], sys.argv[3] == "jupyter"
    if kernel:  # what a Jupyter kernel does before each cell
        signal.signal(signal.SIGINT, signal.default_int_handler)
    it = jetliner.scan_avro(path).collect_batches()
    seen = 0
    for df in it:
        seen += df.height
        if seen >= 200_000:
            break
    print("READY", flush=True)
    started = time.monotonic()
    result = {"interrupted": None}
    try:
        if wait == "sleep":
            time.sleep(20)  # one long blocking call
        elif wait == "busy":
            while time.monotonic() - started < 20:  # the caller's own Python code
                sum(range(1000))
        else:  # "next": the main thread waits in Polars for the next batches
            while time.monotonic() - started < 20:
                df = next(it)
                seen += df.height
                time.sleep(0.02)
    except KeyboardInterrupt:
        result["interrupted"] = time.monotonic() - started
    if wait != "next":
        # Ctrl-C interrupted the caller's code, not the read: it goes on.
        for df in it:
            seen += df.height
        result["rows"] = seen
    del it, df
    print(json.dumps(result), flush=True)
"""


def _big_file(path: Path, blocks: int) -> int:
    """blocks copies of one 100,000-row deflate block (every block ends with the
    same sync marker, so the copies form a valid file)."""
    schema = {"type": "record", "name": "W", "fields": [{"name": f"c{i}", "type": "int"} for i in range(8)]}
    buf = io.BytesIO()
    records = ({f"c{i}": j % 100 for i in range(8)} for j in range(100_000))
    fastavro.writer(buf, fastavro.parse_schema(schema), records, codec="deflate", sync_interval=1 << 30)
    one = buf.getvalue()
    header_end = one.index(one[-16:]) + 16
    path.write_bytes(one[:header_end] + one[header_end:] * blocks)
    return blocks * 100_000


@pytest.fixture(scope="module")
def big(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, int]:
    path = tmp_path_factory.mktemp("hostile") / "big.avro"
    return path, _big_file(path, 40)


@pytest.mark.parametrize("kernel", ["terminal", "jupyter"])
@pytest.mark.parametrize("wait", ["sleep", "busy", "next"])
def test_ctrl_c_with_a_paused_collect_batches(big: tuple[Path, int], wait: str, kernel: str) -> None:
    """A partly consumed scan_avro(...).collect_batches() keeps its read paused
    while the caller does something else; Ctrl-C must interrupt that something
    (it used to be swallowed until the iterator was deleted). While the caller
    waits for the next batch, Ctrl-C stops the read instead."""
    path, total = big
    proc = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(_COLLECT_BATCHES), str(path), wait, kernel],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "READY", proc.communicate()
        time.sleep(0.3)  # the read fills Polars' buffer and pauses
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err
    result = json.loads(out.strip().splitlines()[-1])
    assert result["interrupted"] is not None, "the KeyboardInterrupt never came"
    assert result["interrupted"] < 0.3 + 1.0
    if wait != "next":
        assert result["rows"] == total

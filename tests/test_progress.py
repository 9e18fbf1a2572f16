"""progress=True: a bar of bytes (and rows) read that reaches 100 % at the end."""

from __future__ import annotations

import io
import os
import sys
from pathlib import Path
from typing import Any, ClassVar

import jetliner
import pytest
from jetliner import _progress
from tqdm.std import tqdm

SCHEMA = {
    "type": "record",
    "name": "Row",
    "fields": [{"name": "id", "type": "long"}, {"name": "name", "type": "string"}],
}


N = 200_000


def rows(n: int, start: int = 0) -> list[dict[str, Any]]:
    return [{"id": i, "name": f"name-{i}"} for i in range(start, start + n)]


class RecordingBar(tqdm):  # type: ignore[misc]
    """tqdm's text bar, writing to a buffer and remembering every instance."""

    made: ClassVar[list[RecordingBar]] = []

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.out = io.StringIO()
        kwargs["file"] = self.out
        kwargs["mininterval"] = 0  # draw every update
        super().__init__(*args, **kwargs)
        RecordingBar.made.append(self)


@pytest.fixture
def bars(monkeypatch: pytest.MonkeyPatch) -> list[RecordingBar]:
    RecordingBar.made = []
    monkeypatch.setattr(_progress, "_tqdm_class", lambda: RecordingBar)
    return RecordingBar.made


@pytest.fixture
def path(write_avro: Any) -> Path:
    # 3 MB: several read-ahead chunks, so the bytes move between batches.
    return write_avro(SCHEMA, rows(N), sync_interval=64_000)  # type: ignore[no-any-return]


def _final_line(bar: RecordingBar) -> str:
    return bar.out.getvalue().split("\r")[-1]


def test_read_avro_bar_reaches_100_percent(path: Path, bars: list[RecordingBar]) -> None:
    df = jetliner.read_avro(path, progress=True, batch_size=5_000)
    assert df.height == N
    (bar,) = bars
    size = os.path.getsize(path)
    assert bar.total == size
    assert bar.n == size
    final = _final_line(bar)
    assert "100%" in final
    assert "200,000 rows" in final
    assert path.name in final
    # It moved through intermediate states: one update per batch.
    assert bar.out.getvalue().count("\r") > 3


def test_reader_bar_counts_bytes_and_rows(path: Path, bars: list[RecordingBar]) -> None:
    with jetliner.open(path, batch_size=5_000, progress=True) as reader:
        (bar,) = bars
        assert bar.n < bar.total  # the header is read, not the blocks
        seen = []
        for batch in reader:
            seen.append((bar.n, batch.height))
        assert bar.n == bar.total == os.path.getsize(path)
    positions = [n for n, _ in seen]
    assert positions == sorted(positions)
    assert "100%" in _final_line(bar)
    assert "200,000 rows" in _final_line(bar)


def test_multi_reader_bar_total_is_every_file(
    write_avro: Any, tmp_path: Path, bars: list[RecordingBar]
) -> None:
    paths = [write_avro(SCHEMA, rows(5_000, 5_000 * k), name=f"part-{k}.avro") for k in range(3)]
    with jetliner.MultiAvroReader(str(tmp_path / "part-*.avro"), progress=True) as reader:
        total_rows = sum(b.height for b in reader)
    (bar,) = bars
    assert total_rows == 15_000
    assert bar.total == sum(os.path.getsize(p) for p in paths)
    assert bar.n == bar.total
    assert "3 files" in _final_line(bar)
    assert "100%" in _final_line(bar)


def test_bar_ends_full_when_n_rows_stops_early(path: Path, bars: list[RecordingBar]) -> None:
    df = jetliner.read_avro(path, n_rows=100, progress=True, batch_size=100)
    assert df.height == 100
    (bar,) = bars
    # The read is complete though not every byte was needed: the bar's total
    # becomes what was read, and the bar ends at 100 %.
    assert bar.n == bar.total <= os.path.getsize(path)
    assert "100%" in _final_line(bar)
    assert "100 rows" in _final_line(bar)


def test_bar_is_closed_but_not_filled_on_error(
    write_avro: Any, tmp_path: Path, bars: list[RecordingBar]
) -> None:
    good = write_avro(SCHEMA, rows(20_000), sync_interval=16_000)
    data = bytearray(good.read_bytes())
    data[-100] ^= 0xFF  # the last block's data
    bad = tmp_path / "bad.avro"
    bad.write_bytes(bytes(data))
    with pytest.raises(jetliner.DecodeError):
        jetliner.read_avro(bad, progress=True, batch_size=1_000)
    (bar,) = bars
    assert bar.disable  # tqdm's closed state
    final = _final_line(bar)
    assert final.rstrip().endswith("rows, failed]")
    shown = int(final.split(" rows")[0].rsplit(" ", 1)[-1].replace(",", ""))
    assert shown < 20_000


def test_tqdm_default_bar_writes_to_stderr(path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    jetliner.read_avro(path, progress=True)
    err = capsys.readouterr().err
    assert "100%" in err.split("\r")[-1]
    assert "200,000 rows" in err


def test_no_progress_by_default(path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    jetliner.read_avro(path)
    with jetliner.open(path) as reader:
        list(reader)
    assert capsys.readouterr().err == ""


def test_text_fallback_without_tqdm(
    path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # None in sys.modules makes `import tqdm.auto` raise ImportError.
    monkeypatch.setitem(sys.modules, "tqdm", None)
    monkeypatch.setitem(sys.modules, "tqdm.auto", None)
    assert _progress._tqdm_class() is None
    jetliner.read_avro(path, progress=True, batch_size=5_000)
    err = capsys.readouterr().err
    final = err.split("\r")[-1]
    assert final.endswith("\n")
    assert "(100%)" in final
    assert "200,000 rows" in final
    assert path.name in final


def test_progress_must_be_a_bool(path: Path) -> None:
    with pytest.raises(jetliner.ConfigurationError, match="progress"):
        jetliner.read_avro(path, progress="yes")  # type: ignore[arg-type]
    with pytest.raises(jetliner.ConfigurationError, match="progress"):
        jetliner.open(path, progress=1)  # type: ignore[arg-type]


def test_total_bytes_of_sources(path: Path) -> None:
    size = os.path.getsize(path)
    assert _progress.total_bytes([str(path)]) == size
    assert _progress.total_bytes([path.as_uri(), str(path)]) == 2 * size
    # S3 sizes would cost a request each: no total, the bar counts up instead.
    assert _progress.total_bytes([str(path), "s3://bucket/key.avro"]) is None

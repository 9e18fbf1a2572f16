"""Shared fixtures: writing Avro files with fastavro (the oracle) and finding the
interop files of the shared test data ($JETLINER_TESTDATA, or ../shared/testdata
beside the clone)."""

from __future__ import annotations

import io
import os
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import fastavro
import pytest

ROOT = Path(__file__).resolve().parent.parent
# The shared test data (files written by other Avro implementations, corrupt files):
# where $JETLINER_TESTDATA points, else ../shared/testdata beside the clone.
TESTDATA_ENV = "JETLINER_TESTDATA"
SHARED_TESTDATA = Path(os.environ.get(TESTDATA_ENV) or ROOT.parent / "shared" / "testdata")
_NO_TESTDATA = "shared test data not found"

AvroWriter = Callable[..., Path]


@pytest.fixture
def write_avro(tmp_path: Path) -> AvroWriter:
    """Write records to an Avro file with fastavro and return its path.

    ``write_avro(schema, records, name="x.avro", codec="null", sync_interval=...)``
    """
    counter = iter(range(1_000_000))

    def write(
        schema: dict[str, Any] | list[Any] | str,
        records: Iterable[Any],
        *,
        name: str | None = None,
        codec: str = "null",
        sync_interval: int = 16000,
        directory: Path | None = None,
    ) -> Path:
        path = (directory or tmp_path) / (name or f"file{next(counter)}.avro")
        path.parent.mkdir(parents=True, exist_ok=True)
        parsed = fastavro.parse_schema(schema)
        with path.open("wb") as fh:
            fastavro.writer(fh, parsed, records, codec=codec, sync_interval=sync_interval)
        return path

    return write


def avro_bytes(schema: Any, records: Iterable[Any], codec: str = "null", sync_interval: int = 16000) -> bytes:
    """The bytes of an Avro file, for tests that corrupt them."""
    buf = io.BytesIO()
    fastavro.writer(buf, fastavro.parse_schema(schema), records, codec=codec, sync_interval=sync_interval)
    return buf.getvalue()


def read_with_fastavro(path: Path) -> list[Any]:
    """Every record of a file, as fastavro decodes it (the oracle)."""
    with path.open("rb") as fh:
        return list(fastavro.reader(fh))


@pytest.fixture
def shared_testdata() -> Path:
    """The shared test data. Tests over it skip only when it is absent, and the
    summary at the end of the run says how many did."""
    if not SHARED_TESTDATA.is_dir():
        pytest.skip(f"{_NO_TESTDATA} at {SHARED_TESTDATA}")
    return SHARED_TESTDATA


def pytest_terminal_summary(terminalreporter: Any) -> None:
    reports = terminalreporter.stats.get("skipped", [])
    skipped = [r for r in reports if _NO_TESTDATA in str(getattr(r, "longrepr", ""))]
    if skipped:
        terminalreporter.write_line(
            f"{len(skipped)} tests skipped: {_NO_TESTDATA} at {SHARED_TESTDATA} "
            f"(set {TESTDATA_ENV} to its directory, or put it at ../shared/testdata beside the clone)",
            yellow=True,
            bold=True,
        )

"""Shared fixtures: writing Avro files with fastavro (the oracle) and finding the
interop files in ../shared/testdata."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import fastavro
import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED_TESTDATA = ROOT.parent / "shared" / "testdata"

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
    """../shared/testdata, beside the clone. Tests over it skip only when it is absent."""
    if not SHARED_TESTDATA.is_dir():
        pytest.skip(f"shared test data not found at {SHARED_TESTDATA}")
    return SHARED_TESTDATA

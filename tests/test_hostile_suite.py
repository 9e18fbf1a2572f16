"""A short run of the long-run hostile suite (tests/hostile.py, `make hostile`), so
that the suite keeps working and its commonest failures show up in every test run."""

from __future__ import annotations

import io
import random
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
import hostile


def test_mutations_change_the_files() -> None:
    rng = random.Random(3)
    data = bytes(range(256)) * 8
    changed = [hostile.mutate(data, rng)[0] != data for _ in range(200)]
    assert sum(changed) > 180


def test_worker_reports_a_crash(tmp_path: Path) -> None:
    # The suite must notice a worker that dies: make one die.
    worker = hostile.Worker()
    assert worker.proc.stdin is not None
    worker.proc.kill()
    reply = worker.read(tmp_path / "x.avro", timeout=10)
    assert "worker died" in reply["bad"] or "hang" in reply["bad"]


@pytest.mark.timeout(120)
def test_short_hostile_run(tmp_path: Path) -> None:
    log = io.StringIO()
    stats = hostile.run(20, seed=12345, out=tmp_path, log=log)
    assert stats["failures"] == [], log.getvalue()
    assert stats["inputs"] > 50
    # Both outcomes occur: some damaged files still read, most are refused.
    assert stats["outcomes"].get("ok", 0) > 0
    assert sum(v for k, v in stats["outcomes"].items() if k.endswith("Error")) > 0

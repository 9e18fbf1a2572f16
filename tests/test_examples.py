"""The examples run as they are, so they never rot: every script in examples/ and
the quickstart notebook (executed with nbclient in a fresh kernel)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
SCRIPTS = sorted(p.name for p in EXAMPLES.glob("*.py") if p.name != "make_data.py")

pytestmark = pytest.mark.timeout(300)

# What each script must print (beyond exiting with 0): a sign it did its job.
EXPECTED = {
    "demo.py": ["read_avro: 20,000 rows x 10 columns"],
    "local_files.py": ["read_avro: (20000, 10)", "scan_avro: the five busiest airports"],
    "globs.py": ["** : 120,000 rows from 6 files", "MultiAvroReader over 6 files:"],
    "streaming.py": ["wrote 40,000 rows in 4 row groups", "finished, rows_read=20000"],
    "error_handling.py": [
        "ParseError (InvalidMagic): Parse error in ",
        "at offset 0: not an Avro file",
        "ignore_errors=True: ",
        "1 block(s) skipped",
    ],
    "writing.py": [
        "write_avro: 20,000 rows",
        "sink_avro: ",
        "AvroWriter: 20,000 rows in one file",
        "EncodeError at column 'x', row 1; file left behind: False",
    ],
    "s3_local.py": ["read_avro: (20000, 10)", "streamed 20,000 rows", "AuthenticationError: "],
}


def test_every_script_has_expectations() -> None:
    assert set(SCRIPTS) == set(EXPECTED)


@pytest.mark.parametrize("script", SCRIPTS)
def test_script_runs(script: str, tmp_path: Path) -> None:
    # From another directory: the scripts find their data on their own.
    done = subprocess.run(
        [sys.executable, str(EXAMPLES / script)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert done.returncode == 0, f"{script} failed:\n{done.stdout}\n{done.stderr}"
    for text in EXPECTED[script]:
        assert text in done.stdout, f"{script} did not print {text!r}:\n{done.stdout}"
    assert "Traceback" not in done.stderr


def test_command_line_script(tmp_path: Path) -> None:
    done = subprocess.run(
        ["bash", str(EXAMPLES / "command_line.sh")],
        cwd=tmp_path,
        env={**os.environ, "PYTHON": sys.executable},
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert done.returncode == 0, f"{done.stdout}\n{done.stderr}"
    assert "data/flights.avro          14          20,000" in done.stdout
    assert "(20000, 10)" in done.stdout
    assert "exit status 2" in done.stdout


def _outputs(cell: Any) -> list[Any]:
    return list(cell.get("outputs", []))


def test_quickstart_notebook_executes() -> None:
    import nbclient
    import nbformat

    nb = nbformat.read(EXAMPLES / "quickstart.ipynb", as_version=4)
    client = nbclient.NotebookClient(
        nb,
        timeout=180,
        kernel_name="python3",
        # The notebook's own directory, as Jupyter runs it.
        resources={"metadata": {"path": str(EXAMPLES)}},
    )
    client.execute()  # raises CellExecutionError if any cell fails

    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(_outputs(c) for c in code), "every code cell shows something"
    errors = [o for c in code for o in _outputs(c) if o.get("output_type") == "error"]
    assert errors == []

    html = [o["data"]["text/html"] for c in code for o in _outputs(c) if "text/html" in o.get("data", {})]
    # A DataFrame: df.head() as Polars renders it in Jupyter.
    frames = [h for h in html if "<table" in h and "shape: (5, 10)" in h]
    assert frames, "no DataFrame among the notebook's outputs"
    assert "flight_id" in frames[0]
    # The readers' own HTML: source, state, rows read, schema, skipped blocks.
    readers = [h for h in html if "jetliner-repr" in h and "<b>AvroReader</b>" in h]
    assert any("(closed)" in h and "<th>rows read</th><td>20,000</td>" in h for h in readers)
    assert any("1 skipped block(s)" in h for h in readers)
    # The error's HTML.
    assert any("<b class='jl-err'>FileNotFoundError</b>" in h for h in html)
    # The progress bar reached its end.
    streams = "".join(
        o.get("text", "") for c in code for o in _outputs(c) if o.get("output_type") == "stream"
    )
    assert "100%" in streams
    assert "100,000 rows" in streams

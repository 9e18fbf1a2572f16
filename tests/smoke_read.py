"""Read an Avro file with an installed jetliner: the check every built wheel and
installed sdist must pass (tests/test_packaging.py and cibuildwheel run it).

    python tests/smoke_read.py FILE.avro
"""

from __future__ import annotations

import sys

import jetliner
import polars as pl


def main(path: str) -> None:
    df = jetliner.read_avro(path)
    counted = jetliner.scan_avro(path).select(pl.len()).collect().item()
    if not df.height or df.height != counted:
        raise SystemExit(f"read {df.height} rows but counted {counted}")
    # Reading needs neither pyarrow nor anything else beyond Polars.
    if "pyarrow" in sys.modules:
        raise SystemExit("reading imported pyarrow")
    print(jetliner.__file__, df.height, df.width)


if __name__ == "__main__":
    main(sys.argv[1])

"""Errors: what jetliner raises, how to catch it, and how to read past bad blocks.

Every error derives from ``jetliner.JetlinerError``; missing files are also
``FileNotFoundError`` and bad options also ``ValueError``. With
``ignore_errors=True`` a read skips a bad block, resynchronises on the next sync
marker, and lists what it skipped in ``reader.errors``.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import jetliner

FLIGHTS = Path(__file__).resolve().parent / "data" / "flights.avro"


def corrupt_copy(directory: Path) -> Path:
    """A copy of the flights file with damaged bytes in its third block."""
    data = bytearray(FLIGHTS.read_bytes())
    sync = bytes(data[-16:])  # the header and every block end with this marker
    starts = []
    pos = data.index(sync) + 16
    while pos < len(data):
        starts.append(pos)
        pos = data.index(sync, pos) + 16
    third = starts[2]
    for i in range(third + 40, third + 200):
        data[i] ^= 0x5A
    bad = directory / "damaged.avro"
    bad.write_bytes(bytes(data))
    return bad


def main() -> None:
    # A missing file: jetliner.FileNotFoundError, which is also the built-in one.
    try:
        jetliner.read_avro("no/such/file.avro")
    except FileNotFoundError as err:
        print(f"{type(err).__name__}: {err}")

    # A glob that matches nothing is a FileNotFoundError too.
    try:
        jetliner.scan_avro("no/such/dir/*.avro")
    except jetliner.FileNotFoundError as err:
        print(f"{type(err).__name__}: {err}")

    # A bad option: ConfigurationError, also a ValueError.
    try:
        jetliner.read_avro(FLIGHTS, batch_size=0)
    except ValueError as err:
        print(f"{type(err).__name__}: {err}")

    with tempfile.TemporaryDirectory() as tmp:
        # Not an Avro file at all: ParseError, whose variant says what exactly
        # (InvalidMagic: the first four bytes; at offset 0).
        text = Path(tmp) / "notes.avro"
        text.write_text("these are not the bytes you are looking for")
        try:
            jetliner.read_avro(text)
        except jetliner.ParseError as err:
            print(f"{type(err).__name__} ({err.variant}): {err}")

        # A damaged block: by default the read stops with an error that says
        # where (file, block, byte offset); the rows before it are not lost in a
        # streaming read.
        bad = corrupt_copy(Path(tmp))
        rows_before = 0
        try:
            with jetliner.open(bad, batch_size=1_000) as reader:
                for batch in reader:
                    rows_before += batch.height
        except jetliner.JetlinerError as err:
            print(f"\n{err!r}")
            print(f"  {rows_before:,} rows were read before block {getattr(err, 'block_index', None)}")

        # ignore_errors=True: skip the bad block and carry on.
        with jetliner.open(bad, ignore_errors=True) as reader:
            rows = sum(batch.height for batch in reader)
            print(f"\nignore_errors=True: {rows:,} of 20,000 rows, {reader.error_count} block(s) skipped")
            for skipped in reader.errors:
                where = f"block {skipped.block_index} at byte {skipped.file_offset}"
                print(f"  {skipped.kind} in {where}: {skipped.message}")
        assert reader.error_count == 1 and 0 < rows < 20_000

        # The same for the eager and lazy readers.
        df = jetliner.read_avro(bad, ignore_errors=True)
        lazy = jetliner.scan_avro(bad, ignore_errors=True).select("flight_id").collect()
        assert df.height == lazy.height == rows

    # Every jetliner error in one except clause, with its fields as a dict.
    try:
        jetliner.read_avro_schema("missing.avro")
    except jetliner.JetlinerError as err:
        print("\nto_dict():", err.to_dict())


if __name__ == "__main__":
    main()

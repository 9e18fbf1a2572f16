"""Many files at once: lists, globs (``*``, ``?``, ``[...]``, ``{a,b}``, ``**``) and
MultiAvroReader, with a row index that runs on across files.

The script lays out a small partitioned data set in a temporary directory (copies
of the bundled flights file, one per day) and reads it back in several ways.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import jetliner
import polars as pl

FLIGHTS = Path(__file__).resolve().parent / "data" / "flights.avro"


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        # events/region=eu/day=2026-01-01/part-0.avro, ...
        for region in ("eu", "us"):
            for day in ("2026-01-01", "2026-01-02", "2026-01-03"):
                part = root / "events" / f"region={region}" / f"day={day}"
                part.mkdir(parents=True)
                shutil.copy(FLIGHTS, part / "part-0.avro")

        # Every file under events/, at any depth. Files are read in sorted order.
        everything = jetliner.read_avro(root / "events" / "**" / "*.avro", include_file_paths="file")
        print(f"** : {everything.height:,} rows from {everything['file'].n_unique()} files")

        # Alternatives and character classes.
        eu_two_days = jetliner.scan_avro(
            str(root / "events" / "region=eu" / "day=2026-01-0[12]" / "*.avro"), row_index_name="i"
        ).collect()
        us_or_eu_first = jetliner.read_avro(str(root / "events" / "region={eu,us}" / "day=*-01" / "*.avro"))
        print(f"[12]: {eu_two_days.height:,} rows, row index 0..{eu_two_days['i'].max():,}")
        print(f"{{a,b}}: {us_or_eu_first.height:,} rows")

        # A list of sources mixes paths, file:// URLs and globs.
        first = root / "events" / "region=eu" / "day=2026-01-01" / "part-0.avro"
        mixed = jetliner.read_avro(
            [first, f"file://{first}", str(root / "events" / "region=us" / "*" / "*.avro")]
        )
        print(f"list: {mixed.height:,} rows")

        # Streaming over many files: batches in file order, a continuous row index
        # and the position of the file each batch came from.
        with jetliner.MultiAvroReader(
            str(root / "events" / "**" / "*.avro"), row_index_name="row", batch_size=25_000
        ) as reader:
            print(f"\nMultiAvroReader over {reader.total_sources} files:")
            for batch in reader:
                print(
                    f"  file {reader.current_source_index}: rows "
                    f"{batch['row'].min():>7,} .. {batch['row'].max():>7,}"
                )
            assert reader.rows_read == 6 * 20_000

        # Per-file statistics from the file path column.
        per_day = (
            everything.with_columns(pl.col("file").str.extract(r"day=([\d-]+)").alias("day"))
            .group_by("day")
            .agg(pl.len(), pl.col("passengers").sum())
            .sort("day")
        )
        print(per_day)
        assert everything.height == 6 * 20_000 and mixed.height == 5 * 20_000


if __name__ == "__main__":
    main()

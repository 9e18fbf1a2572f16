"""Streaming: read a file in batches with bounded memory, with a progress bar,
and convert it to Parquet without holding it all.

``jetliner.open`` (one file) and ``MultiAvroReader`` (many) are iterators of
DataFrames. The engine reads ahead at most ``buffer_blocks`` blocks and
``buffer_bytes`` bytes, so memory stays bounded however large the input.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import jetliner
import polars as pl
import pyarrow.parquet as pq

FLIGHTS = Path(__file__).resolve().parent / "data" / "flights.avro"


def main() -> None:
    # Aggregate as batches arrive; only one batch is in Python at a time.
    totals: dict[str, int] = {}
    with jetliner.open(FLIGHTS, batch_size=4_000, projected_columns=["carrier", "passengers"]) as reader:
        print(reader)  # AvroReader('.../flights.avro', open, rows_read=0, columns=2, errors=0)
        for batch in reader:
            for carrier, passengers in batch.group_by("carrier").agg(pl.col("passengers").sum()).iter_rows():
                totals[carrier] = totals.get(carrier, 0) + passengers
        print(reader)  # ... finished, rows_read=20000 ...
    print("passengers by carrier:", dict(sorted(totals.items())))

    # A progress bar (tqdm's when installed: pip install 'jetliner[progress]'),
    # off by default. It counts bytes and rows and ends at 100 %.
    df = jetliner.read_avro([FLIGHTS] * 4, progress=True)
    print(f"read {df.height:,} rows with a progress bar")

    # Avro to Parquet, one row group per batch: the file is never all in memory.
    # (`jetliner convert flights.avro flights.parquet` does the same from a shell.)
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "flights.parquet"
        writer = None
        with jetliner.MultiAvroReader([FLIGHTS, FLIGHTS], batch_size=10_000, progress=True) as reader:
            for batch in reader:
                table = batch.to_arrow()
                if writer is None:
                    writer = pq.ParquetWriter(out, table.schema, compression="zstd")
                writer.write_table(table)
        assert writer is not None
        writer.close()
        meta = pq.ParquetFile(out).metadata
        print(f"wrote {meta.num_rows:,} rows in {meta.num_row_groups} row groups to {out.name}")
        assert meta.num_rows == 40_000

    # Lazily, Polars' streaming engine pulls batches from jetliner as it needs them.
    late = (
        jetliner.scan_avro(FLIGHTS)
        .filter(pl.col("delay_minutes") > 60)
        .select("flight_id", "delay_minutes")
        .collect(engine="streaming")
    )
    print(f"{late.height:,} flights more than an hour late")


if __name__ == "__main__":
    main()

"""Reading local Avro files: eager, lazy, a few columns, the schema alone.

Run from anywhere: ``python examples/local_files.py``. It reads the bundled
``examples/data/flights.avro`` (20,000 flights, snappy-compressed).
"""

from __future__ import annotations

from pathlib import Path

import jetliner
import polars as pl

FLIGHTS = Path(__file__).resolve().parent / "data" / "flights.avro"


def main() -> None:
    # The schema a read would give, from the file header only: cheap, even on S3.
    schema = jetliner.read_avro_schema(FLIGHTS)
    print(f"{len(schema)} columns:", ", ".join(f"{n}: {t}" for n, t in schema.items()))

    # Eager: the whole file into a DataFrame.
    df = jetliner.read_avro(FLIGHTS)
    print(f"\nread_avro: {df.shape}")
    print(df.head(3))

    # Only some columns: the others are skipped while decoding, never built.
    # Columns may be named or given by position.
    small = jetliner.read_avro(FLIGHTS, columns=["flight_id", "carrier", "fare"], n_rows=5)
    by_position = jetliner.read_avro(FLIGHTS, columns=[0, 1, 7], n_rows=5)
    assert small.equals(by_position)
    print("\ncolumns + n_rows:")
    print(small)

    # Lazy: a Polars LazyFrame. The query's columns, its head() and its filters
    # are pushed into the reader.
    busiest = (
        jetliner.scan_avro(FLIGHTS)
        .filter(pl.col("delay_minutes").is_not_null())
        .group_by("origin")
        .agg(
            pl.len().alias("flights"),
            pl.col("delay_minutes").mean().round(1).alias("mean_delay"),
            pl.col("passengers").sum(),
        )
        .sort("flights", descending=True)
        .head(5)
        .collect()
    )
    print("\nscan_avro: the five busiest airports")
    print(busiest)

    # A row index and the source path as columns, as Polars' own readers do.
    tagged = jetliner.read_avro(FLIGHTS, n_rows=3, row_index_name="row", include_file_paths="source")
    print("\nrow index and file path:")
    print(tagged.select("row", "flight_id", pl.col("source").str.split("/").list.last()))

    assert df.height == 20_000 and busiest.height == 5


if __name__ == "__main__":
    main()

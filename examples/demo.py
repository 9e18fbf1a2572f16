"""The demo `make demo` runs: read the bundled flights file with jetliner."""

from __future__ import annotations

from pathlib import Path

import jetliner
import polars as pl

DATA = Path(__file__).with_name("data") / "flights.avro"


def main() -> None:
    print(f"jetliner {jetliner.__version__} reading {DATA.name}\n")

    print("Schema, from the file header only:")
    for name, dtype in jetliner.read_avro_schema(DATA).items():
        print(f"  {name:14} {dtype}")

    df = jetliner.read_avro(DATA)
    print(f"\nread_avro: {df.height:,} rows x {df.width} columns")
    print(df.head(5))

    # A lazy query: only the three columns it uses are decoded, and the filter runs
    # on each batch as it arrives.
    late = (
        jetliner.scan_avro(DATA)
        .select("carrier", "delay_minutes", "passengers")
        .filter(pl.col("delay_minutes") > 30)
        .group_by("carrier")
        .agg(
            pl.len().alias("late_flights"),
            pl.col("delay_minutes").mean().round(1).alias("mean_delay"),
            pl.col("passengers").sum().alias("passengers"),
        )
        .sort("carrier")
        .collect()
    )
    print("\nscan_avro: late flights by carrier")
    print(late)

    with jetliner.open(DATA, batch_size=5_000) as reader:
        sizes = [batch.height for batch in reader]
    print(f"\nopen(): {len(sizes)} batches of {sizes} rows")


if __name__ == "__main__":
    main()

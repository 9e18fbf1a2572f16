"""Writing Avro: a DataFrame, a streamed query, several frames into one file.

Run from anywhere: ``python examples/writing.py``. It reads the bundled
``examples/data/flights.avro`` and writes new files into a temporary directory.
"""

from __future__ import annotations

import io
import tempfile
from pathlib import Path

import jetliner
import polars as pl

FLIGHTS = Path(__file__).resolve().parent / "data" / "flights.avro"


def main() -> None:
    df = jetliner.read_avro(FLIGHTS)
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)

        # A DataFrame to a file: the schema is derived from the frame, and a
        # read gives the same frame back.
        jetliner.write_avro(df, out / "flights.avro", codec="zstd")
        assert jetliner.read_avro(out / "flights.avro").equals(df)
        print(f"write_avro: {df.height:,} rows, {(out / 'flights.avro').stat().st_size:,} bytes with zstd")

        # A query streamed to a file, batch by batch, never collected whole.
        delayed = jetliner.scan_avro(FLIGHTS).filter(pl.col("delay_minutes") > 60)
        delayed.pipe(jetliner.sink_avro, out / "delayed.avro")
        print(f"sink_avro: {jetliner.read_avro(out / 'delayed.avro').height:,} delayed flights")

        # Several frames into one file, with metadata in the header.
        with jetliner.AvroWriter(out / "by_carrier.avro", metadata={"source": "flights"}) as writer:
            for _, part in df.group_by("carrier", maintain_order=True):
                writer.write(part)
        print(f"AvroWriter: {writer.rows_written:,} rows in one file")

        # A file object gets the bytes; an explicit schema picks the Avro types.
        schema = {
            "type": "record",
            "name": "Ticket",
            "fields": [
                {"name": "flight_id", "type": "long"},
                {
                    "name": "carrier",
                    "type": {"type": "enum", "name": "Carrier", "symbols": ["AA", "BA", "DL", "LH", "UA"]},
                },
                {
                    "name": "fare",
                    "type": [
                        "null",
                        {
                            "type": "fixed",
                            "name": "Fare",
                            "size": 5,
                            "logicalType": "decimal",
                            "precision": 9,
                            "scale": 2,
                        },
                    ],
                },
            ],
        }
        buf = io.BytesIO()
        jetliner.write_avro(df.select("flight_id", "carrier", "fare"), buf, schema=schema, codec="deflate")
        print(f"to a BytesIO: {len(buf.getvalue()):,} bytes")

        # A value the schema cannot hold: the error names the column and row.
        try:
            small = {"type": "record", "name": "R", "fields": [{"name": "x", "type": "int"}]}
            jetliner.write_avro(pl.DataFrame({"x": [1, 2**40]}), out / "bad.avro", schema=small)
        except jetliner.EncodeError as e:
            left = (out / "bad.avro").exists()
            print(f"EncodeError at column {e.column!r}, row {e.row}; file left behind: {left}")


if __name__ == "__main__":
    main()

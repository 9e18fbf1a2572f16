"""Regenerate examples/data/flights.avro, the small file the demo reads.

It is committed, so the demo needs nothing but jetliner; run this only to change it.
Needs fastavro and cramjam (snappy).
"""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path

import fastavro

SCHEMA = {
    "type": "record",
    "name": "Flight",
    "namespace": "example",
    "fields": [
        {"name": "flight_id", "type": "long"},
        {
            "name": "carrier",
            "type": {"type": "enum", "name": "Carrier", "symbols": ["AA", "BA", "DL", "LH", "UA"]},
        },
        {"name": "origin", "type": "string"},
        {"name": "destination", "type": "string"},
        {"name": "departure", "type": {"type": "long", "logicalType": "timestamp-millis"}},
        {"name": "delay_minutes", "type": ["null", "int"]},
        {"name": "passengers", "type": "int"},
        {"name": "fare", "type": {"type": "bytes", "logicalType": "decimal", "precision": 9, "scale": 2}},
        {"name": "tags", "type": {"type": "array", "items": "string"}},
        {
            "name": "aircraft",
            "type": {
                "type": "record",
                "name": "Aircraft",
                "fields": [{"name": "model", "type": "string"}, {"name": "seats", "type": "int"}],
            },
        },
    ],
}

AIRPORTS = ["AMS", "ATL", "CDG", "DXB", "FRA", "HND", "JFK", "LAX", "LHR", "ORD", "SFO", "SIN"]
AIRCRAFT = [("A320", 180), ("A350", 325), ("B737", 189), ("B777", 396), ("B787", 296)]
TAGS = ["wifi", "meal", "overnight", "codeshare", "charter"]


def rows(n: int, seed: int = 7):
    rng = random.Random(seed)
    start = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
    for i in range(n):
        origin, destination = rng.sample(AIRPORTS, 2)
        model, seats = rng.choice(AIRCRAFT)
        yield {
            "flight_id": 100_000 + i,
            "carrier": rng.choice(["AA", "BA", "DL", "LH", "UA"]),
            "origin": origin,
            "destination": destination,
            "departure": start + dt.timedelta(minutes=rng.randrange(0, 365 * 24 * 60)),
            "delay_minutes": None if rng.random() < 0.1 else max(0, int(rng.gauss(12, 25))),
            "passengers": rng.randrange(40, seats),
            "fare": round(__import__("decimal").Decimal(rng.uniform(49, 1900)), 2),
            "tags": rng.sample(TAGS, rng.randrange(0, 3)),
            "aircraft": {"model": model, "seats": seats},
        }


def main() -> None:
    out = Path(__file__).with_name("data") / "flights.avro"
    out.parent.mkdir(exist_ok=True)
    with out.open("wb") as fh:
        fastavro.writer(fh, fastavro.parse_schema(SCHEMA), rows(20_000), codec="snappy", sync_interval=64_000)
    print(f"wrote {out} ({out.stat().st_size:,} bytes)")


if __name__ == "__main__":
    main()

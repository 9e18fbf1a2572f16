"""What the benchmark reads: Avro schemas, data files and scenarios.

Standard library only: the orchestrator, the data generator and the workers all import it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# Bump when the generated data changes in any way: cached files are then regenerated.
GENERATOR_VERSION = 1

SEED = 20_240_601
FULL_ROWS = 1_000_000
QUICK_ROWS = 100_000
# fastavro's default sync_interval (16 KB) makes unrealistically small blocks. 1 MiB of
# uncompressed record bytes per block is in the range real writers use (Java: 64 KiB to
# a few MiB), and gives ~40 blocks for the 1M-row simple file.
SYNC_INTERVAL = 1 << 20

# Memory scenario: the simple schema, enough rows for a file of more than 1 GB.
MEMORY_FULL_ROWS = 40_000_000
MEMORY_QUICK_ROWS = 2_000_000
MEMORY_MIN_BYTES = 1_000_000_000

AvroSchema = dict[str, Any]

_TIMESTAMP_MICROS = {"type": "long", "logicalType": "timestamp-micros"}
_WIDE_KINDS = ("long", "double", "string", "int", "boolean")
WIDE_EXTRA_COLUMNS = 99


def _nullable(avro_type: Any) -> list[Any]:
    return ["null", avro_type]


def simple_schema() -> AvroSchema:
    return {
        "type": "record",
        "name": "Simple",
        "namespace": "bench",
        "fields": [
            {"name": "id", "type": "long"},
            {"name": "name", "type": "string"},
            {"name": "score", "type": "double"},
            {"name": "active", "type": "boolean"},
            {"name": "ts", "type": _TIMESTAMP_MICROS},
        ],
    }


def wide_field(index: int) -> tuple[str, str, bool]:
    """(name, Avro primitive, nullable) of the wide schema's column number `index` (1..99)."""
    kind = _WIDE_KINDS[(index - 1) % len(_WIDE_KINDS)]
    return f"{kind}_{index:02d}", kind, index % 3 == 0


def wide_schema() -> AvroSchema:
    fields: list[dict[str, Any]] = [{"name": "id", "type": "long"}]
    for index in range(1, WIDE_EXTRA_COLUMNS + 1):
        name, kind, nullable = wide_field(index)
        fields.append({"name": name, "type": _nullable(kind) if nullable else kind})
    return {"type": "record", "name": "Wide", "namespace": "bench", "fields": fields}


def complex_schema() -> AvroSchema:
    address = {
        "type": "record",
        "name": "Address",
        "fields": [{"name": "city", "type": "string"}, {"name": "zip", "type": "int"}],
    }
    user = {
        "type": "record",
        "name": "User",
        "fields": [
            {"name": "name", "type": "string"},
            {"name": "age", "type": "int"},
            {"name": "address", "type": address},
        ],
    }
    event = {
        "type": "record",
        "name": "Event",
        "fields": [
            {"name": "kind", "type": "string"},
            {"name": "value", "type": "double"},
            {"name": "at", "type": _TIMESTAMP_MICROS},
        ],
    }
    return {
        "type": "record",
        "name": "Complex",
        "namespace": "bench",
        "fields": [
            {"name": "id", "type": "long"},
            {"name": "user", "type": user},
            {"name": "tags", "type": {"type": "array", "items": "long"}},
            {"name": "metrics", "type": {"type": "map", "values": "double"}},
            {"name": "events", "type": {"type": "array", "items": event}},
            {"name": "note", "type": _nullable("string")},
            {"name": "parent_id", "type": _nullable("long")},
        ],
    }


SCHEMAS = {"simple": simple_schema, "wide": wide_schema, "complex": complex_schema}

# Five of the 100 wide columns, spread over the record so a reader must skip most of it.
PROJECTION_COLUMNS = ("id", "long_21", "double_42", "string_63", "boolean_95")


@dataclass(frozen=True)
class Dataset:
    """One generated Avro file."""

    name: str
    schema: str
    codec: str
    memory: bool = False

    @property
    def filename(self) -> str:
        return f"{self.name}.avro"

    @property
    def columns(self) -> int:
        return len(SCHEMAS[self.schema]()["fields"])


@dataclass(frozen=True)
class Scenario:
    """One timed read: a dataset, and optionally the columns to project."""

    name: str
    dataset: Dataset
    description: str
    columns: tuple[str, ...] | None = None

    @property
    def expected_columns(self) -> int:
        return len(self.columns) if self.columns else self.dataset.columns


DATASETS = {
    d.name: d
    for d in (
        Dataset("simple", "simple", "snappy"),
        Dataset("wide", "wide", "snappy"),
        Dataset("complex", "complex", "snappy"),
        Dataset("simple_null", "simple", "null"),
        Dataset("simple_deflate", "simple", "deflate"),
        Dataset("simple_zstd", "simple", "zstandard"),
        Dataset("memory", "simple", "snappy", memory=True),
    )
}

SCENARIOS = {
    s.name: s
    for s in (
        Scenario("simple", DATASETS["simple"], "5 columns, snappy"),
        Scenario("wide", DATASETS["wide"], "100 columns, snappy"),
        Scenario("complex", DATASETS["complex"], "nested records/arrays/maps, snappy"),
        Scenario(
            "projection",
            DATASETS["wide"],
            "5 of the 100 wide columns",
            columns=PROJECTION_COLUMNS,
        ),
        Scenario("simple_null", DATASETS["simple_null"], "simple, no compression"),
        Scenario("simple_deflate", DATASETS["simple_deflate"], "simple, deflate"),
        Scenario("simple_zstd", DATASETS["simple_zstd"], "simple, zstandard"),
    )
}

MEMORY_SCENARIO = "memory"


def _check_projection() -> None:
    names = {field["name"] for field in wide_schema()["fields"]}
    missing = set(PROJECTION_COLUMNS) - names
    assert not missing, f"projection columns not in the wide schema: {missing}"


_check_projection()

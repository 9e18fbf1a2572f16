"""Every row of API.md's "Avro to Polars types" table: the Polars dtype (from the
header and from a read) and the values, against fastavro reading the same file."""

from __future__ import annotations

import datetime as dt
import json
import math
import struct
import uuid
from decimal import Context, Decimal
from typing import Any

import jetliner
import polars as pl
import pytest
from _oracle import DURATION, assert_matches_fastavro, build_file, encode_long, frame_rows, rewrite_header

UTC = dt.timezone.utc
I32 = (-(2**31), 2**31 - 1)
I64 = (-(2**63), 2**63 - 1)
UNICODE = [
    "",
    "a",
    "ünïcödé",
    "日本語テキスト",
    "😀🚀👍🏽",
    "e\u0301",
    "nul\x00inside",
    'quote"back\\slash',
    "x" * 5000,
]


def record(*fields: tuple[str, Any], name: str = "R") -> dict[str, Any]:
    return {"type": "record", "name": name, "fields": [{"name": n, "type": t} for n, t in fields]}


def one_column(write_avro, avro_type: Any, values: list[Any], **kw: Any) -> pl.DataFrame:
    """Write ``values`` as a single field ``v`` and check the read against fastavro."""
    path = write_avro(record(("v", avro_type)), [{"v": v} for v in values], **kw)
    return assert_matches_fastavro(path)


def logical(base: str, name: str, **extra: Any) -> dict[str, Any]:
    return {"type": base, "logicalType": name, **extra}


# ---- primitives -------------------------------------------------------------------------

PRIMITIVE_CASES = [
    ("null", pl.Null(), [None, None, None]),
    ("boolean", pl.Boolean(), [True, False, True, True, False, False, False, False, True]),
    ("int", pl.Int32(), [0, 1, -1, 63, -64, 64, -65, 127, 128, *I32]),
    ("long", pl.Int64(), [0, 1, -1, 2**31, -(2**31) - 1, 2**53 + 1, *I64]),
    ("float", pl.Float32(), [0.0, -0.0, 1.5, -2.25, math.inf, -math.inf, math.nan, 3.4028234663852886e38]),
    (
        "double",
        pl.Float64(),
        [0.0, -0.0, 0.1, -1e308, 5e-324, math.inf, -math.inf, math.nan, 2.2250738585072014e-308],
    ),
    ("bytes", pl.Binary(), [b"", b"\x00", bytes(range(256)), b"\xff" * 1000]),
    ("string", pl.String(), UNICODE),
]


@pytest.mark.parametrize(("avro", "dtype", "values"), PRIMITIVE_CASES, ids=[c[0] for c in PRIMITIVE_CASES])
def test_primitive(write_avro, avro, dtype, values):
    df = one_column(write_avro, avro, values)
    assert df.schema["v"] == dtype
    assert df.height == len(values)


def test_int_and_long_extremes_are_exact(write_avro):
    path = write_avro(
        record(("i", "int"), ("l", "long")),
        [{"i": i, "l": v} for i in I32 for v in I64],
    )
    df = jetliner.read_avro(path)
    assert df["i"].to_list() == [I32[0], I32[0], I32[1], I32[1]]
    assert df["l"].to_list() == [I64[0], I64[1], I64[0], I64[1]]


def test_float_special_values_keep_their_bits(write_avro):
    values = [math.nan, math.inf, -math.inf, -0.0, 0.0, 1.401298464324817e-45]
    path = write_avro(record(("f", "float"), ("d", "double")), [{"f": v, "d": v} for v in values])
    df = assert_matches_fastavro(path)
    f32 = [struct.pack("<f", x) for x in df["f"].to_list()]
    assert f32 == [struct.pack("<f", x) for x in values]
    assert [struct.pack("<d", x) for x in df["d"].to_list()] == [struct.pack("<d", x) for x in values]


def test_every_primitive_in_one_record_with_many_rows(write_avro):
    schema = record(*[(f"c_{avro}", avro) for avro, _, _ in PRIMITIVE_CASES])
    rows = [
        {f"c_{avro}": values[i % len(values)] for avro, _, values in PRIMITIVE_CASES} for i in range(2000)
    ]
    df = assert_matches_fastavro(write_avro(schema, rows, sync_interval=2000))
    assert df.schema == pl.Schema({f"c_{avro}": dtype for avro, dtype, _ in PRIMITIVE_CASES})


# ---- nullable unions ----------------------------------------------------------------------


@pytest.mark.parametrize("null_first", [True, False], ids=["null-first", "null-last"])
@pytest.mark.parametrize(
    ("avro", "dtype", "values"), PRIMITIVE_CASES[1:], ids=[c[0] for c in PRIMITIVE_CASES[1:]]
)
def test_nullable_primitive(write_avro, avro, dtype, values, null_first):
    union = ["null", avro] if null_first else [avro, "null"]
    mixed = [v for pair in zip(values, [None] * len(values), strict=True) for v in pair] + [None]
    df = one_column(write_avro, union, mixed)
    assert df.schema["v"] == dtype
    assert df["v"].null_count() == len(values) + 1


@pytest.mark.parametrize("null_first", [True, False], ids=["null-first", "null-last"])
def test_nullable_complex_types(write_avro, null_first):
    def nullable(t: Any) -> list[Any]:
        return ["null", t] if null_first else [t, "null"]

    inner = record(("x", "int"), ("s", nullable("string")), name="Inner")
    schema = record(
        ("rec", nullable(inner)),
        ("arr", nullable({"type": "array", "items": nullable("long")})),
        ("map", nullable({"type": "map", "values": nullable("double")})),
        ("enum", nullable({"type": "enum", "name": "Color", "symbols": ["RED", "GREEN"]})),
        ("fix", nullable({"type": "fixed", "name": "F4", "size": 4})),
    )
    rows = [
        {
            "rec": {"x": 1, "s": "a"},
            "arr": [1, None, 3],
            "map": {"k": 1.5, "n": None},
            "enum": "GREEN",
            "fix": b"abcd",
        },
        {"rec": None, "arr": None, "map": None, "enum": None, "fix": None},
        {"rec": {"x": 2, "s": None}, "arr": [], "map": {}, "enum": "RED", "fix": b"\x00\x00\x00\x00"},
        {"rec": None, "arr": [None], "map": {"": None}, "enum": None, "fix": None},
    ]
    df = assert_matches_fastavro(write_avro(schema, rows))
    assert df.schema == pl.Schema(
        {
            "rec": pl.Struct({"x": pl.Int32(), "s": pl.String()}),
            "arr": pl.List(pl.Int64()),
            "map": pl.List(pl.Struct({"key": pl.String(), "value": pl.Float64()})),
            "enum": pl.Enum(["RED", "GREEN"]),
            "fix": pl.Binary(),
        }
    )
    # A null record is a null struct, not a struct of nulls.
    assert df["rec"].is_null().to_list() == [False, True, False, True]


def test_one_branch_union_is_the_branch(write_avro):
    df = one_column(write_avro, ["string"], ["a", "", "ü"])
    assert df.schema["v"] == pl.String()
    df = one_column(write_avro, ["null"], [None, None])
    assert df.schema["v"] == pl.Null()


# ---- enums, fixed -------------------------------------------------------------------------


def test_enum_dtype_keeps_symbol_order(write_avro):
    enum = {"type": "enum", "name": "Suit", "symbols": ["SPADES", "HEARTS", "DIAMONDS", "CLUBS"]}
    df = one_column(write_avro, enum, ["CLUBS", "SPADES", "HEARTS", "CLUBS", "DIAMONDS"])
    assert df.schema["v"] == pl.Enum(["SPADES", "HEARTS", "DIAMONDS", "CLUBS"])
    assert df["v"].to_physical().to_list() == [3, 0, 1, 3, 2]
    assert jetliner.read_avro_schema(write_avro(record(("v", enum)), [])) == pl.Schema({"v": df.schema["v"]})


@pytest.mark.parametrize("n_symbols", [1, 256, 257, 300, 65_537])
def test_enum_with_many_symbols(write_avro, n_symbols):
    symbols = [f"S{i}" for i in range(n_symbols)]
    enum = {"type": "enum", "name": "Big", "symbols": symbols}
    picks = sorted({0, n_symbols // 2, n_symbols - 1, min(255, n_symbols - 1), min(256, n_symbols - 1)})
    values = [symbols[i] for i in picks] * 3
    df = one_column(write_avro, enum, values)
    assert df.schema["v"] == pl.Enum(symbols)
    assert df["v"].to_physical().to_list() == picks * 3


def test_enum_nested_in_list_map_and_union(write_avro):
    enum = {"type": "enum", "name": "E", "symbols": ["A", "B", "C"]}
    schema = record(
        ("lst", {"type": "array", "items": enum}),
        ("map", {"type": "map", "values": "E"}),
        ("uni", ["null", "E", "int"]),
        ("opt", ["null", "E"]),
    )
    rows = [
        {"lst": ["A", "C"], "map": {"x": "B"}, "uni": ("E", "C"), "opt": "A"},
        {"lst": [], "map": {}, "uni": 5, "opt": None},
        {"lst": ["B"], "map": {"y": "A", "z": "C"}, "uni": None, "opt": "C"},
    ]
    df = assert_matches_fastavro(write_avro(schema, rows))
    assert df.schema["lst"] == pl.List(pl.Enum(["A", "B", "C"]))
    assert df.schema["uni"] == pl.Struct({"E": pl.Enum(["A", "B", "C"]), "int": pl.Int32()})


@pytest.mark.parametrize("size", [1, 3, 16, 100])
def test_fixed_is_binary(write_avro, size):
    fixed = {"type": "fixed", "name": "F", "size": size}
    values = [bytes(size), bytes([255]) * size, bytes(i % 256 for i in range(size))]
    df = one_column(write_avro, fixed, values)
    assert df.schema["v"] == pl.Binary()
    assert df["v"].to_list() == values


# ---- records, arrays, maps ------------------------------------------------------------------


def test_nested_records_are_structs(write_avro):
    point = record(("x", "double"), ("y", "double"), name="Point")
    line = record(("a", point), ("b", "Point"), ("label", "string"), name="Line")
    schema = record(("line", line), ("points", {"type": "array", "items": "Point"}))
    rows = [
        {"line": {"a": {"x": 0.0, "y": 1.0}, "b": {"x": -1.5, "y": 2.5}, "label": "ü"}, "points": []},
        {
            "line": {"a": {"x": 3.0, "y": 4.0}, "b": {"x": 5.0, "y": 6.0}, "label": ""},
            "points": [{"x": 1.0, "y": 2.0}],
        },
    ]
    df = assert_matches_fastavro(write_avro(schema, rows))
    pt = pl.Struct({"x": pl.Float64(), "y": pl.Float64()})
    assert df.schema["line"] == pl.Struct({"a": pt, "b": pt, "label": pl.String()})
    assert df.schema["points"] == pl.List(pt)


def test_arrays(write_avro):
    schema = record(
        ("ints", {"type": "array", "items": "int"}),
        ("nested", {"type": "array", "items": {"type": "array", "items": "string"}}),
        ("opt", {"type": "array", "items": ["null", "double"]}),
        ("nulls", {"type": "array", "items": "null"}),
    )
    rows = [
        {"ints": [], "nested": [], "opt": [], "nulls": []},
        {"ints": [*I32, 0], "nested": [[], ["a"], ["😀", ""]], "opt": [None, 1.5, None], "nulls": [None] * 5},
        {"ints": list(range(1000)), "nested": [[]] * 3, "opt": [math.nan], "nulls": [None]},
    ]
    df = assert_matches_fastavro(write_avro(schema, rows))
    assert df.schema == pl.Schema(
        {
            "ints": pl.List(pl.Int32()),
            "nested": pl.List(pl.List(pl.String())),
            "opt": pl.List(pl.Float64()),
            "nulls": pl.List(pl.Null()),
        }
    )


def test_maps_are_lists_of_key_value_structs(write_avro):
    schema = record(
        ("m", {"type": "map", "values": "long"}),
        ("mm", {"type": "map", "values": {"type": "map", "values": "string"}}),
        ("ma", {"type": "map", "values": {"type": "array", "items": "int"}}),
    )
    rows = [
        {"m": {}, "mm": {}, "ma": {}},
        {
            "m": {"a": 1, "ü": -2, "😀": I64[0], "": 0},
            "mm": {"x": {}, "y": {"k": "v"}},
            "ma": {"e": [], "f": [1, 2]},
        },
        {"m": {f"k{i}": i for i in range(300)}, "mm": {"": {"": ""}}, "ma": {"g": list(I32)}},
    ]
    df = assert_matches_fastavro(write_avro(schema, rows))
    kv = pl.Struct({"key": pl.String(), "value": pl.Int64()})
    assert df.schema["m"] == pl.List(kv)
    assert df.schema["mm"] == pl.List(
        pl.Struct(
            {"key": pl.String(), "value": pl.List(pl.Struct({"key": pl.String(), "value": pl.String()}))}
        )
    )
    # Entries stay in file order.
    assert [e["key"] for e in df["m"][1]] == ["a", "ü", "😀", ""]


def test_deeply_nested_structure(write_avro):
    leaf = record(
        ("tags", {"type": "map", "values": ["null", "string", "long"]}), ("ok", "boolean"), name="Leaf"
    )
    mid = record(
        ("leaves", {"type": "array", "items": leaf}),
        ("opt_leaf", ["null", "Leaf"]),
        ("grid", {"type": "array", "items": {"type": "array", "items": {"type": "map", "values": "float"}}}),
        name="Mid",
    )
    schema = record(("mids", {"type": "array", "items": mid}), ("by_name", {"type": "map", "values": "Mid"}))

    def make_mid(i: int) -> dict[str, Any]:
        return {
            "leaves": [{"tags": {"a": None, "b": f"s{i}", "c": i}, "ok": i % 2 == 0}] * (i % 3),
            "opt_leaf": None if i % 2 else {"tags": {}, "ok": True},
            "grid": [[{}, {"x": float(i), "y": -0.5}], []],
        }

    rows = [{"mids": [make_mid(i) for i in range(n)], "by_name": {f"m{n}": make_mid(n)}} for n in range(6)]
    df = assert_matches_fastavro(write_avro(schema, rows))
    leaf_dtype = pl.Struct(
        {
            "tags": pl.List(
                pl.Struct(
                    {"key": pl.String(), "value": pl.Struct({"string": pl.String(), "long": pl.Int64()})}
                )
            ),
            "ok": pl.Boolean(),
        }
    )
    assert df.schema["mids"] == pl.List(
        pl.Struct(
            {
                "leaves": pl.List(leaf_dtype),
                "opt_leaf": leaf_dtype,
                "grid": pl.List(pl.List(pl.List(pl.Struct({"key": pl.String(), "value": pl.Float32()})))),
            }
        )
    )


def test_arrays_and_maps_in_several_blocks_with_byte_sizes(tmp_path):
    """Avro lets a writer split an array or map into blocks, and give a block a
    negative count followed by its size in bytes (so readers can skip it). fastavro
    only writes one positive block, but reads these; so must jetliner, both when it
    decodes the column and when it skips it."""
    schema = record(
        ("a", {"type": "array", "items": "long"}),
        ("m", {"type": "map", "values": "string"}),
        ("after", "int"),
    )

    def sized_block(items: list[bytes]) -> bytes:
        body = b"".join(items)
        return encode_long(-len(items)) + encode_long(len(body)) + body

    def plain_block(items: list[bytes]) -> bytes:
        return encode_long(len(items)) + b"".join(items)

    def text(s: str) -> bytes:
        return encode_long(len(s.encode())) + s.encode()

    raw = (
        sized_block([encode_long(1), encode_long(-(2**40))])
        + plain_block([encode_long(3)])
        + sized_block([encode_long(4), encode_long(5), encode_long(6)])
        + b"\x00"
        + sized_block([text("k1") + text("ü")])
        + plain_block([text("k2") + text(""), text("k3") + text("v3")])
        + b"\x00"
        + encode_long(7)
    )
    path = tmp_path / "blocks.avro"
    path.write_bytes(build_file(schema, [(3, raw * 3)]))
    df = assert_matches_fastavro(path)
    assert df["a"][0].to_list() == [1, -(2**40), 3, 4, 5, 6]
    assert [e["key"] for e in df["m"][0]] == ["k1", "k2", "k3"]
    assert jetliner.read_avro(path, columns=["after"])["after"].to_list() == [7, 7, 7]
    assert jetliner.read_avro(path, columns=["m", "after"]).equals(df.select("m", "after"))


def test_records_of_only_nulls_take_no_bytes(write_avro):
    schema = record(("a", "null"), ("b", ["null"]))
    df = assert_matches_fastavro(write_avro(schema, [{"a": None, "b": None}] * 20_000, sync_interval=1 << 30))
    assert df.shape == (20_000, 2)


def test_nested_record_without_fields_is_refused_clearly(write_avro):
    empty = {"type": "record", "name": "Nothing", "fields": []}
    path = write_avro(record(("a", "int"), ("e", empty)), [{"a": 1, "e": {}}])
    for read in (jetliner.read_avro, jetliner.read_avro_schema):
        with pytest.raises(jetliner.SchemaError, match=r"no fields") as info:
            read(path)
        assert "Nothing" in str(info.value)


# ---- general unions ----------------------------------------------------------------------


def test_general_union_of_primitives(write_avro):
    union = ["null", "int", "string", "boolean", "bytes", "double"]
    values = [None, 1, "one", True, b"\x01", 1.5, I32[0], "", False, b"", math.nan, None]
    df = one_column(write_avro, union, values)
    assert df.schema["v"] == pl.Struct(
        {
            "int": pl.Int32(),
            "string": pl.String(),
            "boolean": pl.Boolean(),
            "bytes": pl.Binary(),
            "double": pl.Float64(),
        }
    )
    # The null branch nulls the whole struct; other rows have exactly one non-null field.
    assert df["v"].is_null().to_list() == [v is None for v in values]
    for row in df["v"].to_list():
        if row is not None:
            assert sum(x is not None for x in row.values()) == 1


@pytest.mark.parametrize(
    "null_at", [0, 1, 2, None], ids=["null-first", "null-middle", "null-last", "no-null"]
)
def test_union_null_position(write_avro, null_at):
    union: list[Any] = ["long", "string"]
    if null_at is not None:
        union.insert(null_at, "null")
    values = [5, "x", -(2**40), "😀"] + ([None, None] if null_at is not None else [])
    df = one_column(write_avro, union, values)
    assert df.schema["v"] == pl.Struct({"long": pl.Int64(), "string": pl.String()})


def test_union_of_numeric_types_keeps_the_written_branch(write_avro):
    """int/long and float/double are indistinguishable in fastavro's output, so the
    branch is written explicitly and checked by hand."""
    union = ["int", "long", "float", "double"]
    values = [("int", 1), ("long", 1), ("float", 0.5), ("double", 0.5), ("long", I64[1]), ("int", I32[0])]
    path = write_avro(record(("v", union)), [{"v": v} for v in values])
    df = jetliner.read_avro(path)
    assert df.schema["v"] == pl.Struct(
        {"int": pl.Int32(), "long": pl.Int64(), "float": pl.Float32(), "double": pl.Float64()}
    )
    expected = [dict.fromkeys(union) | {branch: v} for branch, v in values]
    assert df["v"].to_list() == expected


def test_union_of_named_types_uses_short_names(write_avro):
    union = [
        "null",
        record(("id", "long"), name="com.example.User"),
        {"type": "enum", "name": "com.example.Status", "symbols": ["ON", "OFF"]},
        {"type": "fixed", "name": "Hash", "namespace": "com.example", "size": 2},
        {"type": "array", "items": "string"},
        {"type": "map", "values": "int"},
        "string",
    ]
    values = [
        ("com.example.User", {"id": 7}),
        ("com.example.Status", "OFF"),
        ("com.example.Hash", b"\x00\xff"),
        ["a", "b"],
        {"k": 1},
        ("string", "text"),
        None,
    ]
    df = one_column(write_avro, union, values)
    assert df.schema["v"] == pl.Struct(
        {
            "User": pl.Struct({"id": pl.Int64()}),
            "Status": pl.Enum(["ON", "OFF"]),
            "Hash": pl.Binary(),
            "array": pl.List(pl.String()),
            "map": pl.List(pl.Struct({"key": pl.String(), "value": pl.Int32()})),
            "string": pl.String(),
        }
    )


def test_union_of_same_short_names_uses_full_names(write_avro):
    union = [record(("a", "int"), name="one.Rec"), record(("b", "string"), name="two.Rec")]
    df = one_column(write_avro, union, [("one.Rec", {"a": 1}), ("two.Rec", {"b": "x"})])
    assert df.schema["v"] == pl.Struct(
        {"one.Rec": pl.Struct({"a": pl.Int32()}), "two.Rec": pl.Struct({"b": pl.String()})}
    )


def test_unions_inside_arrays_and_maps(write_avro):
    u = ["null", "int", {"type": "array", "items": "string"}]
    schema = record(("a", {"type": "array", "items": u}), ("m", {"type": "map", "values": u}))
    rows = [
        {"a": [None, 1, ["x"], []], "m": {"n": None, "i": 2, "l": ["y", "z"]}},
        {"a": [], "m": {}},
    ]
    df = assert_matches_fastavro(write_avro(schema, rows))
    assert df.schema["a"] == pl.List(pl.Struct({"int": pl.Int32(), "array": pl.List(pl.String())}))


def test_logical_types_inside_general_unions(write_avro):
    union = [
        "null",
        logical("int", "date"),
        logical("long", "timestamp-micros"),
        logical("bytes", "decimal", precision=9, scale=3),
        "string",
    ]
    values = [
        dt.date(2024, 1, 2),
        dt.datetime(2024, 1, 2, 3, 4, 5, 6, tzinfo=UTC),
        Decimal("-123456.789"),
        ("string", "text"),
        None,
    ]
    df = one_column(write_avro, union, values)
    assert df.schema["v"] == pl.Struct(
        {"int": pl.Date(), "long": pl.Datetime("us", "UTC"), "bytes": pl.Decimal(9, 3), "string": pl.String()}
    )


# ---- logical types ----------------------------------------------------------------------


def test_date(write_avro):
    values = [
        dt.date(1970, 1, 1),
        dt.date(1969, 12, 31),
        dt.date(1, 1, 1),
        dt.date(9999, 12, 31),
        dt.date(2024, 2, 29),
    ]
    df = one_column(write_avro, logical("int", "date"), values)
    assert df.schema["v"] == pl.Date()
    assert df["v"].to_list() == values


@pytest.mark.parametrize(
    ("base", "name", "values"),
    [
        ("int", "time-millis", [dt.time(0), dt.time(23, 59, 59, 999000), dt.time(12, 30, 15, 1000)]),
        ("long", "time-micros", [dt.time(0), dt.time(23, 59, 59, 999999), dt.time(1, 2, 3, 4)]),
    ],
)
def test_time(write_avro, base, name, values):
    df = one_column(write_avro, logical(base, name), values)
    assert df.schema["v"] == pl.Time()
    assert df["v"].to_list() == values


@pytest.mark.parametrize(
    ("name", "dtype"),
    [
        ("timestamp-millis", pl.Datetime("ms", "UTC")),
        ("timestamp-micros", pl.Datetime("us", "UTC")),
        ("local-timestamp-millis", pl.Datetime("ms")),
        ("local-timestamp-micros", pl.Datetime("us")),
    ],
)
def test_timestamps(write_avro, name, dtype):
    tz = UTC if name.startswith("timestamp") else None
    micro = 0 if name.endswith("millis") else 123
    values = [
        dt.datetime(1970, 1, 1, tzinfo=tz),
        dt.datetime(1969, 12, 31, 23, 59, 59, 999000 + micro, tzinfo=tz),
        dt.datetime(2024, 2, 29, 12, 0, 0, 5000 + micro, tzinfo=tz),
        dt.datetime(1, 1, 1, tzinfo=tz),
        dt.datetime(9999, 12, 31, 23, 59, 59, 999000, tzinfo=tz),
    ]
    df = one_column(write_avro, logical("long", name), values)
    assert df.schema["v"] == dtype
    got = df["v"].to_list()
    assert got == values
    assert all((v.tzinfo is None) == (tz is None) for v in got)


@pytest.mark.parametrize(("name", "tz"), [("timestamp-nanos", "UTC"), ("local-timestamp-nanos", None)])
def test_nanosecond_timestamps(write_avro, name, tz):
    values = [0, 1, -1, 1_700_000_000_123_456_789, *I64]
    df = one_column(write_avro, logical("long", name), values)
    assert df.schema["v"] == pl.Datetime("ns", tz)
    assert df["v"].cast(pl.Int64).to_list() == values
    assert df["v"][3] == dt.datetime(2023, 11, 14, 22, 13, 20, 123456, tzinfo=UTC if tz else None)


@pytest.mark.parametrize(
    ("name", "dtype"),
    [
        ("timestamp-millis", pl.Datetime("ms", "UTC")),
        ("timestamp-micros", pl.Datetime("us", "UTC")),
        ("local-timestamp-millis", pl.Datetime("ms")),
        ("local-timestamp-micros", pl.Datetime("us")),
    ],
)
def test_timestamp_values_beyond_python_datetime(write_avro, name, dtype):
    """fastavro cannot turn these into datetimes, so the stored integers are the oracle.

    Extremes such as Long.MAX_VALUE ("valid forever") are read exactly, though
    Polars cannot print instants beyond the year 262142.
    """
    values = [*I64, -1, 0, 253402300800000]  # the last: year 10000 in ms
    path = write_avro(record(("v", logical("long", name))), [{"v": v} for v in values])
    df = jetliner.read_avro(path)
    assert df.schema["v"] == dtype
    assert df["v"].cast(pl.Int64).to_list() == values


DECIMAL_CASES = [
    (1, 0, ["0", "9", "-9", "5"]),
    (4, 2, ["0.00", "12.34", "-12.34", "0.01", "-0.01", "99.99", "-99.99"]),
    (9, 9, ["0.123456789", "-0.999999999", "0.000000001"]),
    (18, 6, ["123456789012.345678", "-999999999999.999999", "0.000001", "-0.000001"]),
    (20, 0, ["12345678901234567890", "-99999999999999999999"]),
    (
        38,
        10,
        [
            "9999999999999999999999999999.9999999999",
            "-9999999999999999999999999999.9999999999",
            "0.0000000001",
        ],
    ),
    (38, 0, [str(10**38 - 1), str(-(10**38 - 1)), str(2**63), str(-(2**64))]),
]


@pytest.mark.parametrize(
    ("precision", "scale", "values"), DECIMAL_CASES, ids=[f"{p}-{s}" for p, s, _ in DECIMAL_CASES]
)
def test_bytes_decimal(write_avro, precision, scale, values):
    decimals = [Decimal(v) for v in values]
    df = one_column(write_avro, logical("bytes", "decimal", precision=precision, scale=scale), decimals)
    assert df.schema["v"] == pl.Decimal(precision, scale)
    assert df["v"].to_list() == decimals


@pytest.mark.parametrize(
    ("precision", "scale", "values"), DECIMAL_CASES, ids=[f"{p}-{s}" for p, s, _ in DECIMAL_CASES]
)
def test_fixed_decimal(write_avro, precision, scale, values):
    # The smallest size that holds the precision, and a wider one (sign-extended).
    size = next(n for n in range(1, 20) if 2 ** (8 * n - 1) > 10**precision)
    for width in (size, max(size, 17)):
        fixed = {"type": "fixed", "name": f"D{width}", "size": width, "logicalType": "decimal"}
        fixed |= {"precision": precision, "scale": scale}
        decimals = [Decimal(v) for v in values]
        df = one_column(write_avro, fixed, decimals, name=f"w{width}.avro")
        assert df.schema["v"] == pl.Decimal(precision, scale)
        assert df["v"].to_list() == decimals


def test_nullable_decimal_in_nested_types(write_avro):
    dec = logical("bytes", "decimal", precision=10, scale=3)
    schema = record(
        ("opt", ["null", dec]),
        ("arr", {"type": "array", "items": dec}),
        ("map", {"type": "map", "values": dec}),
    )
    rows = [
        {
            "opt": Decimal("1.500"),
            "arr": [Decimal("-0.001"), Decimal("0.000")],
            "map": {"a": Decimal("9999999.999")},
        },
        {"opt": None, "arr": [], "map": {}},
    ]
    df = assert_matches_fastavro(write_avro(schema, rows))
    assert df.schema["arr"] == pl.List(pl.Decimal(10, 3))


def test_uuid_string_and_fixed(write_avro):
    ids = [
        uuid.UUID(int=0),
        uuid.UUID(int=2**128 - 1),
        uuid.uuid4(),
        uuid.UUID("12345678-9abc-def0-1234-56789abcdef0"),
    ]
    schema = record(
        ("s", logical("string", "uuid")),
        ("f", {"type": "fixed", "name": "U", "size": 16, "logicalType": "uuid"}),
        ("opt", ["null", logical("string", "uuid")]),
    )
    rows = [{"s": u, "f": u.bytes, "opt": u if i % 2 else None} for i, u in enumerate(ids)]
    df = assert_matches_fastavro(write_avro(schema, rows))
    assert df.schema == pl.Schema({"s": pl.String(), "f": pl.String(), "opt": pl.String()})
    assert df["f"].to_list() == [str(u) for u in ids]
    assert df["s"].to_list() == [str(u) for u in ids]


def test_duration_is_struct_of_uint32(write_avro):
    fixed = {"type": "fixed", "name": "Dur", "size": 12, "logicalType": "duration"}
    parts = [(0, 0, 0), (1, 2, 3), (2**32 - 1, 2**32 - 1, 2**32 - 1), (12, 0, 86_400_000)]
    values = [struct.pack("<3I", *p) for p in parts]
    schema = record(("d", fixed), ("opt", ["null", "Dur"]))
    df = assert_matches_fastavro(
        write_avro(schema, [{"d": v, "opt": v if i % 2 else None} for i, v in enumerate(values)])
    )
    assert df.schema["d"] == DURATION
    assert df["d"].to_list() == [dict(zip(["months", "days", "millis"], p, strict=True)) for p in parts]


@pytest.mark.parametrize(
    ("avro", "dtype", "value"),
    [
        (logical("int", "no-such-type"), pl.Int32(), 5),
        (logical("string", "email"), pl.String(), "a@b.c"),
        (logical("long", "date"), pl.Int64(), 5),  # date is only for int
        (logical("int", "timestamp-millis"), pl.Int32(), 5),  # timestamps are only for long
        (logical("bytes", "uuid"), pl.Binary(), b"\x01"),
        ({"type": "fixed", "name": "U8", "size": 8, "logicalType": "uuid"}, pl.Binary(), b"12345678"),
        ({"type": "fixed", "name": "D8", "size": 8, "logicalType": "duration"}, pl.Binary(), b"12345678"),
        ({"type": "fixed", "name": "X", "size": 2, "logicalType": "made-up"}, pl.Binary(), b"ab"),
    ],
    ids=[
        "int",
        "string",
        "long-date",
        "int-timestamp",
        "bytes-uuid",
        "fixed8-uuid",
        "fixed8-duration",
        "fixed",
    ],
)
def test_unknown_or_misapplied_logical_type_is_the_underlying_type(write_avro, avro, dtype, value):
    df = one_column(write_avro, avro, [value, value])
    assert df.schema["v"] == dtype
    assert df["v"].to_list() == [value, value]


def test_decimal_wider_than_polars_stays_binary(write_avro):
    """Polars' Decimal holds 38 digits. Rather than lose digits, a wider decimal is
    read as its underlying bytes (big-endian two's complement of the unscaled value)."""
    values = [Decimal("1.25"), Decimal("-" + "9" * 38 + ".99"), Decimal("0.00")]
    path = write_avro(
        record(("v", logical("bytes", "decimal", precision=40, scale=2))), [{"v": v} for v in values]
    )
    df = jetliner.read_avro(path)
    assert df.schema["v"] == pl.Binary()
    unscaled = [int(v.scaleb(2, context=Context(prec=60))) for v in values]
    assert [int.from_bytes(b, "big", signed=True) for b in df["v"].to_list()] == unscaled


@pytest.mark.parametrize(
    "decimal",
    [
        {"precision": 4, "scale": 6},
        {"precision": 0, "scale": 0},
        {"scale": 2},
        {"precision": -3},
        {"precision": "7"},
        {"precision": 5, "scale": -1},
    ],
    ids=["scale-above-precision", "zero-precision", "no-precision", "negative", "string", "negative-scale"],
)
def test_invalid_decimal_is_its_underlying_type(write_avro, decimal):
    """The Avro spec: an invalid logical type is ignored. fastavro refuses to write
    these, so the header of a plain bytes file is rewritten."""
    path = write_avro(record(("v", "bytes")), [{"v": b"\x01\x02"}, {"v": b""}])
    schema = record(("v", {"type": "bytes", "logicalType": "decimal", **decimal}))
    path.write_bytes(rewrite_header(path.read_bytes(), avro_schema=json.dumps(schema).encode()))
    assert jetliner.read_avro_schema(path) == pl.Schema({"v": pl.Binary()})
    assert jetliner.read_avro(path)["v"].to_list() == [b"\x01\x02", b""]


# ---- recursive types -------------------------------------------------------------------


def test_recursive_linked_list_is_json(write_avro):
    schema = {
        "type": "record",
        "name": "Node",
        "fields": [
            {"name": "label", "type": "string"},
            {
                "name": "payload",
                "type": ["null", "bytes", "double", {"type": "enum", "name": "K", "symbols": ["A", "B"]}],
            },
            {"name": "attrs", "type": {"type": "map", "values": "float"}},
            {"name": "next", "type": ["null", "Node"]},
        ],
    }

    def chain(n: int) -> dict[str, Any] | None:
        node = None
        for i in range(n):
            payload = [None, b'\x00\xff"', math.inf, "B", -0.0][i % 5]
            node = {"label": f'n{i} "ü" \\ 😀', "payload": payload, "attrs": {"x": 0.1, "y": i}, "next": node}
        return node

    rows = [chain(n) for n in (1, 2, 5, 60)]
    df = assert_matches_fastavro(write_avro(schema, rows))
    assert df.schema["next"] == pl.String()
    assert df["next"].is_null().to_list() == [True, False, False, False]


def test_recursion_through_arrays_and_maps(write_avro):
    schema = {
        "type": "record",
        "name": "ns.Tree",
        "fields": [
            {"name": "v", "type": "int"},
            {"name": "kids", "type": {"type": "array", "items": "ns.Tree"}},
            {"name": "named", "type": {"type": "map", "values": "Tree"}},
        ],
    }
    leaf = {"v": 3, "kids": [], "named": {}}
    rows = [
        {"v": 1, "kids": [leaf, {"v": 2, "kids": [leaf], "named": {"a": leaf}}], "named": {"z": leaf}},
        {"v": 0, "kids": [], "named": {}},
    ]
    df = assert_matches_fastavro(write_avro(schema, rows))
    assert df.schema == pl.Schema(
        {
            "v": pl.Int32(),
            "kids": pl.List(pl.String()),
            "named": pl.List(pl.Struct({"key": pl.String(), "value": pl.String()})),
        }
    )


def test_mutual_recursion(write_avro):
    schema = {
        "type": "record",
        "name": "A",
        "fields": [
            {"name": "x", "type": "long"},
            {
                "name": "b",
                "type": [
                    "null",
                    {
                        "type": "record",
                        "name": "B",
                        "fields": [{"name": "y", "type": "string"}, {"name": "a", "type": ["null", "A"]}],
                    },
                ],
            },
        ],
    }
    rows = [
        {"x": 1, "b": None},
        {"x": 2, "b": {"y": "b1", "a": None}},
        {"x": 3, "b": {"y": "b2", "a": {"x": 4, "b": {"y": "b3", "a": None}}}},
    ]
    df = assert_matches_fastavro(write_avro(schema, rows))
    assert df.schema["b"] == pl.Struct({"y": pl.String(), "a": pl.String()})


def test_logical_types_inside_recursive_values_are_their_underlying_values(write_avro):
    """A recursive value is JSON of the Avro data: logical types show their stored value."""
    schema = {
        "type": "record",
        "name": "Event",
        "fields": [
            {"name": "at", "type": logical("long", "timestamp-millis")},
            {"name": "day", "type": logical("int", "date")},
            {"name": "id", "type": logical("string", "uuid")},
            {"name": "amount", "type": logical("bytes", "decimal", precision=8, scale=2)},
            {
                "name": "price",
                "type": {
                    "type": "fixed",
                    "name": "P",
                    "size": 4,
                    "logicalType": "decimal",
                    "precision": 6,
                    "scale": 1,
                },
            },
            {"name": "wait", "type": {"type": "fixed", "name": "W", "size": 12, "logicalType": "duration"}},
            {"name": "parent", "type": ["null", "Event"]},
        ],
    }
    child = {
        "at": dt.datetime(2024, 5, 6, 7, 8, 9, 10000, tzinfo=UTC),
        "day": dt.date(1960, 1, 1),
        "id": uuid.UUID(int=5),
        "amount": Decimal("-1.50"),
        "price": Decimal("-0.5"),
        "wait": struct.pack("<3I", 1, 2, 3),
        "parent": None,
    }
    rows = [{**child, "parent": child}, {**child, "amount": Decimal("123456.78"), "parent": None}]
    df = assert_matches_fastavro(write_avro(schema, rows))

    parent = json.loads(df["parent"][0])
    assert parent["at"] == 1714979289010
    assert parent["day"] == -3653
    assert parent["id"] == str(uuid.UUID(int=5))
    assert parent["amount"].encode("latin-1") == (-150).to_bytes(2, "big", signed=True)
    assert parent["price"].encode("latin-1") == (-5).to_bytes(4, "big", signed=True)
    assert parent["wait"].encode("latin-1") == struct.pack("<3I", 1, 2, 3)


# ---- top-level schemas that are not records -----------------------------------------------


TOP_LEVEL = [
    ("int", pl.Int32(), [0, *I32]),
    ("string", pl.String(), UNICODE),
    ({"type": "array", "items": "long"}, pl.List(pl.Int64()), [[], [1, 2], I64]),
    (
        {"type": "map", "values": "string"},
        pl.List(pl.Struct({"key": pl.String(), "value": pl.String()})),
        [{}, {"a": "b"}],
    ),
    (["null", "double"], pl.Float64(), [None, 1.5, None]),
    (["int", "string"], pl.Struct({"int": pl.Int32(), "string": pl.String()}), [1, "a"]),
    ({"type": "enum", "name": "E", "symbols": ["X", "Y"]}, pl.Enum(["X", "Y"]), ["Y", "X"]),
    ({"type": "fixed", "name": "F", "size": 2}, pl.Binary(), [b"ab", b"\x00\x00"]),
    (
        logical("long", "timestamp-micros"),
        pl.Datetime("us", "UTC"),
        [dt.datetime(2020, 5, 17, 1, 2, 3, 4, tzinfo=UTC)],
    ),
]


@pytest.mark.parametrize(("schema", "dtype", "values"), TOP_LEVEL, ids=[str(d) for _, d, _ in TOP_LEVEL])
def test_top_level_non_record_is_one_value_column(write_avro, schema, dtype, values):
    df = assert_matches_fastavro(write_avro(schema, values))
    assert df.schema == pl.Schema({"value": dtype})
    assert df.height == len(values)


def test_top_level_null_schema(write_avro):
    df = assert_matches_fastavro(write_avro("null", [None] * 1000, sync_interval=1 << 30))
    assert df.schema == pl.Schema({"value": pl.Null()})
    assert df.height == 1000


# ---- whole files ----------------------------------------------------------------------


def test_empty_file_schema_matches_for_every_type(write_avro):
    """read_avro_schema (header only) and an empty read agree with the table."""
    schema = record(
        ("d", logical("int", "date")),
        ("t", logical("long", "local-timestamp-nanos")),
        (
            "dec",
            {"type": "fixed", "name": "D", "size": 8, "logicalType": "decimal", "precision": 12, "scale": 4},
        ),
        ("u", ["null", "int", "string"]),
        ("m", {"type": "map", "values": {"type": "enum", "name": "E", "symbols": ["a"]}}),
    )
    path = write_avro(schema, [])
    want = pl.Schema(
        {
            "d": pl.Date(),
            "t": pl.Datetime("ns"),
            "dec": pl.Decimal(12, 4),
            "u": pl.Struct({"int": pl.Int32(), "string": pl.String()}),
            "m": pl.List(pl.Struct({"key": pl.String(), "value": pl.Enum(["a"])})),
        }
    )
    assert jetliner.read_avro_schema(path) == want
    df = jetliner.read_avro(path)
    assert df.schema == want
    assert df.height == 0


def test_every_logical_type_in_one_file_many_blocks(write_avro):
    schema = record(
        ("date", logical("int", "date")),
        ("tm", logical("int", "time-millis")),
        ("tu", logical("long", "time-micros")),
        ("tsm", ["null", logical("long", "timestamp-millis")]),
        ("tsu", logical("long", "timestamp-micros")),
        ("tsn", logical("long", "timestamp-nanos")),
        ("ltm", logical("long", "local-timestamp-millis")),
        ("ltu", logical("long", "local-timestamp-micros")),
        ("ltn", ["null", logical("long", "local-timestamp-nanos")]),
        ("dec", logical("bytes", "decimal", precision=12, scale=2)),
        ("uid", logical("string", "uuid")),
    )
    base = dt.datetime(2000, 1, 1)
    rows = []
    for i in range(500):
        t = base + dt.timedelta(seconds=i * 7919, milliseconds=i)
        rows.append(
            {
                "date": t.date(),
                "tm": t.time().replace(microsecond=(i % 1000) * 1000),
                "tu": t.time().replace(microsecond=i),
                "tsm": None if i % 7 == 0 else t.replace(tzinfo=UTC),
                "tsu": t.replace(tzinfo=UTC, microsecond=i),
                "tsn": i * 1_000_000_007,
                "ltm": t,
                "ltu": t.replace(microsecond=i),
                "ltn": None if i % 5 == 0 else -i * 999,
                "dec": Decimal(i * 12345 - 3_000_000).scaleb(-2),
                "uid": uuid.UUID(int=i * 2**100 + i),
            }
        )
    df = assert_matches_fastavro(write_avro(schema, rows, sync_interval=500))
    assert df.height == 500
    assert frame_rows(df)[1]["tsn"] == 1_000_000_007


def test_each_column_alone_equals_the_full_read(write_avro):
    """Reading one column skips all the others: every type's skipper must move
    exactly as far as its decoder."""
    enum = {"type": "enum", "name": "E", "symbols": [f"s{i}" for i in range(300)]}
    leaf = record(("k", "string"), ("n", ["null", "long"]), name="Leaf")
    schema = record(
        ("b", "boolean"),
        ("i", "int"),
        ("f", "float"),
        ("d", "double"),
        ("by", "bytes"),
        ("s", "string"),
        ("fx", {"type": "fixed", "name": "F3", "size": 3}),
        ("e", enum),
        ("rec", leaf),
        ("arr", {"type": "array", "items": "Leaf"}),
        ("map", {"type": "map", "values": {"type": "array", "items": "double"}}),
        ("opt", ["null", "string"]),
        ("uni", ["null", "int", "string", "Leaf", "E"]),
        ("dec", logical("bytes", "decimal", precision=20, scale=4)),
        (
            "fdec",
            {"type": "fixed", "name": "FD", "size": 9, "logicalType": "decimal", "precision": 20, "scale": 4},
        ),
        ("uid", {"type": "fixed", "name": "U", "size": 16, "logicalType": "uuid"}),
        ("dur", {"type": "fixed", "name": "Dur", "size": 12, "logicalType": "duration"}),
        ("ts", logical("long", "timestamp-micros")),
        ("tm", logical("int", "time-millis")),
        ("nul", "null"),
        ("last", "long"),
    )
    rows = []
    for i in range(300):
        rows.append(
            {
                "b": i % 3 == 0,
                "i": i * 7919 - 10**6,
                "f": i / 8,
                "d": -i / 3,
                "by": bytes(range(i % 40)),
                "s": "ü😀" * (i % 5),
                "fx": bytes([i % 256]) * 3,
                "e": f"s{(i * 37) % 300}",
                "rec": {"k": str(i), "n": None if i % 2 else i},
                "arr": [{"k": "x", "n": j} for j in range(i % 4)],
                "map": {f"m{j}": [float(j)] * j for j in range(i % 3)},
                "opt": None if i % 4 else "o",
                "uni": [None, i, str(i), ("Leaf", {"k": "u", "n": None}), ("E", "s299")][i % 5],
                "dec": Decimal(i * 10**12 - 5).scaleb(-4),
                "fdec": Decimal(-i).scaleb(-4),
                "uid": uuid.UUID(int=i).bytes,
                "dur": struct.pack("<3I", i, i + 1, i + 2),
                "ts": dt.datetime(2001, 1, 1, tzinfo=UTC) + dt.timedelta(microseconds=i * 10**9 + i),
                "tm": dt.time(i % 24, i % 60, i % 60, (i % 1000) * 1000),
                "nul": None,
                "last": -(i**5),
            }
        )
    path = write_avro(schema, rows, sync_interval=4000)
    full = assert_matches_fastavro(path)
    for name in full.columns:
        alone = jetliner.read_avro(path, columns=[name])
        assert alone.columns == [name]
        assert alone.schema[name] == full.schema[name]
        assert alone.equals(full.select(name)), name
    # And every column but one, in reverse order.
    for name in ("b", "uni", "last"):
        others = [c for c in reversed(full.columns) if c != name]
        assert jetliner.read_avro(path, columns=others).equals(full.select(others)), name

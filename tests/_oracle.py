"""fastavro as the oracle: what jetliner should produce for an Avro file.

``expected_schema`` maps an Avro schema to the Polars schema of API.md's type table,
written independently of the engine; ``expected_rows`` converts records as fastavro
decodes them to the Python values Polars should hold. ``assert_matches_fastavro``
puts the two together for a whole file. The framing helpers (``read_header``,
``frame_blocks``, ``expected_recovery``, ``rewrite_header``, ``build_file``) let tests
look at, make and break single blocks.

Where API.md leaves a choice, these helpers encode the one the engine makes:

* general unions are a Struct with one field per non-null branch, named by the type
  name ("int", "string", "array", ...) or the short name of a named type (the full
  name when two branches share a short name); only the taken branch is non-null, and
  the whole struct is null when the null branch is taken;
* a reference to a record that is being expanded (recursion) is a String holding the
  value as plain JSON: records and maps as objects, unions as the bare branch value,
  bytes/fixed as strings of code points 0-255, enums as their symbol, non-finite
  floats as "NaN"/"Infinity"/"-Infinity", logical types as their underlying value;
* duration is a Struct{months, days, millis} of UInt32;
* a decimal wider than 38 digits, like an invalid logical type, is its underlying type;
* timestamp-nanos and local-timestamp-nanos values (which fastavro leaves as ints)
  are compared as ints: the actual frame's ns datetimes are cast to Int64 first.
"""

from __future__ import annotations

import bz2
import datetime as dt
import decimal
import io
import json
import lzma
import math
import struct
import uuid
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cramjam
import fastavro
import jetliner
import polars as pl
from fastavro.read import HEADER_SCHEMA

try:  # Python 3.14 has compression.zstd; older ones use the backport.
    from compression import zstd  # type: ignore[import-not-found]
except ImportError:  # pragma: no cover - depends on the Python version
    from backports import zstd  # type: ignore[import-not-found,no-redef]

PRIMITIVES: dict[str, pl.DataType] = {
    "null": pl.Null(),
    "boolean": pl.Boolean(),
    "int": pl.Int32(),
    "long": pl.Int64(),
    "float": pl.Float32(),
    "double": pl.Float64(),
    "bytes": pl.Binary(),
    "string": pl.String(),
}
NAMED = ("record", "error", "enum", "fixed")
DURATION = pl.Struct({"months": pl.UInt32(), "days": pl.UInt32(), "millis": pl.UInt32()})
TIMESTAMPS = {
    "timestamp-millis": ("ms", "UTC"),
    "timestamp-micros": ("us", "UTC"),
    "timestamp-nanos": ("ns", "UTC"),
    "local-timestamp-millis": ("ms", None),
    "local-timestamp-micros": ("us", None),
    "local-timestamp-nanos": ("ns", None),
}


class AmbiguousUnionError(Exception):
    """fastavro's value does not say which of several union branches was taken."""


@dataclass(frozen=True)
class Json:
    """An expected recursive value: the actual cell must be JSON text equal to ``value``."""

    value: Any


# ---- schema walking ---------------------------------------------------------------


@dataclass
class Walker:
    """Walks a schema as fastavro parses it (full names, later uses by reference).

    ``stack`` holds the records being expanded: a reference to one of them is
    recursion, which the engine renders as JSON text.
    """

    named: dict[str, Any] = field(default_factory=dict)
    stack: list[str] = field(default_factory=list)

    def register(self, s: Any) -> Walker:
        """Learn every named type defined anywhere in ``s``."""
        if isinstance(s, list):
            for b in s:
                self.register(b)
        elif isinstance(s, dict):
            if s.get("type") in NAMED:
                self.named.setdefault(s["name"], s)
            for key in ("type", "items", "values"):
                if isinstance(s.get(key), (dict, list)):
                    self.register(s[key])
            for f in s.get("fields", []):
                self.register(f["type"])
        return self

    def resolve(self, s: Any) -> Any:
        """Register a named definition, follow a reference; return the schema itself."""
        if isinstance(s, dict) and s.get("type") in NAMED:
            self.named.setdefault(s["name"], s)
            return s
        if isinstance(s, str) and s not in PRIMITIVES:
            return self.named[s]
        return s

    def is_recursive(self, s: Any) -> bool:
        return isinstance(s, str) and s in self.stack

    # -- dtypes --
    def dtype(self, s: Any) -> pl.DataType:
        if self.is_recursive(s):
            return pl.String()
        s = self.resolve(s)
        if isinstance(s, str):
            return PRIMITIVES[s]
        if isinstance(s, list):
            return self._union_dtype(s)
        t = s["type"]
        if not isinstance(t, str) or (t in PRIMITIVES and "logicalType" not in s):
            return self.dtype(t)
        logical = _logical(s)
        if logical is not None:
            return logical
        if t == "record" or t == "error":
            self.stack.append(s["name"])
            try:
                return pl.Struct({f["name"]: self.dtype(f["type"]) for f in s["fields"]})
            finally:
                self.stack.pop()
        if t == "enum":
            return pl.Enum(s["symbols"])
        if t == "fixed":
            return pl.Binary()
        if t == "array":
            return pl.List(self.dtype(s["items"]))
        if t == "map":
            return pl.List(pl.Struct({"key": pl.String(), "value": self.dtype(s["values"])}))
        return PRIMITIVES[t]

    def _union_dtype(self, branches: list[Any]) -> pl.DataType:
        others = [b for b in branches if b != "null"]
        if not others:
            return pl.Null()
        if len(others) == 1 and len(branches) <= 2:
            return self.dtype(others[0])
        return pl.Struct(
            {name: self.dtype(b) for name, b in zip(self.branch_names(others), others, strict=True)}
        )

    def branch_names(self, branches: list[Any]) -> list[str]:
        names = [self.branch_name(b)[0] for b in branches]
        return [
            self.branch_name(b)[1] if names.count(short) > 1 else short
            for b, short in zip(branches, names, strict=True)
        ]

    def branch_name(self, b: Any) -> tuple[str, str]:
        """(short name, full name) of a union branch: the type name for unnamed types."""
        s = self.resolve(b) if not self.is_recursive(b) else self.named[b]
        if isinstance(s, dict) and s.get("type") in NAMED:
            return s["name"].rsplit(".", 1)[-1], s["name"]
        t = s if isinstance(s, str) else s["type"]
        return t, t

    # -- values --
    def value(self, s: Any, v: Any) -> Any:
        if self.is_recursive(s):
            return Json(self.json(s, v))
        s = self.resolve(s)
        if isinstance(s, str):
            return _primitive(s, v)
        if isinstance(s, list):
            return self._union_value(s, v)
        t = s["type"]
        if not isinstance(t, str) or (t in PRIMITIVES and "logicalType" not in s):
            return self.value(t, v)
        if _logical(s) is not None:
            return _logical_value(s, v)
        if t == "record" or t == "error":
            self.stack.append(s["name"])
            try:
                return {f["name"]: self.value(f["type"], v[f["name"]]) for f in s["fields"]}
            finally:
                self.stack.pop()
        if t == "enum":
            assert v in s["symbols"]
            return v
        if t == "fixed":
            assert isinstance(v, bytes) and len(v) == s["size"]
            return v
        if t == "array":
            return [self.value(s["items"], x) for x in v]
        if t == "map":
            return [{"key": k, "value": self.value(s["values"], x)} for k, x in v.items()]
        return _primitive(t, v)

    def _union_value(self, branches: list[Any], v: Any) -> Any:
        others = [b for b in branches if b != "null"]
        i = self.union_branch(branches, v)
        if isinstance(v, tuple):
            v = v[1]
        if len(others) <= 1 and len(branches) <= 2:
            return None if branches[i] == "null" else self.value(branches[i], v)
        if branches[i] == "null":
            return None
        names = self.branch_names(others)
        out: dict[str, Any] = dict.fromkeys(names)
        out[names[others.index(branches[i])]] = self.value(branches[i], v)
        return out

    def union_branch(self, branches: list[Any], v: Any) -> int:
        """Which branch fastavro's value came from (read with return_named_type=True)."""
        if isinstance(v, tuple):
            full = v[0]
            hits = [i for i, b in enumerate(branches) if b != "null" and self.branch_name(b)[1] == full]
        else:
            hits = [i for i, b in enumerate(branches) if self._python_fits(b, v)]
        if len(hits) != 1:
            raise AmbiguousUnionError(f"value {v!r} matches branches {hits} of {branches}")
        return hits[0]

    def _python_fits(self, b: Any, v: Any) -> bool:
        s = self.named[b] if self.is_recursive(b) else self.resolve(b)
        if isinstance(s, dict) and s.get("type") in NAMED:
            return False  # named values come back as (name, value) tuples
        t = s if isinstance(s, str) else s["type"]
        if not isinstance(t, str):
            return self._python_fits(t, v)
        logical = s.get("logicalType") if isinstance(s, dict) else None
        py = _FASTAVRO_LOGICAL.get(f"{t}-{logical}")
        if py is not None:
            return isinstance(v, py) and not (
                py is dt.datetime and _aware(v) != logical.startswith("timestamp")
            )
        if isinstance(v, bool):
            return t == "boolean"
        kinds = {
            "null": type(None),
            "int": int,
            "long": int,
            "float": float,
            "double": float,
            "string": str,
            "bytes": bytes,
            "array": list,
            "map": dict,
        }
        return isinstance(v, kinds.get(t, ()))

    # -- recursive values as JSON --
    def json(self, s: Any, v: Any) -> Any:
        s = self.named[s] if isinstance(s, str) and s in self.named else self.resolve(s)
        if isinstance(s, str):
            return _json_primitive(s, v)
        if isinstance(s, list):
            i = self.union_branch(s, v)
            return self.json(s[i], v[1] if isinstance(v, tuple) else v)
        t = s["type"]
        if not isinstance(t, str):
            return self.json(t, v)
        if "logicalType" in s and t in (*PRIMITIVES, "fixed"):
            return _json_primitive(t, _unlogical(s, v))
        if t in ("record", "error"):
            return {f["name"]: self.json(f["type"], v[f["name"]]) for f in s["fields"]}
        if t == "array":
            return [self.json(s["items"], x) for x in v]
        if t == "map":
            return {k: self.json(s["values"], x) for k, x in v.items()}
        if t == "fixed":
            return v.decode("latin-1")
        if t == "enum":
            return v
        return _json_primitive(t, v)


_FASTAVRO_LOGICAL: dict[str, type] = {
    "int-date": dt.date,
    "int-time-millis": dt.time,
    "long-time-micros": dt.time,
    "long-timestamp-millis": dt.datetime,
    "long-timestamp-micros": dt.datetime,
    "long-local-timestamp-millis": dt.datetime,
    "long-local-timestamp-micros": dt.datetime,
    "bytes-decimal": decimal.Decimal,
    "string-uuid": uuid.UUID,
}


def _aware(v: dt.datetime) -> bool:
    return v.tzinfo is not None


def _logical(s: dict[str, Any]) -> pl.DataType | None:
    """The dtype of a logical type, or None when the engine must ignore it."""
    t, name = s["type"], s.get("logicalType")
    if name is None:
        return None
    if t == "int" and name == "date":
        return pl.Date()
    if (t, name) in (("int", "time-millis"), ("long", "time-micros")):
        return pl.Time()
    if t == "long" and name in TIMESTAMPS:
        unit, tz = TIMESTAMPS[name]
        return pl.Datetime(unit, tz)  # type: ignore[arg-type]
    if name == "decimal" and t in ("bytes", "fixed"):
        p, sc = s.get("precision", 0), s.get("scale", 0)
        if isinstance(p, int) and isinstance(sc, int) and 0 < p <= 38 and 0 <= sc <= p:
            return pl.Decimal(p, sc)
        return None
    if name == "uuid" and (t == "string" or (t == "fixed" and s["size"] == 16)):
        return pl.String()
    if name == "duration" and t == "fixed" and s["size"] == 12:
        return DURATION
    return None


def _logical_value(s: dict[str, Any], v: Any) -> Any:
    t, name = s["type"], s["logicalType"]
    if name in ("timestamp-nanos", "local-timestamp-nanos"):
        assert type(v) is int, v  # fastavro leaves these as ints; compared as ints
        return v
    if name == "uuid":
        return str(v) if t == "string" else str(uuid.UUID(bytes=v))
    if name == "duration":
        months, days, millis = struct.unpack("<3I", v)
        return {"months": months, "days": days, "millis": millis}
    if name == "decimal" and t == "fixed" and isinstance(v, bytes):  # pragma: no cover
        raise AssertionError("fastavro should decode fixed decimals")
    return v  # date, time, timestamps ms/us, decimal: fastavro already decoded them


def _unlogical(s: dict[str, Any], v: Any) -> Any:
    """The underlying Avro value of a logical value, as the engine's JSON shows it."""
    name = s["logicalType"]
    epoch = dt.datetime(1970, 1, 1)
    if isinstance(v, dt.datetime):
        delta = (v.astimezone(dt.timezone.utc).replace(tzinfo=None) if v.tzinfo else v) - epoch
        us = (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds
        return us // 1000 if name.endswith("millis") else us
    if isinstance(v, dt.date):
        return (v - epoch.date()).days
    if isinstance(v, dt.time):
        us = ((v.hour * 60 + v.minute) * 60 + v.second) * 1_000_000 + v.microsecond
        return us // 1000 if name == "time-millis" else us
    if isinstance(v, uuid.UUID):
        return str(v)
    if isinstance(v, decimal.Decimal):
        unscaled = int(v.scaleb(s["scale"], context=decimal.Context(prec=100)))
        size = s.get("size") or max(1, (unscaled.bit_length() + 8) // 8)
        return unscaled.to_bytes(size, "big", signed=True)
    return v


def _primitive(t: str, v: Any) -> Any:
    expected = {"null": type(None), "boolean": bool, "int": int, "long": int, "float": float, "double": float}
    expected |= {"bytes": bytes, "string": str}
    assert isinstance(v, expected[t]), (t, v)
    return v


def _json_primitive(t: str, v: Any) -> Any:
    if t in ("float", "double"):
        if math.isnan(v):
            return "NaN"
        if math.isinf(v):
            return "Infinity" if v > 0 else "-Infinity"
        return float(shortest_float32(v)) if t == "float" else v
    if t in ("bytes", "fixed"):
        return v.decode("latin-1")
    return v


def shortest_float32(x: float) -> str:
    """The shortest decimal text that reads back as the same float32."""
    packed = struct.pack("<f", x)
    for digits in range(1, 18):
        text = f"{x:.{digits}g}"
        if struct.pack("<f", float(text)) == packed:
            return text
    return repr(x)  # pragma: no cover


# ---- files --------------------------------------------------------------------------


def writer_schema(path: Path) -> Any:
    """The writer schema of a file, as fastavro parses it."""
    with Path(path).open("rb") as fh:
        return fastavro.reader(fh).writer_schema


def fastavro_records(path: Path) -> list[Any]:
    """Every record, with named union branches as (full name, value) tuples."""
    with Path(path).open("rb") as fh:
        return list(fastavro.reader(fh, return_named_type=True))


def expected_schema(schema: Any) -> pl.Schema:
    """The Polars schema API.md's table gives for a writer schema (fastavro-parsed)."""
    w = Walker().register(schema)
    top = w.resolve(schema)
    if isinstance(top, dict) and top.get("type") in ("record", "error"):
        w.stack.append(top["name"])
        return pl.Schema({f["name"]: w.dtype(f["type"]) for f in top["fields"]})
    return pl.Schema({"value": w.dtype(schema)})


def expected_rows(schema: Any, records: Sequence[Any]) -> list[dict[str, Any]]:
    """fastavro's records converted to the rows (dicts) Polars should hold."""
    w = Walker().register(schema)
    top = w.resolve(schema)
    if isinstance(top, dict) and top.get("type") in ("record", "error"):
        w.stack.append(top["name"])
        return [{f["name"]: w.value(f["type"], r[f["name"]]) for f in top["fields"]} for r in records]
    return [{"value": w.value(schema, r)} for r in records]


def _ns_as_int(dtype: pl.DataType) -> pl.DataType:
    """dtype with every nanosecond Datetime replaced by Int64 (nested too)."""
    if isinstance(dtype, pl.Datetime) and dtype.time_unit == "ns":
        return pl.Int64()
    if isinstance(dtype, pl.List):
        return pl.List(_ns_as_int(dtype.inner))
    if isinstance(dtype, pl.Struct):
        return pl.Struct({f.name: _ns_as_int(f.dtype) for f in dtype.fields})
    return dtype


def frame_rows(df: pl.DataFrame) -> list[dict[str, Any]]:
    """The rows of a frame as Python values, nanosecond datetimes as int64 ns."""
    target = {name: _ns_as_int(dtype) for name, dtype in df.schema.items()}
    if target != dict(df.schema):
        df = df.cast(target)  # type: ignore[arg-type]
    return df.to_dicts()


def assert_values_equal(expected: Any, actual: Any, where: str = "") -> None:
    """Exact comparison: same types, NaN equals NaN, the sign of zero matters,
    datetimes agree on having a time zone, Json cells parse to the expected value."""
    if isinstance(expected, Json):
        assert isinstance(actual, str), f"{where}: want JSON text, got {actual!r}"
        try:
            parsed = json.loads(actual)
        except ValueError as e:  # pragma: no cover - reported as a failure
            raise AssertionError(f"{where}: not JSON: {actual!r}") from e
        assert parsed == expected.value, f"{where}: JSON {parsed!r} != {expected.value!r}"
        return
    if expected is None or actual is None:
        assert expected is actual, f"{where}: {actual!r} != {expected!r}"
        return
    assert type(actual) is type(expected) or (
        isinstance(expected, dt.tzinfo) and isinstance(actual, dt.tzinfo)
    ), f"{where}: type {type(actual).__name__} ({actual!r}) != {type(expected).__name__} ({expected!r})"
    if isinstance(expected, dict):
        assert list(actual) == list(expected), f"{where}: keys {list(actual)} != {list(expected)}"
        for k in expected:
            assert_values_equal(expected[k], actual[k], f"{where}.{k}")
    elif isinstance(expected, list):
        assert len(actual) == len(expected), f"{where}: length {len(actual)} != {len(expected)}"
        for i, (e, a) in enumerate(zip(expected, actual, strict=True)):
            assert_values_equal(e, a, f"{where}[{i}]")
    elif isinstance(expected, float):
        if math.isnan(expected):
            assert math.isnan(actual), f"{where}: {actual!r} != nan"
        else:
            assert actual == expected and math.copysign(1, actual) == math.copysign(1, expected), (
                f"{where}: {actual!r} != {expected!r}"
            )
    elif isinstance(expected, dt.datetime):
        assert (actual.tzinfo is None) == (expected.tzinfo is None), f"{where}: {actual!r} vs {expected!r}"
        assert actual == expected, f"{where}: {actual!r} != {expected!r}"
    elif isinstance(expected, decimal.Decimal):
        assert actual == expected and actual.as_tuple().exponent == expected.as_tuple().exponent, (
            f"{where}: {actual!r} != {expected!r}"
        )
    else:
        assert actual == expected, f"{where}: {actual!r} != {expected!r}"


def assert_rows_equal(expected: list[dict[str, Any]], df: pl.DataFrame) -> None:
    actual = frame_rows(df)
    assert len(actual) == len(expected), f"{len(actual)} rows, want {len(expected)}"
    for i, (e, a) in enumerate(zip(expected, actual, strict=True)):
        assert_values_equal(e, a, f"row {i}")


def assert_matches_fastavro(path: Path, **read_options: Any) -> pl.DataFrame:
    """Read ``path`` with jetliner and check dtypes and values against fastavro."""
    schema = writer_schema(path)
    want_schema = expected_schema(schema)
    header_schema = jetliner.read_avro_schema(path)
    assert header_schema == want_schema, f"read_avro_schema: {header_schema} != {want_schema}"
    df = jetliner.read_avro(path, **read_options)
    assert df.schema == want_schema, f"read_avro: {df.schema} != {want_schema}"
    assert_rows_equal(expected_rows(schema, fastavro_records(path)), df)
    return df


# ---- container framing ------------------------------------------------------------


@dataclass
class Header:
    meta: dict[str, bytes]
    sync: bytes
    size: int  # offset of the first block

    @property
    def codec(self) -> str:
        return self.meta.get("avro.codec", b"null").decode()

    @property
    def schema(self) -> Any:
        return fastavro.parse_schema(json.loads(self.meta["avro.schema"]))


@dataclass
class Block:
    index: int
    offset: int  # where the block's count varint starts
    end: int  # just after its sync marker
    count: int
    data: bytes  # compressed
    sync_ok: bool
    records: list[Any] | None  # decoded by fastavro, or None if that failed
    error: str | None = None


def read_header(data: bytes) -> Header:
    fh = io.BytesIO(data)
    h = fastavro.schemaless_reader(fh, HEADER_SCHEMA)
    return Header(meta=h["meta"], sync=h["sync"], size=fh.tell())


def rewrite_header(data: bytes, drop: Sequence[str] = (), **meta: bytes) -> bytes:
    """The same file with header metadata entries replaced (``avro_codec=b"x"`` sets
    ``avro.codec``) or dropped (``drop=["avro.codec"]``)."""
    h = read_header(data)
    new_meta = {key: value for key, value in h.meta.items() if key not in drop}
    for key, value in meta.items():
        new_meta[key.replace("_", ".", 1)] = value
    out = io.BytesIO()
    fastavro.schemaless_writer(out, HEADER_SCHEMA, {"magic": b"Obj\x01", "meta": new_meta, "sync": h.sync})
    return out.getvalue() + data[h.size :]


def _varint(data: bytes, pos: int) -> tuple[int, int]:
    shift = result = 0
    while True:
        if pos >= len(data) or shift > 63:
            raise EOFError("truncated varint")
        b = data[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        shift += 7
        if b < 0x80:
            return (result >> 1) ^ -(result & 1), pos


def decompress(codec: str, data: bytes) -> bytes:
    if codec == "null":
        return data
    if codec == "deflate":
        return zlib.decompress(data, -15)
    if codec == "snappy":
        raw = bytes(cramjam.snappy.decompress_raw(data[:-4]))
        if struct.pack(">I", zlib.crc32(raw)) != data[-4:]:
            raise ValueError("snappy CRC mismatch")
        return raw
    if codec in ("zstandard", "zstd"):
        return zstd.decompress(data)
    if codec == "bzip2":
        return bz2.decompress(data)
    if codec == "xz":
        return lzma.decompress(data)
    raise ValueError(f"unknown codec {codec}")


def frame_block(data: bytes, pos: int, h: Header, index: int = 0) -> Block | None:
    """The block starting at ``pos`` as its count and size frame it, decoded with
    fastavro; None if it cannot be framed (truncated, negative count or size)."""
    try:
        count, p = _varint(data, pos)
        size, p = _varint(data, p)
    except EOFError:
        return None
    if count < 0 or size < 0 or p + size + 16 > len(data):
        return None
    payload = data[p : p + size]
    sync_ok = data[p + size : p + size + 16] == h.sync
    records: list[Any] | None = None
    error = None
    try:
        raw = io.BytesIO(decompress(h.codec, payload))
    except Exception as e:
        error = f"CodecError: {type(e).__name__}: {e}"
    else:
        try:
            records = [
                fastavro.schemaless_reader(raw, h.schema, return_named_type=True) for _ in range(count)
            ]
            if raw.tell() != len(raw.getvalue()):
                raise ValueError("bytes left over after the last record")
        except Exception as e:
            records, error = None, f"DecodeError: {type(e).__name__}: {e}"
    return Block(index, pos, p + size + 16, count, payload, sync_ok, records, error)


def frame_blocks(data: bytes) -> tuple[Header, list[Block]]:
    """Walk the blocks of a file by their declared sizes, decoding each with fastavro.

    The walk ends at a block that cannot be framed or whose trailing sync marker is
    wrong (its sizes cannot be trusted, so nothing after it is where they say).
    """
    h = read_header(data)
    blocks: list[Block] = []
    pos = h.size
    while pos < len(data):
        block = frame_block(data, pos, h, len(blocks))
        if block is None:
            break
        blocks.append(block)
        if not block.sync_ok:
            break
        pos = block.end
    return h, blocks


@dataclass
class Recovery:
    """What ``ignore_errors=True`` must give for a file: the records of the intact
    blocks, in order, and where each bad stretch starts."""

    schema: Any
    records: list[Any]
    bad: list[tuple[str, int]]  # (error kind, file offset)
    first_bad_block: int | None  # the block index of the first bad block

    @property
    def rows(self) -> list[dict[str, Any]]:
        return expected_rows(self.schema, self.records)


def expected_recovery(data: bytes) -> Recovery:
    """Read a file as a resynchronising reader must, checking blocks with fastavro.

    A block whose framing is broken (truncated, or not followed by the sync marker) is
    a ParseError, and reading resumes just after the next sync marker found after its
    first byte; except that when only the block's own marker is bad and a block
    frames where its size says the next one starts, ending with that very marker,
    reading resumes at that block (it is intact, and must not be lost). A block
    that frames but does not decompress (CodecError) or decode (DecodeError) is
    skipped whole.
    """
    h = read_header(data)
    out = Recovery(h.schema, [], [], None)
    pos, index = h.size, 0
    while pos < len(data):
        block = frame_block(data, pos, h, index)
        if block is None or not block.sync_ok:
            out.bad.append(("ParseError", pos))
            nxt = data.find(h.sync, pos + 1)
            if nxt < 0:
                pos = len(data)
            elif block is not None and block.end < nxt + 16:
                following = frame_block(data, block.end, h, index + 1)
                intact = following is not None and following.sync_ok and following.end == nxt + 16
                pos = block.end if intact else nxt + 16
            else:
                pos = nxt + 16
        elif block.records is None:
            assert block.error is not None
            out.bad.append((block.error.split(":")[0], pos))
            pos = block.end
        else:
            out.records.extend(block.records)
            pos = block.end
        if out.bad and out.first_bad_block is None:
            out.first_bad_block = index
        index += 1
    return out


def read_all(path: Path | str, **options: Any) -> tuple[pl.DataFrame, list[jetliner.BadBlockError]]:
    """Every batch of ``jetliner.open(path, **options)`` concatenated, and its errors."""
    with jetliner.open(path, **options) as reader:
        batches = list(reader)
        errors = reader.errors
        schema = reader.polars_schema
    df = pl.concat(batches) if batches else pl.DataFrame(schema=schema)
    return df, errors


def is_subsequence(part: list[Any], whole: list[Any]) -> bool:
    """Whether ``part`` is ``whole`` with some items left out, order kept."""
    it = iter(whole)
    return all(any(x == y for y in it) for x in part)


def write_blocks(path: Path, schema: Any, blocks: Sequence[Sequence[Any]], codec: str = "null") -> Path:
    """Write an Avro file with fastavro whose blocks hold exactly the given records."""
    with Path(path).open("wb") as fh:
        w = fastavro.write.Writer(fh, fastavro.parse_schema(schema), codec=codec, sync_interval=1 << 30)
        for block in blocks:
            for rec in block:
                w.write(rec)
            w.flush()
    return Path(path)


def encode_long(n: int) -> bytes:
    """Avro's zigzag varint encoding of a long."""
    u = (n << 1) ^ (n >> 63)
    out = bytearray()
    while True:
        b = u & 0x7F
        u >>= 7
        if u:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def compress(codec: str, data: bytes) -> bytes:
    """``data`` as a block payload of ``codec``."""
    if codec == "null":
        return data
    if codec == "deflate":
        c = zlib.compressobj(6, zlib.DEFLATED, -15)
        return c.compress(data) + c.flush()
    if codec == "snappy":
        return bytes(cramjam.snappy.compress_raw(data)) + struct.pack(">I", zlib.crc32(data))
    if codec in ("zstandard", "zstd"):
        return zstd.compress(data)
    if codec == "bzip2":
        return bz2.compress(data)
    if codec == "xz":
        return lzma.compress(data)
    raise ValueError(f"unknown codec {codec}")


def make_block(codec: str, count: int, raw: bytes, sync: bytes) -> bytes:
    """One framed block: count, size, compressed ``raw``, sync marker."""
    payload = compress(codec, raw)
    return encode_long(count) + encode_long(len(payload)) + payload + sync


def encode_record(schema: Any, record: Any) -> bytes:
    """One record in Avro binary, as fastavro writes it."""
    buf = io.BytesIO()
    fastavro.schemaless_writer(buf, fastavro.parse_schema(schema), record)
    return buf.getvalue()


def build_file(
    schema: Any,
    blocks: Sequence[tuple[int, bytes]],
    codec: str = "null",
    sync: bytes = b"0123456789abcdef",
) -> bytes:
    """A file with fastavro's header and hand-made blocks of (count, raw record bytes)."""
    buf = io.BytesIO()
    fastavro.writer(buf, fastavro.parse_schema(schema), [], codec=codec, sync_marker=sync)
    return buf.getvalue() + b"".join(make_block(codec, count, raw, sync) for count, raw in blocks)

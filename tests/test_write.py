"""Writing Avro: write_avro, sink_avro and AvroWriter, read back by jetliner and
by the other Avro readers (fastavro, the Apache reference implementation,
polars-avro, Polars' own)."""

from __future__ import annotations

import datetime as dt
import io
import os
import pickle
import signal
import subprocess
import sys
import textwrap
import time
from decimal import Decimal
from pathlib import Path

import fastavro
import jetliner
import polars as pl
import pytest
from polars.testing import assert_frame_equal

CODECS = ["null", "deflate", "snappy", "zstandard", "bzip2", "xz"]


def every_type_frame() -> pl.DataFrame:
    """A frame of every Polars type of the read mapping's inverse: nested,
    nullable, empty lists, unicode, extremes, every timestamp unit and zone."""
    n = 7
    ts = [
        dt.datetime(1970, 1, 1),
        None,
        dt.datetime(2262, 4, 11),
        dt.datetime(1677, 9, 22),
        dt.datetime(2024, 2, 29, 12, 30, 1, 123456),
        dt.datetime(1900, 1, 1),
        dt.datetime(2000, 1, 1),
    ]
    return pl.DataFrame(
        {
            "b": [True, False, None, True, False, True, False],
            "i32": pl.Series([0, -(2**31), 2**31 - 1, None, 1, -1, 7], dtype=pl.Int32),
            "i64": pl.Series([0, -(2**63), 2**63 - 1, None, 1, -1, 7], dtype=pl.Int64),
            "f32": pl.Series(
                [0.0, float("inf"), float("-inf"), None, 1.5, -3.25, float("nan")], dtype=pl.Float32
            ),
            "f64": [0.0, 1e308, -1e-308, None, float("nan"), 2.5, -0.0],
            "s": ["", "héllo wörld", "日本語 🚀", None, "a" * 1000, "\x00nul", "tab\t"],
            "bin": [b"", b"\x00\xff", None, b"abc", b"x" * 300, b"\x80", b"z"],
            "date": [
                dt.date(1970, 1, 1),
                dt.date(1, 1, 1),
                dt.date(9999, 12, 31),
                None,
                dt.date(2024, 2, 29),
                dt.date(1969, 12, 31),
                dt.date(2000, 1, 1),
            ],
            "time": [
                dt.time(0, 0),
                dt.time(23, 59, 59, 999999),
                None,
                dt.time(12, 0, 0, 1),
                dt.time(1, 2, 3),
                dt.time(0, 0, 0, 1),
                dt.time(6),
            ],
            "ts_ms_utc": pl.Series(ts, dtype=pl.Datetime("ms", "UTC")),
            "ts_us_paris": pl.Series(ts, dtype=pl.Datetime("us", "Europe/Paris")),
            "ts_ns_ny": pl.Series(ts, dtype=pl.Datetime("ns", "America/New_York")),
            "lts_ms": pl.Series(ts, dtype=pl.Datetime("ms")),
            "lts_us": pl.Series(ts, dtype=pl.Datetime("us")),
            "lts_ns": pl.Series(ts, dtype=pl.Datetime("ns")),
            "dec": pl.Series(
                [
                    Decimal("0.00"),
                    Decimal("-12345678901234567890123456.78"),
                    None,
                    Decimal("99999999999999999999999999999999.99"),
                    Decimal("1.5"),
                    Decimal("-0.01"),
                    Decimal("3"),
                ],
                dtype=pl.Decimal(34, 2),
            ),
            "enum": pl.Series(["a", "b", None, "c", "a", "a", "b"], dtype=pl.Enum(["a", "b", "c", "unused"])),
            "l": [[1, 2, 3], [], None, [None, 4], [2**62], [], [0]],
            "ls": [["x"], [], ["", None, "ü"], None, [], ["a", "b"], ["c"]],
            "ll": [[[1], []], [], None, [[None]], [[2, 3]], [], [[]]],
            "st": [
                {"a": 1, "b": "x"},
                None,
                {"a": None, "b": None},
                {"a": -1, "b": "ü"},
                {"a": 0, "b": ""},
                {"a": 2, "b": "y"},
                {"a": 3, "b": "z"},
            ],
            "nested": [
                {"inner": {"v": [1.5]}, "t": dt.date(2020, 1, 1)},
                None,
                {"inner": None, "t": None},
                {"inner": {"v": []}, "t": dt.date(1, 1, 1)},
                {"inner": {"v": None}, "t": None},
                None,
                {"inner": {"v": [None]}, "t": None},
            ],
            "lst": [[{"k": 1}], [], None, [{"k": None}, None], [], [{"k": 2}], []],
            "null": pl.Series([None] * n, dtype=pl.Null),
        }
    )


@pytest.mark.parametrize("codec", CODECS)
def test_round_trip_every_type(tmp_path: Path, codec: str) -> None:
    df = every_type_frame()
    path = tmp_path / "all.avro"
    jetliner.write_avro(df, path, codec=codec)
    back = jetliner.read_avro(path)
    assert_frame_equal(back, df)
    # fastavro, another implementation, reads the same records.
    with open(path, "rb") as f:
        records = list(fastavro.reader(f))
    assert len(records) == df.height
    assert [r["s"] for r in records] == df["s"].to_list()
    assert [r["i64"] for r in records] == df["i64"].to_list()
    assert [r["dec"] for r in records] == df["dec"].to_list()
    assert [r["date"] for r in records] == df["date"].to_list()
    assert [r["l"] for r in records] == df["l"].to_list()
    assert [r["st"] for r in records] == df["st"].to_list()
    assert [r["lts_us"] for r in records] == df["lts_us"].to_list()
    assert [r["ts_us_paris"] for r in records] == [
        None if v is None else v.astimezone(dt.timezone.utc) for v in df["ts_us_paris"].to_list()
    ]


def test_empty_and_large_frames(tmp_path: Path) -> None:
    empty = every_type_frame().clear()
    jetliner.write_avro(empty, tmp_path / "empty.avro")
    assert_frame_equal(jetliner.read_avro(tmp_path / "empty.avro"), empty)
    big = pl.DataFrame({"i": range(300_000), "s": [f"row {i}" for i in range(300_000)]})
    jetliner.write_avro(big, tmp_path / "big.avro", codec="zstd", sync_interval=10_000)
    assert_frame_equal(jetliner.read_avro(tmp_path / "big.avro"), big)
    with open(tmp_path / "big.avro", "rb") as f:
        blocks = list(fastavro.block_reader(f))
    assert len(blocks) > 100  # about 10 kB each


def test_apache_avro_reads(tmp_path: Path) -> None:
    """The Apache Avro package, the reference implementation, reads our files."""
    from avro.datafile import DataFileReader
    from avro.io import DatumReader

    df = pl.DataFrame(
        {
            "i": [1, None, 3],
            "s": ["a", "ü", None],
            "l": [[1.5], [], None],
            "st": [{"x": 1}, None, {"x": None}],
            "e": pl.Series(["a", "b", "a"], dtype=pl.Enum(["a", "b"])),
            "d": [dt.date(2020, 1, 2), None, dt.date(1970, 1, 1)],
        }
    )
    import avro.codecs

    # The codecs this installation of the reference implementation reads (snappy
    # and zstandard need optional modules; it has no xz).
    codecs = [c for c in CODECS if c in avro.codecs.KNOWN_CODECS]
    assert {"null", "deflate", "bzip2"} <= set(codecs)
    for codec in codecs:
        path = tmp_path / f"apache-{codec}.avro"
        jetliner.write_avro(df, path, codec=codec)
        with DataFileReader(open(path, "rb"), DatumReader()) as reader:
            rows = list(reader)
        assert [r["i"] for r in rows] == [1, None, 3], codec
        assert [r["s"] for r in rows] == ["a", "ü", None]
        assert [r["l"] for r in rows] == [[1.5], [], None]
        assert [r["e"] for r in rows] == ["a", "b", "a"]
        assert [r["d"] for r in rows] == [dt.date(2020, 1, 2), None, dt.date(1970, 1, 1)]


def test_polars_and_polars_avro_read(tmp_path: Path) -> None:
    df = pl.DataFrame(
        {"i": [1, None, 3], "s": ["a", "b", None], "f": [1.5, None, 2.0], "b": [True, None, False]}
    )
    path = tmp_path / "x.avro"
    for codec in ("null", "deflate", "snappy"):
        jetliner.write_avro(df, path, codec=codec)
        assert_frame_equal(pl.read_avro(path), df)
    import polars_avro

    assert_frame_equal(polars_avro.read_avro(path), df)


def test_derived_schema(tmp_path: Path) -> None:
    df = pl.DataFrame(
        {
            "u8": pl.Series([1], dtype=pl.UInt8),
            "u32": pl.Series([2**32 - 1], dtype=pl.UInt32),
            "u64": pl.Series([2**63 - 1], dtype=pl.UInt64),
            "i8": pl.Series([-1], dtype=pl.Int8),
            "cat": pl.Series(["x"], dtype=pl.Categorical),
            "arr": pl.Series([[1, 2]], dtype=pl.Array(pl.Int64, 2)),
            "dur": [dt.timedelta(days=1, microseconds=3)],
        }
    )
    path = tmp_path / "d.avro"
    jetliner.write_avro(df, path, name="Row", namespace="org.example")
    schema = jetliner.AvroReader(str(path)).schema_dict
    assert schema["name"] == "Row" and schema["namespace"] == "org.example"
    back = jetliner.read_avro(path)
    assert back.schema == pl.Schema(
        {
            "u8": pl.Int32,
            "u32": pl.Int64,
            "u64": pl.Int64,
            "i8": pl.Int32,
            "cat": pl.String,
            "arr": pl.List(pl.Int64),
            "dur": pl.Int64,
        }
    )
    assert back.row(0) == (1, 2**32 - 1, 2**63 - 1, -1, "x", [1, 2], 86_400_000_003)
    with pytest.raises(jetliner.EncodeError) as e:
        jetliner.write_avro(pl.DataFrame({"u64": pl.Series([0, 2**64 - 1], dtype=pl.UInt64)}), path)
    assert e.value.column == "u64" and e.value.row == 1


def test_time_with_nanoseconds_is_refused(tmp_path: Path) -> None:
    df = pl.DataFrame({"t": pl.Series([1000, 1001], dtype=pl.Int64).cast(pl.Time)})
    with pytest.raises(jetliner.EncodeError, match="microseconds") as e:
        jetliner.write_avro(df, tmp_path / "t.avro")
    assert (e.value.column, e.value.row) == ("t", 1)
    assert not (tmp_path / "t.avro").exists()


def test_explicit_schema(tmp_path: Path) -> None:
    schema = {
        "type": "record",
        "name": "Event",
        "namespace": "org.example",
        "doc": "an event",
        "fields": [
            {"name": "id", "type": {"type": "string", "logicalType": "uuid"}},
            {"name": "kind", "type": {"type": "enum", "name": "Kind", "symbols": ["A", "B"]}, "default": "A"},
            {"name": "h", "type": {"type": "fixed", "name": "Hash", "size": 2}},
            {
                "name": "amount",
                "type": {
                    "type": "fixed",
                    "name": "Amt",
                    "size": 8,
                    "logicalType": "decimal",
                    "precision": 12,
                    "scale": 2,
                },
            },
            {"name": "n", "type": ["null", "int"], "default": None, "doc": "a count"},
            {"name": "u", "type": ["null", "long", "string"]},
        ],
    }
    df = pl.DataFrame(
        {
            "id": ["123e4567-e89b-12d3-a456-426614174000", "00000000-0000-0000-0000-000000000000"],
            "kind": ["B", "A"],
            "h": [b"\x01\x02", b"\xff\xff"],
            "amount": pl.Series([Decimal("12.34"), Decimal("-0.01")], dtype=pl.Decimal(12, 2)),
            "n": [1, None],
            "u": [{"long": 5, "string": None}, {"long": None, "string": "x"}],
        }
    )
    for form in (schema, __import__("json").dumps(schema)):
        path = tmp_path / "e.avro"
        jetliner.write_avro(df, path, schema=form)
        back = jetliner.read_avro(path)
        assert back["kind"].to_list() == ["B", "A"] and back["h"].to_list() == df["h"].to_list()
        assert back["amount"].to_list() == df["amount"].to_list()
        assert back["u"].to_list() == df["u"].to_list()
        written = jetliner.AvroReader(str(path)).schema_dict
        assert written["fields"][4]["doc"] == "a count" and written["doc"] == "an event"
    avsc = tmp_path / "e.avsc"
    avsc.write_text(__import__("json").dumps(schema))
    jetliner.write_avro(df, tmp_path / "f.avro", schema=str(avsc))
    jetliner.write_avro(df, tmp_path / "g.avro", schema=avsc)
    assert_frame_equal(jetliner.read_avro(tmp_path / "g.avro"), jetliner.read_avro(tmp_path / "e.avro"))
    # Values that do not fit: named by column and row.
    bad = df.with_columns(pl.Series("kind", ["A", "C"]))
    with pytest.raises(jetliner.EncodeError, match="symbols") as e:
        jetliner.write_avro(bad, tmp_path / "bad.avro", schema=schema)
    assert (e.value.column, e.value.row) == ("kind", 1)
    with pytest.raises(jetliner.SchemaError, match="extra"):
        jetliner.write_avro(df.with_columns(extra=pl.lit(1)), tmp_path / "bad.avro", schema=schema)
    assert not (tmp_path / "bad.avro").exists()


def test_names(tmp_path: Path) -> None:
    df = pl.DataFrame({"a b": [1], "1st": [2], "ok": [{"x-y": 3}]})
    with pytest.raises(jetliner.SchemaError, match="mangle_names"):
        jetliner.write_avro(df, tmp_path / "n.avro")
    jetliner.write_avro(df, tmp_path / "n.avro", mangle_names=True)
    assert jetliner.read_avro(tmp_path / "n.avro").schema == pl.Schema(
        {"a_b": pl.Int64, "_1st": pl.Int64, "ok": pl.Struct({"x_y": pl.Int64})}
    )


def test_maps(tmp_path: Path) -> None:
    schema = {
        "type": "record",
        "name": "r",
        "fields": [{"name": "m", "type": {"type": "map", "values": ["null", "long"]}}],
    }
    with open(tmp_path / "m.avro", "wb") as f:
        fastavro.writer(f, schema, [{"m": {"a": 1, "b": None}}, {"m": {}}])
    df = jetliner.read_avro(tmp_path / "m.avro")
    jetliner.write_avro(df, tmp_path / "m2.avro", maps=True)
    assert_frame_equal(jetliner.read_avro(tmp_path / "m2.avro"), df)
    assert jetliner.AvroReader(str(tmp_path / "m2.avro")).schema_dict["fields"][0]["type"][1]["type"] == "map"
    jetliner.write_avro(df, tmp_path / "m3.avro")  # without maps=True: an array of records
    assert (
        jetliner.AvroReader(str(tmp_path / "m3.avro")).schema_dict["fields"][0]["type"][1]["type"] == "array"
    )


def test_options_and_metadata(tmp_path: Path) -> None:
    df = pl.DataFrame({"x": [1, 2, 3]})
    path = tmp_path / "o.avro"
    jetliner.write_avro(
        df, path, metadata={"origin": "test", "raw": b"\x00\xff"}, codec="deflate", compression_level=9
    )
    from avro.datafile import DataFileReader
    from avro.io import DatumReader

    # The reference implementation keeps metadata as bytes (fastavro decodes it as UTF-8).
    with DataFileReader(open(path, "rb"), DatumReader()) as reader:
        meta = reader.meta
        assert [r["x"] for r in reader] == [1, 2, 3]
    assert meta["origin"] == b"test" and meta["raw"] == b"\x00\xff" and meta["avro.codec"] == b"deflate"
    for bad in (
        {"codec": "lz4"},
        {"codec": "snappy", "compression_level": 1},
        {"codec": "zstd", "compression_level": 23},
        {"sync_interval": 10},
        {"sync_interval": 2**31},
        {"metadata": {"avro.schema": "x"}},
        {"metadata": {"k": 1}},
        {"storage_options": {"nope": "x"}},
        {"name": "1bad"},
    ):
        with pytest.raises(jetliner.ConfigurationError):
            jetliner.write_avro(df, tmp_path / "bad.avro", **bad)  # type: ignore[arg-type]
        assert not (tmp_path / "bad.avro").exists()


def test_file_objects(tmp_path: Path) -> None:
    df = every_type_frame()
    buf = io.BytesIO()
    jetliner.write_avro(df, buf, codec="zstd")
    assert not buf.closed
    (tmp_path / "b.avro").write_bytes(buf.getvalue())
    assert_frame_equal(jetliner.read_avro(tmp_path / "b.avro"), df)
    with open(tmp_path / "c.avro", "wb") as f:
        jetliner.write_avro(df, f)
    assert_frame_equal(jetliner.read_avro(tmp_path / "c.avro"), df)

    class Full(io.RawIOBase):
        def __init__(self) -> None:
            self.n = 0

        def writable(self) -> bool:
            return True

        def write(self, b: bytes) -> int:  # type: ignore[override]
            self.n += len(b)
            if self.n > 5000:
                raise OSError(28, "No space left on device")
            return len(b)

    big = pl.DataFrame({"s": [f"value {i}" for i in range(100_000)]})
    with pytest.raises(jetliner.SourceError, match="partial") as e:
        jetliner.write_avro(big, Full())
    assert isinstance(e.value.__cause__, OSError)
    with pytest.raises(jetliner.EncodeError, match="partial"):
        jetliner.write_avro(
            pl.DataFrame({"x": [1, 2**40]}),
            io.BytesIO(),
            schema={"type": "record", "name": "r", "fields": [{"name": "x", "type": "int"}]},
        )


def test_avro_writer(tmp_path: Path) -> None:
    path = tmp_path / "w.avro"
    with jetliner.AvroWriter(path, codec="deflate") as w:
        for k in range(5):
            w.write(pl.DataFrame({"k": [k] * 1000, "s": [str(i) for i in range(1000)]}))
        assert w.rows_written <= 5000
        assert not path.exists()  # nothing visible before close
    assert w.rows_written == 5000 and w.closed
    back = jetliner.read_avro(path)
    assert back.height == 5000 and back["k"].to_list() == [k for k in range(5) for _ in range(1000)]
    w.close()  # twice is fine
    with pytest.raises(jetliner.ConfigurationError, match="closed"):
        w.write(pl.DataFrame({"k": [1]}))
    with pytest.raises(jetliner.EncodeError) as e, jetliner.AvroWriter(tmp_path / "m.avro") as w2:
        w2.write(pl.DataFrame({"k": [1]}))
        w2.write(pl.DataFrame({"k": ["x"]}))
    assert e.value.variant == "SchemaMismatch" and "differ" in str(e.value)
    assert not (tmp_path / "m.avro").exists()
    # An exception inside the block discards the file.
    with pytest.raises(RuntimeError), jetliner.AvroWriter(tmp_path / "r.avro") as w3:
        w3.write(pl.DataFrame({"k": [1]}))
        raise RuntimeError("stop")
    assert not (tmp_path / "r.avro").exists()
    assert list(tmp_path.glob(".*")) == []  # no temporary file left either


def test_failure_halfway_leaves_no_file(tmp_path: Path) -> None:
    n = 400_000
    df = pl.DataFrame({"x": pl.Series(range(n), dtype=pl.Int64), "s": ["abc"] * n})
    df = df.with_columns(pl.when(pl.col("x") == n - 10).then(2**40).otherwise(pl.col("x")).alias("x"))
    schema = {
        "type": "record",
        "name": "r",
        "fields": [{"name": "x", "type": "int"}, {"name": "s", "type": "string"}],
    }
    with pytest.raises(jetliner.EncodeError) as e:
        jetliner.write_avro(df, tmp_path / "half.avro", schema=schema, sync_interval=1000)
    assert e.value.row == n - 10
    assert os.listdir(tmp_path) == []


def test_sink_avro(tmp_path: Path) -> None:
    src = tmp_path / "src.avro"
    df = pl.DataFrame({"i": range(250_000), "s": [f"s{i % 97}" for i in range(250_000)]})
    jetliner.write_avro(df, src)
    out = tmp_path / "out.avro"
    jetliner.scan_avro(src).filter(pl.col("i") % 2 == 0).pipe(jetliner.sink_avro, out, codec="zstd")
    assert_frame_equal(jetliner.read_avro(out), df.filter(pl.col("i") % 2 == 0))
    jetliner.sink_avro(pl.LazyFrame({"a": [1]}).filter(pl.col("a") > 5), tmp_path / "none.avro")
    assert_frame_equal(
        jetliner.read_avro(tmp_path / "none.avro"), pl.DataFrame({"a": []}, schema={"a": pl.Int64})
    )


def test_encode_error_is_picklable() -> None:
    e = jetliner.EncodeError("bad", "InvalidValue", None, "a.b", 7)
    back = pickle.loads(pickle.dumps(e))
    assert (
        back.to_dict()
        == e.to_dict()
        == {"message": "bad", "variant": "InvalidValue", "path": None, "column": "a.b", "row": 7}
    )
    assert str(e) == "Encode error at column 'a.b', row 7: bad"
    assert isinstance(e, ValueError)


def test_ctrl_c_during_sink_avro(tmp_path: Path) -> None:
    out = tmp_path / "big.avro"
    script = textwrap.dedent(
        f"""
        import sys, polars as pl, jetliner
        lf = pl.LazyFrame({{"i": range(30_000_000)}})
        lf = lf.with_columns(s=pl.col("i").cast(pl.String) + "xxxxxxxxxxxxxxxx")
        print("start", flush=True)
        try:
            jetliner.sink_avro(lf, {str(out)!r}, codec="xz")
        except KeyboardInterrupt:
            print("interrupted", flush=True)
            sys.exit(3)
        """
    )
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "start"
    time.sleep(2)
    proc.send_signal(signal.SIGINT)
    sent = time.monotonic()
    proc.wait(timeout=30)
    elapsed = time.monotonic() - sent
    assert proc.returncode == 3, proc.stdout.read()
    assert elapsed < 1.5, elapsed
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize("codec", ["null", "snappy"])
def test_property_random_frames(tmp_path: Path, codec: str) -> None:
    """Random frames (hypothesis) read back as written."""
    from hypothesis import HealthCheck, given, settings
    from polars.testing.parametric import dataframes

    allowed = [
        pl.Boolean,
        pl.Int32,
        pl.Int64,
        pl.Float32,
        pl.Float64,
        pl.String,
        pl.Binary,
        pl.Date,
        pl.Datetime("us"),
        pl.Datetime("ms", "UTC"),
        pl.List(pl.Int64),
        pl.List(pl.String),
        pl.Struct({"a": pl.Int64, "b": pl.String}),
        pl.Decimal(20, 4),
    ]

    @settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
    @given(df=dataframes(allowed_dtypes=allowed, max_cols=6, max_size=40, allow_null=True))
    def check(df: pl.DataFrame) -> None:
        df = df.rename({c: f"c{i}" for i, c in enumerate(df.columns)})
        buf = io.BytesIO()
        jetliner.write_avro(df, buf, codec=codec, sync_interval=64)
        path = tmp_path / "p.avro"
        path.write_bytes(buf.getvalue())
        assert_frame_equal(jetliner.read_avro(path), df)

    check()

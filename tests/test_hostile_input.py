"""Hostile input: files made to crash, exhaust or mislead the reader.

* Schemas nested deeper than ``max_schema_depth``: Polars' Arrow import recurses on
  the type and crashed the process (SIGSEGV) from about 185 levels. Every API
  refuses them with a SchemaError while the header is parsed, before anything
  reaches Polars; the crash is the failure mode, so these run in a subprocess.
* Reads of no columns (``columns=[]``, a schema whose record has no fields):
  frames of the file's height, counted from the block headers.
* Values Polars cannot hold as their logical type (a time of day beyond 24 h, a
  decimal wider than its precision): a DecodeError
  naming the column and the record, never a silent null.

The files are built here, by hand: fastavro itself recurses on deep schemas.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from decimal import Decimal
from pathlib import Path
from typing import Any

import fastavro
import jetliner
import polars as pl
import pytest
from _oracle import encode_long, make_block
from jetliner import _api, _options

pytestmark = pytest.mark.timeout(120)

DEFAULT = _options.DEFAULT_MAX_SCHEMA_DEPTH
MAXIMUM = _options.MAX_SCHEMA_DEPTH_LIMIT
SYNC = b"hostile-sync-16b"


def avro_file(schema: str, blocks: list[tuple[int, bytes]], codec: str = "null") -> bytes:
    """An object container file of schema (JSON text, written as is) and blocks of
    (record count, raw record bytes)."""

    def text(b: bytes) -> bytes:
        return encode_long(len(b)) + b

    meta = {b"avro.schema": schema.encode(), b"avro.codec": codec.encode()}
    header = b"Obj\x01" + encode_long(len(meta))
    header += b"".join(text(k) + text(v) for k, v in meta.items()) + encode_long(0) + SYNC
    return header + b"".join(make_block(codec, count, raw, SYNC) for count, raw in blocks)


# How many levels of Arrow nesting each step of a kind adds (a map is a List of
# Structs; a union of several types a Struct, here holding an array).
LEVELS = {"array": 1, "map": 2, "record": 1, "nullable": 1, "union": 2, "mixed": 4}


def nested(kind: str, levels: int) -> tuple[str, bytes]:
    """A record whose field ``x`` nests ``levels`` deep (a multiple of the kind's
    step), and one record of it. Built as text: json.dumps recurses."""

    def rec(name: str, field_type: str) -> str:
        return '{"type":"record","name":"' + name + '","fields":[{"name":"f","type":' + field_type + "}]}"

    t, value = '"int"', encode_long(7)
    for i in range(levels // LEVELS[kind]):
        if kind == "array":
            t, value = '{"type":"array","items":' + t + "}", encode_long(0)
        elif kind == "map":
            t, value = '{"type":"map","values":' + t + "}", encode_long(0)
        elif kind == "record":
            t = rec(f"r{i}", t)
        elif kind == "nullable":
            t, value = rec(f"n{i}", '["null",' + t + "]"), encode_long(1) + value
        elif kind == "union":
            t, value = '["int",{"type":"array","items":' + t + "}]", encode_long(1) + encode_long(0)
        elif kind == "mixed":  # a record of a map of arrays: 4 levels
            t = rec(f"m{i}", '{"type":"map","values":{"type":"array","items":' + t + "}}")
            value = encode_long(0)
    return '{"type":"record","name":"top","fields":[{"name":"x","type":' + t + "}]}", value


def write_nested(tmp_path: Path, kind: str, levels: int) -> Path:
    schema, value = nested(kind, levels)
    path = tmp_path / f"{kind}-{levels}.avro"
    path.write_bytes(avro_file(schema, [(1, value)]))
    return path


# The child runs every API on each file and prints one JSON line per call, so
# that a crash still leaves the calls before it in the output.
CHILD = textwrap.dedent(
    """
    import contextlib, io, json, resource, sys, time
    import polars as pl
    import jetliner
    from jetliner import cli

    def shape(x):
        if isinstance(x, pl.DataFrame):
            return list(x.shape)
        return x if isinstance(x, list) else len(x)

    def frames(reader):
        with reader as r:
            return pl.concat(list(r), how="vertical")

    def ops(path, kw):
        lf = jetliner.scan_avro(path, **kw)
        lf.head(1).collect()
        lf.select(pl.len()).collect()
        df = jetliner.read_avro(path, **kw)
        str(df)
        buf = io.BytesIO()
        df.write_parquet(buf)
        buf.seek(0)
        return pl.read_parquet(buf)

    def cli_schema(path, kw):
        err = io.StringIO()
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            code = cli.main(["schema", path])
        return [code, err.getvalue()]

    APIS = {
        "read_avro_schema": lambda p, kw: jetliner.read_avro_schema(p, **kw),
        "scan_avro": lambda p, kw: jetliner.scan_avro(p, **kw).collect_schema(),
        "collect": lambda p, kw: jetliner.scan_avro(p, **kw).collect(),
        "read_avro": lambda p, kw: jetliner.read_avro(p, **kw),
        "open": lambda p, kw: frames(jetliner.open(p, **kw)),
        "MultiAvroReader": lambda p, kw: frames(jetliner.MultiAvroReader([p], **kw)),
        "cli schema": cli_schema,
        "ops": ops,
    }
    for case in json.loads(sys.argv[1]):
        for api in case["apis"]:
            start = time.perf_counter()
            out = {"path": case["path"], "api": api}
            try:
                out["shape"] = shape(APIS[api](case["path"], case["options"]))
                out["ok"] = True
            except Exception as exc:
                out.update(ok=False, type=type(exc).__name__, message=str(exc))
            out["seconds"] = time.perf_counter() - start
            print(json.dumps(out), flush=True)
    print(json.dumps({"maxrss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}), flush=True)
    """
)


def run_child(cases: list[dict[str, Any]], timeout: float = 100) -> tuple[list[dict[str, Any]], float]:
    """Run the cases in a fresh interpreter; return the results and peak RSS (MiB)."""
    proc = subprocess.run(
        [sys.executable, "-c", CHILD, json.dumps(cases)],
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    lines = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
    died = f"the child died (rc {proc.returncode}) after {lines[-1:]}:\n{proc.stderr[-2000:]}"
    assert proc.returncode == 0, died
    return lines[:-1], lines[-1]["maxrss_mib"]


ALL_APIS = ["read_avro_schema", "scan_avro", "collect", "read_avro", "open", "MultiAvroReader"]


@pytest.mark.parametrize("kind", sorted(LEVELS))
def test_deep_schema_is_refused_by_every_api(tmp_path: Path, kind: str) -> None:
    step = LEVELS[kind]
    just_over = (DEFAULT // step + 1) * step
    # Depths where Polars crashed the process (SIGSEGV from ~185 levels in a
    # scan_avro collect, ~760 in read_avro_schema) or raised RecursionError.
    deep = [just_over, 200, 800]
    cases = [
        {"path": str(write_nested(tmp_path, kind, levels)), "options": {}, "apis": ALL_APIS}
        for levels in deep
    ]
    results, _ = run_child(cases)
    assert len(results) == len(deep) * len(ALL_APIS)
    for r in results:
        assert not r["ok"] and r["type"] == "SchemaError", r
        # The depth and the limit, in Arrow levels, or for a schema whose JSON
        # alone is too deep, in JSON levels.
        if r["path"].endswith(f"-{just_over}.avro"):
            assert (
                f'column "x" nests {just_over} levels deep, more than the limit of {DEFAULT}' in r["message"]
            )
            assert "max_schema_depth" in r["message"]
        else:
            assert "levels deep, more than the limit of" in r["message"], r
        assert r["seconds"] < 5, r


@pytest.mark.timeout(300)
def test_maximum_depth_is_safe(tmp_path: Path) -> None:
    """Raising max_schema_depth to its maximum cannot crash the process either:
    columns of that depth of every kind go through the APIs (importing a type
    this deep takes Polars up to a second, so not every API for every kind), and
    the costliest kind, maps, through a few queries too."""
    cases = []
    for kind, step in LEVELS.items():
        levels = MAXIMUM // step * step
        apis = ["read_avro_schema", "collect", "open"] + (
            ["read_avro", "MultiAvroReader", "ops"] if kind == "map" else []
        )
        cases.append(
            {
                "path": str(write_nested(tmp_path, kind, levels)),
                "options": {"max_schema_depth": MAXIMUM},
                "apis": apis,
            }
        )
        over = (MAXIMUM // step + 1) * step
        cases.append(
            {
                "path": str(write_nested(tmp_path, kind, over)),
                "options": {"max_schema_depth": MAXIMUM},
                "apis": ["read_avro_schema", "collect"],
            }
        )
    within = {c["path"] for c in cases[::2]}
    results, maxrss = run_child(cases, timeout=280)
    assert len(results) == sum(len(c["apis"]) for c in cases)
    for r in results:
        if r["path"] in within:
            assert r["ok"], r
            if r["api"] in ("collect", "read_avro", "open", "MultiAvroReader"):
                assert r["shape"] == [1, 1], r
        else:
            assert not r["ok"] and r["type"] == "SchemaError", r
            assert f"more than the limit of {MAXIMUM}" in r["message"], r
    assert maxrss < 1024, f"peak RSS {maxrss:.0f} MiB"


def test_cli_refuses_deep_schema(tmp_path: Path) -> None:
    path = str(write_nested(tmp_path, "array", DEFAULT + 1))
    results, _ = run_child([{"path": path, "options": {}, "apis": ["cli schema"]}])
    # The CLI reports the SchemaError and exits with its failure code.
    code, stderr = results[0]["shape"]
    assert code == 1, stderr
    assert f'SchemaError: column "x" nests {DEFAULT + 1} levels deep' in stderr, stderr


@pytest.mark.parametrize(
    "text", ["{" * 100_000, '{"type":"array","items":' * 100_000 + '"int"' + "}" * 100_000]
)
def test_hostile_schema_json_is_refused_quickly(tmp_path: Path, text: str) -> None:
    path = tmp_path / "json.avro"
    path.write_bytes(avro_file(text, []))
    results, _ = run_child([{"path": str(path), "options": {}, "apis": ["read_avro_schema", "read_avro"]}])
    for r in results:
        assert r["type"] == "SchemaError", r
        assert "nests 100000 levels deep" in r["message"], r
        assert len(r["message"]) < 400, r  # not the schema text
        assert r["seconds"] < 2, r


def test_max_schema_depth_raises_and_lowers_the_limit(tmp_path: Path) -> None:
    path = write_nested(tmp_path, "array", 40)
    with pytest.raises(jetliner.SchemaError, match="nests 40 levels deep, more than the limit of 32"):
        jetliner.read_avro(path)
    assert jetliner.read_avro(path, max_schema_depth=40).shape == (1, 1)
    assert jetliner.scan_avro(path, max_schema_depth=40).collect().shape == (1, 1)
    assert list(jetliner.read_avro_schema(path, max_schema_depth=40)) == ["x"]
    with jetliner.open(path, max_schema_depth=40) as reader:
        assert sum(df.height for df in reader) == 1
    shallow = write_nested(tmp_path, "record", 5)
    with pytest.raises(jetliner.SchemaError, match="nests 5 levels deep, more than the limit of 4"):
        jetliner.read_avro_schema(shallow, max_schema_depth=4)


@pytest.mark.parametrize("bad", [0, -1, MAXIMUM + 1, 1.5, True, "32", None])
def test_max_schema_depth_is_validated(tmp_path: Path, bad: Any) -> None:
    path = write_nested(tmp_path, "array", 2)
    calls = [
        lambda: jetliner.scan_avro(path, max_schema_depth=bad),
        lambda: jetliner.read_avro(path, max_schema_depth=bad),
        lambda: jetliner.read_avro_schema(path, max_schema_depth=bad),
        lambda: jetliner.open(path, max_schema_depth=bad),
        lambda: jetliner.MultiAvroReader(path, max_schema_depth=bad),
    ]
    for call in calls:
        with pytest.raises(jetliner.ConfigurationError, match="max_schema_depth"):
            call()


def test_every_file_of_a_read_is_checked(tmp_path: Path) -> None:
    shallow_schema, shallow_value = nested("array", 1)
    (tmp_path / "a.avro").write_bytes(avro_file(shallow_schema, [(3, shallow_value * 3)]))
    deep = tmp_path / "b.avro"
    deep.write_bytes(avro_file(nested("array", 300)[0], [(1, encode_long(0))]))
    pattern = str(tmp_path / "*.avro")
    with pytest.raises(jetliner.SchemaError, match="nests 300 levels deep") as info:
        jetliner.read_avro(pattern)
    assert info.value.path == str(deep)
    with pytest.raises(jetliner.SchemaError, match="nests 300 levels deep"):
        jetliner.scan_avro(pattern).collect()
    heights = []
    reader = jetliner.MultiAvroReader(pattern)
    with pytest.raises(jetliner.SchemaError, match="nests 300 levels deep"):
        for df in reader:
            heights.append(df.height)
    reader.close()
    assert heights == [3]  # the first file's rows come first


# ---- reads of no columns ---------------------------------------------------------------

SCHEMA = {
    "type": "record",
    "name": "r",
    "fields": [{"name": "id", "type": "long"}, {"name": "s", "type": ["null", "string"]}],
}


def write_rows(path: Path, n: int, *, codec: str = "deflate", per_block: int = 1000) -> Path:
    with path.open("wb") as fh:
        w = fastavro.write.Writer(fh, fastavro.parse_schema(SCHEMA), codec=codec, sync_interval=1 << 30)
        for i in range(n):
            w.write({"id": i, "s": None if i % 3 == 0 else f"s{i}"})
            if (i + 1) % per_block == 0:
                w.flush()
        w.flush()
    return path


def test_no_columns_read_has_the_files_height(tmp_path: Path) -> None:
    path = write_rows(tmp_path / "a.avro", 10_500)
    df = jetliner.read_avro(path, columns=[])
    assert df.shape == (10_500, 0)
    df = jetliner.read_avro(path, columns=[], row_index_name="i", include_file_paths="f", n_rows=4321)
    assert df.columns == ["i", "f"]
    assert df["i"].to_list() == list(range(4321))
    assert df["f"].unique().to_list() == [str(path)]
    assert jetliner.read_avro(path, columns=[], n_rows=0).shape == (0, 0)


def test_no_columns_scan_decodes_no_block(tmp_path: Path) -> None:
    path = write_rows(tmp_path / "a.avro", 10_500)
    # Polars asks the reader for no columns: only the row index is selected.
    lf = jetliner.scan_avro(path, row_index_name="i")
    df = lf.select("i").collect()
    assert df["i"].to_list() == list(range(10_500))
    stats = _api._last_scan_stats
    assert stats["blocks_decoded"] == 0 and stats["blocks_read"] == 11 and stats["columns"] == []
    assert lf.select("i").head(1234).collect().height == 1234
    assert lf.select(pl.len()).collect().item() == 10_500
    assert jetliner.scan_avro(path, include_file_paths="f").select("f").collect().height == 10_500


def test_no_columns_readers(tmp_path: Path) -> None:
    a = write_rows(tmp_path / "a.avro", 2_500)
    b = write_rows(tmp_path / "b.avro", 700, codec="null")
    with jetliner.AvroReader(a, projected_columns=[], batch_size=1_000) as reader:
        shapes = [df.shape for df in reader]
        assert reader._stats()["blocks_decoded"] == 0
    assert shapes == [(1_000, 0), (1_000, 0), (500, 0)]
    with jetliner.MultiAvroReader(
        [a, b], projected_columns=[], row_index_name="i", include_file_paths="f"
    ) as reader:
        df = pl.concat(list(reader))
    assert df.columns == ["i", "f"]
    assert df["i"].to_list() == list(range(3_200))
    assert df["f"].value_counts(sort=True)["count"].to_list() == [2_500, 700]


def test_no_columns_ignore_errors(tmp_path: Path) -> None:
    # Block 2's sync marker is broken: a framing error, which a read of no
    # columns sees like any read; the rows of the other blocks are counted.
    data = bytearray(
        avro_file(
            json.dumps(SCHEMA),
            [(10, b"".join(encode_long(i) + encode_long(0) for i in range(10)))] * 5,
        )
    )
    block_len = len(make_block("null", 10, b"\x00" * 20, SYNC))
    header_len = len(data) - 5 * block_len
    data[header_len + 3 * block_len - 1] ^= 0xFF
    path = tmp_path / "bad.avro"
    path.write_bytes(bytes(data))
    with pytest.raises(jetliner.ParseError):
        jetliner.read_avro(path, columns=[])
    full = jetliner.read_avro(path, ignore_errors=True)
    assert jetliner.read_avro(path, columns=[], ignore_errors=True).height == full.height
    with jetliner.open(path, projected_columns=[], ignore_errors=True) as reader:
        assert sum(df.height for df in reader) == full.height
        assert [(e.kind, e.block_index) for e in reader.errors] == [("ParseError", 2)]


def test_record_without_fields(tmp_path: Path) -> None:
    # Valid Avro: every API gives the file's height and no columns.
    empty = {"type": "record", "name": "Nothing", "fields": []}
    path = tmp_path / "empty.avro"
    with path.open("wb") as fh:
        fastavro.writer(fh, fastavro.parse_schema(empty), [{}] * 5_000, sync_interval=100)
    assert jetliner.read_avro_schema(path) == pl.Schema()
    assert jetliner.read_avro(path).shape == (5_000, 0)
    assert jetliner.scan_avro(path).collect().shape == (5_000, 0)
    assert jetliner.scan_avro(path).select(pl.len()).collect().item() == 5_000
    assert jetliner.scan_avro(path).head(10).collect().height == 10
    assert jetliner.read_avro(path, row_index_name="i")["i"].to_list() == list(range(5_000))
    with jetliner.open(path, batch_size=2_000) as reader:
        assert [df.shape for df in reader] == [(2_000, 0), (2_000, 0), (1_000, 0)]


def test_no_columns_count_is_checked(tmp_path: Path) -> None:
    # A block claiming more records than its bytes can hold is refused without
    # decoding it, as a read of every column refuses it.
    raw = encode_long(1) + encode_long(0)
    path = tmp_path / "lying.avro"
    path.write_bytes(avro_file(json.dumps(SCHEMA), [(1, raw), (1_000_000, raw), (1, raw)]))
    with pytest.raises(
        jetliner.DecodeError, match="block claims 1000000 records but holds only 2 bytes"
    ) as info:
        jetliner.read_avro(path, columns=[])
    assert info.value.block_index == 1
    assert jetliner.read_avro(path, columns=[], ignore_errors=True).height == 2


# ---- values Polars cannot hold -----------------------------------------------------------


def twos(v: int, size: int) -> bytes:
    return v.to_bytes(size, "big", signed=True)


def decimal_bytes(v: int) -> bytes:
    raw = twos(v, 17)
    while len(raw) > 1 and raw[0] in (0, 0xFF) and (raw[0] & 0x80) == (raw[1] & 0x80):
        raw = raw[1:]
    return encode_long(len(raw)) + raw


DAY_MS, DAY_US = 86_400_000, 86_400_000_000

# (logical type, encode a value, good values, bad values, what the error says)
RANGE_CASES = [
    ("time-millis", {"type": "int", "logicalType": "time-millis"}, encode_long,
     [0, DAY_MS - 1], [-1, DAY_MS, 25 * 3_600_000], "outside a day"),
    ("time-micros", {"type": "long", "logicalType": "time-micros"}, encode_long,
     [0, DAY_US - 1], [-1, DAY_US, 2**62], "outside a day"),
    ("decimal bytes", {"type": "bytes", "logicalType": "decimal", "precision": 4, "scale": 2}, decimal_bytes,
     [9999, -9999, 0], [123456, 10000, -10000, 10**30], "has more than 4 digits"),
    ("decimal fixed", {"type": "fixed", "name": "d", "size": 9, "logicalType": "decimal", "precision": 20,
                       "scale": 0},
     lambda v: twos(v, 9), [10**20 - 1, -(10**20 - 1)], [10**20, -(10**20), 2**71 - 1],
     "has more than 20 digits"),
]  # fmt: skip


@pytest.mark.parametrize("case", RANGE_CASES, ids=[c[0] for c in RANGE_CASES])
def test_values_out_of_range_are_decode_errors(tmp_path: Path, case: tuple[Any, ...]) -> None:
    _, avro_type, encode, good, bad, says = case
    schema = {
        "type": "record",
        "name": "r",
        "fields": [{"name": "id", "type": "long"}, {"name": "v", "type": avro_type}],
    }
    good_block = (len(good), b"".join(encode_long(i) + encode(v) for i, v in enumerate(good)))
    for value in bad:
        # Two good blocks around one whose third record holds the bad value.
        records = [encode_long(i) + encode(good[i % len(good)]) for i in range(3)] + [
            encode_long(3) + encode(value)
        ]
        path = tmp_path / "bad.avro"
        path.write_bytes(avro_file(json.dumps(schema), [good_block, (4, b"".join(records)), good_block]))
        for read in (
            jetliner.read_avro,
            lambda p: jetliner.scan_avro(p).collect(),
            lambda p: jetliner.read_avro(p, columns=["v"]),
        ):
            with pytest.raises(jetliner.DecodeError) as info:
                read(path)
            err = info.value
            assert 'bad record data in column "v"' in str(err) and says in str(err), str(err)
            assert (err.block_index, err.record_index) == (1, 3)
            assert err.file_offset is not None and err.file_offset > 0
        # Under ignore_errors the block is skipped and reported, never nulled.
        with jetliner.open(path, ignore_errors=True) as reader:
            df = pl.concat(list(reader))
            errors = reader.errors
        assert df.height == 2 * len(good) and df["v"].null_count() == 0
        assert [(e.kind, e.block_index, e.record_index) for e in errors] == [("DecodeError", 1, 3)]
        assert 'column "v"' in errors[0].message


def test_values_at_the_edges_read_back(tmp_path: Path) -> None:
    for name, avro_type, encode, good, _, _ in RANGE_CASES:
        schema = {"type": "record", "name": "r", "fields": [{"name": "v", "type": avro_type}]}
        path = tmp_path / f"{name}.avro"
        path.write_bytes(avro_file(json.dumps(schema), [(len(good), b"".join(encode(v) for v in good))]))
        col = jetliner.read_avro(path)["v"]
        assert col.null_count() == 0, name
        if name.startswith("decimal"):
            scale = avro_type["scale"]
            assert col.to_list() == [Decimal(v).scaleb(-scale) for v in good], name
        elif name.startswith("time-"):
            assert col.cast(pl.Int64).to_list() == [
                v * (1_000_000 if name.endswith("millis") else 1_000) for v in good
            ]


def test_nanosecond_timestamps_need_no_check(tmp_path: Path) -> None:
    # Every 64-bit count of nanoseconds is a date Polars can represent.
    schema = {
        "type": "record",
        "name": "r",
        "fields": [{"name": "v", "type": {"type": "long", "logicalType": "timestamp-nanos"}}],
    }
    values = [-(2**63), 2**63 - 1, 0]
    path = tmp_path / "ns.avro"
    path.write_bytes(avro_file(json.dumps(schema), [(3, b"".join(encode_long(v) for v in values))]))
    col = jetliner.read_avro(path)["v"]
    assert col.to_physical().to_list() == values
    assert col.dt.year().to_list() == [1677, 2262, 1970]

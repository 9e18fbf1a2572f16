"""Files written by other Avro implementations (../shared/testdata), read by jetliner
and by fastavro; and the corrupted files there, with and without ignore_errors."""

from __future__ import annotations

import json
from typing import Any

import jetliner
import polars as pl
import pytest
from _oracle import (
    assert_matches_fastavro,
    assert_rows_equal,
    expected_recovery,
    fastavro_records,
    frame_blocks,
    read_all,
    read_header,
)

READABLE = {
    "apache-avro/weather.avro": 5,
    "apache-avro/weather-deflate.avro": 5,
    "apache-avro/weather-snappy.avro": 5,
    "apache-avro/weather-zstd.avro": 5,
    "apache-avro/weather-sorted.avro": 5,
    "fastavro/array-toplevel.avro": 7,
    "fastavro/int-toplevel.avro": 8,
    "fastavro/map-toplevel.avro": 6,
    "fastavro/string-toplevel.avro": 6,
    "fastavro/recursive.avro": 2,
    "fastavro/tree-recursive.avro": 4,
    "fastavro/graph-recursive.avro": 3,
    "fastavro/java-generated-uuid.avro": 151,
    "fastavro/null.avro": 10,
    "edge-cases/edge-cases.avro": 3,
    "fastavro/no-fields.avro": 1,
    "large/weather-large.avro": 10_000,
}
REFUSED: set[str] = set()
CORRUPTED = {
    "corrupted/invalid-magic.avro": jetliner.ParseError,
    "corrupted/truncated.avro": jetliner.ParseError,
    "corrupted/corrupted-sync-marker.avro": jetliner.ParseError,
    "corrupted/corrupted-compressed.avro": jetliner.CodecError,
    "corrupted/invalid-record-data.avro": jetliner.DecodeError,
    "corrupted/multi-block-one-corrupted.avro": jetliner.DecodeError,
}


def test_every_shared_file_is_covered(shared_testdata):
    found = {p.relative_to(shared_testdata).as_posix() for p in shared_testdata.rglob("*.avro")}
    assert found == set(READABLE) | REFUSED | set(CORRUPTED)


@pytest.mark.parametrize("name", sorted(READABLE))
def test_readable_file_matches_fastavro(shared_testdata, name):
    path = shared_testdata / name
    df = assert_matches_fastavro(path)
    assert df.height == READABLE[name]
    # The same rows in small batches, and through the lazy scan.
    batched, errors = read_all(path, batch_size=3)
    assert errors == []
    assert batched.equals(df)
    assert jetliner.scan_avro(path).collect().equals(df)


WEATHER_CODECS = {
    "weather.avro": "null",
    "weather-deflate.avro": "deflate",
    "weather-snappy.avro": "snappy",
    "weather-zstd.avro": "zstandard",
}


def test_weather_codecs_agree(shared_testdata):
    frames = {}
    for name, codec in WEATHER_CODECS.items():
        path = shared_testdata / "apache-avro" / name
        assert read_header(path.read_bytes()).codec == codec
        frames[name] = jetliner.read_avro(path)
    for name, df in frames.items():
        assert df.equals(frames["weather.avro"]), name
    df = frames["weather.avro"]
    assert df.schema == pl.Schema({"station": pl.String(), "time": pl.Int64(), "temp": pl.Int32()})
    assert df.row(0) == ("011990-99999", -619524000000, 0)


def test_top_level_files_have_one_value_column(shared_testdata):
    fa = shared_testdata / "fastavro"
    assert jetliner.read_avro_schema(fa / "int-toplevel.avro") == pl.Schema({"value": pl.Int32()})
    assert jetliner.read_avro_schema(fa / "string-toplevel.avro") == pl.Schema({"value": pl.String()})
    assert jetliner.read_avro_schema(fa / "array-toplevel.avro") == pl.Schema({"value": pl.List(pl.Int32())})
    assert jetliner.read_avro_schema(fa / "map-toplevel.avro") == pl.Schema(
        {"value": pl.List(pl.Struct({"key": pl.String(), "value": pl.String()}))}
    )
    assert jetliner.read_avro_schema(fa / "null.avro") == pl.Schema({"value": pl.Binary()})
    assert jetliner.read_avro(fa / "array-toplevel.avro")["value"][0].to_list() == [1, 2, 3, 4, 5]


def test_recursive_files_hold_json(shared_testdata):
    fa = shared_testdata / "fastavro"
    linked = jetliner.read_avro(fa / "recursive.avro")
    assert linked.schema == pl.Schema({"value": pl.Int64(), "next": pl.String()})
    assert json.loads(linked["next"][0]) == {"value": 990, "next": None}
    tree = jetliner.read_avro(fa / "tree-recursive.avro")
    assert tree.schema == pl.Schema({"value": pl.Int32(), "left": pl.String(), "right": pl.String()})
    graph = jetliner.read_avro(fa / "graph-recursive.avro")
    assert graph.schema == pl.Schema(
        {"id": pl.String(), "value": pl.Int32(), "children": pl.List(pl.String())}
    )
    first_child = json.loads(graph["children"][0][0])
    assert first_child["id"] == "child1"
    assert [c["id"] for c in first_child["children"]] == ["grandchild1", "grandchild2", "grandchild3"]


def test_java_uuid_is_canonical_text(shared_testdata):
    path = shared_testdata / "fastavro/java-generated-uuid.avro"
    df = jetliner.read_avro(path)
    assert df.schema == pl.Schema({"name": pl.String(), "id": pl.String()})
    assert df["id"].to_list() == [str(r["id"]) for r in fastavro_records(path)]
    assert df["id"][0] == "25f95c12-d66b-4070-b581-0d92ec959193"


def test_large_file_streams_in_batches(shared_testdata):
    path = shared_testdata / "large/weather-large.avro"
    _, blocks = frame_blocks(path.read_bytes())
    assert len(blocks) > 5
    full = jetliner.read_avro(path)
    with jetliner.open(path, batch_size=1000) as reader:
        heights = [df.height for df in reader]
        assert reader.rows_read == 10_000
    assert sum(heights) == 10_000
    assert len(heights) >= 5
    for n in (1, blocks[0].count - 1, blocks[0].count, blocks[0].count + 1, 9_999):
        assert jetliner.read_avro(path, n_rows=n).equals(full.head(n))
    assert jetliner.scan_avro(path).select("temp").tail(3).collect().equals(full.select("temp").tail(3))
    assert jetliner.read_avro(path, columns=["time"]).equals(full.select("time"))


def test_interop_schema_written_by_fastavro_in_every_codec(shared_testdata, write_avro):
    """Apache Avro's interop.avsc, filled by fastavro, in every codec."""
    schema = json.loads((shared_testdata / "apache-avro/interop.avsc").read_text())

    def node(depth: int) -> dict[str, Any]:
        return {"label": f"n{depth}", "children": [node(depth - 1) for _ in range(depth)] if depth else []}

    records = [
        {
            "intField": i - 2**31 if i % 2 else 2**31 - 1 - i,
            "longField": -(2**63) + i,
            "stringField": "ü" * i,
            "boolField": i % 2 == 0,
            "floatField": i / 4,
            "doubleField": -i / 3,
            "bytesField": bytes(range(i)),
            "nullField": None,
            "arrayField": [float(j) for j in range(i)],
            "mapField": {f"k{j}": {"label": f"foo{j}"} for j in range(i % 3)},
            "unionField": [True, 2.5, [b"a", b""]][i % 3],
            "enumField": "ABC"[i % 3],
            "fixedField": bytes([i]) * 16,
            "recordField": node(i % 4),
        }
        for i in range(40)
    ]
    for codec in ("null", "deflate", "snappy", "zstandard", "bzip2", "xz"):
        df = assert_matches_fastavro(write_avro(schema, records, codec=codec, sync_interval=500))
        assert df.schema["unionField"] == pl.Struct(
            {"boolean": pl.Boolean(), "double": pl.Float64(), "array": pl.List(pl.Binary())}
        )
        assert df.schema["recordField"] == pl.Struct({"label": pl.String(), "children": pl.List(pl.String())})


# ---- a record with no fields ---------------------------------------------------------------


def test_no_fields_record_reads_as_its_height(shared_testdata):
    # Valid Avro: a frame of the file's height and no columns, from every API.
    path = shared_testdata / "fastavro/no-fields.avro"
    assert jetliner.read_avro_schema(path) == pl.Schema()
    assert jetliner.read_avro(path).shape == (1, 0)
    assert jetliner.scan_avro(path).collect().shape == (1, 0)
    assert jetliner.scan_avro(path).select(pl.len()).collect().item() == 1
    assert [df.shape for df in jetliner.open(path)] == [(1, 0)]
    assert jetliner.read_avro(path, row_index_name="i")["i"].to_list() == [0]


# ---- corrupted files ---------------------------------------------------------------------


def test_corrupted_files_are_what_their_names_say(shared_testdata):
    """The mapping of files to exceptions rests on what is in them; check it."""
    c = shared_testdata / "corrupted"
    assert (c / "invalid-magic.avro").read_bytes()[:4] != b"Obj\x01"
    assert expected_recovery((c / "truncated.avro").read_bytes()).bad == [("ParseError", 257)]
    assert expected_recovery((c / "corrupted-sync-marker.avro").read_bytes()).bad[0] == ("ParseError", 381)
    assert expected_recovery((c / "corrupted-compressed.avro").read_bytes()).bad == [("CodecError", 260)]
    assert expected_recovery((c / "invalid-record-data.avro").read_bytes()).bad == [("DecodeError", 257)]
    assert expected_recovery((c / "multi-block-one-corrupted.avro").read_bytes()).bad == [
        ("DecodeError", 566)
    ]


@pytest.mark.parametrize("name", sorted(CORRUPTED))
def test_corrupted_file_raises_without_ignore_errors(shared_testdata, name):
    path = shared_testdata / name
    error = CORRUPTED[name]
    for read in (
        lambda: jetliner.read_avro(path),
        lambda: jetliner.scan_avro(path).collect(),
        lambda: list(jetliner.open(path, ignore_errors=False)),
    ):
        with pytest.raises(error) as info:
            read()
        assert type(info.value) is error
        assert info.value.path is not None and info.value.path.endswith(name.split("/")[-1])
    if name == "corrupted/invalid-magic.avro":
        return
    want = expected_recovery(path.read_bytes())
    assert info.value.file_offset == want.bad[0][1]
    assert info.value.block_index == want.first_bad_block


@pytest.mark.parametrize("name", sorted(set(CORRUPTED) - {"corrupted/invalid-magic.avro"}))
def test_corrupted_file_with_ignore_errors_keeps_every_good_block(shared_testdata, name):
    path = shared_testdata / name
    want = expected_recovery(path.read_bytes())
    df, errors = read_all(path, ignore_errors=True)
    assert_rows_equal(want.rows, df)
    assert [(e.kind, e.file_offset) for e in errors] == want.bad
    assert errors[0].block_index == want.first_bad_block
    for e in errors:
        assert isinstance(e, jetliner.BadBlockError)
        assert e.path is not None and e.path.endswith(path.name)
        assert e.message
    # The eager and lazy readers skip the same blocks.
    assert jetliner.read_avro(path, ignore_errors=True).equals(df)
    assert jetliner.scan_avro(path, ignore_errors=True).collect().equals(df)


def test_ignore_errors_row_counts(shared_testdata):
    """The plain numbers, as a reader of the files would work them out."""
    counts = {
        "corrupted-compressed.avro": 100 - 24,
        "invalid-record-data.avro": 50 - 10,
        "multi-block-one-corrupted.avro": 300 - 4,
        "truncated.avro": 0,
        # Block 1's marker is broken, so block 1 is dropped; block 2 frames
        # where block 1's size says, with its own good marker, and is read.
        "corrupted-sync-marker.avro": 100 - 5,
    }
    for name, rows in counts.items():
        df, errors = read_all(shared_testdata / "corrupted" / name, ignore_errors=True)
        assert df.height == rows, name
        assert len(errors) == 1, name
    # invalid-record-data: the first record of block 0 has a bad string.
    _, errors = read_all(shared_testdata / "corrupted/invalid-record-data.avro", ignore_errors=True)
    assert (errors[0].kind, errors[0].block_index, errors[0].record_index) == ("DecodeError", 0, 0)


def test_invalid_magic_raises_even_with_ignore_errors(shared_testdata):
    path = shared_testdata / "corrupted/invalid-magic.avro"
    with pytest.raises(jetliner.ParseError, match="magic"):
        read_all(path, ignore_errors=True)
    with pytest.raises(jetliner.ParseError):
        jetliner.read_avro_schema(path)


@pytest.mark.parametrize("batch_size", [1, 3, 4, 5, 100_000])
def test_n_rows_with_ignore_errors_is_the_head_of_the_full_read(shared_testdata, batch_size):
    """Block 3 (rows 12-15) is bad: n_rows counts the rows that come back, so the
    rows of later blocks make up for it, exactly as in a full read cut afterwards."""
    path = shared_testdata / "corrupted/multi-block-one-corrupted.avro"
    full, _ = read_all(path, ignore_errors=True)
    for n in [*range(0, 26), 295, 296, 297, 10**6]:
        df, errors = read_all(path, ignore_errors=True, n_rows=n, batch_size=batch_size)
        assert df.equals(full.head(n)), n
        assert [(e.kind, e.block_index) for e in errors] == ([("DecodeError", 3)] if n > 12 else []), n
    for n in (11, 12, 13, 17):
        assert jetliner.read_avro(path, ignore_errors=True, n_rows=n).equals(full.head(n))
        assert jetliner.scan_avro(path, ignore_errors=True).head(n).collect().equals(full.head(n))

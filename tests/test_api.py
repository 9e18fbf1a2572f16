"""The public functions and their options, as API.md specifies them."""

from __future__ import annotations

import builtins
import json
from pathlib import Path

import jetliner
import polars as pl
import pytest
from polars.testing import assert_frame_equal

SCHEMA = {
    "type": "record",
    "name": "Row",
    "fields": [
        {"name": "id", "type": "long"},
        {"name": "name", "type": "string"},
        {"name": "score", "type": ["null", "double"]},
        {"name": "tags", "type": {"type": "array", "items": "string"}},
    ],
}


def rows(start: int, n: int) -> list[dict]:
    return [
        {
            "id": i,
            "name": f"name-{i}",
            "score": None if i % 7 == 0 else i / 4,
            "tags": [f"t{j}" for j in range(i % 3)],
        }
        for i in range(start, start + n)
    ]


def expected(start: int, n: int) -> pl.DataFrame:
    return pl.DataFrame(
        rows(start, n),
        schema={"id": pl.Int64, "name": pl.String, "score": pl.Float64, "tags": pl.List(pl.String)},
    )


@pytest.fixture
def one_file(write_avro) -> Path:
    # A small sync interval makes many blocks, so block boundaries get exercised.
    return write_avro(SCHEMA, rows(0, 1000), name="one.avro", sync_interval=500)


@pytest.fixture
def three_files(write_avro, tmp_path: Path) -> Path:
    directory = tmp_path / "parts"
    for k in range(3):
        write_avro(SCHEMA, rows(100 * k, 100), name=f"part-{k}.avro", directory=directory, sync_interval=300)
    return directory


# -- the functions ------------------------------------------------------------------


def test_read_avro_matches_the_data(one_file: Path) -> None:
    assert_frame_equal(jetliner.read_avro(one_file), expected(0, 1000))


def test_scan_avro_collects_the_same_frame(one_file: Path) -> None:
    lf = jetliner.scan_avro(one_file)
    assert isinstance(lf, pl.LazyFrame)
    assert_frame_equal(lf.collect(), expected(0, 1000))


def test_scan_is_scan_avro() -> None:
    assert jetliner.scan is jetliner.scan_avro


def test_read_avro_schema_reads_only_the_header(one_file: Path) -> None:
    schema = jetliner.read_avro_schema(one_file)
    assert isinstance(schema, pl.Schema)
    assert schema == expected(0, 1).schema
    assert jetliner.scan_avro(one_file).collect_schema() == schema


def test_read_avro_schema_of_a_glob_uses_the_first_file(three_files: Path) -> None:
    assert jetliner.read_avro_schema(str(three_files / "*.avro")) == expected(0, 1).schema


def test_open_iterates_batches(one_file: Path) -> None:
    with jetliner.open(one_file, batch_size=300) as reader:
        assert isinstance(reader, jetliner.AvroReader)
        batches = list(reader)
    assert all(isinstance(b, pl.DataFrame) for b in batches)
    assert len(batches) >= 3
    assert_frame_equal(pl.concat(batches), expected(0, 1000))


def test_avro_reader_can_be_built_directly(one_file: Path) -> None:
    with jetliner.AvroReader(one_file) as reader:
        assert_frame_equal(pl.concat(list(reader)), expected(0, 1000))


def test_multi_avro_reader_reads_files_in_order(three_files: Path) -> None:
    paths = [three_files / f"part-{k}.avro" for k in (2, 0, 1)]
    with jetliner.MultiAvroReader(paths) as reader:
        df = pl.concat(list(reader))
    # A list keeps the user's order.
    assert df["id"].to_list() == [*range(200, 300), *range(0, 100), *range(100, 200)]


# -- sources ------------------------------------------------------------------------


def test_str_path_and_file_url_read_the_same(one_file: Path) -> None:
    want = expected(0, 1000)
    assert_frame_equal(jetliner.read_avro(str(one_file)), want)
    assert_frame_equal(jetliner.read_avro(f"file://{one_file}"), want)


def test_glob_reads_matches_in_sorted_order(three_files: Path) -> None:
    df = jetliner.read_avro(str(three_files / "part-*.avro"))
    assert_frame_equal(df, expected(0, 300))


@pytest.mark.parametrize(
    ("pattern", "ids"),
    [
        ("part-?.avro", [0, 1, 2]),
        ("part-[02].avro", [0, 2]),
        ("part-{1,2}.avro", [1, 2]),
        ("**/*.avro", [0, 1, 2]),
    ],
)
def test_glob_syntax(three_files: Path, pattern: str, ids: list[int]) -> None:
    df = jetliner.read_avro(str(three_files / pattern))
    want = pl.concat([expected(100 * k, 100) for k in ids])
    assert_frame_equal(df, want)


def test_double_star_descends_into_subdirectories(write_avro, tmp_path: Path) -> None:
    write_avro(SCHEMA, rows(0, 5), name="a/x.avro")
    write_avro(SCHEMA, rows(5, 5), name="a/b/c/y.avro")
    write_avro(SCHEMA, rows(10, 5), name="z.txt")
    df = jetliner.read_avro(str(tmp_path / "**" / "*.avro"))
    # Sorted by full path: "a/b/c/y.avro" comes before "a/x.avro".
    assert df["id"].to_list() == [*range(5, 10), *range(5)]


def test_glob_false_takes_the_name_literally(write_avro, tmp_path: Path) -> None:
    write_avro(SCHEMA, rows(0, 3), name="weird[1].avro")
    literal = str(tmp_path / "weird[1].avro")
    assert jetliner.read_avro(literal, glob=False).height == 3
    with pytest.raises(jetliner.FileNotFoundError):
        jetliner.read_avro(literal)  # as a glob, [1] matches "weird1.avro" only


def test_list_of_sources_mixing_globs_and_paths(three_files: Path) -> None:
    df = jetliner.read_avro([three_files / "part-2.avro", str(three_files / "part-[01].avro")])
    assert df["id"].to_list() == [*range(200, 300), *range(0, 200)]


# -- options ------------------------------------------------------------------------


def test_columns_by_name_keep_the_requested_order(one_file: Path) -> None:
    df = jetliner.read_avro(one_file, columns=["score", "id"])
    assert_frame_equal(df, expected(0, 1000).select("score", "id"))


def test_columns_by_index(one_file: Path) -> None:
    df = jetliner.read_avro(one_file, columns=[3, 0])
    assert df.columns == ["tags", "id"]
    assert_frame_equal(df, expected(0, 1000).select("tags", "id"))


def test_projected_columns_in_open(one_file: Path) -> None:
    with jetliner.open(one_file, projected_columns=["name"]) as reader:
        df = pl.concat(list(reader))
        assert reader.polars_schema == pl.Schema({"name": pl.String})
    assert_frame_equal(df, expected(0, 1000).select("name"))


@pytest.mark.parametrize("n", [0, 1, 499, 500, 1000, 5000])
def test_n_rows(one_file: Path, n: int) -> None:
    assert_frame_equal(jetliner.read_avro(one_file, n_rows=n), expected(0, min(n, 1000)))


def test_n_rows_across_files(three_files: Path) -> None:
    df = jetliner.read_avro(str(three_files / "*.avro"), n_rows=150)
    assert df["id"].to_list() == list(range(150))


def test_row_index_dtype_matches_polars(one_file: Path) -> None:
    df = jetliner.read_avro(one_file, row_index_name="idx", row_index_offset=10)
    want = expected(0, 1000).with_row_index("idx", offset=10)
    assert_frame_equal(df, want)
    assert df.columns[0] == "idx"


def test_row_index_is_continuous_across_files(three_files: Path) -> None:
    df = jetliner.read_avro(str(three_files / "*.avro"), row_index_name="i", batch_size=64)
    assert df["i"].to_list() == list(range(300))


def test_include_file_paths(three_files: Path) -> None:
    df = jetliner.read_avro(str(three_files / "*.avro"), include_file_paths="src")
    assert df.columns[-1] == "src"
    assert df.schema["src"] == pl.String
    counts = df.group_by("src").len().sort("src")
    assert counts["src"].to_list() == [str(three_files / f"part-{k}.avro") for k in range(3)]
    assert counts["len"].to_list() == [100, 100, 100]


@pytest.mark.parametrize("batch_size", [1, 99, 500, 10_000])
def test_batch_size(one_file: Path, batch_size: int) -> None:
    with jetliner.open(one_file, batch_size=batch_size) as reader:
        heights = [b.height for b in reader]
        assert reader.batch_size == batch_size
    assert sum(heights) == 1000
    # Batches are cut at block boundaries: at least batch_size rows, except the last.
    assert all(h >= batch_size for h in heights[:-1])
    if batch_size >= 1000:
        assert heights == [1000]


@pytest.mark.parametrize(
    "options",
    [
        {"buffer_blocks": 1},
        {"buffer_blocks": 64},
        {"buffer_bytes": 1},
        {"buffer_bytes": 1 << 30},
        {"read_chunk_size": 1},
        {"read_chunk_size": 7},
        {"read_chunk_size": 1 << 24},
        {"max_block_size": None},
    ],
)
def test_buffer_and_io_options_do_not_change_results(one_file: Path, options: dict) -> None:
    assert_frame_equal(jetliner.read_avro(one_file, **options), expected(0, 1000))
    assert_frame_equal(jetliner.scan_avro(one_file, **options).collect(), expected(0, 1000))


def test_max_block_size_refuses_big_blocks(one_file: Path) -> None:
    with pytest.raises(jetliner.CodecError, match="max_block_size"):
        jetliner.read_avro(one_file, max_block_size=64)


# -- bad options and bad input --------------------------------------------------------


@pytest.mark.parametrize(
    "options",
    [
        {"batch_size": 0},
        {"batch_size": -5},
        {"batch_size": "10"},
        {"buffer_blocks": 0},
        {"buffer_bytes": 0},
        {"n_rows": -1},
        {"n_rows": 1.5},
        {"row_index_offset": -1},
        {"read_chunk_size": 0},
        {"max_block_size": 0},
        {"glob": "yes"},
        {"ignore_errors": 1},
        {"row_index_name": ""},
        {"storage_options": {"not_a_key": "x"}},
        {"storage_options": {"region": object()}},
        {"storage_options": "region=us-east-1"},
        {"no_such_option": True},
    ],
)
def test_bad_options_raise_configuration_error(one_file: Path, options: dict) -> None:
    for call in (jetliner.read_avro, jetliner.scan_avro, jetliner.open):
        with pytest.raises(jetliner.ConfigurationError) as info:
            call(one_file, **options)
        assert isinstance(info.value, (ValueError, TypeError))


def test_configuration_error_is_value_and_type_error() -> None:
    assert issubclass(jetliner.ConfigurationError, ValueError)
    assert issubclass(jetliner.ConfigurationError, TypeError)


def test_missing_file(tmp_path: Path) -> None:
    missing = tmp_path / "nope.avro"
    for call in (jetliner.read_avro, jetliner.read_avro_schema, jetliner.open):
        with pytest.raises(jetliner.FileNotFoundError) as info:
            call(missing)
        assert isinstance(info.value, builtins.FileNotFoundError)
        assert info.value.path == str(missing)
    with pytest.raises(FileNotFoundError):
        jetliner.scan_avro(missing).collect()


def test_glob_without_match(tmp_path: Path) -> None:
    with pytest.raises(jetliner.FileNotFoundError, match="matched no files"):
        jetliner.read_avro(str(tmp_path / "*.avro"))


def test_not_an_avro_file(tmp_path: Path) -> None:
    path = tmp_path / "x.avro"
    path.write_text("hello, I am a CSV file\n1,2,3\n")
    with pytest.raises(jetliner.ParseError, match="not an Avro file"):
        jetliner.read_avro(path)
    empty = tmp_path / "empty.avro"
    empty.write_bytes(b"")
    with pytest.raises(jetliner.ParseError, match="empty"):
        jetliner.read_avro(empty)


def test_directory_is_not_a_file(tmp_path: Path) -> None:
    with pytest.raises(jetliner.SourceError):
        jetliner.read_avro(tmp_path)


def test_unknown_column(one_file: Path) -> None:
    with pytest.raises(jetliner.SchemaError, match="nope"):
        jetliner.read_avro(one_file, columns=["id", "nope"])
    with pytest.raises(jetliner.ConfigurationError):
        jetliner.read_avro(one_file, columns=[0, 9])
    with pytest.raises(pl.exceptions.ColumnNotFoundError):
        jetliner.scan_avro(one_file).select("nope").collect()


def test_files_with_different_schemas(write_avro, tmp_path: Path) -> None:
    write_avro(SCHEMA, rows(0, 3), name="a.avro")
    other = {**SCHEMA, "fields": [{"name": "id", "type": "int"}]}
    write_avro(other, [{"id": 1}], name="b.avro")
    with pytest.raises(jetliner.SchemaError, match=r"b\.avro|files of one read"):
        jetliner.read_avro(str(tmp_path / "*.avro"))
    # The columns they share with the same type can still be read together.
    renamed = {**SCHEMA, "fields": [*SCHEMA["fields"], {"name": "extra", "type": "int"}]}
    write_avro(renamed, [{**r, "extra": 1} for r in rows(3, 2)], name="c.avro")
    df = jetliner.read_avro([tmp_path / "a.avro", tmp_path / "c.avro"], columns=["id", "name"])
    assert df["id"].to_list() == [0, 1, 2, 3, 4]


def test_error_objects_have_message_variant_and_to_dict(tmp_path: Path) -> None:
    with pytest.raises(jetliner.FileNotFoundError) as info:
        jetliner.read_avro(tmp_path / "missing.avro")
    err = info.value
    assert err.variant == "NotFound"
    assert "no such file" in err.message
    d = err.to_dict()
    assert d["variant"] == "NotFound"
    assert d["path"] == str(tmp_path / "missing.avro")
    json.dumps(d)


def test_exception_hierarchy() -> None:
    for cls in (
        jetliner.SourceError,
        jetliner.AuthenticationError,
        jetliner.FileNotFoundError,
        jetliner.PermissionError,
        jetliner.ParseError,
        jetliner.SchemaError,
        jetliner.CodecError,
        jetliner.DecodeError,
        jetliner.ConfigurationError,
    ):
        assert issubclass(cls, jetliner.JetlinerError)
    assert issubclass(jetliner.AuthenticationError, jetliner.SourceError)
    assert issubclass(jetliner.PermissionError, jetliner.SourceError)
    assert issubclass(jetliner.PermissionError, builtins.PermissionError)
    # s3-access.md catches SourceError before FileNotFoundError for missing objects.
    assert not issubclass(jetliner.FileNotFoundError, jetliner.SourceError)


def test_permission_denied(write_avro, tmp_path: Path) -> None:
    import os

    if os.geteuid() == 0:
        # root reads anything; drop the test's premise by other means.
        path = write_avro(SCHEMA, rows(0, 1), name="locked.avro")
        pytest.importorskip("pwd")
        with pytest.raises(jetliner.PermissionError):
            _read_as_nobody(path)
        return
    path = write_avro(SCHEMA, rows(0, 1), name="locked.avro")
    path.chmod(0)
    with pytest.raises(jetliner.PermissionError):
        jetliner.read_avro(path)


def _read_as_nobody(path: Path) -> None:
    """Run the read in a child process that dropped root, and re-raise its error."""
    import subprocess
    import sys

    path.chmod(0)
    code = (
        "import os, sys, jetliner\n"
        "os.setgid(65534); os.setuid(65534)\n"
        "try:\n"
        f"    jetliner.read_avro({str(path)!r})\n"
        "except jetliner.PermissionError as e:\n"
        "    print('PermissionError', e); sys.exit(3)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    if proc.returncode == 3:
        raise jetliner.PermissionError(proc.stdout.strip())
    raise AssertionError(f"expected PermissionError, got rc={proc.returncode}: {proc.stdout}{proc.stderr}")

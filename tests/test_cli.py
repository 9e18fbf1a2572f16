"""The command line: `jetliner schema | head | count | convert`, its errors and exit codes.

Most tests call ``jetliner.cli.main`` in-process (fast, and capsys sees the
output); a few run ``python -m jetliner`` and the ``jetliner`` console script as
a user would.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import fastavro
import jetliner
import polars as pl
import pyarrow.parquet as pq
import pytest
from jetliner.cli import main
from polars.testing import assert_frame_equal

pytest.register_assert_rewrite("s3support")
from s3support import S3Env, avro_bytes  # noqa: E402

pytest_plugins = ["s3support"]

SCHEMA = {
    "type": "record",
    "name": "Trip",
    "namespace": "cli",
    "fields": [
        {"name": "id", "type": "long"},
        {"name": "city", "type": {"type": "enum", "name": "City", "symbols": ["Oslo", "Lima", "Pune"]}},
        {"name": "km", "type": ["null", "double"]},
        {"name": "rider", "type": "string"},
    ],
}


def records(n: int, start: int = 0) -> list[dict[str, Any]]:
    return [
        {
            "id": i,
            "city": ["Oslo", "Lima", "Pune"][i % 3],
            "km": None if i % 4 == 0 else i / 8,
            "rider": f"r{i}",
        }
        for i in range(start, start + n)
    ]


@pytest.fixture
def trips(write_avro: Any) -> Path:
    return write_avro(SCHEMA, records(5000), codec="deflate", sync_interval=4000, name="trips.avro")  # type: ignore[no-any-return]


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def usage_error(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    """Run argv, expect exit code 2, return stderr."""
    with pytest.raises(SystemExit) as info:
        main(list(argv))
    out, err = capsys.readouterr()
    assert info.value.code == 2, err
    assert out == ""
    return err


def block_counts(path: Path) -> list[int]:
    with path.open("rb") as fh:
        return [b.num_records for b in fastavro.block_reader(fh)]


# --- schema ----------------------------------------------------------------------


def test_schema_prints_avro_and_polars(trips: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "schema", str(trips))
    assert (code, err) == (0, "")
    avro_part, polars_part = out.split("\n\nPolars schema:\n")
    assert avro_part.startswith(f"Avro schema of {trips}:\n")
    avro = json.loads(avro_part.split(":\n", 1)[1])
    with jetliner.open(trips) as reader:
        assert avro == reader.schema_dict
    lines = polars_part.splitlines()
    schema = jetliner.read_avro_schema(trips)
    assert [line.split()[0] for line in lines] == schema.names()
    assert lines[0].split(None, 1)[1] == str(schema["id"])
    assert lines[2].split(None, 1)[1] == str(schema["km"])


def test_schema_only_avro_or_only_polars(trips: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "schema", "--avro", str(trips))
    assert code == 0
    assert json.loads(out)["fields"][0] == {"name": "id", "type": "long"}
    code, out, _ = run(capsys, "schema", str(trips), "--polars")
    assert code == 0
    assert out.split() == [
        tok for name, dtype in jetliner.read_avro_schema(trips).items() for tok in (name, *str(dtype).split())
    ]


def test_schema_of_a_glob_names_the_first_file(
    write_avro: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for k in range(2):
        write_avro(SCHEMA, records(3), name=f"part{k}.avro")
    code, out, _ = run(capsys, "schema", str(tmp_path / "part*.avro"))
    assert code == 0
    assert out.startswith(f"Avro schema of {tmp_path / 'part0.avro'} (the first of 2 files):\n")


# --- head ------------------------------------------------------------------------


def test_head_prints_the_first_rows(trips: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "head", str(trips), "-n", "12")
    assert (code, err) == (0, "")
    assert out.startswith("shape: (12, 4)\n")
    expected = jetliner.read_avro(trips, n_rows=12)
    for rider in expected["rider"]:
        assert f" {rider} " in out  # every row shown, none elided
    assert "…" not in out


def test_head_defaults_to_ten_rows_and_reads_no_more(trips: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "head", str(trips))
    assert code == 0
    assert out.startswith("shape: (10, 4)\n")


@pytest.mark.parametrize("fmt", ["csv", "ndjson"])
def test_head_machine_readable(trips: Path, fmt: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "head", str(trips), "-n", "7", "--format", fmt, "-c", "id,rider,km")
    assert code == 0
    got = pl.read_csv(io.StringIO(out)) if fmt == "csv" else pl.read_ndjson(io.StringIO(out))
    expected = jetliner.read_avro(trips, n_rows=7, columns=["id", "rider", "km"])
    assert_frame_equal(got, expected, check_dtypes=False)


def test_head_zero_rows_and_options(trips: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "head", str(trips), "-n", "0")
    assert code == 0
    assert out.startswith("shape: (0, 4)\n")
    code, out, _ = run(
        capsys,
        "head", str(trips), "-n", "3", "--format", "csv", "-c", "id",
        "--row-index-name", "i", "--row-index-offset", "5", "--include-file-paths", "file",
    )  # fmt: skip
    assert code == 0
    assert out.splitlines() == ["i,id,file", f"5,0,{trips}", f"6,1,{trips}", f"7,2,{trips}"]


# --- count -----------------------------------------------------------------------


def test_count_matches_the_rows(trips: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "count", str(trips))
    assert (code, out, err) == (0, "5000\n", "")


def test_count_verbose_lists_blocks_per_file(
    write_avro: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    paths = [
        write_avro(SCHEMA, records(700 * (k + 1)), name=f"c{k}.avro", sync_interval=2000) for k in range(3)
    ]
    code, out, _ = run(capsys, "count", "-v", str(tmp_path / "c*.avro"))
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split() == ["file", "blocks", "records", "bytes"]
    for line, p in zip(lines[1:4], paths, strict=True):
        counts = block_counts(p)
        assert line.split() == [str(p), f"{len(counts):,}", f"{sum(counts):,}", f"{os.path.getsize(p):,}"]
    total = sum(sum(block_counts(p)) for p in paths)
    assert lines[4].split()[0] == "total"
    assert lines[4].split()[2] == f"{total:,}"
    code, out, _ = run(capsys, "count", str(tmp_path / "c*.avro"))
    assert out == f"{total}\n"


def test_count_does_not_decode(trips: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Garbage record data in a well-framed block: a read fails on it, the count
    does not look at it. The count is the blocks' declared record counts."""
    data = bytearray(trips.read_bytes())
    sync = bytes(data[-16:])
    header_end = data.index(sync) + 16
    second = data.index(sync, header_end) + 16  # the second block's first byte
    with trips.open("rb") as fh:
        blocks = list(fastavro.block_reader(fh))
    # Skip the second block's count and size varints, then overwrite its data.
    pos = second
    for _ in range(2):
        while data[pos] & 0x80:
            pos += 1
        pos += 1
    data[pos : pos + 64] = b"\xff" * 64
    bad = tmp_path / "garbage.avro"
    bad.write_bytes(bytes(data))
    with pytest.raises((jetliner.DecodeError, jetliner.CodecError)):
        jetliner.read_avro(bad)
    code, out, _ = run(capsys, "count", str(bad))
    assert code == 0
    assert int(out) == sum(b.num_records for b in blocks) == 5000


def test_count_reports_broken_framing(
    trips: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = bytearray(trips.read_bytes())
    data[-1] ^= 0xFF  # the last sync marker
    bad = tmp_path / "broken.avro"
    bad.write_bytes(bytes(data))
    code, out, err = run(capsys, "count", str(bad))
    assert code == 1
    assert out == ""
    assert err.startswith("jetliner count: error: ParseError: ")
    assert "sync marker" in err


# --- convert ---------------------------------------------------------------------


def test_convert_to_parquet_streams_batches(
    trips: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "trips.parquet"
    code, stdout, err = run(capsys, "convert", str(trips), str(out), "--batch-size", "1000")
    assert (code, stdout, err) == (0, "", "")
    # One row group per batch: written as read, never all in memory.
    assert pq.ParquetFile(out).metadata.num_row_groups >= 5
    assert pq.ParquetFile(out).metadata.row_group(0).column(0).compression == "ZSTD"
    assert_frame_equal(pl.read_parquet(out), jetliner.read_avro(trips))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["trips.avro", "trips.parquet"]


@pytest.mark.parametrize(
    ("name", "reader"),
    [
        ("t.csv", pl.read_csv),
        ("t.ndjson", pl.read_ndjson),
        ("t.jsonl", pl.read_ndjson),
        ("t.arrow", pl.read_ipc),
    ],
)
def test_convert_other_formats(
    trips: Path, tmp_path: Path, name: str, reader: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / name
    code, _, err = run(capsys, "convert", str(trips), str(out), "-c", "id,km,rider", "--batch-size", "1500")
    assert (code, err) == (0, "")
    assert_frame_equal(
        reader(out), jetliner.read_avro(trips, columns=["id", "km", "rider"]), check_dtypes=False
    )


def test_convert_options(write_avro: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for k in range(3):
        write_avro(SCHEMA, records(100, 100 * k), name=f"in{k}.avro")
    out = tmp_path / "out.data"
    code, _, err = run(
        capsys,
        "convert", str(tmp_path / "in*.avro"), str(out), "--format", "parquet", "--compression", "snappy",
        "-n", "250", "--row-index-name", "row", "--include-file-paths", "src",
    )  # fmt: skip
    assert (code, err) == (0, "")
    got = pl.read_parquet(out)
    expected = jetliner.read_avro(
        str(tmp_path / "in*.avro"), n_rows=250, row_index_name="row", include_file_paths="src"
    )
    assert_frame_equal(got, expected)
    assert pq.ParquetFile(out).metadata.row_group(0).column(0).compression == "SNAPPY"


def test_convert_empty_file_keeps_the_schema(
    write_avro: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    empty = write_avro(SCHEMA, [], name="empty.avro")
    out = tmp_path / "empty.parquet"
    code, _, _ = run(capsys, "convert", str(empty), str(out))
    assert code == 0
    got = pl.read_parquet(out)
    assert got.height == 0
    assert got.columns == ["id", "city", "km", "rider"]


def test_convert_progress_reaches_100_percent(
    trips: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(capsys, "convert", str(trips), str(tmp_path / "p.parquet"), "--progress")
    assert code == 0
    assert "100%" in err
    assert err.endswith("wrote 5,000 rows to " + str(tmp_path / "p.parquet") + "\n")


def test_failed_convert_leaves_nothing_behind(
    trips: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = bytearray(trips.read_bytes())
    data[-1] ^= 0xFF
    bad = tmp_path / "bad.avro"
    bad.write_bytes(bytes(data))
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    old = out_dir / "x.parquet"
    old.write_bytes(b"previous contents")
    code, _, err = run(capsys, "convert", str(bad), str(old))
    assert code == 1
    assert "ParseError" in err
    assert old.read_bytes() == b"previous contents"  # not clobbered by a half-written file
    assert [p.name for p in out_dir.iterdir()] == ["x.parquet"]


# --- errors and exit codes ----------------------------------------------------------


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        ([], "the following arguments are required: COMMAND"),
        (["frobnicate", "x.avro"], "invalid choice: 'frobnicate'"),
        (["schema"], "the following arguments are required: FILE"),
        (["head", "x.avro", "-n", "ten"], "argument -n/--rows: not an integer: 'ten'"),
        (["head", "x.avro", "-n", "-3"], "argument -n/--rows: must be non-negative, got -3"),
        (["head", "x.avro", "--batch-size", "0"], "argument --batch-size: must be at least 1, got 0"),
        (["head", "x.avro", "--format", "xml"], "argument --format: invalid choice: 'xml'"),
        (["count", "x.avro", "-s", "password=hunter2"], "unknown storage option 'password'"),
        (["count", "x.avro", "-s", "endpoint"], "expected KEY=VALUE (the argument is not shown"),
        (["count", "x.avro", "--read-chunk-size", "12XB"], "not a size in bytes: '12XB'"),
        (["convert", "x.avro"], "the following arguments are required: OUT"),
        (["schema", "x.avro", "--avro", "--polars"], "argument --polars: not allowed with argument --avro"),
        (["count", "x.avro", "--columns", "a"], "unrecognized arguments: --columns a"),
    ],
)
def test_bad_arguments_exit_2(argv: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    err = usage_error(capsys, *argv)
    assert message in err
    assert "usage: jetliner" in err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["convert", "{trips}", "{tmp}/out.xlsx"], "cannot tell the output format from"),
        (["convert", "{trips}", "{tmp}"], "OUT is a directory"),
        (["head", "{trips}", "--columns", ","], "--columns needs at least one column name"),
        (["head", "{trips}", "--row-index-name", "id"], 'row_index_name "id" is also a column'),
    ],
)
def test_bad_values_found_later_exit_2(
    trips: Path, tmp_path: Path, argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = [a.format(trips=trips, tmp=tmp_path) for a in argv]
    code, out, err = run(capsys, *argv)
    assert code == 2
    assert out == ""
    assert err.startswith(f"jetliner {argv[0]}: error: ")
    assert message in err


def test_missing_file_exits_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for command in (["schema"], ["head"], ["count"]):
        code, out, err = run(capsys, *command, str(tmp_path / "nope.avro"))
        assert (code, out) == (1, "")
        assert err.startswith(f"jetliner {command[0]}: error: FileNotFoundError: ")
    code, _, err = run(capsys, "count", str(tmp_path / "*.avro"))
    assert code == 1
    assert "FileNotFoundError" in err


def test_unknown_column_exits_1(trips: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "head", str(trips), "-c", "id,nope")
    assert code == 1
    assert "SchemaError" in err
    assert "nope" in err


def test_help_and_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["--version"])
    assert info.value.code == 0
    assert capsys.readouterr().out == f"jetliner {jetliner.__version__}\n"
    with pytest.raises(SystemExit) as info:
        main(["convert", "-h"])
    assert info.value.code == 0
    text = capsys.readouterr().out
    for option in ("--storage-option", "--compression", "--progress", "--columns", "--ignore-errors"):
        assert option in text


# --- as a user runs it --------------------------------------------------------------


def test_python_dash_m(trips: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "jetliner", "count", str(trips)], capture_output=True, text=True, timeout=60
    )
    assert (done.returncode, done.stdout, done.stderr) == (0, "5000\n", "")
    done = subprocess.run(
        [sys.executable, "-m", "jetliner", "count"], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 2
    assert "the following arguments are required: FILE" in done.stderr


def test_console_script(trips: Path) -> None:
    script = Path(sys.executable).with_name("jetliner")
    found = str(script) if script.exists() else shutil.which("jetliner")
    assert found, "the jetliner console script is not installed (pip install -e .)"
    done = subprocess.run(
        [found, "head", str(trips), "-n", "2", "--format", "csv", "-c", "id"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert (done.returncode, done.stdout) == (0, "id\n0\n1\n"), done.stderr


def test_broken_pipe_is_quiet(trips: Path) -> None:
    done = subprocess.run(
        f"{sys.executable} -m jetliner head {trips} -n 5000 --format csv | head -n 1",
        shell=True,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.stdout == "id,city,km,rider\n"
    assert "Traceback" not in done.stderr


# --- S3 ----------------------------------------------------------------------------


def test_s3_count_head_convert(s3: S3Env, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from s3support import records as s3_records

    data = avro_bytes(s3_records(3000), codec="deflate", sync_interval=16 * 1024)
    uri = s3.put("cli/events.avro", data)
    local = tmp_path / "events.avro"
    local.write_bytes(data)
    options = [f"-s{k}={v}" for k, v in s3.options().items()]

    code, out, err = run(capsys, "count", uri, *options)
    assert (code, out, err) == (0, "3000\n", "")

    code, out, _ = run(capsys, "head", uri, "-n", "3", "--format", "ndjson", "-c", "user_id", *options)
    assert code == 0
    assert [json.loads(line)["user_id"] for line in out.splitlines()] == [0, 1, 2]

    parquet = tmp_path / "events.parquet"
    code, _, err = run(
        capsys, "convert", "s3://jetliner-test/cli/*.avro", str(parquet), *options, "--batch-size", "1000"
    )
    assert (code, err) == (0, "")
    assert_frame_equal(pl.read_parquet(parquet), jetliner.read_avro(local))

    # Credentials from the environment work as for the API; bad ones fail clearly.
    code, _, err = run(
        capsys,
        "count",
        uri,
        f"-sendpoint={s3.proxy.endpoint}",
        "-saws_access_key_id=AKIANOTAKEY000000000",
        "-saws_secret_access_key=wrongwrongwrong",
    )
    assert code == 1
    assert "AuthenticationError" in err
    assert "wrongwrongwrong" not in err


# --- convert to Avro ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "write"),
    [
        ("in.parquet", pl.DataFrame.write_parquet),
        ("in.arrow", pl.DataFrame.write_ipc),
        ("in.csv", pl.DataFrame.write_csv),
        ("in.ndjson", pl.DataFrame.write_ndjson),
        ("in.avro", jetliner.write_avro),
    ],
)
def test_convert_to_avro(tmp_path: Path, name: str, write: Any, capsys: pytest.CaptureFixture[str]) -> None:
    df = pl.DataFrame(
        {"id": range(3000), "name": [f"n{i}" for i in range(3000)], "x": [i / 3 for i in range(3000)]}
    )
    src = tmp_path / name
    write(df, src)
    out = tmp_path / "out.avro"
    code, stdout, err = run(
        capsys, "convert", str(src), str(out), "--codec", "zstd", "--compression-level", "5"
    )
    assert (code, stdout, err) == (0, "", "")
    assert_frame_equal(jetliner.read_avro(out), df)
    with out.open("rb") as fh:
        reader = fastavro.reader(fh)
        assert reader.codec == "zstandard"
        assert [r["id"] for r in reader] == list(range(3000))  # fastavro reads it too
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([name, "out.avro"])


def test_convert_to_avro_options(trips: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out.data"
    code, _, err = run(
        capsys, "convert", str(trips), str(out), "--format", "avro", "--codec", "deflate",
        "-c", "id,rider", "-n", "1234", "--batch-size", "500",
    )  # fmt: skip
    assert (code, err) == (0, "")
    assert_frame_equal(
        jetliner.read_avro(out), jetliner.read_avro(trips, columns=["id", "rider"], n_rows=1234)
    )
    # A Parquet file without the extension: --from says what it is.
    pq_in = tmp_path / "data.bin"
    jetliner.read_avro(trips).with_columns(pl.col("city").cast(pl.String)).write_parquet(pq_in)
    code, _, err = run(
        capsys, "convert", str(pq_in), str(tmp_path / "p.avro"), "--from", "parquet", "-n", "10"
    )
    assert (code, err) == (0, "")
    assert jetliner.read_avro(tmp_path / "p.avro").height == 10


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["in.parquet", "out.csv"], "only Avro converts to csv"),
        (["in.avro", "out.avro", "--compression-level", "99", "--codec", "deflate"], "it takes 0 to 9"),
    ],
)
def test_convert_to_avro_usage_errors(
    trips: Path, tmp_path: Path, args: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    src = tmp_path / args[0]
    if args[0].endswith(".avro"):
        src = trips
    else:
        pl.DataFrame({"a": [1]}).write_parquet(src)
    code, _, err = run(capsys, "convert", str(src), str(tmp_path / args[1]), *args[2:])
    assert code == 2
    assert message in err
    assert not (tmp_path / args[1]).exists()
    assert "invalid choice: 'lz4'" in usage_error(
        capsys, "convert", str(trips), str(tmp_path / "o.avro"), "--codec", "lz4"
    )


def test_failed_convert_to_avro_leaves_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = tmp_path / "in.csv"
    # Polars infers Int64 from the first 100 rows; row 300 does not parse.
    src.write_text("id\n" + "".join(f"{i}\n" for i in range(300)) + "not-a-number\n")
    old = tmp_path / "out.avro"
    old.write_bytes(b"previous contents")
    code, _, err = run(capsys, "convert", str(src), str(old), "--from", "csv")
    assert code == 1
    assert "error" in err
    assert old.read_bytes() == b"previous contents"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.csv", "out.avro"]


def test_convert_to_avro_on_s3(trips: Path, s3: S3Env, capsys: pytest.CaptureFixture[str]) -> None:
    s3.server.create_bucket(s3.bucket)
    uri = f"s3://{s3.bucket}/cli/trips.avro"
    opts = s3.options()
    args = [f"-s{k}={v}" for k, v in opts.items()]
    code, _, err = run(capsys, "convert", str(trips), uri, *args)
    assert (code, err) == (0, "")
    assert_frame_equal(jetliner.read_avro(uri, storage_options=opts), jetliner.read_avro(trips))

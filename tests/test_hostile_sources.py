"""Hostile sources (issue 12): local names that are not regular files, file:// URLs,
globs over symbolic links, and credentials that must never show in what jetliner
says. Where a hang would be the failure, the case runs in a child process with a
timeout."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import jetliner
import polars as pl
import pytest
from conftest import AvroWriter

pytestmark = pytest.mark.timeout(120)

SCHEMA = {"type": "record", "name": "r", "fields": [{"name": "x", "type": "long"}]}


def run_child(code: str, timeout: float = 30) -> tuple[subprocess.CompletedProcess[str], float]:
    """Run code in a fresh interpreter, failing the test if it does not end in time."""
    started = time.monotonic()
    try:
        done = subprocess.run(
            [sys.executable, "-c", textwrap.dedent(code)],
            capture_output=True,
            text=True,
            timeout=timeout,
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"the child did not finish within {timeout} s: it hangs")
    return done, time.monotonic() - started


# ---- local names that are not regular files -----------------------------------------


def test_fifo_without_writer_is_refused_at_once(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.avro"
    os.mkfifo(fifo)
    done, seconds = run_child(
        f"""
        import jetliner
        for read in (jetliner.read_avro, jetliner.scan_avro, jetliner.read_avro_schema):
            try:
                read({str(fifo)!r})
                if read is jetliner.scan_avro:
                    jetliner.scan_avro({str(fifo)!r}).collect()
            except jetliner.SourceError as e:
                print(type(e).__name__, "|", e.message, "|", e.path)
        """,
        timeout=30,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert len(lines) == 3, done.stdout
    for line in lines:
        kind, message, path = line.split(" | ")
        assert kind == "SourceError"
        assert message == "is a FIFO (named pipe), not a regular file: only regular files can be read"
        assert path == str(fifo)
    assert seconds < 20


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("/dev/zero", "is a character device, not a regular file"),
        ("/dev/null", "is a character device, not a regular file"),
        ("/proc/self/status", "reports a size of 0 but has content (a /proc or /sys file?)"),
    ],
)
def test_special_files_say_what_they_are(path: str, message: str) -> None:
    for read in (jetliner.read_avro, jetliner.read_avro_schema):
        with pytest.raises(jetliner.SourceError) as info:
            read(path)
        assert message in info.value.message
        assert "empty" not in info.value.message
        assert info.value.path == path


def test_directory_and_socket(tmp_path: Path) -> None:
    with pytest.raises(jetliner.SourceError, match="is a directory, not a regular file"):
        jetliner.read_avro(tmp_path, glob=False)
    sock_path = tmp_path / "s.avro"
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.bind(str(sock_path))
        with pytest.raises(jetliner.SourceError, match="is a socket, not a regular file"):
            jetliner.read_avro(sock_path)


def test_a_truly_empty_file_is_still_called_empty(tmp_path: Path) -> None:
    empty = tmp_path / "empty.avro"
    empty.write_bytes(b"")
    with pytest.raises(jetliner.ParseError, match="the file is empty"):
        jetliner.read_avro(empty)


def test_broken_symlink_names_its_target(tmp_path: Path) -> None:
    link = tmp_path / "gone.avro"
    link.symlink_to(tmp_path / "deleted.avro")
    with pytest.raises(jetliner.FileNotFoundError) as info:
        jetliner.read_avro(link)
    assert "broken symbolic link" in info.value.message
    assert str(tmp_path / "deleted.avro") in info.value.message


# ---- file:// URLs -------------------------------------------------------------------


@pytest.mark.parametrize("name", ["with space.avro", "über ünïcödé.avro", "100%.avro", "a#b?c=d&e.avro"])
def test_file_urls_round_trip_with_as_uri(write_avro: AvroWriter, tmp_path: Path, name: str) -> None:
    path = write_avro(SCHEMA, [{"x": 1}, {"x": 2}], directory=tmp_path / "a dir", name=name)
    uri = path.as_uri()
    assert uri.startswith("file:///") and "%" in uri
    assert jetliner.read_avro(uri)["x"].to_list() == [1, 2]
    assert jetliner.read_avro(uri, glob=False)["x"].to_list() == [1, 2]
    assert jetliner.scan_avro(uri).collect()["x"].to_list() == [1, 2]
    assert jetliner.read_avro_schema(uri) == {"x": pl.Int64}
    localhost = uri.replace("file:///", "file://localhost/", 1)
    assert jetliner.read_avro(localhost)["x"].to_list() == [1, 2]


def test_file_url_globs_decode_and_stay_urls(write_avro: AvroWriter, tmp_path: Path) -> None:
    directory = tmp_path / "my data"
    for i, name in enumerate(["a b.avro", "ü.avro", "100%.avro"]):
        write_avro(SCHEMA, [{"x": i}], directory=directory, name=name)
    df = jetliner.read_avro(directory.as_uri() + "/*.avro", include_file_paths="f")
    assert sorted(df["x"].to_list()) == [0, 1, 2]
    # The paths are URLs again, and each one reads back.
    for uri in df["f"].to_list():
        assert uri.startswith(directory.as_uri() + "/")
        assert jetliner.read_avro(uri).height == 1


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("file://fileserver/share/a.avro", "names the host 'fileserver'"),
        ("file:///tmp/100%.avro", "bad percent escape"),
        ("file:///tmp/a%00.avro", "NUL"),
    ],
)
def test_bad_file_urls(url: str, message: str) -> None:
    with pytest.raises(jetliner.ConfigurationError) as info:
        jetliner.read_avro(url)
    assert message.replace("'", '"') in info.value.message
    assert info.value.path == url


# ---- globs over symbolic links ---------------------------------------------------------


def test_glob_follows_links_and_survives_loops(write_avro: AvroWriter, tmp_path: Path) -> None:
    d = tmp_path / "d"
    write_avro(SCHEMA, [{"x": 1}], directory=d, name="a.avro")
    write_avro(SCHEMA, [{"x": 2}], directory=d / "sub", name="b.avro")
    write_avro(SCHEMA, [{"x": 3}], directory=tmp_path / "real", name="c.avro")
    (d / "linkdir").symlink_to(tmp_path / "real")
    (d / "sub" / "loop").symlink_to(d)
    (d / "sub" / "self").symlink_to("self")
    done, seconds = run_child(
        f"""
        import jetliner
        df = jetliner.read_avro({str(d)!r} + "/**/*.avro", include_file_paths="f")
        print(sorted(zip(df["f"].to_list(), df["x"].to_list())))
        """
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == str(
        sorted([(str(d / "a.avro"), 1), (str(d / "linkdir" / "c.avro"), 3), (str(d / "sub" / "b.avro"), 2)])
    )
    assert seconds < 20


def test_glob_names_a_broken_link(write_avro: AvroWriter, tmp_path: Path) -> None:
    d = tmp_path / "d"
    write_avro(SCHEMA, [{"x": 1}], directory=d / "sub", name="a.avro")
    gone = d / "sub" / "gone.avro"
    gone.symlink_to(tmp_path / "deleted.avro")
    (d / "notes.txt").symlink_to(tmp_path / "nowhere")  # not matched: no concern
    for pattern in ("**/*.avro", "sub/*.avro"):
        with pytest.raises(jetliner.FileNotFoundError) as info:
            jetliner.read_avro(f"{d}/{pattern}")
        assert info.value.path == str(gone)
        assert "broken symbolic link" in info.value.message
    gone.unlink()
    assert jetliner.read_avro(f"{d}/**/*.avro")["x"].to_list() == [1]


def test_glob_over_a_fifo_does_not_hang(write_avro: AvroWriter, tmp_path: Path) -> None:
    write_avro(SCHEMA, [{"x": 1}], directory=tmp_path, name="a.avro")
    os.mkfifo(tmp_path / "b.avro")
    done, _ = run_child(
        f"""
        import jetliner
        try:
            jetliner.read_avro({str(tmp_path)!r} + "/*.avro")
        except jetliner.SourceError as e:
            print(e.path, "|", e.message)
        """
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == (
        f"{tmp_path / 'b.avro'} | the glob matched this, which is a FIFO (named pipe), not a regular file"
    )

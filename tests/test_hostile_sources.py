"""Hostile sources (issue 12): local names that are not regular files, file:// URLs,
globs over symbolic links, and credentials that must never show in what jetliner
says. Where a hang would be the failure, the case runs in a child process with a
timeout."""

from __future__ import annotations

import base64
import html
import json
import os
import re
import socket
import subprocess
import sys
import textwrap
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import quote

import jetliner
import polars as pl
import pytest
from conftest import AvroWriter

pytest.register_assert_rewrite("s3support")  # before the import below: it is also a plugin

from s3support import ROOT_ACCESS_KEY, S3Env, avro_bytes, records  # noqa: E402

pytest_plugins = ["s3support"]  # the s3 fixtures: server, proxy, clean environment

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


# ---- credentials never shown ----------------------------------------------------------
#
# Short credentials (a 3-character key id and secret, a 7-character session token)
# against the real S3 server, and a hostile server that echoes the token back: raw,
# percent-encoded, cut short. The reads run in a child process: credentials stay
# registered for redaction for the life of a process, and these short ones must
# not blank out words in the messages other tests check.

SHORT = {"aws_access_key_id": "Q9z", "aws_secret_access_key": "x7Y", "aws_session_token": "Tok7en+"}
LONG_TOKEN = "FwoGZXIvYXdzEJr//////////wEaDHJlZGFjdGlvbi10ZXN0IiwgImxvbmciOiAidG9rZW4i"

REDACTION_CHILD = r"""
import json, os, subprocess, sys
import jetliner

cfg = json.loads(os.environ["REDACTION_CASES"])
out = []

def texts(err):
    return [str(err), repr(err), json.dumps(err.to_dict()), err._repr_html_()]

for case in cfg["cases"]:
    saved = dict(os.environ)
    os.environ.update(case.get("env", {}))
    opts = case.get("storage_options")
    uri = case["uri"]
    for how in ("read", "scan", "open", "schema"):
        try:
            if how == "read":
                jetliner.read_avro(uri, storage_options=opts)
            elif how == "scan":
                jetliner.scan_avro(uri, storage_options=opts).collect()
            elif how == "open":
                with jetliner.open(uri, storage_options=opts) as reader:
                    list(reader)
            else:
                jetliner.read_avro_schema(uri, storage_options=opts)
        except jetliner.JetlinerError as err:
            out.append({"case": case["name"], "how": how, "kind": type(err).__name__, "texts": texts(err)})
        else:
            out.append({"case": case["name"], "how": how, "kind": None, "texts": []})
    if case.get("cli"):
        argv = [sys.executable, "-m", "jetliner", "count", uri]
        for k, v in (opts or {}).items():
            argv += ["-s", f"{k}={v}"]
        done = subprocess.run(argv, capture_output=True, text=True, timeout=60)
        out.append({"case": case["name"], "how": "cli", "kind": str(done.returncode),
                    "texts": [done.stdout, done.stderr]})
    os.environ.clear()
    os.environ.update(saved)
print(json.dumps(out))
"""


class _EchoS3(BaseHTTPRequestHandler):
    """An S3 endpoint that rejects every request, echoing its credentials back."""

    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        token = self.headers.get("X-Amz-Security-Token", "")
        auth = self.headers.get("Authorization", "")
        message = (
            f"The provided token '{token}' is malformed (as sent: {quote(token, safe='')}; "
            f"starts {token[:14]}...; middle ...{token[10:26]}...); request signed with {auth}; "
            f"url {self.path}"
        )
        body = (
            '<?xml version="1.0" encoding="UTF-8"?><Error><Code>InvalidToken</Code>'
            f"<Message>{html.escape(message)}</Message><Token>{html.escape(token)}</Token></Error>"
        ).encode()
        self.send_response(400)
        self.send_header("Content-Type", "application/xml")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_HEAD = do_GET


def _shown(value: str, text: str) -> bool:
    """Whether text shows value in a form the redaction rule covers."""
    forms = {value, quote(value, safe=""), quote(value), base64.b64encode(value.encode()).decode()}
    for form in forms:
        if len(form) >= 8:
            if form in text:
                return True
        elif re.search(rf"(?<![A-Za-z0-9]){re.escape(form)}(?![A-Za-z0-9])", text):
            return True
    return False


def test_credentials_never_shown(s3: S3Env, tmp_path: Path) -> None:
    uri = s3.put("redaction/records.avro", avro_bytes(records(20)))
    echo = ThreadingHTTPServer(("127.0.0.1", 0), _EchoS3)
    echo.daemon_threads = True
    threading.Thread(target=echo.serve_forever, daemon=True).start()
    echo_endpoint = f"http://127.0.0.1:{echo.server_address[1]}"
    profile = tmp_path / "credentials"
    profile.write_text(
        f"[short]\naws_access_key_id = {SHORT['aws_access_key_id']}\n"
        f"aws_secret_access_key = {SHORT['aws_secret_access_key']}\n"
        f"aws_session_token = {SHORT['aws_session_token']}\n"
    )
    server = s3.server.endpoint
    cases = [
        {"name": "unknown short key", "uri": uri, "storage_options": {**SHORT, "endpoint": server}},
        {
            "name": "short secret",
            "uri": uri,
            "storage_options": {
                "aws_access_key_id": ROOT_ACCESS_KEY,
                "aws_secret_access_key": SHORT["aws_secret_access_key"],
                "endpoint": server,
            },
        },
        {
            "name": "environment",
            "uri": uri,
            "env": {
                "AWS_ACCESS_KEY_ID": SHORT["aws_access_key_id"],
                "AWS_SECRET_ACCESS_KEY": SHORT["aws_secret_access_key"],
                "AWS_SESSION_TOKEN": SHORT["aws_session_token"],
                "AWS_ENDPOINT_URL": server,
            },
        },
        {
            "name": "profile",
            "uri": uri,
            "env": {
                "AWS_SHARED_CREDENTIALS_FILE": str(profile),
                "AWS_PROFILE": "short",
                "AWS_ENDPOINT_URL": echo_endpoint,
            },
        },
        {
            "name": "echoing server",
            "uri": uri,
            "storage_options": {**SHORT, "endpoint": echo_endpoint, "max_retries": "0"},
            "cli": True,
        },
        {
            "name": "echoing server, long token",
            "uri": uri,
            "storage_options": {
                **SHORT,
                "aws_session_token": LONG_TOKEN,
                "endpoint": echo_endpoint,
                "max_retries": "0",
            },
            "cli": True,
        },
    ]
    # The s3 fixture's environment: no AWS settings of the machine's own.
    env = {**os.environ, "REDACTION_CASES": json.dumps({"cases": cases})}
    try:
        done = subprocess.run(
            [sys.executable, "-c", REDACTION_CHILD], capture_output=True, text=True, timeout=90, env=env
        )
    finally:
        echo.shutdown()
        echo.server_close()
    assert done.returncode == 0, done.stderr
    results = json.loads(done.stdout)
    assert len(results) == 4 * len(cases) + 2
    values = [*SHORT.values(), LONG_TOKEN]
    for r in results:
        if r["how"] == "cli":
            assert r["kind"] == "1", r
        else:
            assert r["kind"] in ("AuthenticationError", "PermissionError"), r
        for text in r["texts"]:
            for value in values:
                assert not _shown(value, text), (r["case"], r["how"], value, text)
            # The long token cut short: no run of 12 of its bytes is left.
            runs = [LONG_TOKEN[i : i + 12] for i in range(len(LONG_TOKEN) - 11)]
            assert not any(run in text for run in runs), (r["case"], r["how"], text)
    # The echo really happened: the messages say what the server said, redacted.
    echoed = next(r for r in results if r["case"] == "echoing server" and r["how"] == "read")
    assert "The provided token '***' is malformed" in echoed["texts"][0]

"""Code written for jetliner 0.2 (the Rust package, nat-n/jetliner) runs unchanged
against the exceptions and BadBlockError of this one.

The examples of its API reference (the exceptions' and BadBlockError's docstrings
and the readers' error inspection) are run as written; constructors are called the
way its own tests call them; errors from real reads carry the variant, location
and fields it documents; every error and skipped block survives pickling; and S3
errors are classified by the service's error code against a real server.
"""

from __future__ import annotations

import ast
import datetime
import io
import json
import pickle
import re
import struct
import subprocess
import sys
from collections.abc import Iterator
from contextlib import redirect_stdout
from pathlib import Path
from typing import Any

import jetliner
import polars as pl
import pytest

pytest.register_assert_rewrite("s3support")

from conftest import AvroWriter, avro_bytes  # noqa: E402
from s3support import (  # noqa: E402
    ROOT_ACCESS_KEY,
    ROOT_SECRET_KEY,
    USER_ACCESS_KEY,
    USER_SECRET_KEY,
    S3Env,
    S3Server,
)

pytest_plugins = ["s3support"]
pytestmark = pytest.mark.timeout(120)

ROOT = Path(__file__).resolve().parent.parent

SCHEMA = {
    "type": "record",
    "name": "Row",
    "fields": [{"name": "id", "type": "long"}, {"name": "tag", "type": ["null", "string"]}],
}


def rows(n: int, start: int = 0) -> list[dict[str, Any]]:
    return [{"id": i, "tag": f"t{i}"} for i in range(start, start + n)]


# --- files that fail in each documented way -----------------------------------------


def _header_end(data: bytes) -> int:
    sync = data[-16:]  # the header and every block end with the marker
    return data.index(sync) + 16


@pytest.fixture
def not_avro(tmp_path: Path) -> Path:
    path = tmp_path / "notes.txt"
    path.write_text("hello, this is not Avro")
    return path


@pytest.fixture
def broken_sync(tmp_path: Path) -> Path:
    """Three blocks; the marker after the second is damaged."""
    data = bytearray(avro_bytes(SCHEMA, rows(300), sync_interval=1000))
    sync = bytes(data[-16:])
    second_end = data.index(sync, data.index(sync, _header_end(data)) + 16)
    data[second_end] ^= 0xFF
    path = tmp_path / "broken-sync.avro"
    path.write_bytes(bytes(data))
    return path


@pytest.fixture
def unknown_codec(tmp_path: Path) -> Path:
    data = avro_bytes(SCHEMA, rows(3))
    data = data.replace(b"\x08null", b"\x08lzma", 1)  # avro.codec, same length
    path = tmp_path / "lzma.avro"
    path.write_bytes(data)
    return path


@pytest.fixture
def bad_deflate(tmp_path: Path) -> Path:
    data = bytearray(avro_bytes(SCHEMA, rows(2000), codec="deflate"))
    start = _header_end(data)
    for i in range(start + 8, start + 40):
        data[i] = 0xFF
    path = tmp_path / "bad-deflate.avro"
    path.write_bytes(bytes(data))
    return path


@pytest.fixture
def bad_record(tmp_path: Path) -> Path:
    """One block of one record whose union branch index (4) is out of range."""
    data = bytearray(avro_bytes(SCHEMA, [{"id": 1, "tag": "x"}]))
    start = _header_end(data)
    # count 1 (0x02), size, then the record: id 1 (0x02), branch 1 (0x02), "x".
    assert data[start] == 0x02 and data[start + 2 : start + 4] == b"\x02\x02"
    data[start + 3] = 0x08
    path = tmp_path / "bad-record.avro"
    path.write_bytes(bytes(data))
    return path


# --- the examples of jetliner 0.2's API reference, as written -------------------------


def test_module_docstring_examples(bad_record: Path, tmp_path: Path) -> None:
    """exceptions.py's overview: catch the base class, a built-in, a located error."""
    out = io.StringIO()
    with redirect_stdout(out):
        try:
            df = jetliner.read_avro(str(bad_record))
        except jetliner.JetlinerError as e:
            print(f"Jetliner error: {e}")
            print(f"Variant: {e.variant}")

        try:
            df = jetliner.read_avro(str(tmp_path / "nonexistent.avro"))
        except FileNotFoundError as e:
            print(f"File not found: {e.path}")

        try:
            df = jetliner.read_avro(str(bad_record))  # noqa: F841 (the example's own line)
        except jetliner.DecodeError as e:
            print(f"Error at block {e.block_index}, record {e.record_index}")
            print(f"Variant: {e.variant}")
            print(f"File offset: {e.file_offset}")
    lines = out.getvalue().splitlines()
    assert lines[0].startswith(
        f"Jetliner error: Decode error in '{bad_record}' at block 0, record 0, offset "
    )
    assert lines[1] == "Variant: InvalidData"
    assert lines[2] == f"File not found: {tmp_path / 'nonexistent.avro'}"
    assert lines[3] == "Error at block 0, record 0"
    assert lines[4] == "Variant: InvalidData"
    assert lines[5] == f"File offset: {_header_end(bad_record.read_bytes())}"


def test_file_not_found_example(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    out = io.StringIO()
    with redirect_stdout(out):
        try:
            df = jetliner.read_avro("missing.avro")  # noqa: F841 (the example's own line)
        except FileNotFoundError:
            print("File not found!")
    assert out.getvalue() == "File not found!\n"
    with pytest.raises(FileNotFoundError) as info:
        jetliner.read_avro("missing.avro")
    err = info.value
    assert (err.errno, err.filename) == (2, "missing.avro")  # as the built-in has them


def test_configuration_error_example(
    tmp_path: Path, write_avro: AvroWriter, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_avro(SCHEMA, rows(3), name="file.avro")
    monkeypatch.chdir(tmp_path)
    out = io.StringIO()
    with redirect_stdout(out):
        try:
            reader = jetliner.open("file.avro", batch_size=-1)  # noqa: F841 (the example's own line)
        except ValueError:
            print("Invalid configuration!")
    assert out.getvalue() == "Invalid configuration!\n"
    with pytest.raises(jetliner.ConfigurationError) as info:
        jetliner.open("file.avro", batch_size=-1)
    assert info.value.variant == "Configuration"


def test_bad_block_error_examples(broken_sync: Path) -> None:
    """BadBlockError's and AvroReader's examples: the errors of a lenient read."""
    logged: list[dict[str, Any]] = []
    processed: list[pl.DataFrame] = []
    process, log_error = processed.append, logged.append

    out = io.StringIO()
    with redirect_stdout(out):
        with jetliner.AvroReader(str(broken_sync), ignore_errors=True) as reader:
            for df in reader:
                process(df)

            for err in reader.errors:
                print(f"[{err.kind}] Block {err.block_index}: {err.message}")
                # Or as dict for logging/serialization
                log_error(err.to_dict())

        with jetliner.AvroReader(str(broken_sync), ignore_errors=True) as reader:
            for df in reader:
                process(df)
            if reader.error_count > 0:
                print(f"Skipped {reader.error_count} errors")
                for err in reader.errors:
                    print(f"  [{err.kind}] Block {err.block_index}: {err.message}")

    lines = out.getvalue().splitlines()
    assert lines[0].startswith("[ParseError] Block 1: sync marker mismatch")
    assert lines[1] == "Skipped 1 errors"
    assert lines[2].startswith("  [ParseError] Block 1: sync marker mismatch")
    (err_dict,) = logged
    assert err_dict["kind"] == "ParseError"
    assert err_dict["block_index"] == 1
    assert err_dict["variant"] == "InvalidSyncMarker"
    assert err_dict["filepath"] == err_dict["path"] == str(broken_sync)
    assert err_dict["record_index"] is None
    assert set(err_dict) >= {"kind", "block_index", "record_index", "file_offset", "message", "filepath"}
    json.dumps(err_dict)
    # Both reads skip the block of the bad marker, and only it.
    dropped = int(err_dict["message"].split(" records ")[0].rsplit(" ", 1)[1])
    assert sum(df.height for df in processed) == 2 * (300 - dropped)


# --- constructors, as jetliner 0.2's own tests call them ------------------------------


def test_positional_constructors() -> None:
    err = jetliner.DecodeError("Test decode error", "InvalidData", "/test.avro", 5, 10, 1024, 512)
    assert (err.message, err.variant, err.path) == ("Test decode error", "InvalidData", "/test.avro")
    assert (err.block_index, err.record_index, err.file_offset, err.block_offset) == (5, 10, 1024, 512)

    parse = jetliner.ParseError("Test parse error", "InvalidMagic", "/test.avro", 2048)
    assert (parse.variant, parse.file_offset, parse.block_index) == ("InvalidMagic", 2048, None)

    source = jetliner.SourceError("File not found", "NotFound", "/path/to/file.avro")
    assert (source.variant, source.path) == ("NotFound", "/path/to/file.avro")

    schema = jetliner.SchemaError(
        "Invalid schema", "InvalidSchema", "/test.avro", "field 'name' has invalid type"
    )
    assert schema.schema_context == "field 'name' has invalid type"

    codec = jetliner.CodecError(
        "Decompression failed", "DecompressionError", "/test.avro", "deflate", 0, 1024
    )
    assert (codec.codec, codec.block_index, codec.file_offset) == ("deflate", 0, 1024)

    auth = jetliner.AuthenticationError("bad key", "AuthenticationFailed", "s3://b/k")
    assert isinstance(auth, jetliner.SourceError) and auth.path == "s3://b/k"

    missing = jetliner.FileNotFoundError("gone", "NotFound", "/x.avro")
    assert (missing.errno, missing.strerror, missing.filename) == (2, "gone", "/x.avro")
    denied = jetliner.PermissionError("no", "PermissionDenied", "/x.avro")
    assert (denied.errno, denied.filename) == (13, "/x.avro")

    config = jetliner.ConfigurationError("batch_size must be positive", "Configuration")
    assert isinstance(config, ValueError) and config.variant == "Configuration"


def test_keyword_constructors_and_defaults() -> None:
    err = jetliner.DecodeError("bad", block_index=3, path="f.avro")
    assert (err.variant, err.block_index, err.record_index, err.file_offset) == ("Decode", 3, None, None)
    assert jetliner.ParseError("p").file_offset is None
    assert jetliner.ParseError("p", block_index=2).block_index == 2
    assert jetliner.CodecError("c", codec="zstandard", record_index=4).record_index == 4
    assert jetliner.SourceError("s").path is None
    assert jetliner.SchemaError("s").schema_context is None
    defaults = {
        jetliner.JetlinerError: "Unknown",
        jetliner.DecodeError: "Decode",
        jetliner.ParseError: "Parse",
        jetliner.SourceError: "Source",
        jetliner.SchemaError: "Schema",
        jetliner.CodecError: "Codec",
        jetliner.AuthenticationError: "AuthenticationFailed",
        jetliner.FileNotFoundError: "NotFound",
        jetliner.PermissionError: "PermissionDenied",
        jetliner.ConfigurationError: "Configuration",
    }
    for cls, variant in defaults.items():
        assert cls("m").variant == variant, cls


def test_to_dict_holds_every_field() -> None:
    assert jetliner.DecodeError("Test error", "InvalidData", "/test.avro", 1, 2, 100, 50).to_dict() == {
        "message": "Test error",
        "variant": "InvalidData",
        "path": "/test.avro",
        "block_index": 1,
        "record_index": 2,
        "file_offset": 100,
        "block_offset": 50,
    }
    assert jetliner.ParseError("Parse failed", "InvalidMagic", "/test.avro", 500).to_dict() == {
        "message": "Parse failed",
        "variant": "InvalidMagic",
        "path": "/test.avro",
        "file_offset": 500,
        "block_index": None,
        "record_index": None,
        "block_offset": None,
    }
    assert jetliner.SchemaError("Bad schema", "InvalidSchema", "/t.avro", "type mismatch").to_dict() == {
        "message": "Bad schema",
        "variant": "InvalidSchema",
        "path": "/t.avro",
        "schema_context": "type mismatch",
    }
    assert jetliner.CodecError("x", "DecompressionError", "/t.avro", "deflate", 0, 1024).to_dict() == {
        "message": "x",
        "variant": "DecompressionError",
        "path": "/t.avro",
        "codec": "deflate",
        "block_index": 0,
        "file_offset": 1024,
        "record_index": None,
        "block_offset": None,
    }
    for cls in (jetliner.SourceError, jetliner.AuthenticationError, jetliner.FileNotFoundError):
        assert cls("Not found", "NotFound", "/p.avro").to_dict() == {
            "message": "Not found",
            "variant": "NotFound",
            "path": "/p.avro",
        }


@pytest.mark.parametrize(
    ("err", "text"),
    [
        (
            jetliner.ParseError("bad magic", "InvalidMagic", "f.avro", 0),
            "Parse error in 'f.avro' at offset 0: bad magic",
        ),
        (
            jetliner.ParseError("sync", "InvalidSyncMarker", "f.avro", 900, block_index=3),
            "Parse error in 'f.avro' at block 3, offset 900: sync",
        ),
        (
            jetliner.DecodeError("Test error", "InvalidData", "/test.avro", 1, 2, 100, 50),
            "Decode error in '/test.avro' at block 1, record 2, offset 100: Test error",
        ),
        (jetliner.DecodeError("no place"), "Decode error: no place"),
        (
            jetliner.CodecError("corrupt", "DecompressionError", "f.avro", "deflate", 4, 77),
            "Codec error (deflate) in 'f.avro' at block 4, offset 77: corrupt",
        ),
        (
            jetliner.SchemaError("Bad schema", "InvalidSchema", "/t.avro", "type mismatch"),
            "Schema error in '/t.avro': Bad schema (context: type mismatch)",
        ),
        (
            jetliner.SourceError("Not found", "NotFound", "/test/path.avro"),
            "Source error for '/test/path.avro': Not found",
        ),
        (jetliner.SourceError("down"), "Source error: down"),
        (
            jetliner.AuthenticationError("rejected", path="s3://b/k"),
            "Authentication failed for 's3://b/k': rejected",
        ),
        (jetliner.PermissionError("denied", path="s3://b/k"), "Permission denied for 's3://b/k': denied"),
        (
            jetliner.FileNotFoundError("no such file", path="/x.avro"),
            "File not found for '/x.avro': no such file",
        ),
        (
            jetliner.ConfigurationError("batch_size must be at least 1, got 0"),
            "batch_size must be at least 1, got 0",
        ),
        (jetliner.InternalError("boom"), "Internal error: boom"),
        (
            jetliner.BadBlockError("CodecError", "bad", path="f.avro", block_index=2, file_offset=10),
            "CodecError in 'f.avro' at block 2, offset 10: bad",
        ),
    ],
)
def test_str_leads_with_kind_and_location(err: jetliner.JetlinerError, text: str) -> None:
    assert str(err) == text


def test_repr_shows_every_field() -> None:
    assert repr(jetliner.DecodeError("Test error", "InvalidData", "/test.avro", 1, 2, 100, 50)) == (
        "DecodeError(message='Test error', variant='InvalidData', path='/test.avro', block_index=1, "
        "record_index=2, file_offset=100, block_offset=50)"
    )
    assert repr(jetliner.CodecError("m", codec="xz")) == (
        "CodecError(message='m', variant='Codec', path=None, codec='xz', block_index=None, "
        "file_offset=None, record_index=None, block_offset=None)"
    )
    assert repr(jetliner.SchemaError("m", schema_context="id")) == (
        "SchemaError(message='m', variant='Schema', path=None, schema_context='id')"
    )
    assert repr(
        jetliner.BadBlockError("DecodeError", "m", path="f", block_index=1, record_index=3, file_offset=9)
    ) == (
        "BadBlockError(kind='DecodeError', block_index=1, record_index=3, file_offset=9, message='m', "
        "path='f', variant='Unknown')"
    )


# --- errors from real reads -------------------------------------------------------------


def test_bad_magic_is_a_parse_error_at_offset_0(not_avro: Path) -> None:
    for attempt in (
        lambda: jetliner.read_avro(not_avro),
        lambda: jetliner.scan_avro(not_avro).collect(),
        lambda: jetliner.read_avro_schema(not_avro),
        lambda: jetliner.open(not_avro),
    ):
        with pytest.raises(jetliner.ParseError) as info:
            attempt()
        err = info.value
        assert (err.variant, err.file_offset, err.block_index, err.path) == (
            "InvalidMagic",
            0,
            None,
            str(not_avro),
        )
        assert "magic" in err.message
        assert str(err).startswith(f"Parse error in '{not_avro}' at offset 0: not an Avro file")


def test_sync_marker_error(broken_sync: Path) -> None:
    with pytest.raises(jetliner.ParseError) as info:
        jetliner.read_avro(broken_sync)
    err = info.value
    assert (err.variant, err.block_index) == ("InvalidSyncMarker", 1)
    assert err.file_offset is not None and err.file_offset > 0
    with jetliner.open(broken_sync, ignore_errors=True) as reader:
        list(reader)
        (bad,) = reader.errors
    assert (bad.kind, bad.variant, bad.block_index, bad.file_offset) == (
        "ParseError",
        "InvalidSyncMarker",
        1,
        err.file_offset,
    )


def test_codec_errors_name_the_codec(unknown_codec: Path, bad_deflate: Path) -> None:
    with pytest.raises(jetliner.CodecError) as info:
        jetliner.read_avro(unknown_codec)
    assert (info.value.variant, info.value.codec) == ("UnsupportedCodec", "lzma")
    assert str(info.value).startswith(f"Codec error (lzma) in '{unknown_codec}': ")

    with pytest.raises(jetliner.CodecError) as info:
        jetliner.read_avro(bad_deflate)
    err = info.value
    assert (err.variant, err.codec, err.block_index) == ("DecompressionError", "deflate", 0)
    assert err.file_offset == _header_end(bad_deflate.read_bytes())

    with pytest.raises(jetliner.CodecError) as info:
        jetliner.read_avro(bad_deflate, max_block_size=1024)
    assert info.value.variant == "OversizedOutput"

    with jetliner.open(bad_deflate, ignore_errors=True) as reader:
        list(reader)
        assert [(b.kind, b.variant) for b in reader.errors] == [("CodecError", "DecompressionError")]


def test_decode_error(bad_record: Path) -> None:
    with pytest.raises(jetliner.DecodeError) as info:
        jetliner.read_avro(bad_record)
    err = info.value
    assert (err.variant, err.block_index, err.record_index) == ("InvalidData", 0, 0)


def test_schema_errors(write_avro: AvroWriter, tmp_path: Path) -> None:
    a = write_avro(SCHEMA, rows(2), name="a.avro")
    other = {**SCHEMA, "fields": [{"name": "id", "type": "string"}, SCHEMA["fields"][1]]}
    b = write_avro(other, [{"id": "x", "tag": None}], name="b.avro")
    with pytest.raises(jetliner.SchemaError) as info:
        jetliner.read_avro([a, b])
    assert (info.value.variant, info.value.schema_context, info.value.path) == (
        "IncompatibleSchemas",
        "id",
        str(b),
    )

    bad = tmp_path / "bad-schema.avro"
    bad.write_bytes(avro_bytes(SCHEMA, rows(1)).replace(b'"long"', b'"lung"', 1))
    with pytest.raises(jetliner.SchemaError) as info:
        jetliner.read_avro(bad)
    assert info.value.variant == "InvalidSchema"


# --- pickling -----------------------------------------------------------------------


def _every_error(tmp_path: Path, broken_sync: Path, bad_deflate: Path, not_avro: Path) -> Iterator[Exception]:
    yield jetliner.JetlinerError("m", "V", "p")
    yield jetliner.SourceError("m", "S3Error", "s3://b/k")
    yield jetliner.AuthenticationError("m", "AuthenticationFailed", "s3://b/k")
    yield jetliner.FileNotFoundError("m", "NotFound", "/x")
    yield jetliner.PermissionError("m", "PermissionDenied", "/x")
    yield jetliner.ParseError("m", "InvalidMagic", "/x", 0, block_index=1, record_index=2, block_offset=3)
    yield jetliner.SchemaError("m", "InvalidSchema", "/x", "ctx")
    yield jetliner.CodecError("m", "DecompressionError", "/x", "snappy", 1, 2, record_index=3, block_offset=4)
    yield jetliner.DecodeError("m", "InvalidData", "/x", 1, 2, 3, 4)
    yield jetliner.ConfigurationError("m")
    yield jetliner.ForkedProcessError("m")
    yield jetliner.InternalError("m")
    yield jetliner.BadBlockError("ParseError", "m", variant="InvalidSyncMarker", path="/x", block_index=1)
    for attempt in (
        lambda: jetliner.read_avro(not_avro),
        lambda: jetliner.read_avro(tmp_path / "missing.avro"),
        lambda: jetliner.read_avro(bad_deflate),
        lambda: jetliner.read_avro(broken_sync, batch_size=0),
    ):
        try:
            attempt()
        except jetliner.JetlinerError as exc:
            yield exc
    with jetliner.open(broken_sync, ignore_errors=True) as reader:
        list(reader)
        yield from reader.errors


def test_every_error_survives_pickling(
    tmp_path: Path, broken_sync: Path, bad_deflate: Path, not_avro: Path
) -> None:
    errors = list(_every_error(tmp_path, broken_sync, bad_deflate, not_avro))
    assert len(errors) == 18
    for err in errors:
        err.add_note("a note travels too")
        for protocol in range(2, pickle.HIGHEST_PROTOCOL + 1):
            back = pickle.loads(pickle.dumps(err, protocol=protocol))
            assert type(back) is type(err)
            assert (str(back), repr(back), back.args) == (str(err), repr(err), err.args)
            assert back.to_dict() == err.to_dict()  # type: ignore[attr-defined]
            assert back.__notes__ == ["a note travels too"]
            if isinstance(err, OSError):
                assert (back.errno, back.strerror, back.filename) == (err.errno, err.strerror, err.filename)


def test_errors_unpickle_in_a_process_that_loads_only_exceptions(
    tmp_path: Path, broken_sync: Path, bad_deflate: Path, not_avro: Path
) -> None:
    """What Dask's workers do: unpickle in another process. Unpickling imports
    jetliner (the package), but none of it beyond exceptions.py is needed or loaded
    by the exceptions themselves, and the engine is not started."""
    errors = list(_every_error(tmp_path, broken_sync, bad_deflate, not_avro))
    payload = pickle.dumps(errors)
    code = (
        "import pickle, sys\n"
        "errs = pickle.loads(sys.stdin.buffer.read())\n"
        "import jetliner._native as n\n"
        "print(n._lib is None, [repr(e) for e in errs] == " + repr([repr(e) for e in errors]) + ")\n"
    )
    done = subprocess.run([sys.executable, "-c", code], input=payload, capture_output=True, timeout=60)
    assert done.returncode == 0, done.stderr.decode()
    assert done.stdout.decode().split() == ["True", "True"]


def test_exceptions_module_imports_nothing_of_the_package() -> None:
    tree = ast.parse((ROOT / "python" / "jetliner" / "exceptions.py").read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            assert node.level == 0 and not (node.module or "").startswith("jetliner"), ast.dump(node)
        if isinstance(node, ast.Import):
            assert not any(a.name.startswith("jetliner") for a in node.names)
    # And in a fresh interpreter, importing it loads no other module of the package.
    code = (
        "import importlib.util, sys\n"
        "spec = importlib.util.spec_from_file_location('jl_exceptions', sys.argv[1])\n"
        "mod = importlib.util.module_from_spec(spec); spec.loader.exec_module(mod)\n"
        "print(sorted(m for m in sys.modules if m.startswith('jetliner')))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(ROOT / "python" / "jetliner" / "exceptions.py")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert (done.returncode, done.stdout.strip()) == (0, "[]"), done.stderr


# --- S3: the service's error code decides ---------------------------------------------


@pytest.fixture(scope="module")
def single_user_s3(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Server]:
    """A versitygw that knows only its root account (no IAM): it answers an unknown
    access key with XAdminUserNotFound and HTTP 404."""
    server = S3Server(tmp_path_factory.mktemp("versitygw-single"), iam=False)
    server.start()
    try:
        server.put("single", "data/x.avro", avro_bytes(SCHEMA, rows(10)))
        yield server
    finally:
        server.stop()


def test_gateway_auth_code_sent_as_404_is_an_authentication_error(
    single_user_s3: S3Server, s3: S3Env
) -> None:
    options = {
        "endpoint": single_user_s3.endpoint,
        "aws_access_key_id": "AKIANOSUCHUSER000001",
        "aws_secret_access_key": "not-a-secret/0123456789abcdef",
        "max_retries": "0",
    }
    good = {**options, "aws_access_key_id": ROOT_ACCESS_KEY, "aws_secret_access_key": ROOT_SECRET_KEY}
    assert jetliner.read_avro("s3://single/data/x.avro", storage_options=good).height == 10
    for uri in ("s3://single/data/x.avro", "s3://single/data/*.avro", "s3://single/data/missing.avro"):
        with pytest.raises(jetliner.AuthenticationError) as info:
            jetliner.read_avro(uri, storage_options=options)
        err = info.value
        assert not isinstance(err, FileNotFoundError)
        assert err.variant == "AuthenticationFailed"
        assert "XAdminUserNotFound" in err.message and "HTTP 404" in err.message
    # With good keys, a missing key or bucket stays a FileNotFoundError.
    for uri in ("s3://single/data/missing.avro", "s3://no-such-bucket/x.avro"):
        with pytest.raises(jetliner.FileNotFoundError) as missing:
            jetliner.read_avro(uri, storage_options=good)
        assert missing.value.variant == "NotFound"


@pytest.mark.parametrize(
    ("case", "cls", "variant", "code"),
    [
        ("unknown-key", jetliner.AuthenticationError, "AuthenticationFailed", "InvalidAccessKeyId"),
        ("bad-secret", jetliner.AuthenticationError, "AuthenticationFailed", "SignatureDoesNotMatch"),
        ("access-denied", jetliner.PermissionError, "PermissionDenied", "AccessDenied"),
        ("missing-object", jetliner.FileNotFoundError, "NotFound", "NoSuchKey"),
        ("missing-bucket", jetliner.FileNotFoundError, "NotFound", "NoSuchBucket"),
    ],
)
def test_s3_error_codes(s3: S3Env, case: str, cls: type[Exception], variant: str, code: str) -> None:
    uri = s3.put("compat/x.avro", avro_bytes(SCHEMA, rows(5)))
    opts = s3.options()
    if case == "unknown-key":
        opts["aws_access_key_id"] = "AKIANOSUCHKEY0000000"
    elif case == "bad-secret":
        opts["aws_secret_access_key"] = "not-the-secret-0123456789"
    elif case == "access-denied":
        opts.update(aws_access_key_id=USER_ACCESS_KEY, aws_secret_access_key=USER_SECRET_KEY)
    elif case == "missing-object":
        uri = f"s3://{s3.bucket}/compat/missing.avro"
    elif case == "missing-bucket":
        uri = "s3://no-such-bucket/x.avro"
    with pytest.raises(cls) as info:
        jetliner.read_avro(uri, storage_options=opts)
    err = info.value
    assert isinstance(err, jetliner.JetlinerError)
    assert (err.variant, err.path) == (variant, uri)
    assert code in err.message


def test_permission_error_example(s3: S3Env) -> None:
    """PermissionError's example, against a bucket the user may not read."""
    uri = s3.put("restricted/file.avro", avro_bytes(SCHEMA, rows(1)))
    opts = s3.options(aws_access_key_id=USER_ACCESS_KEY, aws_secret_access_key=USER_SECRET_KEY)
    out = io.StringIO()
    with redirect_stdout(out):
        try:
            df = jetliner.read_avro(uri, storage_options=opts)  # noqa: F841 (the example's own line)
        except PermissionError:
            print("Access denied!")
    assert out.getvalue() == "Access denied!\n"


# --- "Coming from jetliner 0.2": every recipe of the page, run as written -------------

PAGE = ROOT / "docs" / "user-guide" / "coming-from-jetliner-0.2.md"


def _page_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", PAGE.read_text(), flags=re.DOTALL)


def test_coming_from_page_recipes_give_the_old_results(
    tmp_path: Path, s3: S3Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    import fastavro

    events = {
        "type": "record",
        "name": "Event",
        "fields": [
            {"name": "payload", "type": ["null", "long", "string"]},
            {
                "name": "span",
                "type": {"type": "fixed", "name": "Span", "size": 12, "logicalType": "duration"},
            },
            {"name": "status", "type": {"type": "enum", "name": "Status", "symbols": ["new", "done"]}},
        ],
    }
    spans = [(0, 0, 1500), (1, 2, 3), (14, 0, 0)]  # months, days, millis
    records = [
        {"payload": p, "span": struct.pack("<III", *s), "status": st}
        for p, s, st in zip([7, "seven", None], spans, ["new", "done", "new"], strict=True)
    ]
    with (tmp_path / "events.avro").open("wb") as fh:
        fastavro.writer(fh, fastavro.parse_schema(events), records)
    with (tmp_path / "numbers.avro").open("wb") as fh:
        fastavro.writer(fh, fastavro.parse_schema({"type": "array", "items": "long"}), [[1, 2], [3]])
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", ROOT_ACCESS_KEY)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", ROOT_SECRET_KEY)
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ENDPOINT_URL", s3.proxy.endpoint)

    blocks = _page_blocks()
    assert len(blocks) == 7
    ns: dict[str, Any] = {"jetliner": jetliner, "pl": pl, "json": json}
    out = io.StringIO()
    with redirect_stdout(out):
        for block in blocks:
            exec(block, ns)

    # Unions: a branch as a column, and the unions found as 0.2 would have refused them.
    assert ns["unions"] == ["payload"]
    # Top level: the array file is one 0.2 refused.
    assert ns["refused"] is True
    # Duration: what 0.2 gave, months as 30 days.
    df = ns["df"]
    expected = [datetime.timedelta(days=30 * m + d, milliseconds=ms) for m, d, ms in spans]
    assert df.schema["span"] == pl.Duration("us")
    assert df["span"].to_list() == expected
    # Enum: Categorical again; and the union branch picked by the first recipe.
    assert df.schema["status"] == pl.Categorical
    assert df["payload"].to_list() == [None, "seven", None]
    # S3: the missing bucket is caught by the 0.2-style clause.
    assert out.getvalue().startswith(
        "S3 error: File not found for 's3://bucket/missing.avro': S3 bucket does not exist"
    )
    assert ns["causes"] == []


# --- bad arguments, in the words users search for -----------------------------------


@pytest.mark.parametrize(
    "call",
    [
        lambda: jetliner.read_avro(123),
        lambda: jetliner.scan_avro(b"data.avro"),
        lambda: jetliner.open(123),
        lambda: jetliner.MultiAvroReader([123]),
        lambda: jetliner.read_avro(["a.avro", 456]),
    ],
)
def test_a_source_of_the_wrong_type(call: Any) -> None:
    with pytest.raises(TypeError, match="Expected str or Path") as info:
        call()
    assert isinstance(info.value, jetliner.ConfigurationError)


@pytest.mark.parametrize("option", ["n_rows", "row_index_offset"])
def test_negative_counts(write_avro: AvroWriter, option: str) -> None:
    path = write_avro(SCHEMA, rows(3))
    with pytest.raises(ValueError, match=f"{option} must be non-negative, got -1"):
        jetliner.read_avro(path, **{option: -1})

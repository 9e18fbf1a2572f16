"""Writing Avro to S3: one PutObject for a small file, a multipart upload of
``part_size`` parts for a large one, and nothing left behind when a write fails.

The server is versitygw and the faults come from the proxy of the read-side fault
tests (s3support.FaultProxy): what a failed write leaves is checked on the server
itself, with boto3: no object, and no multipart upload still pending (its parts
would be stored, and billed, until someone aborts it).
"""

from __future__ import annotations

import re
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

pytest.register_assert_rewrite("s3support")  # before the import below: it is also a plugin

import jetliner  # noqa: E402
from s3support import Request, S3Env  # noqa: E402

pytest_plugins = ["s3support"]  # the s3 fixtures: server, proxy, clean environment
pytestmark = pytest.mark.timeout(120)

MiB = 1024 * 1024
PART = 5 * MiB  # the smallest part S3 allows: a few parts from a small frame


@pytest.fixture(scope="module")
def big() -> pl.DataFrame:
    """About 13 MB as uncompressed Avro: three parts of 5 MiB."""
    n = 400_000
    return pl.DataFrame(
        {
            "id": pl.int_range(n, eager=True),
            "text": pl.int_range(n, eager=True).map_elements(
                lambda i: f"row {i:>20}", return_dtype=pl.String
            ),
        }
    )


def bucket(s3: S3Env) -> str:
    s3.server.create_bucket(s3.bucket)
    return s3.bucket


def pending(s3: S3Env) -> list[str]:
    """Multipart uploads of the test bucket that were neither completed nor aborted."""
    out = s3.server.client().list_multipart_uploads(Bucket=s3.bucket)
    return [f"{u['Key']} {u['UploadId']}" for u in out.get("Uploads", [])]


def exists(s3: S3Env, key: str) -> bool:
    client = s3.server.client()
    try:
        client.head_object(Bucket=s3.bucket, Key=key)
    except client.exceptions.ClientError:
        return False
    return True


def is_part(number: int | None = None) -> object:
    def when(r: Request) -> bool:
        m = re.search(r"[?&]partNumber=(\d+)", r.path)
        return m is not None and (number is None or int(m.group(1)) == number)

    return when


def kinds(s3: S3Env) -> list[str]:
    """What the writes sent, in order: put, create, part, complete, abort."""
    out = []
    for r in s3.proxy.log():
        if r.method == "PUT" and "partNumber=" in r.path:
            out.append("part")
        elif r.method == "PUT":
            out.append("put")
        elif r.method == "POST" and "uploads" in r.path and "uploadId" not in r.path:
            out.append("create")
        elif r.method == "POST":
            out.append("complete")
        elif r.method == "DELETE":
            out.append("abort")
    return out


def test_small_write_is_one_put(s3: S3Env) -> None:
    df = pl.DataFrame({"id": [1, 2, 3], "name": ["a", "b", None]})
    uri = f"s3://{bucket(s3)}/write/small.avro"
    jetliner.write_avro(df, uri, storage_options=s3.options())
    assert kinds(s3) == ["put"]
    assert_frame_equal(jetliner.read_avro(uri, storage_options=s3.options()), df)


def test_large_write_is_a_multipart_upload(s3: S3Env, big: pl.DataFrame) -> None:
    uri = f"s3://{bucket(s3)}/write/big.avro"
    jetliner.write_avro(big, uri, codec="null", part_size=PART, storage_options=s3.options())
    assert kinds(s3) == ["create", "part", "part", "part", "complete"]
    assert_frame_equal(jetliner.read_avro(uri, storage_options=s3.options()), big)
    assert pending(s3) == []


def test_sink_avro_streams_to_s3(s3: S3Env, big: pl.DataFrame, tmp_path: Path) -> None:
    local = tmp_path / "big.avro"
    jetliner.write_avro(big, local, codec="null")
    uri = f"s3://{bucket(s3)}/write/sunk.avro"
    lf = jetliner.scan_avro(local).filter(pl.col("id") % 2 == 0)
    jetliner.sink_avro(lf, uri, codec="null", part_size=PART, storage_options=s3.options())
    assert "part" in kinds(s3)
    assert_frame_equal(jetliner.read_avro(uri, storage_options=s3.options()), lf.collect())


def test_transient_part_failures_are_retried(s3: S3Env, big: pl.DataFrame) -> None:
    s3.proxy.fail(503, times=2, when=is_part(2))  # type: ignore[arg-type]
    uri = f"s3://{bucket(s3)}/write/retried.avro"
    jetliner.write_avro(big, uri, codec="null", part_size=PART, storage_options=s3.options())
    assert kinds(s3).count("part") == 5  # three parts, one of them sent three times
    assert_frame_equal(jetliner.read_avro(uri, storage_options=s3.options()), big)


@pytest.mark.parametrize(
    ("status", "kind"),
    [(500, jetliner.SourceError), (403, jetliner.PermissionError)],
)
def test_failed_upload_leaves_nothing(
    s3: S3Env, big: pl.DataFrame, status: int, kind: type[Exception]
) -> None:
    s3.proxy.fail(status, times=100, when=is_part(2))  # type: ignore[arg-type]
    key = f"write/failed-{status}.avro"
    with pytest.raises(kind) as info:
        jetliner.write_avro(
            big,
            f"s3://{s3.bucket}/{key}",
            codec="null",
            part_size=PART,
            storage_options=s3.options(max_retries="1"),
        )
    assert info.value.path == f"s3://{s3.bucket}/{key}"  # type: ignore[attr-defined]
    assert "abort" in kinds(s3)
    assert not exists(s3, key)
    assert pending(s3) == []


def test_failed_completion_leaves_nothing(s3: S3Env, big: pl.DataFrame) -> None:
    bucket(s3)
    s3.proxy.fail(500, times=100, when=lambda r: r.method == "POST" and "uploadId=" in r.path)
    with pytest.raises(jetliner.SourceError):
        jetliner.write_avro(
            big, f"s3://{s3.bucket}/write/uncompleted.avro", codec="null", part_size=PART,
            storage_options=s3.options(max_retries="0"),
        )  # fmt: skip
    assert not exists(s3, "write/uncompleted.avro")
    assert pending(s3) == []


def test_exception_while_writing_aborts_the_upload(s3: S3Env, big: pl.DataFrame) -> None:
    uri = f"s3://{bucket(s3)}/write/interrupted.avro"
    with (
        pytest.raises(RuntimeError, match="stop"),
        jetliner.AvroWriter(uri, codec="null", part_size=PART, storage_options=s3.options()) as w,
    ):
        w.write(big)  # more than two parts: the upload has begun
        raise RuntimeError("stop")
    assert "part" in kinds(s3)
    assert not exists(s3, "write/interrupted.avro")
    assert pending(s3) == []


def test_write_errors(s3: S3Env) -> None:
    df = pl.DataFrame({"id": [1]})
    with pytest.raises(jetliner.FileNotFoundError):
        jetliner.write_avro(df, "s3://no-such-bucket/x.avro", storage_options=s3.options())
    for bad in (MiB, 6 << 30, "8MiB"):
        with pytest.raises(jetliner.ConfigurationError, match="part_size"):
            jetliner.write_avro(df, f"s3://{s3.bucket}/x.avro", part_size=bad, storage_options=s3.options())  # type: ignore[arg-type]
    with pytest.raises(jetliner.ConfigurationError, match="names no object"):
        jetliner.write_avro(df, f"s3://{s3.bucket}/dir/", storage_options=s3.options())

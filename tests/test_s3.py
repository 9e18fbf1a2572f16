"""Every example of the S3 page (../shared/spec/s3-access.md), run against a real
S3 server (versitygw on 127.0.0.1, see s3support.py), plus the error kinds and the
equality of S3 and local reads for every codec.

Where an example has no endpoint (real AWS), the test gives it the way a user of an
S3-compatible service would: AWS_ENDPOINT_URL, or endpoint_url in the profile.
"""

from __future__ import annotations

import datetime
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import jetliner
import polars as pl
import pytest
from polars.testing import assert_frame_equal

pytest.register_assert_rewrite("s3support")  # before the import below: it is also a plugin

from s3support import (  # noqa: E402
    REGION,
    ROOT_ACCESS_KEY,
    ROOT_SECRET_KEY,
    USER_ACCESS_KEY,
    USER_SECRET_KEY,
    FaultProxy,
    S3Env,
    avro_bytes,
    records,
    self_signed_tls,
)

pytest_plugins = ["s3support"]  # the s3 fixtures: server, proxy, clean environment
pytestmark = pytest.mark.timeout(120)

CODECS = ["null", "deflate", "snappy", "zstandard", "bzip2", "xz"]


@pytest.fixture(scope="module")
def file_bytes() -> bytes:
    """A ~1.5 MB file of 30,000 rows in many blocks."""
    return avro_bytes(records(30_000), codec="deflate", sync_interval=32 * 1024)


@pytest.fixture
def obj(s3: S3Env, file_bytes: bytes) -> str:
    return s3.put("data/records.avro", file_bytes)


@pytest.fixture
def local(tmp_path: Path, file_bytes: bytes) -> Path:
    path = tmp_path / "records.avro"
    path.write_bytes(file_bytes)
    return path


def env_credentials(monkeypatch: pytest.MonkeyPatch, s3: S3Env, *, via_proxy: bool = True) -> None:
    """The page's environment variables, plus the endpoint of the test server."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", ROOT_ACCESS_KEY)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", ROOT_SECRET_KEY)
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ENDPOINT_URL", s3.proxy.endpoint if via_proxy else s3.server.endpoint)


# --- Basic usage and authentication --------------------------------------------------


def test_default_credentials_from_environment(
    s3: S3Env, obj: str, local: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env_credentials(monkeypatch, s3)
    expected = jetliner.read_avro(local)

    # Read from S3 using default credentials
    df = jetliner.scan_avro(obj).collect()
    assert_frame_equal(df, expected)

    # With the iterator API
    batches = []
    with jetliner.open(obj) as reader:
        for batch in reader:
            batches.append(batch)
    assert_frame_equal(pl.concat(batches), expected)
    # The requests went to the configured endpoint, path-style.
    assert s3.proxy.gets() and all(r.path.startswith(f"/{s3.bucket}/") for r in s3.proxy.gets())


def test_environment_set_after_import_is_seen(s3: S3Env, obj: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Variables set in os.environ after `import jetliner` reach the Go client."""
    env_credentials(monkeypatch, s3)
    assert jetliner.read_avro(obj, n_rows=5).height == 5
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "wrong-secret-0123456789")
    with pytest.raises(jetliner.AuthenticationError):
        jetliner.read_avro(obj)
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    with pytest.raises(jetliner.AuthenticationError, match="no usable AWS credentials"):
        jetliner.read_avro(obj)


class _CredentialsEndpoint:
    """A loopback stand-in for the ECS container credentials endpoint and the EC2
    instance metadata service: the SDK's own code fetches role credentials from it."""

    def __init__(self) -> None:
        expiration = (datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(hours=1)).strftime(
            "%Y-%m-%dT%H:%M:%SZ"
        )
        creds = {
            "AccessKeyId": ROOT_ACCESS_KEY,
            "SecretAccessKey": ROOT_SECRET_KEY,
            "Token": "",
            "Expiration": expiration,
        }
        self.hits: list[str] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def _reply(
                self, body: str, content_type: str = "text/plain", extra: dict[str, str] | None = None
            ) -> None:
                data = body.encode()
                self.send_response(200)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(data)))
                for k, v in (extra or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(data)

            def do_PUT(self) -> None:  # IMDSv2 session token
                outer.hits.append(f"PUT {self.path}")
                self._reply("imds-token", extra={"X-Aws-Ec2-Metadata-Token-Ttl-Seconds": "21600"})

            def do_GET(self) -> None:
                outer.hits.append(f"GET {self.path}")
                if self.path == "/ecs-credentials":
                    self._reply(json.dumps(creds), "application/json")
                elif self.path == "/latest/meta-data/iam/security-credentials/":
                    self._reply("jetliner-role")
                elif self.path == "/latest/meta-data/iam/security-credentials/jetliner-role":
                    body = dict(creds, Code="Success", Type="AWS-HMAC", LastUpdated=expiration)
                    self._reply(json.dumps(body), "application/json")
                else:
                    self.send_error(404)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def credentials_endpoint() -> Iterator[_CredentialsEndpoint]:
    endpoint = _CredentialsEndpoint()
    yield endpoint
    endpoint.close()


@pytest.mark.parametrize("role", ["container", "instance"])
def test_iam_role_credentials(
    s3: S3Env,
    obj: str,
    local: Path,
    monkeypatch: pytest.MonkeyPatch,
    credentials_endpoint: _CredentialsEndpoint,
    role: str,
) -> None:
    """The IAM-role example: no credentials in code or environment; the SDK's
    default chain gets them from the container endpoint or instance metadata."""
    monkeypatch.setenv("AWS_ENDPOINT_URL", s3.proxy.endpoint)
    if role == "container":
        monkeypatch.setenv(
            "AWS_CONTAINER_CREDENTIALS_FULL_URI",
            f"http://127.0.0.1:{credentials_endpoint.port}/ecs-credentials",
        )
    else:
        monkeypatch.delenv("AWS_EC2_METADATA_DISABLED")
        monkeypatch.setenv(
            "AWS_EC2_METADATA_SERVICE_ENDPOINT", f"http://127.0.0.1:{credentials_endpoint.port}"
        )

    # No credentials needed - uses IAM role
    df = jetliner.scan_avro(obj).collect()
    assert_frame_equal(df, jetliner.read_avro(local))
    expected_hit = (
        "GET /ecs-credentials"
        if role == "container"
        else "GET /latest/meta-data/iam/security-credentials/jetliner-role"
    )
    assert expected_hit in credentials_endpoint.hits


def test_aws_profile(
    s3: S3Env, obj: str, local: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """AWS_PROFILE with temporary shared credentials and config files."""
    credentials = tmp_path / "credentials"
    credentials.write_text(
        "[default]\naws_access_key_id = AKIAWRONGDEFAULT0001\n"
        "aws_secret_access_key = wrong-default-secret-00\n\n"
        f"[my-profile]\naws_access_key_id = {ROOT_ACCESS_KEY}\naws_secret_access_key = {ROOT_SECRET_KEY}\n"
    )
    config = tmp_path / "config"
    config.write_text(f"[profile my-profile]\nregion = {REGION}\nendpoint_url = {s3.proxy.endpoint}\n")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(credentials))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    monkeypatch.setenv("AWS_PROFILE", "my-profile")

    df = jetliner.scan_avro(obj).collect()
    assert_frame_equal(df, jetliner.read_avro(local))

    # The default profile's keys are wrong: the profile really was the one used.
    monkeypatch.setenv("AWS_PROFILE", "default")
    monkeypatch.setenv("AWS_ENDPOINT_URL", s3.proxy.endpoint)
    with pytest.raises(jetliner.AuthenticationError):
        jetliner.scan_avro(obj).collect()


def test_missing_profile_is_a_configuration_error(
    s3: S3Env, obj: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_PROFILE", "no-such-profile")
    with pytest.raises(jetliner.ConfigurationError, match="no-such-profile"):
        jetliner.read_avro(obj)


def test_explicit_credentials(s3: S3Env, obj: str, local: Path) -> None:
    df = jetliner.scan_avro(
        obj,
        storage_options={
            "aws_access_key_id": ROOT_ACCESS_KEY,
            "aws_secret_access_key": ROOT_SECRET_KEY,
            "region": "us-east-1",
            "endpoint": s3.proxy.endpoint,
        },
    ).collect()
    assert_frame_equal(df, jetliner.read_avro(local))
    # Nothing shows the secret: reprs, the query plan, the reader's state.
    lf = jetliner.scan_avro(obj, storage_options=s3.options())
    with jetliner.open(obj, storage_options=s3.options()) as reader:
        shown = [repr(reader), str(reader._stats()), lf.explain(), repr(lf)]
    for text in shown:
        assert ROOT_SECRET_KEY not in text


def test_explicit_credentials_take_precedence(
    s3: S3Env, obj: str, local: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", USER_ACCESS_KEY)  # a user with no access
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", USER_SECRET_KEY)
    monkeypatch.setenv("AWS_REGION", "eu-west-3")
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:1")  # nothing listens there
    with pytest.raises(jetliner.SourceError):
        jetliner.read_avro(obj, storage_options={"max_retries": "0"})
    df = jetliner.read_avro(obj, storage_options=s3.options(region="us-east-1"))
    assert_frame_equal(df, jetliner.read_avro(local))


def test_session_token_is_sent(s3: S3Env, obj: str) -> None:
    """aws_session_token goes out as X-Amz-Security-Token; versitygw, which does not
    issue session tokens, rejects it, which proves it was signed and sent."""
    token = "FwoGZXIvYXdzEJr//////////session-token-0123456789"
    with pytest.raises(jetliner.AuthenticationError) as info:
        jetliner.read_avro(obj, storage_options=s3.options(aws_session_token=token))
    assert token not in str(info.value) and token not in repr(info.value)


# --- S3-compatible services -----------------------------------------------------------


@pytest.mark.parametrize(
    ("service", "host"),
    [("minio", "localhost"), ("localstack", "localhost"), ("generic", "127.0.0.1")],
)
def test_custom_endpoint_http(s3: S3Env, obj: str, local: Path, service: str, host: str) -> None:
    """The MinIO and LocalStack examples: an http endpoint, no region, path-style."""
    df = jetliner.scan_avro(
        obj,
        storage_options={
            "endpoint": f"http://{host}:{s3.proxy.port}",
            "aws_access_key_id": ROOT_ACCESS_KEY,
            "aws_secret_access_key": ROOT_SECRET_KEY,
        },
    ).collect()
    assert_frame_equal(df, jetliner.read_avro(local))
    assert all(r.path.startswith(f"/{s3.bucket}/data/records.avro") for r in s3.proxy.gets())


@pytest.fixture
def tls_proxy(s3: S3Env, tmp_path: Path) -> Iterator[tuple[FaultProxy, Path]]:
    ctx, cert = self_signed_tls(tmp_path)
    proxy = FaultProxy(s3.server.port, tls=ctx)
    yield proxy, cert
    proxy.close()


@pytest.mark.parametrize("service", ["r2", "spaces"])
def test_custom_endpoint_https(
    s3: S3Env,
    obj: str,
    local: Path,
    monkeypatch: pytest.MonkeyPatch,
    tls_proxy: tuple[FaultProxy, Path],
    service: str,
) -> None:
    """The R2 and Spaces examples: an https endpoint (here with a self-signed
    certificate, trusted through AWS_CA_BUNDLE as a user of a private CA would)."""
    proxy, cert = tls_proxy
    options = {
        "endpoint": f"https://localhost:{proxy.port}",
        "aws_access_key_id": ROOT_ACCESS_KEY,
        "aws_secret_access_key": ROOT_SECRET_KEY,
    }
    # Without trusting the certificate: a clear SourceError, without retries.
    with pytest.raises(jetliner.SourceError, match="certificate"):
        jetliner.scan_avro(obj, storage_options=options).collect()
    assert len(proxy.gets()) == 0

    monkeypatch.setenv("AWS_CA_BUNDLE", str(cert))
    df = jetliner.scan_avro(obj, storage_options=options).collect()
    assert_frame_equal(df, jetliner.read_avro(local))
    assert proxy.gets() and all(r.path.startswith(f"/{s3.bucket}/") for r in proxy.gets())


def test_bad_endpoint_is_a_configuration_error(s3: S3Env, obj: str) -> None:
    with pytest.raises(jetliner.ConfigurationError, match="endpoint"):
        jetliner.read_avro(obj, storage_options=s3.options(endpoint="localhost:9000"))


def test_half_given_credentials_are_a_configuration_error(s3: S3Env, obj: str) -> None:
    with pytest.raises(jetliner.ConfigurationError, match="both"):
        jetliner.read_avro(obj, storage_options={"aws_access_key_id": ROOT_ACCESS_KEY})
    with pytest.raises(jetliner.ConfigurationError, match="max_retries"):
        jetliner.read_avro(obj, storage_options=s3.options(max_retries="many"))


# --- Query optimization ---------------------------------------------------------------


def test_query_optimization_examples(s3: S3Env, obj: str, local: Path) -> None:
    opts = s3.options()
    lf_s3 = jetliner.scan_avro(obj, storage_options=opts)
    lf_local = jetliner.scan_avro(local)

    # Projection pushdown
    result = lf_s3.select(["user_id", "amount"]).collect()
    assert_frame_equal(result, lf_local.select(["user_id", "amount"]).collect())
    assert jetliner._api._last_scan_stats["columns"] == ["user_id", "amount"]

    # Predicate pushdown
    result = jetliner.scan_avro(obj, storage_options=opts).filter(pl.col("status") == "active").collect()
    assert_frame_equal(result, lf_local.filter(pl.col("status") == "active").collect())
    assert result.height == 10_000

    # Early stopping
    result = jetliner.scan_avro(obj, storage_options=opts).head(1000).collect()
    assert_frame_equal(result, lf_local.head(1000).collect())

    # Combined optimizations
    def combined(lf: pl.LazyFrame) -> pl.DataFrame:
        return lf.select(["user_id", "amount", "status"]).filter(pl.col("amount") > 100).head(10000).collect()

    result = combined(jetliner.scan_avro(obj, storage_options=opts))
    assert_frame_equal(result, combined(lf_local))
    assert result.height == 10000


# --- Globs ----------------------------------------------------------------------------


@pytest.fixture
def many(s3: S3Env) -> dict[str, bytes]:
    """Objects for the glob tests: data/part-{0..3}.avro, nested files, decoys."""
    files = {
        "glob/data/part-0.avro": avro_bytes(records(100, 0)),
        "glob/data/part-1.avro": avro_bytes(records(150, 100), codec="snappy"),
        "glob/data/part-2.avro": avro_bytes(records(50, 250), codec="zstandard"),
        "glob/data/part-3.avro": avro_bytes(records(10, 300)),
        "glob/data/sub/deep-0.avro": avro_bytes(records(5, 310)),
        "glob/data/sub/x/deep-1.avro": avro_bytes(records(7, 315)),
        "glob/data/notes.txt": b"not avro",
        "glob/other/part-9.avro": avro_bytes(records(3, 900)),
    }
    for key, data in files.items():
        s3.put(key, data)
    return files


def test_glob_examples(s3: S3Env, many: dict[str, bytes], tmp_path: Path) -> None:
    opts = s3.options()
    base = f"s3://{s3.bucket}/glob/data"
    parts = [f"{base}/part-{i}.avro" for i in range(4)]
    for i in range(4):
        (tmp_path / f"part-{i}.avro").write_bytes(many[f"glob/data/part-{i}.avro"])
    local = jetliner.read_avro(str(tmp_path / "*.avro"))

    # Read all Avro files in a prefix
    df = jetliner.read_avro(f"{base}/*.avro", storage_options=opts)
    assert_frame_equal(df, local)
    assert df.height == 310

    # With row index continuity
    df = jetliner.read_avro(f"{base}/*.avro", row_index_name="idx", storage_options=opts)
    assert df.columns[0] == "idx"
    assert df["idx"].to_list() == list(range(310))

    # Track source files
    df = jetliner.read_avro(f"{base}/*.avro", include_file_paths="source", storage_options=opts)
    counts = df.group_by("source", maintain_order=True).len()
    assert counts["source"].to_list() == parts
    assert counts["len"].to_list() == [100, 150, 50, 10]

    # Both, through the lazy scan too.
    lf = jetliner.scan_avro(
        f"{base}/*.avro", row_index_name="i", include_file_paths="f", storage_options=opts
    )
    df = lf.filter(pl.col("user_id") >= 299).select("i", "user_id", "f").collect()
    assert df.rows() == [(299, 299, parts[2])] + [(300 + k, 300 + k, parts[3]) for k in range(10)]


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ("glob/data/part-?.avro", ["part-0", "part-1", "part-2", "part-3"]),
        ("glob/data/part-[02].avro", ["part-0", "part-2"]),
        ("glob/data/part-[!02].avro", ["part-1", "part-3"]),
        ("glob/data/part-{1,3}.avro", ["part-1", "part-3"]),
        ("glob/{data,other}/part-*.avro", ["part-0", "part-1", "part-2", "part-3", "part-9"]),
        ("glob/data/**/*.avro", ["part-0", "part-1", "part-2", "part-3", "deep-0", "deep-1"]),
        ("glob/**/deep-*.avro", ["deep-0", "deep-1"]),
        ("glob/*/part-9.avro", ["part-9"]),
        ("glob/data/*", None),  # matches notes.txt too: not an Avro file
    ],
)
def test_glob_syntax(s3: S3Env, many: dict[str, bytes], pattern: str, expected: list[str] | None) -> None:
    uri = f"s3://{s3.bucket}/{pattern}"
    if expected is None:
        with pytest.raises(jetliner.ParseError, match="magic") as info:
            jetliner.read_avro(uri, storage_options=s3.options())
        assert info.value.path == f"s3://{s3.bucket}/glob/data/notes.txt"
        return
    df = jetliner.read_avro(uri, include_file_paths="f", storage_options=s3.options())
    files = df["f"].unique(maintain_order=True).to_list()
    names = [f.rsplit("/", 1)[1].removesuffix(".avro") for f in files]
    assert sorted(names) == sorted(expected)
    assert files == sorted(files)  # read in sorted order of the full URI


def test_glob_without_matches(s3: S3Env, many: dict[str, bytes]) -> None:
    with pytest.raises(jetliner.FileNotFoundError, match="matched no files"):
        jetliner.read_avro(f"s3://{s3.bucket}/glob/data/*.parquet", storage_options=s3.options())
    with pytest.raises(jetliner.FileNotFoundError, match="bucket"):
        jetliner.read_avro("s3://no-such-bucket/*.avro", storage_options=s3.options())


def test_glob_literal_when_glob_false(s3: S3Env, many: dict[str, bytes]) -> None:
    with pytest.raises(jetliner.FileNotFoundError):
        jetliner.read_avro(
            f"s3://{s3.bucket}/glob/data/part-?.avro", glob=False, storage_options=s3.options()
        )


def test_glob_lists_every_page(s3: S3Env) -> None:
    """ListObjectsV2 returns at most 1000 keys a page: 1,205 objects need two pages.
    They are written straight into the server's storage directory (fast), which
    versitygw serves as objects."""
    bucket = "jetliner-pages"
    s3.server.create_bucket(bucket)
    directory = s3.server.data / bucket / "p"
    directory.mkdir(parents=True, exist_ok=True)
    one = avro_bytes(records(1))
    for i in range(1205):
        (directory / f"f{i:05d}.avro").write_bytes(one)
    with jetliner.MultiAvroReader(f"s3://{bucket}/p/*.avro", storage_options=s3.options()) as reader:
        assert reader.total_sources == 1205
    lists = [r for r in s3.proxy.log() if r.method == "GET" and "list-type=2" in r.path]
    assert len(lists) == 2
    assert "continuation-token=" in lists[1].path


def test_bucket_glob_is_rejected(s3: S3Env) -> None:
    with pytest.raises(jetliner.ConfigurationError, match="bucket"):
        jetliner.read_avro("s3://jetliner-*/x.avro", storage_options=s3.options())


# --- Streaming and buffers ---------------------------------------------------------------


def test_streaming_example(s3: S3Env, obj: str, local: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    env_credentials(monkeypatch, s3)
    batches = []
    with jetliner.open(
        obj,
        storage_options={"region": "us-east-1"},
        buffer_blocks=2,  # Reduce prefetch for memory savings
        batch_size=4000,
    ) as reader:
        for batch in reader:
            # Process each batch as it's downloaded
            batches.append(batch)
    assert len(batches) > 1
    assert_frame_equal(pl.concat(batches), jetliner.read_avro(local))


@pytest.mark.parametrize(
    ("buffer_blocks", "buffer_bytes"),
    [(8, 128 * 1024 * 1024), (2, 16 * 1024 * 1024)],
    ids=["high-throughput", "low-memory"],
)
def test_buffer_configuration(
    s3: S3Env, obj: str, local: Path, monkeypatch: pytest.MonkeyPatch, buffer_blocks: int, buffer_bytes: int
) -> None:
    env_credentials(monkeypatch, s3)
    df = jetliner.scan_avro(obj, buffer_blocks=buffer_blocks, buffer_bytes=buffer_bytes).collect()
    assert_frame_equal(df, jetliner.read_avro(local))


def test_retry_configuration_example(
    s3: S3Env, obj: str, local: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env_credentials(monkeypatch, s3)
    s3.proxy.fail(503, times=5)
    # Increase retries for unreliable connections
    df = jetliner.scan_avro(
        obj,
        storage_options={
            "max_retries": "5",  # Default is 2
        },
    ).collect()
    assert_frame_equal(df, jetliner.read_avro(local))
    assert [r.status for r in s3.proxy.gets()[:6]] == [503] * 5 + [206]


# --- Error handling ---------------------------------------------------------------------


def _error_handling_example(uri: str) -> str:
    """The page's example, verbatim but for returning what it prints."""
    try:
        df = jetliner.scan(uri).collect()
    except jetliner.SourceError as e:
        # S3 connection, authentication, or access errors
        return f"S3 error: {e}"
    except FileNotFoundError:
        # Object doesn't exist
        return "File not found in S3"
    return f"read {df.height} rows"


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        ("ok", "read 30000 rows"),
        ("missing-object", "File not found in S3"),
        ("missing-bucket", "File not found in S3"),
        # str() of a jetliner error leads with its kind and the URI.
        (
            "bad-secret",
            "S3 error: Authentication failed for '{uri}': S3 rejected the credentials: SignatureDoesNotMatch",
        ),
        (
            "unknown-key",
            "S3 error: Authentication failed for '{uri}': S3 rejected the credentials: InvalidAccessKeyId",
        ),
        ("access-denied", "S3 error: Permission denied for '{uri}': S3 denied access: AccessDenied"),
        ("unreachable", "S3 error: Source error for '{uri}': cannot reach S3"),
        (
            "server-errors",
            "S3 error: Source error for '{uri}': S3 GET failed: gave up after 3 attempts; ServiceUnavailable",
        ),
    ],
)
def test_error_handling_example(
    s3: S3Env, obj: str, monkeypatch: pytest.MonkeyPatch, case: str, expected: str
) -> None:
    env_credentials(monkeypatch, s3)
    uri = obj
    if case == "missing-object":
        uri = f"s3://{s3.bucket}/data/missing.avro"
    elif case == "missing-bucket":
        uri = "s3://no-such-bucket/data/records.avro"
    elif case == "bad-secret":
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "not-the-secret-0123456789")
    elif case == "unknown-key":
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIANOSUCHKEY0000000")
    elif case == "access-denied":
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", USER_ACCESS_KEY)
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", USER_SECRET_KEY)
    elif case == "unreachable":
        monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:1")
    elif case == "server-errors":
        s3.proxy.fail(503, times=100)
    assert _error_handling_example(uri).startswith(expected.format(uri=uri))


@pytest.mark.parametrize(
    ("case", "kind"),
    [
        ("missing-object", jetliner.FileNotFoundError),
        ("missing-bucket", jetliner.FileNotFoundError),
        ("bad-secret", jetliner.AuthenticationError),
        ("unknown-key", jetliner.AuthenticationError),
        ("access-denied", jetliner.PermissionError),
        ("unreachable", jetliner.SourceError),
    ],
)
def test_error_kinds_and_no_secrets(s3: S3Env, obj: str, case: str, kind: type[Exception]) -> None:
    secret = ROOT_SECRET_KEY
    opts = s3.options()
    uri = obj
    if case == "missing-object":
        uri = f"s3://{s3.bucket}/data/missing.avro"
    elif case == "missing-bucket":
        uri = "s3://no-such-bucket/data/records.avro"
    elif case == "bad-secret":
        secret = "not-the-secret-0123456789"
        opts["aws_secret_access_key"] = secret
    elif case == "unknown-key":
        opts["aws_access_key_id"] = "AKIANOSUCHKEY0000000"
    elif case == "access-denied":
        secret = USER_SECRET_KEY
        opts.update(aws_access_key_id=USER_ACCESS_KEY, aws_secret_access_key=secret)
    elif case == "unreachable":
        opts.update(endpoint="http://127.0.0.1:1", max_retries="1")
    for attempt in (
        lambda: jetliner.read_avro(uri, storage_options=opts),
        lambda: jetliner.scan_avro(uri, storage_options=opts).collect(),
        lambda: jetliner.open(uri, storage_options=opts),
        lambda: jetliner.read_avro_schema(uri, storage_options=opts),
    ):
        with pytest.raises(kind) as info:
            attempt()
        err = info.value
        assert isinstance(err, jetliner.JetlinerError)
        assert err.path == uri
        if kind is jetliner.FileNotFoundError:
            assert isinstance(err, FileNotFoundError) and not isinstance(err, jetliner.SourceError)
        else:
            assert isinstance(err, jetliner.SourceError)
        if kind is jetliner.PermissionError:
            assert isinstance(err, PermissionError)
        for text in (str(err), repr(err), json.dumps(err.to_dict())):
            assert secret not in text


def test_non_avro_and_empty_objects(s3: S3Env) -> None:
    uri = s3.put("bad/empty.avro", b"")
    with pytest.raises(jetliner.ParseError, match="empty"):
        jetliner.read_avro(uri, storage_options=s3.options())
    uri = s3.put("bad/text.avro", b"hello, world")
    with pytest.raises(jetliner.ParseError, match="magic"):
        jetliner.read_avro(uri, storage_options=s3.options())
    uri = s3.put("bad/header-only.avro", avro_bytes([]))
    df = jetliner.read_avro(uri, storage_options=s3.options())
    assert df.height == 0 and df.columns[0] == "user_id"


def test_read_avro_schema(s3: S3Env, obj: str, local: Path) -> None:
    assert jetliner.read_avro_schema(obj, storage_options=s3.options()) == jetliner.read_avro_schema(local)


# --- S3 and local reads agree -----------------------------------------------------------


@pytest.mark.parametrize("codec", CODECS)
@pytest.mark.parametrize("chunk", [None, 64 * 1024], ids=["auto-chunk", "64KiB-chunk"])
def test_same_dataframe_as_local(s3: S3Env, tmp_path: Path, codec: str, chunk: int | None) -> None:
    # Blocks both smaller and larger than a 64 KiB chunk.
    data = avro_bytes(records(12_000), codec=codec, sync_interval=200 * 1024)
    uri = s3.put(f"codecs/{codec}.avro", data)
    path = tmp_path / f"{codec}.avro"
    path.write_bytes(data)
    expected = jetliner.read_avro(path)
    df = jetliner.read_avro(uri, storage_options=s3.options(), read_chunk_size=chunk)
    assert_frame_equal(df, expected)
    assert df.height == 12_000
    with jetliner.open(uri, storage_options=s3.options(), read_chunk_size=chunk, batch_size=1000) as reader:
        assert_frame_equal(pl.concat(list(reader)), expected)
    if chunk is not None:
        assert all(r.range and _range_len(r.range) <= chunk for r in s3.proxy.gets())


def _range_len(header: str) -> int:
    first, last = header.removeprefix("bytes=").split("-")
    return int(last) - int(first) + 1

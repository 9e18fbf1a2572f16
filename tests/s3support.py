"""A real S3 server and a fault-injecting proxy on 127.0.0.1 for the S3 tests.

The server is versitygw (``make tools`` installs it into ``.tools/bin``) with its
posix backend in a temporary directory: it checks SigV4 signatures, knows IAM users
(so bad keys and denied access give S3's real error codes) and serves ranged GETs
and paginated ListObjectsV2 like S3 does. Nothing here mocks the AWS SDK: jetliner's
Go client talks HTTP to the server, directly or through :class:`FaultProxy`.

:class:`FaultProxy` forwards every request unchanged (the ``Host`` header too, so
signatures stay valid) and can be told to answer the next requests with an error
status, to wait before answering, to cut a body after some bytes, or to stall in
the middle of a body. It records every request and counts the body bytes it sends,
which is how the tests measure what a read downloaded.
"""

from __future__ import annotations

import contextlib
import datetime
import http.client
import io
import ipaddress
import os
import shutil
import socket
import ssl
import subprocess
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import fastavro
import pytest

ROOT = Path(__file__).resolve().parent.parent
VERSITYGW_VERSION = "v1.8.0"
VERSITYGW_PACKAGE = "github.com/versity/versitygw/cmd/versitygw"

# Credentials of the test server. The secrets contain a '/' like real AWS
# secrets do. (Short credentials are tested in test_hostile_sources.py.)
ROOT_ACCESS_KEY = "AKIAJETLINERROOT0001"
ROOT_SECRET_KEY = "jetlinerRootSecret/0123456789abcdefABCDEF"
USER_ACCESS_KEY = "AKIAJETLINERUSER0001"
USER_SECRET_KEY = "jetlinerUserSecret/0123456789abcdefABCDEF"
REGION = "us-east-1"

STARTUP_TIMEOUT = 30.0


def versitygw_binary() -> Path:
    """The versitygw executable: $JETLINER_VERSITYGW, .tools/bin, or $PATH.

    A missing binary fails the tests (it does not skip them): ``make tools``
    installs it, and ``make test`` and ``.ci/run`` do that first.
    """
    candidates = [os.environ.get("JETLINER_VERSITYGW"), str(ROOT / ".tools" / "bin" / "versitygw")]
    for c in candidates:
        if c and Path(c).is_file() and os.access(c, os.X_OK):
            return Path(c)
    found = shutil.which("versitygw")
    if found:
        return Path(found)
    pytest.fail(
        "the S3 test server versitygw is not installed. Run `make tools` (it runs "
        f"`go install {VERSITYGW_PACKAGE}@{VERSITYGW_VERSION}` into .tools/bin), "
        "or point JETLINER_VERSITYGW at the binary.",
        pytrace=False,
    )


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _wait_for_port(port: int, proc: subprocess.Popen[bytes], log: Path, deadline: float) -> None:
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"versitygw exited with {proc.returncode} at startup:\n{log.read_text()}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return
        time.sleep(0.05)
    raise RuntimeError(
        f"versitygw did not listen on 127.0.0.1:{port} within {STARTUP_TIMEOUT}s:\n{log.read_text()}"
    )


class S3Server:
    """versitygw on a free loopback port, started and stopped by the test session.

    With ``iam=False`` the server knows only its root account, as a versitygw
    started without ``--iam-dir`` does, and answers an unknown access key with its
    own code ``XAdminUserNotFound`` and status 404.
    """

    def __init__(self, workdir: Path, *, iam: bool = True) -> None:
        self.workdir = workdir
        self.iam = iam
        self.data = workdir / "data"
        self.port = 0
        self.admin_port = 0
        self.proc: subprocess.Popen[bytes] | None = None
        self.log = workdir / "versitygw.log"
        self._client: Any = None

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        binary = versitygw_binary()
        self.data.mkdir(parents=True, exist_ok=True)
        iam = []
        if self.iam:
            (self.workdir / "iam").mkdir(exist_ok=True)
            iam = ["--iam-dir", str(self.workdir / "iam")]
        self.port, self.admin_port = free_port(), free_port()
        deadline = time.monotonic() + STARTUP_TIMEOUT
        with self.log.open("wb") as log:
            self.proc = subprocess.Popen(
                [
                    str(binary),
                    "--port", f"127.0.0.1:{self.port}",
                    "--admin-port", f"127.0.0.1:{self.admin_port}",
                    "--access", ROOT_ACCESS_KEY,
                    "--secret", ROOT_SECRET_KEY,
                    "--region", REGION,
                    *iam,
                    "--quiet",
                    "posix", str(self.data),
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )  # fmt: skip
        _wait_for_port(self.port, self.proc, self.log, deadline)
        _wait_for_port(self.admin_port, self.proc, self.log, deadline)
        if not self.iam:
            return
        # A user with no bucket of its own: every read of the root's buckets is denied.
        subprocess.run(
            [
                str(binary), "admin",
                "--access", ROOT_ACCESS_KEY, "--secret", ROOT_SECRET_KEY,
                "--endpoint-url", f"http://127.0.0.1:{self.admin_port}",
                "create-user", "--access", USER_ACCESS_KEY, "--secret", USER_SECRET_KEY, "--role", "user",
            ],
            check=True,
            capture_output=True,
            timeout=STARTUP_TIMEOUT,
        )  # fmt: skip

    def stop(self) -> None:
        if self.proc is None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)
        self.proc = None

    def client(self) -> Any:
        """A boto3 client for setting up buckets and objects (not for reading)."""
        if self._client is None:
            self._client = self._make_client()
        return self._client

    def _make_client(self) -> Any:
        import boto3
        from botocore.config import Config

        return boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            aws_access_key_id=ROOT_ACCESS_KEY,
            aws_secret_access_key=ROOT_SECRET_KEY,
            region_name=REGION,
            config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}),
        )

    def create_bucket(self, bucket: str) -> None:
        client = self.client()
        with contextlib.suppress(client.exceptions.BucketAlreadyOwnedByYou):
            client.create_bucket(Bucket=bucket)

    def put(self, bucket: str, key: str, data: bytes) -> str:
        """Upload data and return its s3:// URI."""
        self.create_bucket(bucket)
        self.client().put_object(Bucket=bucket, Key=key, Body=data)
        return f"s3://{bucket}/{key}"


# --- the fault-injecting proxy ---------------------------------------------


@dataclass
class Request:
    """One request the proxy saw, and what it did with it."""

    method: str
    path: str
    range: str | None
    time: float
    status: int = 0
    fault: str | None = None
    body_bytes: int = 0  # response body bytes sent to the client

    @property
    def range_start(self) -> int | None:
        if not self.range or not self.range.startswith("bytes="):
            return None
        return int(self.range[len("bytes=") :].split("-")[0])

    @property
    def is_object_get(self) -> bool:
        return self.method == "GET" and self.range is not None


@dataclass
class Rule:
    """A fault: applied to the next `times` requests that `when` accepts."""

    action: str  # "status", "delay", "cut" or "stall"
    times: int
    when: Callable[[Request], bool]
    status: int = 503
    seconds: float = 0.0
    after_bytes: int = 0


_HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "proxy-connection", "te", "upgrade"}

_ERROR_CODES = {
    429: "SlowDown",
    500: "InternalError",
    502: "BadGateway",
    503: "ServiceUnavailable",
    504: "GatewayTimeout",
    403: "AccessDenied",
    404: "NoSuchKey",
}


class FaultProxy:
    """An HTTP(S) proxy on 127.0.0.1 in front of the S3 server, with faults on demand."""

    def __init__(self, upstream_port: int, tls: ssl.SSLContext | None = None) -> None:
        self.upstream_port = upstream_port
        self.lock = threading.Lock()
        self.rules: list[Rule] = []
        self.requests: list[Request] = []
        self.active = 0  # object GETs being answered right now
        self.max_active = 0  # the most at any one time, among those since reset()
        self._generation = 0  # bumped by reset(): older requests no longer count
        self._active_now = 0  # active requests of the current generation
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                proxy._handle(self)

            do_HEAD = do_PUT = do_POST = do_DELETE = do_GET

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.server.block_on_close = False  # a stalled reply must not hold up close()
        if tls is not None:
            self.server.socket = tls.wrap_socket(self.server.socket, server_side=True)
        self.port: int = self.server.server_address[1]
        self.scheme = "https" if tls else "http"
        self.thread = threading.Thread(target=self.server.serve_forever, name="fault-proxy", daemon=True)
        self.thread.start()

    @property
    def endpoint(self) -> str:
        return f"{self.scheme}://127.0.0.1:{self.port}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    # Programming faults.

    def reset(self) -> None:
        with self.lock:
            self.rules.clear()
            self.requests.clear()
            self._generation += 1
            self._active_now = 0
            self.max_active = 0

    def _add(self, rule: Rule) -> None:
        with self.lock:
            self.rules.append(rule)

    def fail(self, status: int, *, times: int = 1, when: Callable[[Request], bool] | None = None) -> None:
        """Answer the next `times` matching requests with `status` and an S3 error body."""
        self._add(Rule("status", times, when or _object_get, status=status))

    def delay(self, seconds: float, *, times: int = 1, when: Callable[[Request], bool] | None = None) -> None:
        """Wait `seconds` before forwarding the next `times` matching requests."""
        self._add(Rule("delay", times, when or _object_get, seconds=seconds))

    def cut(self, after_bytes: int, *, times: int = 1, when: Callable[[Request], bool] | None = None) -> None:
        """Send the headers and `after_bytes` of the body, then drop the connection."""
        self._add(Rule("cut", times, when or _object_get, after_bytes=after_bytes))

    def stall(
        self,
        after_bytes: int,
        seconds: float,
        *,
        times: int = 1,
        when: Callable[[Request], bool] | None = None,
    ) -> None:
        """Send `after_bytes` of the body, then go silent for `seconds` and drop it."""
        self._add(Rule("stall", times, when or _object_get, after_bytes=after_bytes, seconds=seconds))

    # What happened.

    def log(self) -> list[Request]:
        with self.lock:
            return list(self.requests)

    def gets(self) -> list[Request]:
        """The object GETs (ranged), in arrival order."""
        return [r for r in self.log() if r.is_object_get]

    def bytes_sent(self) -> int:
        """Body bytes of object GETs sent to the client, once the replies in flight
        are finished (a reply's count is updated after its last write)."""
        self.settle()
        return sum(r.body_bytes for r in self.gets())

    def settle(self, timeout: float = 10.0) -> None:
        """Wait until the requests since reset() are answered."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if self._active_now == 0:
                    return
            time.sleep(0.01)

    # Serving.

    def _take_rule(self, req: Request) -> Rule | None:
        with self.lock:
            self.requests.append(req)
            for rule in self.rules:
                if rule.times > 0 and rule.when(req):
                    rule.times -= 1
                    return rule
        return None

    def _handle(self, h: BaseHTTPRequestHandler) -> None:
        length = int(h.headers.get("Content-Length") or 0)
        body = h.rfile.read(length) if length else b""
        req = Request(h.command, h.path, h.headers.get("Range"), time.monotonic())
        rule = self._take_rule(req)
        if rule is not None:
            req.fault = rule.action
        generation = self._generation
        if req.is_object_get:
            with self.lock:
                self.active += 1
                self._active_now += 1
                self.max_active = max(self.max_active, self._active_now)
        try:
            if rule is not None and rule.action == "status":
                self._send_error(h, req, rule.status)
                return
            if rule is not None and rule.action == "delay":
                time.sleep(rule.seconds)
            self._forward(h, req, body, rule)
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError, TimeoutError):
            h.close_connection = True
        finally:
            if req.is_object_get:
                with self.lock:
                    self.active -= 1
                    if generation == self._generation:
                        self._active_now -= 1

    def _send_error(self, h: BaseHTTPRequestHandler, req: Request, status: int) -> None:
        code = _ERROR_CODES.get(status, "InternalError")
        payload = (
            f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{code}</Code>'
            f"<Message>injected by the test proxy</Message><RequestId>fault</RequestId></Error>"
        ).encode()
        req.status = status
        h.send_response(status)
        h.send_header("Content-Type", "application/xml")
        h.send_header("Content-Length", str(len(payload)))
        h.end_headers()
        if h.command != "HEAD":
            h.wfile.write(payload)

    def _forward(self, h: BaseHTTPRequestHandler, req: Request, body: bytes, rule: Rule | None) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", self.upstream_port, timeout=60)
        try:
            conn.putrequest(h.command, h.path, skip_host=True, skip_accept_encoding=True)
            for k, v in h.headers.items():
                # The Host header goes through as the client signed it.
                if k.lower() not in _HOP_BY_HOP:
                    conn.putheader(k, v)
            conn.endheaders(body or None)
            resp = conn.getresponse()
            headers = [(k, v) for k, v in resp.getheaders() if k.lower() not in _HOP_BY_HOP]
            declared = resp.getheader("Content-Length")
            data = None
            if declared is None and h.command != "HEAD":
                data = resp.read()  # chunked upstream: buffer it, send with a length
                headers = [(k, v) for k, v in headers if k.lower() != "content-length"]
                headers.append(("Content-Length", str(len(data))))
            req.status = resp.status
            h.send_response(resp.status)
            for k, v in headers:
                h.send_header(k, v)
            h.end_headers()
            if h.command == "HEAD":
                return
            source = io.BytesIO(data) if data is not None else resp
            limit = rule.after_bytes if rule is not None and rule.action in ("cut", "stall") else None
            while True:
                want = 64 * 1024 if limit is None else min(64 * 1024, limit - req.body_bytes)
                piece = source.read(want) if want > 0 else b""
                if not piece:
                    break
                h.wfile.write(piece)
                req.body_bytes += len(piece)
            if limit is not None:
                h.wfile.flush()
                if rule is not None and rule.action == "stall":
                    time.sleep(rule.seconds)
                # Drop the connection with the body unfinished.
                h.close_connection = True
                with contextlib.suppress(OSError):
                    h.connection.shutdown(socket.SHUT_RDWR)
        finally:
            conn.close()


def _object_get(req: Request) -> bool:
    return req.is_object_get


def gets_from(offset: int) -> Callable[[Request], bool]:
    """Match ranged GETs that start at or after `offset` (a chunk past the first)."""
    return lambda r: r.is_object_get and (r.range_start or 0) >= offset


def gets_at(offset: int) -> Callable[[Request], bool]:
    """Match ranged GETs that start exactly at `offset`."""
    return lambda r: r.is_object_get and r.range_start == offset


def gets_within(start: int, end: int) -> Callable[[Request], bool]:
    """Match ranged GETs that start in [start, end): a chunk and its resumptions."""
    return lambda r: r.is_object_get and start <= (r.range_start or 0) < end


# --- TLS for the https endpoint test -----------------------------------------


def self_signed_tls(directory: Path) -> tuple[ssl.SSLContext, Path]:
    """A server context with a fresh self-signed certificate for 127.0.0.1 and
    localhost, and the path of the certificate (the CA bundle a client must trust)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "jetliner test S3")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert_path, key_path)
    return ctx, cert_path


# --- Avro data ------------------------------------------------------------------

SCHEMA: dict[str, Any] = {
    "type": "record",
    "name": "Event",
    "fields": [
        {"name": "user_id", "type": "long"},
        {"name": "amount", "type": "double"},
        {
            "name": "status",
            "type": {"type": "enum", "name": "Status", "symbols": ["active", "inactive", "banned"]},
        },
        {"name": "name", "type": "string"},
        {"name": "tags", "type": {"type": "array", "items": "string"}},
        {"name": "score", "type": ["null", "int"]},
        {"name": "payload", "type": "bytes"},
    ],
}

STATUSES = ["active", "inactive", "banned"]


def records(n: int, start: int = 0) -> Iterator[dict[str, Any]]:
    for i in range(start, start + n):
        yield {
            "user_id": i,
            "amount": (i * 37 % 1000) / 4,
            "status": STATUSES[i % 3],
            "name": f"user-{i:07d}",
            "tags": [f"t{i % 5}"] * (i % 3),
            "score": None if i % 7 == 0 else i % 1000,
            "payload": bytes([i % 256]) * (i % 11),
        }


def avro_bytes(
    rows: Iterable[dict[str, Any]],
    *,
    codec: str = "null",
    sync_interval: int = 64 * 1024,
    schema: dict[str, Any] | None = None,
) -> bytes:
    buf = io.BytesIO()
    fastavro.writer(
        buf, fastavro.parse_schema(schema or SCHEMA), rows, codec=codec, sync_interval=sync_interval
    )
    return buf.getvalue()


def big_avro_bytes(target_size: int, *, rows_per_block: int = 2000) -> tuple[bytes, int]:
    """An uncompressed Avro file of at least target_size bytes, made quickly by
    repeating one block (every block is framed by the same sync marker, so the
    copies form a valid file). Returns the bytes and the number of rows."""
    one = avro_bytes(records(rows_per_block), sync_interval=1 << 30)
    sync = one[-16:]
    header_end = one.index(sync) + 16
    header, block = one[:header_end], one[header_end:]
    copies = max(1, -(-(target_size - len(header)) // len(block)))
    return header + block * copies, copies * rows_per_block


@dataclass
class S3Env:
    """What a test needs to reach the server: directly or through the proxy."""

    server: S3Server
    proxy: FaultProxy
    bucket: str = "jetliner-test"
    uploaded: dict[str, bytes] = field(default_factory=dict)

    def options(self, *, via_proxy: bool = True, **extra: str) -> dict[str, str]:
        """storage_options with the root credentials and the endpoint."""
        opts = {
            "endpoint": self.proxy.endpoint if via_proxy else self.server.endpoint,
            "aws_access_key_id": ROOT_ACCESS_KEY,
            "aws_secret_access_key": ROOT_SECRET_KEY,
        }
        opts.update(extra)
        return opts

    def put(self, key: str, data: bytes, bucket: str | None = None) -> str:
        """Upload once per session (same key, same bytes) and return the URI."""
        bucket = bucket or self.bucket
        uri = f"s3://{bucket}/{key}"
        if self.uploaded.get(uri) != data:
            self.server.put(bucket, key, data)
            self.uploaded[uri] = data
        return uri


# --- fixtures ---------------------------------------------------------------------
#
# Test modules load this file as a plugin (pytest_plugins = ["s3support"]), so the
# server and the proxy exist once per test session, whichever modules use them.


@pytest.fixture(scope="session")
def s3_session(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Env]:
    server = S3Server(tmp_path_factory.mktemp("versitygw"))
    server.start()
    try:
        proxy = FaultProxy(server.port)
    except BaseException:
        server.stop()
        raise
    try:
        yield S3Env(server, proxy)
    finally:
        proxy.close()
        server.stop()


@pytest.fixture
def s3(s3_session: S3Env, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> S3Env:
    """The S3 server and a clean proxy, in an environment with no AWS settings of
    the machine's own: no AWS_* variables, no ~/.aws files, no instance metadata
    lookups. Retry waits start at 50 ms instead of 1 s unless a test says otherwise."""
    for name in list(os.environ):
        if name.startswith("AWS_") or name.startswith("JETLINER_S3_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("JETLINER_S3_RETRY_BASE_MS", "50")
    s3_session.proxy.reset()
    return s3_session

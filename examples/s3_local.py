"""Reading from S3, against a local S3 server started by this script.

The server is versitygw (https://github.com/versity/versitygw), a real S3
implementation over a local directory: every sub-directory is a bucket and every
file an object. ``make tools`` installs it into ``.tools/bin``; the script also
looks at ``$JETLINER_VERSITYGW`` and ``$PATH``. Against real S3 or another
S3-compatible service, drop the endpoint and use your own credentials: the
jetliner calls are the same.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import jetliner
import polars as pl

HERE = Path(__file__).resolve().parent
FLIGHTS = HERE / "data" / "flights.avro"

# Credentials of the throw-away local server (never use real keys in code).
ACCESS_KEY = "AKIAJETLINEREXAMPLE1"
SECRET_KEY = "jetlinerExampleSecret/0123456789abcdef"


def versitygw() -> str:
    candidates = [os.environ.get("JETLINER_VERSITYGW"), str(HERE.parent / ".tools" / "bin" / "versitygw")]
    for c in candidates:
        if c and os.access(c, os.X_OK):
            return c
    found = shutil.which("versitygw")
    if found:
        return found
    sys.exit(
        "versitygw is not installed: run `make tools` in the repository "
        "(or `go install github.com/versity/versitygw/cmd/versitygw@v1.8.0`)"
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@contextlib.contextmanager
def local_s3(root: Path) -> Iterator[str]:
    """Serve root over S3 on a loopback port; yield the endpoint URL."""
    port = free_port()
    log = root.parent / "versitygw.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [
                versitygw(), "--port", f"127.0.0.1:{port}", "--access", ACCESS_KEY, "--secret", SECRET_KEY,
                "--region", "us-east-1", "--quiet", "posix", str(root),
            ],
            stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
        )  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while True:
            if proc.poll() is not None:
                sys.exit(f"versitygw exited with {proc.returncode}:\n{log.read_text()}")
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.2):
                break
            if time.monotonic() > deadline:
                sys.exit(f"versitygw did not start:\n{log.read_text()}")
            time.sleep(0.05)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "s3"
        # Bucket "flights", objects daily/2026-01-0{1,2,3}.avro.
        for day in (1, 2, 3):
            key = root / "flights" / "daily" / f"2026-01-0{day}.avro"
            key.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(FLIGHTS, key)

        with local_s3(root) as endpoint:
            print(f"S3 server at {endpoint}\n")
            storage = {
                "endpoint": endpoint,
                "aws_access_key_id": ACCESS_KEY,
                "aws_secret_access_key": SECRET_KEY,
                "region": "us-east-1",
            }
            uri = "s3://flights/daily/2026-01-01.avro"

            # The schema, from the header only (one small ranged GET).
            print(jetliner.read_avro_schema(uri, storage_options=storage))

            # Eager and lazy reads; projection and head() are pushed down, so
            # only what the query needs is decoded, and reading stops early.
            df = jetliner.read_avro(uri, storage_options=storage)
            top = (
                jetliner.scan_avro(uri, storage_options=storage)
                .select("carrier", "fare")
                .filter(pl.col("fare") > 1500)
                .head(5)
                .collect()
            )
            print(f"\nread_avro: {df.shape}; five fares over 1500:\n{top}")

            # Globs over keys, with the source of each row.
            all_days = jetliner.read_avro(
                "s3://flights/daily/*.avro", storage_options=storage, include_file_paths="object"
            )
            print(all_days.group_by("object").len().sort("object"))

            # Credentials from the environment work too (AWS_ENDPOINT_URL included).
            env = {
                "AWS_ACCESS_KEY_ID": ACCESS_KEY,
                "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
                "AWS_REGION": "us-east-1",
                "AWS_ENDPOINT_URL": endpoint,
            }
            saved = {k: os.environ.get(k) for k in env}
            os.environ.update(env)
            try:
                # Streaming from S3 with a small read-ahead; the progress bar counts
                # the bytes downloaded (S3 sizes are not looked up in advance).
                with jetliner.open(uri, buffer_blocks=2, batch_size=5_000, progress=True) as reader:
                    rows = sum(batch.height for batch in reader)
                print(f"streamed {rows:,} rows with credentials from the environment")
            finally:
                for k, v in saved.items():
                    if v is None:
                        os.environ.pop(k, None)
                    else:
                        os.environ[k] = v

            # Errors: a missing object, then bad credentials (a SourceError).
            try:
                jetliner.read_avro("s3://flights/daily/1999-12-31.avro", storage_options=storage)
            except FileNotFoundError as err:
                print(f"\n{type(err).__name__}: {err}")
            try:
                jetliner.read_avro(
                    uri, storage_options={**storage, "aws_secret_access_key": "not-the-secret"}
                )
            except jetliner.SourceError as err:
                print(f"{type(err).__name__}: {err}")

            assert df.height == 20_000 and all_days.height == 60_000 and rows == 20_000


if __name__ == "__main__":
    main()

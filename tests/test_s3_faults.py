"""S3 under faults, and what S3 reads download.

A proxy on 127.0.0.1 (s3support.FaultProxy) sits between jetliner and the S3 server
and answers chosen requests with 500/503/429, waits past the client's timeout, or
cuts a body midway. The tests check that retries give byte-identical results, that
the number of attempts follows max_retries, that giving up raises SourceError in
bounded time, and that early stopping (head, n_rows, closing a reader) stops the
downloads: the proxy counts the bytes it sends.
"""

from __future__ import annotations

import itertools
import time
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

pytest.register_assert_rewrite("s3support")  # before the import below: it is also a plugin

import jetliner  # noqa: E402
from s3support import (  # noqa: E402
    Request,
    S3Env,
    avro_bytes,
    big_avro_bytes,
    gets_at,
    gets_from,
    gets_within,
    records,
)

pytest_plugins = ["s3support"]  # the s3 fixtures: server, proxy, clean environment
pytestmark = pytest.mark.timeout(120)

CHUNK = 256 * 1024  # read_chunk_size of most tests here: several GETs per file
MiB = 1024 * 1024


@pytest.fixture(scope="module")
def data() -> bytes:
    """~2.3 MB, 60,000 rows: 9 chunks of CHUNK."""
    return avro_bytes(records(60_000), sync_interval=32 * 1024)


@pytest.fixture
def obj(s3: S3Env, data: bytes) -> str:
    return s3.put("faults/records.avro", data)


@pytest.fixture
def expected(tmp_path: Path, data: bytes) -> pl.DataFrame:
    path = tmp_path / "records.avro"
    path.write_bytes(data)
    return jetliner.read_avro(path)


def read(s3: S3Env, uri: str, *, max_retries: int | None = None, **kwargs: object) -> pl.DataFrame:
    extra = {} if max_retries is None else {"max_retries": str(max_retries)}
    return jetliner.read_avro(uri, storage_options=s3.options(**extra), read_chunk_size=CHUNK, **kwargs)  # type: ignore[arg-type]


def attempts_at(s3: S3Env, offset: int) -> list[Request]:
    """The GETs whose range starts at offset, in order."""
    return [r for r in s3.proxy.gets() if r.range_start == offset]


# --- Retries ---------------------------------------------------------------------------


@pytest.mark.parametrize("status", [500, 502, 503, 504, 429])
@pytest.mark.parametrize("where", ["open", "mid-file"])
def test_transient_statuses_are_retried(
    s3: S3Env, obj: str, expected: pl.DataFrame, status: int, where: str
) -> None:
    offset = 0 if where == "open" else 2 * CHUNK
    s3.proxy.fail(status, times=2, when=gets_at(offset))
    assert_frame_equal(read(s3, obj), expected)
    assert [r.status for r in attempts_at(s3, offset)] == [status, status, 206]


@pytest.mark.parametrize("max_retries", [0, 1, 2, 4])
def test_attempts_follow_max_retries(s3: S3Env, obj: str, expected: pl.DataFrame, max_retries: int) -> None:
    at = gets_at(CHUNK)
    # max_retries failures in a row: the last attempt succeeds.
    s3.proxy.fail(503, times=max_retries, when=at)
    assert_frame_equal(read(s3, obj, max_retries=max_retries), expected)
    assert [r.status for r in attempts_at(s3, CHUNK)] == [503] * max_retries + [206]

    # One more failure than that: SourceError after exactly max_retries + 1 attempts.
    s3.proxy.reset()
    s3.proxy.fail(503, times=max_retries + 1, when=at)
    with pytest.raises(jetliner.SourceError, match=f"gave up after {max_retries + 1} attempts") as info:
        read(s3, obj, max_retries=max_retries)
    assert type(info.value) is jetliner.SourceError
    assert [r.status for r in attempts_at(s3, CHUNK)] == [503] * (max_retries + 1)


def test_default_is_two_retries_with_1s_2s_backoff(
    s3: S3Env, obj: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The documented defaults, unshortened: 3 attempts, 1 s then 2 s apart."""
    monkeypatch.delenv("JETLINER_S3_RETRY_BASE_MS")
    s3.proxy.fail(503, times=100)
    start = time.monotonic()
    with pytest.raises(jetliner.SourceError, match="gave up after 3 attempts"):
        jetliner.read_avro(obj, storage_options=s3.options())
    elapsed = time.monotonic() - start
    tries = s3.proxy.gets()
    assert len(tries) == 3
    gaps = [b.time - a.time for a, b in itertools.pairwise(tries)]
    assert 1.0 <= gaps[0] < 1.35 and 2.0 <= gaps[1] < 2.5, gaps  # +10% jitter at most
    assert elapsed < 4.0


def test_backoff_doubles(
    s3: S3Env, obj: str, expected: pl.DataFrame, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("JETLINER_S3_RETRY_BASE_MS", "100")
    s3.proxy.fail(429, times=4)
    assert_frame_equal(read(s3, obj, max_retries=4), expected)
    tries = attempts_at(s3, 0)
    gaps = [b.time - a.time for a, b in itertools.pairwise(tries)]
    for gap, want in zip(gaps, [0.1, 0.2, 0.4, 0.8], strict=True):
        assert want <= gap < want * 1.1 + 0.25, gaps


def test_exhausted_retries_fail_in_bounded_time(s3: S3Env, obj: str) -> None:
    s3.proxy.fail(500, times=1000, when=gets_at(CHUNK))
    start = time.monotonic()
    with pytest.raises(jetliner.SourceError, match="gave up after 4 attempts"):
        read(s3, obj, max_retries=3)
    # 50 + 100 + 200 ms of backoff, plus a little jitter and the requests.
    assert time.monotonic() - start < 2.0


@pytest.mark.parametrize(
    ("status", "kind"),
    [
        (403, jetliner.PermissionError),
        (404, jetliner.FileNotFoundError),
        (400, jetliner.SourceError),
        (412, jetliner.SourceError),
    ],
)
def test_non_retryable_errors_fail_at_once(s3: S3Env, obj: str, status: int, kind: type[Exception]) -> None:
    s3.proxy.fail(status, times=100, when=gets_at(CHUNK))
    start = time.monotonic()
    with pytest.raises(kind):
        read(s3, obj, max_retries=5)
    assert time.monotonic() - start < 1.0
    assert len(attempts_at(s3, CHUNK)) == 1


def test_unreachable_endpoint(s3: S3Env, obj: str) -> None:
    start = time.monotonic()
    with pytest.raises(
        jetliner.SourceError, match=r"cannot reach S3.*gave up after 3 attempts.*refused"
    ) as info:
        jetliner.read_avro(obj, storage_options=s3.options(endpoint="http://127.0.0.1:1"))
    assert type(info.value) is jetliner.SourceError
    assert time.monotonic() - start < 2.0


def test_listing_is_retried(s3: S3Env, data: bytes) -> None:
    s3.put("faults/glob/a.avro", data)
    s3.put("faults/glob/b.avro", data)
    uri = f"s3://{s3.bucket}/faults/glob/*.avro"

    def is_list(r: Request) -> bool:
        return "list-type=2" in r.path

    s3.proxy.fail(503, times=2, when=is_list)
    assert read(s3, uri).height == 120_000
    assert [r.status for r in s3.proxy.log() if is_list(r)] == [503, 503, 200]
    s3.proxy.reset()
    s3.proxy.fail(503, times=3, when=is_list)
    with pytest.raises(jetliner.SourceError, match="ListObjectsV2 failed: gave up after 3 attempts"):
        read(s3, uri)


# --- Bodies cut midway and timeouts ------------------------------------------------------


@pytest.mark.parametrize("offset", [0, 3 * CHUNK])
def test_body_cut_midway_resumes_the_rest(s3: S3Env, obj: str, expected: pl.DataFrame, offset: int) -> None:
    s3.proxy.cut(100_000, when=gets_at(offset))
    assert_frame_equal(read(s3, obj), expected)
    cut, resumed = attempts_at(s3, offset)[0], attempts_at(s3, offset + 100_000)
    assert cut.fault == "cut" and cut.body_bytes == 100_000
    # The retry asks for the remainder of the chunk only.
    assert [r.range for r in resumed] == [f"bytes={offset + 100_000}-{offset + CHUNK - 1}"]


def test_bodies_cut_again_and_again_give_up(s3: S3Env, obj: str) -> None:
    s3.proxy.cut(1000, times=1000, when=gets_within(CHUNK, 2 * CHUNK))
    with pytest.raises(jetliner.SourceError, match=r"gave up after 3 attempts.*ended after 1000"):
        read(s3, obj)
    assert len([r for r in s3.proxy.gets() if r.fault == "cut"]) == 3


def test_reply_later_than_the_timeout_is_retried(
    s3: S3Env, obj: str, expected: pl.DataFrame, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("JETLINER_S3_TIMEOUT_MS", "400")
    s3.proxy.delay(3.0, when=gets_at(CHUNK))
    start = time.monotonic()
    assert_frame_equal(read(s3, obj), expected)
    assert time.monotonic() - start < 2.5  # did not wait for the slow reply
    assert attempts_at(s3, CHUNK)[0].fault == "delay" and len(attempts_at(s3, CHUNK)) == 2


def test_body_stalled_midway_is_resumed(
    s3: S3Env, obj: str, expected: pl.DataFrame, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("JETLINER_S3_TIMEOUT_MS", "400")
    s3.proxy.stall(50_000, 3.0, when=gets_at(2 * CHUNK))
    start = time.monotonic()
    assert_frame_equal(read(s3, obj), expected)
    assert time.monotonic() - start < 2.5
    assert [r.range for r in attempts_at(s3, 2 * CHUNK + 50_000)] == [
        f"bytes={2 * CHUNK + 50_000}-{3 * CHUNK - 1}"
    ]


def test_timeouts_exhaust_retries_in_bounded_time(
    s3: S3Env, obj: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("JETLINER_S3_TIMEOUT_MS", "300")
    s3.proxy.delay(5.0, times=100)
    start = time.monotonic()
    with pytest.raises(jetliner.SourceError, match="gave up after 2 attempts"):
        read(s3, obj, max_retries=1)
    assert time.monotonic() - start < 2.0


def test_many_faults_same_bytes(s3: S3Env, obj: str, expected: pl.DataFrame) -> None:
    """A bad network: every chunk fails once in some way; the result is the same."""
    faults = iter(["500", "cut", "429", "503", "cut", "500"])
    seen: set[int] = set()

    def first_try_of_each_range(r: Request) -> bool:
        if not r.is_object_get or r.range_start is None or r.range_start % CHUNK or r.range_start in seen:
            return False
        seen.add(r.range_start)
        return True

    for fault in faults:
        if fault == "cut":
            s3.proxy.cut(12_345, when=first_try_of_each_range)
        else:
            s3.proxy.fail(int(fault), when=first_try_of_each_range)
    for _ in range(2):
        df = read(s3, obj, max_retries=1)
        assert_frame_equal(df, expected)
    assert len([r for r in s3.proxy.gets() if r.fault]) == 6


# --- What reads download ---------------------------------------------------------------


@pytest.fixture(scope="module")
def big() -> tuple[bytes, int]:
    """A ~48 MB uncompressed file."""
    return big_avro_bytes(48 * MiB)


@pytest.fixture
def big_obj(s3: S3Env, big: tuple[bytes, int]) -> str:
    return s3.put("early/big.avro", big[0])


@pytest.fixture
def big_local(tmp_path: Path, big: tuple[bytes, int]) -> Path:
    path = tmp_path / "big.avro"
    path.write_bytes(big[0])
    return path


def test_full_read_downloads_the_object_once(s3: S3Env, big: tuple[bytes, int], big_obj: str) -> None:
    df = jetliner.read_avro(big_obj, storage_options=s3.options())
    assert df.height == big[1]
    assert s3.proxy.bytes_sent() == len(big[0])
    # 4 MiB ranged GETs, each byte once.
    assert len(s3.proxy.gets()) == -(-len(big[0]) // (4 * MiB))


@pytest.mark.parametrize("chunk", [None, CHUNK], ids=["auto-4MiB", "256KiB"])
def test_head_downloads_a_small_prefix(
    s3: S3Env, big: tuple[bytes, int], big_obj: str, big_local: Path, chunk: int | None
) -> None:
    size = len(big[0])
    step = chunk or 4 * MiB
    lf = jetliner.scan_avro(big_obj, storage_options=s3.options(), read_chunk_size=chunk)
    header = s3.proxy.bytes_sent()  # scan_avro reads the header when it is called
    df = lf.head(1000).collect()
    assert_frame_equal(df, jetliner.scan_avro(big_local).head(1000).collect())
    total = s3.proxy.bytes_sent()
    gets = len(s3.proxy.gets())
    print(f"\nhead(1000), chunk {step}: {total} of {size} bytes ({header} for the schema), {gets} GETs")
    # The header read takes one small GET, the query one chunk.
    assert header <= min(step, 64 * 1024 if chunk is None else step) and total - header <= step
    assert total < size / 10

    s3.proxy.reset()
    df = jetliner.read_avro(big_obj, n_rows=1000, storage_options=s3.options(), read_chunk_size=chunk)
    assert df.height == 1000
    assert s3.proxy.bytes_sent() <= step
    assert len(s3.proxy.gets()) == 1


def test_projection_and_predicate_agree_with_local(
    s3: S3Env, big_obj: str, big_local: Path, big: tuple[bytes, int]
) -> None:
    def query(lf: pl.LazyFrame) -> pl.DataFrame:
        return lf.select("user_id", "amount", "status").filter(pl.col("amount") > 100).collect()

    got = query(jetliner.scan_avro(big_obj, storage_options=s3.options()))
    assert_frame_equal(got, query(jetliner.scan_avro(big_local)))
    assert got.height > 0 and got.columns == ["user_id", "amount", "status"]
    # Avro is row-oriented: a projection saves decoding, not downloading.
    assert jetliner._api._last_scan_stats["columns"] == ["user_id", "amount", "status"]


def test_closing_a_reader_cancels_its_downloads(s3: S3Env, big_obj: str) -> None:
    """Every GET after the first chunk is held back 3 s by the proxy; closing the
    reader after its first batch returns at once and nothing more arrives."""
    s3.proxy.delay(3.0, times=1000, when=gets_from(CHUNK))
    reader = jetliner.open(big_obj, storage_options=s3.options(), batch_size=1000, read_chunk_size=CHUNK)
    first = next(reader)
    assert 1000 <= first.height < 10_000
    time.sleep(0.3)  # let the reader start its next requests
    assert s3.proxy.active >= 1  # held back at the proxy
    start = time.monotonic()
    reader.close()
    assert time.monotonic() - start < 1.0
    bytes_read = reader._stats()["bytes_read"]
    assert bytes_read == CHUNK  # the first chunk and nothing else


@pytest.mark.parametrize(
    ("buffer_blocks", "buffer_bytes", "most"),
    [(1, 64 * MiB, 3), (2, 64 * MiB, 4), (8, 64 * MiB, 10), (8, 4 * MiB, 4)],
)
def test_read_ahead_is_bounded(
    s3: S3Env,
    big_obj: str,
    big: tuple[bytes, int],
    buffer_blocks: int,
    buffer_bytes: int,
    most: int,
) -> None:
    """Read-ahead keeps at most min(buffer_blocks, buffer_bytes / 2 / chunk) chunks in
    flight beyond the ones being read (the proxy slows each GET so they overlap)."""
    s3.proxy.delay(0.05, times=10_000)
    df = jetliner.read_avro(
        big_obj,
        storage_options=s3.options(),
        read_chunk_size=MiB,
        buffer_blocks=buffer_blocks,
        buffer_bytes=buffer_bytes,
    )
    assert df.height == big[1]
    print(f"\nbuffer_blocks={buffer_blocks}, buffer_bytes={buffer_bytes}: {s3.proxy.max_active} GETs at once")
    assert 1 <= s3.proxy.max_active <= most
    assert s3.proxy.bytes_sent() == len(big[0])


def test_object_replaced_while_reading(s3: S3Env) -> None:
    """Every GET after the first carries If-Match: a new version of the object
    fails the read instead of mixing bytes of two versions."""
    key = "faults/replaced.avro"
    uri = s3.put(key, avro_bytes(records(60_000)))
    reader = jetliner.open(
        uri, storage_options=s3.options(), read_chunk_size=CHUNK, buffer_blocks=1, batch_size=1000
    )
    next(reader)
    s3.server.put(s3.bucket, key, avro_bytes(records(60_000, 1)))
    s3.uploaded.pop(uri)
    with pytest.raises(jetliner.SourceError, match="changed while it was being read"):
        for _ in reader:
            pass
    assert 412 in [r.status for r in s3.proxy.gets()]
    reader.close()


def test_wrong_region_is_corrected(s3: S3Env, obj: str, expected: pl.DataFrame) -> None:
    """A request signed for the wrong region is refused with the bucket's region
    (AuthorizationHeaderMalformed ... expecting "us-east-1"); the reader follows it."""
    opts = s3.options(region="eu-west-3", endpoint=f"http://localhost:{s3.proxy.port}")
    assert_frame_equal(jetliner.read_avro(obj, storage_options=opts, read_chunk_size=CHUNK), expected)
    assert [r.status for r in s3.proxy.gets()[:2]] == [400, 206]
    glob = obj.rsplit("/", 1)[0] + "/rec*.avro"
    assert jetliner.read_avro(glob, storage_options=opts).height == 60_000

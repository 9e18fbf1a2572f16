"""The long-run hostile suite: mutated and truncated Avro files, read until time runs out.

Files of every codec and schema family are written with fastavro, then broken at
random (truncated, bits flipped, ranges overwritten, inserted, deleted or
duplicated, huge varints planted, the header hit more often than the rest) and
read through every API in a worker process. Every read must end, within a time
bound, in a frame that Polars can walk value by value or in a typed
``JetlinerError`` (never ``InternalError``, another exception, a signal, a hang
or runaway memory). Inputs that break a rule are saved for reproduction.

    python tests/hostile.py --seconds 600 [--seed N] [--out DIR]

``make hostile`` runs it for ``HOSTILE_TIME`` (default 10 minutes); ``make test``
runs a short smoke run of it (tests/test_hostile_suite.py).
"""

from __future__ import annotations

import argparse
import datetime as dt
import decimal
import io
import json
import os
import random
import select
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import fastavro

CODECS = ["null", "deflate", "snappy", "zstandard", "bzip2", "xz"]
READ_TIMEOUT = 20.0  # seconds for all the reads of one input
RSS_LIMIT = 2 << 30  # bytes; the reads run with max_block_size=64 MiB


def _schemas() -> dict[str, tuple[Any, Any]]:
    """Schema families and a function of i giving record i."""
    utc = dt.timezone.utc
    fams: dict[str, tuple[Any, Any]] = {}
    fams["flat"] = (
        {
            "type": "record",
            "name": "Flat",
            "fields": [
                {"name": n, "type": t}
                for n, t in [
                    ("l", "long"),
                    ("i", "int"),
                    ("d", "double"),
                    ("f", "float"),
                    ("b", "boolean"),
                    ("s", "string"),
                    ("y", "bytes"),
                ]
            ],
        },
        lambda i: {
            "l": i * 1_000_003 - 2**40,
            "i": -i,
            "d": i / 3,
            "f": float(i),
            "b": i % 2 == 0,
            "s": "x" * (i % 40) + "é",
            "y": bytes([i % 256]) * (i % 9),
        },
    )
    fams["nullable"] = (
        {
            "type": "record",
            "name": "Nullable",
            "fields": [
                {"name": "a", "type": ["null", "long"]},
                {"name": "b", "type": ["string", "null"]},
                {"name": "c", "type": ["null", "double"]},
            ],
        },
        lambda i: {"a": None if i % 3 else i, "b": None if i % 5 == 0 else str(i), "c": i * 0.5},
    )
    fams["logical"] = (
        {
            "type": "record",
            "name": "Logical",
            "fields": [
                {"name": "e", "type": {"type": "enum", "name": "E", "symbols": ["A", "B", "C"]}},
                {"name": "fx", "type": {"type": "fixed", "name": "F", "size": 4}},
                {
                    "name": "dec",
                    "type": {"type": "bytes", "logicalType": "decimal", "precision": 9, "scale": 2},
                },
                {
                    "name": "decf",
                    "type": {
                        "type": "fixed",
                        "name": "D",
                        "size": 8,
                        "logicalType": "decimal",
                        "precision": 12,
                        "scale": 3,
                    },
                },
                {"name": "u", "type": {"type": "string", "logicalType": "uuid"}},
                {"name": "day", "type": {"type": "int", "logicalType": "date"}},
                {"name": "tm", "type": {"type": "int", "logicalType": "time-millis"}},
                {"name": "tu", "type": {"type": "long", "logicalType": "time-micros"}},
                {"name": "ts", "type": {"type": "long", "logicalType": "timestamp-millis"}},
                {"name": "tsu", "type": {"type": "long", "logicalType": "timestamp-micros"}},
                {"name": "lts", "type": {"type": "long", "logicalType": "local-timestamp-micros"}},
            ],
        },
        lambda i: {
            "e": "ABC"[i % 3],
            "fx": bytes([i % 256] * 4),
            "dec": decimal.Decimal(i) / 100,
            "decf": decimal.Decimal(-i) / 1000,
            "u": str(uuid.UUID(int=i)),
            "day": dt.date(2020, 1, 1) + dt.timedelta(days=i % 1000),
            "tm": dt.time(i % 24, i % 60),
            "tu": dt.time(i % 24, i % 60, i % 60, i % 1000),
            "ts": dt.datetime(2021, 1, 1, tzinfo=utc) + dt.timedelta(seconds=i),
            "tsu": dt.datetime(2021, 1, 1, tzinfo=utc) + dt.timedelta(microseconds=i),
            "lts": dt.datetime(2021, 1, 1) + dt.timedelta(minutes=i),
        },
    )
    fams["nested"] = (
        {
            "type": "record",
            "name": "Nested",
            "fields": [
                {"name": "id", "type": "long"},
                {
                    "name": "items",
                    "type": {
                        "type": "array",
                        "items": {
                            "type": "record",
                            "name": "Item",
                            "fields": [
                                {"name": "k", "type": "string"},
                                {"name": "v", "type": {"type": "array", "items": ["null", "int"]}},
                            ],
                        },
                    },
                },
                {"name": "m", "type": {"type": "map", "values": {"type": "array", "items": "long"}}},
                {
                    "name": "inner",
                    "type": {
                        "type": "record",
                        "name": "In",
                        "fields": [
                            {
                                "name": "deep",
                                "type": {
                                    "type": "record",
                                    "name": "Deep",
                                    "fields": [{"name": "z", "type": "int"}],
                                },
                            }
                        ],
                    },
                },
            ],
        },
        lambda i: {
            "id": i,
            "items": [{"k": str(j), "v": [None if (j + i) % 4 == 0 else j] * (j % 3)} for j in range(i % 4)],
            "m": {f"k{j}": list(range(j)) for j in range(i % 3)},
            "inner": {"deep": {"z": -i}},
        },
    )
    fams["union"] = (
        {
            "type": "record",
            "name": "U",
            "fields": [
                {
                    "name": "u",
                    "type": [
                        "null",
                        "int",
                        "string",
                        {"type": "record", "name": "R", "fields": [{"name": "q", "type": "double"}]},
                    ],
                }
            ],
        },
        lambda i: {"u": [None, i, str(i), {"q": i / 7}][i % 4]},
    )
    fams["recursive"] = (
        {
            "type": "record",
            "name": "Node",
            "fields": [{"name": "v", "type": "int"}, {"name": "next", "type": ["null", "Node"]}],
        },
        lambda i: {"v": i, "next": {"v": i + 1, "next": None} if i % 2 else None},
    )
    fams["toplevel"] = ({"type": "array", "items": "long"}, lambda i: list(range(i % 6)))
    return fams


def make_corpus(directory: Path, rows: int = 300) -> list[Path]:
    """One file per (schema family, codec), with several blocks each."""
    paths = []
    for name, (schema, record) in _schemas().items():
        parsed = fastavro.parse_schema(schema)
        for codec in CODECS:
            buf = io.BytesIO()
            fastavro.writer(buf, parsed, (record(i) for i in range(rows)), codec=codec, sync_interval=2000)
            path = directory / f"{name}-{codec}.avro"
            path.write_bytes(buf.getvalue())
            paths.append(path)
    return paths


def mutate(data: bytes, rng: random.Random) -> tuple[bytes, str]:
    """One or a few random damages, and a description of them."""
    b = bytearray(data)
    done = []
    for _ in range(rng.choice([1, 1, 1, 2, 3])):
        if not b:
            break
        # A third of the damage lands in the first 512 bytes: the header.
        at = rng.randrange(min(len(b), 512)) if rng.random() < 0.33 else rng.randrange(len(b))
        kind = rng.choice(
            ["truncate", "flip", "flip", "overwrite", "insert", "delete", "duplicate", "varint", "zero"]
        )
        n = rng.choice([1, 2, 4, 16, 100])
        if kind == "truncate":
            del b[at:]
        elif kind == "flip":
            b[at] ^= 1 << rng.randrange(8)
        elif kind == "overwrite":
            b[at : at + n] = bytes(rng.randrange(256) for _ in range(len(b[at : at + n])))
        elif kind == "zero":
            b[at : at + n] = bytes(len(b[at : at + n]))
        elif kind == "insert":
            b[at:at] = bytes(rng.randrange(256) for _ in range(n))
        elif kind == "delete":
            del b[at : at + n]
        elif kind == "duplicate":
            b[at:at] = b[at : at + n * 16]
        elif kind == "varint":
            # A huge or negative length/count where a varint may be.
            b[at : at + 10] = rng.choice(
                [b"\xff" * 9 + b"\x01", b"\xfe\xff\xff\xff\x0f", b"\x01", b"\x81\x80\x80\x80\x08"]
            )
        done.append(f"{kind}@{at}")
    return bytes(b), ",".join(done)


WORKER = r"""
import json, resource, sys, warnings
import jetliner, polars as pl
warnings.simplefilter("ignore")
OPTS = [{}, {"ignore_errors": True}, {"batch_size": 7}]

def walk(df):
    # Touch every value: a frame with bad offsets or validity would fail or crash here.
    df.hash_rows().sum()
    df.null_count()
    df.to_arrow()

for line in sys.stdin:
    path = line.strip()
    outcomes = []
    try:
        jetliner.read_avro_schema(path)
        outcomes.append("schema ok")
    except jetliner.JetlinerError as e:
        outcomes.append(type(e).__name__)
    calls = [lambda o=o: jetliner.read_avro(path, max_block_size=64 << 20, **o) for o in OPTS]
    calls.append(lambda: jetliner.scan_avro(path, max_block_size=64 << 20).head(50).collect())
    lenient = lambda: jetliner.scan_avro(path, max_block_size=64 << 20, ignore_errors=True)
    calls.append(lambda: lenient().select(pl.all().first()).collect())
    def first_column():
        with jetliner.open(path, max_block_size=64 << 20, ignore_errors=True) as r:
            cols = list(r.polars_schema)[:1]
        return jetliner.read_avro(path, columns=cols, max_block_size=64 << 20, ignore_errors=True)
    calls.append(first_column)
    bad = None
    for call in calls:
        try:
            walk(call())
            outcomes.append("ok")
        except jetliner.InternalError as e:
            bad = f"InternalError: {e}"
        except jetliner.JetlinerError as e:
            outcomes.append(type(e).__name__)
        except Exception as e:
            bad = f"{type(e).__name__}: {e}"
        if bad:
            break
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(json.dumps({"bad": bad, "outcomes": outcomes, "rss": rss}), flush=True)
"""


class Worker:
    """A Python process that reads the files it is sent, one reply per file."""

    def __init__(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-c", WORKER],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def read(self, path: Path, timeout: float) -> dict[str, Any]:
        assert self.proc.stdin and self.proc.stdout
        try:
            self.proc.stdin.write(f"{path}\n")
            self.proc.stdin.flush()
        except BrokenPipeError:
            # The worker died on an earlier file's after-effects (or at start): that is
            # a finding to report, not a reason for the harness itself to stop.
            return self._died()
        ready, _, _ = select.select([self.proc.stdout], [], [], timeout)
        if not ready:
            self.kill()
            return {"bad": f"hang: no answer within {timeout:.0f} s"}
        line = self.proc.stdout.readline()
        if not line:
            return self._died()
        reply: dict[str, Any] = json.loads(line)
        return reply

    def _died(self) -> dict[str, Any]:
        code = self.proc.wait()
        err = self.proc.stderr.read()[-2000:] if self.proc.stderr else ""
        return {"bad": f"worker died (exit {code}): {err}"}

    def kill(self) -> None:
        self.proc.kill()
        self.proc.wait()

    def close(self) -> None:
        if self.proc.poll() is None:
            assert self.proc.stdin
            self.proc.stdin.close()
            self.proc.wait(timeout=30)


def run(seconds: float, seed: int, out: Path, log: Any = sys.stdout) -> dict[str, Any]:
    """Mutate and read until time runs out; return a summary."""
    rng = random.Random(seed)
    out.mkdir(parents=True, exist_ok=True)
    stats: dict[str, Any] = {"inputs": 0, "reads": 0, "failures": [], "outcomes": {}, "seed": seed}
    with tempfile.TemporaryDirectory(prefix="jetliner-hostile-") as tmp:
        corpus = make_corpus(Path(tmp))
        originals = {p: p.read_bytes() for p in corpus}
        worker = Worker()
        case = Path(tmp) / "case.avro"
        deadline = time.monotonic() + seconds
        last_report = time.monotonic()
        while time.monotonic() < deadline:
            src = rng.choice(corpus)
            data, how = mutate(originals[src], rng)
            case.write_bytes(data)
            started = time.monotonic()
            reply = worker.read(case, READ_TIMEOUT)
            stats["inputs"] += 1
            for o in reply.get("outcomes", []):
                stats["outcomes"][o] = stats["outcomes"].get(o, 0) + 1
                stats["reads"] += 1
            problem = reply.get("bad")
            if not problem and reply.get("rss", 0) > RSS_LIMIT:
                problem = f"peak RSS {reply['rss'] >> 20} MiB"
            if problem:
                saved = out / f"fail-{stats['inputs']:06d}-{src.stem}.avro"
                saved.write_bytes(data)
                stats["failures"].append(
                    {
                        "input": str(saved),
                        "from": src.name,
                        "mutation": how,
                        "problem": problem[:500],
                        "seconds": round(time.monotonic() - started, 2),
                    }
                )
                print(f"FAIL {saved.name}: {problem[:300]}", file=log, flush=True)
                worker.kill()
                worker = Worker()
            elif reply.get("rss", 0) > RSS_LIMIT // 2:
                worker.close()  # start afresh so one input's peak does not mask the next
                worker = Worker()
            if time.monotonic() - last_report > 60:
                last_report = time.monotonic()
                print(
                    f"{stats['inputs']} inputs, {stats['reads']} reads, {len(stats['failures'])} failures",
                    file=log,
                    flush=True,
                )
        worker.close()
    stats["seconds"] = seconds
    return stats


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=600)
    parser.add_argument("--seed", type=int, default=int.from_bytes(os.urandom(4), "little"))
    parser.add_argument("--out", type=Path, default=Path("hostile-failures"))
    args = parser.parse_args()
    stats = run(args.seconds, args.seed, args.out)
    print(json.dumps(stats, indent=1))
    return 1 if stats["failures"] else 0


if __name__ == "__main__":
    sys.exit(main())

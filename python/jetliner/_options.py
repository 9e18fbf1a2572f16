"""Checking the user's options and turning them into the engine's JSON."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any, Union

import polars as pl

from .exceptions import ConfigurationError

Source = Union[str, "os.PathLike[str]"]
Sources = Union[Source, Sequence[Source]]

DEFAULT_BATCH_SIZE = 100_000
DEFAULT_BUFFER_BLOCKS = 4
DEFAULT_BUFFER_BYTES = 64 * 1024 * 1024
DEFAULT_MAX_BLOCK_SIZE = 512 * 1024 * 1024
# How deeply a column's type may nest (each Struct or List one level, a map two),
# and the most that max_schema_depth may allow: the engine's schema.DefaultMaxDepth
# and schema.MaxDepthLimit. Polars crashes on types nested a few hundred levels
# deep; the maximum stays well below the depths measured to fail.
DEFAULT_MAX_SCHEMA_DEPTH = 32
MAX_SCHEMA_DEPTH_LIMIT = 128

# Upper bounds of the numeric options, the same as the engine's (core/scan/options.go,
# which checks them again for any other caller). Each lies far above any setting
# that helps a read, and low enough that no value can make the engine allocate
# absurdly: buffer_blocks=2**32 used to abort the process with Go's "out of memory",
# and 2**62 to hang the read.
MAX_BATCH_SIZE = 2**32 - 1  # rows: the most a DataFrame of Polars' default build holds
MAX_BUFFER_BLOCKS = 2**16  # batches queued ahead, a queue allocated up front
MAX_BUFFER_BYTES = 2**40  # 1 TiB of read-ahead: more memory than a read can use
MAX_READ_CHUNK_SIZE = 2**30  # 1 GiB per request: a request's buffer is allocated whole
MAX_BLOCK_SIZE_CAP = 2**40  # 1 TiB: a larger block would not fit in memory to decode
MAX_ROWS = 2**63 - 1  # n_rows and row_index_offset: what the engine counts rows in
MAX_UINT32_INDEX = 2**32 - 1  # the largest value of Polars' default (UInt32) row index
MAX_RETRIES = 100  # storage_options max_retries: S3 attempts after the first, each with backoff

STORAGE_KEYS = (
    "aws_access_key_id",
    "aws_secret_access_key",
    "aws_session_token",
    "region",
    "endpoint",
    "max_retries",
)


def reject_unknown(function: str, unknown: Mapping[str, Any]) -> None:
    """Raise for keyword arguments a function does not take."""
    if unknown:
        names = ", ".join(repr(k) for k in sorted(unknown))
        raise ConfigurationError(f"{function}() got unexpected keyword argument(s) {names}")


def normalize_sources(source: Any) -> list[str]:
    """Turn a path, a URI or a list of them into a list of strings."""
    if isinstance(source, (str, os.PathLike)):
        items = [source]
    elif isinstance(source, Sequence) and not isinstance(source, (bytes, bytearray)):
        items = list(source)
    else:
        raise ConfigurationError(
            f"Expected str or Path (or a list of them) as source, got {type(source).__name__}"
        )
    if not items:
        raise ConfigurationError("source is an empty list")
    out = []
    for item in items:
        if isinstance(item, os.PathLike):
            item = os.fspath(item)
        if not isinstance(item, str):
            raise ConfigurationError(f"Expected str or Path for each source, got {type(item).__name__}")
        if not item:
            raise ConfigurationError("a source path is empty")
        out.append(os.path.expanduser(item) if item.startswith("~") else item)
    return out


def _int(name: str, value: Any, *, minimum: int, maximum: int, allow_none: bool = False) -> int | None:
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        kind = "an integer or None" if allow_none else "an integer"
        raise ConfigurationError(f"{name} must be {kind}, not {type(value).__name__}")
    if value < minimum:
        rule = "be non-negative" if minimum == 0 else f"be at least {minimum}"
        raise ConfigurationError(f"{name} must {rule}, got {value}")
    if value > maximum:
        hint = " (None for no cap)" if name == "max_block_size" else ""
        raise ConfigurationError(f"{name} must be at most {maximum:,}{hint}, got {value:,}")
    return int(value)  # a plain int, for an int subclass's JSON


def _bool(name: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise ConfigurationError(f"{name} must be True or False, not {value!r}")
    return value


def _name(name: str, value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value:
        raise ConfigurationError(f"{name} must be a non-empty string or None, not {value!r}")
    return value


def check_storage_options(options: Any) -> dict[str, str] | None:
    """Check storage_options: known keys, values readable as strings."""
    if options is None:
        return None
    if not isinstance(options, Mapping):
        raise ConfigurationError(f"storage_options must be a dict, not {type(options).__name__}")
    out = {}
    for key, value in options.items():
        if key not in STORAGE_KEYS:
            raise ConfigurationError(
                f"unknown storage_options key {key!r}; expected one of {', '.join(STORAGE_KEYS)}"
            )
        if key == "max_retries":
            value = _max_retries(value)
        elif isinstance(value, bool):
            value = "true" if value else "false"
        elif isinstance(value, (int, float, Path)):
            value = str(value)
        if not isinstance(value, str):
            # Say which key, never the value: it may be a secret.
            raise ConfigurationError(
                f"storage_options[{key!r}] must be a string (or a number), not {type(value).__name__}"
            )
        out[key] = value
    return out


def _max_retries(value: Any) -> str:
    """max_retries as the engine takes it; checked here too, as the engine only
    looks at it when it opens an S3 source."""
    n = None
    if isinstance(value, int) and not isinstance(value, bool):
        n = value
    elif isinstance(value, str) and value.strip().isdigit():
        n = int(value)
    if n is None or not 0 <= n <= MAX_RETRIES:
        raise ConfigurationError(
            f"storage_options max_retries must be an integer from 0 to {MAX_RETRIES}, got {value!r}"
        )
    return str(n)


@lru_cache(maxsize=1)
def row_index_type() -> str:
    """The dtype of ``with_row_index`` in this Polars build: UInt32, or UInt64 in
    the 64-bit-index build."""
    dtype = pl.LazyFrame({"a": [0]}).with_row_index("i").collect_schema()["i"]
    return "uint64" if dtype == pl.UInt64 else "uint32"


def build(
    sources: Sequence[str],
    *,
    columns: Sequence[str] | None = None,
    n_rows: Any = None,
    row_index_name: Any = None,
    row_index_offset: Any = 0,
    glob: Any = True,
    include_file_paths: Any = None,
    ignore_errors: Any = False,
    storage_options: Mapping[str, str] | None = None,
    buffer_blocks: Any = DEFAULT_BUFFER_BLOCKS,
    buffer_bytes: Any = DEFAULT_BUFFER_BYTES,
    read_chunk_size: Any = None,
    batch_size: Any = DEFAULT_BATCH_SIZE,
    max_block_size: Any = DEFAULT_MAX_BLOCK_SIZE,
    max_schema_depth: Any = DEFAULT_MAX_SCHEMA_DEPTH,
) -> dict[str, Any]:
    """Validate every option and return the engine's option object."""
    opts: dict[str, Any] = {
        "sources": list(sources),
        "n_rows": _int("n_rows", n_rows, minimum=0, maximum=MAX_ROWS, allow_none=True),
        "row_index_name": _name("row_index_name", row_index_name),
        "row_index_offset": _int("row_index_offset", row_index_offset, minimum=0, maximum=MAX_ROWS),
        "row_index_type": row_index_type(),
        "glob": _bool("glob", glob),
        "include_file_paths": _name("include_file_paths", include_file_paths),
        "ignore_errors": _bool("ignore_errors", ignore_errors),
        "storage_options": check_storage_options(storage_options),
        "buffer_blocks": _int("buffer_blocks", buffer_blocks, minimum=1, maximum=MAX_BUFFER_BLOCKS),
        "buffer_bytes": _int("buffer_bytes", buffer_bytes, minimum=1, maximum=MAX_BUFFER_BYTES),
        "read_chunk_size": _int(
            "read_chunk_size", read_chunk_size, minimum=1, maximum=MAX_READ_CHUNK_SIZE, allow_none=True
        ),
        "batch_size": _int("batch_size", batch_size, minimum=1, maximum=MAX_BATCH_SIZE),
        "max_block_size": _int(
            "max_block_size", max_block_size, minimum=1, maximum=MAX_BLOCK_SIZE_CAP, allow_none=True
        ),
        "max_schema_depth": _int(
            "max_schema_depth", max_schema_depth, minimum=1, maximum=MAX_SCHEMA_DEPTH_LIMIT
        ),
    }
    if (
        opts["row_index_name"] is not None
        and opts["row_index_type"] == "uint32"
        and opts["row_index_offset"] > MAX_UINT32_INDEX
    ):
        # Not even the first row has an index then. An offset below this whose
        # rows run past 2**32-1 fails when the read gets there.
        raise ConfigurationError(
            f"row_index_offset {opts['row_index_offset']:,} is past the largest UInt32 row index "
            f"({MAX_UINT32_INDEX:,}); Polars' 64-bit-index runtime is needed (pip install 'polars[rt64]')"
        )
    if columns is not None:
        opts["columns"] = list(columns)
    if opts["n_rows"] is None:
        opts["n_rows"] = -1
    if opts["read_chunk_size"] is None:
        opts["read_chunk_size"] = 0
    if opts["max_block_size"] is None:
        opts["max_block_size"] = -1
    for key in ("row_index_name", "include_file_paths", "storage_options"):
        if opts[key] is None:
            del opts[key]
    return opts

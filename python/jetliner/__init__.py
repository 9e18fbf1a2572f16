"""jetliner: read and write Avro files, local or on S3, with Polars, fast.

The engine is written in Go and streams Arrow batches between Polars and Avro
without copying.

>>> import jetliner
>>> df = jetliner.read_avro("data.avro")  # doctest: +SKIP
>>> lf = jetliner.scan_avro("s3://bucket/events/*.avro")  # doctest: +SKIP
>>> jetliner.write_avro(df, "copy.avro", codec="zstd")  # doctest: +SKIP
"""

from __future__ import annotations

from ._api import open, read_avro, read_avro_schema, scan, scan_avro
from ._readers import AvroReader, MultiAvroReader
from ._writer import AvroWriter, sink_avro, write_avro
from .exceptions import (
    AuthenticationError,
    BadBlockError,
    CodecError,
    ConfigurationError,
    DecodeError,
    EncodeError,
    FileNotFoundError,
    ForkedProcessError,
    InternalError,
    JetlinerError,
    ParseError,
    PermissionError,
    SchemaError,
    SourceError,
)

__version__ = "0.1.0"

__all__ = [
    "AuthenticationError",
    "AvroReader",
    "AvroWriter",
    "BadBlockError",
    "CodecError",
    "ConfigurationError",
    "DecodeError",
    "EncodeError",
    "FileNotFoundError",
    "ForkedProcessError",
    "InternalError",
    "JetlinerError",
    "MultiAvroReader",
    "ParseError",
    "PermissionError",
    "SchemaError",
    "SourceError",
    "open",
    "read_avro",
    "read_avro_schema",
    "scan",
    "scan_avro",
    "sink_avro",
    "write_avro",
]

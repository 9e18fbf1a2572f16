"""The exceptions jetliner raises.

Every error is a :class:`JetlinerError`. Where Python has a matching built-in
exception, the jetliner class derives from it as well, so ``except FileNotFoundError``
and ``except ValueError`` work as they do with any other library.

The classes take their fields positionally in the order of the jetliner 0.2
package, ``(message, variant, path, ...)``, or by keyword, so code that builds them
(in its own tests, say) runs unchanged. Each one has ``to_dict()``, a ``str()`` that
leads with the kind of error and where it happened, a ``repr()`` with every field,
an HTML form for Jupyter, and survives pickling (Dask and ``multiprocessing`` send
them between processes).

This module imports nothing else from the package, so the exceptions can be
unpickled, and the engine's errors built, without loading anything else.
"""

from __future__ import annotations

import builtins
import errno
import html
from typing import Any, ClassVar

__all__ = [
    "AuthenticationError",
    "BadBlockError",
    "CodecError",
    "ConfigurationError",
    "DecodeError",
    "EncodeError",
    "FileNotFoundError",
    "ForkedProcessError",
    "InternalError",
    "JetlinerError",
    "ParseError",
    "PermissionError",
    "SchemaError",
    "SourceError",
]

# The look of jetliner's HTML reprs in Jupyter: the errors' below, the readers'
# in _repr.py (which takes it from here, so that this module needs nothing).
HTML_STYLE = (
    "<style>"
    ".jetliner-repr{font-family:var(--jp-code-font-family,monospace);font-size:12px;line-height:1.4}"
    ".jetliner-repr table{border-collapse:collapse;margin:4px 0}"
    ".jetliner-repr th,.jetliner-repr td{text-align:left;padding:1px 10px 1px 0;vertical-align:top}"
    ".jetliner-repr th{font-weight:bold}"
    ".jetliner-repr .jl-dim{opacity:.65}"
    ".jetliner-repr .jl-err{color:#c0392b}"
    "</style>"
)


def _rebuild(cls: type[JetlinerError], fields: dict[str, Any]) -> JetlinerError:
    """Make an error again from its fields: how pickle restores one."""
    return cls(**fields)


def _at(block_index: int | None, record_index: int | None, file_offset: int | None) -> str:
    """`` at block 3, record 7, offset 1024``, or what of it is known."""
    parts = []
    if block_index is not None:
        parts.append(f"block {block_index}")
    if record_index is not None:
        parts.append(f"record {record_index}")
    if file_offset is not None:
        parts.append(f"offset {file_offset}")
    return f" at {', '.join(parts)}" if parts else ""


class JetlinerError(Exception):
    """Base class of every jetliner error.

    Parameters
    ----------
    message
        What went wrong, in words.
    variant
        What exactly went wrong; the class's default when not given.
    path
        The file or S3 URI concerned, if any.

    Attributes
    ----------
    message
        What went wrong, in words.
    variant
        What exactly went wrong, finer than the class: for example
        ``"InvalidMagic"`` or ``"InvalidSyncMarker"`` for a ``ParseError``,
        ``"NotFound"`` for a ``FileNotFoundError``. The error-handling guide lists
        them.
    path
        The file or S3 URI concerned, if any.

    Examples
    --------
    >>> try:
    ...     df = jetliner.read_avro("file.avro")
    ... except jetliner.JetlinerError as e:
    ...     print(f"Jetliner error: {e}")
    ...     print(f"Variant: {e.variant}")
    """

    #: The variant of an error built without one.
    _default_variant: ClassVar[str] = "Unknown"
    #: The fields, in the order the constructor takes them positionally, then the
    #: keyword-only ones: what to_dict(), repr() and pickling show and keep.
    _fields: ClassVar[tuple[str, ...]] = ("message", "variant", "path")
    #: How str() names the kind of error.
    _label: ClassVar[str] = "Jetliner error"

    message: str
    variant: str
    path: str | None

    def __init__(self, message: str, variant: str | None = None, path: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.variant = variant or self._default_variant
        self.path = path

    def _where(self) -> str:
        """Where it happened, as str() shows it after the label."""
        return f" in '{self.path}'" if self.path else ""

    def __str__(self) -> str:
        return f"{self._label}{self._where()}: {self.message}"

    def __repr__(self) -> str:
        fields = ", ".join(f"{k}={v!r}" for k, v in self._field_values().items())
        return f"{type(self).__name__}({fields})"

    def _field_values(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self._fields}

    def to_dict(self) -> dict[str, Any]:
        """Return the error's fields as a plain dictionary (for logs, JSON, Dask).

        Returns
        -------
        dict
            ``message``, ``variant``, ``path`` and the class's own fields.
        """
        return self._field_values()

    def __reduce__(self) -> tuple[Any, ...]:
        # The default (the class called with self.args) would lose every field but
        # the message. Anything else set on the instance (__notes__, ...) is kept too.
        extra = {k: v for k, v in self.__dict__.items() if k not in self._fields}
        return (_rebuild, (type(self), self._field_values()), extra or None)

    def _repr_html_(self) -> str:
        # Jupyter shows this when an error object is displayed (e.g. an element of
        # reader.errors, or an exception caught and left as a cell's value).
        # Fields that are not known are left out.
        rows = "".join(
            f"<tr><th>{html.escape(k)}</th><td>{html.escape(str(v))}</td></tr>"
            for k, v in self.to_dict().items()
            if v is not None and v != "" and k not in ("message", "filepath")
        )
        return (
            f"{HTML_STYLE}<div class='jetliner-repr'>"
            f"<b class='jl-err'>{html.escape(type(self).__name__)}</b>: {html.escape(self.message)}"
            f"{f'<table>{rows}</table>' if rows else ''}</div>"
        )


class SourceError(JetlinerError):
    """The source cannot be reached or read (local I/O, S3 after retries).

    Variants from the engine: ``"Io"`` (a local file), ``"S3Error"``; the
    subclasses have their own.

    Examples
    --------
    >>> err = jetliner.SourceError("Not found", "NotFound", "/test/path.avro")
    >>> str(err)
    "Source error for '/test/path.avro': Not found"
    """

    _default_variant = "Source"
    _label = "Source error"

    def _where(self) -> str:
        return f" for '{self.path}'" if self.path else ""


class AuthenticationError(SourceError):
    """The credentials are missing, invalid or expired.

    S3's error code decides, not only the HTTP status: ``InvalidAccessKeyId``,
    ``SignatureDoesNotMatch``, ``ExpiredToken`` and gateways' own codes for an
    unknown key (versitygw's ``XAdminUserNotFound``, sent with a 404) all raise
    this, never ``FileNotFoundError``. Variant: ``"AuthenticationFailed"``.
    """

    _default_variant = "AuthenticationFailed"
    _label = "Authentication failed"


class FileNotFoundError(JetlinerError, builtins.FileNotFoundError):
    """A file, object or bucket does not exist, or a glob matched nothing.

    Also a ``builtins.FileNotFoundError`` (an ``OSError``), with ``errno`` ENOENT
    and ``filename`` the path. Variant: ``"NotFound"``.

    Examples
    --------
    >>> try:
    ...     df = jetliner.read_avro("missing.avro")
    ... except FileNotFoundError as e:
    ...     print(f"File not found: {e.path}")
    """

    _default_variant = "NotFound"
    _label = "File not found"

    def __init__(self, message: str, variant: str | None = None, path: str | None = None) -> None:
        JetlinerError.__init__(self, message, variant, path)
        # errno, strerror and filename, as the built-in sets them.
        builtins.FileNotFoundError.__init__(self, errno.ENOENT, message, path)

    def _where(self) -> str:
        return f" for '{self.path}'" if self.path else ""


class PermissionError(SourceError, builtins.PermissionError):
    """Access to the file or object is denied (the credentials are valid).

    Also a ``builtins.PermissionError`` (an ``OSError``), with ``errno`` EACCES and
    ``filename`` the path. Variant: ``"PermissionDenied"``.

    Examples
    --------
    >>> try:
    ...     df = jetliner.read_avro("s3://restricted-bucket/file.avro")
    ... except PermissionError:
    ...     print("Access denied!")
    """

    _default_variant = "PermissionDenied"
    _label = "Permission denied"

    def __init__(self, message: str, variant: str | None = None, path: str | None = None) -> None:
        SourceError.__init__(self, message, variant, path)
        builtins.PermissionError.__init__(self, errno.EACCES, message, path)


class SchemaError(JetlinerError):
    """The schema is invalid or unsupported, or the files of one read differ.

    Variants: ``"InvalidSchema"``, ``"UnsupportedType"``,
    ``"IncompatibleSchemas"`` (the files of one read differ),
    ``"ColumnNotFound"``.

    Attributes
    ----------
    schema_context
        The column concerned, when the error is about one.

    Examples
    --------
    >>> err = jetliner.SchemaError("Bad schema", "InvalidSchema", "/test.avro", "type mismatch")
    >>> str(err)
    "Schema error in '/test.avro': Bad schema (context: type mismatch)"
    """

    _default_variant = "Schema"
    _fields = ("message", "variant", "path", "schema_context")
    _label = "Schema error"

    schema_context: str | None

    def __init__(
        self,
        message: str,
        variant: str | None = None,
        path: str | None = None,
        schema_context: str | None = None,
    ) -> None:
        super().__init__(message, variant, path)
        self.schema_context = schema_context

    def __str__(self) -> str:
        context = f" (context: {self.schema_context})" if self.schema_context else ""
        return f"{super().__str__()}{context}"


class _Located(JetlinerError):
    """An error that points into a file: block, record and byte offsets.

    Attributes
    ----------
    block_index
        The position of the block in its file, from 0.
    record_index
        The record within the block, from 0, when known.
    file_offset
        The byte offset in the file: of the block, or 0 for the magic bytes.
    block_offset
        The byte offset within the (decompressed) block, when known.
    """

    _fields: ClassVar[tuple[str, ...]] = (
        "message",
        "variant",
        "path",
        "block_index",
        "record_index",
        "file_offset",
        "block_offset",
    )

    block_index: int | None
    record_index: int | None
    file_offset: int | None
    block_offset: int | None

    def __init__(
        self,
        message: str,
        variant: str | None = None,
        path: str | None = None,
        *,
        block_index: int | None = None,
        record_index: int | None = None,
        file_offset: int | None = None,
        block_offset: int | None = None,
    ) -> None:
        super().__init__(message, variant, path)
        self.block_index = block_index
        self.record_index = record_index
        self.file_offset = file_offset
        self.block_offset = block_offset

    def _where(self) -> str:
        return super()._where() + _at(self.block_index, self.record_index, self.file_offset)


class ParseError(_Located):
    """The data is not an Avro object container file, or its framing is broken.

    Positionally ``(message, variant, path, file_offset)``; ``block_index``,
    ``record_index`` and ``block_offset`` by keyword. Variants:
    ``"InvalidMagic"`` (``file_offset`` 0), ``"InvalidHeader"``,
    ``"InvalidSyncMarker"``, ``"InvalidBlock"``, ``"UnexpectedEof"``.

    Examples
    --------
    >>> try:
    ...     jetliner.read_avro("not-avro.txt")
    ... except jetliner.ParseError as e:
    ...     print(e.variant, e.file_offset)
    InvalidMagic 0
    """

    _default_variant = "Parse"
    _fields = ("message", "variant", "path", "file_offset", "block_index", "record_index", "block_offset")
    _label = "Parse error"

    def __init__(
        self,
        message: str,
        variant: str | None = None,
        path: str | None = None,
        file_offset: int | None = None,
        *,
        block_index: int | None = None,
        record_index: int | None = None,
        block_offset: int | None = None,
    ) -> None:
        super().__init__(
            message,
            variant,
            path,
            block_index=block_index,
            record_index=record_index,
            file_offset=file_offset,
            block_offset=block_offset,
        )


class CodecError(_Located):
    """The codec is unknown, or a block does not decompress.

    Positionally ``(message, variant, path, codec, block_index, file_offset)``;
    ``record_index`` and ``block_offset`` by keyword. Variants:
    ``"UnsupportedCodec"``, ``"DecompressionError"``, ``"OversizedOutput"``
    (a block past ``max_block_size``).

    Attributes
    ----------
    codec
        The file's codec (``"deflate"``, ``"snappy"``, ...), or ``""`` if unknown.
    """

    _default_variant = "Codec"
    _fields = (
        "message",
        "variant",
        "path",
        "codec",
        "block_index",
        "file_offset",
        "record_index",
        "block_offset",
    )
    _label = "Codec error"

    codec: str

    def __init__(
        self,
        message: str,
        variant: str | None = None,
        path: str | None = None,
        codec: str | None = "",
        block_index: int | None = None,
        file_offset: int | None = None,
        *,
        record_index: int | None = None,
        block_offset: int | None = None,
    ) -> None:
        super().__init__(
            message,
            variant,
            path,
            block_index=block_index,
            record_index=record_index,
            file_offset=file_offset,
            block_offset=block_offset,
        )
        self.codec = codec or ""

    def _where(self) -> str:
        codec = f" ({self.codec})" if self.codec else ""
        return codec + super()._where()


class DecodeError(_Located):
    """A record's bytes do not match the schema.

    Positionally ``(message, variant, path, block_index, record_index,
    file_offset, block_offset)``. Variant: ``"InvalidData"``.

    Examples
    --------
    >>> try:
    ...     df = jetliner.read_avro("corrupted.avro")
    ... except jetliner.DecodeError as e:
    ...     print(f"Error at block {e.block_index}, record {e.record_index}")
    ...     print(f"File offset: {e.file_offset}")
    """

    _default_variant = "Decode"
    _label = "Decode error"

    def __init__(
        self,
        message: str,
        variant: str | None = None,
        path: str | None = None,
        block_index: int | None = None,
        record_index: int | None = None,
        file_offset: int | None = None,
        block_offset: int | None = None,
    ) -> None:
        super().__init__(
            message,
            variant,
            path,
            block_index=block_index,
            record_index=record_index,
            file_offset=file_offset,
            block_offset=block_offset,
        )


class EncodeError(JetlinerError, ValueError):
    """A value cannot be written with the Avro schema: a number out of the
    range of an Avro int, a string that is none of an enum's symbols, a null in
    a field that is not nullable, a time of day with nanoseconds.

    Positionally ``(message, variant, path, column, row)``. Variants:
    ``"InvalidValue"``, ``"SchemaMismatch"`` (a frame given to
    :class:`AvroWriter` whose columns differ from the first one's).

    Attributes
    ----------
    column
        The column (``"a.b"`` for field ``b`` of Struct column ``a``, ``"a[]"``
        for the items of List column ``a``), when the error is about a value.
    row
        The row of the value, from 0, counted over everything the writer was given.

    Examples
    --------
    >>> try:
    ...     jetliner.write_avro(df, "out.avro", schema=schema)
    ... except jetliner.EncodeError as e:
    ...     print(e.column, e.row)
    """

    _default_variant = "InvalidValue"
    _fields = ("message", "variant", "path", "column", "row")
    _label = "Encode error"

    column: str | None
    row: int | None

    def __init__(
        self,
        message: str,
        variant: str | None = None,
        path: str | None = None,
        column: str | None = None,
        row: int | None = None,
    ) -> None:
        super().__init__(message, variant, path)
        self.column = column
        self.row = row

    def _where(self) -> str:
        where = super()._where()
        if self.column is not None:
            where += f" at column {self.column!r}"
            if self.row is not None:
                where += f", row {self.row}"
        return where


class ConfigurationError(JetlinerError, ValueError, TypeError):
    """An option has a bad value or type, or is unknown.

    ``str()`` is the message alone, as for any ``ValueError``. Variant:
    ``"Configuration"``.

    Examples
    --------
    >>> try:
    ...     reader = jetliner.open("file.avro", batch_size=-1)
    ... except ValueError:
    ...     print("Invalid configuration!")
    """

    _default_variant = "Configuration"

    def __str__(self) -> str:
        return self.message


class ForkedProcessError(JetlinerError, builtins.RuntimeError):
    """jetliner is used in a process forked after its engine started.

    The engine runs on Go's runtime, which starts when the first read loads it and
    whose threads ``fork`` does not copy: a read in such a child would hang
    forever, so every call there raises this instead. The usual cause is a
    ``multiprocessing`` pool with the ``fork`` start method (Linux's default before
    Python 3.14) created after a read in the parent. Use the ``spawn`` or
    ``forkserver`` start method (``multiprocessing.set_start_method("spawn")``, or
    ``multiprocessing.get_context("spawn").Pool()``), or start the processes before
    the first read: ``import jetliner`` alone does not start the engine.
    """

    _default_variant = "ForkedProcess"

    def __str__(self) -> str:
        return self.message


class InternalError(JetlinerError):
    """A bug in jetliner. Please report it with the file that caused it."""

    _default_variant = "Internal"
    _label = "Internal error"


class BadBlockError(JetlinerError):
    """A block skipped because of ``ignore_errors=True``.

    Readers list these in ``errors``; they are not raised.

    Attributes
    ----------
    kind
        The kind of failure: the name of the error that would have been raised
        without ``ignore_errors`` (``"ParseError"``, ``"CodecError"``,
        ``"DecodeError"``).
    variant
        What exactly failed: ``"InvalidSyncMarker"``, ``"DecompressionError"``,
        ``"InvalidData"``, ... (the variants of the exception classes).
    block_index
        The position of the block in its file, from 0.
    record_index
        The record within the block that failed, or ``None``.
    file_offset
        The byte offset of the block in the file.
    message
        What went wrong and, for a broken framing, which bytes were dropped.
    path
        The file or S3 URI; ``filepath`` is the same.

    Examples
    --------
    >>> with jetliner.AvroReader("file.avro", ignore_errors=True) as reader:
    ...     for df in reader:
    ...         process(df)
    ...
    ...     for err in reader.errors:
    ...         print(f"[{err.kind}] Block {err.block_index}: {err.message}")
    ...         # Or as dict for logging/serialization
    ...         log_error(err.to_dict())
    """

    _default_variant = "Unknown"
    _fields = ("kind", "block_index", "record_index", "file_offset", "message", "path", "variant")

    kind: str
    block_index: int | None
    record_index: int | None
    file_offset: int | None

    def __init__(
        self,
        kind: str,
        message: str,
        *,
        variant: str | None = None,
        path: str | None = None,
        filepath: str | None = None,
        block_index: int | None = None,
        record_index: int | None = None,
        file_offset: int | None = None,
    ) -> None:
        super().__init__(message, variant, path if path is not None else filepath)
        self.kind = kind
        self.block_index = block_index
        self.record_index = record_index
        self.file_offset = file_offset

    @property
    def filepath(self) -> str | None:
        """The file or S3 URI: the same as ``path`` (jetliner 0.2's name)."""
        return self.path

    def __str__(self) -> str:
        at = _at(self.block_index, self.record_index, self.file_offset)
        return f"{self.kind}{self._where()}{at}: {self.message}"

    def to_dict(self) -> dict[str, Any]:
        """Return the skipped block's fields as a plain dictionary.

        Returns
        -------
        dict
            ``kind``, ``block_index``, ``record_index``, ``file_offset``,
            ``message``, ``filepath`` (as jetliner 0.2 has them), ``path`` (the same)
            and ``variant``.
        """
        d = self._field_values()
        d["filepath"] = self.path
        return d


_BY_KIND: dict[str, type[JetlinerError]] = {
    cls.__name__: cls
    for cls in (
        SourceError,
        AuthenticationError,
        FileNotFoundError,
        PermissionError,
        ParseError,
        SchemaError,
        CodecError,
        DecodeError,
        EncodeError,
        ConfigurationError,
        InternalError,
    )
}


def from_engine(err: dict[str, Any]) -> JetlinerError:
    """Build the exception for an error reported by the Go engine."""
    cls = _BY_KIND.get(err.get("kind", ""), JetlinerError)
    fields: dict[str, Any] = {
        "message": err.get("message", "unknown error"),
        "variant": err.get("variant") or None,
        "path": err.get("path") or None,
    }
    if issubclass(cls, _Located):
        for key in ("block_index", "record_index", "file_offset"):
            fields[key] = err.get(key)
    if cls is CodecError:
        fields["codec"] = err.get("codec") or ""
    if cls is SchemaError:
        fields["schema_context"] = err.get("schema_context") or None
    if cls is EncodeError:
        fields["column"] = err.get("schema_context") or None
        fields["row"] = err.get("record_index")
    return cls(**fields)


def bad_block_from_engine(entry: dict[str, Any]) -> BadBlockError:
    """Build the BadBlockError for a block the engine skipped."""
    record = entry.get("record_index")
    return BadBlockError(
        entry.get("kind", ""),
        entry.get("message", ""),
        variant=entry.get("variant") or None,
        path=entry.get("path") or None,
        block_index=entry.get("block_index"),
        record_index=None if record is None or record < 0 else record,
        file_offset=entry.get("file_offset"),
    )

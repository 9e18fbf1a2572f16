"""The exceptions jetliner raises.

Every error is a :class:`JetlinerError`. Where Python has a matching built-in
exception, the jetliner class derives from it as well, so ``except FileNotFoundError``
and ``except ValueError`` work as they do with any other library.
"""

from __future__ import annotations

import builtins
from typing import Any

__all__ = [
    "AuthenticationError",
    "BadBlockError",
    "CodecError",
    "ConfigurationError",
    "DecodeError",
    "FileNotFoundError",
    "ForkedProcessError",
    "InternalError",
    "JetlinerError",
    "ParseError",
    "PermissionError",
    "SchemaError",
    "SourceError",
]


class JetlinerError(Exception):
    """Base class of every jetliner error.

    Attributes
    ----------
    message
        What went wrong, in words.
    variant
        The name of the error class, as reported by the engine.
    path
        The file or S3 URI concerned, if any.
    """

    variant: str = "JetlinerError"

    def __init__(self, message: str, *, path: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.path = path

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        from ._repr import error_repr

        return error_repr(self)

    def _repr_html_(self) -> str:
        # Jupyter shows this when an error object is displayed (e.g. an element of
        # reader.errors, or an exception caught and left as a cell's value).
        from ._repr import error_html

        return error_html(self)

    def to_dict(self) -> dict[str, Any]:
        """Return the error's fields as a plain dictionary."""
        return {"variant": self.variant, "message": self.message, "path": self.path}


class SourceError(JetlinerError):
    """The source cannot be reached or read (local I/O, S3 after retries)."""

    variant = "SourceError"


class AuthenticationError(SourceError):
    """The credentials are missing, invalid or expired."""

    variant = "AuthenticationError"


class FileNotFoundError(JetlinerError, builtins.FileNotFoundError):
    """A file, object or bucket does not exist, or a glob matched nothing."""

    variant = "FileNotFoundError"


class PermissionError(SourceError, builtins.PermissionError):
    """Access to the file or object is denied."""

    variant = "PermissionError"


class SchemaError(JetlinerError):
    """The schema is invalid or unsupported, or the files of one read differ."""

    variant = "SchemaError"


class _Located(JetlinerError):
    """An error that points at a block and record of a file."""

    def __init__(
        self,
        message: str,
        *,
        path: str | None = None,
        block_index: int | None = None,
        record_index: int | None = None,
        file_offset: int | None = None,
    ) -> None:
        super().__init__(message, path=path)
        self.block_index = block_index
        self.record_index = record_index
        self.file_offset = file_offset

    def to_dict(self) -> dict[str, Any]:
        d = super().to_dict()
        d.update(
            block_index=self.block_index,
            record_index=self.record_index,
            file_offset=self.file_offset,
        )
        return d


class ParseError(_Located):
    """The data is not an Avro object container file, or its framing is broken."""

    variant = "ParseError"


class CodecError(_Located):
    """The codec is unknown, or a block does not decompress."""

    variant = "CodecError"


class DecodeError(_Located):
    """A record's bytes do not match the schema."""

    variant = "DecodeError"


class ConfigurationError(JetlinerError, ValueError, TypeError):
    """An option has a bad value or type, or is unknown."""

    variant = "ConfigurationError"


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

    variant = "ForkedProcessError"


class InternalError(JetlinerError):
    """A bug in jetliner. Please report it with the file that caused it."""

    variant = "InternalError"


class BadBlockError(_Located):
    """A block skipped because of ``ignore_errors=True``.

    Readers list these in ``errors``; they are not raised.

    Attributes
    ----------
    kind
        The kind of failure: the name of the error that would have been raised
        without ``ignore_errors`` (``"ParseError"``, ``"CodecError"``, ``"DecodeError"``).
    block_index
        The position of the block in its file, from 0.
    record_index
        The record within the block that failed, or ``None``.
    file_offset
        The byte offset of the block in the file.
    """

    variant = "BadBlockError"

    def __init__(
        self,
        kind: str,
        message: str,
        *,
        path: str | None = None,
        block_index: int | None = None,
        record_index: int | None = None,
        file_offset: int | None = None,
    ) -> None:
        super().__init__(
            message,
            path=path,
            block_index=block_index,
            record_index=record_index,
            file_offset=file_offset,
        )
        self.kind = kind

    def __repr__(self) -> str:
        return (
            f"BadBlockError(kind={self.kind!r}, block_index={self.block_index}, "
            f"record_index={self.record_index}, file_offset={self.file_offset}, "
            f"path={self.path!r}, message={self.message!r})"
        )

    def to_dict(self) -> dict[str, Any]:
        d = super().to_dict()
        d["kind"] = self.kind
        return d


_BY_KIND: dict[str, type[JetlinerError]] = {
    cls.variant: cls
    for cls in (
        SourceError,
        AuthenticationError,
        FileNotFoundError,
        PermissionError,
        ParseError,
        SchemaError,
        CodecError,
        DecodeError,
        ConfigurationError,
        InternalError,
    )
}


def from_engine(err: dict[str, Any]) -> JetlinerError:
    """Build the exception for an error reported by the Go engine."""
    cls = _BY_KIND.get(err.get("kind", ""), JetlinerError)
    message = err.get("message", "unknown error")
    path = err.get("path") or None
    if issubclass(cls, _Located):
        return cls(
            message,
            path=path,
            block_index=err.get("block_index"),
            record_index=err.get("record_index"),
            file_offset=err.get("file_offset"),
        )
    return cls(message, path=path)

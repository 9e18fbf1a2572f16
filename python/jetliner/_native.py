"""Loading the Go engine and talking to its C ABI.

Every entry point of the shared library returns a JSON reply that this module
parses, turning ``{"ok": false, "error": ...}`` into the matching exception. ctypes
releases the GIL for the duration of each call, so decoding runs in parallel with
other Python threads.
"""

from __future__ import annotations

import ctypes
import json
import os
import signal
import sys
from pathlib import Path
from typing import Any

from .exceptions import InternalError, from_engine

_LIB_NAMES = {"darwin": "libjetliner.dylib", "win32": "jetliner.dll"}


def _library_path() -> Path:
    override = os.environ.get("JETLINER_LIBRARY")
    if override:
        return Path(override)
    return Path(__file__).with_name(_LIB_NAMES.get(sys.platform, "libjetliner.so"))


class ArrowSchema(ctypes.Structure):
    """The Arrow C data interface's ``struct ArrowSchema``."""


class ArrowArray(ctypes.Structure):
    """The Arrow C data interface's ``struct ArrowArray``."""


ArrowSchema._fields_ = [
    ("format", ctypes.c_char_p),
    ("name", ctypes.c_char_p),
    ("metadata", ctypes.c_char_p),
    ("flags", ctypes.c_int64),
    ("n_children", ctypes.c_int64),
    ("children", ctypes.c_void_p),
    ("dictionary", ctypes.c_void_p),
    ("release", ctypes.CFUNCTYPE(None, ctypes.POINTER(ArrowSchema))),
    ("private_data", ctypes.c_void_p),
]
ArrowArray._fields_ = [
    ("length", ctypes.c_int64),
    ("null_count", ctypes.c_int64),
    ("offset", ctypes.c_int64),
    ("n_buffers", ctypes.c_int64),
    ("n_children", ctypes.c_int64),
    ("buffers", ctypes.c_void_p),
    ("children", ctypes.c_void_p),
    ("dictionary", ctypes.c_void_p),
    ("release", ctypes.CFUNCTYPE(None, ctypes.POINTER(ArrowArray))),
    ("private_data", ctypes.c_void_p),
]


class ArrowArrayStream(ctypes.Structure):
    """The Arrow C stream interface's ``struct ArrowArrayStream``, as raw storage."""

    _fields_ = [("_opaque", ctypes.c_void_p * 5)]


def _load() -> ctypes.CDLL:
    path = _library_path()
    if not path.exists():
        raise ImportError(
            f"jetliner's engine library is missing at {path}. "
            "Build it with `make build` (needs Go), or reinstall with `pip install .`."
        )
    lib = ctypes.CDLL(str(path))
    reply = ctypes.c_void_p  # freed with jl_free after reading
    for name, args in {
        "jl_scan_open": [ctypes.c_char_p],
        "jl_scan_schema": [ctypes.c_uint64, ctypes.POINTER(ArrowSchema)],
        "jl_scan_stream": [ctypes.c_uint64, ctypes.POINTER(ArrowArrayStream)],
        "jl_scan_next": [ctypes.c_uint64, ctypes.POINTER(ArrowArray)],
        "jl_scan_empty": [ctypes.c_uint64, ctypes.POINTER(ArrowArray)],
        "jl_scan_stats": [ctypes.c_uint64],
        "jl_scan_close": [ctypes.c_uint64],
        "jl_count": [ctypes.c_char_p],
    }.items():
        fn = getattr(lib, name)
        fn.argtypes = args
        fn.restype = reply
    lib.jl_free.argtypes = [ctypes.c_void_p]
    lib.jl_free.restype = None
    lib.jl_allocated_bytes.argtypes = []
    lib.jl_allocated_bytes.restype = ctypes.c_int64
    for name in ("jl_interrupt_watch", "jl_interrupt_count"):
        fn = getattr(lib, name)
        fn.argtypes = []
        fn.restype = ctypes.c_uint64
    lib.jl_interrupt_unwatch.argtypes = []
    lib.jl_interrupt_unwatch.restype = None
    return lib


lib = _load()


def call(name: str, *args: Any) -> dict[str, Any]:
    """Call an entry point and return its reply, raising the error it reports."""
    ptr = getattr(lib, name)(*args)
    if not ptr:
        raise InternalError(f"{name} returned no reply")
    try:
        reply: dict[str, Any] = json.loads(ctypes.string_at(ptr).decode("utf-8"))
    finally:
        lib.jl_free(ptr)
    if not reply.get("ok"):
        raise from_engine(reply.get("error", {}))
    return reply


def allocated_bytes() -> int:
    """Bytes of Arrow memory the engine has handed out and not yet had back."""
    return int(lib.jl_allocated_bytes())


class InterruptWatch:
    """Notices Ctrl-C (SIGINT) while Polars runs a lazy query on its own threads.

    Python raises ``KeyboardInterrupt`` only in the main thread, which waits inside
    ``collect()`` until the query ends; and a Jupyter kernel removes Polars' own
    SIGINT hook before every cell. While a watch is active the engine counts
    SIGINTs instead, and the reading thread raises ``KeyboardInterrupt`` at the
    next batch (see ``cgo/interrupt.c``). Only done while Python's SIGINT handler
    is its default one: a program with a handler of its own keeps it.
    """

    def __init__(self) -> None:
        self._active = signal.getsignal(signal.SIGINT) is signal.default_int_handler
        self._seen = lib.jl_interrupt_watch() if self._active else 0

    def interrupted(self) -> bool:
        """Whether a SIGINT arrived since the watch began."""
        return self._active and lib.jl_interrupt_count() != self._seen

    def stop(self) -> None:
        if self._active:
            self._active = False
            lib.jl_interrupt_unwatch()

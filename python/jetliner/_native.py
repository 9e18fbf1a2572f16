"""Loading the Go engine and talking to its C ABI.

Every entry point of the shared library returns a JSON reply that this module
parses, turning ``{"ok": false, "error": ...}`` into the matching exception. ctypes
releases the GIL for the duration of each call, so decoding runs in parallel with
other Python threads.

The library is loaded on first use, not at import: loading it starts the Go
runtime, whose threads do not survive ``fork``. A process forked after that (a
``multiprocessing`` pool with the ``fork`` start method, say) would hang on its
first call into the engine, so every call there raises
:class:`~jetliner.ForkedProcessError` instead (see :func:`library`).
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import signal
import sys
import threading
import time
from pathlib import Path
from typing import Any

from .exceptions import ForkedProcessError, InternalError, from_engine

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
        "jl_writer_open": [ctypes.c_char_p],
        "jl_writer_write": [ctypes.c_uint64, ctypes.c_void_p],
        "jl_writer_close": [ctypes.c_uint64],
        "jl_writer_cancel": [ctypes.c_uint64],
        "jl_writer_abort": [ctypes.c_uint64],
        "jl_writer_free": [ctypes.c_uint64],
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
    lib.jl_interrupt_forward.argtypes = [ctypes.c_uint64]
    lib.jl_interrupt_forward.restype = ctypes.c_int
    return lib


_lib: ctypes.CDLL | None = None
_lib_pid = 0  # the process that loaded the library, whose Go runtime runs
# Held while the library loads, and across fork() (see _hold_across_fork): a
# child is never forked with the load half done.
_load_lock = threading.Lock()


def library() -> ctypes.CDLL:
    """The engine's library, loaded on first use.

    Raises
    ------
    ForkedProcessError
        In a process forked after the library was loaded: the Go runtime's threads
        were not copied by ``fork``, and a call into it would wait for them forever.
    """
    global _lib, _lib_pid
    lib = _lib
    if lib is None:
        with _load_lock:
            if _lib is None:
                _lib = _load()
                _lib_pid = os.getpid()
            lib = _lib
    if _lib_pid != os.getpid():
        raise ForkedProcessError(_forked_message(_lib_pid))
    return lib


def forked() -> bool:
    """Whether this process was forked after the library was loaded (in another)."""
    return _lib is not None and _lib_pid != os.getpid()


def _forked_message(parent: int) -> str:
    return (
        f"jetliner cannot be used in this process: it was forked from process {parent} "
        "after jetliner's engine had started there, and the engine (Go's runtime) does "
        "not survive fork, so a read here would hang. Start worker processes with the "
        "'spawn' or 'forkserver' method instead: multiprocessing.set_start_method('spawn') "
        "at the start of the main module, or multiprocessing.get_context('spawn').Pool(...) "
        "(ProcessPoolExecutor(mp_context=multiprocessing.get_context('spawn')) for "
        "concurrent.futures). Processes forked before the first read are fine."
    )


def _hold_across_fork() -> None:
    # fork() waits for a load in progress on another thread, and the child starts
    # with the lock free (only the forking thread is copied).
    os.register_at_fork(
        before=_load_lock.acquire,
        after_in_parent=_load_lock.release,
        after_in_child=_load_lock.release,
    )


if hasattr(os, "register_at_fork"):
    _hold_across_fork()


def call(name: str, *args: Any) -> dict[str, Any]:
    """Call an entry point and return its reply, raising the error it reports."""
    lib = library()
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
    return int(library().jl_allocated_bytes())


# -- Ctrl-C during a lazy read -------------------------------------------------------
# The SIGINTs counted while watches are active (cgo/interrupt.c) are shared by all
# of them. Each is dealt with once: raised by a reading thread, or forwarded to the
# main thread. _claimed is the count up to which that was done.
_watch_lock = threading.Lock()
_watches: set[InterruptWatch] = set()
_claimed = 0
_watchdog: threading.Thread | None = None
_WATCHDOG_TICK = 0.05  # seconds; how soon a paused read's SIGINT reaches the main thread


def _main_waits_in_polars() -> bool:
    """Whether the main thread is inside a call into Polars (collect(), the next
    batch of collect_batches(), a sink): Python code of the ``polars`` package is
    where it stands. Then the query is what it waits for, and a reading thread's
    KeyboardInterrupt reaches it through Polars."""
    frame = sys._current_frames().get(threading.main_thread().ident or 0)
    if frame is None:
        return False
    module = str(frame.f_globals.get("__name__", ""))
    return module == "polars" or module.startswith("polars.")


def _forward(lib: ctypes.CDLL) -> None:
    """Hand a SIGINT to the main thread's own handler (Python's), as if jetliner
    were not watching: KeyboardInterrupt is raised there, also out of a sleep."""
    main = threading.main_thread().ident
    if main is None:
        return
    if lib.jl_interrupt_forward(ctypes.c_uint64(main)) != 0:
        # Ours is no longer in front (the last watch just left, or the program
        # set a handler): the signal reaches whatever is installed.
        # (OSError: the main thread is gone, the interpreter is shutting down.)
        with contextlib.suppress(OSError, ValueError):
            signal.pthread_kill(main, signal.SIGINT)


def _take_sigint(lib: ctypes.CDLL, *, reading: bool) -> bool:
    """Deal with a SIGINT no one has dealt with, if there is one. While the main
    thread waits in Polars, the reading thread (``reading``) takes it and returns
    True, to raise KeyboardInterrupt; anything else the main thread is doing (the
    caller's own code between the batches of collect_batches()) gets it forwarded,
    as it would without jetliner."""
    global _claimed
    count = int(lib.jl_interrupt_count())
    with _watch_lock:
        if count <= _claimed:
            return False
        if _main_waits_in_polars():
            if not reading:
                return False  # the reading thread raises it at its next batch
            _claimed = count
            return True
        _claimed = count
        _forward(lib)
        return False


def _watch_paused_reads() -> None:
    """While watches are active: a read paused between batches (collect_batches()
    whose caller is busy elsewhere) cannot raise, so its SIGINTs are forwarded from
    here."""
    global _watchdog
    lib = library()
    while True:
        with _watch_lock:
            if not _watches:
                _watchdog = None
                return
        _take_sigint(lib, reading=False)
        time.sleep(_WATCHDOG_TICK)


class InterruptWatch:
    """Notices Ctrl-C (SIGINT) while Polars runs a lazy query on its own threads.

    Python raises ``KeyboardInterrupt`` only in the main thread, which waits inside
    ``collect()`` until the query ends; and a Jupyter kernel removes Polars' own
    SIGINT hook before every cell. While a watch is active the engine counts
    SIGINTs instead, and the reading thread raises ``KeyboardInterrupt`` at the
    next batch (see ``cgo/interrupt.c``), if the main thread is waiting in Polars.
    If it is not (it runs the caller's code between the batches of
    ``collect_batches()``), the signal is handed on to the main thread's own
    handler instead, by the reading thread or, while the read is paused, by a
    watchdog thread. Only done while Python's SIGINT handler is its default one: a
    program with a handler of its own keeps it.

    A query whose main thread waits outside Polars' Python code (a C consumer of
    ``collect_batches().__arrow_c_stream__()``, say) gets its KeyboardInterrupt
    when that call returns.
    """

    def __init__(self) -> None:
        global _claimed, _watchdog
        self._active = signal.getsignal(signal.SIGINT) is signal.default_int_handler
        if not self._active:
            return
        self._lib = library()
        with _watch_lock:
            count = int(self._lib.jl_interrupt_watch())
            if not _watches:
                _claimed = count
            _watches.add(self)
            if _watchdog is None:
                _watchdog = threading.Thread(target=_watch_paused_reads, name="jetliner-sigint", daemon=True)
                _watchdog.start()

    def interrupted(self) -> bool:
        """Whether a SIGINT arrived that this reading thread is to raise."""
        return self._active and _take_sigint(self._lib, reading=True)

    def stop(self) -> None:
        global _claimed
        if not self._active:
            return
        self._active = False
        with _watch_lock:
            _watches.discard(self)
            self._lib.jl_interrupt_unwatch()
            if _watches:
                return
            # The last watch: Python's handler is back. A SIGINT counted and not
            # dealt with (it came as the read ended) goes to the main thread now.
            count = int(self._lib.jl_interrupt_count())
            if count > _claimed:
                _claimed = count
                _forward(self._lib)

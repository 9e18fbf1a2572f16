"""Build hook: compile the Go engine into the package as a shared library.

`pip install .` and `pip install -e .` both run build_py, which runs
`go build -buildmode=c-shared` and places the library inside python/jetliner/ (so
editable installs find it) and in the build tree (so wheels carry it).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from setuptools import Distribution, setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
LIB_NAME = {"darwin": "libjetliner.dylib", "win32": "jetliner.dll"}.get(sys.platform, "libjetliner.so")


def build_engine() -> Path:
    """Compile the engine into python/jetliner/ and return the library's path."""
    go = shutil.which("go")
    if go is None:
        raise RuntimeError("building jetliner needs Go (https://go.dev/dl/) on PATH")
    out = ROOT / "python" / "jetliner" / LIB_NAME
    env = dict(os.environ, CGO_ENABLED="1")
    subprocess.run(
        [go, "build", "-buildmode=c-shared", "-trimpath", "-ldflags=-s -w", "-o", str(out), "./cgo"],
        cwd=ROOT,
        env=env,
        check=True,
    )
    # The generated C header is of no use to Python.
    out.with_suffix(".h").unlink(missing_ok=True)
    return out


class BuildPyWithEngine(build_py):
    def run(self) -> None:
        lib = build_engine()
        super().run()
        if not getattr(self, "editable_mode", False):
            target = Path(self.build_lib) / "jetliner" / LIB_NAME
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(lib, target)


class BinaryDistribution(Distribution):
    """Mark the wheel as platform-specific: it carries a native library."""

    def has_ext_modules(self) -> bool:
        return True


setup(cmdclass={"build_py": BuildPyWithEngine}, distclass=BinaryDistribution)

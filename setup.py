"""Build hook: compile the Go engine into the package as a shared library.

`pip install .`, `pip install -e .` and `python -m build` all run build_py, which
runs `go build -buildmode=c-shared` and places the library inside python/jetliner/
(so editable installs find it) and in the build tree (so wheels carry it).

The wheel is tagged for what it holds: the engine is loaded with ctypes and uses no
CPython API, so one wheel serves every Python 3 of a platform (`py3-none-<platform>`).
On Linux the platform is the manylinux tag of the oldest glibc the library works
with, read from the symbol versions it needs.
"""

from __future__ import annotations

import os
import shutil
import struct
import subprocess
import sys
from pathlib import Path

from setuptools import Distribution, setup
from setuptools.command.bdist_wheel import bdist_wheel
from setuptools.command.build_py import build_py
from setuptools.errors import SetupError

ROOT = Path(__file__).resolve().parent
LIB_NAME = {"darwin": "libjetliner.dylib", "win32": "jetliner.dll"}.get(sys.platform, "libjetliner.so")
LIB = ROOT / "python" / "jetliner" / LIB_NAME

# The shared libraries a manylinux wheel may link against without carrying them
# (PEP 600: those every glibc-based distribution has).
MANYLINUX_LIBS = {
    "libc.so.6",
    "libpthread.so.0",
    "libdl.so.2",
    "libm.so.6",
    "librt.so.1",
    "libgcc_s.so.1",
    "ld-linux-x86-64.so.2",
    "ld-linux-aarch64.so.1",
}


def _go_env() -> dict[str, str]:
    """The environment of `go build`: cgo on, and on macOS the architecture that
    cibuildwheel asks for when it builds for the other one (ARCHFLAGS)."""
    env = dict(os.environ, CGO_ENABLED="1")
    if sys.platform == "darwin":
        archs = os.environ.get("ARCHFLAGS", "").split("-arch")[1:]
        archs = [a.strip() for a in archs if a.strip()]
        if len(archs) == 1:
            env["GOARCH"] = {"x86_64": "amd64", "arm64": "arm64"}[archs[0]]
            flags = f"-arch {archs[0]}"
            env["CGO_CFLAGS"] = f"{env.get('CGO_CFLAGS', '')} {flags}".strip()
            env["CGO_LDFLAGS"] = f"{env.get('CGO_LDFLAGS', '')} {flags}".strip()
    return env


_built = False


def build_engine() -> Path:
    """Compile the engine into python/jetliner/ (once per build) and return its path.

    Failures are SetupErrors, which setuptools reports as one ``error: ...`` line
    at the end of the build's output (a traceback would bury it).
    """
    global _built
    if _built:
        return LIB
    go = shutil.which("go")
    if go is None:
        raise SetupError(
            "building jetliner needs Go on PATH (https://go.dev/dl/, the version go.mod names) and a C compiler; "
            "or install a prebuilt wheel"
        )
    cmd = [go, "build", "-buildmode=c-shared", "-trimpath", "-ldflags=-s -w", "-o", str(LIB), "./cgo"]
    print(" ".join(cmd), flush=True)
    done = subprocess.run(cmd, cwd=ROOT, env=_go_env(), check=False)
    if done.returncode != 0:
        raise SetupError(
            f"`go build` of the jetliner engine failed (exit code {done.returncode}); its output is above. "
            "cgo needs a C compiler (gcc or clang) on PATH"
        )
    # The generated C header is of no use to Python.
    LIB.with_suffix(".h").unlink(missing_ok=True)
    _built = True
    return LIB


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


class BdistWheelForAnyPython(bdist_wheel):
    """Tag the wheel py3-none-<platform>, manylinux on Linux."""

    def get_tag(self) -> tuple[str, str, str]:
        plat = super().get_tag()[2]
        if plat.startswith("linux_"):
            plat = manylinux_tag(build_engine(), plat.removeprefix("linux_")) or plat
        return "py3", "none", plat


# --- reading the library's ELF dynamic section and symbol versions -----------------

_SHT_DYNAMIC = 6
_SHT_GNU_VERNEED = 0x6FFFFFFE
_DT_NEEDED = 1


def elf_dependencies(path: Path) -> tuple[set[str], set[str]]:
    """The libraries an ELF shared object needs (DT_NEEDED) and the symbol versions
    it needs of them (``GLIBC_2.17``, ...)."""
    data = path.read_bytes()
    if data[:4] != b"\x7fELF":
        raise SetupError(f"{path} is not an ELF file")
    is64, order = data[4] == 2, "<" if data[5] == 1 else ">"
    if is64:
        shoff, shentsize, shnum = struct.unpack_from(order + "Q10xHH", data, 0x28)
        shdr, dyn = order + "IIQQQQIIQQ", order + "qQ"
    else:
        shoff, shentsize, shnum = struct.unpack_from(order + "I10xHH", data, 0x20)
        shdr, dyn = order + "IIIIIIIIII", order + "iI"
    sections = [struct.unpack_from(shdr, data, shoff + i * shentsize) for i in range(shnum)]

    def string(strtab: int, at: int) -> str:
        start = sections[strtab][4] + at
        return data[start : data.index(b"\0", start)].decode()

    needed: set[str] = set()
    versions: set[str] = set()
    for _name, kind, _flags, _addr, offset, size, link, info, _align, _entsize in sections:
        if kind == _SHT_DYNAMIC:
            step = struct.calcsize(dyn)
            for at in range(offset, offset + size, step):
                tag, value = struct.unpack_from(dyn, data, at)
                if tag == _DT_NEEDED:
                    needed.add(string(link, value))
        elif kind == _SHT_GNU_VERNEED:
            at = offset
            for _ in range(info):  # Elf_Verneed: version, cnt, file, aux, next
                _version, count, _file, aux, following = struct.unpack_from(order + "HHIII", data, at)
                entry = at + aux
                for _ in range(count):  # Elf_Vernaux: hash, flags, other, name, next
                    _hash, _vflags, _other, name, step = struct.unpack_from(order + "IHHII", data, entry)
                    versions.add(string(link, name))
                    entry += step
                at += following
    return needed, versions


def manylinux_tag(lib: Path, arch: str) -> str | None:
    """``manylinux_<major>_<minor>_<arch>`` for the newest glibc symbol version the
    library needs, or None if it needs a library manylinux does not allow."""
    needed, versions = elf_dependencies(lib)
    if not needed <= MANYLINUX_LIBS:
        return None
    glibc = [_version(v.removeprefix("GLIBC_")) for v in versions if v.startswith("GLIBC_")]
    if not glibc:
        return None  # not linked against glibc (musl, say): keep the plain linux tag
    major, minor = max(glibc)
    return f"manylinux_{major}_{minor}_{arch}"


def _version(text: str) -> tuple[int, int]:
    """``"2.2.5"`` -> ``(2, 2)``: manylinux tags name a major and minor glibc."""
    parts = [int(p) for p in text.split(".")] + [0]
    return parts[0], parts[1]


setup(
    cmdclass={"build_py": BuildPyWithEngine, "bdist_wheel": BdistWheelForAnyPython},
    distclass=BinaryDistribution,
)

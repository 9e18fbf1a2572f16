"""The package installs from every artifact: from a clean copy of the repository
``python -m build`` makes an sdist and a wheel; the sdist holds what a build needs
and nothing built; the wheel is tagged ``py3-none-<platform>`` (manylinux for the
glibc its library needs) and carries the library and ``py.typed``; ``pip install``
of the sdist in a fresh venv reads a file; and a build without Go ends with one
line saying so.

One build serves every test here (module fixture). It reuses Go's build and module
caches, so it takes a minute or less; the index (or pip's cache) provides the build
backend and Polars.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tarfile
import venv
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "examples" / "data" / "flights.avro"
SMOKE = ROOT / "tests" / "smoke_read.py"
LIB_NAME = {"darwin": "libjetliner.dylib", "win32": "jetliner.dll"}.get(sys.platform, "libjetliner.so")

pytestmark = [pytest.mark.packaging, pytest.mark.timeout(300)]

PIP_QUIET = ["--quiet", "--disable-pip-version-check", "--no-input"]


@dataclass
class Artifacts:
    clone: Path
    sdist: Path
    wheel: Path


def _clean_copy(dest: Path) -> Path:
    """The files a fresh clone of the working tree would have (tracked and new,
    not ignored), so that nothing built here (the library, caches) leaks in."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.decode()
    for name in filter(None, listed.split("\0")):
        src = ROOT / name
        if src.is_file():  # not a file deleted from the working tree
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / name)
    return dest


def _run(
    cmd: list[str], *, cwd: Path | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(cmd, capture_output=True, text=True, cwd=cwd, env=env)
    assert done.returncode == 0, f"{' '.join(cmd)} failed:\n{done.stdout}\n{done.stderr}"
    return done


@pytest.fixture(scope="module")
def artifacts(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Artifacts]:
    clone = _clean_copy(tmp_path_factory.mktemp("clone"))
    assert not list(clone.rglob(LIB_NAME))
    dist = tmp_path_factory.mktemp("dist")
    _run([sys.executable, "-m", "build", "--outdir", str(dist), str(clone)])
    (sdist,) = dist.glob("*.tar.gz")
    (wheel,) = dist.glob("*.whl")
    yield Artifacts(clone, sdist, wheel)


def test_sdist_holds_the_sources_and_nothing_built(artifacts: Artifacts) -> None:
    with tarfile.open(artifacts.sdist) as tar:
        top = artifacts.sdist.name.removesuffix(".tar.gz")
        names = {m.name.removeprefix(f"{top}/") for m in tar.getmembers() if m.isfile()}
    for needed in ("go.mod", "go.sum", "LICENSE", "setup.py", "pyproject.toml", "README.md"):
        assert needed in names
    assert "cgo/main.go" in names and "python/jetliner/py.typed" in names
    # Every Go and C file of the engine, as git has them.
    sources = {
        p.relative_to(artifacts.clone).as_posix()
        for d in ("core", "cgo")
        for p in (artifacts.clone / d).rglob("*")
        if p.is_file()
    }
    assert sources <= names, sorted(sources - names)
    built = [n for n in names if n.endswith((".so", ".dylib", ".dll", ".pyc")) or n.endswith("libjetliner.h")]
    assert built == []
    assert not any(n.startswith(("tests/", "build/", ".venv/", ".tools/")) for n in names)


def test_wheel_is_tagged_for_any_python_3(artifacts: Artifacts) -> None:
    name, version, python, abi, platform_tag = artifacts.wheel.name.removesuffix(".whl").split("-")
    assert (name, python, abi) == ("jetliner", "py3", "none")
    if sys.platform.startswith("linux"):
        assert re.fullmatch(r"manylinux_2_\d+_(x86_64|aarch64)", platform_tag), platform_tag
    elif sys.platform == "darwin":
        assert platform_tag.startswith("macosx_"), platform_tag
    with zipfile.ZipFile(artifacts.wheel) as whl:
        names = set(whl.namelist())
        wheel_meta = whl.read(f"jetliner-{version}.dist-info/WHEEL").decode()
        metadata = whl.read(f"jetliner-{version}.dist-info/METADATA").decode()
    assert f"jetliner/{LIB_NAME}" in names
    assert "jetliner/py.typed" in names
    assert f"jetliner-{version}.dist-info/licenses/LICENSE" in names
    assert f"Tag: py3-none-{platform_tag}" in wheel_meta
    assert "Root-Is-Purelib: false" in wheel_meta
    assert "License-Expression: Apache-2.0" in metadata
    # pyarrow is an extra, not a requirement.
    requires = [line for line in metadata.splitlines() if line.startswith("Requires-Dist:")]
    assert any(r.startswith("Requires-Dist: polars") for r in requires)
    assert not [r for r in requires if "pyarrow" in r and "extra ==" not in r]
    assert 'Requires-Dist: pyarrow>=16; extra == "pyarrow"' in requires


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="manylinux tags are Linux's")
def test_manylinux_tag_matches_the_glibc_the_library_needs(artifacts: Artifacts) -> None:
    """auditwheel reads the library's symbol versions on its own: its verdict is the tag."""
    tag = artifacts.wheel.name.removesuffix(".whl").split("-")[-1]
    shown = _run([sys.executable, "-m", "auditwheel", "show", str(artifacts.wheel)]).stdout
    assert f'consistent with\nthe following platform tag: "{tag}"' in shown, shown
    assert "libc.so.6" in shown


def test_wheel_reads_a_file(artifacts: Artifacts, tmp_path: Path) -> None:
    target = tmp_path / "site"
    with zipfile.ZipFile(artifacts.wheel) as whl:
        whl.extractall(target)
    env = dict(os.environ, PYTHONPATH=str(target))
    out = _run([sys.executable, str(SMOKE), str(SAMPLE)], env=env, cwd=tmp_path).stdout
    assert out.startswith(str(target / "jetliner" / "__init__.py"))


def test_sdist_installs_in_a_fresh_venv_and_reads_a_file(artifacts: Artifacts, tmp_path: Path) -> None:
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    python = env_dir / ("Scripts" if sys.platform == "win32" else "bin") / "python"
    _run([str(python), "-m", "pip", "install", *PIP_QUIET, str(artifacts.sdist)], cwd=tmp_path)
    out = _run([str(python), str(SMOKE), str(SAMPLE)], cwd=tmp_path).stdout
    assert str(env_dir) in out.split()[0]  # the installed package, not this checkout
    assert out.split()[1:] == ["20000", "10"]
    listed = _run([str(python), "-m", "pip", "list", "--format=freeze", "--disable-pip-version-check"]).stdout
    assert "pyarrow" not in listed  # reading needs no pyarrow


def test_building_without_go_ends_with_one_clear_line(artifacts: Artifacts, tmp_path: Path) -> None:
    # PATH without any directory that holds a `go`.
    path = os.pathsep.join(
        d for d in os.environ.get("PATH", "").split(os.pathsep) if d and not (Path(d) / "go").exists()
    )
    env = dict(os.environ, PATH=path)
    env.pop("GOROOT", None)
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            *PIP_QUIET,
            "-w",
            str(tmp_path),
            str(artifacts.sdist),
        ],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
    )
    assert done.returncode != 0
    output = done.stdout + done.stderr
    assert "Traceback" not in output
    # The build's output ends with our line, just before pip's "[end of output]".
    build_output = output.split("[end of output]")[0].rstrip().splitlines()
    assert (
        build_output[-1].strip().startswith("error: building jetliner needs Go on PATH (https://go.dev/dl/")
    )

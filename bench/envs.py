"""The interpreters that run the readers: two venvs made here, and this project's Python.

Setting up is idempotent: a venv is (re)installed only when it is missing or its
requirements file changed since the last install (a stamp file records a hash of it).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from readers import OTHERS, RUST, THIS

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
VENVS = BENCH / ".venvs"
STAMP = ".bench-stamp"


@dataclass(frozen=True)
class VenvSpec:
    directory: str
    requirements: Path


VENV_SPECS = {
    RUST: VenvSpec("rust-jetliner", BENCH / "requirements-rust.txt"),
    OTHERS: VenvSpec("others", BENCH / "requirements-others.txt"),
}


@dataclass(frozen=True)
class Interpreter:
    """An environment's Python, or why there is none."""

    env: str
    python: str | None
    error: str | None = None


def this_python() -> str:
    """JETLINER_PYTHON, else the repository's .venv, else python3 on PATH."""
    explicit = os.environ.get("JETLINER_PYTHON")
    if explicit:
        return explicit
    repo_venv = REPO / ".venv" / "bin" / "python"
    if repo_venv.exists():
        return str(repo_venv)
    return shutil.which("python3") or sys.executable


def _stamp(spec: VenvSpec) -> str:
    digest = hashlib.sha256(spec.requirements.read_bytes()).hexdigest()
    return f"{digest} {sys.version_info.major}.{sys.version_info.minor}\n"


def _is_current(venv: Path, spec: VenvSpec) -> bool:
    stamp = venv / STAMP
    return (venv / "bin" / "python").exists() and stamp.exists() and stamp.read_text() == _stamp(spec)


def _log(message: str) -> None:
    print(f"[envs] {message}", file=sys.stderr, flush=True)


def ensure_venv(env: str) -> Interpreter:
    spec = VENV_SPECS[env]
    venv = VENVS / spec.directory
    python = venv / "bin" / "python"
    if _is_current(venv, spec):
        return Interpreter(env, str(python))
    try:
        if not python.exists():
            _log(f"creating {venv}")
            subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        _log(f"installing {spec.requirements.name} into {venv}")
        pip = [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
        subprocess.run([*pip, "-r", str(spec.requirements)], check=True)
    except (OSError, subprocess.CalledProcessError) as exc:
        return Interpreter(env, None, f"setting up {venv} failed: {exc}")
    (venv / STAMP).write_text(_stamp(spec))
    return Interpreter(env, str(python))


def ensure_envs(envs: set[str]) -> dict[str, Interpreter]:
    """Interpreters for the given environments, always including OTHERS (data and chart)."""
    return {
        env: Interpreter(THIS, this_python()) if env == THIS else ensure_venv(env)
        for env in sorted(envs | {OTHERS})
    }

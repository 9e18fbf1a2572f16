#!/usr/bin/env bash
# Entry point for `make bench`: the side-by-side Avro read benchmark (see bench/README.md).
# The orchestrator needs only the standard library of Python 3.10+; it builds its own venvs.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
exec "${BENCH_PYTHON:-python3}" "$here/run.py" "$@"

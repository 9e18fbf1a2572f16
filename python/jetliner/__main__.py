"""``python -m jetliner``: the command line (see :mod:`jetliner.cli`)."""

from __future__ import annotations

from .cli import main

raise SystemExit(main())

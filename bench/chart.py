"""Grouped bar chart of the median read times (run in the "others" venv, for matplotlib).

Usage: python chart.py latest.json latest.png
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

Doc = dict[str, Any]


def _series(
    doc: Doc,
) -> tuple[list[str], dict[str, list[float | None]], dict[str, list[tuple[float, float]]]]:
    """Scenarios, and per reader its medians and (down, up) error bars, None where no timing."""
    scenarios = list(doc["results"])
    medians: dict[str, list[float | None]] = {}
    errors: dict[str, list[tuple[float, float]]] = {}
    for reader_id in doc["readers"]:
        cells = [doc["results"][s].get(reader_id, {}) for s in scenarios]
        if not any(c.get("status") == "ok" for c in cells):
            continue
        medians[reader_id] = [c["median_s"] if c.get("status") == "ok" else None for c in cells]
        errors[reader_id] = [
            (c["median_s"] - c["min_s"], c["max_s"] - c["median_s"])
            if c.get("status") == "ok"
            else (0.0, 0.0)
            for c in cells
        ]
    return scenarios, medians, errors


# One colour family per reader group, one shade per API of the group.
GROUP_COLORMAPS = {
    "this": "Reds",
    "rust": "Blues",
    "polars-avro": "Purples",
    "polars": "Oranges",
    "fastavro": "Greys",
}


def _colors(reader_ids: list[str]) -> dict[str, Any]:
    colors: dict[str, Any] = {}
    for group, cmap_name in GROUP_COLORMAPS.items():
        members = [r for r in reader_ids if r.split(".")[0] == group]
        cmap = plt.get_cmap(cmap_name)
        for index, reader_id in enumerate(members):
            colors[reader_id] = cmap(
                0.75 - 0.3 * index / max(1, len(members) - 1) if len(members) > 1 else 0.6
            )
    return colors


def draw(doc: Doc, target: Path) -> None:
    scenarios, medians, errors = _series(doc)
    fig, ax = plt.subplots(figsize=(max(8.0, 1.6 * len(scenarios) + 3), 5.5), layout="constrained")
    width = 0.8 / max(1, len(medians))
    colors = _colors(list(medians))
    for index, (reader_id, values) in enumerate(medians.items()):
        xs = [i + (index - (len(medians) - 1) / 2) * width for i in range(len(scenarios))]
        present = [(x, v, e) for x, v, e in zip(xs, values, errors[reader_id], strict=True) if v is not None]
        if not present:
            continue
        x, y, err = zip(*present, strict=True)
        bars = ax.bar(
            x,
            y,
            width,
            label=reader_id,
            color=colors[reader_id],
            yerr=list(zip(*err, strict=True)),
            capsize=2,
        )
        if reader_id.startswith("this."):
            for bar in bars:
                bar.set_hatch("//")
    meta = doc["meta"]
    ax.set_yscale("log")
    ax.set_xticks(range(len(scenarios)), scenarios)
    ax.set_xlabel("scenario (no bar: the reader failed or is missing there, see latest.md)", fontsize="small")
    ax.set_ylabel("seconds (median, log scale; bars: min–max)")
    machine = doc["machine"]
    where = f"{machine['cpu']}, {machine['usable_cores']} cores"
    ax.set_title(f"Reading {meta['rows']:,}-row Avro files into Polars ({where})")
    ax.grid(axis="y", which="both", alpha=0.3)
    ax.legend(ncol=2, fontsize="small", loc="upper left", bbox_to_anchor=(1.0, 1.0))
    fig.savefig(target, dpi=120)


def main(argv: list[str]) -> int:
    source, target = Path(argv[0]), Path(argv[1])
    draw(json.loads(source.read_text()), target)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

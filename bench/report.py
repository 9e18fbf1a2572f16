"""Ratios and the Markdown report, from the run's JSON document (standard library only).

`python report.py results/latest.json` renders a saved run again (to stdout).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from scenarios import Scenario

MIB = 1 << 20
Doc = dict[str, Any]


def scenario_info(scenario: Scenario, rows: int) -> Doc:
    return {
        "description": scenario.description,
        "dataset": scenario.dataset.name,
        "columns": list(scenario.columns) if scenario.columns else None,
        "expected_shape": [rows, scenario.expected_columns],
    }


# --- ratios ---------------------------------------------------------------------------------


def _ok_median(result: Doc) -> float | None:
    return result["median_s"] if result.get("status") == "ok" else None


def ratios(results: Doc, readers: Doc, baseline: str) -> Doc:
    """Per scenario: each reader's median / the best median of the baseline group's readers."""
    table: Doc = {}
    for scenario, by_reader in results.items():
        base = [
            m
            for reader_id, result in by_reader.items()
            if readers[reader_id]["group"] == baseline and (m := _ok_median(result)) is not None
        ]
        best = min(base) if base else None
        table[scenario] = {
            reader_id: (median / best if best and (median := _ok_median(result)) is not None else None)
            for reader_id, result in by_reader.items()
        }
    return table


# --- formatting helpers ---------------------------------------------------------------------


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    return lines + ["| " + " | ".join(row) + " |" for row in rows]


def _seconds(value: float, digits: int) -> str:
    return f"{value:.{digits}f}"


def _time_cell(result: Doc, requested_reps: int) -> str:
    if result.get("status") != "ok":
        return result.get("status", "?")
    median = result["median_s"]
    digits = 3 if median < 10 else 1
    spread = (result["max_s"] - result["min_s"]) / 2
    cell = f"{_seconds(median, digits)} ± {_seconds(spread, digits)}"
    return cell + (f" (n={result['reps']})" if result["reps"] < requested_reps else "")


def _rss_cell(result: Doc) -> str:
    if result.get("status") != "ok":
        return result.get("status", "?")
    return f"{result['peak_rss'] / MIB:,.0f}"


def _ratio_cell(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}"


def _size(num_bytes: float | None) -> str:
    if num_bytes is None:
        return "?"
    for unit, scale in (("GiB", 1 << 30), ("MiB", MIB), ("KiB", 1 << 10)):
        if num_bytes >= scale:
            return f"{num_bytes / scale:.1f} {unit}"
    return f"{num_bytes:.0f} B"


# --- sections -------------------------------------------------------------------------------


def _header(doc: Doc) -> list[str]:
    meta = doc["meta"]
    reads = f"{meta['reps']} timed reads after 1 warm-up"
    return [
        "# jetliner: Avro read benchmark",
        "",
        (
            f"{meta['mode'].capitalize()} run, {meta['started']} to {meta['finished']}: "
            f"{meta['rows']:,} rows per file, {reads} (fewer for a reader whose reads would take "
            f"more than {meta['budget_s']:.0f} s), each reader and scenario in a fresh process."
        ),
        f"Command: `{meta['command']}`.",
        "",
    ]


def _machine(doc: Doc) -> list[str]:
    machine = doc["machine"]
    rows = [
        ["CPU", machine["cpu"]],
        ["cores", f"{machine['cores']} ({machine['usable_cores']} usable)"],
        ["RAM", _size(machine["ram_bytes"])],
        ["OS", machine["os"]],
        ["orchestrator Python", machine["orchestrator_python"]],
    ]
    for key, when in (("load_average", "start"), ("load_average_end", "end")):
        if machine.get(key):
            load = " / ".join(f"{value:.2f}" for value in machine[key])
            rows.append([f"load average at {when} (1/5/15 min)", load])
    busy = _busy_note(machine)
    return ["## Machine", "", *_table(["", ""], rows), "", *([busy, ""] if busy else [])]


def _busy_note(machine: Doc) -> str | None:
    loads = [m[0] for m in (machine.get("load_average"), machine.get("load_average_end")) if m]
    if not loads or max(loads) <= machine["usable_cores"]:
        return None
    return (
        f"**The machine was busy** (1-minute load up to {max(loads):.1f} on {machine['usable_cores']} "
        "cores, from other processes): timings are noisy and slower than on an idle machine."
    )


def _readers(doc: Doc) -> list[str]:
    rows = []
    for reader_id, info in doc["readers"].items():
        versions = info.get("versions", {})
        status = "ok" if info["status"] == "ok" else f"{info['status']}: {info.get('error')}"
        rows.append(
            [
                f"`{reader_id}`",
                info["label"],
                versions.get("library", "—"),
                info.get("python", "—"),
                versions.get("polars", "—"),
                f"`{info['api']}`" if info.get("api") else "—",
                status,
            ]
        )
    header = ["reader", "what", "version", "Python", "Polars", "call", "status"]
    interpreters = [
        f"- `{env}`: `{e['python']}`" + (f" ({e['error']})" if e["error"] else "")
        for env, e in doc["environments"].items()
    ]
    return ["## Readers", "", *_table(header, rows), "", "Interpreters:", "", *interpreters, ""]


def _data(doc: Doc) -> list[str]:
    meta = doc["meta"]
    rows = [
        [f"`{name}.avro`", d["schema"], d["codec"], f"{d['rows']:,}", str(d["columns"]), _size(d["bytes"])]
        for name, d in doc["datasets"].items()
    ]
    scenarios = [
        f"- `{name}`: {s['description']} (`{s['dataset']}.avro`"
        + (f", columns {', '.join(s['columns'])})" if s["columns"] else ")")
        for name, s in doc["scenarios"].items()
    ]
    note = (
        f"Written by fastavro with `sync_interval={meta['sync_interval']:,}` (blocks of about "
        f"{_size(meta['sync_interval'])} before compression), seed {meta['seed']}, "
        f"generator version {meta['generator_version']}. Ids run 0..rows-1: every result is "
        "checked for its shape and for sum(id)."
    )
    return [
        "## Data",
        "",
        *_table(["file", "schema", "codec", "rows", "columns", "size"], rows),
        "",
        note,
        "",
        *scenarios,
        "",
    ]


def _grid(doc: Doc, cell: Any, extra: tuple[str, Any] | None = None) -> list[str]:
    """Readers x scenarios; `extra` is (header, fn(reader_id) -> str) for a last column."""
    scenarios = list(doc["results"])
    readers = [r for r in doc["readers"] if scenarios and all(r in doc["results"][s] for s in scenarios)]
    rows = [[f"`{r}`", *(cell(doc["results"][s][r]) for s in scenarios)] for r in readers]
    if extra is None:
        return _table(["reader", *scenarios], rows)
    header, extra_cell = extra
    return _table(
        ["reader", *scenarios, header], [[*row, extra_cell(r)] for row, r in zip(rows, readers, strict=True)]
    )


def _import_rss(doc: Doc, reader_id: str) -> str:
    """The worker's RSS once the reader is imported, before its first read (largest seen)."""
    seen = [by_reader[reader_id].get("base_rss") for by_reader in doc["results"].values()]
    values = [v for v in seen if v]
    return f"{max(values) / MIB:,.0f}" if values else "—"


def _timings(doc: Doc) -> list[str]:
    if not doc["results"]:
        return []
    reps = doc["meta"]["reps"]
    return [
        "## Wall time (seconds)",
        "",
        "Median ± half the min–max range of the timed reads; (n=…) marks fewer reads than asked.",
        "",
        *_grid(doc, lambda result: _time_cell(result, reps)),
        "",
        "## Peak RSS (MiB)",
        "",
        (
            "Highest resident set of the worker process during a read (its high-water mark is reset "
            "before each read), so it includes the interpreter and the imported libraries: the last "
            "column is the RSS after the imports, before the first read."
        ),
        "",
        *_grid(doc, _rss_cell, ("after import", lambda reader_id: _import_rss(doc, reader_id))),
        "",
    ]


def _ratios(doc: Doc) -> list[str]:
    if not doc["results"]:
        return []
    baseline = doc["meta"]["baseline"]
    subject = "this project" if baseline == "this" else f"`{baseline}`"
    lines = [
        f"## Ratios: reader median / {subject}'s best median",
        "",
        (
            f"The reference is the fastest `{baseline}.*` reader of each scenario; above 1 means "
            f"{subject} is faster than that reader."
        ),
        "",
    ]
    if all(v is None for by_reader in doc["ratios"].values() for v in by_reader.values()):
        return [*lines, f"No ratios: no `{baseline}` reader produced a timing (see Readers).", ""]
    grid = _table(
        ["reader", *doc["ratios"]],
        [
            [f"`{r}`", *(_ratio_cell(doc["ratios"][s].get(r)) for s in doc["ratios"])]
            for r in next(iter(doc["ratios"].values()))
        ],
    )
    return [*lines, *grid, ""]


def _memory(doc: Doc) -> list[str]:
    if not doc["memory"]:
        return []
    meta = doc["meta"]
    data = doc["datasets"]["memory"]
    rows = []
    for reader_id, m in doc["memory"].items():
        if m.get("status") != "ok":
            rows.append([f"`{reader_id}`", m.get("status", "?"), *["—"] * 6])
            continue
        verdict = "within budget" if m["within_budget"] else "**over budget**"
        rows.append(
            [
                f"`{reader_id}`",
                f"{m['rows']:,} in {m['batches']}",
                _size(m["max_batch_bytes"]),
                _size(m["budget_bytes"]),
                _size(m["peak_rss"]),
                _size(m["base_rss"]),
                f"{m['seconds']:.1f}",
                verdict,
            ]
        )
    header = [
        "reader",
        "rows in batches",
        "largest batch",
        "budget",
        "peak RSS",
        "RSS before",
        "seconds",
        "verdict",
    ]
    return [
        "## Memory: iterating a large file in batches",
        "",
        (
            f"`memory.avro`: {data['rows']:,} rows, {_size(data['bytes'])}, read with "
            f"`open(path, batch_size={meta['batch_size']:,}, buffer_bytes={meta['buffer_bytes']:,})`. "
            f"Budget = buffer_bytes + 2 × largest batch (`estimated_size()`) + "
            f"{meta['memory_slack_bytes'] / 1e6:.0f} MB. Peak RSS is the whole worker process's "
            "high-water mark during the iteration (reset just before it)."
        ),
        "",
        *_table(header, rows),
        "",
    ]


def _problems(doc: Doc) -> list[str]:
    problems = [
        f"- `{scenario}` / `{reader_id}`: {result['status']}: {result.get('error')}"
        for scenario, by_reader in doc["results"].items()
        for reader_id, result in by_reader.items()
        if result.get("status") not in ("ok", "unavailable")
    ]
    problems += [
        f"- `memory` / `{reader_id}`: {m['status']}: {m.get('error')}"
        for reader_id, m in doc["memory"].items()
        if m.get("status") != "ok"
    ]
    return ["## Problems", "", *problems, ""] if problems else []


def render(doc: Doc) -> str:
    sections = (_header, _machine, _readers, _data, _timings, _ratios, _memory, _problems)
    return "\n".join(line for section in sections for line in section(doc))


def main(argv: list[str]) -> int:
    print(render(json.loads(Path(argv[0]).read_text())), end="")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

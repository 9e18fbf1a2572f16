"""Side-by-side benchmark of Avro readers for Polars (`make bench` runs this).

Standard library only. Every reader runs in a subprocess of its own environment
(bench/envs.py), one fresh process per reader and scenario. See bench/README.md.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import report
from envs import BENCH, Interpreter, ensure_envs
from readers import OTHERS, READERS, THIS, Reader, select_readers
from scenarios import (
    DATASETS,
    FULL_ROWS,
    GENERATOR_VERSION,
    MEMORY_FULL_ROWS,
    MEMORY_MIN_BYTES,
    MEMORY_QUICK_ROWS,
    MEMORY_SCENARIO,
    QUICK_ROWS,
    SCENARIOS,
    SEED,
    SYNC_INTERVAL,
    Scenario,
)
from sysinfo import describe_machine, load_average
from worker import RESULT_MARKER

MIB = 1 << 20
MEMORY_SLACK_BYTES = 100_000_000  # the "+ 100 MB" of the memory budget
PROBE_TIMEOUT_S = 300.0
Result = dict[str, Any]


@dataclass(frozen=True)
class Options:
    scenarios: list[Scenario]
    memory: bool
    readers: list[Reader]
    memory_readers: list[Reader]
    reps: int
    quick: bool
    budget_s: float
    timeout_s: float
    baseline: str
    out_dir: Path
    data_dir: Path
    batch_size: int
    buffer_bytes: int

    @property
    def rows(self) -> int:
        return QUICK_ROWS if self.quick else FULL_ROWS

    @property
    def memory_rows(self) -> int:
        return MEMORY_QUICK_ROWS if self.quick else MEMORY_FULL_ROWS

    @property
    def all_readers(self) -> list[Reader]:
        extra = [r for r in self.memory_readers if self.memory and r not in self.readers]
        return self.readers + extra


# --- command line ---------------------------------------------------------------------------


def _csv(value: str) -> list[str]:
    return [item.strip() for item in value.split(",") if item.strip()]


def _parser() -> argparse.ArgumentParser:
    scenario_names = [*SCENARIOS, MEMORY_SCENARIO]
    groups = sorted({r.group for r in READERS.values()})
    reader_names = ", ".join(dict.fromkeys([*READERS, *groups]))
    p = argparse.ArgumentParser(description="Benchmark Avro readers for Polars side by side.")
    p.add_argument(
        "--scenarios",
        type=_csv,
        help=f"comma-separated subset of: {', '.join(scenario_names)} (default: all)",
    )
    p.add_argument(
        "--readers",
        type=_csv,
        help=f"comma-separated reader ids or groups: {reader_names} (default: all)",
    )
    p.add_argument(
        "--memory", action="store_true", help="run only the memory scenario (same as --scenarios memory)"
    )
    p.add_argument(
        "--memory-readers",
        type=_csv,
        default=["this.iter"],
        help="readers for the memory scenario (default: this.iter; rust.iter also works)",
    )
    p.add_argument("--reps", type=int, default=5, help="timed reads after the warm-up (default: 5)")
    p.add_argument(
        "--quick",
        action="store_true",
        help=f"{QUICK_ROWS:,}-row files in their own cache, for a fast smoke run",
    )
    p.add_argument(
        "--budget",
        type=float,
        default=120.0,
        help="seconds of timed reads per reader and scenario; slower ones get fewer reps (default: 120)",
    )
    p.add_argument(
        "--timeout",
        type=float,
        default=1800.0,
        help="seconds before a worker process is killed (default: 1800)",
    )
    p.add_argument(
        "--baseline",
        default="this",
        choices=groups,
        help="reader group that the ratios divide by (default: this)",
    )
    p.add_argument(
        "--out",
        type=Path,
        help="results directory (default: bench/results, or bench/results/quick with --quick)",
    )
    p.add_argument(
        "--data-dir", type=Path, help="data cache (default: bench/data, or bench/data/quick with --quick)"
    )
    p.add_argument(
        "--batch-size", type=int, default=100_000, help="memory scenario batch_size (default: 100000)"
    )
    p.add_argument(
        "--buffer-bytes", type=int, default=64 * MIB, help="memory scenario buffer_bytes (default: 64 MiB)"
    )
    return p


def parse_args(argv: list[str]) -> Options:
    parser = _parser()
    args = parser.parse_args(argv)
    names = [MEMORY_SCENARIO] if args.memory else (args.scenarios or [*SCENARIOS, MEMORY_SCENARIO])
    unknown = [n for n in names if n not in SCENARIOS and n != MEMORY_SCENARIO]
    if unknown:
        parser.error(f"unknown scenario(s): {', '.join(unknown)}")
    try:
        readers = select_readers(args.readers)
        memory_readers = select_readers(args.memory_readers)
    except ValueError as exc:
        parser.error(str(exc))
    if any(r.method != "iter" for r in memory_readers):
        parser.error("--memory-readers takes readers that iterate batches: this.iter, rust.iter")
    if args.reps < 1:
        parser.error("--reps must be at least 1")
    suffix = Path("quick") if args.quick else Path()
    return Options(
        scenarios=[SCENARIOS[n] for n in names if n in SCENARIOS],
        memory=MEMORY_SCENARIO in names,
        readers=readers,
        memory_readers=memory_readers,
        reps=args.reps,
        quick=args.quick,
        budget_s=args.budget,
        timeout_s=args.timeout,
        baseline=args.baseline,
        out_dir=(args.out or BENCH / "results" / suffix).resolve(),
        data_dir=(args.data_dir or BENCH / "data" / suffix).resolve(),
        batch_size=args.batch_size,
        buffer_bytes=args.buffer_bytes,
    )


# --- subprocesses ---------------------------------------------------------------------------


def log(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def _child_environment(env: str) -> dict[str, str]:
    """The venvs must not see a PYTHONPATH meant for this project (same import name)."""
    environment = dict(os.environ)
    if env != THIS:
        environment.pop("PYTHONPATH", None)
    return environment


def _crash_message(proc: subprocess.CompletedProcess[str]) -> str:
    code = proc.returncode
    how = f"killed by signal {-code}" if code < 0 else f"exited with code {code}"
    if code == -9:
        how += " (out of memory?)"
    last = [line for line in proc.stderr.splitlines() if line.strip()][-1:]
    return f"worker {how}" + (f": {last[0].strip()[:300]}" if last else "")


def run_worker(interpreter: Interpreter, spec: dict[str, Any], timeout: float) -> Result:
    if interpreter.python is None:
        return {"status": "unavailable", "error": interpreter.error}
    command = [interpreter.python, str(BENCH / "worker.py"), json.dumps(spec)]
    try:
        proc = subprocess.run(
            command,
            capture_output=True,
            text=True,
            timeout=timeout,
            cwd=BENCH,
            env=_child_environment(interpreter.env),
            check=False,
        )
    except subprocess.TimeoutExpired:
        return {"status": "error", "error": f"timed out after {timeout:.0f} s"}
    except OSError as exc:
        return {"status": "unavailable", "error": f"cannot start {interpreter.python}: {exc}"}
    for line in reversed(proc.stdout.splitlines()):
        if line.startswith(RESULT_MARKER):
            result: Result = json.loads(line[len(RESULT_MARKER) :])
            return result
    return {"status": "error", "error": _crash_message(proc)}


# --- the steps of a run ---------------------------------------------------------------------


def generate_data(python: str, options: Options) -> dict[str, Result]:
    names = {s.dataset.name for s in options.scenarios}
    if options.memory:
        names.add("memory")
    command = [
        python,
        str(BENCH / "datagen.py"),
        f"--data-dir={options.data_dir}",
        f"--rows={options.rows}",
        f"--memory-rows={options.memory_rows}",
        *sorted(names),
    ]
    proc = subprocess.run(command, stdout=subprocess.PIPE, text=True, cwd=BENCH, check=True)
    datasets: dict[str, Result] = json.loads(proc.stdout.strip().splitlines()[-1])
    for name, info in datasets.items():
        dataset = DATASETS[name]
        info.update(schema=dataset.schema, codec=dataset.codec, columns=dataset.columns)
    return datasets


def probe(reader: Reader, interpreters: dict[str, Interpreter]) -> Result:
    result = run_worker(interpreters[reader.env], {"mode": "probe", "reader": reader.id}, PROBE_TIMEOUT_S)
    status = result["status"] if result["status"] == "ok" else f"{result['status']}: {result.get('error')}"
    log(f"{reader.id}: {status}")
    return {"label": reader.label, "group": reader.group, "env": reader.env, **result}


def summarize(times: list[float]) -> dict[str, float]:
    quartiles = statistics.quantiles(times, n=4) if len(times) > 1 else [times[0]] * 3
    return {
        "median_s": statistics.median(times),
        "min_s": min(times),
        "max_s": max(times),
        "iqr_s": quartiles[2] - quartiles[0],
        "reps": len(times),
    }


@dataclass
class RunContext:
    options: Options
    interpreters: dict[str, Interpreter]
    datasets: dict[str, Result]
    probes: dict[str, Result]


def _describe(result: Result) -> str:
    if result["status"] != "ok":
        return f"{result['status']}: {result.get('error')}"
    return f"{result['median_s']:.3f} s median of {result['reps']}, peak {result['peak_rss'] / MIB:.0f} MiB"


def measure(reader: Reader, scenario: Scenario, context: RunContext) -> Result:
    probed = context.probes[reader.id]
    if probed["status"] != "ok":
        return {"status": probed["status"], "error": probed.get("error")}
    spec = {
        "mode": "time",
        "reader": reader.id,
        "path": context.datasets[scenario.dataset.name]["path"],
        "columns": list(scenario.columns) if scenario.columns else None,
        "expect_rows": context.options.rows,
        "expect_cols": scenario.expected_columns,
        "reps": context.options.reps,
        "budget_s": context.options.budget_s,
    }
    result = run_worker(context.interpreters[reader.env], spec, context.options.timeout_s)
    if result["status"] == "ok":
        result.update(summarize(result["times"]))
    log(f"{scenario.name} / {reader.id}: {_describe(result)}")
    return result


def measure_memory(reader: Reader, context: RunContext) -> Result:
    probed = context.probes[reader.id]
    if probed["status"] != "ok":
        return {"status": probed["status"], "error": probed.get("error")}
    dataset = context.datasets["memory"]
    options = context.options
    spec = {
        "mode": "memory",
        "reader": reader.id,
        "path": dataset["path"],
        "batch_size": options.batch_size,
        "buffer_bytes": options.buffer_bytes,
        "expect_rows": dataset["rows"],
    }
    result = run_worker(context.interpreters[reader.env], spec, options.timeout_s)
    if result["status"] == "ok":
        budget = options.buffer_bytes + 2 * result["max_batch_bytes"] + MEMORY_SLACK_BYTES
        result.update(budget_bytes=budget, within_budget=result["peak_rss"] <= budget)
        log(f"memory / {reader.id}: peak {result['peak_rss'] / MIB:.0f} MiB, budget {budget / MIB:.0f} MiB")
    else:
        log(f"memory / {reader.id}: {_describe(result)}")
    return result


def _meta(options: Options, started: datetime, argv: list[str]) -> Result:
    return {
        "started": started.isoformat(timespec="seconds"),
        "finished": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "command": " ".join(["bench/run.py", *argv]),
        "mode": "quick" if options.quick else "full",
        "rows": options.rows,
        "memory_rows": options.memory_rows,
        "reps": options.reps,
        "budget_s": options.budget_s,
        "baseline": options.baseline,
        "sync_interval": SYNC_INTERVAL,
        "generator_version": GENERATOR_VERSION,
        "seed": SEED,
        "batch_size": options.batch_size,
        "buffer_bytes": options.buffer_bytes,
        "memory_slack_bytes": MEMORY_SLACK_BYTES,
    }


def _check_memory_file(options: Options, datasets: dict[str, Result]) -> None:
    size = datasets.get("memory", {}).get("bytes", 0)
    if options.memory and not options.quick and size < MEMORY_MIN_BYTES:
        log(f"warning: the memory file is only {size / 1e9:.2f} GB (< {MEMORY_MIN_BYTES / 1e9:.0f} GB)")


def run(options: Options, argv: list[str]) -> Result:
    started = datetime.now(timezone.utc)
    machine = describe_machine()
    if (machine["load_average"] or [0.0])[0] > machine["usable_cores"]:
        log(f"warning: the machine is busy (load {machine['load_average'][0]:.1f}): timings will be noisy")
    interpreters = ensure_envs({r.env for r in options.all_readers})
    others = interpreters[OTHERS]
    if others.python is None:
        raise SystemExit(f"cannot continue without the 'others' venv: {others.error}")
    datasets = generate_data(others.python, options)
    _check_memory_file(options, datasets)
    probes = {r.id: probe(r, interpreters) for r in options.all_readers}
    context = RunContext(options, interpreters, datasets, probes)
    results = {s.name: {r.id: measure(r, s, context) for r in options.readers} for s in options.scenarios}
    memory = {r.id: measure_memory(r, context) for r in options.memory_readers} if options.memory else {}
    machine["load_average_end"] = load_average()
    return {
        "meta": _meta(options, started, argv),
        "machine": machine,
        "environments": {env: {"python": i.python, "error": i.error} for env, i in interpreters.items()},
        "readers": probes,
        "datasets": datasets,
        "scenarios": {s.name: report.scenario_info(s, options.rows) for s in options.scenarios},
        "results": results,
        "ratios": report.ratios(results, probes, options.baseline),
        "memory": memory,
    }


def write_outputs(document: Result, out_dir: Path, chart_python: str) -> str:
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "latest.json").write_text(json.dumps(document, indent=2) + "\n")
    markdown = report.render(document)
    (out_dir / "latest.md").write_text(markdown)
    chart = [chart_python, str(BENCH / "chart.py"), str(out_dir / "latest.json"), str(out_dir / "latest.png")]
    if subprocess.run(chart, cwd=BENCH, check=False).returncode != 0:
        log("warning: the chart could not be drawn")
    log(f"wrote {out_dir / 'latest.md'}, latest.json and latest.png")
    return markdown


def main(argv: list[str]) -> int:
    options = parse_args(argv)
    began = time.perf_counter()
    document = run(options, argv)
    python = document["environments"][OTHERS]["python"]
    print(write_outputs(document, options.out_dir, python))
    log(f"done in {time.perf_counter() - began:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

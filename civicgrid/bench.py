"""`make bench`: run the benchmark scenarios, print a table, write JSON under var/bench/.

Each app that has something to measure offers `civicgrid/<app>/bench.py` with a list
`SCENARIOS` of `Scenario`. A scenario's `run()` does one timed batch of work and returns how
many operations it did; the runner repeats it and reports the median rate, because this
machine is shared and noisy (medians and ratios, not single runs). A scenario that times
single requests returns `(operations, latencies in ms)` instead; the runner then also reports
p50/p95/p99 over all its runs.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

BENCH_MODULES = [
    "civicgrid.workcalendar.bench",
    "civicgrid.geo.bench",
    "civicgrid.cases.bench",
    "civicgrid.open311.bench",
    "civicgrid.evaluation.bench",
]


@dataclass
class Scenario:
    name: str
    unit: str  # what one operation is, e.g. "deadlines"
    run: Callable[[], int | tuple[int, list[float]]]
    setup: Callable[[], None] | None = None
    description: str = ""
    teardown: Callable[[], None] | None = None


@dataclass
class Result:
    name: str
    unit: str
    description: str
    rates: list[float] = field(default_factory=list)
    latencies_ms: list[float] = field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(self.rates)

    def percentile(self, p: float) -> float:
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]

    @property
    def latency_text(self) -> str:
        if not self.latencies_ms:
            return ""
        return "/".join(f"{self.percentile(p):.1f}" for p in (50, 95, 99))


def _machine() -> dict:
    from django.db import connection

    return {
        "database": connection.vendor,
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "note": "shared 2-core machine: quote medians and ratios, not single runs",
    }


def run_scenarios(scenarios: list[Scenario], repeats: int) -> list[Result]:
    results = []
    for scenario in scenarios:
        if scenario.setup:
            scenario.setup()
        result = Result(scenario.name, scenario.unit, scenario.description)
        try:
            for _ in range(repeats):
                started = time.perf_counter()
                ops = scenario.run()
                elapsed = time.perf_counter() - started
                if isinstance(ops, tuple):
                    ops, latencies = ops
                    result.latencies_ms.extend(latencies)
                result.rates.append(ops / elapsed)
        finally:
            if scenario.teardown:
                scenario.teardown()
        result.description = scenario.description  # a teardown may add what it measured
        results.append(result)
        latency = f", p50/p95/p99 {result.latency_text} ms" if result.latencies_ms else ""
        print(f"  {scenario.name}: median {_rate(result.median)} {scenario.unit}/s{latency}", flush=True)
    return results


def _rate(value: float) -> str:
    """A rate for the tables: slow scenarios (a few per second) keep two decimals."""
    return f"{value:,.2f}" if value < 10 else f"{value:,.0f}"


def format_table(results: list[Result]) -> str:
    rows = [("scenario", "median /s", "min /s", "max /s", "runs", "p50/p95/p99 ms")]
    for r in results:
        rows.append(
            (
                r.name,
                f"{_rate(r.median)} {r.unit}",
                f"{_rate(min(r.rates))}",
                f"{_rate(max(r.rates))}",
                str(len(r.rates)),
                r.latency_text,
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)) for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m civicgrid.bench")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("-k", dest="only", default="", help="run only scenarios whose name contains this")
    args = parser.parse_args(argv)

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "civicgrid.settings")
    import django

    django.setup()
    from django.conf import settings

    scenarios: list[Scenario] = []
    for module_name in BENCH_MODULES:
        scenarios.extend(importlib.import_module(module_name).SCENARIOS)
    scenarios = [s for s in scenarios if args.only in s.name]
    print(f"Running {len(scenarios)} scenarios, {args.repeats} runs each")
    results = run_scenarios(scenarios, args.repeats)
    print()
    print(format_table(results))

    out_dir = Path(settings.VAR_DIR) / "bench"
    out_dir.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now().strftime("%Y%m%dT%H%M%S")
    payload = {
        "when": stamp,
        "machine": _machine(),
        "results": [
            {
                "name": r.name,
                "unit": r.unit,
                "description": r.description,
                "median_per_s": r.median,
                "runs_per_s": r.rates,
                **(
                    {"p50_ms": r.percentile(50), "p95_ms": r.percentile(95), "p99_ms": r.percentile(99)}
                    if r.latencies_ms
                    else {}
                ),
            }
            for r in results
        ],
    }
    path = out_dir / f"bench-{stamp}.json"
    path.write_text(json.dumps(payload, ensure_ascii=False, indent=2))
    (out_dir / "latest.json").write_text(path.read_text())
    print(f"\nWrote {path}")
    if not args.only:
        # One page per database engine: docs/benchmarks.md (SQLite, the embedded default) and
        # docs/benchmarks-postgresql.md.
        suffix = "" if payload["machine"]["database"] == "sqlite" else f"-{payload['machine']['database']}"
        docs = Path(settings.BASE_DIR) / "docs" / f"benchmarks{suffix}.md"
        docs.write_text(_markdown(payload, results, args.repeats))
        print(f"Wrote {docs}")
    return 0


DATABASE_NAMES = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}


def _markdown(payload: dict, results: list[Result], repeats: int) -> str:
    machine = payload["machine"]
    lines = [
        "# Benchmarks",
        "",
        "Written by `make bench` (`python -m civicgrid.bench`); do not edit by hand.",
        "",
        f"Run {payload['when']} on {machine['platform']}, Python {machine['python']}, {machine['cpus']} CPUs, "
        f"database {DATABASE_NAMES.get(machine['database'], machine['database'])} "
        "(docs/benchmarks.md: SQLite; docs/benchmarks-postgresql.md: PostgreSQL).",
        "The machine is shared and noisy: each figure is the median of "
        f"{repeats} runs; compare medians and ratios, not single runs.",
        "",
        "| scenario | median | min | max | p50/p95/p99 ms | what it does |",
        "|---|---|---|---|---|---|",
    ]
    for r in results:
        lines.append(
            f"| {r.name} | {_rate(r.median)} {r.unit}/s | {_rate(min(r.rates))} | {_rate(max(r.rates))} "
            f"| {r.latency_text} "
            f"| {r.description} |"
        )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    raise SystemExit(main())

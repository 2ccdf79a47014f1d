"""`make bench`: run the benchmark scenarios, print a table, write JSON under var/bench/.

Each app that has something to measure offers `civicgrid/<app>/bench.py` with a list
`SCENARIOS` of `Scenario`. A scenario's `run()` does one timed batch of work and returns how
many operations it did; the runner repeats it and reports the median rate, because this
machine is shared and noisy (medians and ratios, not single runs). A scenario that times
single requests returns `(operations, latencies in ms)` instead; the runner then also reports
p50/p95/p99 over all its runs.

A scenario that sends HTTP requests to the bench's gunicorn names a `Ceiling`: the bare endpoint
of the same server (`GET /livez`, no database, no session) driven by the same clients (8
concurrent clients, or 100 sequential requests). Each ceiling is measured once per bench run
(the median of the same number of runs) and reused; the scenario reports its own median as a
ratio of it, which says how much of the server's capacity the scenario's own work leaves.
A scenario also states its `targets` per database engine; the results table marks each one as
holding (✓) or not (✗).
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
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
    "civicgrid.cases.bench_import",
]
# Run when present: a module that has not landed in this checkout yet is skipped.
OPTIONAL_BENCH_MODULES = {"civicgrid.cases.bench_import"}

DATABASE_NAMES = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}
# The published pages hold figures at scale (the targets are set at 1,000,000 cases on SQLite and
# 10,000,000 on PostgreSQL): a full run on a small database does not replace them.
DOCS_MIN_CASES = 1_000_000


@dataclass(frozen=True)
class Target:
    """What a scenario must reach on one database engine: a minimum rate and/or latency bounds."""

    min_rate: float | None = None  # operations per second, the median of the runs
    p95_ms: float | None = None
    p99_ms: float | None = None

    @property
    def text(self) -> str:
        parts = []
        if self.min_rate is not None:
            parts.append(f"≥ {self.min_rate:,.0f}/s")
        if self.p95_ms is not None:
            parts.append(f"p95 < {self.p95_ms:,.0f} ms")
        if self.p99_ms is not None:
            parts.append(f"p99 < {self.p99_ms:,.0f} ms")
        return ", ".join(parts)

    def misses(self, result: Result) -> list[str]:
        """What the result misses, as measured (e.g. "p95 61.2 ms"); [] when the target holds.
        A latency bound of a result without latencies counts as missed."""
        missed = []
        if self.min_rate is not None and result.median < self.min_rate:
            missed.append(f"{_rate(result.median)}/s")
        for p, bound in ((95, self.p95_ms), (99, self.p99_ms)):
            if bound is None:
                continue
            if not result.latencies_ms:
                missed.append(f"no p{p}")
            elif result.percentile(p) >= bound:
                missed.append(f"p{p} {result.percentile(p):,.1f} ms")
        return missed


def describe_targets(targets: dict[str, Target]) -> str:
    """For a scenario's description: "Targets: p95 < 50 ms PostgreSQL, p95 < 100 ms SQLite." """
    parts = [f"{target.text} {DATABASE_NAMES.get(engine, engine)}" for engine, target in targets.items()]
    return f"Targets: {', '.join(parts)}." if parts else ""


@dataclass(frozen=True)
class Ceiling:
    """The bare endpoint of the server a scenario measures, driven by the same client shape.
    `run` does one timed batch, like a scenario's; `setup` (not timed) e.g. warms the server up."""

    name: str  # the client shape, e.g. "concurrent"; one measurement per name per bench run
    run: Callable[[], int | tuple[int, list[float]]]
    setup: Callable[[], None] | None = None
    unit: str = "requests"
    description: str = ""


@dataclass
class Scenario:
    name: str
    unit: str  # what one operation is, e.g. "deadlines"
    run: Callable[[], int | tuple[int, list[float]]]
    setup: Callable[[], None] | None = None
    description: str = ""
    teardown: Callable[[], None] | None = None
    ceiling: Ceiling | None = None
    targets: dict[str, Target] = field(default_factory=dict)  # by database vendor


@dataclass
class Result:
    name: str
    unit: str
    description: str
    rates: list[float] = field(default_factory=list)
    latencies_ms: list[float] = field(default_factory=list)
    ceiling_rate: float | None = None  # the median of the scenario's ceiling, per second
    target: Target | None = None  # for the database measured

    @property
    def ratio(self) -> float | None:
        """The median as a fraction of the ceiling's."""
        if not self.ceiling_rate or not self.rates:
            return None
        return self.median / self.ceiling_rate

    @property
    def ratio_text(self) -> str:
        if self.ratio is None:
            return ""
        percent = self.ratio * 100
        return f"{percent:.1f} %" if percent < 10 else f"{percent:.0f} %"

    @property
    def ceiling_text(self) -> str:
        return _rate(self.ceiling_rate) if self.ceiling_rate else ""

    @property
    def target_text(self) -> str:
        """Shown as "✓ p95 < 50 ms" or "✗ p95 < 50 ms (p95 61.2 ms)"; "" without a target."""
        if self.target is None:
            return ""
        missed = self.target.misses(self)
        if missed:
            return f"✗ {self.target.text} ({', '.join(missed)})"
        return f"✓ {self.target.text}"

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
        "database_version": _database_version(),
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "cpu_model": _cpu_model(),
        "ram_gb": _ram_gb(),
        "cases": _case_counts(),
        "note": "shared machine: quote medians and ratios, not single runs",
    }


def _cpu_model(cpuinfo: Path = Path("/proc/cpuinfo")) -> str:
    try:
        for line in cpuinfo.read_text().splitlines():
            key, _, value = line.partition(":")
            if key.strip() in ("model name", "Model", "Hardware"):
                return value.strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _ram_gb(meminfo: Path = Path("/proc/meminfo")) -> float | None:
    try:
        for line in meminfo.read_text().splitlines():
            if line.startswith("MemTotal:"):
                return round(int(line.split()[1]) / 1024**2, 1)  # kB
    except (OSError, ValueError, IndexError):
        pass
    return None


def _database_version() -> str:
    from django.db import connection

    if connection.vendor == "sqlite":
        import sqlite3

        return sqlite3.sqlite_version
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version" if connection.vendor == "postgresql" else "SELECT VERSION()")
        return str(cursor.fetchone()[0])


def _case_counts() -> dict[str, int]:
    """Cases in the database by county (the parent region of the case's street), and "total"."""
    from django.db.models import Count

    from civicgrid.cases.models import Case
    from civicgrid.geo.models import Region

    by_street = dict(Case.objects.order_by().values_list("street_id").annotate(n=Count("id")))
    counties = {
        street.pk: street.parent.name if street.parent else street.name
        for street in Region.objects.filter(pk__in=[pk for pk in by_street if pk]).select_related("parent")
    }
    counts: dict[str, int] = {}
    for street_id, n in by_street.items():
        county = counties.get(street_id, "—")
        counts[county] = counts.get(county, 0) + n
    return {**dict(sorted(counts.items())), "total": sum(by_street.values())}


def _measure(run: Callable[[], int | tuple[int, list[float]]], repeats: int, result: Result) -> None:
    for _ in range(repeats):
        started = time.perf_counter()
        ops = run()
        elapsed = time.perf_counter() - started
        if isinstance(ops, tuple):
            ops, latencies = ops
            result.latencies_ms.extend(latencies)
        result.rates.append(ops / elapsed)


def _print(result: Result) -> None:
    latency = f", p50/p95/p99 {result.latency_text} ms" if result.latencies_ms else ""
    ceiling = f", {result.ratio_text} of the ceiling {result.ceiling_text}/s" if result.ratio is not None else ""
    target = f", {result.target_text}" if result.target else ""
    print(f"  {result.name}: median {_rate(result.median)} {result.unit}/s{latency}{ceiling}{target}", flush=True)


def run_scenarios(scenarios: list[Scenario], repeats: int, database: str | None = None) -> list[Result]:
    """Run each scenario `repeats` times. A scenario's ceiling is measured after its set-up (its
    server runs then) the first time a scenario names it, and is listed as a result of its own;
    `database` (the connection's vendor by default) picks the targets."""
    if database is None:
        from django.db import connection

        database = connection.vendor
    results = []
    ceilings: dict[str, Result] = {}
    for scenario in scenarios:
        if scenario.setup:
            scenario.setup()
        result = Result(scenario.name, scenario.unit, scenario.description, target=scenario.targets.get(database))
        try:
            ceiling = scenario.ceiling
            if ceiling is not None and ceiling.name not in ceilings:
                if ceiling.setup:
                    ceiling.setup()
                measured = Result(f"ceiling: {ceiling.name}", ceiling.unit, ceiling.description)
                _measure(ceiling.run, repeats, measured)
                ceilings[ceiling.name] = measured
                results.append(measured)
                _print(measured)
            if ceiling is not None:
                result.ceiling_rate = ceilings[ceiling.name].median
            _measure(scenario.run, repeats, result)
        finally:
            if scenario.teardown:
                scenario.teardown()
        result.description = scenario.description  # a teardown may add what it measured
        results.append(result)
        _print(result)
    return results


def _rate(value: float) -> str:
    """A rate for the tables: slow scenarios (a few per second) keep two decimals."""
    return f"{value:,.2f}" if value < 10 else f"{value:,.0f}"


def format_table(results: list[Result]) -> str:
    rows = [("scenario", "median /s", "min /s", "max /s", "runs", "p50/p95/p99 ms", "ceiling /s", "ratio", "target")]
    for r in results:
        rows.append(
            (
                r.name,
                f"{_rate(r.median)} {r.unit}",
                f"{_rate(min(r.rates))}",
                f"{_rate(max(r.rates))}",
                str(len(r.rates)),
                r.latency_text,
                r.ceiling_text,
                r.ratio_text,
                r.target_text,
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
    parser.add_argument(
        "--exclude",
        action="append",
        default=[],
        metavar="TEXT",
        help="leave out scenarios whose name contains this (repeatable); the page lists what was left out",
    )
    parser.add_argument("--markdown", type=Path, help="also write the results page to this file (any run)")
    parser.add_argument(
        "--force-docs",
        action="store_true",
        help=f"write docs/benchmarks*.md even with fewer than {DOCS_MIN_CASES:,} cases in the database",
    )
    args = parser.parse_args(argv)

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "civicgrid.settings")
    import django

    django.setup()
    from django.conf import settings

    scenarios = [s for s in load_scenarios() if args.only in s.name]
    left_out = [s.name for s in scenarios if any(text in s.name for text in args.exclude)]
    scenarios = [s for s in scenarios if s.name not in left_out]
    print(f"Running {len(scenarios)} scenarios, {args.repeats} runs each")
    results = run_scenarios(scenarios, args.repeats)
    print()
    print(format_table(results))

    out_dir = Path(settings.VAR_DIR) / "bench"
    out_dir.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now().strftime("%Y%m%dT%H%M%S")
    payload = {"when": stamp, "machine": _machine(), "results": [result_json(r) for r in results]}
    path = out_dir / f"bench-{stamp}.json"
    path.write_text(json.dumps(payload, ensure_ascii=False, indent=2))
    (out_dir / "latest.json").write_text(path.read_text())
    print(f"\nWrote {path}")
    page = _markdown(payload, results, args.repeats, left_out)
    if args.markdown:
        args.markdown.write_text(page)
        print(f"Wrote {args.markdown}")
    name = docs_page(payload["machine"], partial=bool(args.only or left_out), force=args.force_docs)
    if name:
        docs = Path(settings.BASE_DIR) / "docs" / name
        docs.write_text(page)
        print(f"Wrote {docs}")
    elif not args.only:
        print(
            f"docs/benchmarks*.md not written: {payload['machine']['cases']['total']:,} cases < "
            f"{DOCS_MIN_CASES:,} (--force-docs to write anyway)"
        )
    return 0


def docs_page(machine: dict, *, partial: bool, force: bool = False) -> str | None:
    """The page under docs/ a run replaces, or None: one page per database engine,
    benchmarks.md (SQLite, the embedded default) and benchmarks-postgresql.md. A partial run
    (-k) never replaces one, nor a run on fewer than DOCS_MIN_CASES cases unless forced."""
    if partial or (machine["cases"]["total"] < DOCS_MIN_CASES and not force):
        return None
    return "benchmarks.md" if machine["database"] == "sqlite" else f"benchmarks-{machine['database']}.md"


def load_scenarios(modules: list[str] = BENCH_MODULES) -> list[Scenario]:
    scenarios: list[Scenario] = []
    for module_name in modules:
        if module_name in OPTIONAL_BENCH_MODULES and importlib.util.find_spec(module_name) is None:
            print(f"({module_name} is not in this checkout: skipped)")
            continue
        scenarios.extend(importlib.import_module(module_name).SCENARIOS)
    return scenarios


def result_json(r: Result) -> dict:
    return {
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
        **({"ceiling_per_s": r.ceiling_rate, "ratio": r.ratio} if r.ratio is not None else {}),
        **(
            {"target": {"text": r.target.text, "holds": not r.target.misses(r), "shown": r.target_text}}
            if r.target
            else {}
        ),
    }


def describe_machine(machine: dict) -> str:
    """One paragraph: CPU, cores, RAM, database engine and version, cases in the database."""
    database = DATABASE_NAMES.get(machine["database"], machine["database"])
    ram = f"{machine['ram_gb']:g} GB RAM" if machine.get("ram_gb") else "RAM unknown"
    cases = dict(machine.get("cases") or {})
    total = cases.pop("total", 0)
    by_county = "; ".join(f"{county} {n:,}" for county, n in cases.items())
    return (
        f"Machine: {machine.get('cpu_model') or 'CPU unknown'}, {machine['cpus']} cores, {ram}, "
        f"{machine['platform']}, Python {machine['python']}. "
        f"Database: {database} {machine.get('database_version', '')}".rstrip()
        + f", {total:,} cases"
        + (f" ({by_county})." if by_county else ".")
    )


def _markdown(payload: dict, results: list[Result], repeats: int, left_out: list[str] | None = None) -> str:
    machine = payload["machine"]
    lines = [
        "# Benchmarks",
        "",
        "Written by `make bench` (`python -m civicgrid.bench`); do not edit by hand.",
        "",
        f"Run {payload['when']}. {describe_machine(machine)}",
        "(docs/benchmarks.md: SQLite; docs/benchmarks-postgresql.md: PostgreSQL.)",
        "The machine is shared and noisy: each figure is the median of "
        f"{repeats} runs; compare medians and ratios, not single runs.",
        "",
        "*Ceiling*: the bare endpoint of the same gunicorn (`GET /livez`: no database, no session) with the",
        "scenario's client shape (the `ceiling:` rows); *ratio*: the scenario's median as a share of it.",
        "*Target*: the scenario's target on this database engine, ✓ when it holds, ✗ (with what was measured)",
        "when it does not.",
        "",
        "| scenario | median | min | max | p50/p95/p99 ms | ceiling | ratio | target | what it does |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        lines.append(
            f"| {r.name} | {_rate(r.median)} {r.unit}/s | {_rate(min(r.rates))} | {_rate(max(r.rates))} "
            f"| {r.latency_text} | {r.ceiling_text + '/s' if r.ceiling_rate else ''} | {r.ratio_text} "
            f"| {r.target_text} | {r.description} |"
        )
    if left_out:
        lines += ["", f"Not run this time (`--exclude`): {', '.join(left_out)}."]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    raise SystemExit(main())

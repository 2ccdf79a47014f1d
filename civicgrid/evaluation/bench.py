"""Benchmark of the evaluation (`python -m civicgrid.bench -k evaluation`): the monthly
evaluation of every unit, region and member of staff, against whatever cases the bench
database holds.

Load many cases first, as a separate step (minutes, not part of `make bench`), then build the
evaluation's facts once (otherwise the scenario's set-up builds them and says how long it took):

    CIVICGRID_VAR_DIR=/tmp/bench manage.py load_cases 1000000
    CIVICGRID_VAR_DIR=/tmp/bench manage.py rebuild_evaluation
    CIVICGRID_VAR_DIR=/tmp/bench make bench          # DATABASE_URL=postgres://… for PostgreSQL

One run = what a monthly report needs: `region_tables` (county, streets, communities, grids),
`unit_rows`, `staff_rows` for the four roles, `satisfaction_rows` and `resolution_rows` for the
last complete month of the data (the month before that of the latest report). The figures are
read from the facts (kept up to date before each read, as in production); the description
also gives the time of each part and of the direct computation (`indicators.direct()`, once).
"""

from __future__ import annotations

import statistics
import time
from zoneinfo import ZoneInfo

from civicgrid.bench import Scenario

TZ = ZoneInfo("Asia/Shanghai")
PARTS = ("regions", "units", "staff", "satisfaction", "resolution")


class _State:
    period = None
    cases = 0
    cohort = 0
    times: list[dict[str, float]] = []
    built = ""
    direct = 0.0


_state = _State()


def _last_complete_month():
    from civicgrid.cases.models import CaseEvent
    from civicgrid.evaluation.periods import month_period

    # The latest report, not the latest event: a partly loaded history has a few later events
    # (deferrals of weeks) after months of nothing.
    latest = CaseEvent.objects.filter(action="report").order_by("-at").values_list("at", flat=True).first()
    if latest is None:  # no cases: the month before this one (an empty evaluation)
        from django.utils import timezone

        latest = timezone.now()
    local = latest.astimezone(TZ)
    year, month = (local.year, local.month - 1) if local.month > 1 else (local.year - 1, 12)
    return month_period(year, month)


def evaluate_month(period, config=None) -> dict[str, float]:
    """Every figure of the month; seconds per part."""
    from civicgrid.core.models import Role
    from civicgrid.evaluation import indicators
    from civicgrid.evaluation.models import EvaluationSettings

    config = config or EvaluationSettings.current()
    times: dict[str, float] = {}
    started = time.perf_counter()
    indicators.region_tables(period, config=config)
    times["regions"] = time.perf_counter() - started
    started = time.perf_counter()
    indicators.unit_rows(period, config=config)
    times["units"] = time.perf_counter() - started
    started = time.perf_counter()
    for role in (Role.INSPECTOR, Role.OPERATOR, Role.SHIFT_LEAD, Role.DISPATCHER):
        indicators.staff_rows(period, role, config=config)
    times["staff"] = time.perf_counter() - started
    started = time.perf_counter()
    indicators.satisfaction_rows(period, config=config)
    times["satisfaction"] = time.perf_counter() - started
    started = time.perf_counter()
    indicators.resolution_rows(period, config=config)
    times["resolution"] = time.perf_counter() - started
    return times


def _setup() -> None:
    from django.core.management import call_command

    from civicgrid.cases.models import Case, CaseEvent
    from civicgrid.cases.workflow import Action
    from civicgrid.evaluation import facts, indicators
    from civicgrid.geo.models import Grid

    if not Grid.objects.exists():
        call_command("demo", "--if-empty", "--cases", "0")
    _state.cases = Case.objects.count()
    _state.period = _last_complete_month()
    _state.times = []
    started = time.perf_counter()
    facts.refresh()
    seconds = time.perf_counter() - started
    _state.built = f" Facts brought up to date before the runs in {seconds:.1f} s." if seconds > 1 else ""
    if _state.period is not None:
        _state.cohort = CaseEvent.objects.filter(
            action__in=(Action.FILE, Action.APPROVE_SELF_HANDLED),
            at__gte=_state.period.start,
            at__lt=_state.period.end,
        ).count()
        # The direct computation once, for comparison (seconds).
        with indicators.direct():
            _state.direct = sum(evaluate_month(_state.period).values())
    print(f"    bench database: {_state.cases:,} cases, month {_state.period and _state.period.label}", flush=True)


def _run() -> tuple[int, list[float]]:
    if _state.period is None:
        return 1, [0.0]
    times = evaluate_month(_state.period)
    _state.times.append(times)
    return 1, [sum(times.values()) * 1000]


def _teardown() -> None:
    if not _state.times:
        return
    totals = [sum(t.values()) for t in _state.times]
    parts = ", ".join(f"{part} {statistics.median(t[part] for t in _state.times) * 1000:,.0f} ms" for part in PARTS)
    SCENARIO.description += (
        f" Month {_state.period.label}: {_state.cohort:,} cases filed in it; {_state.cases:,} cases in the database."
        f" Seconds per evaluation: median {statistics.median(totals):.3f}, min {min(totals):.3f},"
        f" max {max(totals):.3f} ({parts}). Direct computation without the facts (one run):"
        f" {_state.direct:.2f} s.{_state.built} Targets at 1,000,000 cases: < 2 s SQLite, < 1 s PostgreSQL."
    )


SCENARIO = Scenario(
    name="monthly evaluation",
    unit="evaluations",
    run=_run,
    setup=_setup,
    teardown=_teardown,
    description=(
        "Every unit, region (county, streets, communities, grids), staff role, satisfaction and resolution"
        " for the last complete month of the data, read from the evaluation's facts; rate = evaluations"
        " per second, latency = seconds of one evaluation in ms."
    ),
)
SCENARIOS = [SCENARIO]

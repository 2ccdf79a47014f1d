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

from civicgrid.bench import Scenario, Target

TZ = ZoneInfo("Asia/Shanghai")
PARTS = ("regions", "units", "staff", "satisfaction", "resolution")


class _State:
    def __init__(self):
        self.period = None
        self.cases = 0
        self.cohort = 0
        self.times: list[dict[str, float]] = []
        self.built = ""
        self.direct = 0.0
        self.scope = None
        self.where = ""


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


def evaluate_month(period, config=None, scope=None) -> dict[str, float]:
    """Every figure of the month (within `scope`, by default everything); seconds per part."""
    from civicgrid.core.models import Role
    from civicgrid.evaluation import indicators
    from civicgrid.evaluation.models import EvaluationSettings

    config = config or EvaluationSettings.current()
    scope = scope or indicators.EVERYTHING
    times: dict[str, float] = {}
    started = time.perf_counter()
    indicators.region_tables(period, scope=scope, config=config)
    times["regions"] = time.perf_counter() - started
    started = time.perf_counter()
    indicators.unit_rows(period, scope=scope, config=config)
    times["units"] = time.perf_counter() - started
    started = time.perf_counter()
    for role in (Role.INSPECTOR, Role.OPERATOR, Role.SHIFT_LEAD, Role.DISPATCHER):
        indicators.staff_rows(period, role, scope=scope, config=config)
    times["staff"] = time.perf_counter() - started
    started = time.perf_counter()
    indicators.satisfaction_rows(period, scope=scope, config=config)
    times["satisfaction"] = time.perf_counter() - started
    started = time.perf_counter()
    indicators.resolution_rows(period, scope=scope, config=config)
    times["resolution"] = time.perf_counter() - started
    return times


def _county_scope(state: _State):
    from civicgrid.evaluation.indicators import Scope
    from civicgrid.geo.models import Region

    county = Region.objects.filter(level=Region.Level.COUNTY).order_by("pk").first()
    state.where = f"county {county.name} ({county.code})" if county else "no county"
    return Scope(region_prefix=county.code) if county else Scope()


def _platform_scope(state: _State):
    from civicgrid.evaluation.indicators import EVERYTHING
    from civicgrid.geo.models import Region

    counties = Region.objects.filter(level=Region.Level.COUNTY).count()
    state.where = f"the whole platform ({counties} {'county' if counties == 1 else 'counties'})"
    return EVERYTHING


def _scenario(name: str, make_scope, *, direct: bool, what: str) -> Scenario:
    state = _State()

    def setup() -> None:
        from django.core.management import call_command

        from civicgrid.cases.models import Case, CaseEvent
        from civicgrid.cases.workflow import Action
        from civicgrid.evaluation import facts, indicators
        from civicgrid.geo.models import Grid

        if not Grid.objects.exists():
            call_command("demo", "--if-empty", "--cases", "0")
        state.scope = make_scope(state)
        state.cases = Case.objects.count()
        state.period = _last_complete_month()
        state.times = []
        started = time.perf_counter()
        facts.refresh()
        seconds = time.perf_counter() - started
        state.built = f" Facts brought up to date before the runs in {seconds:.1f} s." if seconds > 1 else ""
        if state.period is not None:
            filed = CaseEvent.objects.filter(
                action__in=(Action.FILE, Action.APPROVE_SELF_HANDLED),
                at__gte=state.period.start,
                at__lt=state.period.end,
            )
            if state.scope.region_prefix:
                filed = filed.filter(case__region_code__startswith=state.scope.region_prefix)
            state.cohort = filed.count()
            if direct:  # the direct computation once, for comparison (seconds)
                with indicators.direct():
                    state.direct = sum(evaluate_month(state.period, scope=state.scope).values())
        print(f"    bench database: {state.cases:,} cases, month {state.period and state.period.label}", flush=True)

    def run() -> tuple[int, list[float]]:
        if state.period is None:
            return 1, [0.0]
        times = evaluate_month(state.period, scope=state.scope)
        state.times.append(times)
        return 1, [sum(times.values()) * 1000]

    def teardown() -> None:
        if not state.times:
            return
        totals = [sum(t.values()) for t in state.times]
        parts = ", ".join(f"{part} {statistics.median(t[part] for t in state.times) * 1000:,.0f} ms" for part in PARTS)
        scenario.description += (
            f" Scope: {state.where}. Month {state.period.label}: {state.cohort:,} cases filed in it in the scope;"
            f" {state.cases:,} cases in the database."
            f" Seconds per evaluation: median {statistics.median(totals):.3f}, min {min(totals):.3f},"
            f" max {max(totals):.3f} ({parts})."
            + (f" Direct computation without the facts (one run): {state.direct:.2f} s." if direct else "")
            + state.built
        )

    scenario = Scenario(
        name=name,
        unit="evaluations",
        run=run,
        setup=setup,
        teardown=teardown,
        description=(
            f"Every unit, region (county, streets, communities, grids), staff role, satisfaction and resolution"
            f" for the last complete month of the data, {what}, read from the evaluation's facts; rate ="
            " evaluations per second, latency = seconds of one evaluation in ms."
        ),
        targets=EVALUATION_TARGETS,
    )
    return scenario


# The targets: < 1 s on PostgreSQL with 10,000,000 cases (and the 1,000,000-case
# SQLite database's < 2 s of the evaluation issue). One evaluation's seconds are its "latency".
EVALUATION_TARGETS = {"postgresql": Target(p95_ms=1000), "sqlite": Target(p95_ms=2000)}

SCENARIOS = [
    _scenario(
        "monthly evaluation",
        _county_scope,
        direct=True,
        what="as the bureau of one county sees it (the first county of the database)",
    ),
    _scenario(
        "monthly evaluation, whole platform",
        _platform_scope,
        direct=False,
        what="over every county of the platform (the city's own centre)",
    ),
]

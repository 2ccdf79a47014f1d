"""Indicators (评价指标) computed from the case history: CaseEvent, CaseStage, Rating.

Nothing here reads a counter on Case (rework_count, closed_at, status…): every figure is a
count of history rows, so a period's figures can be recomputed at any time and agree
wherever they are shown (pages, Excel, API). Each function runs a fixed number of
aggregate queries, whatever the number of cases.

Conventions (docs/evaluation.md has the full definitions):

* A period is [start, end) in Asia/Shanghai (civicgrid.evaluation.periods). Flows count
  history rows with start <= at < end. A cohort (应结案数) is the cases that entered in the
  period; what became of them is read from the history **up to the period's end**, so a
  period's figures do not change once it is over.
* Rates are percentages (0–100) as Decimal with two places, rounded half up; None when the
  denominator is 0.
* A stage run without a time limit (no deadline) cannot be late: it counts as on time.

How the cohort queries work: an inner queryset yields one row per cohort event (case id,
group key, time); `_tally` joins those rows with their cases' events (and stage runs) once,
reads each flag as MAX(CASE …) per row, and counts `COUNT(DISTINCT CASE WHEN <flags> THEN
case_id END) … GROUP BY key`: one row per group, each history row read once.

By default the cohorts are read from the evaluation's facts instead (models.EvaluationFact,
civicgrid.evaluation.facts): one row per entering event with the instants of what followed,
built from the same history with the same definitions and refreshed before every read, so a
flag is `instant < end` on one table (`_fact_tally`). The joins above remain the definition:
`direct()` computes with them, and the tests compare both ways on every figure.
"""

from __future__ import annotations

from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import asdict, dataclass, field, fields
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal

from django.db import connection
from django.db.models import Case as SqlCase
from django.db.models import (
    CharField,
    Count,
    DurationField,
    Exists,
    ExpressionWrapper,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.expressions import RawSQL
from django.db.models.fields.json import KT
from django.db.models.functions import Cast, Coalesce
from django.utils.translation import gettext_lazy as _

from civicgrid.cases.models import Case, CaseEvent, CaseStage, Channel, Rating, ResolutionMode, Satisfaction
from civicgrid.cases.workflow import Action
from civicgrid.catalog.models import Stage
from civicgrid.core.models import OrgUnit, Role, User
from civicgrid.evaluation import facts
from civicgrid.evaluation.models import EvaluationFact, EvaluationSettings
from civicgrid.evaluation.periods import Period
from civicgrid.geo.models import Grid, Region, ResponsibilityGrid

# Reports made by citizens (监督举报): the public share of reports and the inspectors' missed
# reports count these channels. Video, leader, media and desk reports are not the public's.
PUBLIC_CHANNELS = (Channel.PUBLIC, Channel.HOTLINE)
# Units a case is dispatched to (as cases.services.HANDLING_UNIT_KINDS).
HANDLING_UNIT_KINDS = (
    OrgUnit.Kind.DEPARTMENT,
    OrgUnit.Kind.STREET_OFFICE,
    OrgUnit.Kind.UTILITY,
    OrgUnit.Kind.CONTRACTOR,
)
LEVELS = ("county", "street", "community", "grid")
HUNDRED = Decimal(100)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
CENT = Decimal("0.01")


def rate(numerator: int, denominator: int) -> Decimal | None:
    """numerator ÷ denominator as a percentage with two places; None for a zero denominator."""
    if not denominator:
        return None
    return (Decimal(numerator) * HUNDRED / Decimal(denominator)).quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class Scope:
    """Which cases a user's evaluation may count: a region-code prefix and/or one handling unit."""

    region_prefix: str | None = None
    unit_id: int | None = None


EVERYTHING = Scope()
# A region code's first six digits are its county (GB/T 2260).
COUNTY_DIGITS = 6


#
# Query helpers
#


def _events(action, period: Period | None = None, scope: Scope = EVERYTHING) -> QuerySet:
    actions = [action] if isinstance(action, str) else list(action)
    qs = CaseEvent.objects.filter(action__in=actions).order_by()
    if period is not None:
        qs = qs.filter(at__gte=period.start, at__lt=period.end)
    if scope.region_prefix:
        qs = qs.filter(case__region_code__startswith=scope.region_prefix)
    return qs


def _case_events(action) -> QuerySet:
    """The outer row's case's events of these actions, found through the case_id index.

    The action and time are wrapped (COALESCE; callers filter on `when`, not `at`) so that no
    planner picks the (action, at) or the at index, which would scan every event of the action
    or of the period for each outer row: a case has a few dozen events, an action or a month
    thousands. SQLite without ANALYZE statistics chose the (action, at) index (a month of
    regions took 2.2 s instead of 35 ms); PostgreSQL with stale statistics ANDed the case_id and
    at indexes (minutes).
    """
    actions = [action] if isinstance(action, str) else list(action)
    return CaseEvent.objects.alias(act=Coalesce("action", Value("")), when=Coalesce("at", Value(EPOCH))).filter(
        case_id=OuterRef("case_id"), act__in=actions
    )


def _case_stages(stage: str) -> QuerySet:
    """The outer row's case's runs of a stage, through the case_id index (see _case_events)."""
    return CaseStage.objects.alias(st=Coalesce("stage", Value(""))).filter(case_id=OuterRef("case_id"), st=stage)


@dataclass(frozen=True)
class Later:
    """A cohort flag read from the case's events: the case has one of `actions` before the
    period's end, at or after the cohort row's own time (since="from"), strictly after it
    ("after"), or at any time ("ever")."""

    actions: tuple[str, ...]
    since: str = "from"


def later(*actions: str) -> Later:
    return Later(tuple(actions), "from")


def after(*actions: str) -> Later:
    return Later(tuple(actions), "after")


def ever(*actions: str) -> Later:
    return Later(tuple(actions), "ever")


@dataclass(frozen=True)
class RunFlag:
    """A cohort flag read from the case's stage runs: some run `s` meets an SQL condition
    (written against the run `s` and the cohort row `d`; %s placeholders for `params`)."""

    condition: str
    params: tuple = ()


def _late_run(stage: str) -> RunFlag:
    """The stage run that the cohort event ended (same case, ended at the event's instant) was late."""
    return RunFlag("COALESCE(s.stage, '') = %s AND s.ended_at = d.at AND s.on_time = %s", (stage, False))


def _overdue_run(end: datetime, *, same_unit: bool = False) -> RunFlag:
    """A handling run of the case started at or after the cohort row's time was overdue by `end`:
    its deadline passed before `end` and it had not ended by its deadline; with `same_unit`,
    a run of the unit that is the row's key.

    A run paused (缓办) keeps its old deadline until it resumes (the deadline is then moved
    by the pause): it is overdue only if that deadline had passed before the pause began.
    """
    condition = (
        "COALESCE(s.stage, '') = %s AND s.started_at >= d.at AND s.deadline < %s"
        " AND (s.ended_at IS NULL OR s.ended_at > s.deadline)"
        " AND (s.paused_since IS NULL OR s.deadline < s.paused_since)"
    )
    if same_unit:
        condition += " AND COALESCE(s.unit_id, 0) = d.key"  # not the unit_id index: see _case_events
    return RunFlag(condition, (Stage.HANDLE.value, connection.ops.adapt_datetimefield_value(end)))


@dataclass
class Cohort:
    """Cohort rows (one per history event) with their flags, ready for `_tally`."""

    qs: QuerySet  # values(): key, case_id, id, at and the expression flags (0/1)
    columns: list[str]
    events: dict[str, Later]
    run: tuple[str, RunFlag] | None
    end: datetime


def _flagged(qs: QuerySet, key, end: datetime, **flags) -> Cohort:
    """Cohort rows of `qs` grouped by `key`. Later flags come from the case's events, one
    RunFlag from its stage runs (both joins in `_tally`); other flags are SQL expressions on
    the row itself (a Q) as 0/1."""
    events = {name: flag for name, flag in flags.items() if isinstance(flag, Later)}
    runs = [(name, flag) for name, flag in flags.items() if isinstance(flag, RunFlag)]
    if len(runs) > 1:
        raise ValueError("one stage-run flag per cohort")
    expressions = {name: _int(flag) for name, flag in flags.items() if not isinstance(flag, Later | RunFlag)}
    columns = ["key", "case_id", "id", "at", *expressions]
    qs = qs.annotate(key=key, **expressions).values(*columns)
    return Cohort(qs, columns, events, runs[0] if runs else None, end)


def _int(expression) -> SqlCase:
    return SqlCase(When(expression, then=Value(1)), default=Value(0), output_field=IntegerField())


def _condition(spec: str) -> str:
    """ "*" for every row; else flags separated by spaces, "-flag" for a flag that is 0."""
    if spec == "*":
        return "1=1"
    return " AND ".join(f"t.{word[1:]} = 0" if word.startswith("-") else f"t.{word} = 1" for word in spec.split())


def _tally(cohort: Cohort, conditions: dict[str, str], *, count: str = "case_id") -> dict:
    """{key: {name: COUNT(DISTINCT count-column) of the cohort rows meeting the condition}}.

    The flags are read in one pass: the cohort rows LEFT JOIN their cases' events of the
    flags' actions (and, for a RunFlag, the stage runs meeting its condition), MAX(CASE …)
    per flag and cohort row. Each event of a cohort case is read once, instead of one EXISTS
    probe per flag and row: 4× faster on SQLite and 10× on PostgreSQL than EXISTS, for a year
    of the demo county. The joins go through the case_id indexes (COALESCE keeps planners off
    the action, time and stage indexes; see _case_events). Conditions are `_condition` specs.
    """
    sql, params = cohort.qs.query.sql_with_params()
    params = list(params)
    if cohort.events or cohort.run:
        end = connection.ops.adapt_datetimefield_value(cohort.end)
        flag_columns, select_params, join_sql, join_params = [], [], "", []
        for name, flag in cohort.events.items():
            marks = ", ".join(["%s"] * len(flag.actions))
            since = {"from": " AND e.at >= d.at", "after": " AND e.at > d.at"}.get(flag.since, "")
            flag_columns.append(
                f"MAX(CASE WHEN e.action IN ({marks}){since} AND e.at < %s THEN 1 ELSE 0 END) AS {name}"
            )
            select_params += [*flag.actions, end]
        if cohort.events:
            actions = sorted({action for flag in cohort.events.values() for action in flag.actions})
            join_sql += (
                f" LEFT JOIN {CaseEvent._meta.db_table} e ON e.case_id = d.case_id"
                f" AND COALESCE(e.action, '') IN ({', '.join(['%s'] * len(actions))})"
            )
            join_params += actions
        if cohort.run:
            name, run = cohort.run
            flag_columns.append(f"MAX(CASE WHEN s.id IS NULL THEN 0 ELSE 1 END) AS {name}")
            join_sql += f" LEFT JOIN {CaseStage._meta.db_table} s ON s.case_id = d.case_id AND {run.condition}"
            join_params += list(run.params)
        kept = ", ".join(f"d.{column}" for column in cohort.columns)
        sql = f"SELECT {kept}, {', '.join(flag_columns)} FROM ({sql}) d{join_sql} GROUP BY {kept}"
        params = select_params + params + join_params
    columns = ", ".join(
        f"COUNT(DISTINCT CASE WHEN {_condition(spec)} THEN t.{count} END)" for spec in conditions.values()
    )
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT t.key, {columns} FROM ({sql}) t GROUP BY t.key", params)
        return {row[0]: dict(zip(conditions, row[1:], strict=True)) for row in cursor.fetchall()}


def _counts(qs: QuerySet, key, **aggregates) -> dict:
    """{key: {name: value}} from one GROUP BY query."""
    rows = qs.annotate(key=key).values("key").annotate(**aggregates).order_by()
    return {row.pop("key"): row for row in rows}


#
# The pre-aggregated path (EvaluationFact, civicgrid.evaluation.facts): the same cohorts and
# flags, read as `instant < end` from one table. `direct()` switches back to the joins above
# (the tests compute every figure both ways).
#

_direct: ContextVar[bool] = ContextVar("civicgrid_evaluation_direct", default=False)


@contextmanager
def direct():
    """Compute from CaseEvent/CaseStage directly, without the facts (tests, comparisons)."""
    token = _direct.set(True)
    try:
        yield
    finally:
        _direct.reset(token)


def _use_facts() -> bool:
    """Whether to read the facts; brings them up to date first (one query if nothing is new)."""
    if _direct.get():
        return False
    facts.refresh()
    return True


FACT_TABLE = EvaluationFact._meta.db_table


def _fact_where(actions, period: Period, scope: Scope, *, role: str | None = None, unit_key: bool = False):
    actions = [actions] if isinstance(actions, str) else list(actions)
    where = [f"f.action IN ({', '.join(['%s'] * len(actions))})", "f.at >= %s", "f.at < %s"]
    params = [str(a) for a in actions] + [
        connection.ops.adapt_datetimefield_value(period.start),
        connection.ops.adapt_datetimefield_value(period.end),
    ]
    if scope.region_prefix:
        # The county's six digits as written in the evalfact_county_action_at index, so that a
        # county's (or street's, community's) month is a range of it, not of every county's.
        substr = "SUBSTR" if connection.vendor == "sqlite" else "SUBSTRING"  # as Django's Substr writes it
        where.append(f"{substr}(f.region_code, 1, {COUNTY_DIGITS}) = %s")
        params.append(scope.region_prefix[:COUNTY_DIGITS])
        if len(scope.region_prefix) > COUNTY_DIGITS:
            where.append("SUBSTR(f.region_code, 1, %s) = %s")
            params += [len(scope.region_prefix), scope.region_prefix]
    if role is not None:
        where.append("f.actor_role = %s")
        params.append(str(role))
    if unit_key and scope.unit_id is not None:
        where.append("f.unit_key = %s")
        params.append(scope.unit_id)
    return " AND ".join(where), params


def _before(column: str, end: datetime) -> tuple[str, list]:
    """Flag: the instant in `column` is before the period's end."""
    return f"f.{column} < %s", [connection.ops.adapt_datetimefield_value(end)]


def _fact_tally(
    actions,
    period: Period,
    scope: Scope,
    key: str,
    flags: dict[str, tuple[str, list]],
    conditions: dict[str, str],
    *,
    count: str = "case_id",
    role: str | None = None,
    unit_key: bool = False,
    join: str = "",
) -> dict:
    """As `_tally`, from the facts: {key: {name: COUNT(DISTINCT …) of the rows meeting the condition}}."""
    where, where_params = _fact_where(actions, period, scope, role=role, unit_key=unit_key)
    flag_sql, flag_params = [], []
    for name, (condition, params) in flags.items():
        flag_sql.append(f"CASE WHEN {condition} THEN 1 ELSE 0 END AS {name}")
        flag_params += params
    flag_list = "".join(f", {sql}" for sql in flag_sql)
    rows = f"SELECT {key} AS key, f.case_id, f.event_id AS id{flag_list} FROM {FACT_TABLE} f{join} WHERE {where}"
    if count == "id" and not join:
        # A fact row is one event: counting events needs no DISTINCT.
        columns = ", ".join(f"COUNT(CASE WHEN {_condition(spec)} THEN 1 END)" for spec in conditions.values())
        sql = f"SELECT t.key, {columns} FROM ({rows}) t GROUP BY t.key"
    else:
        columns = ", ".join(
            f"COUNT(DISTINCT CASE WHEN {_condition(spec)} THEN t.{count} END)" for spec in conditions.values()
        )
        sql = f"SELECT t.key, {columns} FROM ({rows}) t GROUP BY t.key"
    with connection.cursor() as cursor:
        cursor.execute(sql, flag_params + where_params)
        return {row[0]: dict(zip(conditions, row[1:], strict=True)) for row in cursor.fetchall()}


def _fact_counts(actions, period: Period, scope: Scope, key: str, aggregates: dict[str, str], *, role=None) -> dict:
    """{key: {name: value}}: plain aggregates (SQL over f) of the facts of a period."""
    where, params = _fact_where(actions, period, scope, role=role)
    columns = ", ".join(aggregates.values())
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {key}, {columns} FROM {FACT_TABLE} f WHERE {where} GROUP BY {key}", params)
        return {row[0]: dict(zip(aggregates, (v or 0 for v in row[1:]), strict=True)) for row in cursor.fetchall()}


#
# Rows
#


@dataclass
class Row:
    """Common to every row: what is evaluated, and the composite score once computed."""

    id: int
    code: str
    name: str
    score: Decimal | None = field(default=None, kw_only=True)
    grade: str | None = field(default=None, kw_only=True)

    def as_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def field_names(cls) -> list[str]:
        return [f.name for f in fields(cls)]


@dataclass
class RegionRow(Row):
    """One street, community or grid (or the county) over a period."""

    level: str = ""
    grids: int = 0
    reports: int = 0
    public_reports: int = 0
    public_share: Decimal | None = None
    filed: int = 0
    voided: int = 0
    deferred: int = 0
    should_close: int = 0
    closed: int = 0
    closed_on_time: int = 0
    overdue: int = 0
    closure_rate: Decimal | None = None
    on_time_rate: Decimal | None = None
    cases_per_grid: Decimal | None = None


def region_conditions(config: EvaluationSettings) -> dict[str, str]:
    """Which filed cases each region count takes (flags of the cohort; see _condition). The
    drill-down lists (civicgrid.evaluation.drilldown) pick their cases by the same table."""
    counted = "-voided -deferred" if config.exclude_deferred else "-voided"
    return {
        "filed": "*",
        "voided": "voided",
        "deferred": "deferred -voided",
        "should_close": counted,
        "closed": f"{counted} closed",
        "closed_on_time": f"{counted} closed -overdue",
        "overdue": f"{counted} overdue",
    }


def unit_conditions(config: EvaluationSettings) -> dict[str, str]:
    """Which dispatched cases each unit count takes; shared with the drill-down lists."""
    counted = "-returned -deferred" if config.exclude_deferred else "-returned"
    return {
        "received": "*",
        "returned": "returned",
        "deferred": "deferred -returned",
        "should_close": counted,
        "handled": f"{counted} handled",
        "closed": f"{counted} closed",
        "closed_on_time": f"{counted} closed -overdue",
        "overdue": f"{counted} overdue",
        "reworked": f"{counted} reworked",
        "extended": f"{counted} extended",
    }


def region_rows(
    period: Period, level: str = "street", *, scope: Scope = EVERYTHING, config: EvaluationSettings | None = None
) -> list[RegionRow]:
    """Streets, communities or grids (or the county: one row) over the period; see region_tables."""
    return region_tables(period, (level,), scope=scope, config=config)[level]


def region_tables(
    period: Period,
    levels: tuple[str, ...] = LEVELS,
    *,
    scope: Scope = EVERYTHING,
    config: EvaluationSettings | None = None,
) -> dict[str, list[RegionRow]]:
    """{level: rows} for the county, streets, communities and grids, by where the case is.

    * reports: report events in the period (every channel, self-handled included);
      public_reports: those from PUBLIC_CHANNELS; public_share = public ÷ reports (监督举报率).
    * filed (立案数): cases filed (file event) or self-handled and approved (approve_self_handled)
      in the period: the cohort of cases the region should close.
    * voided: filed cases voided (approve_void) before the period's end; deferred: filed cases
      deferred (approve_deferral) before the period's end.
    * should_close (应结案数) = filed − voided − deferred (deferred only when
      EvaluationSettings.exclude_deferred).
    * closed (结案数): of should_close, closed (close or approve_self_handled) before the end.
    * overdue: of should_close, cases with a handling run overdue by the end (its deadline
      passed before the end and it had not ended by its deadline).
    * closed_on_time (按期结案数): closed and not overdue.
    * closure_rate = closed ÷ should_close; on_time_rate = closed_on_time ÷ should_close.
    * cases_per_grid = filed ÷ the number of unit grids in the region.

    The counts are taken once per grid and added up: a case lies in one grid, so the sums of
    the grids' distinct cases are the communities', streets' and county's. Rows are the
    regions with unit grids in the reader's scope.
    """
    config = config or EvaluationSettings.current()
    for level in levels:
        if level not in LEVELS:
            raise ValueError(level)
    end = period.end
    key = F("case__grid_id")
    conditions = region_conditions(config)
    if _use_facts():
        reports = _fact_counts(
            "report",
            period,
            scope,
            "f.grid_id",
            {"reports": "COUNT(*)", "public_reports": "SUM(CASE WHEN f.public THEN 1 ELSE 0 END)"},
        )
        tallies = _fact_tally(
            (Action.FILE, Action.APPROVE_SELF_HANDLED),
            period,
            scope,
            "f.grid_id",
            {
                "voided": _before("void_ever", end),
                "deferred": _before("deferral_ever", end),
                "closed": _before("closed_from", end),
                "overdue": _before("overdue", end),
            },
            conditions,
        )
    else:
        reports = _counts(
            _events("report", period, scope),
            key,
            reports=Count("id"),
            public_reports=Count("id", filter=Q(case__channel__in=PUBLIC_CHANNELS)),
        )
        cohort = _flagged(
            _events((Action.FILE, Action.APPROVE_SELF_HANDLED), period, scope),
            key,
            end,
            voided=ever(Action.APPROVE_VOID),
            deferred=ever(Action.APPROVE_DEFERRAL),
            closed=later(Action.CLOSE, Action.APPROVE_SELF_HANDLED),
            overdue=_overdue_run(end),
        )
        tallies = _tally(cohort, conditions)
    grids = Grid.objects.order_by("code")
    if scope.region_prefix:
        grids = grids.filter(region_code__startswith=scope.region_prefix)
    grids = list(
        grids.values_list("pk", "code", "name", "community_id", "community__parent_id", "community__parent__parent_id")
    )
    # A reader limited to a region sees one "county" row: their region, whose part is their
    # total. Otherwise one row per county (a platform may serve several).
    own_region = scope.region_prefix is not None and "county" in levels
    position = {"community": 3, "street": 4, "county": 5}

    def key_of(grid: tuple, level: str) -> int:
        if level == "grid":
            return grid[0]
        return 0 if level == "county" and own_region else grid[position[level]]

    names: dict[tuple[str, int], tuple[str, str]] = {}
    for pk, code, name, *_regions in grids:
        names["grid", pk] = (code, name or code)
    wanted = {key_of(grid, level) for grid in grids for level in levels if level != "grid"} - {0}
    if wanted:
        for region in Region.objects.filter(pk__in=wanted).only("pk", "code", "name", "level"):
            names[region.level, region.pk] = (region.code, region.name)
    totals: dict[str, dict[int, dict]] = {level: {} for level in levels}
    if own_region:
        region = Region.objects.filter(code=scope.region_prefix).first()
        names["county", 0] = (region.code, region.name) if region else (scope.region_prefix, scope.region_prefix)
        totals["county"][0] = {}  # one row, even for a reader whose region has no grids
    for grid in grids:
        counts = {**reports.get(grid[0], {}), **tallies.get(grid[0], {}), "grids": 1}
        for level in levels:
            target = totals[level].setdefault(key_of(grid, level), {})
            for attr, value in counts.items():
                target[attr] = target.get(attr, 0) + value

    tables = {}
    for level in levels:
        rows = []
        for pk, counts in totals[level].items():
            code, name = names.get((level, pk), ("", ""))
            rows.append(_region_row(RegionRow(pk, code, name, level=level), counts))
        tables[level] = sorted(rows, key=lambda row: row.code)
    return tables


def _region_row(row: RegionRow, counts: dict) -> RegionRow:
    for attr, value in counts.items():
        setattr(row, attr, value)
    row.public_share = rate(row.public_reports, row.reports)
    row.closure_rate = rate(row.closed, row.should_close)
    row.on_time_rate = rate(row.closed_on_time, row.should_close)
    row.cases_per_grid = (Decimal(row.filed) / row.grids).quantize(CENT, rounding=ROUND_HALF_UP) if row.grids else None
    return row


REGION_COUNTS = (
    "grids",
    "reports",
    "public_reports",
    "filed",
    "voided",
    "deferred",
    "should_close",
    "closed",
    "closed_on_time",
    "overdue",
)


def region_total(rows: list[RegionRow]) -> RegionRow:
    """One row for several regions (disjoint, e.g. the counties of a platform): counts added, rates recomputed."""
    if len(rows) == 1:
        return rows[0]
    counts = {attr: sum(getattr(row, attr) for row in rows) for attr in REGION_COUNTS}
    return _region_row(RegionRow(0, "", str(_("全部")), level="county"), counts)


#
# Handling units
#


@dataclass
class UnitRow(Row):
    """One handling unit over a period."""

    received: int = 0
    returned: int = 0
    deferred: int = 0
    should_close: int = 0
    handled: int = 0
    closed: int = 0
    closed_on_time: int = 0
    overdue: int = 0
    reworked: int = 0
    extended: int = 0
    closure_rate: Decimal | None = None
    on_time_rate: Decimal | None = None
    rework_rate: Decimal | None = None
    extension_rate: Decimal | None = None
    overdue_rate: Decimal | None = None
    handling_runs: int = 0
    average_handling_hours: Decimal | None = None
    rated: int = 0
    satisfied: int = 0
    satisfaction_rate: Decimal | None = None


def _dispatch_cohort(period: Period, scope: Scope) -> QuerySet:
    """Dispatch and reopen events of the period with the receiving unit as `unit_key`."""
    qs = _events((Action.DISPATCH, Action.REOPEN), period, scope).annotate(
        unit_key=Cast(KT("data__unit__id"), IntegerField())
    )
    if scope.unit_id is not None:
        qs = qs.filter(unit_key=scope.unit_id)
    return qs


def unit_rows(period: Period, *, scope: Scope = EVERYTHING, config: EvaluationSettings | None = None) -> list[UnitRow]:
    """Handling units over the period; the cohort is the cases dispatched to the unit in it.

    * received (派遣数): cases dispatched (dispatch) or sent back after 不满意 (reopen) to the
      unit in the period, each case once.
    * returned (回退数): of received, cases returned (approve_return) after that dispatch and
      before the end; they leave the unit's denominators (a wrong dispatch is not the unit's).
    * deferred (缓办数): of received, cases deferred (approve_deferral) after the dispatch and
      before the end; they leave the denominators when EvaluationSettings.exclude_deferred.
    * should_close (应结案数) = received − returned − deferred (a case sent to the unit twice
      in the period counts if either dispatch qualifies).
    * handled: of should_close, with a 处置反馈 (handled) before the end.
    * closed (结案数): of should_close, closed (close) before the end.
    * overdue (超期数): of should_close, with a handling run of this unit overdue by the end.
    * closed_on_time (按期结案数): closed and not overdue.
    * reworked (返工数): of should_close, with a failed check (check_fail) before the end.
    * extended (延期数): of should_close, with an approved extension before the end.
    * closure_rate = closed ÷ should_close; on_time_rate = closed_on_time ÷ should_close;
      overdue_rate = overdue ÷ should_close; extension_rate = extended ÷ should_close;
      rework_rate = reworked ÷ handled.
    * average_handling_hours: mean wall-clock hours (pauses included) of the unit's handling
      runs that ended with a 处置反馈 in the period (handling_runs of them).
    * rated / satisfied / satisfaction_rate: ratings of the unit's cases given in the period
      (see satisfaction_rows).
    """
    config = config or EvaluationSettings.current()
    end = period.end
    conditions = unit_conditions(config)
    from_facts = _use_facts()
    if from_facts:
        tallies = _fact_tally(
            (Action.DISPATCH, Action.REOPEN),
            period,
            scope,
            "f.unit_key",
            {
                "returned": _before("return_from", end),
                "deferred": _before("deferral_from", end),
                "handled": _before("handled_from", end),
                "closed": _before("close_from", end),
                "reworked": _before("check_fail_from", end),
                "extended": _before("extension_from", end),
                "overdue": _before("overdue_unit", end),
            },
            conditions,
            unit_key=True,
        )
    else:
        cohort = _flagged(
            _dispatch_cohort(period, scope),
            F("unit_key"),
            end,
            returned=later(Action.APPROVE_RETURN),
            deferred=later(Action.APPROVE_DEFERRAL),
            handled=later(Action.HANDLED),
            closed=later(Action.CLOSE),
            reworked=later(Action.CHECK_FAIL),
            extended=later(Action.APPROVE_EXTENSION),
            overdue=_overdue_run(end, same_unit=True),
        )
        tallies = _tally(cohort, conditions)
    ratings = _rating_counts(period, scope, config, by_unit=True, from_facts=from_facts)
    times = _handling_times(period, scope, from_facts=from_facts)

    units = OrgUnit.objects.filter(kind__in=HANDLING_UNIT_KINDS).order_by("code")
    if scope.unit_id is not None:
        units = units.filter(pk=scope.unit_id)
    active = set(tallies) | set(times) | set(ratings)
    rows = []
    for unit in units:
        if not unit.is_active and unit.pk not in active:
            continue
        row = UnitRow(unit.pk, unit.code, unit.name)
        for attr, value in tallies.get(unit.pk, {}).items():
            setattr(row, attr, value)
        row.closure_rate = rate(row.closed, row.should_close)
        row.on_time_rate = rate(row.closed_on_time, row.should_close)
        row.overdue_rate = rate(row.overdue, row.should_close)
        row.extension_rate = rate(row.extended, row.should_close)
        row.rework_rate = rate(row.reworked, row.handled)
        timing = times.get(unit.pk)
        if timing:
            row.handling_runs = timing["handling_runs"]
            row.average_handling_hours = _hours(timing["duration"])
        rating = ratings.get(unit.pk, {})
        row.rated, row.satisfied = rating.get("rated", 0), rating.get("satisfied", 0)
        row.satisfaction_rate = rate(row.satisfied, row.rated)
        rows.append(row)
    return rows


def _handling_times(period: Period, scope: Scope, *, from_facts: bool) -> dict:
    """{unit id: {"handling_runs": n, "duration": mean}} of the unit's handling runs ended in the
    period by a 处置反馈 (a check run starts at the same instant; a return starts a dispatch run
    instead). From the facts: the handled rows' `at − run_started`, without reading the runs
    and their cases (at 10,000,000 cases a month's runs joined to their cases took seconds).
    Both ways sum the durations in the database and divide here: the same mean to the microsecond."""
    sqlite = connection.vendor == "sqlite"
    if from_facts:
        where, params = _fact_where(Action.HANDLED, period, scope, unit_key=True)
        total = _SQLITE_MICROSECONDS.format(end="f.at", start="f.run_started") if sqlite else "f.at - f.run_started"
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT f.unit_key, COUNT(*), SUM({total}) FROM {FACT_TABLE} f"
                f" WHERE {where} AND f.run_started IS NOT NULL GROUP BY f.unit_key",
                params,
            )
            sums = {unit: (n, total) for unit, n, total in cursor.fetchall()}
    else:
        runs = CaseStage.objects.filter(
            stage=Stage.HANDLE, ended_at__gte=period.start, ended_at__lt=period.end, unit__isnull=False
        ).filter(Exists(_case_stages(Stage.CHECK).filter(started_at=OuterRef("ended_at"))))
        if scope.region_prefix:
            runs = runs.filter(case__region_code__startswith=scope.region_prefix)
        if scope.unit_id is not None:
            runs = runs.filter(unit_id=scope.unit_id)
        if sqlite:
            table = CaseStage._meta.db_table
            micro = _SQLITE_MICROSECONDS.format(end=f"{table}.ended_at", start=f"{table}.started_at")
            total = Sum(RawSQL(micro, ()))
        else:
            total = Sum(ExpressionWrapper(F("ended_at") - F("started_at"), output_field=DurationField()))
        rows = _counts(runs, F("unit_id"), handling_runs=Count("id"), total=total)
        sums = {unit: (row["handling_runs"], row["total"]) for unit, row in rows.items()}
    return {
        unit: {"handling_runs": n, "duration": Decimal(total) / n if sqlite else total / n}
        for unit, (n, total) in sums.items()
    }


# SQLite: whole seconds by strftime plus the six digits of microseconds Django writes. Django
# subtracts SQLite's text datetimes with a Python function per row (a month at 1,000,000 cases:
# 0.36 s of 0.53 s); natively it took 0.21 s, and the sum of microseconds gives an exact mean.
_SQLITE_MICROSECONDS = (
    "(strftime('%%s', {end}) - strftime('%%s', {start})) * 1000000"
    " + CAST(substr({end}, 21) AS INTEGER) - CAST(substr({start}, 21) AS INTEGER)"
)


def _hours(duration) -> Decimal | None:
    if duration is None:
        return None
    if not hasattr(duration, "total_seconds"):  # some backends return microseconds
        return (Decimal(duration) / Decimal(3_600_000_000)).quantize(CENT, rounding=ROUND_HALF_UP)
    return (Decimal(str(duration.total_seconds())) / Decimal(3600)).quantize(CENT, rounding=ROUND_HALF_UP)


#
# Satisfaction
#


@dataclass
class SatisfactionRow(Row):
    """Ratings of one handling unit's cases (or of all cases: id 0) given in the period."""

    rated: int = 0
    hotline: int = 0
    portal: int = 0
    level_satisfied: int = 0
    level_basically: int = 0
    level_dissatisfied: int = 0
    satisfied: int = 0
    satisfaction_rate: Decimal | None = None
    target: Decimal | None = None
    meets_target: bool | None = None


def _rating_counts(
    period: Period, scope: Scope, config: EvaluationSettings, *, by_unit: bool, from_facts: bool
) -> dict:
    """{unit id (or 0 for all): counts} of the ratings given in the period. From the facts: the
    rating events' rows carry the Rating's level, source and unit (a month's ratings joined to
    their cases for the county took seconds at 10,000,000 cases)."""
    good = (
        [Satisfaction.SATISFIED, Satisfaction.BASICALLY]
        if config.basically_satisfied_counts
        else [Satisfaction.SATISFIED]
    )
    if from_facts:
        where, params = _fact_where(facts.RATING_ACTIONS, period, scope, unit_key=True)
        counted = {
            "rated": ("f.satisfaction <> ''", []),
            "hotline": ("f.source = %s", [Rating.Source.HOTLINE.value]),
            "portal": ("f.source = %s", [Rating.Source.PORTAL.value]),
            "level_satisfied": ("f.satisfaction = %s", [Satisfaction.SATISFIED.value]),
            "level_basically": ("f.satisfaction = %s", [Satisfaction.BASICALLY.value]),
            "level_dissatisfied": ("f.satisfaction = %s", [Satisfaction.DISSATISFIED.value]),
            "satisfied": (f"f.satisfaction IN ({', '.join(['%s'] * len(good))})", [str(level) for level in good]),
        }
        columns = ", ".join(f"SUM(CASE WHEN {condition} THEN 1 ELSE 0 END)" for condition, _p in counted.values())
        column_params = [p for _condition, values in counted.values() for p in values]
        key = "f.unit_key" if by_unit else "0"
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT {key}, {columns} FROM {FACT_TABLE} f WHERE {where} AND f.satisfaction <> '' GROUP BY 1",
                column_params + params,
            )
            return {row[0]: dict(zip(counted, row[1:], strict=True)) for row in cursor.fetchall()}
    qs = Rating.objects.filter(created_at__gte=period.start, created_at__lt=period.end).order_by()
    if scope.region_prefix:
        qs = qs.filter(case__region_code__startswith=scope.region_prefix)
    if scope.unit_id is not None:
        qs = qs.filter(unit_id=scope.unit_id)
    return _counts(
        qs,
        F("unit_id") if by_unit else Value(0, IntegerField()),
        rated=Count("id"),
        hotline=Count("id", filter=Q(source=Rating.Source.HOTLINE)),
        portal=Count("id", filter=Q(source=Rating.Source.PORTAL)),
        level_satisfied=Count("id", filter=Q(satisfaction=Satisfaction.SATISFIED)),
        level_basically=Count("id", filter=Q(satisfaction=Satisfaction.BASICALLY)),
        level_dissatisfied=Count("id", filter=Q(satisfaction=Satisfaction.DISSATISFIED)),
        satisfied=Count("id", filter=Q(satisfaction__in=good)),
    )


def satisfaction_rows(
    period: Period, *, scope: Scope = EVERYTHING, config: EvaluationSettings | None = None
) -> tuple[SatisfactionRow, list[SatisfactionRow]]:
    """(overall, per unit): ratings (cases.Rating, portal and 12345 回访) given in the period.

    * rated (回访评价数): ratings given in the period, each rating once (a case rated again
      after it was reopened and closed again counts again); hotline / portal by source.
    * satisfied: 满意, plus 基本满意 when EvaluationSettings.basically_satisfied_counts.
    * satisfaction_rate = satisfied ÷ rated; meets_target: rate ≥ the target (95 % by default).
    * The unit is the one the rating names (the case's handling unit when it was rated);
      ratings of cases without a unit count only in the overall row.
    """
    config = config or EvaluationSettings.current()
    from_facts = _use_facts()
    by_unit = _rating_counts(period, scope, config, by_unit=True, from_facts=from_facts)
    overall = _rating_counts(period, scope, config, by_unit=False, from_facts=from_facts).get(0, {})
    names = {u.pk: u for u in OrgUnit.objects.filter(pk__in=[k for k in by_unit if k is not None])}

    def make(pk, code, name, counts) -> SatisfactionRow:
        row = SatisfactionRow(pk, code, name, **counts)
        row.satisfaction_rate = rate(row.satisfied, row.rated)
        row.target = config.satisfaction_target
        row.meets_target = None if row.satisfaction_rate is None else row.satisfaction_rate >= row.target
        return row

    total = make(0, "", str(_("全部")), overall)
    rows = [
        make(pk, names[pk].code, names[pk].name, counts)
        for pk, counts in sorted(by_unit.items(), key=lambda item: names[item[0]].code if item[0] in names else "")
        if pk in names
    ]
    return total, rows


#
# Resolution mode
#


@dataclass
class ResolutionRow(Row):
    """How the cases closed in the period were solved: service, management, enforcement."""

    closures: int = 0
    service: int = 0
    management: int = 0
    enforcement: int = 0
    service_share: Decimal | None = None
    management_share: Decimal | None = None
    enforcement_share: Decimal | None = None
    service_target: Decimal | None = None
    management_target: Decimal | None = None
    enforcement_target: Decimal | None = None


def resolution_rows(
    period: Period, *, scope: Scope = EVERYTHING, config: EvaluationSettings | None = None
) -> tuple[ResolutionRow, list[ResolutionRow]]:
    """(overall, per unit): the closures (close events) of the period by resolution mode.

    The mode is the resolution_mode given with the case's latest 处置反馈 before the closure
    (CaseEvent data["resolution_mode"]); a 处置反馈 without one is 服务 (as the service
    records it). The unit is the one that gave that 处置反馈. Self-handled closures have no
    处置反馈 and are not counted; a 维持结案 after 不满意 is not a new closure.
    """
    config = config or EvaluationSettings.current()
    if _use_facts():
        where, params = _fact_where(Action.CLOSE, period, scope)
        if scope.unit_id is not None:
            where += " AND f.handled_by = %s"
            params.append(scope.unit_id)
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT f.handled_by, f.mode, COUNT(*) FROM {FACT_TABLE} f WHERE {where}"
                " GROUP BY f.handled_by, f.mode",
                params,
            )
            rows = [{"handled_by": unit, "mode": mode, "n": n} for unit, mode, n in cursor.fetchall()]
    else:
        rows = _closures_direct(period, scope)
    per_unit: dict = {}
    for row in rows:  # one row per (unit, mode): a handful of rows, not cases
        per_unit.setdefault(row["handled_by"], {}).setdefault(row["mode"], 0)
        per_unit[row["handled_by"]][row["mode"]] += row["n"]
    return _resolution_rows(per_unit, config)


def _closures_direct(period: Period, scope: Scope):
    handled = _case_events(Action.HANDLED).filter(when__lte=OuterRef("at"))
    closes = _events(Action.CLOSE, period, scope).annotate(
        mode=Coalesce(
            Subquery(
                handled.filter(data__has_key="resolution_mode")
                .order_by("-at", "-id")
                .annotate(mode=KT("data__resolution_mode"))
                .values("mode")[:1]
            ),
            Value(ResolutionMode.SERVICE.value),
            output_field=CharField(),
        ),
        handled_by=Subquery(handled.order_by("-at", "-id").values("unit_id")[:1]),
    )
    if scope.unit_id is not None:
        closes = closes.filter(handled_by=scope.unit_id)
    return closes.values("handled_by", "mode").annotate(n=Count("id")).order_by()


def _resolution_rows(per_unit: dict, config: EvaluationSettings) -> tuple[ResolutionRow, list[ResolutionRow]]:
    names = {u.pk: u for u in OrgUnit.objects.filter(pk__in=[k for k in per_unit if k is not None])}

    def make(pk, code, name, modes) -> ResolutionRow:
        row = ResolutionRow(pk, code, name)
        row.service = modes.get(ResolutionMode.SERVICE, 0)
        row.management = modes.get(ResolutionMode.MANAGEMENT, 0)
        row.enforcement = modes.get(ResolutionMode.ENFORCEMENT, 0)
        row.closures = row.service + row.management + row.enforcement
        row.service_share = rate(row.service, row.closures)
        row.management_share = rate(row.management, row.closures)
        row.enforcement_share = rate(row.enforcement, row.closures)
        row.service_target = config.service_target
        row.management_target = config.management_target
        row.enforcement_target = config.enforcement_target
        return row

    overall: dict = {}
    for modes in per_unit.values():
        for mode, n in modes.items():
            overall[mode] = overall.get(mode, 0) + n
    total = make(0, "", str(_("全部")), overall)
    unit_list = sorted((pk for pk in per_unit if pk in names), key=lambda pk: names[pk].code)
    return total, [make(pk, names[pk].code, names[pk].name, per_unit[pk]) for pk in unit_list]


#
# Staff
#


@dataclass
class StaffRow(Row):
    """One member of staff over a period; only the fields of their role are filled in."""

    role: str = ""
    unit: str = ""


@dataclass
class InspectorRow(StaffRow):
    reports: int = 0
    valid_reports: int = 0
    valid_report_rate: Decimal | None = None
    verifications: int = 0
    verified_on_time: int = 0
    on_time_verify_rate: Decimal | None = None
    checks: int = 0
    checked_on_time: int = 0
    on_time_check_rate: Decimal | None = None
    grid_filed: int = 0
    missed_reports: int = 0
    missed_report_rate: Decimal | None = None


@dataclass
class DeskRow(StaffRow):
    """Operators (受理员) and shift leads (值班长): both register and file; shift leads close."""

    registered: int = 0
    filing_decisions: int = 0
    filed_on_time: int = 0
    on_time_filing_rate: Decimal | None = None
    filed: int = 0
    voided_after_filing: int = 0
    accurate_filing_rate: Decimal | None = None
    closes: int = 0
    closed_on_time: int = 0
    on_time_closing_rate: Decimal | None = None


@dataclass
class DispatcherRow(StaffRow):
    dispatched: int = 0
    dispatched_on_time: int = 0
    on_time_dispatch_rate: Decimal | None = None
    reworked: int = 0
    returned: int = 0
    accurate_dispatch_rate: Decimal | None = None


STAFF_ROLES = (Role.INSPECTOR, Role.OPERATOR, Role.SHIFT_LEAD, Role.DISPATCHER)


def _by_actor(action, period: Period, scope: Scope, role: str) -> QuerySet:
    return _events(action, period, scope).filter(actor_role=role)


def staff_rows(
    period: Period, role: str, *, scope: Scope = EVERYTHING, config: EvaluationSettings | None = None
) -> list[StaffRow]:
    """Staff of one role over the period, from the events they acted in (CaseEvent.actor).

    Inspectors (监督员):
    * reports: their report events in the period; valid_reports (有效上报数): of those, filed
      or self-handled and approved before the end; valid_report_rate = valid ÷ reports.
    * verifications: their 核实 events (verify_confirm / verify_deny) in the period;
      verified_on_time: the verify run each ended was not late; on_time_verify_rate.
    * checks: their 核查 events (check_pass / check_fail); checked_on_time; on_time_check_rate.
    * missed_reports (漏报数): public reports (PUBLIC_CHANNELS) made in the period in grids of
      the inspector's responsibility grids and filed before the end (a problem the inspector
      had found first is merged into the inspector's case, not filed); grid_filed: all cases
      reported in the period in those grids and filed before the end; missed_report_rate =
      missed ÷ grid_filed (漏报率 = 漏报数 ÷ 立案数). The grid → inspector assignment is the
      current one (responsibility grids keep no history).
    Operators (受理员) and shift leads (值班长):
    * registered (受理数): report events they made (desk registrations) in the period.
    * filing_decisions: their file and reject events; filed_on_time: the file run each ended
      was not late; on_time_filing_rate (按时立案率).
    * filed: their file events; voided_after_filing: of those, voided (approve_void) later but
      before the end; accurate_filing_rate (准确立案率) = (filed − voided) ÷ filed.
    * closes (shift leads): their close events; closed_on_time: the close run was not late;
      on_time_closing_rate (按时结案率).
    Dispatchers (派遣员):
    * dispatched: their dispatch events; dispatched_on_time: the dispatch run was not late;
      on_time_dispatch_rate (按时派遣率).
    * reworked: of the dispatches, cases with a failed check after it and before the end;
      accurate_dispatch_rate (准确派遣率) = (dispatched − reworked) ÷ dispatched, as in the
      reference (准确派遣数 = 派遣数 − 返工数); returned (returns after it) is shown beside it.
    Counts are of events (a person who files the same case twice counts twice).
    """
    end = period.end
    key = F("actor_id")
    data: dict = {}

    def merge(result: dict) -> None:
        for pk, values in result.items():
            data.setdefault(pk, {}).update(values)

    if role not in STAFF_ROLES:
        raise ValueError(role)
    if _use_facts():
        _staff_from_facts(period, role, scope, merge)
    elif role == Role.INSPECTOR:
        reports = _flagged(
            _by_actor("report", period, scope, role),
            key,
            end,
            valid=ever(Action.FILE, Action.APPROVE_SELF_HANDLED),
        )
        merge(_tally(reports, {"reports": "*", "valid_reports": "valid"}, count="id"))
        verify = _flagged(
            _by_actor((Action.VERIFY_CONFIRM, Action.VERIFY_DENY), period, scope, role),
            key,
            end,
            late=_late_run(Stage.VERIFY),
        )
        merge(_tally(verify, {"verifications": "*", "verified_on_time": "-late"}, count="id"))
        check = _flagged(
            _by_actor((Action.CHECK_PASS, Action.CHECK_FAIL), period, scope, role),
            key,
            end,
            late=_late_run(Stage.CHECK),
        )
        merge(_tally(check, {"checks": "*", "checked_on_time": "-late"}, count="id"))
        in_grids = _flagged(
            _events("report", period, scope),
            F("case__grid__responsibility_grids__inspector_id"),
            end,
            filed=ever(Action.FILE),
            public=Q(case__channel__in=PUBLIC_CHANNELS),
        )
        merge(_tally(in_grids, {"grid_filed": "filed", "missed_reports": "filed public"}))
    elif role in (Role.OPERATOR, Role.SHIFT_LEAD):
        merge(_counts(_by_actor("report", period, scope, role), key, registered=Count("id")))
        decisions = _flagged(
            _by_actor((Action.FILE, Action.REJECT), period, scope, role),
            key,
            end,
            late=_late_run(Stage.FILE),
            is_file=Q(action=Action.FILE),
            voided=after(Action.APPROVE_VOID),
        )
        merge(
            _tally(
                decisions,
                {
                    "filing_decisions": "*",
                    "filed_on_time": "-late",
                    "filed": "is_file",
                    "voided_after_filing": "is_file voided",
                },
                count="id",
            )
        )
        if role == Role.SHIFT_LEAD:
            closes = _flagged(_by_actor(Action.CLOSE, period, scope, role), key, end, late=_late_run(Stage.CLOSE))
            merge(_tally(closes, {"closes": "*", "closed_on_time": "-late"}, count="id"))
    elif role == Role.DISPATCHER:
        dispatches = _flagged(
            _by_actor(Action.DISPATCH, period, scope, role),
            key,
            end,
            late=_late_run(Stage.DISPATCH),
            reworked=after(Action.CHECK_FAIL),
            returned=after(Action.APPROVE_RETURN),
        )
        merge(
            _tally(
                dispatches,
                {"dispatched": "*", "dispatched_on_time": "-late", "reworked": "reworked", "returned": "returned"},
                count="id",
            )
        )
    else:
        raise ValueError(role)

    return _staff_list(data, role, scope)


def _staff_from_facts(period: Period, role: str, scope: Scope, merge) -> None:
    """staff_rows' counts from the facts: the same cohorts, flags and conditions."""
    end = period.end
    key = "f.actor_id"
    late = ("f.late", [])
    if role == Role.INSPECTOR:
        merge(
            _fact_tally(
                "report",
                period,
                scope,
                key,
                {"valid": _before("valid_ever", end)},
                {"reports": "*", "valid_reports": "valid"},
                count="id",
                role=role,
            )
        )
        verify = (Action.VERIFY_CONFIRM, Action.VERIFY_DENY)
        merge(
            _fact_tally(
                verify,
                period,
                scope,
                key,
                {"late": late},
                {"verifications": "*", "verified_on_time": "-late"},
                count="id",
                role=role,
            )
        )
        check = (Action.CHECK_PASS, Action.CHECK_FAIL)
        merge(
            _fact_tally(
                check,
                period,
                scope,
                key,
                {"late": late},
                {"checks": "*", "checked_on_time": "-late"},
                count="id",
                role=role,
            )
        )
        through = ResponsibilityGrid.grids.through
        join = (
            f" JOIN {through._meta.db_table} rg ON rg.grid_id = f.grid_id"
            f" JOIN {ResponsibilityGrid._meta.db_table} r ON r.id = rg.responsibilitygrid_id"
        )
        merge(
            _fact_tally(
                "report",
                period,
                scope,
                "r.inspector_id",
                {"filed": _before("file_ever", end), "public": ("f.public", [])},
                {"grid_filed": "filed", "missed_reports": "filed public"},
                join=join,
            )
        )
    elif role in (Role.OPERATOR, Role.SHIFT_LEAD):
        merge(_fact_counts("report", period, scope, key, {"registered": "COUNT(*)"}, role=role))
        merge(
            _fact_tally(
                (Action.FILE, Action.REJECT),
                period,
                scope,
                key,
                {"late": late, "is_file": ("f.action = %s", [str(Action.FILE)]), "voided": _before("void_after", end)},
                {
                    "filing_decisions": "*",
                    "filed_on_time": "-late",
                    "filed": "is_file",
                    "voided_after_filing": "is_file voided",
                },
                count="id",
                role=role,
            )
        )
        if role == Role.SHIFT_LEAD:
            merge(
                _fact_tally(
                    Action.CLOSE,
                    period,
                    scope,
                    key,
                    {"late": late},
                    {"closes": "*", "closed_on_time": "-late"},
                    count="id",
                    role=role,
                )
            )
    else:
        merge(
            _fact_tally(
                Action.DISPATCH,
                period,
                scope,
                key,
                {
                    "late": late,
                    "reworked": _before("check_fail_after", end),
                    "returned": _before("return_after", end),
                },
                {"dispatched": "*", "dispatched_on_time": "-late", "reworked": "reworked", "returned": "returned"},
                count="id",
                role=role,
            )
        )


def _staff_list(data: dict, role: str, scope: Scope) -> list[StaffRow]:
    # Everyone of the role (active; superusers are administrators, not staff) and whoever acted
    # in it in the period; a region-scoped reader sees only the staff who acted in the region.
    acted = Q(pk__in=[pk for pk in data if pk is not None])
    users = User.objects.filter(
        acted if scope.region_prefix else acted | Q(role=role, is_active=True, is_superuser=False)
    )
    rows: list[StaffRow] = []
    for user in users.select_related("org_unit").order_by("username"):
        values = data.get(user.pk, {})
        common = {"role": role, "unit": user.org_unit.name if user.org_unit else ""}
        if role == Role.INSPECTOR:
            row = InspectorRow(user.pk, user.username, str(user), **common, **values)
            row.valid_report_rate = rate(row.valid_reports, row.reports)
            row.on_time_verify_rate = rate(row.verified_on_time, row.verifications)
            row.on_time_check_rate = rate(row.checked_on_time, row.checks)
            row.missed_report_rate = rate(row.missed_reports, row.grid_filed)
        elif role == Role.DISPATCHER:
            row = DispatcherRow(user.pk, user.username, str(user), **common, **values)
            row.on_time_dispatch_rate = rate(row.dispatched_on_time, row.dispatched)
            row.accurate_dispatch_rate = rate(row.dispatched - row.reworked, row.dispatched)
        else:
            row = DeskRow(user.pk, user.username, str(user), **common, **values)
            row.on_time_filing_rate = rate(row.filed_on_time, row.filing_decisions)
            row.accurate_filing_rate = rate(row.filed - row.voided_after_filing, row.filed)
            if role == Role.SHIFT_LEAD:
                row.on_time_closing_rate = rate(row.closed_on_time, row.closes)
        rows.append(row)
    return rows


def case_count(scope: Scope = EVERYTHING) -> int:
    """All cases in scope (for the scale notes in the API's summary)."""
    qs = Case.objects.all()
    if scope.region_prefix:
        qs = qs.filter(region_code__startswith=scope.region_prefix)
    return qs.count()


#
# Labels: the Chinese name of every field the rows carry (API "labels", page and Excel headers).
#

FIELD_LABELS = {
    "id": _("编号"),
    "code": _("代码"),
    "name": _("名称"),
    "score": _("综合指标值"),
    "grade": _("评价等级"),
    "level": _("层级"),
    "grids": _("单元网格数"),
    "reports": _("上报数"),
    "public_reports": _("公众上报数"),
    "public_share": _("监督举报率（%）"),
    "filed": _("立案数"),
    "voided": _("作废数"),
    "deferred": _("缓办数"),
    "should_close": _("应结案数"),
    "closed": _("结案数"),
    "closed_on_time": _("按期结案数"),
    "overdue": _("超期数"),
    "closure_rate": _("结案率（%）"),
    "on_time_rate": _("按期结案率（%）"),
    "cases_per_grid": _("网格平均立案数"),
    "received": _("接收派遣数"),
    "returned": _("回退数"),
    "handled": _("处置反馈数"),
    "reworked": _("返工数"),
    "extended": _("延期数"),
    "rework_rate": _("返工率（%）"),
    "extension_rate": _("延期率（%）"),
    "overdue_rate": _("超期率（%）"),
    "handling_runs": _("处置次数"),
    "average_handling_hours": _("平均处置时长（小时）"),
    "rated": _("回访评价数"),
    "hotline": _("12345 回访数"),
    "portal": _("群众评价数"),
    "level_satisfied": _("满意"),
    "level_basically": _("基本满意"),
    "level_dissatisfied": _("不满意"),
    "satisfied": _("计为满意数"),
    "satisfaction_rate": _("满意率（%）"),
    "target": _("目标（%）"),
    "meets_target": _("是否达标"),
    "closures": _("本期结案次数"),
    "service": _("服务解决数"),
    "management": _("管理解决数"),
    "enforcement": _("执法解决数"),
    "service_share": _("服务占比（%）"),
    "management_share": _("管理占比（%）"),
    "enforcement_share": _("执法占比（%）"),
    "service_target": _("服务目标（%）"),
    "management_target": _("管理目标（%）"),
    "enforcement_target": _("执法目标（%）"),
    "role": _("角色"),
    "unit": _("所属单位"),
    "valid_reports": _("有效上报数"),
    "valid_report_rate": _("有效上报率（%）"),
    "verifications": _("核实数"),
    "verified_on_time": _("按时核实数"),
    "on_time_verify_rate": _("按时核实率（%）"),
    "checks": _("核查数"),
    "checked_on_time": _("按时核查数"),
    "on_time_check_rate": _("按时核查率（%）"),
    "grid_filed": _("责任网格立案数"),
    "missed_reports": _("漏报数"),
    "missed_report_rate": _("漏报率（%）"),
    "registered": _("受理数"),
    "filing_decisions": _("立案审核数"),
    "filed_on_time": _("按时立案数"),
    "on_time_filing_rate": _("按时立案率（%）"),
    "voided_after_filing": _("立案后作废数"),
    "accurate_filing_rate": _("准确立案率（%）"),
    "closes": _("结案操作数"),
    "on_time_closing_rate": _("按时结案率（%）"),
    "dispatched": _("派遣数"),
    "dispatched_on_time": _("按时派遣数"),
    "on_time_dispatch_rate": _("按时派遣率（%）"),
    "accurate_dispatch_rate": _("准确派遣率（%）"),
}


def labels_for(row_class: type[Row]) -> dict[str, str]:
    """{field: Chinese label} for the fields of a row class, in their order."""
    return {name: str(FIELD_LABELS.get(name, name)) for name in row_class.field_names()}

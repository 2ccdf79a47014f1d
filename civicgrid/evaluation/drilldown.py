"""Drill-down (穿透): the cases behind one figure of the evaluation page.

`drilldown_items(tab, object_id, indicator, period, scope, config)` selects the history rows
that a figure of civicgrid.evaluation.indicators counts, with the same definitions
(docs/evaluation.md), and returns one Item per counted thing: a case for the cohort counts
(each case once), an event, a stage run or a rating for the counts of events, runs and ratings
(a person who filed the same case twice counts it twice, so the list shows it twice). The tests
check `len(items) == figure` for every indicator listed in DRILLABLE on the test history.

The indicators count in SQL (one pass for all rows); here one row's cohort is read and its
flags are worked out in Python from the cases' events and stage runs: a few thousand rows at
most, and a second reading of the definitions that the tests hold against the first.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from django.db.models import Exists, IntegerField, OuterRef, Q, QuerySet, Subquery
from django.db.models.fields.json import KT
from django.db.models.functions import Cast

from civicgrid.cases.models import CaseEvent, CaseStage, Rating, ResolutionMode, Satisfaction
from civicgrid.cases.workflow import Action
from civicgrid.catalog.models import Stage
from civicgrid.evaluation.indicators import PUBLIC_CHANNELS, Scope, region_conditions, unit_conditions
from civicgrid.evaluation.models import EvaluationSettings
from civicgrid.evaluation.periods import Period

A = Action


@dataclass(frozen=True)
class Item:
    """One counted thing: the case and the instant that put it in the count."""

    case_id: int
    at: datetime


class NotDrillable(ValueError):
    """No case list for this indicator (a rate, an average, or not a count of cases)."""


REGION_DRILLABLE = (
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
UNIT_DRILLABLE = (
    "received",
    "returned",
    "deferred",
    "should_close",
    "handled",
    "closed",
    "closed_on_time",
    "overdue",
    "reworked",
    "extended",
    "handling_runs",
    "rated",
    "satisfied",
)
DESK_DRILLABLE = ("registered", "filing_decisions", "filed_on_time", "filed", "voided_after_filing")
DRILLABLE: dict[str, tuple[str, ...]] = {
    "street": REGION_DRILLABLE,
    "community": REGION_DRILLABLE,
    "grid": REGION_DRILLABLE,
    "unit": UNIT_DRILLABLE,
    "inspector": (
        "reports",
        "valid_reports",
        "verifications",
        "verified_on_time",
        "checks",
        "checked_on_time",
        "grid_filed",
        "missed_reports",
    ),
    "operator": DESK_DRILLABLE,
    "shift_lead": (*DESK_DRILLABLE, "closes", "closed_on_time"),
    "dispatcher": ("dispatched", "dispatched_on_time", "reworked", "returned"),
    "satisfaction": (
        "rated",
        "hotline",
        "portal",
        "level_satisfied",
        "level_basically",
        "level_dissatisfied",
        "satisfied",
    ),
    "resolution": ("closures", "service", "management", "enforcement"),
}


def drillable(tab: str, indicator: str) -> bool:
    return indicator in DRILLABLE.get(tab, ())


def drilldown_items(
    tab: str,
    object_id: int,
    indicator: str,
    period: Period,
    *,
    scope: Scope,
    config: EvaluationSettings | None = None,
) -> list[Item]:
    """The rows behind `indicator` of the object `object_id` on the tab `tab`, oldest first."""
    if not drillable(tab, indicator):
        raise NotDrillable(indicator)
    config = config or EvaluationSettings.current()
    if tab in ("street", "community", "grid"):
        items = _region(tab, object_id, indicator, period, scope, config)
    elif tab == "unit":
        items = _unit(object_id, indicator, period, scope, config)
    elif tab == "satisfaction":
        items = _ratings(object_id or None, indicator, period, scope, config, overall=not object_id)
    elif tab == "resolution":
        items = _resolution(object_id, indicator, period, scope)
    else:
        items = _staff(tab, object_id, indicator, period, scope)
    return sorted(items, key=lambda item: (item.at, item.case_id))


#
# The cohort engine: flags of each cohort row, read from its case's events and stage runs
#


@dataclass(frozen=True)
class Later:
    """The case has an event of `actions` before the end: since the row ("from"), strictly
    after it ("after") or at any time ("ever"); as indicators.Later."""

    actions: tuple[str, ...]
    since: str = "from"


RunTest = Callable[[dict, dict], bool]  # (run, cohort row) → the run meets the flag's condition


def _events(actions, period: Period, scope: Scope) -> QuerySet:
    qs = CaseEvent.objects.filter(action__in=list(actions), at__gte=period.start, at__lt=period.end).order_by()
    if scope.region_prefix:
        qs = qs.filter(case__region_code__startswith=scope.region_prefix)
    return qs


def _cohort(
    qs: QuerySet,
    end: datetime,
    *,
    events: dict[str, Later],
    run: tuple[str, str, RunTest] | None = None,
    extra: dict[str, Callable[[dict], bool]] | None = None,
    fields: tuple[str, ...] = (),
) -> list[dict]:
    """The cohort rows of `qs` (id, case_id, at, *fields) each with its flags as booleans."""
    rows = list(qs.values("id", "case_id", "at", *fields))
    cases = qs.values("case_id")
    actions = sorted({action for flag in events.values() for action in flag.actions})
    history: dict[int, list[tuple[str, datetime]]] = defaultdict(list)
    if actions:
        found = CaseEvent.objects.filter(case_id__in=Subquery(cases), action__in=actions, at__lt=end)
        for case_id, action, at in found.values_list("case_id", "action", "at"):
            history[case_id].append((action, at))
    runs: dict[int, list[dict]] = defaultdict(list)
    if run:
        stage_runs = CaseStage.objects.filter(case_id__in=Subquery(cases), stage=run[1]).values(
            "case_id", "started_at", "ended_at", "deadline", "paused_since", "on_time", "unit_id"
        )
        for stage_run in stage_runs:
            runs[stage_run["case_id"]].append(stage_run)
    for row in rows:
        for name, flag in events.items():
            row[name] = any(
                action in flag.actions
                and (
                    flag.since == "ever"
                    or (flag.since == "from" and at >= row["at"])
                    or (flag.since == "after" and at > row["at"])
                )
                for action, at in history[row["case_id"]]
            )
        if run:
            row[run[0]] = any(run[2](stage_run, row) for stage_run in runs[row["case_id"]])
        for name, test in (extra or {}).items():
            row[name] = test(row)
    return rows


def _meets(row: dict, spec: str) -> bool:
    """As indicators._condition: "*" or flags separated by spaces, "-flag" for a flag that is off."""
    if spec == "*":
        return True
    return all(not row[word[1:]] if word.startswith("-") else row[word] for word in spec.split())


def _pick(rows: list[dict], spec: str, *, distinct: bool) -> list[Item]:
    """The rows meeting the spec: each case once (COUNT DISTINCT case_id) or each row."""
    items, seen = [], set()
    for row in sorted(rows, key=lambda r: (r["at"], r["id"])):
        if not _meets(row, spec):
            continue
        if distinct:
            if row["case_id"] in seen:
                continue
            seen.add(row["case_id"])
        items.append(Item(row["case_id"], row["at"]))
    return items


def _overdue(end: datetime, unit_id: int | None = None) -> RunTest:
    """As indicators._overdue_run: a handling run started at or after the row, overdue by `end`."""

    def test(s: dict, d: dict) -> bool:
        return (
            s["started_at"] >= d["at"]
            and s["deadline"] is not None
            and s["deadline"] < end
            and (s["ended_at"] is None or s["ended_at"] > s["deadline"])
            and (s["paused_since"] is None or s["deadline"] < s["paused_since"])
            and (unit_id is None or s["unit_id"] == unit_id)
        )

    return test


def _late(s: dict, d: dict) -> bool:
    """As indicators._late_run: the run the cohort event ended was late."""
    return s["ended_at"] == d["at"] and s["on_time"] is False


#
# Regions
#

REGION_FIELD = {
    "street": "case__grid__community__parent_id",
    "community": "case__grid__community_id",
    "grid": "case__grid_id",
}


def _region(level, object_id, indicator, period, scope, config) -> list[Item]:
    where = {REGION_FIELD[level]: object_id}
    if indicator in ("reports", "public_reports"):
        qs = _events(["report"], period, scope).filter(**where)
        if indicator == "public_reports":
            qs = qs.filter(case__channel__in=PUBLIC_CHANNELS)
        return [Item(case_id, at) for case_id, at in qs.values_list("case_id", "at")]
    rows = _cohort(
        _events((A.FILE, A.APPROVE_SELF_HANDLED), period, scope).filter(**where),
        period.end,
        events={
            "voided": Later((A.APPROVE_VOID,), "ever"),
            "deferred": Later((A.APPROVE_DEFERRAL,), "ever"),
            "closed": Later((A.CLOSE, A.APPROVE_SELF_HANDLED)),
        },
        run=("overdue", Stage.HANDLE, _overdue(period.end)),
    )
    spec = region_conditions(config)[indicator]
    return _pick(rows, spec, distinct=True)


#
# Handling units
#


def _unit(unit_id, indicator, period, scope, config) -> list[Item]:
    if scope.unit_id is not None and scope.unit_id != unit_id:
        return []
    if indicator in ("rated", "satisfied"):
        return _ratings(unit_id, indicator, period, scope, config)
    if indicator == "handling_runs":
        runs = CaseStage.objects.filter(
            stage=Stage.HANDLE, ended_at__gte=period.start, ended_at__lt=period.end, unit_id=unit_id
        ).filter(
            Exists(
                CaseStage.objects.filter(
                    case_id=OuterRef("case_id"), stage=Stage.CHECK, started_at=OuterRef("ended_at")
                )
            )
        )
        if scope.region_prefix:
            runs = runs.filter(case__region_code__startswith=scope.region_prefix)
        return [Item(case_id, at) for case_id, at in runs.values_list("case_id", "ended_at")]
    qs = (
        _events((A.DISPATCH, A.REOPEN), period, scope)
        .annotate(unit_key=Cast(KT("data__unit__id"), IntegerField()))
        .filter(unit_key=unit_id)
    )
    rows = _cohort(
        qs,
        period.end,
        events={
            "returned": Later((A.APPROVE_RETURN,)),
            "deferred": Later((A.APPROVE_DEFERRAL,)),
            "handled": Later((A.HANDLED,)),
            "closed": Later((A.CLOSE,)),
            "reworked": Later((A.CHECK_FAIL,)),
            "extended": Later((A.APPROVE_EXTENSION,)),
        },
        run=("overdue", Stage.HANDLE, _overdue(period.end, unit_id)),
    )
    spec = unit_conditions(config)[indicator]
    return _pick(rows, spec, distinct=True)


#
# Satisfaction and resolution
#


def _ratings(unit_id, indicator, period, scope, config, *, overall: bool = False) -> list[Item]:
    qs = Rating.objects.filter(created_at__gte=period.start, created_at__lt=period.end)
    if scope.region_prefix:
        qs = qs.filter(case__region_code__startswith=scope.region_prefix)
    if scope.unit_id is not None:
        qs = qs.filter(unit_id=scope.unit_id)
    if not overall:
        qs = qs.filter(unit_id=unit_id)
    good = (
        [Satisfaction.SATISFIED, Satisfaction.BASICALLY]
        if config.basically_satisfied_counts
        else [Satisfaction.SATISFIED]
    )
    qs = qs.filter(
        {
            "rated": Q(),
            "hotline": Q(source=Rating.Source.HOTLINE),
            "portal": Q(source=Rating.Source.PORTAL),
            "level_satisfied": Q(satisfaction=Satisfaction.SATISFIED),
            "level_basically": Q(satisfaction=Satisfaction.BASICALLY),
            "level_dissatisfied": Q(satisfaction=Satisfaction.DISSATISFIED),
            "satisfied": Q(satisfaction__in=good),
        }[indicator]
    )
    return [Item(case_id, at) for case_id, at in qs.values_list("case_id", "created_at")]


def _resolution(unit_id, indicator, period, scope) -> list[Item]:
    """Closures of the period by the mode and unit of the case's latest 处置反馈 (as indicators.resolution_rows)."""
    close_events = _events([A.CLOSE], period, scope)
    closes = list(close_events.values_list("case_id", "at"))
    handled: dict[int, list[tuple[datetime, int, int | None, str | None]]] = defaultdict(list)
    found = CaseEvent.objects.filter(case_id__in=Subquery(close_events.values("case_id")), action=A.HANDLED)
    for case_id, at, pk, unit, data in found.values_list("case_id", "at", "id", "unit_id", "data"):
        mode = data.get("resolution_mode") if isinstance(data, dict) else None
        handled[case_id].append((at, pk, unit, mode))
    modes = {
        "service": ResolutionMode.SERVICE,
        "management": ResolutionMode.MANAGEMENT,
        "enforcement": ResolutionMode.ENFORCEMENT,
    }
    items = []
    for case_id, at in closes:
        before = sorted((h for h in handled[case_id] if h[0] <= at), key=lambda h: (h[0], h[1]))
        by = before[-1][2] if before else None
        with_mode = [h for h in before if h[3] is not None]
        mode = with_mode[-1][3] if with_mode else ResolutionMode.SERVICE.value
        if scope.unit_id is not None and by != scope.unit_id:
            continue
        if unit_id and by != unit_id:
            continue
        if mode not in modes.values():
            continue
        if indicator != "closures" and mode != modes[indicator]:
            continue
        items.append(Item(case_id, at))
    return items


#
# Staff
#


def _staff(role, user_id, indicator, period, scope) -> list[Item]:
    def by_actor(actions):
        return _events(actions, period, scope).filter(actor_role=role, actor_id=user_id)

    def picked(qs, spec, **flags):
        return _pick(_cohort(qs, period.end, **flags), spec, distinct=False)

    if role == "inspector":
        if indicator in ("reports", "valid_reports"):
            qs = by_actor(["report"])
            spec = "*" if indicator == "reports" else "valid"
            return picked(qs, spec, events={"valid": Later((A.FILE, A.APPROVE_SELF_HANDLED), "ever")})
        if indicator in ("verifications", "verified_on_time"):
            qs = by_actor([A.VERIFY_CONFIRM, A.VERIFY_DENY])
            return picked(
                qs, "*" if indicator == "verifications" else "-late", events={}, run=("late", Stage.VERIFY, _late)
            )
        if indicator in ("checks", "checked_on_time"):
            qs = by_actor([A.CHECK_PASS, A.CHECK_FAIL])
            return picked(qs, "*" if indicator == "checks" else "-late", events={}, run=("late", Stage.CHECK, _late))
        qs = _events(["report"], period, scope).filter(case__grid__responsibility_grids__inspector_id=user_id)
        rows = _cohort(
            qs,
            period.end,
            events={"filed": Later((A.FILE,), "ever")},
            extra={"public": lambda row: row["case__channel"] in PUBLIC_CHANNELS},
            fields=("case__channel",),
        )
        return _pick(rows, "filed" if indicator == "grid_filed" else "filed public", distinct=True)
    if role in ("operator", "shift_lead"):
        if indicator == "registered":
            return [Item(case_id, at) for case_id, at in by_actor(["report"]).values_list("case_id", "at")]
        if indicator in ("closes", "closed_on_time"):
            qs = by_actor([A.CLOSE])
            return picked(qs, "*" if indicator == "closes" else "-late", events={}, run=("late", Stage.CLOSE, _late))
        qs = by_actor([A.FILE, A.REJECT])
        spec = {
            "filing_decisions": "*",
            "filed_on_time": "-late",
            "filed": "is_file",
            "voided_after_filing": "is_file voided",
        }[indicator]
        return picked(
            qs,
            spec,
            events={"voided": Later((A.APPROVE_VOID,), "after")},
            run=("late", Stage.FILE, _late),
            extra={"is_file": lambda row: row["action"] == A.FILE},
            fields=("action",),
        )
    qs = by_actor([A.DISPATCH])
    spec = {"dispatched": "*", "dispatched_on_time": "-late", "reworked": "reworked", "returned": "returned"}[indicator]
    return picked(
        qs,
        spec,
        events={"reworked": Later((A.CHECK_FAIL,), "after"), "returned": Later((A.APPROVE_RETURN,), "after")},
        run=("late", Stage.DISPATCH, _late),
    )

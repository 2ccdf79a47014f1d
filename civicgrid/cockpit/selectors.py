"""The leaders' cockpit (领导驾驶舱): every figure on the screen, from aggregate queries.

Every read starts from Case.objects.visible_to(user), so a street office's leader sees his
street and a department's staff their unit's cases; ratings are those of the visible cases.
Nothing loops over cases in Python: each panel is one grouped or aggregated query (about 15
in all, whatever the number of cases).

Periods are calendar periods of Asia/Shanghai local time, half-open [start, end): "today"
starts at 00:00 Beijing time, "this month" on the 1st at 00:00, "this year" on 1 January.
The definitions of the figures are in docs/cockpit.md; keep the two in step.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.db.models.functions import TruncDate, TruncMonth
from django.utils import formats, timezone
from django.utils.translation import gettext

from civicgrid.cases.models import Case, CaseStage, Channel, Rating, ResolutionMode, Satisfaction
from civicgrid.cases.workflow import Status
from civicgrid.evaluation.models import EvaluationSettings

TZ = ZoneInfo("Asia/Shanghai")
TREND_DAYS = 30
SATISFACTION_MONTHS = 12
TOP_CATEGORIES = 10
UNITS_SHOWN = 12
# The heat layer draws this month's reports; past this many, the newest ones.
MAX_POINTS = 6000
# The targets (≥ 95 % satisfied; problems solved 70 % by service, 20 % by management, 10 % by
# enforcement, as the bureau's 2021 work meeting set them) and whether 基本满意 counts as
# satisfied are the evaluation's settings (admin: 评价设置), shared with the evaluation and the
# portal's figures.


def resolution_targets(config: EvaluationSettings) -> dict[str, float]:
    return {
        ResolutionMode.SERVICE: float(config.service_target),
        ResolutionMode.MANAGEMENT: float(config.management_target),
        ResolutionMode.ENFORCEMENT: float(config.enforcement_target),
    }


def midnight(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=TZ)


def _rate(part: int, whole: int) -> float | None:
    """A percentage with one decimal, or None when there is nothing to divide by."""
    return round(100.0 * part / whole, 1) if whole else None


def cockpit_data(user, now: datetime | None = None) -> dict:
    """All the cockpit's figures for this user at `now`, as plain JSON-ready values."""
    now = now or timezone.now()
    today = now.astimezone(TZ).date()
    day_start = midnight(today)
    month_start = midnight(today.replace(day=1))
    year_start = midnight(today.replace(month=1, day=1))
    cases = Case.objects.visible_to(user).order_by()  # no default ordering in GROUP BY

    counts = _counts(cases, now, day_start, month_start)
    config = EvaluationSettings.current()  # targets and counting choices (admin: 评价设置)
    return {
        "now": now.astimezone(TZ).isoformat(timespec="seconds"),
        "today": today.isoformat(),
        "month_first_day": today.replace(day=1).isoformat(),
        "month": formats.date_format(today, "YEAR_MONTH_FORMAT"),  # 2026年11月; November 2026
        "year": today.year,
        "counts": counts,
        "units": _units(cases, now, counts),
        "trend": _trend(cases, now, today),
        "categories": _categories(cases, now, month_start),
        "channels": _channels(cases, now, month_start),
        "satisfaction": _satisfaction(cases, now, today, config),
        "resolution": _resolution(cases, now, year_start, config),
        "map": _map(cases, now, month_start),
        "streets": _streets(cases, now, month_start),
    }


def _counts(cases: QuerySet[Case], now: datetime, day_start: datetime, month_start: datetime) -> dict:
    def today_and_month(field: str, qs: QuerySet[Case]) -> dict:
        return qs.filter(**{f"{field}__gte": month_start, f"{field}__lte": now}).aggregate(
            today=Count("id", filter=Q(**{f"{field}__gte": day_start})), month=Count("id")
        )

    reported = today_and_month("created_at", cases)
    filed = today_and_month("filed_at", cases)
    # Closed: cases closed now whose closing fell in the period (a reopened case counts when
    # it closes again; 不予立案, 作废 and merged cases also carry closed_at and are not closed).
    closed = today_and_month("closed_at", cases.filter(status=Status.CLOSED))
    late_now = Q(stage_deadline__lt=now)
    centre = Q(handling_unit__isnull=True)
    open_now = cases.open().aggregate(
        open=Count("id"),
        overdue=Count("id", filter=late_now),
        # Not (or no longer) dispatched: at the centres, being verified, filed or dispatched.
        undispatched=Count("id", filter=centre),
        undispatched_overdue=Count("id", filter=centre & late_now),
    )
    # This month's filed cases (立案) are the cohort of the two rates: how many are closed now,
    # and how many closed with no stage run late.
    late = CaseStage.objects.filter(case=OuterRef("pk"), on_time=False)
    cohort = (
        cases.filter(filed_at__gte=month_start, filed_at__lte=now)
        .alias(late=Exists(late))
        .aggregate(
            filed=Count("id"),
            closed=Count("id", filter=Q(status=Status.CLOSED)),
            on_time=Count("id", filter=Q(status=Status.CLOSED, late=False)),
        )
    )
    return {
        "reported_today": reported["today"],
        "reported_month": reported["month"],
        "filed_today": filed["today"],
        "filed_month": filed["month"],
        "closed_today": closed["today"],
        "closed_month": closed["month"],
        "open": open_now["open"],
        "overdue": open_now["overdue"],
        "undispatched": open_now["undispatched"],
        "undispatched_overdue": open_now["undispatched_overdue"],
        "closure_rate": _rate(cohort["closed"], cohort["filed"]),
        "on_time_rate": _rate(cohort["on_time"], cohort["filed"]),
        "cohort": cohort,
    }


def _units(cases: QuerySet[Case], now: datetime, counts: dict) -> list[dict]:
    """Open cases per handling unit and how many of them are past their stage deadline; the
    open cases not dispatched yet are one more row, for the centres."""
    rows = (
        cases.open()
        .filter(handling_unit__isnull=False)
        .values("handling_unit__name")
        .annotate(open=Count("id"), overdue=Count("id", filter=Q(stage_deadline__lt=now)))
        .order_by("-open", "handling_unit__name")[:UNITS_SHOWN]
    )
    units = [{"name": r["handling_unit__name"], "open": r["open"], "overdue": r["overdue"]} for r in rows]
    if counts["undispatched"]:
        centre = {"name": gettext("未派遣（中心）"), "open": counts["undispatched"]}
        units.append({**centre, "overdue": counts["undispatched_overdue"], "centre": True})
        units.sort(key=lambda unit: -unit["open"])  # stable: units of equal size keep their order
    return units[:UNITS_SHOWN]


def _trend(cases: QuerySet[Case], now: datetime, today: date) -> dict:
    """Reports and closures per Beijing day over the last 30 days, today included."""
    days = [today - timedelta(days=n) for n in range(TREND_DAYS - 1, -1, -1)]
    start = midnight(days[0])

    def per_day(field: str, qs: QuerySet[Case]) -> list[int]:
        counts = dict(
            qs.filter(**{f"{field}__gte": start, f"{field}__lte": now})
            .annotate(day=TruncDate(field, tzinfo=TZ))
            .values("day")
            .annotate(n=Count("id"))
            .values_list("day", "n")
        )
        return [counts.get(day, 0) for day in days]

    return {
        "days": [day.isoformat() for day in days],
        "reported": per_day("created_at", cases),
        "closed": per_day("closed_at", cases.filter(status=Status.CLOSED)),
    }


def _this_month(cases: QuerySet[Case], now: datetime, month_start: datetime) -> QuerySet[Case]:
    return cases.filter(created_at__gte=month_start, created_at__lte=now)


def _categories(cases: QuerySet[Case], now: datetime, month_start: datetime) -> list[dict]:
    rows = (
        _this_month(cases, now, month_start)
        .values("category_id", "category__name")
        .annotate(n=Count("id"))
        .order_by("-n", "category__name")[:TOP_CATEGORIES]
    )
    return [{"id": r["category_id"], "name": r["category__name"], "count": r["n"]} for r in rows]


def _channels(cases: QuerySet[Case], now: datetime, month_start: datetime) -> list[dict]:
    rows = _this_month(cases, now, month_start).values("channel").annotate(n=Count("id"))
    counts = dict(rows.values_list("channel", "n"))
    # In the order of Channel; the page gives each channel its own colour.
    return [{"key": c.value, "name": str(c.label), "count": counts[c.value]} for c in Channel if counts.get(c.value)]


def _satisfaction(cases: QuerySet[Case], now: datetime, today: date, config: EvaluationSettings) -> dict:
    """Satisfaction rate per Beijing month over the last 12 months, ratings as given."""
    first = today.replace(day=1)
    months = []
    for _n in range(SATISFACTION_MONTHS):
        months.insert(0, first)
        first = (first - timedelta(days=1)).replace(day=1)
    # Whether 基本满意 counts towards the satisfaction rate (most bureaus count it).
    good = [Satisfaction.SATISFIED] + ([Satisfaction.BASICALLY] if config.basically_satisfied_counts else [])
    ratings = Rating.objects.filter(created_at__gte=midnight(months[0]), created_at__lte=now)
    if cases.query.has_filters():
        # A scoped user: the ratings of the visible cases. Unscoped users skip the subquery,
        # which would read every case (33 ms of the 120 ms with the demo year on SQLite).
        ratings = ratings.filter(case__in=cases.values("pk"))
    rows = (
        ratings.annotate(month=TruncMonth("created_at", tzinfo=TZ))
        .values("month")
        .annotate(rated=Count("id"), satisfied=Count("id", filter=Q(satisfaction__in=good)))
        .order_by()
    )
    by_month = {_as_date(r["month"]): r for r in rows}
    rated = [by_month.get(m, {}).get("rated", 0) for m in months]
    satisfied = [by_month.get(m, {}).get("satisfied", 0) for m in months]
    return {
        "months": [f"{m.year}-{m.month:02d}" for m in months],
        "rated": rated,
        "satisfied": satisfied,
        "rate": [_rate(s, r) for s, r in zip(satisfied, rated, strict=True)],
        "target": float(config.satisfaction_target),
        "basically_counts": config.basically_satisfied_counts,
    }


def _as_date(value) -> date:
    # TruncMonth gives a datetime (aware on PostgreSQL) or, on some backends, a date.
    return value.date() if isinstance(value, datetime) else value


def _resolution(cases: QuerySet[Case], now: datetime, year_start: datetime, config: EvaluationSettings) -> dict:
    """How this year's closed cases were resolved, against the 70/20/10 targets."""
    counts = dict(
        cases.filter(status=Status.CLOSED, closed_at__gte=year_start, closed_at__lte=now)
        .values("resolution_mode")
        .annotate(n=Count("id"))
        .values_list("resolution_mode", "n")
    )
    recorded = sum(counts.get(mode.value, 0) for mode in ResolutionMode)
    targets = resolution_targets(config)
    return {
        "modes": [
            {
                "key": mode.value,
                "name": str(mode.label),
                "count": counts.get(mode.value, 0),
                "share": _rate(counts.get(mode.value, 0), recorded),
                "target": targets[mode],
            }
            for mode in ResolutionMode
        ],
        "recorded": recorded,
        "unrecorded": sum(n for mode, n in counts.items() if mode not in ResolutionMode.values),
    }


def _map(cases: QuerySet[Case], now: datetime, month_start: datetime) -> dict:
    """This month's reports per unit grid (the choropleth) and their points (the heat layer)."""
    month = _this_month(cases, now, month_start)
    per_grid = dict(month.values("grid__code").annotate(n=Count("id")).values_list("grid__code", "n"))
    points = month.order_by("-created_at").values_list("lon", "lat")[:MAX_POINTS]
    return {
        "grids": per_grid,
        "points": [[round(lon, 5), round(lat, 5)] for lon, lat in points],
    }


def _streets(cases: QuerySet[Case], now: datetime, month_start: datetime) -> list[dict]:
    """Per street (town): this month's reports, its open and overdue cases now, in code order.

    Two grouped queries, each on its own index (report time; status), rather than one that
    would read every case."""
    streets: dict[str, dict] = {}

    def row(code: str, name: str) -> dict:
        return streets.setdefault(code, {"code": code, "name": name, "reported": 0, "open": 0, "overdue": 0})

    reported = _this_month(cases, now, month_start).values("street__code", "street__name").annotate(n=Count("id"))
    for r in reported:
        row(r["street__code"], r["street__name"])["reported"] = r["n"]
    open_now = (
        cases.open()
        .values("street__code", "street__name")
        .annotate(open=Count("id"), overdue=Count("id", filter=Q(stage_deadline__lt=now)))
    )
    for r in open_now:
        row(r["street__code"], r["street__name"]).update(open=r["open"], overdue=r["overdue"])
    return [streets[code] for code in sorted(streets)]

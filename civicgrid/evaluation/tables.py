"""Ranked tables of the evaluation page, the printable page and the Excel export.

One function, `evaluation_table`, turns the rows of civicgrid.evaluation.indicators (scored by
scoring.Scorer, headed by labels_for) into a ranked table; the page, the print page and the
workbook all render its cells, so they show the API's figures and nothing recomputed.
The reader's scope is the API's own (`EvaluationApi.scope`): a street office sees its street.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from civicgrid.core.models import Role
from civicgrid.evaluation import indicators
from civicgrid.evaluation.api import RegionEvaluationApi, UnitEvaluationApi
from civicgrid.evaluation.indicators import (
    DeskRow,
    DispatcherRow,
    InspectorRow,
    RegionRow,
    ResolutionRow,
    SatisfactionRow,
    Scope,
    UnitRow,
    labels_for,
)
from civicgrid.evaluation.models import EvaluationSettings, ObjectType
from civicgrid.evaluation.periods import TZ, Period, parse_period
from civicgrid.evaluation.scoring import Scorer

REGION_COLUMNS = (
    "grids",
    "reports",
    "public_reports",
    "public_share",
    "filed",
    "voided",
    "deferred",
    "should_close",
    "closed",
    "closed_on_time",
    "overdue",
    "closure_rate",
    "on_time_rate",
    "cases_per_grid",
)
DESK_COLUMNS = (
    "registered",
    "filing_decisions",
    "filed_on_time",
    "on_time_filing_rate",
    "filed",
    "voided_after_filing",
    "accurate_filing_rate",
)


@dataclass(frozen=True)
class Tab:
    """One object type of the page: which rows, which columns, how they are ranked."""

    key: str
    label: str
    group: str  # region, unit, staff, other: the tab bar's groups
    row_class: type
    columns: tuple[str, ...]
    object_type: str | None = None  # the Scorer's object type; None: no score, no grade
    rank_by: str | None = "score"
    unit_readers: bool = False  # a reader limited to a unit may open it (as the API's units/)


TABS: dict[str, Tab] = {
    tab.key: tab
    for tab in [
        Tab("street", gettext_lazy("街道"), "region", RegionRow, REGION_COLUMNS, ObjectType.REGION),
        Tab("community", gettext_lazy("社区"), "region", RegionRow, REGION_COLUMNS, ObjectType.REGION),
        Tab("grid", gettext_lazy("网格"), "region", RegionRow, REGION_COLUMNS, ObjectType.REGION),
        Tab(
            "unit",
            gettext_lazy("处置单位"),
            "unit",
            UnitRow,
            (
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
                "closure_rate",
                "on_time_rate",
                "rework_rate",
                "extension_rate",
                "overdue_rate",
                "average_handling_hours",
                "rated",
                "satisfaction_rate",
            ),
            ObjectType.UNIT,
            unit_readers=True,
        ),
        Tab(
            "inspector",
            gettext_lazy("监督员"),
            "staff",
            InspectorRow,
            (
                "reports",
                "valid_reports",
                "valid_report_rate",
                "verifications",
                "verified_on_time",
                "on_time_verify_rate",
                "checks",
                "checked_on_time",
                "on_time_check_rate",
                "grid_filed",
                "missed_reports",
                "missed_report_rate",
            ),
            ObjectType.INSPECTOR,
        ),
        Tab("operator", gettext_lazy("受理员"), "staff", DeskRow, DESK_COLUMNS, ObjectType.OPERATOR),
        Tab(
            "shift_lead",
            gettext_lazy("值班长"),
            "staff",
            DeskRow,
            (*DESK_COLUMNS, "closes", "closed_on_time", "on_time_closing_rate"),
            ObjectType.SHIFT_LEAD,
        ),
        Tab(
            "dispatcher",
            gettext_lazy("派遣员"),
            "staff",
            DispatcherRow,
            (
                "dispatched",
                "dispatched_on_time",
                "on_time_dispatch_rate",
                "reworked",
                "returned",
                "accurate_dispatch_rate",
            ),
            ObjectType.DISPATCHER,
        ),
        Tab(
            "satisfaction",
            gettext_lazy("满意度"),
            "other",
            SatisfactionRow,
            (
                "rated",
                "hotline",
                "portal",
                "level_satisfied",
                "level_basically",
                "level_dissatisfied",
                "satisfied",
                "satisfaction_rate",
                "meets_target",
            ),
            rank_by="satisfaction_rate",
            unit_readers=True,
        ),
        Tab(
            "resolution",
            gettext_lazy("解决方式"),
            "other",
            ResolutionRow,
            (
                "closures",
                "service",
                "management",
                "enforcement",
                "service_share",
                "management_share",
                "enforcement_share",
            ),
            rank_by=None,
            unit_readers=True,
        ),
    ]
}
DEFAULT_TAB = "unit"


@dataclass(frozen=True)
class Column:
    name: str
    label: str
    kind: str  # count, percent, number, bool

    @property
    def is_count(self) -> bool:
        return self.kind == "count"


@dataclass
class Ranked:
    rank: int | None  # None: no score to rank by
    row: object

    def value(self, name: str):
        return getattr(self.row, name)


@dataclass
class Table:
    tab: Tab
    period: Period
    columns: list[Column]
    rows: list[Ranked]
    config: EvaluationSettings
    scope: Scope
    overall: object | None = None  # satisfaction and resolution: the 全部 row
    bands: list = field(default_factory=list)  # (min_score, grade), highest first

    @property
    def scored(self) -> bool:
        return self.tab.object_type is not None

    @property
    def rank_label(self) -> str:
        return _("排名") if self.tab.rank_by else _("序号")


def columns_for(tab: Tab) -> list[Column]:
    labels = labels_for(tab.row_class)
    types = {f: t for f, t in tab.row_class.__annotations__.items()}
    for klass in tab.row_class.__mro__:
        for name, kind in getattr(klass, "__annotations__", {}).items():
            types.setdefault(name, kind)
    result = []
    for name in tab.columns:
        label = labels[name]
        kind_name = str(types.get(name, ""))
        if "%" in label:
            kind = "percent"
        elif "bool" in kind_name:
            kind = "bool"
        elif "Decimal" in kind_name:
            kind = "number"
        else:
            kind = "count"
        result.append(Column(name, label, kind))
    return result


def reader_scope(user, tab: Tab) -> Scope:
    """The user's scope exactly as the API computes it; raises api.Refused (403) as the API does."""
    api_class = UnitEvaluationApi if tab.unit_readers else RegionEvaluationApi
    return api_class().scope(user)


def tabs_for(user) -> list[Tab]:
    """The tabs a user may open: all, or for a reader limited to a unit without a region, the unit's."""
    from civicgrid.core.scoping import ScopeDenied, region_prefix_for, unit_for

    try:
        prefix = region_prefix_for(user)
    except ScopeDenied:
        return []
    if unit_for(user) is not None and prefix is None:
        return [tab for tab in TABS.values() if tab.unit_readers]
    return list(TABS.values())


def last_complete_month(today: date | None = None) -> str:
    today = today or timezone.localdate(timezone.now(), TZ)
    last = today.replace(day=1) - timedelta(days=1)
    return f"{last.year}-{last.month:02d}"


def period_from(params, today: date | None = None) -> Period:
    """The period of the query parameters; without one, the last complete month (the page's default)."""
    params = {key: params.get(key) for key in ("period", "date", "month", "quarter", "year", "start", "end")}
    if (params["period"] or "month") == "month" and not params["month"]:
        params["month"] = last_complete_month(today)
    return parse_period(params, today=today)


def period_params(period: Period) -> dict[str, str]:
    """Query parameters that name the period again (links, exports, the API)."""
    first = period.first_day
    if period.kind == "month":
        return {"period": "month", "month": f"{first.year}-{first.month:02d}"}
    if period.kind == "quarter":
        return {"period": "quarter", "quarter": f"{first.year}-Q{(first.month - 1) // 3 + 1}"}
    if period.kind == "year":
        return {"period": "year", "year": str(first.year)}
    if period.kind in ("day", "week"):
        return {"period": period.kind, "date": first.isoformat()}
    return {"period": "custom", "start": first.isoformat(), "end": period.last_day.isoformat()}


def evaluation_table(
    tab: Tab,
    period: Period,
    scope: Scope,
    *,
    config: EvaluationSettings | None = None,
    scorer: Scorer | None = None,
) -> Table:
    """The tab's rows for the period, scored and ranked (highest score first; ties share a rank)."""
    config = config or EvaluationSettings.current()
    overall = None
    if tab.group == "region":
        rows = indicators.region_rows(period, tab.key, scope=scope, config=config)
    elif tab.key == "unit":
        rows = indicators.unit_rows(period, scope=scope, config=config)
    elif tab.group == "staff":
        rows = indicators.staff_rows(period, Role(tab.key), scope=scope, config=config)
    elif tab.key == "satisfaction":
        overall, rows = indicators.satisfaction_rows(period, scope=scope, config=config)
    else:
        overall, rows = indicators.resolution_rows(period, scope=scope, config=config)
    bands = []
    if tab.object_type:
        scorer = scorer or Scorer()
        scorer.apply(tab.object_type, rows)
        bands = scorer.bands
    return Table(tab, period, columns_for(tab), rank(rows, tab.rank_by), config, scope, overall, bands)


def rank(rows: list, by: str | None) -> list[Ranked]:
    if by is None:
        ordered = sorted(rows, key=lambda row: (-row.closures, row.code))
        return [Ranked(n, row) for n, row in enumerate(ordered, start=1)]
    ordered = sorted(rows, key=lambda row: (getattr(row, by) is None, -(getattr(row, by) or Decimal(0)), row.code))
    ranked, previous, place = [], None, 0
    for n, row in enumerate(ordered, start=1):
        value = getattr(row, by)
        if value is None:
            ranked.append(Ranked(None, row))
            continue
        if value != previous:
            place, previous = n, value
        ranked.append(Ranked(place, row))
    return ranked


def settings_notes(table: Table) -> list[str]:
    """The counting choices in force, for the footnote under every table and sheet."""
    config = table.config
    notes = [
        _("应结案数不含缓办案件（缓办不计入）") if config.exclude_deferred else _("缓办案件计入应结案数"),
        _("基本满意计为满意") if config.basically_satisfied_counts else _("基本满意不计为满意"),
        _("满意率目标 %(target)s%%") % {"target": _number(config.satisfaction_target)},
        _("解决方式目标：服务 %(service)s%%、管理 %(management)s%%、执法 %(enforcement)s%%")
        % {
            "service": _number(config.service_target),
            "management": _number(config.management_target),
            "enforcement": _number(config.enforcement_target),
        },
    ]
    if table.scored:
        bands = "、".join(f"{grade} ≥ {_number(minimum)}" for minimum, grade in table.bands)
        notes.append(_("综合指标值为各指标率的加权平均（权重见评价设置）；等级 %(bands)s") % {"bands": bands})
    notes.append(
        _("统计周期 %(first)s 至 %(last)s（含），按亚洲/上海时间")
        % {
            "first": table.period.first_day.isoformat(),
            "last": table.period.last_day.isoformat(),
        }
    )
    return notes


def _number(value: Decimal) -> str:
    return format(value.normalize(), "f") if value == value.to_integral() else str(value)

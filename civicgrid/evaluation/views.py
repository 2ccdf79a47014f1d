"""Evaluation pages (综合评价): the ranked tables, the drill-down to the cases, Excel and print.

Every figure is a row of civicgrid.evaluation.indicators, scored by scoring.Scorer and ranked
by tables.evaluation_table — the same rows the API returns for the same period and reader, so
page, print, Excel and API agree. The reader's scope is the API's (tables.reader_scope).
"""

from __future__ import annotations

from decimal import Decimal
from urllib.parse import quote, urlencode

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

from civicgrid.cases.models import Case
from civicgrid.core.scoping import ScopeDenied, region_prefix_for
from civicgrid.evaluation import excel
from civicgrid.evaluation.api import Refused
from civicgrid.evaluation.drilldown import drillable, drilldown_items
from civicgrid.evaluation.models import EvaluationSettings
from civicgrid.evaluation.periods import TZ, PeriodError
from civicgrid.evaluation.scoring import Scorer
from civicgrid.evaluation.tables import (
    DEFAULT_TAB,
    TABS,
    Table,
    evaluation_table,
    period_from,
    period_params,
    reader_scope,
    settings_notes,
    tabs_for,
)
from civicgrid.geo.models import Region

DRILL_PAGE_SIZE = 100
# Tabs whose 上报数 the workbench can list exactly (its street and grid filters and the report date).
WORKBENCH_LEVELS = {"street": "street", "grid": "grid"}
GROUP_LABELS = {
    "region": gettext_lazy("区域"),
    "unit": gettext_lazy("单位"),
    "staff": gettext_lazy("人员"),
    "other": gettext_lazy("专项"),
}


class PageError(Exception):
    def __init__(self, reason: str, status: int):
        super().__init__(reason)
        self.reason, self.status = reason, status


def _table_for(request: HttpRequest, key: str | None = None) -> Table:
    """The table asked for, for this reader; PageError with a Chinese reason otherwise."""
    allowed = tabs_for(request.user)
    if not allowed:
        raise PageError(_("您的数据权限未配置，无法查看评价。"), 403)
    key = key or request.GET.get("tab") or DEFAULT_TAB
    tab = TABS.get(key)
    if tab is None:
        raise PageError(_("未知的评价对象：%(tab)s") % {"tab": key}, 400)
    if tab not in allowed:
        raise PageError(_("数据权限为“本单位”的用户只能查看本单位的评价（处置单位、满意度、解决方式）。"), 403)
    try:
        period = period_from(request.GET)
        scope = reader_scope(request.user, tab)
    except PeriodError as exc:
        raise PageError(exc.reason, 400) from None
    except Refused as exc:
        raise PageError(exc.reason, exc.status) from None
    return evaluation_table(tab, period, scope, config=EvaluationSettings.current())


def area_name(user) -> str:
    """The county, or the reader's region (a street office's street), for titles."""
    try:
        prefix = region_prefix_for(user)
    except ScopeDenied:
        return ""
    regions = Region.objects.order_by("code").only("pk", "name")
    region = regions.filter(code=prefix).first() if prefix else regions.filter(level=Region.Level.COUNTY).first()
    return region.name if region else ""


def _display(value, kind: str) -> str:
    if value is None:
        return "—"
    if kind == "bool":
        return _("达标") if value else _("未达标")
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    return str(value)


def _drill_url(table: Table, row, indicator: str) -> str | None:
    if not drillable(table.tab.key, indicator) or not getattr(row, indicator):
        return None
    period = period_params(table.period)
    if indicator == "reports" and table.tab.key in WORKBENCH_LEVELS and table.scope.unit_id is None:
        # The workbench lists them itself: the cases of the street/grid reported in the period
        # (not for a unit-scoped reader, whose workbench shows only the cases sent to the unit).
        params = {
            "queue": "all",
            WORKBENCH_LEVELS[table.tab.key]: row.code,
            "date_from": table.period.first_day.isoformat(),
            "date_to": table.period.last_day.isoformat(),
        }
        return reverse("cases:workbench") + "?" + urlencode(params)
    params = {"tab": table.tab.key, "id": row.id, "indicator": indicator, **period}
    return reverse("evaluation:cases") + "?" + urlencode(params)


def _rows(table: Table) -> list[dict]:
    rows = []
    for ranked in table.rows:
        row = ranked.row
        cells = [
            {
                "text": _display(getattr(row, column.name), column.kind),
                "kind": column.kind,
                "url": _drill_url(table, row, column.name) if column.is_count else None,
                "bad": column.kind == "bool" and getattr(row, column.name) is False,
            }
            for column in table.columns
        ]
        rows.append({"rank": ranked.rank, "row": row, "cells": cells, "score": _display(row.score, "number")})
    return rows


def _overall(table: Table) -> dict | None:
    if table.overall is None:
        return None
    cells = [
        {
            "text": _display(getattr(table.overall, column.name), column.kind),
            "kind": column.kind,
            "url": _drill_url(table, table.overall, column.name) if column.is_count else None,
        }
        for column in table.columns
    ]
    return {"row": table.overall, "cells": cells}


def _chart(table: Table) -> dict:
    """The bar chart: scores (or satisfaction rates, or resolution shares), best first."""
    if table.tab.key == "resolution":
        rows = [ranked.row for ranked in table.rows]
        return {
            "kind": "stack",
            "names": [row.name for row in rows],
            "series": [
                {"name": str(_("服务")), "data": [_float(row.service_share) for row in rows]},
                {"name": str(_("管理")), "data": [_float(row.management_share) for row in rows]},
                {"name": str(_("执法")), "data": [_float(row.enforcement_share) for row in rows]},
            ],
        }
    by = table.tab.rank_by
    ranked = [r for r in table.rows if getattr(r.row, by) is not None]
    return {
        "kind": "bar",
        "title": str(_("综合指标值") if by == "score" else _("满意率（%）")),
        "names": [r.row.name for r in ranked],
        "values": [_float(getattr(r.row, by)) for r in ranked],
        "grades": [r.row.grade or "" for r in ranked] if by == "score" else [],
        "target": _float(table.config.satisfaction_target) if by == "satisfaction_rate" else None,
    }


def _float(value):
    return float(value) if value is not None else None


def _grade_counts(table: Table) -> list[tuple[str, int]]:
    if not table.scored:
        return []
    counts = {grade: 0 for _minimum, grade in table.bands}
    for ranked in table.rows:
        if ranked.row.grade in counts:
            counts[ranked.row.grade] += 1
    return list(counts.items())


def _context(request: HttpRequest, table: Table) -> dict:
    params = period_params(table.period)
    query = urlencode({"tab": table.tab.key, **params})
    allowed = tabs_for(request.user)
    groups: dict[str, list] = {}
    for tab in allowed:
        groups.setdefault(tab.group, []).append(tab)
    scores = [ranked.row.score for ranked in table.rows if table.scored and ranked.row.score is not None]
    return {
        "table": table,
        "rows": _rows(table),
        "overall": _overall(table),
        "chart": _chart(table),
        "grades": _grade_counts(table),
        "average_score": (sum(scores) / len(scores)).quantize(Decimal("0.01")) if scores else None,
        "notes": settings_notes(table),
        "area": area_name(request.user),
        "tab_groups": [(GROUP_LABELS[group], tabs) for group, tabs in groups.items()],
        "period_query": urlencode(params),
        "query": query,
        "form": _form_values(request, table),
        "today": timezone.localdate(timezone.now(), TZ),
    }


def _form_values(request: HttpRequest, table: Table) -> dict:
    first = table.period.first_day
    this_year = timezone.localdate(timezone.now(), TZ).year
    return {
        "kind": table.period.kind,
        "month": f"{first.year}-{first.month:02d}",
        "date": first.isoformat(),
        "quarter": f"{first.year}-Q{(first.month - 1) // 3 + 1}",
        "year": str(first.year),
        "start": first.isoformat(),
        "end": table.period.last_day.isoformat(),
        "months": _months(first),
        "quarters": [f"{year}-Q{q}" for year in range(this_year, this_year - 3, -1) for q in (4, 3, 2, 1)],
        "years": [str(year) for year in range(this_year, this_year - 5, -1)],
    }


def _months(shown) -> list[tuple[str, str]]:
    """The picker's months: this one and the 35 before it (and the shown one if older)."""
    today = timezone.localdate(timezone.now(), TZ)
    year, month, months = today.year, today.month, []
    for _n in range(36):
        months.append((f"{year}-{month:02d}", _("%(year)s年%(month)s月") % {"year": year, "month": month}))
        year, month = (year - 1, 12) if month == 1 else (year, month - 1)
    value = f"{shown.year}-{shown.month:02d}"
    if value not in dict(months):
        months.append((value, _("%(year)s年%(month)s月") % {"year": shown.year, "month": shown.month}))
    return months


@require_GET
@login_required
def evaluation_page(request: HttpRequest) -> HttpResponse:
    try:
        table = _table_for(request)
    except PageError as exc:
        return _error(request, exc)
    return render(request, "evaluation/page.html", _context(request, table))


@require_GET
@login_required
def evaluation_print(request: HttpRequest) -> HttpResponse:
    try:
        table = _table_for(request)
    except PageError as exc:
        return _error(request, exc)
    context = _context(request, table)
    context["printed_at"] = timezone.localtime(timezone.now(), TZ)
    return render(request, "evaluation/print.html", context)


@require_GET
@login_required
def evaluation_export(request: HttpRequest) -> HttpResponse:
    """The tab's table as an .xlsx workbook; tab=all: one sheet per tab the reader may open."""
    key = request.GET.get("tab") or DEFAULT_TAB
    try:
        if key == "all":
            scorer, config = Scorer(), EvaluationSettings.current()
            period = period_from(request.GET)
            tables = [
                evaluation_table(tab, period, reader_scope(request.user, tab), config=config, scorer=scorer)
                for tab in tabs_for(request.user)
            ]
            if not tables:
                raise PageError(_("您的数据权限未配置，无法查看评价。"), 403)
        else:
            tables = [_table_for(request, key)]
    except PeriodError as exc:
        return _error(request, PageError(exc.reason, 400))
    except Refused as exc:
        return _error(request, PageError(exc.reason, exc.status))
    except PageError as exc:
        return _error(request, exc)
    area = area_name(request.user)
    content = excel.workbook_bytes(tables, area=area)
    period = tables[0].period
    subject = _("综合评价") if key == "all" else f"{tables[0].tab.label}{_('综合评价')}"
    filename = f"{area}{period.label}{subject}.xlsx"
    response = HttpResponse(content, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    ascii_name = f"evaluation-{key}-{period.first_day.isoformat()}.xlsx"
    response["Content-Disposition"] = f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename)}"
    return response


@require_GET
@login_required
def evaluation_cases(request: HttpRequest) -> HttpResponse:
    """The cases behind one figure: ?tab=&id=&indicator=&<period>."""
    try:
        table = _table_for(request)
    except PageError as exc:
        return _error(request, exc)
    indicator = request.GET.get("indicator", "")
    raw_id = request.GET.get("id", "")
    if not drillable(table.tab.key, indicator) or not raw_id.isdigit():
        return _error(request, PageError(_("该指标没有案件清单（只有计数指标可以穿透查看案件）。"), 400))
    object_id = int(raw_id)
    rows = [ranked.row for ranked in table.rows]
    if table.overall is not None:
        rows.append(table.overall)
    row = next((r for r in rows if r.id == object_id), None)
    if row is None:
        return _error(request, PageError(_("在您的数据范围内没有这个评价对象。"), 404))
    items = drilldown_items(table.tab.key, object_id, indicator, table.period, scope=table.scope, config=table.config)
    page = Paginator(items, DRILL_PAGE_SIZE).get_page(request.GET.get("page"))
    cases = Case.objects.filter(pk__in=[item.case_id for item in page.object_list]).select_related(
        "category", "street", "grid", "handling_unit"
    )
    by_pk = {case.pk: case for case in cases}
    column = next((c for c in table.columns if c.name == indicator), None)
    params = request.GET.copy()
    params.pop("page", None)
    back = urlencode({"tab": table.tab.key, **period_params(table.period)})
    context = {
        "table": table,
        "row": row,
        "indicator": indicator,
        "indicator_label": column.label if column else indicator,
        "figure": getattr(row, indicator),
        "page": page,
        "items": [(item, by_pk.get(item.case_id)) for item in page.object_list],
        "querystring": params.urlencode(),
        "back": back,
        "area": area_name(request.user),
    }
    return render(request, "evaluation/cases.html", context)


def _error(request: HttpRequest, exc: PageError) -> HttpResponse:
    return render(request, "evaluation/error.html", {"reason": exc.reason}, status=exc.status)

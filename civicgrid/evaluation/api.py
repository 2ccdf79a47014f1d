"""Evaluation API under /api/v1/evaluation/ (docs/evaluation.md): the indicators as JSON.

GET regions/?level=street|community|grid|county   区域评价
GET units/                                         处置单位评价
GET staff/?role=inspector|operator|shift_lead|dispatcher   人员评价
GET satisfaction/                                  满意度
GET resolution/                                    解决方式（服务、管理、执法）
GET summary/                                       全县（或本区域）汇总

Every endpoint takes the period parameters of civicgrid.evaluation.periods (default: this
month). The figures are the same functions' rows that the pages and Excel export show, with
field names in English and their Chinese labels under "labels". Scope: a user limited to a
region (a street office, a region-scoped leader) gets figures computed from the cases in that
region only; a user limited to a unit gets only that unit's rows, and no region or staff rows
unless the unit has a region (a street office).
"""

from __future__ import annotations

from decimal import Decimal

from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.authentication import SessionAuthentication
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from civicgrid.core.api import error_response
from civicgrid.core.auth import CachedTokenAuthentication
from civicgrid.core.models import Role
from civicgrid.core.scoping import ScopeDenied, region_prefix_for, unit_for
from civicgrid.evaluation import indicators
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
from civicgrid.evaluation.periods import PeriodError, parse_period
from civicgrid.evaluation.scoring import Scorer

PERIOD_PARAMETERS = [
    OpenApiParameter(
        "period", str, enum=["day", "week", "month", "quarter", "year", "custom"], description="统计周期，默认 month"
    ),
    OpenApiParameter("date", OpenApiTypes.DATE, description="day、week：其中一天（YYYY-MM-DD），默认今天"),
    OpenApiParameter("month", str, description="month：YYYY-MM，默认本月"),
    OpenApiParameter("quarter", str, description="quarter：YYYY-Q1…YYYY-Q4，默认本季度"),
    OpenApiParameter("year", str, description="year：YYYY，默认本年"),
    OpenApiParameter("start", OpenApiTypes.DATE, description="custom：开始日期（含）"),
    OpenApiParameter("end", OpenApiTypes.DATE, description="custom：结束日期（含）"),
]
STAFF_ROW_CLASSES = {
    Role.INSPECTOR: InspectorRow,
    Role.OPERATOR: DeskRow,
    Role.SHIFT_LEAD: DeskRow,
    Role.DISPATCHER: DispatcherRow,
}


class Refused(Exception):
    def __init__(self, field: str | None, reason: str, status: int = 400):
        super().__init__(reason)
        self.field, self.reason, self.status = field, reason, status


def _json(value):
    # Rates are exact two-place decimals; as JSON numbers they print the same digits.
    return float(value) if isinstance(value, Decimal) else value


def row_json(row) -> dict:
    return {name: _json(value) for name, value in row.as_dict().items()}


def settings_json(config: EvaluationSettings) -> dict:
    return {
        "exclude_deferred": config.exclude_deferred,
        "basically_satisfied_counts": config.basically_satisfied_counts,
        "satisfaction_target": _json(config.satisfaction_target),
        "resolution_targets": {
            "service": _json(config.service_target),
            "management": _json(config.management_target),
            "enforcement": _json(config.enforcement_target),
        },
    }


class EvaluationApi(APIView):
    """Shared: authentication, the period, the reader's scope, the error shape."""

    # Token first, as the cases API: an app without credentials gets 401 "WWW-Authenticate: Token".
    authentication_classes = [CachedTokenAuthentication, SessionAuthentication]
    # Unit-scoped readers without a region may read only their own unit's figures.
    unit_readers_allowed = True

    def get(self, request: Request):
        try:
            period = parse_period(request.query_params)
            scope = self.scope(request.user)
            config = EvaluationSettings.current()
            body = self.figures(request, period, scope, config)
        except PeriodError as exc:
            return error_response(exc.field, exc.reason, 400)
        except Refused as exc:
            return error_response(exc.field, exc.reason, exc.status)
        return Response({"period": period.as_dict(), "settings": settings_json(config), **body})

    def scope(self, user) -> Scope:
        try:
            prefix = region_prefix_for(user)
        except ScopeDenied:
            raise Refused(None, _("您的数据权限未配置，无法查看评价。"), 403) from None
        unit = unit_for(user)
        if unit is not None and prefix is None and not self.unit_readers_allowed:
            raise Refused(None, _("数据权限为“本单位”的用户只能查看本单位的评价（处置单位、满意度、解决方式）。"), 403)
        return Scope(region_prefix=prefix, unit_id=unit)

    def figures(self, request: Request, period, scope: Scope, config: EvaluationSettings) -> dict:
        raise NotImplementedError


class RegionEvaluationApi(EvaluationApi):
    """Streets, communities or grids: reports, filings, closures, on-time closures, cases per grid."""

    unit_readers_allowed = False

    @extend_schema(
        operation_id="v1_evaluation_regions",
        summary="区域评价（街道、社区、网格）",
        parameters=[
            OpenApiParameter(
                "level", str, enum=list(indicators.LEVELS), description="层级：street（默认）、community、grid、county"
            ),
            *PERIOD_PARAMETERS,
        ],
        responses={200: OpenApiTypes.OBJECT, 400: OpenApiTypes.OBJECT, 403: OpenApiTypes.OBJECT},
    )
    def get(self, request: Request):
        return super().get(request)

    def figures(self, request, period, scope, config) -> dict:
        level = (request.query_params.get("level") or "street").strip()
        if level not in indicators.LEVELS:
            raise Refused("level", _("层级应为 street（街道）、community（社区）、grid（网格）或 county（全县）"))
        rows = indicators.region_rows(period, level, scope=scope, config=config)
        Scorer().apply(ObjectType.REGION, rows)
        return {
            "object_type": ObjectType.REGION.value,
            "level": level,
            "labels": labels_for(RegionRow),
            "count": len(rows),
            "results": [row_json(row) for row in rows],
        }


class UnitEvaluationApi(EvaluationApi):
    """Handling units: received, closed, on time, reworked, extended, overdue, returned, handling time."""

    @extend_schema(
        operation_id="v1_evaluation_units",
        summary="处置单位评价",
        parameters=PERIOD_PARAMETERS,
        responses={200: OpenApiTypes.OBJECT, 400: OpenApiTypes.OBJECT, 403: OpenApiTypes.OBJECT},
    )
    def get(self, request: Request):
        return super().get(request)

    def figures(self, request, period, scope, config) -> dict:
        rows = indicators.unit_rows(period, scope=scope, config=config)
        Scorer().apply(ObjectType.UNIT, rows)
        return {
            "object_type": ObjectType.UNIT.value,
            "labels": labels_for(UnitRow),
            "count": len(rows),
            "results": [row_json(row) for row in rows],
        }


class StaffEvaluationApi(EvaluationApi):
    """Inspectors, operators, shift leads or dispatchers."""

    unit_readers_allowed = False

    @extend_schema(
        operation_id="v1_evaluation_staff",
        summary="人员评价（监督员、受理员、值班长、派遣员）",
        parameters=[
            OpenApiParameter("role", str, enum=[r.value for r in indicators.STAFF_ROLES], description="角色"),
            *PERIOD_PARAMETERS,
        ],
        responses={200: OpenApiTypes.OBJECT, 400: OpenApiTypes.OBJECT, 403: OpenApiTypes.OBJECT},
    )
    def get(self, request: Request):
        return super().get(request)

    def figures(self, request, period, scope, config) -> dict:
        role = (request.query_params.get("role") or "").strip()
        if role not in STAFF_ROW_CLASSES:
            reason = _("角色应为 inspector（监督员）、operator（受理员）、shift_lead（值班长）或 dispatcher（派遣员）")
            raise Refused("role", reason)
        rows = indicators.staff_rows(period, role, scope=scope, config=config)
        Scorer().apply(role, rows)
        return {
            "object_type": role,
            "role_label": str(Role(role).label),
            "labels": labels_for(STAFF_ROW_CLASSES[role]),
            "count": len(rows),
            "results": [row_json(row) for row in rows],
        }


def _overall_and_units(row_class: type, overall, rows: list) -> dict:
    """The answer of the tabs with a 全部 row and one row per unit (satisfaction, resolution)."""
    return {
        "labels": labels_for(row_class),
        "overall": row_json(overall),
        "count": len(rows),
        "results": [row_json(row) for row in rows],
    }


class SatisfactionEvaluationApi(EvaluationApi):
    """Ratings (群众评价, 12345 回访): satisfaction rate overall and per unit against the target."""

    @extend_schema(
        operation_id="v1_evaluation_satisfaction",
        summary="满意度（回访）",
        parameters=PERIOD_PARAMETERS,
        responses={200: OpenApiTypes.OBJECT, 400: OpenApiTypes.OBJECT, 403: OpenApiTypes.OBJECT},
    )
    def get(self, request: Request):
        return super().get(request)

    def figures(self, request, period, scope, config) -> dict:
        return _overall_and_units(SatisfactionRow, *indicators.satisfaction_rows(period, scope=scope, config=config))


class ResolutionEvaluationApi(EvaluationApi):
    """Closures by resolution mode (服务、管理、执法) against the 70/20/10 target."""

    @extend_schema(
        operation_id="v1_evaluation_resolution",
        summary="解决方式（服务、管理、执法）",
        parameters=PERIOD_PARAMETERS,
        responses={200: OpenApiTypes.OBJECT, 400: OpenApiTypes.OBJECT, 403: OpenApiTypes.OBJECT},
    )
    def get(self, request: Request):
        return super().get(request)

    def figures(self, request, period, scope, config) -> dict:
        return _overall_and_units(ResolutionRow, *indicators.resolution_rows(period, scope=scope, config=config))


class SummaryEvaluationApi(EvaluationApi):
    """The reader's whole area in one object: the region totals, satisfaction and resolution."""

    unit_readers_allowed = False

    @extend_schema(
        operation_id="v1_evaluation_summary",
        summary="评价汇总",
        parameters=PERIOD_PARAMETERS,
        responses={200: OpenApiTypes.OBJECT, 400: OpenApiTypes.OBJECT, 403: OpenApiTypes.OBJECT},
    )
    def get(self, request: Request):
        return super().get(request)

    def figures(self, request, period, scope, config) -> dict:
        scorer = Scorer()
        total = indicators.region_total(indicators.region_rows(period, "county", scope=scope, config=config))
        scorer.apply(ObjectType.REGION, [total])
        satisfaction, _units = indicators.satisfaction_rows(period, scope=scope, config=config)
        resolution, _units = indicators.resolution_rows(period, scope=scope, config=config)
        return {
            "labels": {
                "region": labels_for(RegionRow),
                "satisfaction": labels_for(SatisfactionRow),
                "resolution": labels_for(ResolutionRow),
            },
            "region": row_json(total),
            "satisfaction": row_json(satisfaction),
            "resolution": row_json(resolution),
        }

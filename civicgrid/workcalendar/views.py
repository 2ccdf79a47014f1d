"""Calendar arithmetic over HTTP, open without login (no data of the bureau is exposed).

GET /api/v1/calendar/deadline?start=&amount=&unit=[&pause=<start>/<end> ...]
GET /api/v1/calendar/elapsed?start=&end=&unit=[&pause=<start>/<end> ...]
"""

from __future__ import annotations

import math
import re
from datetime import datetime
from zoneinfo import ZoneInfo

from django.conf import settings
from django.http import HttpRequest, JsonResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.decorators import api_view, authentication_classes, permission_classes
from rest_framework.permissions import AllowAny

from civicgrid.core.api import error_response
from civicgrid.workcalendar.engine import MAX_YEAR, MIN_YEAR, Unit
from civicgrid.workcalendar.selectors import get_calendar

# Tens of years of working days; beyond that an amount is a typing error, not a time limit.
MAX_AMOUNT = 10000
UNITS = "、".join(u.value for u in Unit)
# "+08:00" in a query string arrives as " 08:00" when the client did not encode "+" as %2B.
_UNENCODED_PLUS = re.compile(r"^(\S+[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?) (\d{2}:?\d{2})$")


class BadParameter(Exception):
    def __init__(self, field: str, reason: str):
        super().__init__(reason)
        self.field, self.reason = field, reason


def _instant(value: str | None, field: str) -> datetime:
    example = f"{field} 必须是 ISO 8601 时间，例如 2026-02-13T10:00:00+08:00"
    if value is None or not value.strip():
        raise BadParameter(field, f"缺少参数 {field}（{example[len(field) + 1 :]}）")
    text = _UNENCODED_PLUS.sub(r"\1+\2", value.strip())
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise BadParameter(field, example) from None
    if moment.tzinfo is None:
        # Without an offset the time is local (Asia/Shanghai by default).
        moment = moment.replace(tzinfo=ZoneInfo(settings.TIME_ZONE))
    if not MIN_YEAR < moment.year < MAX_YEAR:
        raise BadParameter(field, f"{field} 超出可计算的时间范围（{MIN_YEAR + 1}–{MAX_YEAR - 1} 年）")
    return moment


def _amount(value: str | None) -> float:
    if value is None or not value.strip():
        raise BadParameter("amount", "缺少参数 amount（非负数，例如 2 或 0.5）")
    try:
        amount = float(value)
    except ValueError:
        raise BadParameter("amount", "amount 必须是数字，例如 2 或 0.5") from None
    if not math.isfinite(amount) or amount < 0:
        raise BadParameter("amount", "amount 必须是不小于 0 的有限数字")
    if amount > MAX_AMOUNT:
        raise BadParameter("amount", f"amount 不能大于 {MAX_AMOUNT}")
    return amount


def _unit(value: str | None) -> Unit:
    if value is None or not value.strip():
        raise BadParameter("unit", f"缺少参数 unit（{UNITS} 之一）")
    try:
        return Unit(value.strip())
    except ValueError:
        raise BadParameter("unit", f"unit 必须是 {UNITS} 之一") from None


def _pauses(values: list[str]) -> list[tuple[datetime, datetime]]:
    pauses = []
    for value in values:
        parts = value.split("/")
        if len(parts) != 2:
            raise BadParameter(
                "pause", "pause 必须写成 开始/结束，例如 2026-02-13T10:00:00+08:00/2026-02-13T11:00:00+08:00"
            )
        start, end = _instant(parts[0], "pause"), _instant(parts[1], "pause")
        if end < start:
            raise BadParameter("pause", "pause 的结束时间不能早于开始时间")
        pauses.append((start, end))
    return pauses


_UNIT_PARAM = OpenApiParameter(
    "unit", OpenApiTypes.STR, required=True, enum=[u.value for u in Unit], description="工作时、工作日或自然时"
)
_PAUSE_PARAM = OpenApiParameter(
    "pause", OpenApiTypes.STR, many=True, description="暂停区间（缓办等），开始/结束，可重复"
)
_ERROR = inline_serializer(
    "CalendarError",
    {
        "error": inline_serializer(
            "CalendarErrorItem", {"field": serializers.CharField(), "reason": serializers.CharField()}
        )
    },
)


def _iso(moment: datetime) -> str:
    return moment.astimezone(ZoneInfo(settings.TIME_ZONE)).isoformat(timespec="seconds")


@extend_schema(
    summary="期限计算",
    parameters=[
        OpenApiParameter(
            "start", OpenApiTypes.DATETIME, required=True, description="开始时间，ISO 8601；无时区按北京时间"
        ),
        OpenApiParameter("amount", OpenApiTypes.NUMBER, required=True, description="时限，非负数，可为小数"),
        _UNIT_PARAM,
        _PAUSE_PARAM,
    ],
    responses={
        200: inline_serializer(
            "Deadline", {"deadline": serializers.DateTimeField(), "calendar_complete": serializers.BooleanField()}
        ),
        400: _ERROR,
    },
    auth=[],
)
@api_view(["GET"])
@authentication_classes([])
@permission_classes([AllowAny])
def deadline(request: HttpRequest) -> JsonResponse:
    try:
        start = _instant(request.GET.get("start"), "start")
        amount = _amount(request.GET.get("amount"))
        unit = _unit(request.GET.get("unit"))
        pauses = _pauses(request.GET.getlist("pause"))
    except BadParameter as exc:
        return error_response(exc.field, exc.reason)
    try:
        result = get_calendar().add(start, amount, unit, pauses)
    except OverflowError:
        return error_response("amount", "截止时间超出可计算的时间范围，请减小 amount")
    return JsonResponse({"deadline": _iso(result.deadline), "calendar_complete": result.calendar_complete})


@extend_schema(
    summary="已用工作时间",
    parameters=[
        OpenApiParameter("start", OpenApiTypes.DATETIME, required=True),
        OpenApiParameter("end", OpenApiTypes.DATETIME, required=True),
        _UNIT_PARAM,
        _PAUSE_PARAM,
    ],
    responses={
        200: inline_serializer(
            "Elapsed",
            {
                "elapsed": serializers.FloatField(),
                "unit": serializers.CharField(),
                "calendar_complete": serializers.BooleanField(),
            },
        ),
        400: _ERROR,
    },
    auth=[],
)
@api_view(["GET"])
@authentication_classes([])
@permission_classes([AllowAny])
def elapsed(request: HttpRequest) -> JsonResponse:
    try:
        start = _instant(request.GET.get("start"), "start")
        end = _instant(request.GET.get("end"), "end")
        unit = _unit(request.GET.get("unit"))
        pauses = _pauses(request.GET.getlist("pause"))
        if end < start:
            raise BadParameter("end", "end 不能早于 start")
    except BadParameter as exc:
        return error_response(exc.field, exc.reason)
    result = get_calendar().measure(start, end, unit, pauses)
    return JsonResponse(
        {"elapsed": round(result.amount, 6), "unit": unit.value, "calendar_complete": result.calendar_complete}
    )

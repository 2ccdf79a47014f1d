"""Evaluation periods (考核周期): a half-open interval [start, end) of Asia/Shanghai local time.

Every indicator counts what happened at `start <= at < end`, so consecutive periods never
count an event twice. Periods are parsed from the API's query parameters:

    period=day&date=2026-10-08          period=week&date=2026-10-08 (the ISO week holding it)
    period=month&month=2026-10          period=quarter&quarter=2026-Q4 (or 2026-4)
    period=year&year=2026               period=custom&start=2026-10-01&end=2026-10-15 (end inclusive)
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.utils import timezone
from django.utils.translation import gettext as _

TZ = ZoneInfo("Asia/Shanghai")
KINDS = ("day", "week", "month", "quarter", "year", "custom")
# A custom period longer than this is refused: a year is the longest regular period.
MAX_CUSTOM_DAYS = 366


class PeriodError(ValueError):
    """A period parameter that cannot be read; `field` names it, `reason` is Chinese."""

    def __init__(self, field: str, reason: str):
        super().__init__(reason)
        self.field, self.reason = field, reason


@dataclass(frozen=True)
class Period:
    """[start, end) in Asia/Shanghai, its kind and a Chinese label such as "2026年10月"."""

    kind: str
    start: datetime
    end: datetime
    label: str

    @property
    def first_day(self) -> date:
        return self.start.date()

    @property
    def last_day(self) -> date:
        return (self.end - timedelta(days=1)).date()

    def as_dict(self) -> dict:
        return {
            "kind": self.kind,
            "label": self.label,
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "first_day": self.first_day.isoformat(),
            "last_day": self.last_day.isoformat(),
        }


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=TZ)


def _day_label(day: date) -> str:
    # Labels are written in the active language (Chinese by default, as the API gives them).
    return _("%(year)s年%(month)s月%(day)s日") % {"year": day.year, "month": day.month, "day": day.day}


def day_period(day: date) -> Period:
    return Period("day", _midnight(day), _midnight(day + timedelta(days=1)), _day_label(day))


def week_period(day: date) -> Period:
    monday = day - timedelta(days=day.weekday())
    year, week, _weekday = monday.isocalendar()
    return Period(
        "week",
        _midnight(monday),
        _midnight(monday + timedelta(days=7)),
        _("%(year)s年第%(week)s周") % {"year": year, "week": week},
    )


def month_period(year: int, month: int) -> Period:
    nxt = date(year + 1, 1, 1) if month == 12 else date(year, month + 1, 1)
    return Period(
        "month",
        _midnight(date(year, month, 1)),
        _midnight(nxt),
        _("%(year)s年%(month)s月") % {"year": year, "month": month},
    )


def quarter_period(year: int, quarter: int) -> Period:
    first = date(year, 3 * quarter - 2, 1)
    nxt = date(year + 1, 1, 1) if quarter == 4 else date(year, 3 * quarter + 1, 1)
    return Period(
        "quarter",
        _midnight(first),
        _midnight(nxt),
        _("%(year)s年第%(quarter)s季度") % {"year": year, "quarter": quarter},
    )


def year_period(year: int) -> Period:
    return Period(
        "year", _midnight(date(year, 1, 1)), _midnight(date(year + 1, 1, 1)), _("%(year)s年") % {"year": year}
    )


def custom_period(first: date, last: date) -> Period:
    """From `first` to `last`, both days included."""
    label = _("%(first)s至%(last)s") % {"first": _day_label(first), "last": _day_label(last)}
    return Period("custom", _midnight(first), _midnight(last + timedelta(days=1)), label)


def _date(params, name: str) -> date:
    value = (params.get(name) or "").strip()
    if not value:
        raise PeriodError(name, _("请提供日期 %(name)s（格式 YYYY-MM-DD）") % {"name": name})
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise PeriodError(name, _("日期格式应为 YYYY-MM-DD，例如 2026-10-08")) from None


def _year(value: str, name: str) -> int:
    if not re.fullmatch(r"\d{4}", value) or not 2000 <= int(value) <= 2100:
        raise PeriodError(name, _("年份应为 2000 至 2100 之间的四位数字"))
    return int(value)


def parse_period(params, *, today: date | None = None) -> Period:
    """The period named by query parameters; the current month when `period` is absent.

    Raises PeriodError with the offending parameter and a Chinese reason.
    """
    today = today or timezone.localdate(timezone.now(), TZ)
    kind = (params.get("period") or "month").strip()
    if kind not in KINDS:
        raise PeriodError("period", _("统计周期应为 day、week、month、quarter、year 或 custom"))
    if kind == "day":
        return day_period(_date(params, "date") if params.get("date") else today)
    if kind == "week":
        return week_period(_date(params, "date") if params.get("date") else today)
    if kind == "month":
        value = (params.get("month") or f"{today.year}-{today.month:02d}").strip()
        match = re.fullmatch(r"(\d{4})-(\d{1,2})", value)
        if not match or not 1 <= int(match[2]) <= 12:
            raise PeriodError("month", _("月份格式应为 YYYY-MM，例如 2026-10"))
        return month_period(_year(match[1], "month"), int(match[2]))
    if kind == "quarter":
        value = (params.get("quarter") or f"{today.year}-Q{(today.month - 1) // 3 + 1}").strip().upper()
        match = re.fullmatch(r"(\d{4})-Q?([1-4])", value)
        if not match:
            raise PeriodError("quarter", _("季度格式应为 YYYY-Q1 至 YYYY-Q4，例如 2026-Q4"))
        return quarter_period(_year(match[1], "quarter"), int(match[2]))
    if kind == "year":
        return year_period(_year((params.get("year") or str(today.year)).strip(), "year"))
    first, last = _date(params, "start"), _date(params, "end")
    if last < first:
        raise PeriodError("end", _("结束日期不能早于开始日期"))
    if (last - first).days + 1 > MAX_CUSTOM_DAYS:
        raise PeriodError("end", _("自定义周期不能超过 %(days)s 天") % {"days": MAX_CUSTOM_DAYS})
    return custom_period(first, last)

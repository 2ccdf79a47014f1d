"""Writes to the working calendar. Each one drops the cached calendar after its commit."""

from __future__ import annotations

import re
from datetime import date, timedelta

from django.db import transaction

from civicgrid.workcalendar.models import CalendarDay
from civicgrid.workcalendar.selectors import invalidate_calendar


@transaction.atomic
def calendar_day_set(*, day: date, kind: str, name: str = "", note: str = "") -> CalendarDay:
    """Enter or correct one day (holiday or make-up working day); it overrides the package."""
    calendar_day = CalendarDay.objects.select_for_update().filter(date=day).first() or CalendarDay(date=day)
    calendar_day.kind, calendar_day.name, calendar_day.note = kind, name, note
    calendar_day.full_clean()
    calendar_day.save()
    transaction.on_commit(invalidate_calendar)
    return calendar_day


@transaction.atomic
def calendar_day_delete(*, day: date) -> None:
    """Remove an entered day: the package (or Monday–Friday) decides that date again."""
    CalendarDay.objects.filter(date=day).delete()
    transaction.on_commit(invalidate_calendar)


class CalendarDaysParseError(ValueError):
    """Lines of a bulk entry that cannot be read; nothing was written."""

    def __init__(self, problems: list[str]):
        super().__init__("；".join(problems))
        self.problems = problems


_KIND_WORDS = {
    "休": CalendarDay.Kind.HOLIDAY,
    "休息": CalendarDay.Kind.HOLIDAY,
    "放假": CalendarDay.Kind.HOLIDAY,
    "holiday": CalendarDay.Kind.HOLIDAY,
    "班": CalendarDay.Kind.WORKDAY,
    "上班": CalendarDay.Kind.WORKDAY,
    "调休上班": CalendarDay.Kind.WORKDAY,
    "workday": CalendarDay.Kind.WORKDAY,
}
_LINE = re.compile(
    r"^(?P<start>\d{4}-\d{1,2}-\d{1,2})(?:\s*(?:至|到|~|\.\.)\s*(?P<end>\d{4}-\d{1,2}-\d{1,2}))?"
    r"\s+(?P<kind>\S+)(?:\s+(?P<name>.+))?$"
)


def parse_calendar_days(text: str) -> list[tuple[date, str, str]]:
    """Read a schedule as the State Council notice gives it, one line per holiday or make-up day.

    Each line: ``2027-02-06 至 2027-02-14 放假 春节`` or ``2027-02-15 上班 春节调休``
    (a date or a range with 至/到/~/.., then 放假/休息/休 or 上班/班, then an optional name).
    Blank lines and lines starting with # are skipped. Every bad line is reported.
    """
    days: dict[date, tuple[str, str]] = {}
    problems: list[str] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        match = _LINE.match(line)
        if not match:
            problems.append(f"第 {number} 行“{line}”：格式应为“2027-02-06 至 2027-02-14 放假 春节”或“2027-02-15 上班”")
            continue
        kind = _KIND_WORDS.get(match["kind"])
        if kind is None:
            problems.append(f"第 {number} 行：“{match['kind']}”不是“放假”或“上班”")
            continue
        try:
            start = date.fromisoformat(_pad(match["start"]))
            end = date.fromisoformat(_pad(match["end"])) if match["end"] else start
        except ValueError:
            problems.append(f"第 {number} 行：日期无效")
            continue
        if end < start or (end - start).days > 31:
            problems.append(f"第 {number} 行：日期范围无效（结束早于开始或超过 31 天）")
            continue
        current = start
        while current <= end:
            if current in days and days[current][0] != kind:
                problems.append(f"第 {number} 行：{current} 已在前面的行中以另一种类型录入")
            days[current] = (kind, (match["name"] or "").strip())
            current += timedelta(days=1)
    if problems:
        raise CalendarDaysParseError(problems)
    return [(day, kind, name) for day, (kind, name) in sorted(days.items())]


def _pad(text: str) -> str:
    year, month, day = text.split("-")
    return f"{year}-{int(month):02d}-{int(day):02d}"


@transaction.atomic
def calendar_days_import(text: str) -> int:
    """Enter a whole published schedule at once (all lines or none); returns the days written."""
    entries = parse_calendar_days(text)
    for day, kind, name in entries:
        calendar_day = CalendarDay.objects.filter(date=day).first() or CalendarDay(date=day)
        calendar_day.kind, calendar_day.name = kind, name
        calendar_day.full_clean()
        calendar_day.save()
    transaction.on_commit(invalidate_calendar)
    return len(entries)

"""The process-wide working calendar, loaded from the database once and reloaded when it changes.

`get_calendar()` is what every caller uses. It costs two small aggregate queries (row count,
newest `updated_at` and highest id of each table), so each request sees the admin's latest rows
without reloading the calendar. Services and the admin also drop the cache after their commit,
which covers bulk `QuerySet.update()` calls (they skip `auto_now`) made through them.
"""

from __future__ import annotations

import threading

from django.conf import settings
from django.db.models import Count, Max

from civicgrid.workcalendar.engine import Season, WorkCalendar
from civicgrid.workcalendar.models import CalendarDay, WorkSchedule, parse_windows

_lock = threading.Lock()
_cached: tuple[tuple, WorkCalendar] | None = None


def calendar_version() -> tuple:
    """A cheap fingerprint of the CalendarDay and WorkSchedule tables."""
    days = CalendarDay.objects.aggregate(n=Count("id"), last=Max("updated_at"), top=Max("id"))
    schedules = WorkSchedule.objects.aggregate(n=Count("id"), last=Max("updated_at"), top=Max("id"))
    return (days["n"], days["last"], days["top"], schedules["n"], schedules["last"], schedules["top"])


def load_calendar() -> WorkCalendar:
    """Build a WorkCalendar from the package and the current rows (no cache)."""
    overrides = dict(CalendarDay.objects.values_list("date", "kind"))
    seasons = [
        Season(month_days=schedule.month_days(), windows=tuple(parse_windows(schedule.windows)))
        for schedule in WorkSchedule.objects.order_by("season_start", "id")
    ]
    return WorkCalendar(overrides=overrides, seasons=seasons, tz=settings.TIME_ZONE)


def get_calendar() -> WorkCalendar:
    """The cached WorkCalendar, reloaded if CalendarDay or WorkSchedule rows changed."""
    global _cached
    version = calendar_version()
    cached = _cached
    if cached is not None and cached[0] == version:
        return cached[1]
    with _lock:
        cached = _cached
        if cached is not None and cached[0] == version:
            return cached[1]
        calendar = load_calendar()
        _cached = (version, calendar)
        return calendar


def invalidate_calendar() -> None:
    """Forget the cached calendar of this process (others notice through the version check)."""
    global _cached
    _cached = None

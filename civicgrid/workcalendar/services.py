"""Writes to the working calendar. Each one drops the cached calendar after its commit."""

from __future__ import annotations

from datetime import date

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

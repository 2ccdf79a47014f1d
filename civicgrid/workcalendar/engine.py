"""Working-time arithmetic: deadlines and elapsed time in working hours, working days or natural hours.

Pure Python, no database: `WorkCalendar` is built once from the chinese_calendar package, the
admin's `CalendarDay` overrides and the `WorkSchedule` seasons (see selectors.get_calendar for
the cached, database-backed instance), then answers `add` and `elapsed` from precomputed
per-day tables with bisect, never by walking minutes.

The clock ticks in whole minutes: instants are truncated to the minute, amounts are rounded to
the nearest minute (for working days: to the nearest minute of the day the deadline falls on).

Three "positions" measure time, one per unit:
- natural hours: minutes since the Unix epoch (absolute, so a zone with summer time still works);
- working hours: working minutes since the first day of the tables (local wall time);
- working days: (k, f) = k whole working days since the first day of the tables plus the
  fraction f in [0, 1) of working day k's working time already passed.
A deadline is the earliest instant whose position reaches start + amount: an amount that runs
out exactly at a window end is that window end (17:30, or 12:00 before the lunch break), not the
start of the next window. docs/calendar.md explains the rules with examples.
"""

from __future__ import annotations

import bisect
import math
import re
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo
from enum import StrEnum
from zoneinfo import ZoneInfo

from chinese_calendar import constants as cc

HOLIDAY = "holiday"
WORKDAY = "workday"

DEFAULT_WINDOWS: tuple[tuple[int, int], ...] = ((8 * 60, 12 * 60), (14 * 60 + 30, 17 * 60 + 30))
MIN_YEAR, MAX_YEAR = 1900, 9998
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
# Tolerance when comparing working-day amounts (floats); far below one minute of a working day.
_EPS = 1e-9


class Unit(StrEnum):
    WORKING_HOURS = "working_hours"
    WORKING_DAYS = "working_days"
    NATURAL_HOURS = "natural_hours"


@dataclass(frozen=True)
class Deadline:
    deadline: datetime
    calendar_complete: bool


@dataclass(frozen=True)
class Elapsed:
    amount: float
    calendar_complete: bool


@dataclass(frozen=True)
class Season:
    """Working windows (minutes after midnight) for the (month, day) pairs of a season."""

    month_days: frozenset[tuple[int, int]]
    windows: tuple[tuple[int, int], ...]


def parse_month_day(value: str) -> tuple[int, int]:
    """'05-01' -> (5, 1); raises ValueError. 02-29 is allowed (it exists in leap years)."""
    match = re.fullmatch(r"(\d{2})-(\d{2})", value or "")
    if not match:
        raise ValueError(value)
    month, day = int(match[1]), int(match[2])
    date(2000, month, day)  # 2000 is a leap year: checks the day of the month
    return month, day


def parse_clock(value: str) -> int:
    """'14:30' -> minutes after midnight; '24:00' is allowed as the end of a window. Raises ValueError."""
    match = re.fullmatch(r"(\d{2}):(\d{2})", value) if isinstance(value, str) else None
    if not match:
        raise ValueError(value)
    hours, minutes = int(match[1]), int(match[2])
    if minutes > 59 or hours > 24 or (hours == 24 and minutes):
        raise ValueError(value)
    return hours * 60 + minutes


def season_month_days(start: tuple[int, int], end: tuple[int, int]) -> frozenset[tuple[int, int]]:
    """Every (month, day) from start to end inclusive, wrapping the year end; 02-29 included."""
    days = []
    current = date(2000, *start)
    while True:
        days.append((current.month, current.day))
        if (current.month, current.day) == end:
            return frozenset(days)
        current = date(2000, 1, 1) if (current.month, current.day) == (12, 31) else current + timedelta(days=1)


def package_years() -> frozenset[int]:
    """The years the chinese_calendar package knows (holidays or make-up working days)."""
    return frozenset(d.year for d in cc.holidays) | frozenset(d.year for d in cc.workdays)


class _Tables:
    """Per-day tables for the days of [first_year, last_year]; never changed once built."""

    __slots__ = ("first_ordinal", "first_year", "last_year", "windows", "work", "cum_work", "cum_days", "n")

    def __init__(self, calendar: WorkCalendar, first_year: int, last_year: int):
        self.first_year, self.last_year = first_year, last_year
        self.first_ordinal = date(first_year, 1, 1).toordinal()
        last_ordinal = date(last_year, 12, 31).toordinal()
        self.n = last_ordinal - self.first_ordinal + 1
        windows: list[tuple[tuple[int, int], ...]] = []
        work: list[int] = []
        cum_work = [0]
        cum_days = [0]
        total_work = total_days = 0
        for ordinal in range(self.first_ordinal, last_ordinal + 1):
            day = date.fromordinal(ordinal)
            if calendar.day_kind(day) == WORKDAY:
                day_windows = calendar.windows_for(day)
                minutes = sum(e - s for s, e in day_windows)
                total_days += 1
            else:
                day_windows, minutes = (), 0
            windows.append(day_windows)
            work.append(minutes)
            total_work += minutes
            cum_work.append(total_work)
            cum_days.append(total_days)
        self.windows, self.work, self.cum_work, self.cum_days = windows, work, cum_work, cum_days


def _worked_before(windows: tuple[tuple[int, int], ...], minute: int) -> int:
    """Working minutes of a day's windows before `minute` after midnight."""
    worked = 0
    for start, end in windows:
        if minute <= start:
            break
        if minute >= end:
            worked += end - start
        else:
            worked += minute - start
            break
    return worked


def _minute_at(windows: tuple[tuple[int, int], ...], offset: int) -> int:
    """The earliest minute after midnight at which `offset` (> 0) working minutes have passed."""
    for start, end in windows:
        length = end - start
        if offset <= length:
            return start + offset
        offset -= length
    return windows[-1][1]


def merge_intervals(intervals: Iterable[tuple[datetime, datetime]]) -> list[tuple[datetime, datetime]]:
    """Sort and merge overlapping or touching intervals, dropping empty ones."""
    merged: list[list[datetime]] = []
    for start, end in sorted((s, e) for s, e in intervals if e > s):
        if merged and start <= merged[-1][1]:
            if end > merged[-1][1]:
                merged[-1][1] = end
        else:
            merged.append([start, end])
    return [(s, e) for s, e in merged]


class WorkCalendar:
    """Holidays, make-up working days and seasonal windows; computes deadlines and elapsed time.

    overrides: date -> "holiday" | "workday" (the admin's CalendarDay rows); they win over the
    package. entered_years: years the admin has entered (complete even if the package lacks
    them); by default the years of `overrides`. seasons: the WorkSchedule rows; a day in none
    of them uses DEFAULT_WINDOWS.
    """

    def __init__(
        self,
        *,
        overrides: Mapping[date, str] | None = None,
        seasons: Sequence[Season] = (),
        entered_years: Iterable[int] | None = None,
        tz: tzinfo | str = "Asia/Shanghai",
        use_package: bool = True,
    ):
        self.tz = ZoneInfo(tz) if isinstance(tz, str) else tz
        self.overrides = dict(overrides or {})
        self._package_holidays = frozenset(cc.holidays) if use_package else frozenset()
        self._package_workdays = frozenset(cc.workdays) if use_package else frozenset()
        years = set(self.overrides_years() if entered_years is None else entered_years)
        self.complete_years = frozenset(years | (package_years() if use_package else set()))
        # Windows for each (month, day) of a leap year; the first season listed wins an overlap.
        self._windows_by_month_day: dict[tuple[int, int], tuple[tuple[int, int], ...]] = {}
        for season in seasons:
            for month_day in season.month_days:
                self._windows_by_month_day.setdefault(month_day, tuple(season.windows))
        known = [y for y in self.complete_years if MIN_YEAR <= y <= MAX_YEAR]
        first = min([2000, *known])
        last = max([date.today().year + 2, *known]) + 1
        self._lock = threading.Lock()
        self._tables = _Tables(self, first, last)

    def overrides_years(self) -> set[int]:
        return {d.year for d in self.overrides}

    # Days

    def day_kind(self, day: date) -> str:
        """'workday' or 'holiday': the admin's row, else the package, else Monday–Friday."""
        kind = self.overrides.get(day)
        if kind is not None:
            return kind
        if day in self._package_holidays:
            return HOLIDAY
        if day in self._package_workdays:
            return WORKDAY
        return HOLIDAY if day.weekday() >= 5 else WORKDAY

    def is_working_day(self, day: date) -> bool:
        return self.day_kind(day) == WORKDAY

    def windows_for(self, day: date) -> tuple[tuple[int, int], ...]:
        """The working windows of the season `day` is in (whether or not it is a working day)."""
        return self._windows_by_month_day.get((day.month, day.day), DEFAULT_WINDOWS)

    def is_year_complete(self, year: int) -> bool:
        return year in self.complete_years

    def is_working_time(self, moment: datetime) -> bool:
        local = self._local(moment)
        if not self.is_working_day(local.date()):
            return False
        minute = local.hour * 60 + local.minute
        return any(s <= minute < e for s, e in self.windows_for(local.date()))

    def _years_complete(self, first: int, last: int) -> bool:
        return all(y in self.complete_years for y in range(first, last + 1))

    # Tables

    def _covering(self, first_year: int, last_year: int) -> _Tables:
        """Tables that hold every day of [first_year, last_year]; call before computing positions."""
        tables = self._tables
        if tables.first_year <= first_year and last_year <= tables.last_year:
            return tables
        return self._build(min(first_year, tables.first_year), max(last_year, tables.last_year))

    def _extend(self, tables: _Tables, last_year: int) -> _Tables:
        """Tables with the same first day as `tables` (so positions already computed in a running
        call stay valid) that reach at least `last_year`."""
        if last_year <= tables.last_year:
            return tables
        current = self._tables
        if current.first_year == tables.first_year and current.last_year >= last_year:
            return current
        return self._build(tables.first_year, max(last_year, current.last_year))

    def _grow(self, tables: _Tables) -> _Tables:
        """Longer tables (for a deadline past their end)."""
        if tables.last_year >= MAX_YEAR:
            raise OverflowError("超出可计算的时间范围")
        return self._extend(tables, min(MAX_YEAR, tables.last_year + max(10, tables.last_year - tables.first_year)))

    def _build(self, first_year: int, last_year: int) -> _Tables:
        if first_year < MIN_YEAR or last_year > MAX_YEAR:
            raise OverflowError("超出可计算的时间范围")
        tables = _Tables(self, first_year, last_year)
        with self._lock:
            # Tables are immutable; readers hold their own reference, so a swap is safe.
            current = self._tables
            if tables.first_year <= current.first_year and tables.last_year >= current.last_year:
                self._tables = tables
        return tables

    # Conversions

    def _local(self, moment: datetime) -> datetime:
        if moment.tzinfo is None or moment.utcoffset() is None:
            raise ValueError("moment must be timezone-aware")
        return moment.astimezone(self.tz)

    def _local_minute(self, moment: datetime) -> int:
        """Minutes since 0001-01-01 00:00 local wall time, truncated to the minute."""
        local = self._local(moment)
        return local.toordinal() * 1440 + local.hour * 60 + local.minute

    def _from_local_minute(self, minute: int) -> datetime:
        day, rest = divmod(minute, 1440)
        return (datetime.fromordinal(day) + timedelta(minutes=rest)).replace(tzinfo=self.tz)

    @staticmethod
    def _absolute_minute(moment: datetime) -> int:
        if moment.tzinfo is None or moment.utcoffset() is None:
            raise ValueError("moment must be timezone-aware")
        return math.floor(moment.timestamp() / 60)

    def _from_absolute_minute(self, minute: int) -> datetime:
        return datetime.fromtimestamp(minute * 60, self.tz)

    # Positions: hours units use int minutes, working days use (k, f)

    def _hours_position(self, tables: _Tables, local_minute: int) -> int:
        ordinal, minute = divmod(local_minute, 1440)
        index = ordinal - tables.first_ordinal
        return tables.cum_work[index] + _worked_before(tables.windows[index], minute)

    def _days_position(self, tables: _Tables, local_minute: int) -> tuple[int, float]:
        ordinal, minute = divmod(local_minute, 1440)
        index = ordinal - tables.first_ordinal
        k = tables.cum_days[index]
        work = tables.work[index]
        if not work:
            return k, 0.0
        worked = _worked_before(tables.windows[index], minute)
        if worked >= work:
            return k + 1, 0.0
        return k, worked / work

    def _hours_instant(self, tables: _Tables, position: int) -> tuple[_Tables, int]:
        """Earliest local minute whose working-hours position reaches `position`."""
        while position > tables.cum_work[-1]:
            tables = self._grow(tables)
        j = bisect.bisect_left(tables.cum_work, position)
        if j == 0:
            return tables, tables.first_ordinal * 1440
        index = j - 1
        minute = _minute_at(tables.windows[index], position - tables.cum_work[index])
        return tables, (tables.first_ordinal + index) * 1440 + minute

    def _days_instant(self, tables: _Tables, k: int, f: float) -> tuple[_Tables, int]:
        """Earliest local minute whose working-days position reaches (k, f), to the nearest minute."""
        while k + 1 > tables.cum_days[-1]:
            tables = self._grow(tables)
        if f > 0:
            index = bisect.bisect_left(tables.cum_days, k + 1) - 1
            offset = round(f * tables.work[index])
            if offset > 0:
                minute = _minute_at(tables.windows[index], offset)
                return tables, (tables.first_ordinal + index) * 1440 + minute
        # Position (k, 0) is first reached at the end of working day k - 1.
        index = bisect.bisect_left(tables.cum_days, k) - 1
        if index < 0:
            return tables, tables.first_ordinal * 1440
        return tables, (tables.first_ordinal + index) * 1440 + tables.windows[index][-1][1]

    # Public API

    def add(
        self,
        start: datetime,
        amount: float,
        unit: Unit | str,
        pauses: Iterable[tuple[datetime, datetime]] = (),
    ) -> Deadline:
        """The deadline `amount` units after `start`, the clock stopped during `pauses`.

        A start outside working time counts from the next working moment. Overlapping pauses
        count once. calendar_complete is False when a year between start and deadline is
        known neither to the package nor to the admin (weekends-only was assumed); it is
        always True for natural hours, which ignore the calendar.
        """
        unit = Unit(unit)
        if not (amount >= 0 and math.isfinite(amount)):
            raise ValueError("amount must be a finite number >= 0")
        merged = [(s, e) for s, e in merge_intervals(pauses) if e > start]
        if unit is Unit.NATURAL_HOURS:
            return Deadline(self._add_natural(start, round(amount * 60), merged), True)
        local_start = self._local(start)
        tables = self._covering(local_start.year, local_start.year)
        start_minute = self._local_minute(start)
        if unit is Unit.WORKING_HOURS:
            tables, minute = self._add_working_hours(tables, start_minute, round(amount * 60), merged)
        else:
            tables, minute = self._add_working_days(tables, start_minute, float(amount), merged)
        minute = max(minute, start_minute)
        deadline = self._from_local_minute(minute)
        return Deadline(deadline, self._years_complete(local_start.year, deadline.year))

    def _add_natural(self, start: datetime, minutes: int, pauses: list) -> datetime:
        current = self._absolute_minute(start)
        for pause_start, pause_end in pauses:
            ps, pe = self._absolute_minute(pause_start), self._absolute_minute(pause_end)
            if pe <= current:
                continue
            if ps > current:
                if minutes <= ps - current:
                    break
                minutes -= ps - current
            current = pe
        return self._from_absolute_minute(current + minutes)

    def _add_working_hours(self, tables: _Tables, start_minute: int, minutes: int, pauses: list):
        current = start_minute
        position = self._hours_position(tables, current)
        for pause_start, pause_end in pauses:
            ps, pe = self._local_minute(pause_start), self._local_minute(pause_end)
            if pe <= current:
                continue
            tables = self._extend(tables, self._local(pause_end).year)
            if ps > current:
                available = self._hours_position(tables, ps) - position
                if minutes <= available:
                    break
                minutes -= available
            current = pe
            position = self._hours_position(tables, current)
        tables, minute = self._hours_instant(tables, position + minutes)
        return tables, max(minute, current)

    def _add_working_days(self, tables: _Tables, start_minute: int, days: float, pauses: list):
        current = start_minute
        k, f = self._days_position(tables, current)
        for pause_start, pause_end in pauses:
            ps, pe = self._local_minute(pause_start), self._local_minute(pause_end)
            if pe <= current:
                continue
            tables = self._extend(tables, self._local(pause_end).year)
            if ps > current:
                k2, f2 = self._days_position(tables, ps)
                available = (k2 - k) + (f2 - f)
                if days <= available + _EPS:
                    break
                days -= available
            current = pe
            k, f = self._days_position(tables, current)
        whole = math.floor(days)
        k, f = k + whole, f + (days - whole)
        if f >= 1.0:
            k, f = k + 1, f - 1.0
        tables, minute = self._days_instant(tables, k, f)
        return tables, max(minute, current)

    def elapsed(
        self,
        start: datetime,
        end: datetime,
        unit: Unit | str,
        pauses: Iterable[tuple[datetime, datetime]] = (),
    ) -> float:
        """Working (or natural) time between two instants, minus the pauses, in `unit`."""
        return self.measure(start, end, unit, pauses).amount

    def measure(
        self,
        start: datetime,
        end: datetime,
        unit: Unit | str,
        pauses: Iterable[tuple[datetime, datetime]] = (),
    ) -> Elapsed:
        """Like `elapsed`, with calendar_complete for the years from start to end."""
        unit = Unit(unit)
        if end <= start:
            return Elapsed(0.0, True)
        counted = [(start, end)]
        clipped = [(max(s, start), min(e, end)) for s, e in merge_intervals(pauses) if e > start and s < end]
        if clipped:
            # The counted intervals are [start, end] minus the (merged, disjoint) pauses.
            counted, cursor = [], start
            for s, e in clipped:
                if s > cursor:
                    counted.append((cursor, s))
                cursor = e
            if cursor < end:
                counted.append((cursor, end))
        if unit is Unit.NATURAL_HOURS:
            minutes = sum(self._absolute_minute(e) - self._absolute_minute(s) for s, e in counted)
            return Elapsed(minutes / 60, True)
        first_year, last_year = self._local(start).year, self._local(end).year
        tables = self._covering(first_year, last_year)
        complete = self._years_complete(first_year, last_year)
        if unit is Unit.WORKING_HOURS:
            position = self._hours_position
            minutes = sum(
                position(tables, self._local_minute(e)) - position(tables, self._local_minute(s)) for s, e in counted
            )
            return Elapsed(minutes / 60, complete)
        whole, fraction = 0, 0.0
        for s, e in counted:
            k1, f1 = self._days_position(tables, self._local_minute(s))
            k2, f2 = self._days_position(tables, self._local_minute(e))
            whole += k2 - k1
            fraction += f2 - f1
        return Elapsed(whole + fraction, complete)


__all__ = [
    "DEFAULT_WINDOWS",
    "HOLIDAY",
    "WORKDAY",
    "Deadline",
    "Elapsed",
    "Season",
    "Unit",
    "WorkCalendar",
    "merge_intervals",
    "package_years",
    "parse_clock",
    "parse_month_day",
    "season_month_days",
]

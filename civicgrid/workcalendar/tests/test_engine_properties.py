"""Properties of the engine, checked by hypothesis on a calendar without database.

The calendar has two seasons (summer 450 min a day, winter 420) so that working days of
different lengths meet; starts range over 2025-12 .. 2027-02, across the 2026 holidays and
into 2027, which the package does not know.
"""

import functools
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import chinese_calendar
from django.test import SimpleTestCase
from hypothesis import given, settings
from hypothesis import strategies as st

from civicgrid.workcalendar.engine import Season, WorkCalendar, season_month_days

TZ = ZoneInfo("Asia/Shanghai")
SUMMER = ((480, 690), (810, 1050))  # 08:00–11:30, 13:30–17:30
WINTER = ((480, 720), (870, 1050))  # 08:00–12:00, 14:30–17:30
CALENDAR = WorkCalendar(
    seasons=[Season(season_month_days((5, 1), (9, 30)), SUMMER), Season(season_month_days((10, 1), (4, 30)), WINTER)]
)
PLAIN = WorkCalendar()  # the default windows all year (= WINTER)

BEGIN = datetime(2025, 12, 1, tzinfo=TZ)
SPAN_MINUTES = int((datetime(2027, 2, 1, tzinfo=TZ) - BEGIN).total_seconds() // 60)
PROPERTY_SETTINGS = settings(max_examples=200, deadline=None, derandomize=True)

starts = st.integers(0, SPAN_MINUTES).map(lambda m: BEGIN + timedelta(minutes=m))
# Hour amounts in whole minutes (the clock's resolution); day amounts in hundredths of a day.
hour_amounts = st.integers(0, 60 * 120).map(lambda m: m / 60)
day_amounts = st.integers(0, 2500).map(lambda n: n / 100)
units_and_amounts = st.one_of(
    st.tuples(st.just("working_hours"), hour_amounts),
    st.tuples(st.just("natural_hours"), hour_amounts),
    st.tuples(st.just("working_days"), day_amounts),
)


def assert_same_amount(test, unit, got, expected):
    if unit == "working_days":
        # Rounded to the nearest minute of a day of at least 420 minutes.
        test.assertLessEqual(abs(got - expected) * 420, 0.5 + 1e-6, (got, expected))
    else:
        test.assertAlmostEqual(got, expected, delta=1e-9)


@functools.cache
def _is_workday(day: date) -> bool:
    return chinese_calendar.is_workday(day)


def brute_force_working_minutes(start, end, pauses=()):
    """Count working minutes one by one from chinese_calendar.is_workday and the default windows."""
    count, moment = 0, start
    while moment < end:
        minute = moment.hour * 60 + moment.minute  # moments are in TZ already
        if (
            any(s <= minute < e for s, e in WINTER)
            and _is_workday(moment.date())
            and not any(s <= moment < e for s, e in pauses)
        ):
            count += 1
        moment += timedelta(minutes=1)
    return count


class RoundTripTests(SimpleTestCase):
    @PROPERTY_SETTINGS
    @given(start=starts, unit_amount=units_and_amounts)
    def test_it_measures_back_the_amount_it_added(self, start, unit_amount):
        unit, amount = unit_amount
        deadline = CALENDAR.add(start, amount, unit).deadline
        self.assertGreaterEqual(deadline, start)
        assert_same_amount(self, unit, CALENDAR.elapsed(start, deadline, unit), amount)

    @PROPERTY_SETTINGS
    @given(
        start=starts,
        unit_amount=units_and_amounts,
        pauses=st.lists(st.tuples(st.integers(-600, 20000), st.integers(0, 6000)), max_size=3),
    )
    def test_it_measures_back_the_amount_with_pauses(self, start, unit_amount, pauses):
        unit, amount = unit_amount
        intervals = [(start + timedelta(minutes=a), start + timedelta(minutes=a + n)) for a, n in pauses]
        deadline = CALENDAR.add(start, amount, unit, intervals).deadline
        assert_same_amount(self, unit, CALENDAR.elapsed(start, deadline, unit, intervals), amount)


class MonotonicTests(SimpleTestCase):
    @PROPERTY_SETTINGS
    @given(
        start=starts,
        unit=st.sampled_from(["working_hours", "working_days", "natural_hours"]),
        a=st.integers(0, 3000),
        b=st.integers(0, 3000),
    )
    def test_it_never_gives_an_earlier_deadline_for_a_larger_amount(self, start, unit, a, b):
        small, large = sorted((a, b))
        scale = 100 if unit == "working_days" else 60
        self.assertLessEqual(
            CALENDAR.add(start, small / scale, unit).deadline, CALENDAR.add(start, large / scale, unit).deadline
        )


class PauseTests(SimpleTestCase):
    @PROPERTY_SETTINGS
    @given(
        start=starts,
        minutes=st.integers(1, 60 * 72),
        at=st.floats(0, 1, exclude_max=True),
        length=st.integers(0, 60 * 48),
    )
    def test_it_pushes_a_natural_deadline_by_the_pause_length(self, start, minutes, at, length):
        plain = CALENDAR.add(start, minutes / 60, "natural_hours").deadline
        pause_start = start + timedelta(minutes=int(minutes * at))  # inside [start, deadline)
        paused = CALENDAR.add(
            start, minutes / 60, "natural_hours", [(pause_start, pause_start + timedelta(minutes=length))]
        ).deadline
        self.assertEqual(paused - plain, timedelta(minutes=length))

    @PROPERTY_SETTINGS
    @given(
        # Within the years the package (the oracle's source) knows.
        start=st.integers(0, 60 * 24 * 385).map(lambda m: BEGIN + timedelta(minutes=m)),
        length=st.integers(0, 60 * 48),
        pauses=st.lists(st.tuples(st.integers(-300, 60 * 48), st.integers(0, 60 * 30)), max_size=3),
    )
    def test_it_subtracts_exactly_the_working_time_inside_the_pauses(self, start, length, pauses):
        end = start + timedelta(minutes=length)
        intervals = [(start + timedelta(minutes=a), start + timedelta(minutes=a + n)) for a, n in pauses]
        without = PLAIN.elapsed(start, end, "working_hours")
        with_pauses = PLAIN.elapsed(start, end, "working_hours", intervals)
        inside_pauses = brute_force_working_minutes(start, end) - brute_force_working_minutes(start, end, intervals)
        self.assertEqual(round(without * 60), brute_force_working_minutes(start, end))
        self.assertAlmostEqual(without - with_pauses, inside_pauses / 60, delta=1e-9)


class CalendarEdgeTests(SimpleTestCase):
    def test_it_never_raises_for_a_year_without_data(self):
        result = CALENDAR.add(datetime(2031, 5, 6, 10, tzinfo=TZ), 3, "working_days")
        self.assertEqual(result.deadline, datetime(2031, 5, 9, 10, tzinfo=TZ))
        self.assertIs(result.calendar_complete, False)

    def test_it_grows_its_tables_for_far_deadlines(self):
        # 5,000 working days from 2026: far past the initial tables, weekends only.
        start = datetime(2026, 3, 2, 10, tzinfo=TZ)
        result = PLAIN.add(start, 5000, "working_days")
        self.assertGreater(result.deadline.year, 2044)
        self.assertIs(result.calendar_complete, False)
        self.assertAlmostEqual(PLAIN.elapsed(start, result.deadline, "working_days"), 5000)

    def test_it_handles_a_start_before_its_tables(self):
        result = PLAIN.add(datetime(1995, 3, 1, 10, tzinfo=TZ), 1, "working_days")  # a Wednesday
        self.assertEqual(result.deadline, datetime(1995, 3, 2, 10, tzinfo=TZ))
        self.assertIs(result.calendar_complete, False)

    def test_it_knows_the_package_years(self):
        self.assertTrue(PLAIN.is_year_complete(2026))
        self.assertFalse(PLAIN.is_year_complete(2027))
        self.assertTrue(PLAIN.is_working_day(date(2026, 2, 14)))
        self.assertFalse(PLAIN.is_working_day(date(2026, 10, 7)))

    def test_it_knows_working_time(self):
        self.assertTrue(PLAIN.is_working_time(datetime(2026, 3, 2, 11, 59, tzinfo=TZ)))
        self.assertFalse(PLAIN.is_working_time(datetime(2026, 3, 2, 12, 0, tzinfo=TZ)))
        self.assertFalse(PLAIN.is_working_time(datetime(2026, 2, 16, 10, 0, tzinfo=TZ)))

    def test_it_rejects_naive_times(self):
        with self.assertRaises(ValueError):
            PLAIN.add(datetime(2026, 3, 2, 10), 1, "working_hours")

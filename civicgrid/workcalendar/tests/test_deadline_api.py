"""GET /api/v1/calendar/deadline, with hand-computed expectations.

The default schedule is 08:00–12:00 and 14:30–17:30: 7 working hours (420 minutes) a day.
2026 from the package: Spring Festival holidays 02-15..02-23, make-up working Saturdays
02-14 and 02-28; Mid-autumn 09-25..27; National Day 10-01..07, make-up Sunday 09-20 and
Saturday 10-10.
"""

from urllib.parse import urlencode

from django.test import TestCase

from civicgrid.workcalendar.models import CalendarDay, WorkSchedule
from civicgrid.workcalendar.services import calendar_day_set

# (start, amount, unit, expected deadline, why)
CASES_2026 = [
    # Spring Festival
    (
        "2026-02-13T10:00:00+08:00",
        "1",
        "working_days",
        "2026-02-14T10:00:00+08:00",
        "Fri 10:00 + 1 day: Sat 02-14 is a make-up working day, same position 10:00",
    ),
    (
        "2026-02-13T10:00:00+08:00",
        "2",
        "working_days",
        "2026-02-24T10:00:00+08:00",
        "Sat 02-14 is day 1; 02-15..23 are holidays; Tue 02-24 is day 2",
    ),
    (
        "2026-02-14T16:00:00+08:00",
        "4",
        "working_hours",
        "2026-02-24T10:30:00+08:00",
        "16:00–17:30 on Sat 02-14 = 1.5 h; holidays; Tue 02-24 08:00 + 2.5 h = 10:30",
    ),
    (
        "2026-02-18T09:00:00+08:00",
        "1",
        "working_days",
        "2026-02-24T17:30:00+08:00",
        "start on a holiday counts from Tue 02-24 08:00; one whole day of working time ends 17:30",
    ),
    (
        "2026-02-13T20:00:00+08:00",
        "1",
        "working_hours",
        "2026-02-14T09:00:00+08:00",
        "start at night counts from the next working moment, Sat 02-14 08:00 (make-up day)",
    ),
    (
        "2026-02-27T16:00:00+08:00",
        "2",
        "working_hours",
        "2026-02-28T08:30:00+08:00",
        "16:00–17:30 = 1.5 h; Sat 02-28 is a make-up working day: 08:00 + 0.5 h",
    ),
    (
        "2026-02-14T20:00:00+08:00",
        "36",
        "natural_hours",
        "2026-02-16T08:00:00+08:00",
        "natural hours ignore the holidays: 20:00 + 36 h = Mon 02-16 08:00",
    ),
    # Lunch break and window ends (Mon 2026-03-02 is an ordinary working day)
    (
        "2026-03-02T11:00:00+08:00",
        "2",
        "working_hours",
        "2026-03-02T15:30:00+08:00",
        "11:00–12:00 = 1 h, lunch, 14:30 + 1 h = 15:30",
    ),
    (
        "2026-03-02T11:00:00+08:00",
        "1.5",
        "working_hours",
        "2026-03-02T15:00:00+08:00",
        "11:00–12:00 = 1 h, then 30 min after 14:30",
    ),
    (
        "2026-03-02T12:30:00+08:00",
        "1",
        "working_hours",
        "2026-03-02T15:30:00+08:00",
        "start in the lunch break counts from 14:30",
    ),
    (
        "2026-03-02T11:00:00+08:00",
        "1",
        "working_hours",
        "2026-03-02T12:00:00+08:00",
        "an amount that runs out at a window end is that window end, not 14:30",
    ),
    (
        "2026-03-02T15:30:00+08:00",
        "2",
        "working_hours",
        "2026-03-02T17:30:00+08:00",
        "ends exactly at 17:30: the deadline is 17:30, not 08:00 the next morning",
    ),
    (
        "2026-03-02T10:00:00+08:00",
        "0.5",
        "working_days",
        "2026-03-02T16:00:00+08:00",
        "half a day = 210 min: 10:00–12:00 = 120, 14:30 + 90 = 16:00",
    ),
    (
        "2026-03-02T15:00:00+08:00",
        "0.5",
        "working_days",
        "2026-03-03T09:00:00+08:00",
        "15:00–17:30 = 150 min, 60 more on Tue 03-03 from 08:00",
    ),
    (
        "2026-03-02T12:30:00+08:00",
        "1",
        "working_days",
        "2026-03-03T12:00:00+08:00",
        "12:30 is at position 240 min (same as 12:00); one day later that position is first reached at 12:00",
    ),
    (
        "2026-03-02T10:00:00+08:00",
        "0",
        "working_hours",
        "2026-03-02T10:00:00+08:00",
        "a zero amount is the start itself",
    ),
    # National Day
    (
        "2026-09-18T10:00:00+08:00",
        "1",
        "working_days",
        "2026-09-20T10:00:00+08:00",
        "Fri 09-18 + 1 day: Sat 09-19 is off, Sun 09-20 is a make-up working day",
    ),
    (
        "2026-09-30T10:00:00+08:00",
        "1",
        "working_days",
        "2026-10-08T10:00:00+08:00",
        "holidays 10-01..07: the next working day is Thu 10-08",
    ),
    (
        "2026-09-30T10:00:00+08:00",
        "3",
        "working_days",
        "2026-10-10T10:00:00+08:00",
        "Thu 10-08 = 1, Fri 10-09 = 2, Sat 10-10 (make-up) = 3",
    ),
    (
        "2026-09-30T16:00:00+08:00",
        "3",
        "working_hours",
        "2026-10-08T09:30:00+08:00",
        "16:00–17:30 = 1.5 h, then 1.5 h from Thu 10-08 08:00",
    ),
    (
        "2026-09-30T18:00:00+08:00",
        "24",
        "natural_hours",
        "2026-10-01T18:00:00+08:00",
        "natural hours run through the National Day holiday",
    ),
]


class DeadlineApiTestCase(TestCase):
    def deadline(self, **params):
        return self.client.get("/api/v1/calendar/deadline?" + urlencode(params))

    def assertDeadline(self, start, amount, unit, expected, complete=True):
        response = self.deadline(start=start, amount=amount, unit=unit)
        self.assertEqual(response.status_code, 200, response.content)
        self.assertEqual(response.json(), {"deadline": expected, "calendar_complete": complete})


class DeadlineTableTests(DeadlineApiTestCase):
    def test_it_computes_the_hand_computed_2026_cases(self):
        for start, amount, unit, expected, why in CASES_2026:
            with self.subTest(why):
                self.assertDeadline(start, amount, unit, expected)

    def test_it_needs_no_login(self):
        self.client.logout()
        self.assertEqual(self.deadline(start="2026-03-02T10:00", amount=1, unit="working_hours").status_code, 200)

    def test_it_reads_a_start_without_offset_as_shanghai_time(self):
        self.assertDeadline("2026-03-02T10:00", "1", "working_hours", "2026-03-02T11:00:00+08:00")

    def test_it_converts_a_start_in_another_offset(self):
        # 02:00Z = 10:00 in Shanghai
        self.assertDeadline("2026-03-02T02:00:00Z", "1", "working_hours", "2026-03-02T11:00:00+08:00")

    def test_it_accepts_an_unencoded_plus_in_the_offset(self):
        # A client that forgot to encode "+" sends a space.
        response = self.client.get(
            "/api/v1/calendar/deadline?start=2026-03-02T10:00:00+08:00&amount=1&unit=working_hours"
        )
        self.assertEqual(response.json()["deadline"], "2026-03-02T11:00:00+08:00")

    def test_it_drops_seconds_from_the_start(self):
        # The clock ticks in whole minutes: 10:00:45 counts as 10:00.
        self.assertDeadline("2026-03-02T10:00:45+08:00", "1", "working_hours", "2026-03-02T11:00:00+08:00")

    def test_it_stops_the_clock_during_a_pause(self):
        # 10:00–10:30 = 30 min; paused 10:30–11:30; 11:30–12:00 = 30 min; 14:30 + 60 min = 15:30
        response = self.deadline(
            start="2026-03-02T10:00+08:00",
            amount=2,
            unit="working_hours",
            pause="2026-03-02T10:30+08:00/2026-03-02T11:30+08:00",
        )
        self.assertEqual(response.json()["deadline"], "2026-03-02T15:30:00+08:00")

    def test_it_counts_overlapping_pauses_once(self):
        # 10:30–11:00 and 10:45–11:30 together pause 10:30–11:30, as above.
        query = urlencode(
            [
                ("start", "2026-03-02T10:00+08:00"),
                ("amount", "2"),
                ("unit", "working_hours"),
                ("pause", "2026-03-02T10:30+08:00/2026-03-02T11:00+08:00"),
                ("pause", "2026-03-02T10:45+08:00/2026-03-02T11:30+08:00"),
            ]
        )
        response = self.client.get("/api/v1/calendar/deadline?" + query)
        self.assertEqual(response.json()["deadline"], "2026-03-02T15:30:00+08:00")

    def test_it_skips_pauses_in_natural_hours(self):
        # 6 natural hours from 10:00 with a 2-hour pause: 18:00.
        response = self.deadline(
            start="2026-03-02T10:00+08:00",
            amount=6,
            unit="natural_hours",
            pause="2026-03-02T11:00+08:00/2026-03-02T13:00+08:00",
        )
        self.assertEqual(response.json()["deadline"], "2026-03-02T18:00:00+08:00")


class SeasonalScheduleTests(DeadlineApiTestCase):
    @classmethod
    def setUpTestData(cls):
        # Summer: 08:00–11:30, 13:30–17:30 = 450 min; winter: the default 420 min.
        WorkSchedule.objects.create(
            name="夏季作息", season_start="05-01", season_end="09-30", windows=[["08:00", "11:30"], ["13:30", "17:30"]]
        )
        WorkSchedule.objects.create(
            name="冬季作息", season_start="10-01", season_end="04-30", windows=[["08:00", "12:00"], ["14:30", "17:30"]]
        )

    def test_it_uses_the_summer_windows(self):
        # 11:00–11:30 = 30 min, then 13:30 + 30 min = 14:00
        self.assertDeadline("2026-09-30T11:00:00+08:00", "1", "working_hours", "2026-09-30T14:00:00+08:00")

    def test_it_keeps_the_proportional_position_across_seasons(self):
        # 10:00 on Wed 09-30 (summer) is 120/450 of the day. The next working day, Thu 10-08, is a
        # winter day of 420 min: 120/450 * 420 = 112 min after 08:00 = 09:52.
        self.assertDeadline("2026-09-30T10:00:00+08:00", "1", "working_days", "2026-10-08T09:52:00+08:00")

    def test_it_keeps_the_same_time_within_a_season(self):
        self.assertDeadline("2026-06-01T10:00:00+08:00", "1", "working_days", "2026-06-02T10:00:00+08:00")

    def test_it_uses_the_winter_windows_across_the_year_end(self):
        # The winter season wraps the year end: 12:00 is a window end in January.
        self.assertDeadline("2026-01-05T11:00:00+08:00", "1", "working_hours", "2026-01-05T12:00:00+08:00")


class IncompleteYearTests(DeadlineApiTestCase):
    def test_it_says_incomplete_for_a_year_the_package_does_not_know(self):
        # 2027: weekends only. Thu 02-04 10:00 + 2 days: Fri 02-05 = 1, Mon 02-08 = 2.
        self.assertDeadline("2027-02-04T10:00:00+08:00", "2", "working_days", "2027-02-08T10:00:00+08:00", False)

    def test_it_says_incomplete_when_the_deadline_crosses_into_2027(self):
        # Thu 2026-12-31 10:00 + 2 days: Fri 2027-01-01 counts as a working day (weekends only),
        # Mon 01-04 = 2.
        self.assertDeadline("2026-12-31T10:00:00+08:00", "2", "working_days", "2027-01-04T10:00:00+08:00", False)

    def test_it_uses_entered_days_of_2027_and_says_complete(self):
        # Test data in the shape of a Spring Festival (not the official 2027 schedule):
        # holidays Sat 02-06 .. Sun 02-14, make-up working Saturday 02-20.
        for day in range(6, 15):
            calendar_day_set(day=f"2027-02-{day:02d}", kind=CalendarDay.Kind.HOLIDAY, name="春节")
        calendar_day_set(day="2027-02-20", kind=CalendarDay.Kind.WORKDAY, name="春节")
        # Fri 02-05 = 1, then 02-06..14 off, Mon 02-15 = 2.
        self.assertDeadline("2027-02-04T10:00:00+08:00", "2", "working_days", "2027-02-15T10:00:00+08:00", True)
        # Fri 02-19 + 1 day: the make-up Saturday 02-20.
        self.assertDeadline("2027-02-19T10:00:00+08:00", "1", "working_days", "2027-02-20T10:00:00+08:00", True)

    def test_it_uses_a_new_years_day_entered_by_the_admin(self):
        CalendarDay.objects.create(date="2027-01-01", kind=CalendarDay.Kind.HOLIDAY, name="元旦")
        # Thu 2026-12-31 + 2 days: 01-01 is now off, Mon 01-04 = 1, Tue 01-05 = 2.
        self.assertDeadline("2026-12-31T10:00:00+08:00", "2", "working_days", "2027-01-05T10:00:00+08:00", True)

    def test_it_lets_an_entered_day_override_the_package(self):
        # A county that works on Mon 2026-02-23 (a package holiday): Fri 02-13 + 2 days = Mon 02-23.
        CalendarDay.objects.create(date="2026-02-23", kind=CalendarDay.Kind.WORKDAY, note="本县调整")
        self.assertDeadline("2026-02-13T10:00:00+08:00", "2", "working_days", "2026-02-23T10:00:00+08:00")

    def test_it_says_complete_for_natural_hours_in_any_year(self):
        self.assertDeadline("2027-02-04T10:00:00+08:00", "2", "natural_hours", "2027-02-04T12:00:00+08:00", True)

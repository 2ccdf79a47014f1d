from datetime import date

from django.core.exceptions import ValidationError
from django.test import TestCase

from civicgrid.workcalendar.engine import DEFAULT_WINDOWS
from civicgrid.workcalendar.models import CalendarDay, WorkSchedule
from civicgrid.workcalendar.selectors import get_calendar
from civicgrid.workcalendar.services import calendar_day_delete, calendar_day_set


class WorkScheduleCleanTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.winter = WorkSchedule.objects.create(
            name="冬季作息", season_start="10-01", season_end="04-30", windows=[["08:00", "12:00"], ["14:30", "17:30"]]
        )

    def schedule(self, **fields):
        values = {
            "name": "夏季作息",
            "season_start": "05-01",
            "season_end": "09-30",
            "windows": [["13:30", "17:30"], ["08:00", "11:30"]],
        }
        return WorkSchedule(**{**values, **fields})

    def test_it_accepts_a_valid_season_and_sorts_the_windows(self):
        schedule = self.schedule()
        schedule.full_clean()
        self.assertEqual(schedule.windows, [["08:00", "11:30"], ["13:30", "17:30"]])

    def test_it_rejects_bad_windows(self):
        for windows in (
            [],
            "08:00-12:00",
            [["08:00"]],
            [["8:00", "12:00"]],
            [["12:00", "08:00"]],
            [["08:00", "12:00"], ["11:00", "13:00"]],
            [["08:00", "24:30"]],
        ):
            with self.subTest(windows=windows), self.assertRaises(ValidationError) as caught:
                self.schedule(windows=windows).full_clean()
            self.assertIn("windows", caught.exception.message_dict)

    def test_it_rejects_a_bad_month_day(self):
        for value in ("5-1", "02-30", "13-01"):
            with self.subTest(value=value), self.assertRaises(ValidationError) as caught:
                self.schedule(season_start=value).full_clean()
            self.assertIn("season_start", caught.exception.message_dict)

    def test_it_rejects_a_season_overlapping_another(self):
        with self.assertRaises(ValidationError) as caught:
            self.schedule(season_start="04-30").full_clean()
        self.assertIn("冬季作息", str(caught.exception))

    def test_it_knows_the_days_of_a_season_that_wraps_the_year_end(self):
        days = self.winter.month_days()
        self.assertIn((12, 31), days)
        self.assertIn((1, 1), days)
        self.assertIn((2, 29), days)
        self.assertNotIn((5, 1), days)
        self.assertEqual(len(days), 92 + 121)


class CachedCalendarTests(TestCase):
    def test_it_reuses_the_calendar_while_nothing_changes(self):
        self.assertIs(get_calendar(), get_calendar())

    def test_it_sees_a_new_day_at_once(self):
        self.assertTrue(get_calendar().is_working_day(date.fromisoformat("2027-03-01")))
        calendar_day_set(day=date.fromisoformat("2027-03-01"), kind=CalendarDay.Kind.HOLIDAY, name="测试")
        calendar = get_calendar()
        self.assertFalse(calendar.is_working_day(date.fromisoformat("2027-03-01")))
        self.assertTrue(calendar.is_year_complete(2027))

    def test_it_sees_a_change_made_without_the_service(self):
        day = CalendarDay.objects.create(date="2026-03-02", kind=CalendarDay.Kind.HOLIDAY)
        self.assertFalse(get_calendar().is_working_day(date.fromisoformat("2026-03-02")))
        day.kind = CalendarDay.Kind.WORKDAY
        day.save()
        self.assertTrue(get_calendar().is_working_day(date.fromisoformat("2026-03-02")))

    def test_it_forgets_a_deleted_day(self):
        calendar_day_set(day=date.fromisoformat("2026-03-02"), kind=CalendarDay.Kind.HOLIDAY)
        self.assertFalse(get_calendar().is_working_day(date.fromisoformat("2026-03-02")))
        calendar_day_delete(day=date.fromisoformat("2026-03-02"))
        self.assertTrue(get_calendar().is_working_day(date.fromisoformat("2026-03-02")))

    def test_it_sees_a_new_schedule(self):
        self.assertEqual(get_calendar().windows_for(date.fromisoformat("2026-07-01")), DEFAULT_WINDOWS)
        WorkSchedule.objects.create(
            name="夏季作息", season_start="05-01", season_end="09-30", windows=[["08:00", "11:30"], ["13:30", "17:30"]]
        )
        self.assertEqual(get_calendar().windows_for(date.fromisoformat("2026-07-01")), ((480, 690), (810, 1050)))

    def test_it_checks_the_version_with_two_queries(self):
        get_calendar()
        with self.assertNumQueries(2):
            get_calendar()


class CalendarDayTests(TestCase):
    def test_it_shows_the_name_or_the_kind(self):
        spring_festival = CalendarDay(date=date(2027, 2, 6), kind="holiday", name="春节")
        self.assertEqual(str(spring_festival), "2027-02-06 春节")
        self.assertEqual(str(CalendarDay(date=date(2027, 2, 20), kind="workday")), "2027-02-20 调休上班日")

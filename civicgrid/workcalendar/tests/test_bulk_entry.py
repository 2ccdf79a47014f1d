"""Entering next year's schedule at once, as the State Council notice publishes it."""

import datetime
import io
import tempfile
from pathlib import Path

from django.core.management import CommandError, call_command
from django.test import TestCase

from civicgrid.core.models import Role, User
from civicgrid.workcalendar.models import CalendarDay
from civicgrid.workcalendar.selectors import get_calendar
from civicgrid.workcalendar.services import CalendarDaysParseError, calendar_days_import, parse_calendar_days

# Illustrative 2027 lines (not the official schedule).
SCHEDULE = """
# 2027 年部分安排（示例）
2027-02-06 至 2027-02-13 放假 春节
2027-02-14 上班 春节调休
2027-10-01~2027-10-07 休息 国庆节
"""


class ParseTests(TestCase):
    def test_it_expands_ranges_and_reads_kinds_and_names(self):
        entries = parse_calendar_days(SCHEDULE)
        self.assertEqual(len(entries), 8 + 1 + 7)
        self.assertEqual(entries[0], (datetime.date(2027, 2, 6), CalendarDay.Kind.HOLIDAY, "春节"))
        self.assertIn((datetime.date(2027, 2, 14), CalendarDay.Kind.WORKDAY, "春节调休"), entries)

    def test_it_names_every_bad_line(self):
        with self.assertRaises(CalendarDaysParseError) as error:
            parse_calendar_days("2027-02-30 放假\n2027-03-01 加班\nnonsense\n2027-05-05 至 2027-05-01 放假")
        problems = error.exception.problems
        self.assertEqual(len(problems), 4)
        self.assertIn("第 1 行：日期无效", problems[0])
        self.assertIn("“加班”不是“放假”或“上班”", problems[1])
        self.assertIn("第 3 行", problems[2])
        self.assertIn("第 4 行", problems[3])

    def test_it_refuses_one_day_entered_as_both_kinds(self):
        with self.assertRaises(CalendarDaysParseError):
            parse_calendar_days("2027-02-06 放假\n2027-02-06 上班")


class ImportTests(TestCase):
    def test_it_writes_all_days_and_completes_the_year(self):
        self.assertIs(get_calendar().is_year_complete(2027), False)
        self.assertEqual(calendar_days_import(SCHEDULE), 16)
        calendar = get_calendar()
        self.assertIs(calendar.is_year_complete(2027), True)
        self.assertIs(calendar.is_working_day(datetime.date(2027, 2, 14)), True)  # a Sunday made a working day
        self.assertIs(calendar.is_working_day(datetime.date(2027, 2, 8)), False)  # a Monday of the holiday

    def test_it_writes_nothing_when_a_line_is_bad(self):
        with self.assertRaises(CalendarDaysParseError):
            calendar_days_import(SCHEDULE + "\n2027-13-01 放假")
        self.assertEqual(CalendarDay.objects.count(), 0)

    def test_it_corrects_a_day_entered_before(self):
        CalendarDay.objects.create(date=datetime.date(2027, 2, 14), kind=CalendarDay.Kind.HOLIDAY)
        calendar_days_import("2027-02-14 上班 春节调休")
        self.assertEqual(CalendarDay.objects.get(date=datetime.date(2027, 2, 14)).kind, CalendarDay.Kind.WORKDAY)


class BulkAdminTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.admin = User.objects.create_superuser("root", password="x", role=Role.ADMIN)

    def setUp(self):
        self.client.force_login(self.admin)

    def test_it_shows_coverage_and_the_missing_year(self):
        response = self.client.get("/admin/workcalendar/calendarday/")
        self.assertContains(response, "内置节假日数据（chinese-calendar）覆盖")
        self.assertContains(response, "批量录入")

    def test_it_enters_a_schedule_from_the_admin(self):
        response = self.client.post("/admin/workcalendar/calendarday/bulk/", {"text": SCHEDULE})
        self.assertRedirects(response, "/admin/workcalendar/calendarday/")
        self.assertEqual(CalendarDay.objects.filter(date__year=2027).count(), 16)

    def test_it_shows_line_errors_and_writes_nothing(self):
        response = self.client.post("/admin/workcalendar/calendarday/bulk/", {"text": "2027-02-06 加班"})
        self.assertContains(response, "不是“放假”或“上班”")
        self.assertContains(response, "未录入任何日期")
        self.assertEqual(CalendarDay.objects.count(), 0)


class CommandTests(TestCase):
    def test_it_imports_a_schedule_file(self):

        path = Path(tempfile.mkdtemp()) / "2027.txt"
        path.write_text(SCHEDULE, encoding="utf-8")
        out = io.StringIO()
        call_command("import_calendar_days", str(path), stdout=out)
        self.assertIn("已录入 16 天", out.getvalue())

    def test_it_fails_with_every_bad_line(self):

        path = Path(tempfile.mkdtemp()) / "bad.txt"
        path.write_text("2027-02-06 加班\n", encoding="utf-8")
        with self.assertRaisesMessage(CommandError, "第 1 行"):
            call_command("import_calendar_days", str(path))
        self.assertEqual(CalendarDay.objects.count(), 0)

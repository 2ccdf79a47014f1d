from datetime import date, datetime
from zoneinfo import ZoneInfo

from django.test import SimpleTestCase

from civicgrid.evaluation.periods import PeriodError, parse_period

TZ = ZoneInfo("Asia/Shanghai")
TODAY = date(2026, 11, 30)


def period(**params):
    return parse_period(params, today=TODAY)


class PeriodTests(SimpleTestCase):
    def test_it_defaults_to_this_month(self):
        p = period()
        self.assertEqual((p.kind, p.label), ("month", "2026年11月"))
        self.assertEqual((p.start, p.end), (datetime(2026, 11, 1, tzinfo=TZ), datetime(2026, 12, 1, tzinfo=TZ)))

    def test_it_reads_each_kind(self):
        self.assertEqual(period(period="month", month="2026-12").end, datetime(2027, 1, 1, tzinfo=TZ))
        self.assertEqual(period(period="day", date="2026-10-08").label, "2026年10月8日")
        week = period(period="week", date="2027-01-01")  # a Friday in ISO week 53 of 2026
        self.assertEqual(
            (week.label, week.first_day, week.last_day), ("2026年第53周", date(2026, 12, 28), date(2027, 1, 3))
        )
        quarter = period(period="quarter", quarter="2026-q4")
        self.assertEqual(
            (quarter.label, quarter.first_day, quarter.last_day),
            ("2026年第4季度", date(2026, 10, 1), date(2026, 12, 31)),
        )
        self.assertEqual(period(period="quarter").label, "2026年第4季度")
        self.assertEqual(period(period="year", year="2026").last_day, date(2026, 12, 31))
        custom = period(period="custom", start="2026-10-01", end="2026-10-15")
        self.assertEqual(
            (custom.start, custom.end), (datetime(2026, 10, 1, tzinfo=TZ), datetime(2026, 10, 16, tzinfo=TZ))
        )

    def test_it_starts_at_midnight_in_shanghai(self):
        # 2026-10-01 00:00 in Shanghai is 2026-09-30 16:00 UTC.
        self.assertEqual(period(month="2026-10").start.isoformat(), "2026-10-01T00:00:00+08:00")

    def test_it_names_the_bad_parameter(self):
        with self.assertRaises(PeriodError) as refused:
            period(period="month", month="10/2026")
        self.assertEqual(refused.exception.field, "month")
        self.assertIn("YYYY-MM", refused.exception.reason)

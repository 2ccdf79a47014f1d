"""The times of GET requests: local W3C datetimes, right on the days the clocks change."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from django.test import SimpleTestCase

from civicgrid.open311.selectors import _w3c_from_text


def expected(moment: datetime, zone: ZoneInfo) -> str:
    return moment.astimezone(zone).isoformat(timespec="seconds")


class LocalTimesTests(SimpleTestCase):
    def test_every_minute_of_the_days_the_clocks_change(self):
        # New York springs forward at 07:00 UTC on 8 March 2026 and falls back at 06:00 UTC on
        # 1 November; Lord Howe moves by half an hour; Shanghai has no clock change.
        days = {
            "America/New_York": [datetime(2026, 3, 8, tzinfo=UTC), datetime(2026, 11, 1, tzinfo=UTC)],
            "Australia/Lord_Howe": [datetime(2026, 4, 4, tzinfo=UTC), datetime(2026, 10, 3, tzinfo=UTC)],
            "Asia/Shanghai": [datetime(2026, 11, 30, tzinfo=UTC)],
            # Offsets of hours and minutes (St John's, -3:30, also falls back on 1 November).
            "Asia/Kathmandu": [datetime(2026, 11, 30, tzinfo=UTC)],
            "America/St_Johns": [datetime(2026, 11, 1, tzinfo=UTC)],
        }
        wrong = []
        for name, starts in days.items():
            zone = ZoneInfo(name)
            w3c = _w3c_from_text(zone)
            for start in starts:
                for minute in range(0, 3 * 24 * 60, 7):
                    moment = start - timedelta(days=1) + timedelta(minutes=minute, microseconds=654321)
                    # PostgreSQL's text (with the offset) and SQLite's (UTC without one).
                    for text in (moment.strftime("%Y-%m-%d %H:%M:%S.%f+00"), moment.strftime("%Y-%m-%d %H:%M:%S.%f")):
                        if w3c(text) != expected(moment, zone):
                            wrong.append((name, text, w3c(text), expected(moment, zone)))
        self.assertEqual(wrong, [])
        self.assertIsNone(_w3c_from_text(ZoneInfo("UTC"))(None))

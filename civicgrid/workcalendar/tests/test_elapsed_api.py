from urllib.parse import urlencode

from django.test import TestCase


class ElapsedApiTests(TestCase):
    def elapsed(self, **params):
        response = self.client.get("/api/v1/calendar/elapsed?" + urlencode(params))
        self.assertEqual(response.status_code, 200, response.content)
        return response.json()

    def test_it_measures_working_days_across_the_spring_festival(self):
        # Fri 02-13 10:00 → Tue 02-24 10:00: Sat 02-14 and the days to Tue = 2 working days.
        body = self.elapsed(start="2026-02-13T10:00+08:00", end="2026-02-24T10:00+08:00", unit="working_days")
        self.assertEqual(body, {"elapsed": 2.0, "unit": "working_days", "calendar_complete": True})

    def test_it_measures_working_hours_across_the_spring_festival(self):
        body = self.elapsed(start="2026-02-13T10:00+08:00", end="2026-02-24T10:00+08:00", unit="working_hours")
        self.assertEqual(body["elapsed"], 14.0)

    def test_it_measures_natural_hours(self):
        body = self.elapsed(start="2026-02-13T10:00+08:00", end="2026-02-24T10:00+08:00", unit="natural_hours")
        self.assertEqual(body["elapsed"], 264.0)

    def test_it_leaves_out_the_lunch_break(self):
        body = self.elapsed(start="2026-03-02T11:00+08:00", end="2026-03-02T15:00+08:00", unit="working_hours")
        self.assertEqual(body["elapsed"], 1.5)

    def test_it_subtracts_overlapping_pauses_once(self):
        # 08:00–17:30 = 7 h; pauses 09:00–10:00 and 09:30–11:00 together take 2 h.
        query = urlencode(
            [
                ("start", "2026-03-02T08:00+08:00"),
                ("end", "2026-03-02T17:30+08:00"),
                ("unit", "working_hours"),
                ("pause", "2026-03-02T09:00+08:00/2026-03-02T10:00+08:00"),
                ("pause", "2026-03-02T09:30+08:00/2026-03-02T11:00+08:00"),
            ]
        )
        self.assertEqual(self.client.get("/api/v1/calendar/elapsed?" + query).json()["elapsed"], 5.0)

    def test_it_says_incomplete_in_2027(self):
        body = self.elapsed(start="2027-03-01T08:00+08:00", end="2027-03-01T17:30+08:00", unit="working_days")
        self.assertEqual(body, {"elapsed": 1.0, "unit": "working_days", "calendar_complete": False})

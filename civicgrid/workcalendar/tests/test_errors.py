from urllib.parse import urlencode

from django.test import TestCase

GOOD = {"start": "2026-03-02T10:00:00+08:00", "amount": "1", "unit": "working_hours"}


class ParameterErrorTests(TestCase):
    def assertBad(self, path, params, field):
        response = self.client.get(path + "?" + urlencode(params))
        self.assertEqual(response.status_code, 400, response.content)
        body = response.json()
        self.assertEqual(body["error"]["field"], field)
        self.assertEqual(body["errors"], [body["error"]])
        self.assertIn(field, body["error"]["reason"])
        return body

    def test_it_names_a_missing_or_bad_start(self):
        self.assertBad("/api/v1/calendar/deadline", {**GOOD, "start": ""}, "start")
        body = self.assertBad("/api/v1/calendar/deadline", {**GOOD, "start": "2026-13-02"}, "start")
        self.assertEqual(body["error"]["reason"], "start 必须是 ISO 8601 时间，例如 2026-02-13T10:00:00+08:00")
        self.assertBad("/api/v1/calendar/deadline", {**GOOD, "start": "0001-01-01T00:00"}, "start")
        params = dict(GOOD)
        del params["start"]
        self.assertBad("/api/v1/calendar/deadline", params, "start")

    def test_it_names_a_bad_amount(self):
        for amount in ("", "abc", "-1", "nan", "inf", "10001"):
            with self.subTest(amount=amount):
                self.assertBad("/api/v1/calendar/deadline", {**GOOD, "amount": amount}, "amount")

    def test_it_names_a_bad_unit(self):
        for unit in ("", "days", "WORKING_HOURS"):
            with self.subTest(unit=unit):
                self.assertBad("/api/v1/calendar/deadline", {**GOOD, "unit": unit}, "unit")

    def test_it_names_a_bad_pause(self):
        for pause in ("2026-03-02T10:00", "x/y", "2026-03-02T11:00/2026-03-02T10:00"):
            with self.subTest(pause=pause):
                self.assertBad("/api/v1/calendar/deadline", {**GOOD, "pause": pause}, "pause")

    def test_it_names_a_bad_end(self):
        params = {"start": "2026-03-02T10:00", "end": "2026-03-02T09:00", "unit": "working_hours"}
        self.assertBad("/api/v1/calendar/elapsed", params, "end")
        self.assertBad("/api/v1/calendar/elapsed", {**params, "end": "tomorrow"}, "end")
        self.assertBad("/api/v1/calendar/elapsed", {**params, "end": "2026-03-03T09:00", "unit": "x"}, "unit")

    def test_it_rejects_post(self):
        self.assertEqual(self.client.post("/api/v1/calendar/deadline", GOOD).status_code, 405)

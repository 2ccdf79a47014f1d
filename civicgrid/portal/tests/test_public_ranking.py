"""The handling units' public ranking (/p/ranking/): the evaluation's figures, published.

The March 2026 history of civicgrid/evaluation/tests/history.py (every figure worked out by
hand there); the page must show exactly what the evaluation API gives for the same month.
"""

from __future__ import annotations

import re

from django.test import TestCase, override_settings
from rest_framework.authtoken.models import Token

from civicgrid.evaluation.tests.history import build_history


class PublicRankingTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.made = build_history()
        cls.token = Token.objects.create(user=cls.made["carol"]).key

    def api_units(self) -> list[dict]:
        response = self.client.get(
            "/api/v1/evaluation/units/?period=month&month=2026-03", HTTP_AUTHORIZATION=f"Token {self.token}"
        )
        self.assertEqual(response.status_code, 200)
        return response.json()["results"]

    def table_rows(self, html: str) -> list[list[str]]:
        body = html[html.index("<tbody>") : html.index("</tbody>")]
        rows = re.findall(r"<tr>(.*?)</tr>", body, re.S)
        return [
            [re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)]
            for row in rows
        ]

    def test_it_shows_the_evaluations_unit_figures_for_the_month(self):
        response = self.client.get("/p/ranking/", {"month": "2026-03"})
        self.assertEqual(response.status_code, 200)
        html = response.content.decode()
        self.assertIn("2026年3月处置单位综合评价", html)

        def shown(value) -> str:
            return "—" if value is None else f"{float(value):.2f}"

        def percent(value) -> str:
            return "—" if value is None else f"{float(value):.2f}%"

        expected = sorted(self.api_units(), key=lambda row: (row["score"] is None, -(row["score"] or 0), row["code"]))
        rows = self.table_rows(html)
        self.assertEqual(len(rows), len(expected))
        self.assertGreater(len(rows), 1)
        for cells, row in zip(rows, expected, strict=True):
            self.assertEqual(cells[1], row["name"])
            self.assertEqual(cells[2], str(row["should_close"]))
            self.assertEqual(
                [cells[3], cells[4], cells[5]],
                [percent(row["closure_rate"]), percent(row["on_time_rate"]), percent(row["satisfaction_rate"])],
            )
            self.assertEqual((cells[6], cells[7]), (shown(row["score"]), row["grade"] or "—"))
        self.assertEqual(rows[0][0], "1")

    def test_it_names_no_person(self):
        html = self.client.get("/p/ranking/", {"month": "2026-03"}).content.decode()
        for user in self.made.values():
            name = getattr(user, "get_full_name", lambda: "")()
            if name:
                self.assertNotIn(name, html)

    def test_a_bad_month_shows_last_month_with_a_message(self):
        response = self.client.get("/p/ranking/", {"month": "March"})
        self.assertContains(response, "月份格式应为 2026-10", status_code=400)

    @override_settings(CIVICGRID_PUBLIC_RANKING=False)
    def test_a_bureau_that_does_not_publish_it_answers_404(self):
        self.assertEqual(self.client.get("/p/ranking/").status_code, 404)
        self.assertNotIn("/p/ranking/", self.client.get("/p/figures/").content.decode())

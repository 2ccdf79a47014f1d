"""The monthly figures per street (portal:figures): reports, filed, closed, on-time closure and
satisfaction rates, from grouped queries."""

from __future__ import annotations

from datetime import date, timedelta

import time_machine

from civicgrid.cases.services import case_rate
from civicgrid.cases.tests.fixtures import WEST_POINT, act, photo
from civicgrid.evaluation.models import EvaluationSettings
from civicgrid.portal.public_selectors import street_figures
from civicgrid.portal.tests.public_fixtures import public_report, to_closed
from civicgrid.portal.tests.test_public_track import START, PublicTestCase

MARCH = date(2026, 3, 1)


class FiguresTests(PublicTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        with time_machine.travel(START, tick=True):
            cls.build(cls.made)

    @staticmethod
    def build(made):
        # East: four reports in March (one more in February), two closed — one on time, one
        # whose handling ran three days past its 4-working-hour limit — and a third only filed.
        public_report(made, created_at=START - timedelta(days=10))
        on_time = to_closed(made, public_report(made, created_at=START))
        late = public_report(made, created_at=START)
        act(made, late, "verify_confirm", "ivy", when=START)
        act(made, late, "file", "otto", when=START)
        act(made, late, "dispatch", "dora", when=START, unit_id=made["municipal"].pk)
        act(made, late, "sign", "hank", when=START)
        later = START + timedelta(days=3)
        act(made, late, "handled", "hank", when=later, photos=[photo()])
        act(made, late, "check_pass", "ivy", when=later)
        late = act(made, late, "close", "sue", when=later)
        filed = public_report(made, created_at=START)
        act(made, filed, "verify_confirm", "ivy", when=START)
        act(made, filed, "file", "otto", when=START)
        public_report(made, created_at=START)
        # Ratings: 满意, 基本满意 and 不满意 (the last puts the case under review: still counted closed).
        case_rate(case_id=on_time.pk, satisfaction="satisfied", now=START + timedelta(days=4))
        case_rate(case_id=late.pk, satisfaction="basically", source="hotline", now=START + timedelta(days=4))
        case_rate(case_id=late.pk, satisfaction="dissatisfied", now=START + timedelta(days=4))
        # West: one report.
        public_report(made, point=WEST_POINT, created_at=START)

    def by_street(self, basically_counts: bool = True):
        EvaluationSettings.objects.update_or_create(pk=1, defaults={"basically_satisfied_counts": basically_counts})
        return {row.name: row for row in street_figures(MARCH)}

    def test_it_counts_per_street(self):
        rows = self.by_street()
        east, west = rows["东街道"], rows["西街道"]
        self.assertEqual((east.reports, east.filed, east.closed, east.closed_on_time), (4, 3, 2, 1))
        self.assertEqual(east.on_time_rate, 50.0)
        self.assertEqual((east.ratings, east.satisfied, east.satisfaction_rate), (3, 2, 66.7))
        self.assertEqual((west.reports, west.filed, west.closed, west.ratings), (1, 0, 0, 0))
        self.assertIsNone(west.on_time_rate)
        self.assertIsNone(west.satisfaction_rate)

    def test_it_counts_basically_satisfied_as_the_setting_says(self):
        east = self.by_street(basically_counts=False)["东街道"]
        self.assertEqual((east.satisfied, east.satisfaction_rate), (1, 33.3))

    def test_it_counts_nothing_in_another_month(self):
        east = {row.name: row for row in street_figures(date(2026, 2, 1))}["东街道"]
        self.assertEqual((east.reports, east.filed, east.closed, east.ratings), (1, 0, 0, 0))

    def test_it_uses_grouped_queries(self):
        # The streets, then one query each for reports, filed, closed and ratings, and the
        # evaluation's settings (whether 基本满意 counts).
        with self.assertNumQueries(6):
            street_figures(MARCH)

    def test_it_shows_the_table_against_the_target(self):
        html = self.page("/p/figures/?month=2026-03")
        self.assertIn("2026 年 3 月各街道办理情况", html)
        self.assertIn('value="2026-03"', html)
        self.assertIn("东街道", html)
        self.assertIn('<td class="below">50.0%</td>', html)
        self.assertIn("66.7%", html)
        self.assertIn("不低于 95%", html)
        self.assertIn('id="figures-data"', html)
        self.assertIn("vendor/echarts/echarts.min.js", html)
        self.assertNoPersonalData(html)

    def test_it_explains_a_bad_month(self):
        html = self.page("/p/figures/?month=March", status=400)
        self.assertIn("月份格式应为 2026-10", html)

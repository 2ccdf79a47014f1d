"""Drill-down: the case list behind a figure has as many entries as the figure counts.

On the hand-built March history (tests/history.py) every drillable indicator of every row of
every tab is compared with its figure, with both settings of 缓办, and for a street reader.
"""

from django.test import TestCase

from civicgrid.evaluation.drilldown import DRILLABLE, NotDrillable, drilldown_items
from civicgrid.evaluation.indicators import EVERYTHING, Scope
from civicgrid.evaluation.models import EvaluationSettings
from civicgrid.evaluation.periods import month_period, year_period
from civicgrid.evaluation.tables import TABS, evaluation_table
from civicgrid.evaluation.tests.history import build_history

MARCH = month_period(2026, 3)


class DrilldownTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.made = build_history()

    def assert_lists_match_figures(self, period, scope=EVERYTHING):
        config = EvaluationSettings.current()
        checked = 0
        for key, indicators in DRILLABLE.items():
            table = evaluation_table(TABS[key], period, scope, config=config)
            rows = [ranked.row for ranked in table.rows]
            if table.overall is not None:
                rows.append(table.overall)
            for row in rows:
                for indicator in indicators:
                    figure = getattr(row, indicator)
                    with self.subTest(tab=key, row=row.name, indicator=indicator):
                        items = drilldown_items(key, row.id, indicator, period, scope=scope, config=config)
                        self.assertEqual(len(items), figure)
                        checked += figure
        return checked

    def test_it_lists_as_many_cases_as_every_figure_counts(self):
        checked = self.assert_lists_match_figures(MARCH)
        self.assertGreater(checked, 100)  # the history is not empty

    def test_it_follows_the_deferral_setting(self):
        EvaluationSettings.objects.filter(pk=1).update(exclude_deferred=False, basically_satisfied_counts=False)
        self.assert_lists_match_figures(MARCH)

    def test_it_keeps_a_street_reader_to_the_street(self):
        self.assert_lists_match_figures(MARCH, Scope(region_prefix="360725101"))

    def test_it_reads_a_whole_year(self):
        self.assert_lists_match_figures(year_period(2026))

    def test_it_lists_the_reworked_case_of_the_municipal_unit(self):
        municipal = self.made["municipal"]
        items = drilldown_items("unit", municipal.pk, "reworked", MARCH, scope=EVERYTHING)
        self.assertEqual([item.case_id for item in items], [self.made["cases"]["C"].pk])

    def test_it_refuses_rates(self):
        with self.assertRaises(NotDrillable):
            drilldown_items("unit", 1, "closure_rate", MARCH, scope=EVERYTHING)

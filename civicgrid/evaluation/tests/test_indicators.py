"""Every indicator of the hand-built March 2026 history (tests/history.py), worked out by hand.

The arithmetic is written out next to each expected figure: which cases count and why.
Rates are percentages with two places, rounded half up.
"""

from decimal import Decimal as D

from django.test import TestCase

from civicgrid.core.models import Role
from civicgrid.evaluation import facts, indicators
from civicgrid.evaluation.indicators import Scope
from civicgrid.evaluation.models import EvaluationSettings
from civicgrid.evaluation.periods import month_period
from civicgrid.evaluation.scoring import Scorer
from civicgrid.evaluation.tests.history import build_history

MARCH = month_period(2026, 3)
APRIL = month_period(2026, 4)


def by_code(rows) -> dict:
    return {row.code: row for row in rows}


class HistoryTestCase(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.made = build_history()

    def setUp(self):
        self.config = EvaluationSettings.current()


class RegionTests(HistoryTestCase):
    def test_it_counts_the_county(self):
        (row,) = indicators.region_rows(MARCH, "county", config=self.config)
        # Reports in March: A B C D E F G H I K L M1 = 12 (M2 is in April); public: I.
        self.assertEqual((row.reports, row.public_reports), (12, 1))
        self.assertEqual(row.public_share, D("8.33"))  # 1 / 12 = 8.333…
        # Filed or self-handled in March: A B C D E F G I K L (file) + H (approved) = 11.
        self.assertEqual(row.filed, 11)
        # Voided after filing: G. Deferred: E. Should close: 11 − 1 − 1 = 9 (A B C D F H I K L).
        self.assertEqual((row.voided, row.deferred, row.should_close), (1, 1, 9))
        # Closed by the end: A B C D F H L = 7 (I waits for dispatch, K is with the unit).
        self.assertEqual(row.closed, 7)
        # Overdue: B (handled 3-03 09:00, due 3-02 15:50) and K (never handled, due 15:50) = 2.
        self.assertEqual(row.overdue, 2)
        # Closed and not overdue: A C D F H L = 6 (C's two runs were both on time; D's
        # deadline moved to 3-03 16:50; H has no handling run).
        self.assertEqual(row.closed_on_time, 6)
        self.assertEqual(row.closure_rate, D("77.78"))  # 7 / 9 = 77.777…
        self.assertEqual(row.on_time_rate, D("66.67"))  # 6 / 9 = 66.666…
        # 6 grids in the county: 11 / 6 = 1.833…
        self.assertEqual((row.grids, row.cases_per_grid), (6, D("1.83")))

    def test_it_splits_streets_by_where_the_case_is(self):
        rows = by_code(indicators.region_rows(MARCH, "street", config=self.config))
        east, west = rows["360725100"], rows["360725101"]
        # East: every case but L. Reports 11 (public 1): 1 / 11 = 9.09 %.
        self.assertEqual((east.reports, east.public_reports, east.public_share), (11, 1, D("9.09")))
        # Filed 10 (A B C D E F G H I K), − G voided − E deferred = 8; closed A B C D F H = 6;
        # overdue B K = 2; on time A C D F H = 5.
        self.assertEqual((east.filed, east.should_close, east.closed, east.overdue), (10, 8, 6, 2))
        self.assertEqual(east.closed_on_time, 5)
        self.assertEqual((east.closure_rate, east.on_time_rate), (D("75.00"), D("62.50")))  # 6/8, 5/8
        self.assertEqual(east.cases_per_grid, D("3.33"))  # 10 filed / 3 grids (G1 G2 G3)
        # West: L alone, closed on time; 1 filed / 3 grids (G4 G5 G6).
        self.assertEqual((west.reports, west.public_share, west.filed, west.should_close), (1, D("0.00"), 1, 1))
        self.assertEqual(
            (west.closure_rate, west.on_time_rate, west.cases_per_grid), (D("100.00"), D("100.00"), D("0.33"))
        )

    def test_it_splits_communities_and_grids(self):
        communities = by_code(indicators.region_rows(MARCH, "community", config=self.config))
        self.assertEqual(communities["360725100001"].filed, 10)  # every east case is in 东一 (G1)
        self.assertEqual(communities["360725100002"].filed, 0)
        self.assertIsNone(communities["360725100002"].closure_rate)  # nothing to close: no rate
        self.assertEqual(communities["360725101001"].filed, 1)
        grids = by_code(indicators.region_rows(MARCH, "grid", config=self.config))
        self.assertEqual(len(grids), 6)
        self.assertEqual((grids["3607251000010001"].filed, grids["3607251000010001"].cases_per_grid), (10, D("10.00")))
        self.assertEqual(grids["3607251010010001"].filed, 1)  # G4: L

    def test_it_adds_regions_up_to_their_total(self):
        (county,) = indicators.region_rows(MARCH, "county", config=self.config)
        total = indicators.region_total(indicators.region_rows(MARCH, "street", config=self.config))
        # East + west: the same counts and rates as the county (a case lies in one street).
        self.assertEqual((total.name, total.reports, total.filed, total.should_close), ("全部", 12, 11, 9))
        self.assertEqual(
            (total.closure_rate, total.on_time_rate, total.cases_per_grid), (D("77.78"), D("66.67"), D("1.83"))
        )
        self.assertEqual(county.name, "崇义县")

    def test_it_keeps_deferred_cases_when_the_setting_says_so(self):
        self.config.exclude_deferred = False
        (row,) = indicators.region_rows(MARCH, "county", config=self.config)
        # E stays in: 11 − 1 (G) = 10; E is paused, not overdue (its clock stopped at 10:10,
        # before its 15:50 deadline).
        self.assertEqual((row.should_close, row.closed, row.overdue), (10, 7, 2))
        self.assertEqual((row.closure_rate, row.on_time_rate), (D("70.00"), D("60.00")))  # 7/10, 6/10

    def test_it_counts_only_the_period(self):
        (row,) = indicators.region_rows(APRIL, "county", config=self.config)
        # April: M2 reported; nothing filed, so no rates.
        self.assertEqual((row.reports, row.filed, row.should_close), (1, 0, 0))
        self.assertIsNone(row.closure_rate)

    def test_it_restricts_to_the_readers_region(self):
        rows = indicators.region_rows(MARCH, "street", scope=Scope(region_prefix="360725101"), config=self.config)
        self.assertEqual([row.code for row in rows], ["360725101"])
        (county,) = indicators.region_rows(MARCH, "county", scope=Scope(region_prefix="360725101"), config=self.config)
        self.assertEqual((county.name, county.reports, county.filed), ("西街道", 1, 1))


class UnitTests(HistoryTestCase):
    def test_it_evaluates_the_municipal_department(self):
        rows = by_code(indicators.unit_rows(MARCH, config=self.config))
        row = rows["D01"]
        # Dispatched to 市政所 in March: A B C D E F (at 10:00, after its return) K = 7.
        self.assertEqual(row.received, 7)
        # Returned after that dispatch: none (F's return at 09:50 came before it). Deferred: E.
        self.assertEqual((row.returned, row.deferred, row.should_close), (0, 1, 6))  # 7 − 0 − 1
        # Handled and closed: A B C D F = 5 (K never handled).
        self.assertEqual((row.handled, row.closed), (5, 5))
        # Overdue: B and K = 2; closed on time: A C D F = 4.
        self.assertEqual((row.overdue, row.closed_on_time), (2, 4))
        # Reworked: C; extended: D.
        self.assertEqual((row.reworked, row.extended), (1, 1))
        self.assertEqual(row.closure_rate, D("83.33"))  # 5 / 6
        self.assertEqual(row.on_time_rate, D("66.67"))  # 4 / 6
        self.assertEqual(row.overdue_rate, D("33.33"))  # 2 / 6
        self.assertEqual(row.extension_rate, D("16.67"))  # 1 / 6
        self.assertEqual(row.rework_rate, D("20.00"))  # 1 reworked / 5 handled
        # Handling runs ended by a 处置反馈 in March, wall-clock minutes:
        # A 09:20–10:00 = 40; B 3-02 09:20 – 3-03 09:00 = 1420; C 09:20–10:00 = 40 and
        # 10:30–11:00 = 30; D 3-02 09:20 – 3-03 10:00 = 1480; F 10:00–11:00 = 60.
        # 6 runs, 3070 minutes: 3070 / 6 / 60 = 8.527… hours.
        self.assertEqual((row.handling_runs, row.average_handling_hours), (6, D("8.53")))
        # Ratings of its cases: A 满意, B 基本满意, C 不满意: (1 + 1) / 3.
        self.assertEqual((row.rated, row.satisfied, row.satisfaction_rate), (3, 2, D("66.67")))

    def test_it_evaluates_the_water_company(self):
        row = by_code(indicators.unit_rows(MARCH, config=self.config))["U01"]
        # Dispatched: F (09:20) and L = 2; F was returned: should close 1 (L), closed on time.
        self.assertEqual((row.received, row.returned, row.should_close, row.closed), (2, 1, 1, 1))
        self.assertEqual((row.closure_rate, row.on_time_rate, row.rework_rate), (D("100.00"),) * 2 + (D("0.00"),))
        # L 09:20–10:00 = 40 minutes; F's run ended by the return does not count.
        self.assertEqual((row.handling_runs, row.average_handling_hours), (1, D("0.67")))
        self.assertIsNone(row.satisfaction_rate)  # no ratings

    def test_it_shows_only_the_readers_unit(self):
        rows = indicators.unit_rows(MARCH, scope=Scope(unit_id=self.made["water"].pk), config=self.config)
        self.assertEqual([(row.code, row.received) for row in rows], [("U01", 2)])

    def test_it_counts_a_west_reader_only_west_cases(self):
        rows = by_code(indicators.unit_rows(MARCH, scope=Scope(region_prefix="360725101"), config=self.config))
        self.assertEqual((rows["U01"].received, rows["D01"].received), (1, 0))  # L only


class SatisfactionTests(HistoryTestCase):
    def test_it_counts_ratings_against_the_target(self):
        overall, rows = indicators.satisfaction_rows(MARCH, config=self.config)
        # A 满意 (portal), B 基本满意 (12345), C 不满意 (portal): (1 + 1) / 3 = 66.67 % < 95 %.
        self.assertEqual((overall.rated, overall.hotline, overall.portal), (3, 1, 2))
        self.assertEqual((overall.level_satisfied, overall.level_basically, overall.level_dissatisfied), (1, 1, 1))
        self.assertEqual((overall.satisfied, overall.satisfaction_rate), (2, D("66.67")))
        self.assertEqual((overall.target, overall.meets_target), (D("95.00"), False))
        self.assertEqual([(row.code, row.rated) for row in rows], [("D01", 3)])

    def test_it_can_count_only_satisfied(self):
        self.config.basically_satisfied_counts = False
        overall, _rows = indicators.satisfaction_rows(MARCH, config=self.config)
        self.assertEqual((overall.satisfied, overall.satisfaction_rate), (1, D("33.33")))  # 1 / 3


class ResolutionTests(HistoryTestCase):
    def test_it_splits_closures_by_mode_from_the_handled_events(self):
        overall, rows = indicators.resolution_rows(MARCH, config=self.config)
        # Closures (close events) in March: A 服务, B 管理, C 执法 (its latest 处置反馈), D 服务 (none
        # given), F 服务 (none given), L 服务 = 6. H (self-handled) and C's 维持结案 are not closures.
        self.assertEqual((overall.closures, overall.service, overall.management, overall.enforcement), (6, 4, 1, 1))
        self.assertEqual(
            (overall.service_share, overall.management_share, overall.enforcement_share),
            (D("66.67"), D("16.67"), D("16.67")),  # 4/6, 1/6, 1/6
        )
        units = by_code(rows)
        self.assertEqual((units["D01"].closures, units["D01"].service, units["D01"].service_share), (5, 3, D("60.00")))
        self.assertEqual((units["U01"].closures, units["U01"].service_share), (1, D("100.00")))


class StaffTests(HistoryTestCase):
    def staff(self, role, username):
        return by_code(indicators.staff_rows(MARCH, role, config=self.config))[username]

    def test_it_evaluates_the_inspector(self):
        ivy = self.staff(Role.INSPECTOR, "ivy")
        # Ivy reported A B C D E F G H K L M1 = 11 in March; valid (filed, or self-handled and
        # approved): all but M1 = 10 (G was filed, then voided: still a valid report).
        self.assertEqual((ivy.reports, ivy.valid_reports, ivy.valid_report_rate), (11, 10, D("90.91")))
        # One verification (I, 30 min of 1 working hour); 7 checks (A B C×2 D F L), all in time.
        self.assertEqual((ivy.verifications, ivy.on_time_verify_rate), (1, D("100.00")))
        self.assertEqual((ivy.checks, ivy.on_time_check_rate), (7, D("100.00")))
        # Her grids G1 G2: filed cases reported there in March A B C D E F G I K = 9; public
        # ones among them: I. Missed: 1 / 9.
        self.assertEqual((ivy.grid_filed, ivy.missed_reports, ivy.missed_report_rate), (9, 1, D("11.11")))

    def test_it_evaluates_the_desk(self):
        otto = self.staff(Role.OPERATOR, "otto")
        # Otto filed A B C D E F G I K L = 10, all within the hour; G was voided after.
        self.assertEqual((otto.filing_decisions, otto.filed_on_time, otto.on_time_filing_rate), (10, 10, D("100.00")))
        self.assertEqual((otto.filed, otto.voided_after_filing, otto.accurate_filing_rate), (10, 1, D("90.00")))
        wes = self.staff(Role.OPERATOR, "wes")  # did nothing: zeros, no rates
        self.assertEqual((wes.filing_decisions, wes.on_time_filing_rate), (0, None))
        sue = self.staff(Role.SHIFT_LEAD, "sue")
        # Sue closed A B C D F L = 6, each within the hour (维持结案 is not a close).
        self.assertEqual((sue.closes, sue.closed_on_time, sue.on_time_closing_rate), (6, 6, D("100.00")))

    def test_it_evaluates_the_dispatcher(self):
        dora = self.staff(Role.DISPATCHER, "dora")
        # Dispatches: A B C D E F→water F→市政所 K L = 9, all within the hour.
        self.assertEqual((dora.dispatched, dora.on_time_dispatch_rate), (9, D("100.00")))
        # Reworked after the dispatch: C; returned after it: F's first dispatch.
        self.assertEqual((dora.reworked, dora.returned), (1, 1))
        self.assertEqual(dora.accurate_dispatch_rate, D("88.89"))  # (9 − 1) / 9


class ScoreTests(HistoryTestCase):
    def test_it_scores_and_grades_with_the_default_weights(self):
        scorer = Scorer()
        (county,) = indicators.region_rows(MARCH, "county", config=self.config)
        # 40 × 77.78 + 40 × 66.67 + 20 × (100 − 8.33) = 3111.2 + 2666.8 + 1833.4 = 7611.4; ÷ 100.
        self.assertEqual(scorer.score("region", county), D("76.11"))
        self.assertEqual(scorer.grade(D("76.11")), "B")
        municipal = by_code(indicators.unit_rows(MARCH, config=self.config))["D01"]
        # 30 × 83.33 + 30 × 66.67 + 30 × (100 − 20) + 10 × (100 − 16.67)
        # = 2499.9 + 2000.1 + 2400 + 833.3 = 7733.3; ÷ 100 = 77.333.
        self.assertEqual(scorer.score("unit", municipal), D("77.33"))
        dora = by_code(indicators.staff_rows(MARCH, Role.DISPATCHER, config=self.config))["dora"]
        # 50 × 100 + 50 × 88.89 = 9444.5; ÷ 100 = 94.445 → 94.45.
        self.assertEqual(scorer.score("dispatcher", dora), D("94.45"))
        ivy = by_code(indicators.staff_rows(MARCH, Role.INSPECTOR, config=self.config))["ivy"]
        # 40 × 90.91 + 20 × (100 − 11.11) + 20 × 100 + 20 × 100 = 3636.4 + 1777.8 + 4000 = 9414.2.
        self.assertEqual(scorer.score("inspector", ivy), D("94.14"))
        sue = by_code(indicators.staff_rows(MARCH, Role.SHIFT_LEAD, config=self.config))["sue"]
        # Only the closing rate has a value: the other weights drop out, 35 × 100 ÷ 35.
        self.assertEqual(scorer.score("shift_lead", sue), D("100.00"))
        wes = by_code(indicators.staff_rows(MARCH, Role.OPERATOR, config=self.config))["wes"]
        self.assertIsNone(scorer.score("operator", wes))


class QueryCountTests(HistoryTestCase):
    """A fixed number of queries, however many cases and rows: no query per case or per row."""

    def test_it_runs_a_fixed_number_of_queries(self):
        facts.refresh()  # builds the facts of the history (once); each function then checks them in one query
        with self.assertNumQueries(4):  # the facts' check, reports, the cohort, the grids
            indicators.region_rows(MARCH, "grid", config=self.config)
        with self.assertNumQueries(5):  # the same for every level at once + the regions' names
            tables = indicators.region_tables(MARCH, config=self.config)
        self.assertEqual(
            {level: len(rows) for level, rows in tables.items()}, {"county": 1, "street": 2, "community": 3, "grid": 6}
        )
        with self.assertNumQueries(5):  # the check, the cohort, handling times, ratings, the units
            indicators.unit_rows(MARCH, config=self.config)
        with self.assertNumQueries(6):  # the check, reports, verifications, checks, grids, the users
            indicators.staff_rows(MARCH, Role.INSPECTOR, config=self.config)
        with self.assertNumQueries(4):  # the facts' check, two rating counts, the units' names
            indicators.satisfaction_rows(MARCH, config=self.config)
        with self.assertNumQueries(3):  # the check, the closures by unit and mode, the units' names
            indicators.resolution_rows(MARCH, config=self.config)

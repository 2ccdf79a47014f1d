"""Rarer branches, worked out by hand: a case across two months, a reopen after 不满意 to
another unit, a verification denied and the report rejected, a deferral resumed.

    N  reported Thu 2026-02-26 09:00, filed 09:10, dispatched 09:20 → 市政所 (due 15:50), signed;
       handled Mon 3-02 10:00 (late), check 10:30, close 10:40
    R  reported 3-02 09:00, dispatched 09:20 → 市政所, handled 10:00, check 10:30, close 10:40;
       rated 不满意 3-03 09:00, reopened to 自来水公司 09:30, signed 09:40, handled 10:30 (管理),
       check 11:00, close 11:10; rated 满意 3-04 09:00
    V  a public report 3-02 09:00 in G1; Ivy finds nothing (09:20); Otto rejects it (09:30)
    X  dispatched 3-02 09:20 → 市政所; deferral granted 10:10; resumed 3-03 09:00 (the clock
       moves on by the pause), handled 10:00, check 10:30, close 10:40
"""

from decimal import Decimal as D

from django.test import TestCase

from civicgrid.cases.services import case_rate
from civicgrid.cases.tests.fixtures import act, build_people, photo, report
from civicgrid.core.models import Role
from civicgrid.evaluation import indicators
from civicgrid.evaluation.models import EvaluationSettings
from civicgrid.evaluation.periods import month_period
from civicgrid.evaluation.tests.history import at

FEBRUARY, MARCH = month_period(2026, 2), month_period(2026, 3)


def by_code(rows) -> dict:
    return {row.code: row for row in rows}


class BranchTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        made = cls.made = build_people()
        municipal, water = made["municipal"].pk, made["water"].pk

        def do(case, action, who, when, **kwargs):
            return act(made, case, action, who, when, **kwargs)

        def to_unit(case, day, unit=municipal):
            do(case, "file", "otto", at(day, 9, 10, month=case.created_at.month))
            do(case, "dispatch", "dora", at(day, 9, 20, month=case.created_at.month), unit_id=unit)
            do(case, "sign", "hank", at(day, 9, 30, month=case.created_at.month))

        def finish(case, handled, who="hank", **kwargs):
            do(case, "handled", who, handled, photos=[photo()], **kwargs)
            do(case, "check_pass", "ivy", handled.replace(minute=handled.minute + 30))
            do(case, "close", "sue", handled.replace(minute=handled.minute + 40))

        n = report(made, created_at=at(26, 9, month=2))
        to_unit(n, 26)
        finish(n, at(2, 10))

        r = report(made, created_at=at(2, 9))
        to_unit(r, 2)
        finish(r, at(2, 10))
        case_rate(case_id=r.pk, satisfaction="dissatisfied", source="portal", now=at(3, 9))
        do(r, "reopen", "sue", at(3, 9, 30), unit_id=water)
        do(r, "sign", "hugo", at(3, 9, 40))
        do(r, "handled", "hugo", at(3, 10, 30), photos=[photo()], resolution_mode="management")
        do(r, "check_pass", "ivy", at(3, 11))
        do(r, "close", "sue", at(3, 11, 10))
        case_rate(case_id=r.pk, satisfaction="satisfied", source="portal", now=at(4, 9))

        v = report(made, channel="public", actor_key=None, created_at=at(2, 9))
        do(v, "verify_deny", "ivy", at(2, 9, 20), note="现场未发现")
        do(v, "reject", "otto", at(2, 9, 30), note="不属实")

        x = report(made, created_at=at(2, 9))
        to_unit(x, 2)
        do(x, "request_deferral", "hank", at(2, 10), note="等待管线迁改")
        do(x, "approve_deferral", "sue", at(2, 10, 10))
        do(x, "resume", "hank", at(3, 9))
        finish(x, at(3, 10))

    def setUp(self):
        self.config = EvaluationSettings.current()

    def test_it_judges_a_month_by_its_end(self):
        (county,) = indicators.region_rows(FEBRUARY, "county", config=self.config)
        # N was filed in February and still open at its end, past its 15:50 deadline.
        self.assertEqual((county.filed, county.should_close, county.closed, county.overdue), (1, 1, 0, 1))
        self.assertEqual((county.closure_rate, county.on_time_rate), (D("0.00"), D("0.00")))
        municipal = by_code(indicators.unit_rows(FEBRUARY, config=self.config))["D01"]
        self.assertEqual((municipal.received, municipal.closed, municipal.overdue_rate), (1, 0, D("100.00")))
        self.assertEqual((municipal.handling_runs, municipal.average_handling_hours), (0, None))

    def test_it_counts_the_regions_in_march(self):
        (county,) = indicators.region_rows(MARCH, "county", config=self.config)
        # Reports R V X = 3, public V: 1 / 3. Filed in March: R X (V rejected, N filed in
        # February); X deferred: should close R alone, closed on time.
        self.assertEqual((county.reports, county.public_share), (3, D("33.33")))
        self.assertEqual((county.filed, county.deferred, county.should_close, county.closed), (2, 1, 1, 1))
        self.assertEqual((county.closure_rate, county.on_time_rate), (D("100.00"), D("100.00")))
        # With deferred cases kept: X counts, closed 3-03 10:40 within its moved deadline.
        self.config.exclude_deferred = False
        (county,) = indicators.region_rows(MARCH, "county", config=self.config)
        self.assertEqual((county.should_close, county.closed, county.overdue), (2, 2, 0))

    def test_it_gives_a_reopened_case_to_the_unit_it_was_sent_to(self):
        units = by_code(indicators.unit_rows(MARCH, config=self.config))
        municipal, water = units["D01"], units["U01"]
        # 市政所: dispatched R and X in March = 2; X deferred: should close R, closed on time.
        self.assertEqual((municipal.received, municipal.deferred, municipal.should_close), (2, 1, 1))
        self.assertEqual((municipal.closed, municipal.closed_on_time), (1, 1))
        # Its runs ended by a 处置反馈 in March: N 2-26 09:20 → 3-02 10:00 = 5800 min, R 40 min,
        # X 3-02 09:20 → 3-03 10:00 = 1480 min (the pause is wall-clock time too):
        # 7320 / 3 = 2440 min = 40.666… h.
        self.assertEqual((municipal.handling_runs, municipal.average_handling_hours), (3, D("40.67")))
        # R's 不满意 was given while 市政所 had it: 0 / 1.
        self.assertEqual((municipal.rated, municipal.satisfaction_rate), (1, D("0.00")))
        # 自来水公司 received R by the reopen, closed it 3-03 11:10; rated 满意 then: 1 / 1.
        self.assertEqual((water.received, water.should_close, water.closed, water.closed_on_time), (1, 1, 1, 1))
        self.assertEqual((water.average_handling_hours, water.satisfaction_rate), (D("1.00"), D("100.00")))

    def test_it_counts_each_closure_with_its_own_mode(self):
        overall, rows = indicators.resolution_rows(MARCH, config=self.config)
        # Closures in March: N, R (first), X by 市政所 without a mode: 服务; R again after the
        # reopen, 自来水公司's 管理. 3 / 4 and 1 / 4.
        self.assertEqual((overall.closures, overall.service, overall.management), (4, 3, 1))
        self.assertEqual((overall.service_share, overall.management_share), (D("75.00"), D("25.00")))
        units = by_code(rows)
        self.assertEqual((units["D01"].closures, units["U01"].management), (3, 1))

    def test_it_counts_ratings_of_each_closure(self):
        overall, _rows = indicators.satisfaction_rows(MARCH, config=self.config)
        self.assertEqual((overall.rated, overall.satisfied, overall.satisfaction_rate), (2, 1, D("50.00")))

    def test_it_counts_the_staff(self):
        ivy = by_code(indicators.staff_rows(MARCH, Role.INSPECTOR, config=self.config))["ivy"]
        # Ivy reported R and X (both filed): 2 / 2. She verified V (denied, in time) and checked
        # N, R twice and X. V was not filed: no missed report.
        self.assertEqual((ivy.reports, ivy.valid_report_rate, ivy.verifications, ivy.checks), (2, D("100.00"), 1, 4))
        self.assertEqual((ivy.grid_filed, ivy.missed_reports, ivy.missed_report_rate), (2, 0, D("0.00")))
        otto = by_code(indicators.staff_rows(MARCH, Role.OPERATOR, config=self.config))["otto"]
        # Filing decisions: R X filed, V rejected = 3; filed 2, none voided.
        self.assertEqual((otto.filing_decisions, otto.filed, otto.accurate_filing_rate), (3, 2, D("100.00")))
        sue = by_code(indicators.staff_rows(MARCH, Role.SHIFT_LEAD, config=self.config))["sue"]
        self.assertEqual((sue.closes, sue.on_time_closing_rate), (4, D("100.00")))  # N, R twice, X
        dora = by_code(indicators.staff_rows(MARCH, Role.DISPATCHER, config=self.config))["dora"]
        self.assertEqual((dora.dispatched, dora.accurate_dispatch_rate), (2, D("100.00")))  # the reopen is Sue's

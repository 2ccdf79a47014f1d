"""The pre-aggregation (EvaluationFact) gives exactly the figures of the direct computation.

Every row of every function is computed both ways — from the facts (the default) and from
CaseEvent/CaseStage directly (`indicators.direct()`) — and compared field by field: on the
hand-built histories (tests/history.py, test_branches.py's cases), on a generated history
(cases.history.history_build, a few hundred cases over a year), for months, weeks, days and
custom periods, every scope and both settings; and after the history grows (new cases, new
actions on old cases), when the facts are refreshed incrementally or rebuilt.
"""

from datetime import UTC, date, datetime, timedelta
from unittest.mock import patch

from django.db import connection
from django.test import TestCase, TransactionTestCase

from civicgrid.cases.history import history_build
from civicgrid.cases.models import Case, CaseEvent
from civicgrid.cases.services import case_rate
from civicgrid.cases.tests.fixtures import act, photo, report
from civicgrid.core.demo import demo_build
from civicgrid.core.models import OrgUnit
from civicgrid.evaluation import facts, indicators
from civicgrid.evaluation.indicators import STAFF_ROLES, Scope
from civicgrid.evaluation.models import EvaluationFact, EvaluationFactState, EvaluationSettings
from civicgrid.evaluation.periods import Period, custom_period, day_period, month_period, week_period
from civicgrid.evaluation.tests.history import at, build_history


def everything(period: Period, scope: Scope, config: EvaluationSettings) -> dict:
    """Every figure of every function, as plain data."""
    tables = indicators.region_tables(period, scope=scope, config=config)
    overall, per_unit = indicators.satisfaction_rows(period, scope=scope, config=config)
    resolution, by_unit = indicators.resolution_rows(period, scope=scope, config=config)
    return {
        "regions": {level: [row.as_dict() for row in rows] for level, rows in tables.items()},
        "units": [row.as_dict() for row in indicators.unit_rows(period, scope=scope, config=config)],
        "staff": {
            str(role): [row.as_dict() for row in indicators.staff_rows(period, role, scope=scope, config=config)]
            for role in STAFF_ROLES
        },
        "satisfaction": [overall.as_dict(), *(row.as_dict() for row in per_unit)],
        "resolution": [resolution.as_dict(), *(row.as_dict() for row in by_unit)],
    }


class BothWaysMixin:
    def assert_same(self, periods, scopes, configs):
        for period in periods:
            for scope in scopes:
                for config in configs:
                    with self.subTest(
                        period=str(period.label), scope=str(scope), deferred=str(config.exclude_deferred)
                    ):
                        from_facts = everything(period, scope, config)
                        with indicators.direct():
                            directly = everything(period, scope, config)
                        self.assertEqual(from_facts, directly)

    def configs(self):
        config = EvaluationSettings.current()
        other = EvaluationSettings.current()
        other.exclude_deferred = False
        other.basically_satisfied_counts = False
        return [config, other]


class HandBuiltTests(BothWaysMixin, TestCase):
    """tests/history.py (March 2026) and the rarer branches of test_branches.py."""

    @classmethod
    def setUpTestData(cls):
        made = cls.made = build_history()
        municipal, water = made["municipal"].pk, made["water"].pk

        def do(case, action, who, when, **kwargs):
            return act(made, case, action, who, when, **kwargs)

        # test_branches' N (across two months), R (reopened to another unit), V (denied, rejected),
        # X (deferral resumed).
        n = report(made, created_at=at(26, 9, month=2))
        do(n, "file", "otto", at(26, 9, 10, month=2))
        do(n, "dispatch", "dora", at(26, 9, 20, month=2), unit_id=municipal)
        do(n, "sign", "hank", at(26, 9, 30, month=2))
        do(n, "handled", "hank", at(2, 10), photos=[photo()])
        do(n, "check_pass", "ivy", at(2, 10, 30))
        do(n, "close", "sue", at(2, 10, 40))
        r = report(made, created_at=at(2, 9))
        do(r, "file", "otto", at(2, 9, 10))
        do(r, "dispatch", "dora", at(2, 9, 20), unit_id=municipal)
        do(r, "sign", "hank", at(2, 9, 30))
        do(r, "handled", "hank", at(2, 10), photos=[photo()])
        do(r, "check_pass", "ivy", at(2, 10, 30))
        do(r, "close", "sue", at(2, 10, 40))
        case_rate(case_id=r.pk, satisfaction="dissatisfied", source="portal", now=at(3, 9))
        do(r, "reopen", "sue", at(3, 9, 30), unit_id=water)
        do(r, "sign", "hugo", at(3, 9, 40))
        do(r, "handled", "hugo", at(3, 10, 30), photos=[photo()], resolution_mode="management")
        do(r, "check_pass", "ivy", at(3, 11))
        do(r, "close", "sue", at(3, 11, 10))
        v = report(made, channel="public", actor_key=None, created_at=at(2, 9))
        do(v, "verify_deny", "ivy", at(2, 9, 20), note="现场未发现")
        do(v, "reject", "otto", at(2, 9, 30), note="不属实")
        x = report(made, created_at=at(2, 9))
        do(x, "file", "otto", at(2, 9, 10))
        do(x, "dispatch", "dora", at(2, 9, 20), unit_id=municipal)
        do(x, "sign", "hank", at(2, 9, 30))
        do(x, "request_deferral", "hank", at(2, 10), note="等待管线迁改")
        do(x, "approve_deferral", "sue", at(2, 10, 10))
        do(x, "resume", "hank", at(3, 9))
        do(x, "handled", "hank", at(3, 10), photos=[photo()])

    def periods(self):
        return [
            month_period(2026, 2),
            month_period(2026, 3),
            month_period(2026, 4),
            week_period(date(2026, 3, 2)),
            day_period(date(2026, 3, 2)),
            day_period(date(2026, 3, 3)),
            custom_period(date(2026, 2, 20), date(2026, 4, 30)),
        ]

    def scopes(self):
        east, west, municipal = "360725100", "360725101", self.made["municipal"].pk
        return [Scope(), Scope(region_prefix=east), Scope(region_prefix=west), Scope(unit_id=municipal)]

    def test_every_figure_is_the_direct_computation(self):
        self.assert_same(self.periods(), self.scopes(), self.configs())

    def test_the_facts_follow_new_actions_on_old_cases(self):
        facts.refresh()
        built = EvaluationFact.objects.count()
        self.assertGreater(built, 0)
        # X is handled on 3-03 10:00 and waits for its check: check and close it now.
        x = Case.objects.filter(events__action="resume").get()
        act(self.made, x, "check_fail", "ivy", at(3, 10, 30), note="仍有垃圾")
        act(self.made, x, "handled", "hank", at(3, 11), photos=[photo()], resolution_mode="enforcement")
        act(self.made, x, "check_pass", "ivy", at(3, 11, 30))
        act(self.made, x, "close", "sue", at(3, 11, 40))
        self.assertEqual(
            EvaluationFactState.objects.get().last_event_id < CaseEvent.objects.order_by("-id")[0].id, True
        )
        self.assert_same([month_period(2026, 3), day_period(date(2026, 3, 3))], [Scope()], self.configs()[:1])
        self.assertEqual(EvaluationFactState.objects.get().last_event_id, CaseEvent.objects.order_by("-id")[0].id)
        self.assertGreater(EvaluationFact.objects.count(), built)

    def test_a_rebuild_gives_the_same_rows(self):
        facts.refresh()
        columns = [f.attname for f in EvaluationFact._meta.fields]
        before = list(EvaluationFact.objects.order_by("event_id").values_list(*columns))
        facts.rebuild()
        self.assertEqual(list(EvaluationFact.objects.order_by("event_id").values_list(*columns)), before)

    def test_deleting_a_case_removes_its_facts(self):
        facts.refresh()
        case = Case.objects.filter(events__action="close").first()
        case.delete()
        self.assertFalse(EvaluationFact.objects.filter(case_id=case.pk).exists())
        self.assert_same([month_period(2026, 3)], [Scope()], self.configs()[:1])


class GeneratedHistoryTests(BothWaysMixin, TestCase):
    """A generated year (the demo county, history_build), then more cases added to it."""

    NOW = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)

    @classmethod
    def setUpTestData(cls):
        demo_build(seed=2021)
        history_build(cases=400, seed=11, now=cls.NOW, photos=False)

    def scopes(self):
        unit = OrgUnit.objects.filter(kind=OrgUnit.Kind.DEPARTMENT).order_by("code").first()
        street = Case.objects.values_list("region_code", flat=True).first()[:9]
        return [Scope(), Scope(region_prefix=street), Scope(unit_id=unit.pk)]

    def test_every_month_is_the_direct_computation(self):
        months = [month_period(2026, m) for m in (1, 4, 7, 10, 11)] + [month_period(2025, 12)]
        self.assert_same(months, self.scopes(), self.configs())

    def test_weeks_and_a_year(self):
        periods = [week_period(self.NOW.date() - timedelta(days=7 * k)) for k in range(3)]
        periods.append(custom_period(date(2025, 12, 1), date(2026, 11, 20)))
        self.assert_same(periods, [Scope()], self.configs()[:1])

    def test_the_facts_follow_the_history_as_it_grows(self):
        facts.refresh()
        history_build(cases=150, seed=12, now=self.NOW + timedelta(days=3), photos=False)
        self.assert_same([month_period(2026, 10), month_period(2026, 11)], [Scope()], self.configs()[:1])


class RebuildOutsideATransactionTests(TransactionTestCase):
    """`rebuild_evaluation` as an operator runs it: on PostgreSQL the chunks are written by two
    connections into a new table that is then swapped in; on SQLite in one transaction with the
    indexes dropped meanwhile. Either way the rows and the indexes are what they were."""

    def test_the_rows_and_indexes_are_those_of_a_refresh(self):
        from civicgrid.cases.bulk import secondary_indexes

        demo_build(seed=2021)
        history_build(cases=120, seed=13, now=datetime(2026, 11, 20, 2, 0, tzinfo=UTC), photos=False)
        facts.refresh()
        columns = [f.attname for f in EvaluationFact._meta.fields]
        before = list(EvaluationFact.objects.order_by("event_id").values_list(*columns))
        table = EvaluationFact._meta.db_table
        indexes = secondary_indexes([table])
        self.assertIn("evalfact_county_action_at", [name for name, _sql in indexes])
        seen = []
        # Small chunks, so that both connections write several.
        with patch.object(facts, "CHUNK_CASES", 10):
            rows = facts.rebuild(lambda done, total: seen.append((done, total)), workers=2)
        self.assertEqual(rows, len(before))
        self.assertEqual(list(EvaluationFact.objects.order_by("event_id").values_list(*columns)), before)
        self.assertEqual(secondary_indexes([table]), indexes)
        self.assertEqual(seen[-1][0], seen[-1][1])  # every case id counted once
        self.assertEqual(EvaluationFactState.objects.get().last_event_id, CaseEvent.objects.order_by("-id")[0].id)
        tables = connection.introspection.table_names()
        self.assertNotIn(f"{table}_rebuild", tables)
        # The swapped-in table is the one the refresh keeps up to date.
        case = Case.objects.filter(events__action="close").first()
        case.delete()
        facts.refresh()
        self.assertFalse(EvaluationFact.objects.filter(case_id=case.pk).exists())

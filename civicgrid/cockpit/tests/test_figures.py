"""The cockpit's figures against a small history written out by hand.

Personas are those of civicgrid.cases.tests.fixtures: Ivy the inspector, Otto the operator,
Dora the dispatcher, Sue the shift lead, Hank (municipal department) and Hugo (water company)
who handle, Wes the operator scoped to the west street, Lea the leader who sees everything.
Every case is of the one test category (道路破损; limits of 1 working hour per stage, 4 for
handling). "Now" is Friday 2026-03-20 16:00 Beijing time.

    case  channel    where  reported         what happened                               now
    A     inspector  east   Fri 02-27 10:00  handled (服务) the same morning, closed      closed (close stage late)
                                             Mon 03-02 09:00; rated 不满意 03-05, kept
                                             closed by the shift lead
    B     inspector  east   Mon 03-02 09:00  filed, municipal handles (管理), closed      closed, every stage on time
                                             11:10; rated 满意 03-03
    C     public     east   Tue 03-10 09:00  verified, filed, municipal handles (执法)    closed, handling late
                                             two days later, closed 03-12; rated 基本满意
                                             03-13
    D     inspector  west   Thu 03-19 09:00  filed, dispatched to the water company,     processing, overdue
                                             signed 09:30
    E     inspector  east   today 09:00      filed 09:30, not dispatched                 filed, overdue
    F     public     west   today 15:50      waits for the inspector's verification      verifying, in time
    G     public     east   today 10:00      verified, 不予立案 10:20                      rejected (not closed)
    I     inspector  east   today 08:10      filed, municipal signed 08:40               processing, overdue
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import time_machine
from django.test import TestCase

from civicgrid.cases.models import Case
from civicgrid.cases.services import case_rate
from civicgrid.cases.tests.fixtures import WEST_POINT, act, build_people, photo, report
from civicgrid.cases.workflow import Status
from civicgrid.cockpit.selectors import cockpit_data
from civicgrid.core.models import Role, User
from civicgrid.evaluation.models import EvaluationSettings
from civicgrid.geo.tests.fixtures import G1, G4

TZ = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 3, 20, 16, 0, tzinfo=TZ)


def at(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=TZ)


def build_history(made: dict, clock) -> dict[str, Case]:
    cases: dict[str, Case] = {}

    def reported(key: str, when: datetime, **kwargs) -> Case:
        clock.move_to(when)
        cases[key] = report(made, **kwargs)
        return cases[key]

    def handled(case, start: datetime, done: datetime, mode: str, unit="municipal", who="hank"):
        act(made, case, "dispatch", "dora", start, unit_id=made[unit].pk)
        act(made, case, "sign", who, start.replace(minute=start.minute + 10))
        clock.move_to(done)
        act(made, case, "handled", who, done, resolution_mode=mode, photos=[photo()])

    a = reported("A", at(2, 27, 10))
    act(made, a, "file", "otto", at(2, 27, 10, 10))
    handled(a, at(2, 27, 10, 20), at(2, 27, 11), "service")
    act(made, a, "check_pass", "ivy", at(2, 27, 11, 10))
    act(made, a, "close", "sue", at(3, 2, 9))

    b = reported("B", at(3, 2, 9))
    act(made, b, "file", "otto", at(3, 2, 9, 10))
    handled(b, at(3, 2, 9, 20), at(3, 2, 10, 30), "management")
    act(made, b, "check_pass", "ivy", at(3, 2, 11))
    act(made, b, "close", "sue", at(3, 2, 11, 10))

    c = reported("C", at(3, 10, 9), channel="public", actor_key=None, reporter_phone="13800000001")
    act(made, c, "verify_confirm", "ivy", at(3, 10, 9, 10))
    act(made, c, "file", "otto", at(3, 10, 9, 20))
    handled(c, at(3, 10, 9, 30), at(3, 12, 10), "enforcement")
    act(made, c, "check_pass", "ivy", at(3, 12, 10, 30))
    act(made, c, "close", "sue", at(3, 12, 10, 40))

    clock.move_to(at(3, 3, 10))
    case_rate(case_id=b.pk, satisfaction="satisfied", now=at(3, 3, 10))
    clock.move_to(at(3, 5, 10))
    case_rate(case_id=a.pk, satisfaction="dissatisfied", now=at(3, 5, 10))
    act(made, a, "keep_closed", "sue", at(3, 5, 11), note="已按标准处置，向反映人作了解释")
    clock.move_to(at(3, 13, 10))
    case_rate(case_id=c.pk, satisfaction="basically", now=at(3, 13, 10))

    d = reported("D", at(3, 19, 9), point=WEST_POINT)
    act(made, d, "file", "otto", at(3, 19, 9, 10))
    act(made, d, "dispatch", "dora", at(3, 19, 9, 20), unit_id=made["water"].pk)
    act(made, d, "sign", "hugo", at(3, 19, 9, 30))

    i = reported("I", at(3, 20, 8, 10))
    act(made, i, "file", "otto", at(3, 20, 8, 20))
    act(made, i, "dispatch", "dora", at(3, 20, 8, 30), unit_id=made["municipal"].pk)
    act(made, i, "sign", "hank", at(3, 20, 8, 40))

    e = reported("E", at(3, 20, 9))
    act(made, e, "file", "otto", at(3, 20, 9, 30))

    g = reported("G", at(3, 20, 10), channel="public", actor_key=None, reporter_phone="13800000002")
    act(made, g, "verify_confirm", "ivy", at(3, 20, 10, 10))
    act(made, g, "reject", "otto", at(3, 20, 10, 20), note="不属于受理范围")

    reported("F", at(3, 20, 15, 50), point=WEST_POINT, channel="public", actor_key=None, reporter_phone="13800000003")
    clock.move_to(NOW)
    return cases


class CockpitFigureTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.made = build_people()
        with time_machine.travel(at(2, 27, 10), tick=False) as clock:
            cls.cases = build_history(cls.made, clock)

    def setUp(self):
        traveller = time_machine.travel(NOW, tick=False)
        traveller.start()
        self.addCleanup(traveller.stop)

    def test_the_history_is_as_the_table_says(self):
        status = {key: Case.objects.get(pk=case.pk).status for key, case in self.cases.items()}
        self.assertEqual(
            status,
            {
                "A": Status.CLOSED,
                "B": Status.CLOSED,
                "C": Status.CLOSED,
                "D": Status.PROCESSING,
                "E": Status.FILED,
                "F": Status.VERIFYING,
                "G": Status.REJECTED,
                "I": Status.PROCESSING,
            },
        )

    def test_it_counts_today_this_month_and_now_for_the_whole_county(self):
        counts = cockpit_data(self.made["lea"])["counts"]
        self.assertEqual(
            counts,
            {
                "reported_today": 4,  # E, F, G, I
                "reported_month": 7,  # B, C, D and today's four
                "filed_today": 2,  # I, E (G was rejected, F waits)
                "filed_month": 5,  # B, C, D, I, E
                "closed_today": 0,  # G's 不予立案 is no closure
                "closed_month": 3,  # A (reported in February), B, C
                "open": 4,  # D, E, F, I
                "overdue": 3,  # D, E, I; F's verification is due at 16:50
                "undispatched": 2,  # E waits for dispatch, F for verification
                "undispatched_overdue": 1,  # E
                "closure_rate": 40.0,  # B, C of the five filed this month
                "on_time_rate": 20.0,  # B; C's handling ran late
                "cohort": {"filed": 5, "closed": 2, "on_time": 1},
            },
        )

    def test_today_starts_at_midnight_beijing_time(self):
        # 2026-03-20 00:30 in Beijing is still the 19th in UTC: D (19th, 09:00) is yesterday.
        with time_machine.travel(at(3, 20, 0, 30), tick=False):
            counts = cockpit_data(self.made["lea"])["counts"]
        self.assertEqual((counts["reported_today"], counts["reported_month"]), (0, 3))  # B, C, D
        # 2026-03-01 00:30 in Beijing is February in UTC: March has started, with nothing in it.
        with time_machine.travel(at(3, 1, 0, 30), tick=False):
            counts = cockpit_data(self.made["lea"])["counts"]
        self.assertEqual((counts["reported_month"], counts["closed_month"], counts["closure_rate"]), (0, 0, None))

    def test_it_lists_open_and_overdue_cases_by_unit(self):
        units = cockpit_data(self.made["lea"])["units"]
        # E and F are at the centres (not dispatched): the busiest row, first.
        self.assertEqual(units[0], {"name": "未派遣（中心）", "open": 2, "overdue": 1, "centre": True})
        self.assertEqual(
            sorted(units[1:], key=lambda u: u["name"]),
            [{"name": "市政所", "open": 1, "overdue": 1}, {"name": "自来水公司", "open": 1, "overdue": 1}],
        )

    def test_it_draws_thirty_days_of_reports_and_closures(self):
        trend = cockpit_data(self.made["lea"])["trend"]
        self.assertEqual(len(trend["days"]), 30)
        self.assertEqual((trend["days"][0], trend["days"][-1]), ("2026-02-19", "2026-03-20"))
        reported = {day: n for day, n in zip(trend["days"], trend["reported"], strict=True) if n}
        closed = {day: n for day, n in zip(trend["days"], trend["closed"], strict=True) if n}
        self.assertEqual(
            reported, {"2026-02-27": 1, "2026-03-02": 1, "2026-03-10": 1, "2026-03-19": 1, "2026-03-20": 4}
        )
        self.assertEqual(closed, {"2026-03-02": 2, "2026-03-12": 1})

    def test_it_counts_this_months_categories_and_channels(self):
        data = cockpit_data(self.made["lea"])
        self.assertEqual(data["categories"], [{"id": self.made["category"].pk, "name": "道路破损", "count": 7}])
        self.assertEqual(
            data["channels"],
            [
                {"key": "inspector", "name": "监督员上报", "count": 4},  # B, D, E, I
                {"key": "public", "name": "公众上报", "count": 3},  # C, F, G
            ],
        )

    def test_it_rates_satisfaction_per_month_with_basically_satisfied_counted(self):
        s = cockpit_data(self.made["lea"])["satisfaction"]
        self.assertEqual((s["months"][0], s["months"][-1], len(s["months"])), ("2025-04", "2026-03", 12))
        self.assertEqual((s["rated"][-1], s["satisfied"][-1], s["rate"][-1]), (3, 2, 66.7))  # B 满意, C 基本满意
        self.assertEqual((s["rated"][:-1], s["rate"][:-1]), ([0] * 11, [None] * 11))
        self.assertEqual((s["target"], s["basically_counts"]), (95.0, True))

    def test_basically_satisfied_can_be_left_out(self):
        EvaluationSettings.objects.update_or_create(pk=1, defaults={"basically_satisfied_counts": False})
        s = cockpit_data(self.made["lea"])["satisfaction"]
        self.assertEqual((s["rated"][-1], s["satisfied"][-1], s["rate"][-1]), (3, 1, 33.3))
        self.assertIs(s["basically_counts"], False)

    def test_it_splits_this_years_closures_by_resolution_mode(self):
        r = cockpit_data(self.made["lea"])["resolution"]
        self.assertEqual(
            [(m["key"], m["count"], m["share"], m["target"]) for m in r["modes"]],
            [("service", 1, 33.3, 70), ("management", 1, 33.3, 20), ("enforcement", 1, 33.3, 10)],
        )
        self.assertEqual((r["recorded"], r["unrecorded"]), (3, 0))

    def test_the_targets_are_the_evaluation_settings(self):
        EvaluationSettings.objects.update_or_create(
            pk=1,
            defaults={
                "satisfaction_target": 90,
                "service_target": 60,
                "management_target": 25,
                "enforcement_target": 15,
            },
        )
        data = cockpit_data(self.made["lea"])
        self.assertEqual(data["satisfaction"]["target"], 90.0)
        self.assertEqual([m["target"] for m in data["resolution"]["modes"]], [60.0, 25.0, 15.0])

    def test_it_maps_this_months_reports_per_grid_and_as_points(self):
        m = cockpit_data(self.made["lea"])["map"]
        self.assertEqual(m["grids"], {G1: 5, G4: 2})  # B, C, E, G, I in G1; D, F in G4
        self.assertEqual(len(m["points"]), 7)

    def test_it_counts_each_street(self):
        streets = cockpit_data(self.made["lea"])["streets"]
        self.assertEqual(
            streets,
            [
                # B, C, E, G, I reported this month; E, I open and overdue.
                {"code": "360725100", "name": "东街道", "reported": 5, "open": 2, "overdue": 2},
                # D, F reported this month and open; D overdue.
                {"code": "360725101", "name": "西街道", "reported": 2, "open": 2, "overdue": 1},
            ],
        )

    def test_a_street_office_sees_only_its_street(self):
        data = cockpit_data(self.made["wes"])  # scoped to the west street: D and F
        counts = data["counts"]
        self.assertEqual(
            (counts["reported_today"], counts["reported_month"], counts["filed_month"], counts["closed_month"]),
            (1, 2, 1, 0),
        )
        self.assertEqual((counts["open"], counts["overdue"], counts["closure_rate"]), (2, 1, 0.0))
        self.assertEqual(
            data["units"],
            [
                {"name": "自来水公司", "open": 1, "overdue": 1},  # D
                {"name": "未派遣（中心）", "open": 1, "overdue": 0, "centre": True},  # F
            ],
        )
        self.assertEqual(data["map"]["grids"], {G4: 2})
        self.assertEqual([street["name"] for street in data["streets"]], ["西街道"])
        self.assertEqual(data["satisfaction"]["rated"][-1], 0)
        self.assertEqual(data["resolution"]["recorded"], 0)

    def test_a_department_sees_the_cases_dispatched_to_it(self):
        data = cockpit_data(self.made["hank"])  # municipal: A, B, C, I
        self.assertEqual((data["counts"]["reported_month"], data["counts"]["open"]), (3, 1))
        self.assertEqual(data["satisfaction"]["rated"][-1], 3)
        self.assertEqual(data["resolution"]["recorded"], 3)

    def test_a_misconfigured_scope_sees_nothing(self):
        nobody = User.objects.create_user("nobody", role=Role.LEADER, scope=User.Scope.REGION)  # no region set
        data = cockpit_data(nobody)
        self.assertEqual((data["counts"]["reported_month"], data["counts"]["open"]), (0, 0))
        self.assertEqual((data["units"], data["map"]["grids"]), ([], {}))
        self.assertEqual((data["satisfaction"]["rated"][-1], data["resolution"]["recorded"]), (0, 0))

    def test_its_number_of_queries_does_not_depend_on_the_cases(self):
        with self.assertNumQueries(17):
            cockpit_data(self.made["lea"])
        for _n in range(5):
            report(self.made)
        with self.assertNumQueries(17):
            cockpit_data(self.made["lea"])

"""Every (status, action, role) combination through the service: allowed or refused as the table says.

A case is brought into each status through real actions; each combination then runs in a
savepoint that is rolled back, with every input an action could require supplied, so an
allowed action must succeed and a refused one must raise and write nothing.
"""

from datetime import datetime
from zoneinfo import ZoneInfo

import time_machine
from django.db import transaction
from django.test import TestCase

from civicgrid.cases.models import Case, CaseEvent
from civicgrid.cases.services import ActInput, ActionForbidden, CaseConflict, CaseNotFound, case_act, case_rate
from civicgrid.cases.tests.fixtures import build_people, photo, report
from civicgrid.cases.workflow import TRANSITIONS, Action, Status
from civicgrid.core.models import Role, User

TZ = ZoneInfo("Asia/Shanghai")
START = datetime(2026, 3, 2, 9, 0, tzinfo=TZ)

# Who plays each role: the fixtures' personas, plus an administrator.
PLAYERS = {
    Role.INSPECTOR: "ivy",
    Role.OPERATOR: "otto",
    Role.SHIFT_LEAD: "sue",
    Role.DISPATCHER: "dora",
    Role.HANDLER: "hank",
    Role.LEADER: "lea",
    Role.ADMIN: "ada",
}

# The steps (action, persona, extra input) that bring a fresh inspector's report to a status.
PATHS = {
    Status.PENDING_FILING: [],
    Status.VOID_REQUESTED: [("request_void", "otto", {"note": "重复"})],
    Status.FILED: [("file", "otto", {})],
    Status.DISPATCHED: [("file", "otto", {}), ("dispatch", "dora", {"unit": True})],
    Status.PROCESSING: [("file", "otto", {}), ("dispatch", "dora", {"unit": True}), ("sign", "hank", {})],
}
PROCESSING = PATHS[Status.PROCESSING]
PATHS.update(
    {
        Status.RETURN_REQUESTED: [*PROCESSING, ("request_return", "hank", {"note": "非本单位"})],
        Status.EXTENSION_REQUESTED: [*PROCESSING, ("request_extension", "hank", {"note": "备料", "amount": "2"})],
        Status.DEFERRAL_REQUESTED: [*PROCESSING, ("request_deferral", "hank", {"note": "雨季"})],
        Status.DEFERRED: [
            *PROCESSING,
            ("request_deferral", "hank", {"note": "雨季"}),
            ("approve_deferral", "sue", {}),
        ],
        Status.CHECKING: [*PROCESSING, ("handled", "hank", {"photo": True})],
        Status.PENDING_CLOSE: [*PROCESSING, ("handled", "hank", {"photo": True}), ("check_pass", "ivy", {})],
        Status.CLOSED: [
            *PROCESSING,
            ("handled", "hank", {"photo": True}),
            ("check_pass", "ivy", {}),
            ("close", "sue", {}),
        ],
        Status.REJECTED: [("reject", "otto", {"note": "不属实"})],
        Status.VOIDED: [("request_void", "otto", {"note": "重复"}), ("approve_void", "sue", {})],
    }
)


class EveryCombinationTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.made = made = build_people()
        made["ada"] = User.objects.create_user("ada", role=Role.ADMIN)
        cls.cases: dict[str, Case] = {}
        with time_machine.travel(START, tick=False):
            # An open case to merge duplicates into.
            cls.original = report(made)
            for status, steps in PATHS.items():
                case = report(made)
                for action, who, extra in steps:
                    cls._step(case, action, who, extra)
                case.refresh_from_db()
                assert case.status == status, (status, case.status)
                cls.cases[status] = case
            cls.cases[Status.VERIFYING] = report(made, channel="public", actor_key=None)
            cls.cases[Status.SELF_HANDLED] = report(made, self_handled=True)
            merged = report(made, channel="public", actor_key=None)
            cls._step(merged, "merge", "otto", {"duplicate_of": cls.original.number})
            merged.refresh_from_db()
            cls.cases[Status.MERGED] = merged
            # 不满意待复核: a closed case its reporter rated 不满意 (no staff action leads there).
            review = report(made)
            for action, who, extra in PATHS[Status.CLOSED]:
                cls._step(review, action, who, extra)
            case_rate(case_id=review.pk, satisfaction="dissatisfied", comment="没修好")
            review.refresh_from_db()
            cls.cases[Status.REVIEW] = review

    @classmethod
    def _inputs(cls, case: Case, action: str, extra: dict | None = None) -> ActInput:
        extra = extra or {}
        return ActInput(
            action=action,
            version=case.version,
            note=extra.get("note", "说明"),
            unit_id=cls.made["municipal"].pk,
            amount=extra.get("amount", "1"),
            duplicate_of=cls.original.number,
            resolution_mode="service",
            photos=[photo()] if action == Action.HANDLED else [],
        )

    @classmethod
    def _step(cls, case: Case, action: str, who: str, extra: dict) -> None:
        case.refresh_from_db()
        case_act(case_id=case.pk, data=cls._inputs(case, action, extra), actor=cls.made[who])

    def test_it_covers_every_status(self):
        self.assertEqual(set(self.cases), set(Status))

    def test_it_allows_or_refuses_every_combination_as_the_table_says(self):
        for status, case in self.cases.items():
            for action, row in TRANSITIONS.items():
                for role, who in PLAYERS.items():
                    allowed = status in row.sources and role in row.roles
                    with self.subTest(status=status.value, action=action.value, role=role.value):
                        self._check(case, action, row, who, allowed)

    def _check(self, case, action, row, who, allowed):
        actor = self.made[who]
        case.refresh_from_db()
        events = CaseEvent.objects.filter(case=case).count()
        try:
            with transaction.atomic():
                try:
                    acted = case_act(case_id=case.pk, data=self._inputs(case, action), actor=actor, now=START)
                except (CaseConflict, ActionForbidden, CaseNotFound) as refused:
                    self.assertFalse(allowed, f"refused: {refused.reason}")
                    self.assertEqual(CaseEvent.objects.filter(case=case).count(), events)
                    raise _Rollback from None
                self.assertTrue(allowed, "the table refuses this, the service did it")
                if row.target is None:
                    self.assertEqual(acted.status, case.status)
                elif not row.back:
                    self.assertEqual(acted.status, row.target)
                self.assertEqual(acted.version, case.version + 1)
                raise _Rollback
        except _Rollback:
            pass


class _Rollback(Exception):
    pass

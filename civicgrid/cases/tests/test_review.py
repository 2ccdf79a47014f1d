"""Ratings and the 不满意 review: written out by hand, independent of the transition table.

A reporter rates a closed case (满意 / 基本满意 / 不满意). 不满意 puts the case before the
shift lead (不满意待复核), who reopens it to a unit — it is handled, checked and closed again
and may be rated again — or keeps it closed with a written reply. Personas are those of
civicgrid.cases.tests.fixtures: Ivy the inspector, Otto the operator, Dora the dispatcher,
Hank the municipal department's handler, Sue the shift lead.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import time_machine
from django.test import TestCase

from civicgrid.cases.models import CaseEvent, CaseStage, Rating
from civicgrid.cases.selectors import queue_cases
from civicgrid.cases.services import ActionForbidden, CaseConflict, InvalidInput, case_rate
from civicgrid.cases.tests.fixtures import act, build_people, photo, report
from civicgrid.cases.workflow import Status

TZ = ZoneInfo("Asia/Shanghai")
MONDAY_9 = datetime(2026, 3, 2, 9, 0, tzinfo=TZ)


def hours(n: float) -> datetime:
    return MONDAY_9 + timedelta(hours=n)


class ReviewTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.made = build_people()

    def setUp(self):
        traveller = time_machine.travel(MONDAY_9, tick=False)
        traveller.start()
        self.addCleanup(traveller.stop)

    def closed_case(self):
        made = self.made
        case = report(made, channel="public", actor_key=None)
        act(made, case, "verify_confirm", "ivy", hours(0.5))
        act(made, case, "file", "otto", hours(1))
        act(made, case, "dispatch", "dora", hours(1.5), unit_id=made["municipal"].pk)
        act(made, case, "sign", "hank", hours(2))
        act(made, case, "handled", "hank", hours(3), photos=[photo()])
        act(made, case, "check_pass", "ivy", hours(4))
        case = act(made, case, "close", "sue", hours(5))
        self.assertEqual(case.status, Status.CLOSED)
        return case

    def test_a_satisfied_rating_is_recorded_and_the_case_stays_closed(self):
        case = self.closed_case()
        version = case.version
        rating = case_rate(case_id=case.pk, satisfaction="satisfied", comment=" 很及时 ", now=hours(6))
        case.refresh_from_db()
        self.assertEqual((case.status, case.version), (Status.CLOSED, version))
        self.assertEqual((rating.source, rating.satisfaction, rating.comment), ("portal", "satisfied", "很及时"))
        self.assertEqual(rating.unit, self.made["municipal"])
        event = case.events.last()
        self.assertEqual((event.action, event.actor, event.note, event.at), ("rate", None, "很及时", hours(6)))
        self.assertEqual(event.data, {"satisfaction": "satisfied", "source": "portal"})
        self.assertEqual(rating.event, event)

    def test_a_case_is_rated_once_per_closure_and_only_when_closed(self):
        case = report(self.made, channel="public", actor_key=None)
        with self.assertRaises(CaseConflict):
            case_rate(case_id=case.pk, satisfaction="satisfied")
        case = self.closed_case()
        with self.assertRaises(InvalidInput) as bad:
            case_rate(case_id=case.pk, satisfaction="还行")
        self.assertEqual(bad.exception.field, "satisfaction")
        with self.assertRaises(InvalidInput) as long:
            case_rate(case_id=case.pk, satisfaction="satisfied", comment="好" * 501)
        self.assertEqual(long.exception.field, "comment")
        case_rate(case_id=case.pk, satisfaction="basically", now=hours(6))
        with self.assertRaises(CaseConflict):
            case_rate(case_id=case.pk, satisfaction="dissatisfied", now=hours(7))
        # The hotline's 回访 is another source: it rates the same closure once too.
        case_rate(case_id=case.pk, satisfaction="satisfied", source="hotline", now=hours(7))
        self.assertEqual(Rating.objects.filter(case=case).count(), 2)
        self.assertEqual(CaseEvent.objects.filter(case=case, action="rate").count(), 2)

    def test_dissatisfied_puts_the_case_before_the_shift_lead(self):
        case = self.closed_case()
        case_rate(case_id=case.pk, satisfaction="dissatisfied", comment="坑还在", now=hours(6))
        case.refresh_from_db()
        self.assertEqual(case.status, Status.REVIEW)
        self.assertEqual(case.stage, "close")  # the review runs on the close stage's clock
        event = case.events.last()
        self.assertEqual((event.action, event.from_status, event.to_status), ("dissatisfied", "closed", "review"))
        self.assertIn(case, queue_cases(self.made["sue"], "approve"))
        self.assertNotIn(case, queue_cases(self.made["dora"], "approve"))

    def test_the_shift_lead_reopens_it_to_the_unit_and_it_goes_round_the_loop_again(self):
        made = self.made
        case = self.closed_case()
        first_closed_at = case.closed_at
        case_rate(case_id=case.pk, satisfaction="dissatisfied", comment="坑还在", now=hours(6))
        with self.assertRaises(ActionForbidden):
            act(made, case, "reopen", "otto", hours(7), unit_id=made["municipal"].pk)
        with self.assertRaises(InvalidInput) as no_unit:
            act(made, case, "reopen", "sue", hours(7))
        self.assertEqual(no_unit.exception.field, "unit")
        case = act(made, case, "reopen", "sue", hours(7), unit_id=made["municipal"].pk, note="请重新处置")
        self.assertEqual((case.status, case.handling_unit, case.reopen_count), ("dispatched", made["municipal"], 1))
        self.assertIsNone(case.closed_at)
        self.assertEqual(case.stage, "handle")
        self.assertEqual(case.stage_started_at, hours(7))
        self.assertIn(case, queue_cases(made["hank"], "sign"))

        act(made, case, "sign", "hank", hours(7.5))
        act(made, case, "handled", "hank", hours(8), photos=[photo()])
        act(made, case, "check_pass", "ivy", hours(9))
        case = act(made, case, "close", "sue", hours(10))
        self.assertEqual(case.closed_at, hours(10))
        self.assertNotEqual(case.closed_at, first_closed_at)
        # Closed again: the reporter may rate the new result.
        case_rate(case_id=case.pk, satisfaction="satisfied", now=hours(11))
        self.assertEqual(
            list(Rating.objects.filter(case=case).values_list("satisfaction", flat=True)),
            ["dissatisfied", "satisfied"],
        )
        stages = list(CaseStage.objects.filter(case=case).values_list("stage", flat=True))
        self.assertEqual(stages[-5:], ["close", "close", "handle", "check", "close"])

    def test_the_shift_lead_keeps_it_closed_with_a_written_reply(self):
        made = self.made
        case = self.closed_case()
        closed_at = case.closed_at
        case_rate(case_id=case.pk, satisfaction="dissatisfied", now=hours(6))
        with self.assertRaises(InvalidInput) as no_reply:
            act(made, case, "keep_closed", "sue", hours(7))
        self.assertEqual(no_reply.exception.field, "note")
        case = act(made, case, "keep_closed", "sue", hours(7), note="经复核已按标准处置，感谢监督")
        self.assertEqual((case.status, case.closed_at, case.reopen_count, case.stage), ("closed", closed_at, 0, ""))
        self.assertEqual(case.events.last().note, "经复核已按标准处置，感谢监督")
        self.assertFalse(CaseStage.objects.filter(case=case, ended_at=None).exists())

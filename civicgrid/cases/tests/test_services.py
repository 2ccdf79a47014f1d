"""The closed loop through the service functions, with deadlines checked by hand.

Time is frozen on Monday 2026-03-02, an ordinary working day (windows 08:00–12:00 and
14:30–17:30); every limit of the test category is in working hours (fixtures.LIMITS).
"""

from datetime import datetime
from zoneinfo import ZoneInfo

import time_machine
from django.test import TestCase

from civicgrid.cases.models import Case, CaseEvent, CaseStage, Light
from civicgrid.cases.services import (
    ActInput,
    ActionForbidden,
    CaseConflict,
    CaseNotFound,
    InvalidInput,
    case_act,
    cases_mark_overdue,
)
from civicgrid.cases.tests.fixtures import WEST_POINT, act, build_people, photo, report
from civicgrid.cases.workflow import Status
from civicgrid.geo.tests.fixtures import G1

TZ = ZoneInfo("Asia/Shanghai")


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 3, day, hour, minute, tzinfo=TZ)


class LoopTestCase(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.made = build_people()

    def act(self, case, action, who, when, **kwargs):
        return act(self.made, case, action, who, when, **kwargs)

    def dispatched(self, when=None):
        """An inspector's report filed and dispatched to the municipal department, signed for."""
        with time_machine.travel(at(2, 9), tick=False):
            case = report(self.made)
        self.act(case, "file", "otto", at(2, 9, 10))
        self.act(case, "dispatch", "dora", at(2, 9, 20), unit_id=self.made["municipal"].pk)
        return self.act(case, "sign", "hank", at(2, 9, 30))


class ReportTests(LoopTestCase):
    def test_it_files_an_inspectors_report_directly_with_grid_and_address(self):
        with time_machine.travel(at(2, 9), tick=False):
            case = report(self.made)
        self.assertEqual(case.status, Status.PENDING_FILING)
        self.assertRegex(case.number, r"^360725-2026-\d{6}$")
        self.assertEqual(case.grid.code, G1)
        self.assertEqual((case.community.name, case.street.name), ("东一社区", "东街道"))
        self.assertIn("东街道东一社区", case.address)
        # The file stage has 1 working hour: 09:00 → 10:00, yellow from 09:48.
        self.assertEqual(case.stage, "file")
        self.assertEqual(case.stage_deadline, at(2, 10))
        self.assertEqual(case.stage_warn_at, at(2, 9, 48))

    def test_it_numbers_cases_in_sequence(self):
        with time_machine.travel(at(2, 9), tick=False):
            first, second = report(self.made), report(self.made)
        self.assertEqual(int(second.number[-6:]), int(first.number[-6:]) + 1)

    def test_it_sends_a_public_report_to_the_grids_inspector_for_verification(self):
        with time_machine.travel(at(2, 9), tick=False):
            case = report(self.made, channel="public", actor_key=None, reporter_phone="13812345678")
        self.assertEqual(case.status, Status.VERIFYING)
        self.assertEqual(case.assignee, self.made["ivy"])
        self.assertEqual(case.masked_phone, "138****5678")

    def test_it_refuses_a_point_outside_the_managed_area_and_writes_nothing(self):
        with self.assertRaises(InvalidInput) as refused:
            report(self.made, point=(120.0, 30.0))
        self.assertEqual(refused.exception.field, "lon")
        self.assertEqual(Case.objects.count(), 0)
        self.assertEqual(CaseEvent.objects.count(), 0)

    def test_it_refuses_an_unknown_category(self):
        self.made["category"].pk, pk = 999_999, self.made["category"].pk
        try:
            with self.assertRaises(InvalidInput) as refused:
                report(self.made)
        finally:
            self.made["category"].pk = pk
        self.assertEqual(refused.exception.field, "category")

    def test_it_refuses_the_inspector_channel_to_others(self):
        with self.assertRaises(InvalidInput):
            report(self.made, actor_key="otto")


class HappyPathTests(LoopTestCase):
    def test_it_goes_from_report_to_closure_on_time(self):
        case = self.dispatched()
        # Handle: 4 working hours from 09:20 → 15:50 (09:20–12:00 is 2 h 40, then 1 h 20 after 14:30).
        self.assertEqual(case.stage_deadline, at(2, 15, 50))
        self.act(case, "handled", "hank", at(2, 11), note="已修复", resolution_mode="service", photos=[photo()])
        case.refresh_from_db()
        self.assertEqual(case.status, Status.CHECKING)
        self.assertEqual(case.assignee, self.made["ivy"])
        self.act(case, "check_pass", "ivy", at(2, 11, 30))
        case = self.act(case, "close", "sue", at(2, 11, 40))
        self.assertEqual(case.status, Status.CLOSED)
        self.assertEqual(case.closed_at, at(2, 11, 40))
        self.assertEqual(case.stage, "")
        actions = list(case.events.values_list("action", flat=True))
        self.assertEqual(actions, ["report", "file", "dispatch", "sign", "handled", "check_pass", "close"])
        stages = list(case.stages.values_list("stage", "on_time"))
        self.assertEqual(
            stages, [("file", True), ("dispatch", True), ("handle", True), ("check", True), ("close", True)]
        )
        self.assertEqual(case.version, 7)

    def test_it_needs_an_after_photo_to_report_handling(self):
        # The handled action requires a photo; with none uploaded the service refuses.
        case = self.dispatched()
        case.refresh_from_db()
        with self.assertRaises(InvalidInput) as refused:
            case_act(case_id=case.pk, data=ActInput(action="handled", version=case.version), actor=self.made["hank"])
        self.assertEqual(refused.exception.field, "photos")


class BranchTests(LoopTestCase):
    def test_it_counts_rework_and_restarts_the_handling_clock(self):
        case = self.dispatched()
        self.act(case, "handled", "hank", at(2, 11), photos=[photo()])
        case = self.act(case, "check_fail", "ivy", at(2, 14, 30), note="仍有坑洼")
        self.assertEqual((case.status, case.rework_count), (Status.PROCESSING, 1))
        # A new handle run: 4 working hours from 14:30 → 09:00 the next day (3 h today, then 08:00–09:00).
        self.assertEqual(case.stage_deadline, at(3, 9))
        self.assertEqual(CaseStage.objects.filter(case=case, stage="handle").count(), 2)

    def test_it_returns_a_case_to_dispatch(self):
        case = self.dispatched()
        self.act(case, "request_return", "hank", at(2, 10), note="不属于本单位职责")
        case = self.act(case, "approve_return", "dora", at(2, 10, 30))
        self.assertEqual((case.status, case.return_count, case.handling_unit), (Status.FILED, 1, None))
        self.assertEqual(case.stage, "dispatch")

    def test_it_refuses_a_return_and_keeps_the_unit(self):
        case = self.dispatched()
        self.act(case, "request_return", "hank", at(2, 10), note="不属于本单位职责")
        case = self.act(case, "refuse_return", "dora", at(2, 10, 30), note="属于市政职责")
        self.assertEqual((case.status, case.handling_unit), (Status.PROCESSING, self.made["municipal"]))

    def test_it_moves_the_deadline_by_an_approved_extension(self):
        case = self.dispatched()
        self.act(case, "request_extension", "hank", at(2, 10), note="需要备料", amount="2")
        case = self.act(case, "approve_extension", "sue", at(2, 10, 30))
        # 6 working hours from 09:20: 2 h 40 to noon, then 3 h to 17:30 (5 h 40), then 20 min → 08:20 on the 3rd.
        self.assertEqual(case.stage_deadline, at(3, 8, 20))
        self.assertEqual(case.extension_count, 1)
        self.assertEqual(case.events.get(action="approve_extension").data["amount"], "2")

    def test_it_stops_the_clock_while_deferred(self):
        case = self.dispatched()
        self.act(case, "request_deferral", "hank", at(2, 10), note="待雨季结束")
        case = self.act(case, "approve_deferral", "sue", at(2, 10, 30))
        self.assertEqual(case.status, Status.DEFERRED)
        self.assertEqual(case.light(), Light.PAUSED)
        self.assertIsNone(case.stage_deadline)
        # Paused from 10:30 on the 2nd to 10:30 on the 4th: two whole working days are not counted,
        # so the deadline moves from 15:50 on the 2nd to 15:50 on the 4th.
        case = self.act(case, "resume", "sue", at(4, 10, 30))
        self.assertEqual(case.status, Status.PROCESSING)
        self.assertEqual(case.stage_deadline, at(4, 15, 50))

    def test_it_needs_the_shift_lead_to_void(self):
        with time_machine.travel(at(2, 9), tick=False):
            case = report(self.made)
        self.act(case, "request_void", "otto", at(2, 9, 5), note="重复上报")
        with self.assertRaises(ActionForbidden):
            self.act(case, "approve_void", "otto", at(2, 9, 6))
        case = self.act(case, "approve_void", "sue", at(2, 9, 7))
        self.assertEqual(case.status, Status.VOIDED)
        self.assertFalse(case.stages.filter(ended_at=None).exists())

    def test_it_merges_a_duplicate_with_a_link(self):
        with time_machine.travel(at(2, 9), tick=False):
            original = report(self.made)
            duplicate = report(self.made, channel="public", actor_key=None, reporter_name="王先生")
        case = self.act(duplicate, "merge", "otto", at(2, 9, 5), duplicate_of=original.number)
        self.assertEqual((case.status, case.duplicate_of), (Status.MERGED, original))

    def test_it_closes_a_self_handled_case_after_review(self):
        with time_machine.travel(at(2, 9), tick=False):
            case = report(self.made, self_handled=True)
        self.assertEqual(case.status, Status.SELF_HANDLED)
        case = self.act(case, "approve_self_handled", "otto", at(2, 9, 30))
        self.assertEqual(case.status, Status.CLOSED)

    def test_it_marks_supervision_and_reminders_without_changing_the_status(self):
        case = self.dispatched()
        self.act(case, "supervise", "lea", at(2, 10), note="尽快处置")
        case = self.act(case, "remind", "otto", at(2, 10, 5))
        self.assertEqual((case.status, case.supervised, case.remind_count), (Status.PROCESSING, True, 1))


class RefusalTests(LoopTestCase):
    def test_it_refuses_a_stale_version_with_the_current_state(self):
        case = self.dispatched()
        stale = case.version - 1
        with self.assertRaises(CaseConflict) as conflict:
            case_act(case_id=case.pk, data=ActInput(action="remind", version=stale), actor=self.made["otto"])
        self.assertEqual((conflict.exception.current_status, conflict.exception.current_version), ("processing", 4))

    def test_it_refuses_a_wrong_status_as_a_conflict(self):
        case = self.dispatched()
        with self.assertRaises(CaseConflict):
            self.act(case, "dispatch", "dora", at(2, 10), unit_id=self.made["municipal"].pk)

    def test_it_refuses_a_wrong_role(self):
        case = self.dispatched()
        with self.assertRaises(ActionForbidden):
            self.act(case, "request_extension", "otto", at(2, 10), note="x", amount="1")

    def test_it_refuses_a_handler_of_another_unit(self):
        case = self.dispatched()
        with self.assertRaises(CaseNotFound):  # Hugo's unit scope does not even see the case
            self.act(case, "request_return", "hugo", at(2, 10), note="x")

    def test_it_hides_another_streets_case(self):
        case = self.dispatched()
        with self.assertRaises(CaseNotFound):
            self.act(case, "remind", "wes", at(2, 10))

    def test_it_requires_a_reason_and_writes_nothing_without_one(self):
        case = self.dispatched()
        events = CaseEvent.objects.count()
        with self.assertRaises(InvalidInput) as refused:
            self.act(case, "request_return", "hank", at(2, 10), note="  ")
        self.assertEqual(refused.exception.field, "note")
        case.refresh_from_db()
        self.assertEqual((case.status, case.version, CaseEvent.objects.count()), (Status.PROCESSING, 4, events))

    def test_it_requires_a_unit_to_dispatch(self):
        with time_machine.travel(at(2, 9), tick=False):
            case = report(self.made)
        self.act(case, "file", "otto", at(2, 9, 10))
        with self.assertRaises(InvalidInput) as refused:
            self.act(case, "dispatch", "dora", at(2, 9, 20))
        self.assertEqual(refused.exception.field, "unit")


class ScopeTests(LoopTestCase):
    def test_it_shows_a_street_office_only_its_streets_cases(self):
        with time_machine.travel(at(2, 9), tick=False):
            east = report(self.made)
            west = report(self.made, channel="public", actor_key=None, point=WEST_POINT)
        visible = set(Case.objects.visible_to(self.made["wes"]))
        self.assertEqual(visible, {west})
        self.assertNotIn(east, visible)

    def test_it_shows_a_department_only_what_was_dispatched_to_it(self):
        case = self.dispatched()
        self.assertEqual(list(Case.objects.visible_to(self.made["hank"])), [case])
        self.assertEqual(list(Case.objects.visible_to(self.made["hugo"])), [])


class LightAndSweepTests(LoopTestCase):
    def test_it_turns_yellow_at_80_percent_and_red_when_overdue(self):
        case = self.dispatched()  # handle: 09:20 → 15:50, 4 h; 80 % is 3 h 12 → 15:02 (2 h 40 + 32 min)
        self.assertEqual(case.stage_warn_at, at(2, 15, 2))
        self.assertEqual(case.light(at(2, 15)), Light.GREEN)
        self.assertEqual(case.light(at(2, 15, 10)), Light.YELLOW)
        self.assertEqual(case.light(at(2, 15, 50)), Light.RED)

    def test_it_marks_overdue_cases_once(self):
        case = self.dispatched()
        self.assertEqual(cases_mark_overdue(at(2, 15)), 0)
        self.assertEqual(cases_mark_overdue(at(2, 16)), 1)
        self.assertEqual(cases_mark_overdue(at(2, 17)), 0)
        case.refresh_from_db()
        self.assertIs(case.overdue_marked, True)
        self.assertIn(case, Case.objects.overdue(at(2, 16)))


class AttachmentTests(LoopTestCase):
    def test_it_stores_the_after_photo_with_a_thumbnail(self):
        case = self.dispatched()
        self.act(case, "handled", "hank", at(2, 11), photos=[photo()])
        attachment = case.attachments.get()
        self.assertEqual((attachment.kind, attachment.content_type), ("after", "image/jpeg"))
        self.assertTrue(attachment.thumbnail.name)
        self.assertEqual(attachment.event.action, "handled")

    def test_it_refuses_a_fake_image_and_writes_nothing(self):
        from django.core.files.uploadedfile import SimpleUploadedFile

        case = self.dispatched()
        fake = SimpleUploadedFile("after.jpg", b"not an image at all", content_type="image/jpeg")
        with self.assertRaises(InvalidInput) as refused:
            self.act(case, "handled", "hank", at(2, 11), photos=[fake])
        self.assertEqual(refused.exception.field, "photos")
        case.refresh_from_db()
        self.assertEqual((case.status, case.attachments.count()), (Status.PROCESSING, 0))
        self.assertFalse(case.events.filter(action="handled").exists())


class RefusalGoesBackTests(LoopTestCase):
    def test_it_sends_a_refused_return_back_to_signing_when_asked_before_signing(self):
        with time_machine.travel(at(2, 9), tick=False):
            case = report(self.made)
        self.act(case, "file", "otto", at(2, 9, 10))
        self.act(case, "dispatch", "dora", at(2, 9, 20), unit_id=self.made["municipal"].pk)
        self.act(case, "request_return", "hank", at(2, 9, 25), note="不属于本单位")
        case = self.act(case, "refuse_return", "dora", at(2, 9, 30), note="属于市政")
        self.assertEqual(case.status, Status.DISPATCHED)


class DispatchTargetTests(LoopTestCase):
    def test_it_dispatches_only_to_a_handling_unit(self):
        from civicgrid.core.models import OrgUnit

        with time_machine.travel(at(2, 9), tick=False):
            case = report(self.made)
        self.act(case, "file", "otto", at(2, 9, 10))
        center = OrgUnit.objects.get(code="C02")  # the command center itself
        with self.assertRaises(InvalidInput) as refused:
            self.act(case, "dispatch", "dora", at(2, 9, 20), unit_id=center.pk)
        self.assertEqual(refused.exception.field, "unit")

"""Case events and deadlines become notifications, each once.

Time is Monday 2026-03-02 (working windows 08:00–12:00 and 14:30–17:30), as in
civicgrid.cases.tests.test_services: a case dispatched at 09:20 must be handled by 15:50 and
turns yellow at 15:10.
"""

from datetime import datetime
from zoneinfo import ZoneInfo

import time_machine
from django.core.exceptions import ValidationError
from django.db.models import Max
from django.test import TestCase, override_settings

from civicgrid.cases.models import CaseEvent
from civicgrid.cases.tests.fixtures import WEST_POINT, act, build_people, photo, report
from civicgrid.notifications.jobs import notifications_scan_deadlines, notifications_scan_events
from civicgrid.notifications.models import Kind, MessageTemplate, Notification, ScanMark
from civicgrid.notifications.services import citizen_subscribe

TZ = ZoneInfo("Asia/Shanghai")


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 3, day, hour, minute, tzinfo=TZ)


class ScanTestCase(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.made = build_people()

    def act(self, case, action, who, when, **kwargs):
        return act(self.made, case, action, who, when, **kwargs)

    def reported(self, **kwargs):
        with time_machine.travel(at(2, 9), tick=False):
            return report(self.made, **kwargs)

    def dispatched(self):
        case = self.reported()
        self.act(case, "file", "otto", at(2, 9, 10))
        return self.act(case, "dispatch", "dora", at(2, 9, 20), unit_id=self.made["municipal"].pk)

    def to(self, user_key, kind=None):
        qs = Notification.objects.filter(user=self.made[user_key])
        return qs.filter(kind=kind) if kind else qs


class EventScanTests(ScanTestCase):
    def test_a_dispatched_case_tells_the_units_handlers_once(self):
        case = self.dispatched()
        self.assertGreater(notifications_scan_events(now=at(2, 9, 21)), 0)
        notifications_scan_events(now=at(2, 9, 22))
        told = Notification.objects.filter(kind=Kind.TASK, case=case)
        self.assertEqual([n.user.username for n in told], ["hank"])
        self.assertIn(case.number, told[0].body)
        self.assertIn("待签收", told[0].body)
        # Hugo handles for another unit; the filing was overtaken by the dispatch.
        self.assertFalse(self.to("hugo").exists())
        self.assertFalse(self.to("dora").exists())

    def test_a_filed_case_tells_the_dispatchers_but_not_the_actor(self):
        case = self.reported()
        self.act(case, "file", "otto", at(2, 9, 10))
        notifications_scan_events(now=at(2, 9, 11))
        self.assertEqual(self.to("dora", Kind.TASK).count(), 1)
        self.assertFalse(self.to("otto").filter(kind=Kind.TASK, case=case, context__status="待派遣").exists())

    def test_a_street_office_operator_hears_only_of_cases_in_their_street(self):
        east = self.reported()
        west = self.reported(point=WEST_POINT)
        notifications_scan_events(now=at(2, 9, 1))
        self.assertEqual(set(self.to("otto", Kind.TASK).values_list("case", flat=True)), {east.pk, west.pk})
        self.assertEqual(list(self.to("wes", Kind.TASK).values_list("case", flat=True)), [west.pk])
        # The reporting inspector is not told of her own report.
        self.assertFalse(self.to("ivy").exists())

    def test_a_remind_tells_the_handling_unit(self):
        case = self.dispatched()
        self.act(case, "sign", "hank", at(2, 9, 30))
        notifications_scan_events(now=at(2, 9, 31))
        self.act(case, "remind", "dora", at(2, 10))
        notifications_scan_events(now=at(2, 10, 1))
        notifications_scan_events(now=at(2, 10, 2))
        reminded = self.to("hank", Kind.REMIND)
        self.assertEqual(reminded.count(), 1)
        self.assertIn("第 1 次", reminded[0].body)

    def test_events_older_than_the_age_limit_tell_nobody(self):
        self.dispatched()
        self.assertEqual(notifications_scan_events(now=at(5, 9)), 0)

    def test_an_event_committed_late_below_the_watermark_is_still_read(self):
        case = self.act(self.dispatched(), "sign", "hank", at(2, 9, 30))
        notifications_scan_events(now=at(2, 9, 31))
        base = CaseEvent.objects.aggregate(m=Max("id"))["m"]
        same = {"case": case, "from_status": case.status, "to_status": case.status, "at": at(2, 9, 40)}
        # Id base + 1 was taken by a transaction that commits after base + 2 has been read.
        CaseEvent.objects.create(pk=base + 2, action="attach", **same)
        notifications_scan_events(now=at(2, 9, 41))
        self.assertEqual(list(ScanMark.objects.get(name="events").gaps), [str(base + 1)])
        CaseEvent.objects.create(pk=base + 1, action="remind", actor=self.made["dora"], **same)
        notifications_scan_events(now=at(2, 9, 42))
        self.assertEqual(self.to("hank", Kind.REMIND).count(), 1)
        self.assertEqual(ScanMark.objects.get(name="events").gaps, {})


class DeadlineScanTests(ScanTestCase):
    def test_a_case_turning_yellow_then_red_notifies_each_once(self):
        case = self.dispatched()
        self.act(case, "sign", "hank", at(2, 9, 30))
        self.assertEqual(notifications_scan_deadlines(now=at(2, 15)), 0)
        self.assertEqual(notifications_scan_deadlines(now=at(2, 15, 11)), 1)
        self.assertEqual(notifications_scan_deadlines(now=at(2, 15, 20)), 0)
        self.assertEqual(notifications_scan_deadlines(now=at(2, 15, 51)), 1)
        self.assertEqual(notifications_scan_deadlines(now=at(2, 16)), 0)
        kinds = list(self.to("hank").order_by("id").values_list("kind", flat=True))
        self.assertEqual(kinds, [Kind.DEADLINE_YELLOW, Kind.DEADLINE_RED])
        self.assertIn("15:50", self.to("hank", Kind.DEADLINE_RED).get().body)

    def test_the_same_stage_run_is_not_told_twice_when_scans_overlap(self):
        case = self.dispatched()
        self.act(case, "sign", "hank", at(2, 9, 30))
        notifications_scan_deadlines(now=at(2, 15, 51))
        ScanMark.objects.filter(name="deadlines").update(last_at=at(2, 15))
        self.assertEqual(notifications_scan_deadlines(now=at(2, 15, 52)), 0)
        self.assertEqual(self.to("hank").count(), 1)


class TemplateTests(ScanTestCase):
    def test_an_admin_edited_template_changes_the_text(self):
        case = self.dispatched()
        MessageTemplate.objects.update_or_create(
            key=Kind.TASK,
            channel="",
            language="zh-hans",
            defaults={"subject": "任务", "body": "请签收 {{ case_number }}！"},
        )
        notifications_scan_events(now=at(2, 9, 21))
        self.assertEqual(self.to("hank", Kind.TASK).get().body, f"请签收 {case.number}！")

    def test_a_broken_template_falls_back_to_the_default(self):
        self.dispatched()
        MessageTemplate.objects.update_or_create(
            key=Kind.TASK, channel="", language="zh-hans", defaults={"subject": "x", "body": "{% if %}"}
        )
        with self.assertLogs("civicgrid.notifications.templates", "ERROR"):
            notifications_scan_events(now=at(2, 9, 21))
        self.assertIn("请及时处理", self.to("hank", Kind.TASK).get().body)

    def test_a_template_cannot_load_other_templates(self):
        template = MessageTemplate(key=Kind.TASK, language="zh-hans", body="{% load static %}")
        with self.assertRaises(ValidationError):
            template.clean()

    @override_settings(CIVICGRID_NOTIFY_STAFF_CHANNELS=["inapp", "sms", "email"])
    def test_staff_get_the_channels_they_have_an_address_for(self):
        hank = self.made["hank"]
        hank.phone = "13900001111"
        hank.save(update_fields=["phone"])
        self.dispatched()
        notifications_scan_events(now=at(2, 9, 21))
        self.assertEqual(set(self.to("hank").values_list("channel", flat=True)), {"inapp", "sms"})


class CitizenTests(ScanTestCase):
    def test_a_citizen_opted_into_closed_hears_of_closure_and_not_of_filing(self):
        case = self.reported(channel="public", actor_key=None, reporter_phone="13812345678")
        citizen_subscribe(case, phone="13812345678", statuses=["closed"])
        self.act(case, "verify_confirm", "ivy", at(2, 9, 5))
        self.act(case, "file", "otto", at(2, 9, 10))
        notifications_scan_events(now=at(2, 9, 11))
        self.assertFalse(Notification.objects.filter(kind=Kind.CITIZEN_STATUS).exists())
        self.act(case, "dispatch", "dora", at(2, 9, 20), unit_id=self.made["municipal"].pk)
        self.act(case, "sign", "hank", at(2, 9, 30))
        self.act(case, "handled", "hank", at(2, 11), photos=[photo()])
        self.act(case, "check_pass", "ivy", at(2, 11, 30))
        self.act(case, "close", "sue", at(2, 11, 40))
        notifications_scan_events(now=at(2, 11, 41))
        told = Notification.objects.get(kind=Kind.CITIZEN_STATUS)
        self.assertEqual((told.channel, told.phone), ("sms", "13812345678"))
        self.assertIn("已处理完毕并结案", told.body)
        # Honest, public wording: no staff or unit names.
        for name in ("hank", "sue", "市政所"):
            self.assertNotIn(name, told.body)

    def test_it_refuses_a_subscription_without_an_address_or_with_unknown_statuses(self):
        case = self.reported()
        with self.assertRaises(ValidationError):
            citizen_subscribe(case)
        with self.assertRaises(ValidationError):
            citizen_subscribe(case, email="a@example.com", statuses=["processing"])
        self.assertEqual(citizen_subscribe(case, email="a@example.com").statuses[-1], "rejected")

"""The 12345 exchange end to end: orders in, callbacks out through a fake hotline, 回访 in."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.test import TestCase, override_settings
from django.urls import reverse
from django.utils import timezone

from civicgrid.cases.models import Case, Channel, Rating
from civicgrid.cases.tests.fixtures import EAST_POINT, act, build_people, photo, report
from civicgrid.cases.workflow import Status
from civicgrid.hotline.fake import FakeHotline
from civicgrid.hotline.models import Callback, VisitResult, WorkOrder
from civicgrid.hotline.selectors import hotline_satisfaction
from civicgrid.hotline.services import backoff, hotline_callbacks_queue, hotline_callbacks_send

TZ = ZoneInfo("Asia/Shanghai")
TOKEN = "s3cret-hotline"


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 3, day, hour, minute, tzinfo=TZ)


@override_settings(CIVICGRID_HOTLINE_TOKEN=TOKEN, CIVICGRID_HOTLINE_CALLBACK_URL="")
class HotlineTestCase(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.made = build_people()

    def order(self, order_id="GD-2026-0001", **fields) -> dict:
        return {
            "order_id": order_id,
            "content": "小区门口路面塌陷，车辆无法通行",
            "address": "东一社区幸福路 12 号",
            "lon": EAST_POINT[0],
            "lat": EAST_POINT[1],
            "category": self.made["category"].pk,
            "caller_name": "王女士",
            "caller_phone": "13800001111",
            "received_at": "2026-03-02T08:55:00+08:00",
            **fields,
        }

    def post(self, url, body, token=TOKEN):
        headers = {"X-Hotline-Token": token} if token else {}
        return self.client.post(url, json.dumps(body), content_type="application/json", headers=headers)

    def post_order(self, body, token=TOKEN):
        return self.post(reverse("hotline:orders"), body, token)

    def post_visit(self, order_id, body, token=TOKEN):
        return self.post(reverse("hotline:visits", args=[order_id]), body, token)

    def act(self, case, action, who, when, **kwargs):
        return act(self.made, case, action, who, when, **kwargs)


class InboundOrderTests(HotlineTestCase):
    def test_an_order_posted_twice_makes_one_case(self):
        first = self.post_order(self.order())
        second = self.post_order(self.order(content="重复推送"))
        self.assertEqual((first.status_code, second.status_code), (201, 200))
        self.assertEqual(first.json()["case_number"], second.json()["case_number"])
        self.assertEqual((first.json()["created"], second.json()["created"]), (True, False))
        self.assertEqual(Case.objects.count(), 1)
        case = Case.objects.get()
        self.assertEqual((case.channel, case.external_id), (Channel.HOTLINE, "GD-2026-0001"))
        self.assertEqual((case.reporter_name, case.reporter_phone), ("王女士", "13800001111"))
        self.assertEqual(case.status, Status.VERIFYING)  # verified on site like any non-inspector report
        order = WorkOrder.objects.get()
        self.assertEqual(order.case, case)
        self.assertEqual(order.called_at, at(2, 8, 55))
        self.assertEqual(order.payload["content"], "小区门口路面塌陷，车辆无法通行")

    def test_it_takes_the_category_by_name_and_places_an_address_without_coordinates(self):
        response = self.post_order(self.order(lon=None, lat=None, category="道路破损"))
        self.assertEqual(response.status_code, 201, response.content)
        case = Case.objects.get()
        self.assertEqual(case.community.name, "东一社区")
        self.assertEqual(case.category, self.made["category"])

    def test_a_missing_or_wrong_token_is_refused(self):
        self.assertEqual(self.post_order(self.order(), token="").status_code, 401)
        wrong = self.post_order(self.order(), token="guess")
        self.assertEqual(wrong.status_code, 403)
        self.assertEqual(wrong.json()["error"]["field"], "X-Hotline-Token")
        with override_settings(CIVICGRID_HOTLINE_TOKEN=""):  # not configured: the API is off
            self.assertEqual(self.post_order(self.order()).status_code, 403)
        self.assertFalse(Case.objects.exists())

    def test_bad_input_names_the_field_and_writes_nothing(self):
        cases = [
            ({"order_id": ""}, "order_id"),
            ({"content": " "}, "content"),
            ({"category": 999999}, "category"),
            ({"category": None}, "category"),
            ({"lon": "east", "lat": 1}, "lon"),
            ({"lon": 120.0, "lat": 40.0}, "lon"),  # outside the managed area
            ({"lon": None, "lat": None, "address": "火星某路"}, "address"),
            ({"crs": "mars"}, "crs"),
            ({"received_at": "yesterday"}, "received_at"),
            ({"caller_phone": "1" * 21}, "caller_phone"),
        ]
        for change, field in cases:
            with self.subTest(field=field, change=change):
                response = self.post_order(self.order(**change))
                self.assertEqual(response.status_code, 400, response.content)
                body = response.json()
                self.assertEqual(body["error"]["field"], field)
                self.assertTrue(body["error"]["reason"])
        not_json = self.client.post(
            reverse("hotline:orders"), "{", content_type="application/json", headers={"X-Hotline-Token": TOKEN}
        )
        self.assertEqual(not_json.status_code, 400)
        self.assertEqual(
            self.client.get(reverse("hotline:orders"), headers={"X-Hotline-Token": TOKEN}).status_code, 405
        )
        self.assertFalse(Case.objects.exists())
        self.assertFalse(WorkOrder.objects.exists())


class CallbackTests(HotlineTestCase):
    def walk(self, case):
        """Verified, filed, dispatched, signed, returned, dispatched and signed again, handled, closed."""
        self.act(case, "verify_confirm", "ivy", at(2, 9, 5))
        self.act(case, "file", "otto", at(2, 9, 10))
        self.act(case, "dispatch", "dora", at(2, 9, 20), unit_id=self.made["municipal"].pk)
        self.act(case, "sign", "hank", at(2, 9, 30))
        self.act(case, "request_return", "hank", at(2, 9, 40), note="不属本单位职责")
        self.act(case, "approve_return", "dora", at(2, 9, 50))
        self.act(case, "dispatch", "dora", at(2, 10), unit_id=self.made["municipal"].pk)
        self.act(case, "sign", "hank", at(2, 10, 10))
        self.act(case, "handled", "hank", at(2, 11), note="已修复", photos=[photo()])
        self.act(case, "check_pass", "ivy", at(2, 11, 30))
        return self.act(case, "close", "sue", at(2, 11, 40))

    def test_callbacks_are_retried_with_backoff_until_the_fake_hotline_accepts_them(self):
        self.post_order(self.order())
        case = self.walk(Case.objects.get())
        self.assertEqual(case.status, Status.CLOSED)
        # Nothing is owed for a hotline order not yet signed for, or for another channel's case.
        self.assertEqual(self.post_order(self.order("GD-2026-0002")).status_code, 201)
        other = report(self.made, created_at=at(2, 9))
        self.act(other, "file", "otto", at(2, 9, 10))
        self.act(other, "dispatch", "dora", at(2, 9, 20), unit_id=self.made["municipal"].pk)
        self.act(other, "sign", "hank", at(2, 9, 30))

        self.assertEqual(hotline_callbacks_queue(), 5)
        self.assertEqual(hotline_callbacks_queue(), 0)  # each event is queued once
        kinds = list(Callback.objects.order_by("id").values_list("kind", flat=True))
        self.assertEqual(kinds, ["sign", "return", "sign", "result", "close"])

        with FakeHotline(fail_first=2) as hotline, override_settings(CIVICGRID_HOTLINE_CALLBACK_URL=hotline.url):
            t0 = timezone.now() + timedelta(seconds=1)
            self.assertEqual(hotline_callbacks_send(now=t0), 0)  # 503: retry in a minute
            first = Callback.objects.order_by("id").first()
            self.assertEqual((first.attempts, first.status), (1, Callback.Status.PENDING))
            self.assertEqual(first.next_attempt_at, t0 + timedelta(minutes=1))
            self.assertIn("503", first.last_error)
            # Not yet due; the case's later callbacks wait behind its first.
            self.assertEqual(hotline_callbacks_send(now=t0 + timedelta(seconds=59)), 0)
            self.assertEqual(hotline.attempts, 1)
            t1 = t0 + timedelta(minutes=1)
            self.assertEqual(hotline_callbacks_send(now=t1), 0)  # 503 again: retry in two minutes
            first.refresh_from_db()
            self.assertEqual((first.attempts, first.next_attempt_at), (2, t1 + timedelta(minutes=2)))
            self.assertEqual(hotline_callbacks_send(now=t1 + timedelta(minutes=1)), 0)
            self.assertEqual(hotline_callbacks_send(now=t1 + timedelta(minutes=2)), 5)
            self.assertEqual(hotline_callbacks_send(now=t1 + timedelta(minutes=3)), 0)

        self.assertEqual([body["kind"] for body in hotline.received], ["sign", "return", "sign", "result", "close"])
        self.assertEqual({body["order_id"] for body in hotline.received}, {"GD-2026-0001"})
        self.assertEqual(hotline.received[-1]["status"], Status.CLOSED)
        self.assertEqual(hotline.received[3]["note"], "已修复")
        log = Callback.objects.order_by("id")
        self.assertEqual([c.status for c in log], [Callback.Status.DELIVERED] * 5)
        self.assertEqual([c.attempts for c in log], [3, 1, 1, 1, 1])
        self.assertEqual(log[0].last_error, "")

    def test_a_callback_gives_up_after_the_last_attempt_and_retry_now_revives_it(self):
        self.post_order(self.order())
        case = Case.objects.get()
        self.act(case, "verify_confirm", "ivy", at(2, 9, 5))
        self.act(case, "file", "otto", at(2, 9, 10))
        self.act(case, "dispatch", "dora", at(2, 9, 20), unit_id=self.made["municipal"].pk)
        self.act(case, "sign", "hank", at(2, 9, 30))
        self.assertEqual(hotline_callbacks_queue(), 1)
        with (
            FakeHotline(fail_first=99) as hotline,
            override_settings(CIVICGRID_HOTLINE_CALLBACK_URL=hotline.url, CIVICGRID_HOTLINE_MAX_ATTEMPTS=3),
        ):
            now = timezone.now() + timedelta(seconds=1)
            for _attempt in range(3):
                hotline_callbacks_send(now=now)
                now += timedelta(hours=1)
            callback = Callback.objects.get()
            self.assertEqual((callback.status, callback.attempts), (Callback.Status.FAILED, 3))
            self.assertEqual(hotline_callbacks_send(now=now), 0)
            self.assertEqual(hotline.attempts, 3)

            hotline.fail_first = 0
            self.client.force_login(self._admin())
            response = self.client.post(
                reverse("admin:hotline_callback_changelist"),
                {"action": "retry_now", "_selected_action": [callback.pk]},
                follow=True,
            )
            self.assertEqual(response.status_code, 200)
            callback.refresh_from_db()
            self.assertEqual((callback.status, callback.attempts), (Callback.Status.DELIVERED, 4))
            self.assertEqual(len(hotline.received), 1)
            log = self.client.get(reverse("admin:hotline_callback_changelist") + "?status=delivered")
            self.assertContains(log, case.number)

    def _admin(self):
        from civicgrid.core.models import User

        return User.objects.create_superuser("root", password="x")

    def test_backoff_doubles_up_to_an_hour(self):
        minutes = [backoff(n).total_seconds() / 60 for n in range(1, 9)]
        self.assertEqual(minutes, [1, 2, 4, 8, 16, 32, 60, 60])

    def test_without_a_callback_url_callbacks_wait_in_the_queue(self):
        self.post_order(self.order())
        case = Case.objects.get()
        self.act(case, "verify_confirm", "ivy", at(2, 9, 5))
        self.act(case, "reject", "otto", at(2, 9, 10), note="非城管职责")
        self.assertEqual(hotline_callbacks_queue(), 1)
        self.assertEqual(hotline_callbacks_send(), 0)
        callback = Callback.objects.get()
        self.assertEqual((callback.kind, callback.status, callback.attempts), ("return", "pending", 0))


class VisitTests(HotlineTestCase):
    def test_a_visit_result_changes_the_satisfaction_figures(self):
        self.post_order(self.order("A"))
        self.post_order(self.order("B"))
        self.assertEqual(hotline_satisfaction().total, 0)
        self.assertIsNone(hotline_satisfaction().rate)

        response = self.post_visit("A", {"satisfaction": "满意", "visited_at": "2026-03-03T10:00:00+08:00"})
        self.assertEqual(response.status_code, 201, response.content)
        self.assertEqual(hotline_satisfaction().rate, Decimal("100.0"))

        response = self.post_visit("B", {"satisfaction": "不满意", "note": "坑还在", "visit_id": "V1"})
        self.assertEqual(response.status_code, 201)
        figures = hotline_satisfaction()
        self.assertEqual((figures.satisfied, figures.dissatisfied, figures.total), (1, 1, 2))
        self.assertEqual(figures.rate, Decimal("50.0"))
        # The same visit sent again is recorded once.
        self.assertEqual(self.post_visit("B", {"satisfaction": "不满意", "visit_id": "V1"}).status_code, 200)
        self.assertEqual(VisitResult.objects.count(), 2)
        # A case visited again counts once, by its latest result.
        self.post_visit("B", {"satisfaction": "基本满意"})
        figures = hotline_satisfaction()
        self.assertEqual((figures.basically, figures.dissatisfied, figures.total), (1, 0, 2))
        self.assertEqual(figures.rate, Decimal("100.0"))
        # A period counts the visits made in it.
        march = hotline_satisfaction(at(1, 0), at(31, 0))
        self.assertEqual((march.satisfied, march.total), (1, 1))

        visit = VisitResult.objects.get(visit_id="V1")
        self.assertEqual((visit.case.number, visit.note), (Case.objects.get(external_id="B").number, "坑还在"))

    def test_visit_errors(self):
        self.post_order(self.order("A"))
        self.assertEqual(self.post_visit("nope", {"satisfaction": "满意"}).status_code, 404)
        bad = self.post_visit("A", {"satisfaction": "还行"})
        self.assertEqual((bad.status_code, bad.json()["error"]["field"]), (400, "satisfaction"))
        self.assertEqual(self.post_visit("A", {"satisfaction": "满意"}, token="guess").status_code, 403)
        self.assertFalse(VisitResult.objects.exists())

    def test_the_admin_shows_the_satisfaction_figures(self):
        from civicgrid.core.models import User

        self.post_order(self.order("A"))
        self.post_visit("A", {"satisfaction": "不满意"})
        self.client.force_login(User.objects.create_superuser("root", password="x"))
        response = self.client.get(reverse("admin:hotline_visitresult_changelist"))
        self.assertContains(response, "满意率")
        self.assertContains(response, "0.0%")
        for name in ("workorder", "callback"):
            self.assertEqual(self.client.get(reverse(f"admin:hotline_{name}_changelist")).status_code, 200)
        # The caller's number is masked in the admin, in the list, the page and the raw message.
        order = WorkOrder.objects.get()
        for url in (
            reverse("admin:hotline_workorder_changelist"),
            reverse("admin:hotline_workorder_change", args=[order.pk]),
        ):
            page = self.client.get(url)
            self.assertContains(page, "138****1111")
            self.assertNotContains(page, "13800001111")


class FakeHotlineTests(TestCase):
    def test_it_refuses_a_callback_without_its_token_and_reports_each_request(self):
        import urllib.error
        import urllib.request

        seen = []
        with FakeHotline(token="t", on_receive=lambda status, body: seen.append(status)) as hotline:
            request = urllib.request.Request(hotline.url, data=b"{}", method="POST")
            with self.assertRaises(urllib.error.HTTPError) as refused:
                urllib.request.urlopen(request, timeout=5)
            self.assertEqual(refused.exception.code, 403)
            request.add_header("X-Hotline-Token", "t")
            with urllib.request.urlopen(request, timeout=5) as response:
                self.assertEqual(response.status, 200)
        self.assertEqual((seen, hotline.received), ([403, 200], [{}]))


class JobAndLanguageTests(HotlineTestCase):
    def test_the_registered_jobs_queue_and_send_the_callbacks(self):
        from civicgrid.core.jobs import JOBS, run_job

        jobs = {job.name: job for job in JOBS}
        self.post_order(self.order())
        case = Case.objects.get()
        self.act(case, "verify_confirm", "ivy", at(2, 9, 5))
        self.act(case, "reject", "otto", at(2, 9, 10), note="非城管职责")
        with FakeHotline() as hotline, override_settings(CIVICGRID_HOTLINE_CALLBACK_URL=hotline.url):
            self.assertEqual(run_job(jobs["hotline_queue"]), 1)
            self.assertEqual(run_job(jobs["hotline_send"]), 1)
        self.assertEqual(hotline.received[0]["kind"], "return")
        self.assertEqual(hotline.received[0]["note"], "非城管职责")

    def test_a_dissatisfied_visit_of_a_closed_case_puts_it_before_the_shift_lead(self):
        self.post_order(self.order())
        case = Case.objects.get()
        Case.objects.filter(pk=case.pk).update(status=Status.CLOSED)
        self.assertEqual(
            self.post_visit(case.external_id, {"satisfaction": "不满意", "note": "没修好"}).status_code, 201
        )
        case.refresh_from_db()
        self.assertEqual(case.status, Status.REVIEW)
        rating = Rating.objects.get(case=case)
        self.assertEqual((rating.source, rating.satisfaction, rating.comment), ("hotline", "dissatisfied", "没修好"))
        self.assertEqual(case.events.last().action, "dissatisfied")
        self.assertEqual(hotline_satisfaction().rate, Decimal("0.0"))
        # A visit of a case that is not closed (it is under review now) is kept, and rates nothing.
        self.assertEqual(self.post_visit(case.external_id, {"satisfaction": "满意"}).status_code, 201)
        self.assertEqual(Rating.objects.count(), 1)
        self.assertEqual(VisitResult.objects.count(), 2)

    def test_a_satisfied_visit_rates_the_closed_case_and_it_stays_closed(self):
        self.post_order(self.order())
        case = Case.objects.get()
        Case.objects.filter(pk=case.pk).update(status=Status.CLOSED)
        self.assertEqual(self.post_visit(case.external_id, {"satisfaction": "基本满意"}).status_code, 201)
        case.refresh_from_db()
        self.assertEqual(case.status, Status.CLOSED)
        self.assertEqual(Rating.objects.get(case=case).satisfaction, "basically")

    def test_it_explains_bad_input_in_english_when_asked(self):
        response = self.client.post(
            reverse("hotline:orders"),
            json.dumps(self.order(crs="mars")),
            content_type="application/json",
            headers={"X-Hotline-Token": TOKEN, "Accept-Language": "en"},
        )
        self.assertEqual(response.json()["error"], {"field": "crs", "reason": "Unsupported coordinate system: mars"})

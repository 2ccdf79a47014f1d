"""The cases REST API end to end: every branch of the loop, every refusal, scope, masking, queries.

Everyone authenticates with a token (Authorization: Token <key>), as the apps do. Personas
are those of civicgrid.cases.tests.fixtures: Ivy the east street's inspector, Otto the
operator, Sue the shift lead, Dora the dispatcher, Hank (municipal department) and Hugo
(water company) the handlers, Wes an operator scoped to the west street, Lea a leader.

Time is frozen on Monday 2026-03-02 09:00, a working day; the test category's limits are in
working hours (windows 08:00–12:00 and 14:30–17:30).
"""

from __future__ import annotations

import shutil
import tempfile
import threading
import unittest
from datetime import datetime
from zoneinfo import ZoneInfo

import time_machine
from django.contrib.contenttypes.models import ContentType
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import TestCase, TransactionTestCase, override_settings
from rest_framework.authtoken.models import Token

from civicgrid.audit.models import AuditEntry
from civicgrid.cases.models import Attachment, Case, CaseEvent
from civicgrid.cases.tests.fixtures import EAST_POINT, WEST_POINT, build_people, photo
from civicgrid.core import auth
from civicgrid.geo import lookup
from civicgrid.geo.tests.fixtures import G1

TZ = ZoneInfo("Asia/Shanghai")
MONDAY_9 = datetime(2026, 3, 2, 9, 0, tzinfo=TZ)
PHONE = "13812345678"


class ApiTestCase(TestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.media = tempfile.mkdtemp()
        cls._media_override = override_settings(MEDIA_ROOT=cls.media)
        cls._media_override.enable()

    @classmethod
    def tearDownClass(cls):
        cls._media_override.disable()
        shutil.rmtree(cls.media, ignore_errors=True)
        super().tearDownClass()

    @classmethod
    def setUpTestData(cls):
        cls.made = build_people()
        cls.tokens = {
            name: Token.objects.create(user=user).key
            for name, user in cls.made.items()
            if name in ("ivy", "otto", "sue", "dora", "hank", "hugo", "wes", "lea", "admin")
        }

    def setUp(self):
        lookup.invalidate()
        traveller = time_machine.travel(MONDAY_9, tick=False)
        traveller.start()
        self.addCleanup(traveller.stop)

    #
    # HTTP helpers: literal URLs, so a changed route fails loudly.
    #

    def auth(self, who: str) -> dict:
        return {"HTTP_AUTHORIZATION": f"Token {self.tokens[who]}"}

    def get(self, who: str, url: str, params=None):
        return self.client.get(url, params or {}, **self.auth(who))

    def post_json(self, who: str, url: str, data: dict):
        return self.client.post(url, data, content_type="application/json", **self.auth(who))

    def post_form(self, who: str, url: str, data: dict):
        # multipart/form-data, the test client's default for a dict with files.
        return self.client.post(url, data, **self.auth(who))

    def report(self, who: str = "ivy", *, point=EAST_POINT, photos=None, **fields):
        data = {
            "channel": "inspector",
            "category": self.made["category"].pk,
            "lon": point[0],
            "lat": point[1],
            "description": "路面坑洼",
            **fields,
        }
        if photos:
            response = self.post_form(who, "/api/v1/cases/", {**data, "photos": photos})
        else:
            response = self.post_json(who, "/api/v1/cases/", data)
        self.assertEqual(response.status_code, 201, response.content.decode())
        return response.json()

    def act(self, who: str, case_id: int, action: str, *, expect: int = 200, photos=None, version=None, **fields):
        if version is None:
            version = Case.objects.get(pk=case_id).version
        url = f"/api/v1/cases/{case_id}/actions/{action}/"
        if photos:
            response = self.post_form(who, url, {"version": version, "photos": photos, **fields})
        else:
            response = self.post_json(who, url, {"version": version, **fields})
        self.assertEqual(response.status_code, expect, response.content.decode())
        return response.json()

    def status_of(self, case_id: int) -> str:
        return Case.objects.get(pk=case_id).status

    def dispatched(self) -> int:
        """An inspector's report, filed, dispatched to the municipal department and signed for."""
        case_id = self.report()["id"]
        self.act("otto", case_id, "file")
        self.act("dora", case_id, "dispatch", unit=self.made["municipal"].pk)
        self.act("hank", case_id, "sign")
        self.assertEqual(self.status_of(case_id), "processing")
        return case_id


class AuthTests(ApiTestCase):
    def test_it_accepts_a_token(self):
        response = self.get("dora", "/api/v1/cases/")
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response.json()["count"], 0)

    def test_it_refuses_anonymous_and_bad_tokens(self):
        self.assertEqual(self.client.get("/api/v1/cases/").status_code, 401)
        response = self.client.get("/api/v1/cases/", HTTP_AUTHORIZATION="Token not-a-token")
        self.assertEqual(response.status_code, 401)
        self.assertIn("reason", response.json()["error"])

    def test_it_publishes_the_case_endpoints_in_the_schema(self):
        response = self.client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
        paths = response.json()["paths"]
        for path in (
            "/api/v1/cases/",
            "/api/v1/cases/queues/",
            "/api/v1/cases/{case_id}/",
            "/api/v1/cases/{case_id}/actions/{action}/",
            "/api/v1/cases/{case_id}/events/",
            "/api/v1/cases/{case_id}/attachments/",
        ):
            self.assertIn(path, paths)
        names = {p["name"] for p in paths["/api/v1/cases/"]["get"]["parameters"]}
        self.assertLessEqual({"queue", "category", "street", "overdue", "date_from", "q", "ordering"}, names)


class BranchTests(ApiTestCase):
    """Each branch of the loop through the API, with the status after every step."""

    def test_it_goes_from_report_to_closure(self):
        body = self.report(photos=[photo("before.jpg", "red")], reporter_phone=PHONE)
        case_id = body["id"]
        self.assertEqual(body["status"], "pending_filing")
        self.assertEqual(body["grid"], G1)
        self.assertEqual(body["street"], {"code": "360725100", "name": "东街道"})
        self.assertEqual([a["kind"] for a in body["attachments"]], ["before"])

        steps = [
            ("otto", "file", {}, "filed"),
            ("dora", "dispatch", {"unit": self.made["municipal"].pk}, "dispatched"),
            ("hank", "sign", {}, "processing"),
            ("hank", "handled", {"photos": [photo()], "resolution_mode": "service"}, "checking"),
            ("ivy", "check_pass", {}, "pending_close"),
            ("sue", "close", {}, "closed"),
        ]
        for who, action, fields, expected in steps:
            with self.subTest(action=action):
                body = self.act(who, case_id, action, **fields)
                self.assertEqual(body["status"], expected)
                self.assertEqual(self.status_of(case_id), expected)
        self.assertEqual(body["version"], 7)
        self.assertEqual(body["handling_unit"], {"id": self.made["municipal"].pk, "name": "市政所"})
        self.assertEqual(
            [e["action"] for e in body["events"]],
            ["report", "file", "dispatch", "sign", "handled", "check_pass", "close"],
        )
        self.assertEqual(sorted(a["kind"] for a in body["attachments"]), ["after", "before"])
        self.assertTrue(all(s["ended_at"] for s in body["stages"]))
        self.assertEqual(body["actions"], [])

    def test_it_sends_a_failed_check_back_for_rework(self):
        case_id = self.dispatched()
        self.assertEqual(self.act("hank", case_id, "handled", photos=[photo()])["status"], "checking")
        body = self.act("ivy", case_id, "check_fail", note="井盖仍松动")
        self.assertEqual(body["status"], "processing")
        self.assertEqual(body["counts"]["rework"], 1)
        self.assertEqual(body["events"][-1]["note"], "井盖仍松动")
        self.assertEqual(body["events"][-1]["to_status_label"], "处置中")
        self.assertEqual(self.act("hank", case_id, "handled", photos=[photo("again.jpg")])["status"], "checking")
        self.assertEqual(self.act("ivy", case_id, "check_pass")["status"], "pending_close")

    def test_it_returns_a_wrongly_dispatched_case(self):
        case_id = self.dispatched()
        self.assertEqual(
            self.act("hank", case_id, "request_return", note="不属于本单位职责")["status"], "return_requested"
        )
        body = self.act("dora", case_id, "approve_return")
        self.assertEqual(body["status"], "filed")
        self.assertIsNone(body["handling_unit"])
        self.assertEqual(body["counts"]["return"], 1)
        body = self.act("dora", case_id, "dispatch", unit=self.made["water"].pk)
        self.assertEqual(body["status"], "dispatched")

    def test_it_refuses_a_return_and_keeps_the_unit(self):
        case_id = self.dispatched()
        self.act("hank", case_id, "request_return", note="不属于本单位职责")
        body = self.act("dora", case_id, "refuse_return", note="属于市政所职责")
        self.assertEqual(body["status"], "processing")
        self.assertEqual(body["handling_unit"]["id"], self.made["municipal"].pk)

    def test_it_extends_the_deadline(self):
        case_id = self.dispatched()
        before = Case.objects.get(pk=case_id).stage_deadline
        body = self.act("hank", case_id, "request_extension", note="需采购材料", amount="2")
        self.assertEqual(body["status"], "extension_requested")
        body = self.act("sue", case_id, "approve_extension")
        self.assertEqual(body["status"], "processing")
        self.assertEqual(body["counts"]["extension"], 1)
        after = Case.objects.get(pk=case_id).stage_deadline
        # 4 working hours from 09:00 is 14:30 + 1 h = 15:30; 2 more hours: 17:30.
        self.assertEqual((before.astimezone(TZ).hour, after.astimezone(TZ).hour), (15, 17))
        handle = [s for s in body["stages"] if s["stage"] == "handle"][-1]
        self.assertEqual(handle["amount"], "6.00")

    def test_it_defers_and_resumes(self):
        case_id = self.dispatched()
        self.assertEqual(
            self.act("hank", case_id, "request_deferral", note="雨季无法施工")["status"], "deferral_requested"
        )
        body = self.act("sue", case_id, "approve_deferral")
        self.assertEqual((body["status"], body["light"], body["stage_deadline"]), ("deferred", "paused", None))
        body = self.act("hank", case_id, "resume")
        self.assertEqual(body["status"], "processing")
        self.assertIsNotNone(body["stage_deadline"])
        self.assertEqual(body["counts"]["deferral"], 1)

    def test_it_voids_only_with_the_shift_leads_approval(self):
        case_id = self.report()["id"]
        self.assertEqual(self.act("otto", case_id, "request_void", note="重复上报")["status"], "void_requested")
        self.act("otto", case_id, "approve_void", expect=403)
        self.assertEqual(self.status_of(case_id), "void_requested")
        self.assertEqual(self.act("sue", case_id, "approve_void")["status"], "voided")

    def test_it_suggests_and_merges_a_duplicate(self):
        first = self.report(reporter_name="张三", reporter_phone=PHONE)
        second = self.report(reporter_name="李四", reporter_phone="13900001111")
        detail = self.get("otto", f"/api/v1/cases/{second['id']}/").json()
        self.assertEqual([d["number"] for d in detail["duplicates"]], [first["number"]])
        self.assertIn("merge", [a["action"] for a in detail["actions"]])
        # The dispatcher cannot merge, so gets no suggestions.
        self.assertEqual(self.get("dora", f"/api/v1/cases/{second['id']}/").json()["duplicates"], [])
        body = self.act("otto", second["id"], "merge", duplicate_of=first["number"])
        self.assertEqual((body["status"], body["duplicate_of"]), ("merged", first["number"]))
        # Both reporters are kept.
        self.assertEqual(Case.objects.get(pk=second["id"]).reporter_name, "李四")
        self.assertEqual(self.status_of(first["id"]), "pending_filing")

    def test_it_closes_a_self_handled_case_after_review(self):
        body = self.report(self_handled="true", photos=[photo()])
        self.assertEqual(body["status"], "self_handled")
        self.assertEqual(self.act("otto", body["id"], "approve_self_handled")["status"], "closed")

    def test_it_verifies_a_public_report_before_filing(self):
        body = self.report("otto", channel="public", reporter_phone=PHONE)
        self.assertEqual(body["status"], "verifying")
        self.assertEqual(self.act("ivy", body["id"], "verify_confirm")["status"], "pending_filing")
        self.assertEqual(self.act("otto", body["id"], "file")["status"], "filed")

    def test_it_marks_supervision_without_changing_the_status(self):
        case_id = self.report()["id"]
        body = self.act("lea", case_id, "supervise", note="群众反映强烈")
        self.assertEqual((body["status"], body["supervised"]), ("pending_filing", True))


class RefusalTests(ApiTestCase):
    """Every refusal: its status, the field, and that nothing was written."""

    def assertError(self, response, status: int, field: str | None):
        self.assertEqual(response.status_code, status, response.content.decode())
        body = response.json()
        self.assertEqual(body["error"]["field"], field)
        self.assertTrue(body["error"]["reason"])
        self.assertEqual(body["errors"][0], body["error"])
        return body

    def unchanged(self, case_id: int, version: int, events: int):
        case = Case.objects.get(pk=case_id)
        self.assertEqual((case.version, case.events.count()), (version, events))

    def test_it_needs_a_reason(self):
        case_id = self.report()["id"]
        response = self.post_json("otto", f"/api/v1/cases/{case_id}/actions/reject/", {"version": 1})
        self.assertError(response, 400, "note")
        self.unchanged(case_id, 1, 1)

    def test_it_needs_an_after_photo(self):
        case_id = self.dispatched()
        version = Case.objects.get(pk=case_id).version
        response = self.post_json("hank", f"/api/v1/cases/{case_id}/actions/handled/", {"version": version})
        self.assertError(response, 400, "photos")
        self.unchanged(case_id, version, 4)

    def test_it_refuses_a_fake_photo_and_writes_nothing(self):
        case_id = self.dispatched()
        version = Case.objects.get(pk=case_id).version
        fake = SimpleUploadedFile("after.jpg", b"not a jpeg at all", content_type="image/jpeg")
        response = self.post_form(
            "hank", f"/api/v1/cases/{case_id}/actions/handled/", {"version": version, "photos": [fake]}
        )
        self.assertError(response, 400, "photos")
        self.unchanged(case_id, version, 4)
        self.assertEqual(self.status_of(case_id), "processing")
        self.assertFalse(Attachment.objects.filter(case_id=case_id, kind="after").exists())

    @override_settings(CIVICGRID_MAX_PHOTO_BYTES=500)
    def test_it_refuses_an_oversized_report_photo_and_writes_nothing(self):
        big = photo("big.jpg", "red")
        self.assertGreater(big.size, 500)
        data = {"channel": "inspector", "category": self.made["category"].pk, "lon": EAST_POINT[0]}
        response = self.post_form(
            "ivy", "/api/v1/cases/", {**data, "lat": EAST_POINT[1], "description": "井盖缺失", "photos": [big]}
        )
        body = self.assertError(response, 400, "photos")
        self.assertIn("过大", body["error"]["reason"])
        self.assertFalse(Case.objects.exists())
        self.assertFalse(CaseEvent.objects.exists())
        self.assertFalse(Attachment.objects.exists())

    def test_it_needs_a_unit_to_dispatch(self):
        case_id = self.report()["id"]
        self.act("otto", case_id, "file")
        response = self.post_json("dora", f"/api/v1/cases/{case_id}/actions/dispatch/", {"version": 2})
        self.assertError(response, 400, "unit")
        self.unchanged(case_id, 2, 2)

    def test_it_needs_the_version(self):
        case_id = self.report()["id"]
        response = self.post_json("otto", f"/api/v1/cases/{case_id}/actions/file/", {})
        self.assertError(response, 400, "version")

    def test_it_refuses_an_unknown_action(self):
        case_id = self.report()["id"]
        response = self.post_json("otto", f"/api/v1/cases/{case_id}/actions/teleport/", {"version": 1})
        self.assertError(response, 400, "action")

    def test_it_refuses_an_unknown_category_and_writes_nothing(self):
        response = self.post_json(
            "ivy",
            "/api/v1/cases/",
            {
                "channel": "inspector",
                "category": 999999,
                "lon": EAST_POINT[0],
                "lat": EAST_POINT[1],
                "description": "x",
            },
        )
        self.assertError(response, 400, "category")
        self.assertFalse(Case.objects.exists())

    def test_it_refuses_a_point_outside_the_county_and_writes_nothing(self):
        response = self.post_form(
            "ivy",
            "/api/v1/cases/",
            {
                "channel": "inspector",
                "category": self.made["category"].pk,
                "lon": "114.0",
                "lat": "25.0",
                "description": "路面坑洼",
                "photos": [photo()],
            },
        )
        self.assertError(response, 400, "lon")
        self.assertFalse(Case.objects.exists())
        self.assertFalse(CaseEvent.objects.exists())
        self.assertFalse(Attachment.objects.exists())

    def test_it_names_the_missing_report_field(self):
        response = self.post_json("ivy", "/api/v1/cases/", {"channel": "inspector", "lon": 1, "lat": 1})
        body = self.assertError(response, 400, "category")
        self.assertEqual({e["field"] for e in body["errors"]}, {"category", "description"})
        self.assertEqual(body["error"]["reason"], "请选择分类")

    def test_it_refuses_a_wrong_role(self):
        case_id = self.report()["id"]
        self.act("otto", case_id, "file")
        self.assertError(
            self.post_json("ivy", f"/api/v1/cases/{case_id}/actions/dispatch/", {"version": 2, "unit": 1}), 403, None
        )
        self.unchanged(case_id, 2, 2)

    def test_it_refuses_a_handler_of_another_unit(self):
        case_id = self.dispatched()
        # Hugo's unit scope hides the municipal department's case: 404, not 403.
        version = Case.objects.get(pk=case_id).version
        response = self.post_json("hugo", f"/api/v1/cases/{case_id}/actions/handled/", {"version": version})
        self.assertError(response, 404, None)

    def test_it_answers_404_for_another_streets_case_everywhere(self):
        body = self.report()
        case_id, number = body["id"], body["number"]
        self.assertEqual(self.get("wes", "/api/v1/cases/").json()["count"], 0)
        self.assertEqual(self.get("wes", "/api/v1/cases/", {"q": number}).json()["count"], 0)
        self.assertEqual(self.get("otto", "/api/v1/cases/", {"q": number}).json()["count"], 1)
        for url in (
            f"/api/v1/cases/{case_id}/",
            f"/api/v1/cases/{case_id}/events/",
            f"/api/v1/cases/{case_id}/attachments/",
        ):
            with self.subTest(url=url):
                self.assertError(self.get("wes", url), 404, None)
        missing = self.get("wes", "/api/v1/cases/999999/")
        self.assertEqual(missing.json(), self.get("wes", f"/api/v1/cases/{case_id}/").json())
        response = self.post_json("wes", f"/api/v1/cases/{case_id}/actions/file/", {"version": 1})
        self.assertError(response, 404, None)
        self.unchanged(case_id, 1, 1)

    def test_it_shows_a_street_office_its_own_street(self):
        west = self.report(point=WEST_POINT)
        self.report()
        body = self.get("wes", "/api/v1/cases/").json()
        self.assertEqual([c["id"] for c in body["results"]], [west["id"]])

    def test_it_answers_409_with_the_current_state_for_a_wrong_status(self):
        case_id = self.report()["id"]
        response = self.post_json(
            "dora", f"/api/v1/cases/{case_id}/actions/dispatch/", {"version": 1, "unit": self.made["municipal"].pk}
        )
        body = self.assertError(response, 409, None)
        self.assertEqual((body["current_status"], body["current_version"]), ("pending_filing", 1))
        self.assertEqual(body["current_status_label"], "待立案")
        self.unchanged(case_id, 1, 1)

    def test_it_answers_409_with_the_current_state_for_a_stale_version(self):
        case_id = self.report()["id"]
        self.act("otto", case_id, "file", version=1)
        response = self.post_json("sue", f"/api/v1/cases/{case_id}/actions/reject/", {"version": 1, "note": "不属实"})
        body = self.assertError(response, 409, None)
        self.assertEqual((body["current_status"], body["current_version"]), ("filed", 2))
        self.unchanged(case_id, 2, 2)

    def test_it_names_the_bad_filter(self):
        for params, field in (
            ({"channel": "pigeon"}, "channel"),
            ({"status": "lost"}, "status"),
            ({"category": "roads"}, "category"),
            ({"overdue": "maybe"}, "overdue"),
            ({"date_from": "yesterday"}, "date_from"),
            ({"queue": "nope"}, "queue"),
            ({"queue": "dispatch"}, "queue"),  # not one of the inspector's queues
            ({"ordering": "number"}, "ordering"),
        ):
            with self.subTest(params=params):
                self.assertError(self.get("ivy", "/api/v1/cases/", params), 400, field)


class ListTests(ApiTestCase):
    def test_it_filters_like_the_workbench(self):
        first = self.report()
        second = self.report("otto", channel="hotline")
        west = self.report(point=WEST_POINT)
        ids = lambda **params: [c["id"] for c in self.get("otto", "/api/v1/cases/", params).json()["results"]]  # noqa: E731
        self.assertEqual(ids(channel="hotline"), [second["id"]])
        self.assertEqual(ids(street="360725101"), [west["id"]])
        self.assertEqual(ids(grid=G1, ordering="created_at"), [first["id"], second["id"]])
        self.assertEqual(ids(status="verifying"), [second["id"]])
        self.assertEqual(ids(date_from="2026-03-03"), [])
        self.assertEqual(len(ids(date_from="2026-03-02", date_to="2026-03-02")), 3)
        self.assertEqual(ids(q=first["number"]), [first["id"]])

    def test_it_lists_a_queue_by_deadline(self):
        early = self.report()["id"]
        self.act("otto", early, "file")
        with time_machine.travel(datetime(2026, 3, 2, 9, 30, tzinfo=TZ), tick=False):
            later = self.report()["id"]
            self.act("otto", later, "file")
            body = self.get("dora", "/api/v1/cases/", {"queue": "dispatch"}).json()
            self.assertEqual([c["id"] for c in body["results"]], [early, later])
            body = self.get("dora", "/api/v1/cases/", {"ordering": "-created_at"}).json()
            self.assertEqual([c["id"] for c in body["results"]], [later, early])
            self.assertEqual(body["results"][0]["light"], "green")

    def test_it_pages(self):
        for _ in range(3):
            self.report()
        body = self.get("dora", "/api/v1/cases/", {"page_size": 2}).json()
        self.assertEqual((body["count"], len(body["results"])), (3, 2))
        self.assertIsNotNone(body["next"])
        body = self.get("dora", "/api/v1/cases/", {"page_size": 2, "page": 2}).json()
        self.assertEqual(len(body["results"]), 1)

    def test_it_counts_the_users_queues(self):
        case_id = self.report()["id"]
        self.act("otto", case_id, "file")
        body = self.get("dora", "/api/v1/cases/queues/").json()
        counts = {q["key"]: q["count"] for q in body}
        self.assertEqual(counts["dispatch"], 1)
        self.assertEqual(next(q["label"] for q in body if q["key"] == "dispatch"), "待派遣")
        self.assertNotIn("verify", counts)

    def test_it_lists_in_a_fixed_number_of_queries(self):
        for _ in range(4):
            case_id = self.report(reporter_phone=PHONE)["id"]
        self.act("otto", case_id, "file")
        self.act("dora", case_id, "dispatch", unit=self.made["municipal"].pk)
        # Token + user (not yet in this process's token cache), count, page: the same whatever
        # the page size.
        for size in (1, 4):
            auth.tokens.clear()
            with self.subTest(page_size=size), self.assertNumQueries(3):
                response = self.get("dora", "/api/v1/cases/", {"page_size": size})
            self.assertEqual(len(response.json()["results"]), size)
        with self.assertNumQueries(2):  # the token is cached now
            self.get("dora", "/api/v1/cases/", {"queue": "sign"})

    def test_it_shows_a_detail_in_a_fixed_number_of_queries(self):
        case_id = self.dispatched()
        self.act("hank", case_id, "handled", photos=[photo()])
        # Token + user, case with its joins, events, stages, attachments.
        auth.tokens.clear()
        with self.assertNumQueries(5):
            response = self.get("dora", f"/api/v1/cases/{case_id}/")
        body = response.json()
        self.assertEqual(len(body["events"]), 5)
        self.assertEqual(body["events"][1]["actor"], "otto")
        self.assertEqual(body["events"][0]["actor"], "李监督")
        self.assertEqual(body["events"][2]["unit"]["name"], "指挥中心")
        self.assertEqual(body["events"][2]["data"]["unit"]["name"], "市政所")
        attachment_id = body["attachments"][0]["id"]
        self.assertEqual(body["attachments"][0]["url"], f"http://testserver/api/v1/attachments/{attachment_id}/file")
        self.assertEqual(
            body["attachments"][0]["thumbnail_url"], f"http://testserver/api/v1/attachments/{attachment_id}/thumbnail"
        )


class DetailTests(ApiTestCase):
    def test_it_offers_only_the_actions_this_user_may_take_now(self):
        case_id = self.dispatched()
        actions = lambda who: [a["action"] for a in self.get(who, f"/api/v1/cases/{case_id}/").json()["actions"]]  # noqa: E731
        self.assertEqual(actions("hank"), ["request_return", "request_extension", "request_deferral", "handled"])
        self.assertEqual(actions("dora"), ["remind"])
        self.assertEqual(actions("ivy"), [])
        handled = next(
            a for a in self.get("hank", f"/api/v1/cases/{case_id}/").json()["actions"] if a["action"] == "handled"
        )
        self.assertEqual((handled["label"], handled["requires"]), ("处置反馈", ["after_photo"]))

    def test_it_offers_a_handler_of_another_unit_nothing(self):
        case_id = self.dispatched()
        user = self.made["hugo"]
        user.scope = user.Scope.ALL  # sees the case, still may not act on it
        user.save()
        self.assertEqual(self.get("hugo", f"/api/v1/cases/{case_id}/").json()["actions"], [])
        self.act("hugo", case_id, "handled", expect=403, photos=[photo()])

    def test_it_lists_events_with_labels(self):
        case_id = self.report()["id"]
        self.act("otto", case_id, "file")
        events = self.get("sue", f"/api/v1/cases/{case_id}/events/").json()
        self.assertEqual(
            [(e["action_label"], e["from_status_label"], e["to_status_label"]) for e in events],
            [("上报", "", "待立案"), ("立案", "待立案", "待派遣")],
        )

    def test_it_shows_the_stage_clocks(self):
        case_id = self.report()["id"]
        self.act("otto", case_id, "file")
        stages = self.get("sue", f"/api/v1/cases/{case_id}/").json()["stages"]
        self.assertEqual([s["stage"] for s in stages], ["file", "dispatch"])
        self.assertEqual(
            (stages[0]["on_time"], stages[0]["amount"], stages[0]["time_unit"]), (True, "1.00", "working_hours")
        )
        self.assertIsNone(stages[1]["ended_at"])


class MaskingTests(ApiTestCase):
    def test_it_shows_the_operator_the_phone_and_audits_it(self):
        case_id = self.report(reporter_phone=PHONE)["id"]
        AuditEntry.objects.all().delete()
        self.assertEqual(self.get("otto", f"/api/v1/cases/{case_id}/").json()["reporter_phone"], PHONE)
        self.assertEqual(self.get("otto", "/api/v1/cases/").json()["results"][0]["reporter_phone"], PHONE)
        entries = AuditEntry.objects.filter(kind=AuditEntry.Kind.CONTACT_VIEW)
        self.assertEqual(entries.count(), 2)
        self.assertEqual({(e.actor_id, e.object_id) for e in entries}, {(self.made["otto"].pk, str(case_id))})

    def test_it_masks_the_phone_for_the_dispatcher(self):
        case_id = self.report(reporter_phone=PHONE)["id"]
        AuditEntry.objects.all().delete()
        self.assertEqual(self.get("dora", f"/api/v1/cases/{case_id}/").json()["reporter_phone"], "138****5678")
        self.assertEqual(self.get("dora", "/api/v1/cases/").json()["results"][0]["reporter_phone"], "138****5678")
        self.assertFalse(AuditEntry.objects.filter(kind=AuditEntry.Kind.CONTACT_VIEW).exists())

    def test_it_audits_each_listed_phone_in_one_query_each(self):
        for _ in range(3):
            self.report(reporter_phone=PHONE)
        ContentType.objects.get_for_model(Case)  # the content type is cached after its first use
        # Token + user, count, page, then one audit insert per phone shown.
        auth.tokens.clear()
        with self.assertNumQueries(3 + 3):
            self.get("otto", "/api/v1/cases/")


class AttachmentTests(ApiTestCase):
    def test_it_adds_a_document_and_lists_it(self):
        case_id = self.report()["id"]
        pdf = SimpleUploadedFile("plan.pdf", b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n", "application/pdf")
        response = self.post_form("otto", f"/api/v1/cases/{case_id}/attachments/", {"file": pdf, "kind": "document"})
        self.assertEqual(response.status_code, 201, response.content.decode())
        self.assertEqual(response.json()["content_type"], "application/pdf")
        listed = self.get("otto", f"/api/v1/cases/{case_id}/attachments/").json()
        self.assertEqual([a["kind"] for a in listed], ["document"])
        # The upload is on the record, like every other step.
        events = self.get("otto", f"/api/v1/cases/{case_id}/events/").json()
        self.assertEqual(events[-1]["action"], "attach")

    def test_it_adds_a_before_photo(self):
        case_id = self.report()["id"]
        response = self.post_form("ivy", f"/api/v1/cases/{case_id}/attachments/", {"file": photo(), "kind": "before"})
        self.assertEqual(response.status_code, 201, response.content.decode())
        self.assertEqual(response.json()["kind_label"], "处置前照片")

    def test_it_serves_a_photo_and_its_thumbnail_only_within_scope(self):
        case_id = self.report(photos=[photo("scene.jpg", "red")])["id"]
        listed = self.get("otto", f"/api/v1/cases/{case_id}/attachments/").json()[0]
        attachment = Attachment.objects.get(pk=listed["id"])
        self.assertTrue(listed["url"].endswith(f"/api/v1/attachments/{attachment.pk}/file"))
        response = self.get("otto", f"/api/v1/attachments/{attachment.pk}/file")
        self.assertEqual((response.status_code, response["Content-Type"]), (200, "image/jpeg"))
        with attachment.file.open("rb") as stored:
            self.assertEqual(b"".join(response.streaming_content), stored.read())
        self.assertEqual(response["X-Content-Type-Options"], "nosniff")
        self.assertTrue(response["Cache-Control"].startswith("private"))
        thumbnail = self.get("otto", f"/api/v1/attachments/{attachment.pk}/thumbnail")
        self.assertEqual((thumbnail.status_code, thumbnail["Content-Type"]), (200, "image/jpeg"))
        # Another street's operator, and nobody at all, get nothing.
        self.assertEqual(self.get("wes", f"/api/v1/attachments/{attachment.pk}/file").status_code, 404)
        self.assertEqual(self.client.get(f"/api/v1/attachments/{attachment.pk}/file").status_code, 401)
        self.assertEqual(self.get("otto", "/api/v1/attachments/999999/file").status_code, 404)

    @override_settings(CIVICGRID_MEDIA_ACCEL_REDIRECT="/protected-media/")
    def test_it_leaves_the_bytes_to_nginx_when_told_to(self):
        case_id = self.report(photos=[photo("scene.jpg", "red")])["id"]
        attachment = Attachment.objects.get(case_id=case_id)
        response = self.get("otto", f"/api/v1/attachments/{attachment.pk}/file")
        self.assertEqual(response["X-Accel-Redirect"], f"/protected-media/{attachment.file.name}")
        self.assertEqual(response.content, b"")

    def test_it_refuses_a_bad_file_with_field_file(self):
        case_id = self.report()["id"]
        for kind in ("before", "document"):
            with self.subTest(kind=kind):
                fake = SimpleUploadedFile("x.jpg", b"MZ\x90\x00 not an image", content_type="image/jpeg")
                response = self.post_form("otto", f"/api/v1/cases/{case_id}/attachments/", {"file": fake, "kind": kind})
                self.assertEqual(response.status_code, 400)
                self.assertEqual(response.json()["error"]["field"], "file")
        response = self.post_form("otto", f"/api/v1/cases/{case_id}/attachments/", {"kind": "document"})
        self.assertEqual(response.json()["error"], {"field": "file", "reason": "请选择要上传的文件"})
        response = self.post_form("otto", f"/api/v1/cases/{case_id}/attachments/", {"file": photo(), "kind": "after"})
        self.assertEqual(response.json()["error"]["field"], "kind")
        self.assertFalse(Attachment.objects.exists())

    def test_it_refuses_a_file_on_a_closed_case(self):
        case_id = self.report()["id"]
        self.act("otto", case_id, "reject", note="不属于城管职责")
        response = self.post_form("otto", f"/api/v1/cases/{case_id}/attachments/", {"file": photo(), "kind": "before"})
        self.assertEqual(response.status_code, 409)
        self.assertEqual(response.json()["current_status"], "rejected")


@unittest.skipUnless(connection.vendor == "postgresql", "row locks (select_for_update) are tested on PostgreSQL")
class ConcurrentDispatchTests(TransactionTestCase):
    def test_it_lets_one_of_two_concurrent_dispatches_win(self):
        lookup.invalidate()
        made = build_people()
        token = Token.objects.create(user=made["dora"]).key
        otto = Token.objects.create(user=made["otto"]).key
        ivy = Token.objects.create(user=made["ivy"]).key
        with tempfile.TemporaryDirectory() as media, override_settings(MEDIA_ROOT=media):
            response = self.client.post(
                "/api/v1/cases/",
                {
                    "channel": "inspector",
                    "category": made["category"].pk,
                    "lon": EAST_POINT[0],
                    "lat": EAST_POINT[1],
                    "description": "路面坑洼",
                },
                content_type="application/json",
                HTTP_AUTHORIZATION=f"Token {ivy}",
            )
            case_id = response.json()["id"]
            self.client.post(
                f"/api/v1/cases/{case_id}/actions/file/",
                {"version": 1},
                content_type="application/json",
                HTTP_AUTHORIZATION=f"Token {otto}",
            )
            barrier = threading.Barrier(2)
            statuses: list[int] = []

            def dispatch(unit_id: int) -> None:
                from django.db import connections
                from django.test import Client

                try:
                    client = Client()
                    barrier.wait(timeout=10)
                    response = client.post(
                        f"/api/v1/cases/{case_id}/actions/dispatch/",
                        {"version": 2, "unit": unit_id},
                        content_type="application/json",
                        HTTP_AUTHORIZATION=f"Token {token}",
                    )
                    statuses.append(response.status_code)
                finally:
                    connections.close_all()

            threads = [threading.Thread(target=dispatch, args=(made[unit].pk,)) for unit in ("municipal", "water")]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(timeout=30)
        self.assertEqual(sorted(statuses), [200, 409])
        self.assertEqual(CaseEvent.objects.filter(case_id=case_id, action="dispatch").count(), 1)
        self.assertEqual(Case.objects.get(pk=case_id).version, 3)


class WorkflowEdgeTests(ApiTestCase):
    """Edge cases of the table found while writing the API."""

    def test_it_sends_a_refused_void_back_to_the_status_it_came_from(self):
        # REQUEST_VOID is also taken from FILED (by the dispatcher); refused, the case goes
        # back to 待派遣 with its dispatch clock still running.
        case_id = self.report()["id"]
        self.act("otto", case_id, "file")
        self.act("dora", case_id, "request_void", note="重复上报")
        body = self.act("sue", case_id, "refuse_void", note="并非重复")
        self.assertEqual((body["status"], body["stage"]), ("filed", "dispatch"))

    def test_it_merges_only_into_an_open_case(self):
        # A duplicate (and its reporter) must not be linked to a dead end.
        rejected = self.report()["id"]
        self.act("otto", rejected, "reject", note="不属于城管职责")
        duplicate = self.report()["id"]
        number = Case.objects.get(pk=rejected).number
        response = self.post_json(
            "otto", f"/api/v1/cases/{duplicate}/actions/merge/", {"version": 1, "duplicate_of": number}
        )
        self.assertEqual(response.status_code, 400)
        self.assertEqual(response.json()["error"]["field"], "duplicate_of")


class RepresentationTests(ApiTestCase):
    def test_the_fast_representations_equal_the_generic_output_of_the_declared_fields(self):
        from civicgrid.cases.api import LIST_RELATED
        from civicgrid.cases.serializers import CaseCreatedSerializer, CaseListSerializer
        from civicgrid.cases.workflow import Action

        reported = self.report(reporter_phone=PHONE)["id"]
        dispatched = self.dispatched()
        Case.objects.filter(pk=dispatched).update(urgent=True, supervised=True, rework_count=2)
        cases = list(Case.objects.select_related(*LIST_RELATED).filter(pk__in=[reported, dispatched]))
        self.assertIsNotNone(cases[0].handling_unit if cases[0].pk == dispatched else cases[1].handling_unit)
        for case in cases:
            for show_contact in (True, False):
                context = {"show_contact": show_contact, "actions": [Action.FILE, Action.MERGE], "attachments": []}
                for serializer_class in (CaseListSerializer, CaseCreatedSerializer):
                    name = serializer_class.__name__
                    with self.subTest(case=case.number, show_contact=show_contact, serializer=name):
                        serializer = serializer_class(case, context=context)
                        self.assertEqual(serializer.data, serializer.generic_representation(case))

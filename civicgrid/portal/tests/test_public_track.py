"""The private link (portal:track) and the by-number page (portal:case): the public timeline in
plain words, photos behind the token, polling, and no personal data anywhere.

Personas from civicgrid.cases.tests.fixtures, given real names and phones (public_fixtures):
Ivy the inspector, Otto the operator, Sue the shift lead, Dora the dispatcher, Hank the
municipal department's handler. 赵小明 reported the case from the portal.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import time_machine
from django.db import connection
from django.test import TestCase, override_settings
from django.test.utils import CaptureQueriesContext

from civicgrid.cases.models import Attachment
from civicgrid.cases.services import case_rate
from civicgrid.cases.tests.fixtures import act, build_people, photo
from civicgrid.portal.models import Tracker
from civicgrid.portal.tests.public_fixtures import (
    REPORTER_NAME,
    REPORTER_PHONE,
    STAFF,
    name_staff,
    public_report,
    reporter_link,
    to_closed,
    to_closed_from_processing,
)

TZ = ZoneInfo("Asia/Shanghai")
START = datetime(2026, 3, 2, 9, 0, tzinfo=TZ)


class PublicTestCase(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.made = build_people()
        name_staff(cls.made)

    def setUp(self):
        traveller = time_machine.travel(START, tick=True)
        traveller.start()
        self.addCleanup(traveller.stop)

    def page(self, url: str, status: int = 200, **headers) -> str:
        response = self.client.get(url, **headers)
        self.assertEqual(response.status_code, status, response.content.decode()[:2000])
        return response.content.decode()

    def assertNoPersonalData(self, html: str) -> None:
        for name, phone in STAFF.values():
            self.assertNotIn(name, html)
            self.assertNotIn(phone, html)
            self.assertNotIn(f"{phone[:3]}****{phone[-4:]}", html)
        for username in ("otto", "sue", "dora", "hank", "ivy"):
            self.assertNotIn(f">{username}<", html)
        self.assertNotIn(REPORTER_NAME, html)
        self.assertNotIn(REPORTER_PHONE, html)
        self.assertNotIn(REPORTER_PHONE[-4:], html)  # not even masked


class TrackTests(PublicTestCase):
    def test_it_shows_each_step_in_plain_words(self):
        case = public_report(self.made)
        url = f"/p/t/{reporter_link(case).token}/"
        self.assertIn("核实中", self.page(url))
        act(self.made, case, "verify_confirm", "ivy")
        html = self.page(url)
        self.assertIn("已完成现场核实", html)
        self.assertIn("已受理", html)
        act(self.made, case, "file", "otto")
        self.assertIn("已立案", self.page(url))
        act(self.made, case, "dispatch", "dora", unit_id=self.made["municipal"].pk)
        self.assertIn("已交由「市政所」办理", self.page(url))
        act(self.made, case, "sign", "hank")
        act(self.made, case, "handled", "hank", photos=[photo()], note="已由黄志强修补完毕")
        html = self.page(url)
        self.assertIn("已处置", html)
        self.assertNotIn("修补完毕", html)  # the handler's own note stays on the staff side
        act(self.made, case, "check_pass", "ivy")
        self.assertIn("已核查", self.page(url))
        act(self.made, case, "close", "sue")
        html = self.page(url)
        self.assertIn("已办结", html)
        self.assertNoPersonalData(html.replace(case.description, ""))

    def test_it_never_shows_staff_or_reporter_contact_details(self):
        case = to_closed(self.made, public_report(self.made))
        follower = reporter_link(case, Tracker.Kind.FOLLOWER)
        html = self.page(f"/p/t/{follower.token}/")
        self.assertNoPersonalData(html)
        self.assertNotIn(case.description, html)  # only the reporter sees their own words
        self.assertNoPersonalData(self.page(f"/p/c/{case.number}/"))

    def test_it_shows_the_description_to_the_reporter_only(self):
        case = public_report(self.made)
        self.assertIn("小区门口路面坑洼", self.page(f"/p/t/{reporter_link(case).token}/"))
        self.assertNotIn("小区门口路面坑洼", self.page(f"/p/c/{case.number}/"))

    def test_it_summarises_internal_steps_and_leaves_out_the_rest(self):
        case = public_report(self.made)
        act(self.made, case, "verify_confirm", "ivy")
        act(self.made, case, "file", "otto")
        act(self.made, case, "remind", "otto")
        act(self.made, case, "dispatch", "dora", unit_id=self.made["water"].pk)
        act(self.made, case, "request_return", "hugo", note="不归我们管，联系人13812340000")
        act(self.made, case, "approve_return", "dora")
        act(self.made, case, "dispatch", "dora", unit_id=self.made["municipal"].pk)
        act(self.made, case, "sign", "hank")
        act(self.made, case, "request_extension", "hank", note="材料未到", amount="4")
        act(self.made, case, "approve_extension", "sue")
        act(self.made, case, "supervise", "lea", note="抓紧")
        html = self.page(f"/p/t/{reporter_link(case).token}/")
        self.assertIn("办理单位调整中", html)
        self.assertIn("办理时限已延长", html)
        self.assertIn("已交由「自来水公司」办理", html)
        self.assertIn("已交由「市政所」办理", html)
        for internal in ("催办", "督办", "回退", "13812340000", "材料未到", "抓紧"):
            self.assertNotIn(internal, html)

    def test_it_shows_a_rejection_with_its_reason(self):
        case = public_report(self.made)
        act(self.made, case, "verify_deny", "ivy", note="现场无此问题")
        act(self.made, case, "reject", "otto", note="经现场核实，路面完好。")
        html = self.page(f"/p/c/{case.number}/")
        self.assertIn("不予受理", html)
        self.assertIn("经现场核实，路面完好。", html)
        self.assertNotIn("现场无此问题", html)

    def test_it_shows_a_deferral_with_the_units_reason(self):
        case = public_report(self.made)
        act(self.made, case, "verify_confirm", "ivy")
        act(self.made, case, "file", "otto")
        act(self.made, case, "dispatch", "dora", unit_id=self.made["municipal"].pk)
        act(self.made, case, "sign", "hank")
        act(self.made, case, "request_deferral", "hank", note="雨季无法施工，天晴后修复")
        act(self.made, case, "approve_deferral", "sue")
        html = self.page(f"/p/c/{case.number}/")
        self.assertIn("缓办", html)
        self.assertIn("雨季无法施工，天晴后修复", html)

    def test_it_links_a_merged_case_to_the_case_it_joined(self):
        original = public_report(self.made)
        duplicate = public_report(self.made)
        act(self.made, duplicate, "merge", "otto", duplicate_of=original.number)
        html = self.page(f"/p/t/{reporter_link(duplicate).token}/")
        self.assertIn(f'href="/p/c/{original.number}/"', html)
        self.assertIn("合并办理", html)

    def test_it_shows_a_voided_case(self):
        case = public_report(self.made)
        act(self.made, case, "verify_confirm", "ivy")
        act(self.made, case, "request_void", "otto", note="重复")
        act(self.made, case, "approve_void", "sue")
        self.assertIn("已作废", self.page(f"/p/c/{case.number}/"))

    def test_it_says_a_rating_came_from_the_12345_callback(self):
        case = to_closed(self.made, public_report(self.made))
        case_rate(case_id=case.pk, satisfaction="dissatisfied", comment="没修好", source="hotline")
        html = self.page(f"/p/t/{reporter_link(case).token}/")
        self.assertIn("12345 回访评价「不满意」，正在复核", html)
        self.assertNotIn("没修好", self.page(f"/p/c/{case.number}/"))

    def test_it_is_never_cached_and_keeps_the_token_out_of_other_sites_referers(self):
        case = public_report(self.made)
        response = self.client.get(f"/p/t/{reporter_link(case).token}/")
        self.assertIn("no-store", response["Cache-Control"])
        self.assertContains(response, '<meta name="referrer" content="same-origin">')

    def test_it_reads_the_page_in_as_many_queries_however_long_the_history(self):
        short = reporter_link(to_closed(self.made, public_report(self.made)))
        case = public_report(self.made)
        act(self.made, case, "verify_confirm", "ivy")
        act(self.made, case, "file", "otto")
        act(self.made, case, "dispatch", "dora", unit_id=self.made["municipal"].pk)
        act(self.made, case, "sign", "hank")
        for _ in range(3):
            act(self.made, case, "handled", "hank", photos=[photo()])
            act(self.made, case, "check_fail", "ivy", note="仍有坑洼")
        long = reporter_link(to_closed_from_processing(self.made, case))
        counts = []
        for tracker in (short, long):
            self.client.get(f"/p/t/{tracker.token}/")
            with CaptureQueriesContext(connection) as queries:
                self.client.get(f"/p/t/{tracker.token}/")
            counts.append(len(queries))
        self.assertEqual(counts[0], counts[1])
        self.assertLessEqual(counts[1], 5)  # tracker, closure, rating, events, photos

    def test_it_answers_404_for_an_unknown_token(self):
        self.page("/p/t/no-such-token/", status=404)

    def test_it_polls_with_a_fragment_and_works_without_javascript(self):
        case = public_report(self.made)
        token = reporter_link(case).token
        html = self.page(f"/p/t/{token}/")
        self.assertIn(f'hx-get="/p/t/{token}/"', html)
        self.assertIn('hx-trigger="every 20s"', html)
        self.assertIn(f'href="/p/t/{token}/"', html)  # the refresh link
        fragment = self.page(f"/p/t/{token}/", HTTP_HX_REQUEST="true")
        self.assertTrue(fragment.lstrip().startswith('<div id="track-body"'))
        self.assertNotIn("<html", fragment)

    @override_settings(CIVICGRID_PORTAL_POLL_SECONDS=2)
    def test_it_polls_as_often_as_configured(self):
        case = public_report(self.made)
        self.assertIn('hx-trigger="every 2s"', self.page(f"/p/t/{reporter_link(case).token}/"))


class PhotoTests(PublicTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        cls.case = to_closed(cls.made, public_report(cls.made))
        cls.before = cls.case.attachments.get(kind=Attachment.Kind.BEFORE)
        cls.after = cls.case.attachments.get(kind=Attachment.Kind.AFTER)
        cls.reporter = reporter_link(cls.case)
        cls.follower = reporter_link(cls.case, Tracker.Kind.FOLLOWER)

    def test_it_shows_after_photos_through_the_token(self):
        html = self.page(f"/p/t/{self.follower.token}/")
        self.assertIn(f"/p/t/{self.follower.token}/photo/{self.after.pk}/", html)
        response = self.client.get(f"/p/t/{self.follower.token}/photo/{self.after.pk}/")
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response["Content-Type"], "image/jpeg")
        thumb = self.client.get(f"/p/t/{self.follower.token}/photo/{self.after.pk}/?size=thumb")
        self.assertEqual(thumb.status_code, 200)

    def test_it_shows_before_photos_to_the_reporter_only(self):
        self.assertIn(f"photo/{self.before.pk}/", self.page(f"/p/t/{self.reporter.token}/"))
        self.assertEqual(self.client.get(f"/p/t/{self.reporter.token}/photo/{self.before.pk}/").status_code, 200)
        self.assertNotIn(f"photo/{self.before.pk}/", self.page(f"/p/t/{self.follower.token}/"))
        self.assertEqual(self.client.get(f"/p/t/{self.follower.token}/photo/{self.before.pk}/").status_code, 404)

    def test_it_refuses_another_cases_photo(self):
        other = reporter_link(public_report(self.made))
        self.assertEqual(self.client.get(f"/p/t/{other.token}/photo/{self.after.pk}/").status_code, 404)

    def test_it_shows_no_photos_by_number(self):
        html = self.page(f"/p/c/{self.case.number}/")
        self.assertNotIn("/photo/", html)
        self.assertNotIn("<img", html)


class ByNumberTests(PublicTestCase):
    def test_it_finds_a_case_by_number(self):
        case = public_report(self.made)
        response = self.client.get("/p/track/", {"number": f" {case.number} "})
        self.assertRedirects(response, f"/p/c/{case.number}/")
        self.assertIn("核实中", self.page(f"/p/c/{case.number}/"))

    def test_it_says_when_a_number_is_unknown(self):
        self.assertIn("没有找到编号为 360725-2026-999999 的案件", self.page("/p/track/?number=360725-2026-999999", 404))
        self.assertIn("查询办理进度", self.page("/p/track/"))

    def test_it_hides_a_case_of_a_sensitive_category_but_not_from_its_reporter(self):
        category = self.made["category"]
        category.publicly_listed = False
        category.save(update_fields=["publicly_listed"])
        case = public_report(self.made)
        html = self.page(f"/p/c/{case.number}/", status=404)
        self.assertIn("此案件不公开", html)
        self.assertNotIn(category.name, html)
        self.assertNotIn("核实中", html)
        self.assertIn("核实中", self.page(f"/p/t/{reporter_link(case).token}/"))

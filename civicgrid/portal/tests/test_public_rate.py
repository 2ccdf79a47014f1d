"""The rating on the private link (portal:rate) and the shift lead's review of a 不满意 on the
staff case page: reopen to the unit, or keep closed with a reply the citizen reads.

Personas as in test_public_track: Sue is the shift lead; 赵小明 reported the case.
"""

from __future__ import annotations

import re

from django.test import Client, override_settings

from civicgrid.cases.models import Case, Rating
from civicgrid.cases.workflow import Status
from civicgrid.portal.models import Tracker
from civicgrid.portal.tests.public_fixtures import public_report, reporter_link, to_closed
from civicgrid.portal.tests.test_public_track import PublicTestCase


class RateTests(PublicTestCase):
    def setUp(self):
        super().setUp()
        self.case = to_closed(self.made, public_report(self.made))
        self.tracker = reporter_link(self.case)
        self.url = f"/p/t/{self.tracker.token}/"

    def rate(self, satisfaction: str, comment: str = "", token: str | None = None, status: int = 302):
        response = self.client.post(
            f"/p/t/{token or self.tracker.token}/rate/", {"satisfaction": satisfaction, "comment": comment}
        )
        self.assertEqual(response.status_code, status, response.content.decode()[:2000])
        return response

    def test_it_offers_the_three_levels_to_the_reporter_of_a_closed_case(self):
        html = self.page(self.url)
        for value, label in (("satisfied", "满意"), ("basically", "基本满意"), ("dissatisfied", "不满意")):
            self.assertIn(f'value="{value}"', html)
            self.assertIn(f"<span>{label}</span>", html)
        self.assertIn('name="csrfmiddlewaretoken"', html)
        self.assertNotIn("hx-trigger", html)  # no polling while the form is open

    def test_it_records_a_satisfied_rating_once(self):
        response = self.rate("satisfied", "修得很快")
        self.assertRedirects(response, self.url + "#rating", fetch_redirect_response=False)
        rating = Rating.objects.get(case=self.case)
        self.assertEqual((rating.source, rating.satisfaction, rating.comment), ("portal", "satisfied", "修得很快"))
        html = self.page(self.url)
        self.assertIn("已收到您的评价，谢谢！", html)
        self.assertIn("您的评价「满意」已收到", html)
        self.assertNotIn('name="satisfaction"', html)
        response = self.rate("dissatisfied", status=409)
        self.assertIn("您已评价过本次办理结果。", response.content.decode())
        self.assertEqual(Rating.objects.filter(case=self.case).count(), 1)

    def test_it_puts_a_dissatisfied_case_under_review(self):
        self.rate("dissatisfied", "井盖还是松的")
        self.case.refresh_from_db()
        self.assertEqual(self.case.status, Status.REVIEW)
        html = self.page(self.url)
        self.assertIn("您的评价「不满意」已收到，正在复核", html)
        self.assertIn("正在复核：值班长将核查办理结果", html)
        self.assertIn("hx-trigger", html)  # polling again: the reply will come
        self.assertIn("复核中", self.page(f"/p/c/{self.case.number}/"))
        self.assertNotIn("井盖还是松的", self.page(f"/p/c/{self.case.number}/"))

    def test_it_refuses_a_rating_before_closure(self):
        case = public_report(self.made)
        tracker = reporter_link(case)
        response = self.rate("satisfied", token=tracker.token, status=409)
        self.assertIn("案件办结后才能评价。", response.content.decode())
        self.assertFalse(Rating.objects.filter(case=case).exists())
        self.assertIn("办结后，您可以在这里评价办理结果。", self.page(f"/p/t/{tracker.token}/"))

    def test_it_lets_only_the_reporter_rate(self):
        follower = reporter_link(self.case, Tracker.Kind.FOLLOWER)
        self.assertNotIn('name="satisfaction"', self.page(f"/p/t/{follower.token}/"))
        response = self.rate("satisfied", token=follower.token, status=403)
        self.assertIn("只有反映人可以评价办理结果。", response.content.decode())
        self.assertFalse(Rating.objects.exists())

    def test_it_asks_for_a_level(self):
        response = self.rate("", "没选", status=400)
        self.assertIn("请选择满意、基本满意或不满意", response.content.decode())
        self.rate("excellent", status=400)
        self.assertFalse(Rating.objects.exists())

    def test_it_limits_the_comment(self):
        response = self.rate("satisfied", "好" * 501, status=400)
        self.assertIn("评价内容不能超过 500 字", response.content.decode())

    @override_settings(CIVICGRID_PORTAL_RATE_PER_IP="2/h")
    def test_it_limits_rating_posts_per_address(self):
        self.rate("", status=400)  # refused forms count too
        self.rate("", status=400)
        response = self.rate("satisfied", status=429)
        self.assertIn("提交过于频繁", response.content.decode())
        self.assertFalse(Rating.objects.exists())
        # Another address is not affected.
        response = self.client.post(
            f"/p/t/{self.tracker.token}/rate/", {"satisfaction": "satisfied"}, REMOTE_ADDR="10.0.0.9"
        )
        self.assertEqual(response.status_code, 302)
        self.assertTrue(Rating.objects.filter(case=self.case).exists())

    def test_it_requires_the_csrf_token(self):
        client = Client(enforce_csrf_checks=True)
        data = {"satisfaction": "satisfied"}
        self.assertEqual(client.post(f"/p/t/{self.tracker.token}/rate/", data).status_code, 403)
        html = client.get(self.url).content.decode()
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)
        response = client.post(f"/p/t/{self.tracker.token}/rate/", {**data, "csrfmiddlewaretoken": token})
        self.assertEqual(response.status_code, 302)
        self.assertTrue(Rating.objects.filter(case=self.case).exists())


class ReviewTests(PublicTestCase):
    """The shift lead's side: the ratings box and the two review actions, through the HTML views."""

    def setUp(self):
        super().setUp()
        self.case = to_closed(self.made, public_report(self.made))
        self.tracker = reporter_link(self.case)
        self.client.post(
            f"/p/t/{self.tracker.token}/rate/", {"satisfaction": "dissatisfied", "comment": "井盖还是松的"}
        )
        self.case.refresh_from_db()
        self.staff = Client()
        self.staff.force_login(self.made["sue"])

    def act(self, action: str, **fields):
        self.case.refresh_from_db()
        data = {"action": action, f"{action}-version": self.case.version}
        data.update({f"{action}-{name}": value for name, value in fields.items()})
        return self.staff.post(f"/cases/{self.case.pk}/act/", data)

    def test_it_shows_the_ratings_and_both_review_actions_to_the_shift_lead(self):
        html = self.staff.get(f"/cases/{self.case.pk}/").content.decode()
        self.assertIn("满意度评价", html)
        self.assertIn("井盖还是松的", html)
        self.assertIn("群众评价", html)  # the source
        # The timeline names who rated (nobody logged in): the reporter, through the portal.
        self.assertIn('<div class="who">反映人（网上评价）</div>', html)
        self.assertIn('id="act-reopen"', html)
        self.assertIn('id="act-keep_closed"', html)
        municipal = self.made["municipal"].pk
        self.assertRegex(html, rf'<option value="{municipal}"[^>]*selected')
        keep = html[html.index('id="act-keep_closed"') :]
        self.assertIn("答复群众", keep[: keep.index("</form>")])

    def test_it_reopens_to_the_unit_and_the_citizen_sees_it(self):
        response = self.act("reopen", unit=self.made["municipal"].pk)
        self.assertEqual(response.status_code, 302, response.content.decode()[:2000])
        self.case.refresh_from_db()
        self.assertEqual((self.case.status, self.case.reopen_count), (Status.DISPATCHED, 1))
        html = self.page(f"/p/t/{self.tracker.token}/")
        self.assertIn("已重新交办「市政所」", html)
        self.assertIn("已交由「市政所」办理", html)

    def test_it_keeps_closed_with_a_reply_the_citizen_reads(self):
        response = self.act("keep_closed", note="")
        self.assertEqual(response.status_code, 400)
        self.assertIn("请填写给群众的答复", response.content.decode())
        reply = "经复核，井盖已更换并加固，现场无松动。"
        response = self.act("keep_closed", note=reply)
        self.assertEqual(response.status_code, 302, response.content.decode()[:2000])
        self.assertEqual(Case.objects.get(pk=self.case.pk).status, Status.CLOSED)
        html = self.page(f"/p/t/{self.tracker.token}/")
        self.assertIn("维持结案", html)
        self.assertIn(reply, html)
        self.assertIn("答复", html)
        self.assertIn(reply, self.page(f"/p/c/{self.case.number}/"))
        # Closed again: the reply sits above the rating form, which is open once more.
        self.assertIn("复核答复", html)
        self.assertIn("请评价复核结果", html)
        self.assertLess(html.index("复核答复"), html.index('name="satisfaction"'))
        self.assertNoPersonalData(html.replace(self.case.description, "").replace("井盖还是松的", ""))

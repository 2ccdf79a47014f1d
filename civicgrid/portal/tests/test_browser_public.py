"""The portal's public pages in headless Chromium at a phone's size (390×844).

A citizen keeps the private link open while the staff take the case through the loop (through
the services, in this thread); the page shows each new step without the test reloading it (the
page polls every second here), then the citizen rates it 不满意 in the browser, and the shift
lead's reopening appears on the page by itself. A second test opens the public map and list and
the monthly figures. Any JavaScript error, failed request or error answer fails the test.

    .venv/bin/python -m pytest -q civicgrid/portal/tests/test_browser_public.py

With CIVICGRID_SCREENSHOTS=1 it also writes docs/screenshots/portal-{track,rate,cases,figures}.png.
Without /usr/bin/chromium the class is skipped (`apt-get install chromium fonts-noto-cjk`).
"""

from __future__ import annotations

import os
from datetime import timedelta

from django.core.management import call_command
from django.test import override_settings
from django.utils import timezone
from shapely.geometry import shape

from civicgrid.cases.models import Case, Channel
from civicgrid.cases.services import ActInput, ReportInput, case_act, case_rate, case_report
from civicgrid.cases.tests.test_screenshots import MAX_BYTES, OUT, scene
from civicgrid.catalog.models import Category
from civicgrid.core.models import OrgUnit, User
from civicgrid.core.tests.browser import ChromiumTestCase, needs_chromium
from civicgrid.geo.models import ResponsibilityGrid
from civicgrid.portal.models import Tracker

TIMEOUT_MS = 10_000
PHONE = {"width": 390, "height": 844}
SCREENSHOTS = os.environ.get("CIVICGRID_SCREENSHOTS") == "1"
REPORTER_NAME, REPORTER_PHONE = "赵小明", "13712345678"


@needs_chromium
@override_settings(CIVICGRID_PORTAL_POLL_SECONDS=1)
class PublicBrowserTests(ChromiumTestCase):
    def setUp(self):
        call_command("demo", cases=0, verbosity=0)
        self.users = {u.username: u for u in User.objects.all()}
        self.municipal = OrgUnit.objects.get(code="CG12")
        grids = ResponsibilityGrid.objects.get(inspector__username="inspector").grids.order_by("code")
        self.points = [shape(g.geometry).representative_point() for g in grids[:6]]
        self.category = Category.objects.filter(name="雨水井盖", is_active=True).first()
        self.problems: list[str] = []

    #
    # The private link, followed on the phone
    #

    def test_it_follows_a_case_on_the_phone_without_reloading_and_rates_it(self):
        from playwright.sync_api import expect

        case = self.report(self.points[0], photos=[scene("#8fb3d9", "before")])
        tracker = Tracker.objects.create(
            case=case, kind=Tracker.Kind.REPORTER, name=REPORTER_NAME, phone=REPORTER_PHONE
        )
        page = self.phone()
        page.goto(self.live_server_url + f"/p/t/{tracker.token}/")
        expect(page.locator(".headline")).to_have_text("核实中")
        page.evaluate("window.notReloaded = true")
        latest = page.locator(".step.latest .text")

        # Each step taken by the staff shows up by itself.
        unit = {"unit_id": self.municipal.pk}
        after = {"photos": [scene("#9db7a8", "after")], "note": "已更换井盖"}
        for action, who, fields, text in [
            ("verify_confirm", "inspector", {}, "已完成现场核实"),
            ("file", "operator", {}, "已立案"),
            ("dispatch", "dispatcher", unit, "已交由「市政设施管理所」办理"),
            ("sign", "handler", {}, "办理单位已接单，正在处置"),
            ("handled", "handler", after, "已处置"),
            ("check_pass", "inspector", {}, "已核查：现场确认已处置到位"),
            ("close", "shift_lead", {}, "已办结"),
        ]:
            self.act(case, action, who, **fields)
            expect(latest).to_have_text(text)
            if action == "dispatch":
                expect(page.locator(".headline")).to_have_text("已交由「市政设施管理所」办理")
            if action == "handled":
                expect(page.locator(".step.latest img")).to_be_visible()
                self.shoot(page, "portal-track")
        self.assertIs(page.evaluate("window.notReloaded"), True)
        self.assertIn("黄志强", str(self.users["handler"]))
        self.assertNotIn("黄志强", page.content())  # the handler's name never reaches the page

        # Closed: the rating form has come in with the last poll.
        page.locator("label.level-dissatisfied").click()
        page.locator("textarea[name=comment]").fill("井盖还是松的，踩上去有响声。")
        expect(page.locator("input[value=dissatisfied]")).to_be_checked()
        self.shoot(page, "portal-rate")
        with page.expect_navigation() as navigation:
            page.get_by_role("button", name="提交评价").click()
        self.assertLess(navigation.value.status, 400)
        expect(page.locator(".p-notice.success")).to_contain_text("已收到您的评价")
        expect(latest).to_have_text("您的评价「不满意」已收到，正在复核")
        expect(page.locator(".headline")).to_have_text("复核中")

        # The shift lead sends it back to the unit: the page says so without a reload.
        page.evaluate("window.notReloaded = true")
        self.act(case, "reopen", "shift_lead", unit_id=self.municipal.pk)
        expect(latest).to_have_text("已重新交办「市政设施管理所」")
        self.assertIs(page.evaluate("window.notReloaded"), True)
        self.assertEqual(self.problems, [])

    #
    # The public map, list and figures
    #

    def test_it_shows_the_public_map_list_and_figures(self):
        from playwright.sync_api import expect

        self.build_month()
        page = self.phone()
        page.goto(self.live_server_url + "/p/cases/")
        expect(page.locator(".case-list li")).to_have_count(6)
        expect(page.locator("#public-map path.leaflet-interactive")).to_have_count(6)
        expect(page.locator("#map-note")).to_contain_text("约 30 米")
        self.shoot(page, "portal-cases")
        page.locator("select[name=street]").select_option(index=1)
        with page.expect_navigation():
            page.get_by_role("button", name="筛选").click()
        expect(page.locator(".p-card h2").first).to_contain_text("共")

        page.goto(self.live_server_url + "/p/figures/")
        expect(page.locator("#figures-chart svg")).to_be_attached()
        expect(page.locator("table.figures tbody tr").first).to_be_visible()
        self.shoot(page, "portal-figures")
        self.assertEqual(self.problems, [])

    #
    # Helpers
    #

    def phone(self):
        context = self.browser.new_context(
            viewport=PHONE, device_scale_factor=1, is_mobile=True, has_touch=True, locale="zh-CN"
        )
        context.set_default_timeout(TIMEOUT_MS)
        self.addCleanup(context.close)
        page = context.new_page()
        page.on("console", lambda msg: msg.type == "error" and self.problems.append(msg.text))
        page.on("pageerror", lambda exc: self.problems.append(str(exc)))
        page.on(
            "requestfailed",
            lambda req: req.failure != "net::ERR_ABORTED" and self.problems.append(f"{req.url} {req.failure}"),
        )
        page.on("response", lambda r: r.status >= 400 and self.problems.append(f"{r.url} answered {r.status}"))
        return page

    def report(self, point, *, created_at=None, photos=()) -> Case:
        return case_report(
            data=ReportInput(
                channel=Channel.PUBLIC,
                category_id=self.category.pk,
                lon=round(point.x, 6),
                lat=round(point.y, 6),
                description="路边雨水井盖松动，踩上去有响声。",
                reporter_name=REPORTER_NAME,
                reporter_phone=REPORTER_PHONE,
                created_at=created_at,
                photos=list(photos),
            ),
            actor=None,
        )

    def act(self, case: Case, action: str, who: str, when=None, **fields) -> Case:
        case.refresh_from_db()
        return case_act(
            case_id=case.pk,
            data=ActInput(action=action, version=case.version, **fields),
            actor=self.users[who],
            now=when,
        )

    def build_month(self) -> None:
        """Six cases reported three days ago in different states; two closed — one on time, one
        handled days late — and rated 满意 and 不满意."""
        early = timezone.now() - timedelta(days=3)
        soon = early + timedelta(hours=1)
        cases = [self.report(p, created_at=early) for p in self.points[:6]]
        for case in cases[1:]:
            self.act(case, "verify_confirm", "inspector", when=early)
            self.act(case, "file", "operator", when=early)
        for case in cases[2:]:
            self.act(case, "dispatch", "dispatcher", when=early, unit_id=self.municipal.pk)
        for case in cases[3:]:
            self.act(case, "sign", "handler", when=early)
        for case, when in ((cases[3], soon), (cases[4], soon), (cases[5], None)):
            self.act(case, "handled", "handler", when=when, photos=[scene("#9db7a8", "after")])
            self.act(case, "check_pass", "inspector", when=when)
        for case, when in ((cases[4], soon), (cases[5], None)):
            self.act(case, "close", "shift_lead", when=when)
        case_rate(case_id=cases[4].pk, satisfaction="satisfied")
        case_rate(case_id=cases[5].pk, satisfaction="dissatisfied", comment="还是有响声")

    def shoot(self, page, name: str) -> None:
        if not SCREENSHOTS:
            return
        OUT.mkdir(parents=True, exist_ok=True)
        page.wait_for_load_state("networkidle")
        path = OUT / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        self.assertLess(path.stat().st_size, MAX_BYTES, path.name)

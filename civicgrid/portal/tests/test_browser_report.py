"""Citizens report on a phone in headless Chromium (390 × 844): one with a photo and a tap on
the map, one without touching the map (a typed landmark chosen from the list, the category
found by search). Each gets the tracking number and the private link. A JavaScript error, a
failed request or an error answer fails the test.

    .venv/bin/python -m pytest -q civicgrid/portal/tests/test_browser_report.py

With CIVICGRID_SCREENSHOTS=1 it also saves docs/screenshots/portal-home.png, portal-report.png
and portal-report-done.png. Without /usr/bin/chromium the class is skipped
(`apt-get install chromium fonts-noto-cjk`).
"""

from __future__ import annotations

import io
import os
import re

from django.core.cache import cache
from django.core.management import call_command
from django.test import override_settings
from PIL import Image, ImageDraw

from civicgrid.cases.models import Case
from civicgrid.cases.services import ActInput, ReportInput, case_act, case_report
from civicgrid.cases.tests.fixtures import photo
from civicgrid.cases.tests.test_screenshots import MAX_BYTES, OUT
from civicgrid.core.demo import demo_password
from civicgrid.core.models import OrgUnit, User
from civicgrid.core.tests.browser import ChromiumTestCase, needs_chromium
from civicgrid.notifications.models import NotificationSubscription
from civicgrid.portal.defaults import DEMO_PLACES
from civicgrid.portal.models import CategoryTile, Place, Tracker
from civicgrid.portal.tests.helpers import PROVIDER, SENT, last_code

SCREENSHOTS = os.environ.get("CIVICGRID_SCREENSHOTS") == "1"
TIMEOUT_MS = 10_000
PHONE = {"width": 390, "height": 844}
NUMBER = r"360725-\d{4}-\d{6}"


def street_photo() -> dict:
    """A small JPEG as the camera hands it over: a grey road with a dark hole."""
    img = Image.new("RGB", (480, 360), (150, 190, 220))
    draw = ImageDraw.Draw(img)
    draw.rectangle((0, 200, 480, 360), fill=(120, 120, 120))
    draw.ellipse((180, 250, 300, 300), fill=(40, 35, 30))
    buffer = io.BytesIO()
    img.save(buffer, "JPEG", quality=80)
    return {"name": "IMG_2041.jpg", "mimeType": "image/jpeg", "buffer": buffer.getvalue()}


@needs_chromium
class PortalReportBrowserTests(ChromiumTestCase):
    def setUp(self):
        call_command("demo", cases=0, verbosity=0)
        cache.clear()
        self.problems: list[str] = []
        context = self.browser.new_context(
            viewport=PHONE, device_scale_factor=1, is_mobile=True, has_touch=True, locale="zh-CN"
        )
        context.set_default_timeout(TIMEOUT_MS)
        self.addCleanup(context.close)
        self.page = page = context.new_page()
        page.on("console", lambda msg: msg.type == "error" and self.problems.append(msg.text))
        page.on("pageerror", lambda exc: self.problems.append(str(exc)))
        page.on("requestfailed", lambda req: self.problems.append(f"{req.method} {req.url} {req.failure}"))
        page.on("response", lambda r: r.status >= 400 and self.problems.append(f"{r.status} {r.url}"))

    def url(self, path: str) -> str:
        return f"{self.live_server_url}{path}"

    def shoot(self, name: str, full_page: bool = True) -> None:
        if not SCREENSHOTS:
            return
        OUT.mkdir(parents=True, exist_ok=True)
        self.page.wait_for_load_state("networkidle")
        path = OUT / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=full_page)
        self.assertLess(path.stat().st_size, MAX_BYTES, path.name)

    def submit(self) -> None:
        with self.page.expect_navigation() as navigation:
            self.page.locator("button[name=submit]").click()
        self.assertLess(navigation.value.status, 400, navigation.value.url)
        self.assertEqual(self.problems, [])

    def assert_done(self) -> Case:
        from playwright.sync_api import expect

        page = self.page
        expect(page.get_by_role("heading", name="已收到您的反映")).to_be_visible()
        expect(page.locator("#case-number")).to_have_text(re.compile(NUMBER))
        number = page.locator("#case-number").inner_text().strip()
        tracker = Tracker.objects.get(case__number=number)
        expect(page.locator("#private-link")).to_have_value(self.url(f"/p/t/{tracker.token}/"))
        expect(page.get_by_text("请保存此链接")).to_be_visible()
        expect(page.get_by_role("link", name="查看办理进度")).to_have_attribute("href", f"/p/t/{tracker.token}/")
        self.assertEqual(tracker.kind, Tracker.Kind.REPORTER)
        return tracker.case

    def report_by_map_tap(self) -> Case:
        """From the portal's home: a tap on the map, a tile, a photo, a description, submitted."""
        from playwright.sync_api import expect

        page = self.page
        page.goto(self.url("/p/"))
        expect(page.get_by_role("link", name=re.compile("我要反映"))).to_be_visible()
        self.shoot("portal-home", full_page=False)
        with page.expect_navigation():
            page.get_by_role("link", name=re.compile("我要反映")).click()

        expect(page.locator("#report-map .leaflet-overlay-pane path").first).to_be_attached()  # streets drawn
        box = page.locator("#report-map").bounding_box()
        page.touchscreen.tap(box["x"] + box["width"] * 0.5, box["y"] + box["height"] * 0.5)
        expect(page.locator("#id_lon")).to_have_value(re.compile(r"^114\.\d{6}$"))
        expect(page.locator("#id_lat")).to_have_value(re.compile(r"^25\.\d{6}$"))
        expect(page.locator("#locate-status")).to_have_text("已在地图上选定位置")

        page.get_by_text("路灯不亮", exact=True).click()
        expect(page.locator("input[name=category]:checked")).to_have_count(1)
        page.locator("#id_photos").set_input_files(street_photo())
        expect(page.locator("#photo-previews img")).to_have_count(1)
        expect(page.locator("#photo-count")).to_have_text("已选 1 张照片")
        page.locator("#id_description").fill("小区门口的路灯晚上不亮，已经好几天了。")
        page.locator("#id_name").fill("王先生")
        self.tapped = (page.locator("#id_lon").input_value(), page.locator("#id_lat").input_value())
        self.shoot("portal-report")
        self.submit()
        return self.assert_done()

    def test_it_takes_a_report_with_a_photo_and_a_tap_on_the_map(self):
        case = self.report_by_map_tap()
        self.shoot("portal-report-done", full_page=False)
        self.assertEqual((case.channel, case.category.name, case.reporter_name), ("public", "路灯", "王先生"))
        self.assertEqual(case.attachments.count(), 1)
        self.assertEqual((f"{case.lon:.6f}", f"{case.lat:.6f}"), self.tapped)  # where the map was tapped
        self.assertEqual(self.problems, [])

    @override_settings(CIVICGRID_PORTAL_POLL_SECONDS=1)
    def test_a_citizen_reports_follows_the_case_rates_it_dissatisfied_and_sees_it_reopened(self):
        """The issue's whole story on one phone: report with a photo and a map tap, follow the
        private link, watch the staff act (the page polls; the test never reloads it), rate
        不满意, and see the shift lead's reopening, which he does on his own case page."""
        from playwright.sync_api import expect

        case = self.report_by_map_tap()
        page = self.page
        with page.expect_navigation():
            page.get_by_role("link", name="查看办理进度").click()
        expect(page.locator(".headline")).to_have_text("核实中")
        page.evaluate("window.notReloaded = true")
        latest = page.locator(".step.latest .text")

        users = {u.username: u for u in User.objects.all()}
        lights = OrgUnit.objects.get(code="CG12")  # 市政设施管理所: the demo handler's unit
        for action, who, fields, text in [
            ("verify_confirm", "inspector", {}, "已完成现场核实"),
            ("file", "operator", {}, "已立案"),
            ("dispatch", "dispatcher", {"unit_id": lights.pk}, f"已交由「{lights.name}」办理"),
            ("sign", "handler", {}, "办理单位已接单，正在处置"),
            ("handled", "handler", {"photos": [photo()], "note": "已更换灯泡"}, "已处置"),
            ("check_pass", "inspector", {}, "已核查：现场确认已处置到位"),
            ("close", "shift_lead", {}, "已办结"),
        ]:
            case.refresh_from_db()
            data = ActInput(action=action, version=case.version, **fields)
            case_act(case_id=case.pk, data=data, actor=users[who])
            expect(latest).to_have_text(text)
            if action == "handled":
                expect(page.locator(".step.latest img")).to_be_visible()  # the after-photo

        page.locator("label.level-dissatisfied").click()
        page.locator("textarea[name=comment]").fill("晚上还是不亮。")
        with page.expect_navigation() as navigation:
            page.get_by_role("button", name="提交评价").click()
        self.assertLess(navigation.value.status, 400)
        expect(latest).to_have_text("您的评价「不满意」已收到，正在复核")
        page.evaluate("window.notReloaded = true")

        # The shift lead, at his desk: the case waits in 待审批; he sends it back to the unit.
        desk = self.browser.new_context(viewport={"width": 1366, "height": 900}, locale="zh-CN")
        desk.set_default_timeout(TIMEOUT_MS)
        self.addCleanup(desk.close)
        lead = desk.new_page()
        lead.on("pageerror", lambda exc: self.problems.append(f"shift_lead: {exc}"))
        lead.goto(self.url("/accounts/login/"))
        lead.locator("input[name=username]").fill("shift_lead")
        lead.locator("input[name=password]").fill(demo_password("shift_lead"))
        with lead.expect_navigation():
            lead.get_by_role("button", name="登录").click()
        lead.goto(self.url(f"/cases/?queue=approve&q={case.number}"))
        with lead.expect_navigation():
            lead.locator("table.cases").get_by_role("link", name=case.number, exact=True).click()
        expect(lead.locator(".case-head .status-badge")).to_have_text("不满意待复核")
        expect(lead.locator(".case-head")).to_contain_text(case.number)
        form = lead.locator("#act-reopen")
        expect(form.locator("select")).to_have_value(str(lights.pk))  # back to the unit that handled it
        with lead.expect_navigation() as answer:
            form.get_by_role("button", name="重新办理", exact=True).click()
        self.assertLess(answer.value.status, 400)
        expect(lead.locator(".case-head .status-badge")).to_have_text("待签收")

        expect(latest).to_have_text(f"已重新交办「{lights.name}」")
        self.assertIs(page.evaluate("window.notReloaded"), True)
        case.refresh_from_db()
        self.assertEqual((case.status, case.reopen_count), ("dispatched", 1))
        self.assertEqual(self.problems, [])

    def test_it_takes_a_report_without_the_map(self):
        from playwright.sync_api import expect

        page = self.page
        page.goto(self.url("/p/report/"))
        school = Place.objects.get(name="崇义中学")
        self.assertEqual(Place.objects.count(), len(DEMO_PLACES))  # the demo put every landmark in town

        # The place: typed, searched, chosen from the list.
        page.get_by_label("或者输入地址、地标").fill("一中")
        page.get_by_role("button", name="搜索地点").click()
        option = page.get_by_role("radio", name=re.compile("崇义中学"))
        expect(option).to_have_count(1)
        page.locator("label.p-option", has_text="崇义中学").click()
        expect(option).to_be_checked()
        expect(page.locator("#locate-status")).to_have_text("已选择：崇义中学")
        expect(page.locator("#id_lon")).to_have_value("")

        # The category: by search, not a tile.
        page.get_by_label("没有合适的？搜索问题类型").fill("井盖")
        page.get_by_role("button", name="搜索", exact=True).click()
        expect(page.get_by_role("radio", name=re.compile("^雨水井盖"))).to_have_count(1)
        page.locator("label.p-option", has_text="雨水井盖").first.click()
        expect(page.get_by_role("radio", name=re.compile("^雨水井盖"))).to_be_checked()
        page.locator("#step-where").scroll_into_view_if_needed()
        self.shoot("portal-report-search", full_page=False)

        page.locator("#id_description").fill("学校门口的雨水井盖松动，踩上去有响声。")
        self.submit()

        case = self.assert_done()
        self.assertEqual((case.address, case.category.name), ("崇义中学", "雨水井盖"))
        self.assertEqual((round(case.lon, 6), round(case.lat, 6)), (round(school.lon, 6), round(school.lat, 6)))
        self.assertEqual(self.problems, [])

    @override_settings(CIVICGRID_SMS_PROVIDER=PROVIDER)
    def test_it_follows_a_nearby_case_with_a_verified_phone(self):
        from playwright.sync_api import expect

        page = self.page
        school = Place.objects.get(name="崇义中学")
        light = CategoryTile.objects.get(label="路灯不亮").category
        existing = case_report(
            data=ReportInput(
                channel="public", category_id=light.pk, lon=school.lon, lat=school.lat, description="路灯不亮"
            ),
            actor=None,
        )
        SENT.clear()
        page.goto(self.url("/p/report/"))
        page.get_by_label("或者输入地址、地标").fill("崇义中学")
        page.get_by_label("或者输入地址、地标").press("Enter")
        page.locator("label.p-option", has_text="崇义中学").click()
        page.get_by_text("路灯不亮", exact=True).click()
        nearby = page.locator("#nearby")
        expect(nearby).to_contain_text("附近已有 1 件相同的问题正在办理")
        expect(nearby).to_contain_text(existing.number)

        page.locator("#id_phone").fill("13912345678")
        page.get_by_role("button", name="获取验证码").click()
        expect(page.locator("#otp-status")).to_have_text("验证码已发送到 139****5678，5 分钟内有效")
        expect(page.locator("#send-code")).to_be_disabled()  # a minute before sending again
        page.locator("#id_code").fill(last_code("13912345678"))
        page.get_by_label("接收办理进度短信").check()
        with page.expect_navigation() as navigation:
            nearby.get_by_role("button", name="关注这一件，不再重复上报").click()
        self.assertLess(navigation.value.status, 400)

        tracker = Tracker.objects.get(kind=Tracker.Kind.FOLLOWER)
        self.assertEqual(page.url, self.url(f"/p/t/{tracker.token}/"))
        self.assertEqual((tracker.case, tracker.phone_verified, tracker.notify), (existing, True, True))
        self.assertEqual(NotificationSubscription.objects.get().phone, "13912345678")
        self.assertEqual(Case.objects.count(), 1)
        self.assertEqual(self.problems, [])

    def test_it_takes_a_report_with_javascript_turned_off(self):
        from playwright.sync_api import expect

        context = self.browser.new_context(
            viewport=PHONE,
            device_scale_factor=1,
            is_mobile=True,
            has_touch=True,
            locale="zh-CN",
            java_script_enabled=False,
        )
        context.set_default_timeout(TIMEOUT_MS)
        self.addCleanup(context.close)
        page = self.page = context.new_page()
        page.on("response", lambda r: r.status >= 400 and self.problems.append(f"{r.status} {r.url}"))
        page.goto(self.url("/p/report/"))
        expect(page.locator("#report-map")).to_be_hidden()  # the map needs the script
        page.get_by_label("或者输入地址、地标").fill("菜市场")
        with page.expect_navigation():
            page.get_by_role("button", name="搜索地点").click()
        page.locator("label.p-option", has_text="横水农贸市场").click()
        page.get_by_label("没有合适的？搜索问题类型").fill("占道")
        with page.expect_navigation():
            page.get_by_role("button", name="搜索", exact=True).click()
        expect(page.get_by_role("radio", name=re.compile("^横水农贸市场"))).to_be_checked()  # kept
        page.locator("label.p-option", has_text="施工占道").click()
        page.locator("#id_description").fill("菜市场门口施工围挡占了半条路。")
        self.submit()
        case = self.assert_done()
        self.assertEqual((case.address, case.category.name), ("横水农贸市场", "施工占道"))
        self.assertEqual(self.problems, [])

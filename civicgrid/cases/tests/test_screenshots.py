"""Screenshots of the workbenches for docs/screenshots/, taken in headless Chromium.

A documentation generator, not part of CI: it runs only with CIVICGRID_SCREENSHOTS=1.

    CIVICGRID_SCREENSHOTS=1 .venv/bin/python -m pytest civicgrid/cases/tests/test_screenshots.py

It builds the demo county, puts a handful of cases into different states through the
services (some overdue, one reworked and closed with photos), logs in as each demo user and
saves one PNG per page.
"""

from __future__ import annotations

import io
import os
import unittest
from datetime import timedelta
from pathlib import Path

from django.contrib.staticfiles.testing import StaticLiveServerTestCase
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.utils import timezone
from PIL import Image, ImageDraw
from shapely.geometry import shape

from civicgrid.cases.models import Case, Channel
from civicgrid.cases.services import ActInput, ReportInput, case_act, case_report
from civicgrid.catalog.models import Category
from civicgrid.core.demo import demo_password
from civicgrid.core.models import OrgUnit, User
from civicgrid.core.tests.browser import CHROMIUM_ARGS  # noqa: F401 (also imported from here)
from civicgrid.geo.models import ResponsibilityGrid

OUT = Path(__file__).resolve().parents[3] / "docs" / "screenshots"
MAX_BYTES = 400_000


def scene(colour: str, label: str) -> SimpleUploadedFile:
    """A plain photo stand-in: a coloured street scene with a few shapes."""
    img = Image.new("RGB", (640, 480), colour)
    draw = ImageDraw.Draw(img)
    draw.rectangle((0, 330, 640, 480), fill=(120, 120, 120))
    draw.rectangle((0, 395, 640, 405), fill=(240, 240, 240))
    draw.ellipse((250, 340, 390, 400), fill=(60, 50, 40) if label == "before" else (150, 150, 150))
    draw.rectangle((40, 80, 200, 330), fill=(200, 190, 170))
    draw.rectangle((440, 120, 600, 330), fill=(180, 170, 160))
    buffer = io.BytesIO()
    img.save(buffer, "JPEG", quality=80)
    return SimpleUploadedFile(f"{label}.jpg", buffer.getvalue(), content_type="image/jpeg")


@unittest.skipUnless(os.environ.get("CIVICGRID_SCREENSHOTS") == "1", "documentation generator: CIVICGRID_SCREENSHOTS=1")
class ScreenshotTests(StaticLiveServerTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        call_command("demo", verbosity=0)
        cls.cases = build_cases()

    def test_it_saves_the_workbench_screenshots(self):
        from playwright.sync_api import sync_playwright

        OUT.mkdir(parents=True, exist_ok=True)
        shots: list[Path] = []
        with sync_playwright() as pw:
            browser = pw.chromium.launch(
                executable_path="/usr/bin/chromium",
                args=CHROMIUM_ARGS,
                env={**os.environ, "LANG": "zh_CN.UTF-8", "LANGUAGE": "zh_CN"},
            )
            try:
                for username in ("inspector", "operator", "shift_lead", "dispatcher", "handler", "leader", "admin"):
                    page = self.login(browser, username)
                    page.goto(f"{self.live_server_url}/cases/")
                    # The first screenful: a full page of 50 rows would pass the 400 KB limit.
                    shots.append(self.shoot(page, f"workbench-{username}", full_page=False))
                    if username == "operator":
                        page.goto(f"{self.live_server_url}/cases/{self.cases['pending'].pk}/")
                        shots.append(self.shoot(page, "case-operator-duplicates"))
                        page.goto(f"{self.live_server_url}/cases/new/")
                        page.wait_for_selector(".leaflet-overlay-pane path", timeout=10_000)
                        # Half filled in: a point clicked on the map, the category search open.
                        box = page.locator("#case-map").bounding_box()
                        page.mouse.click(box["x"] + box["width"] * 0.45, box["y"] + box["height"] * 0.5)
                        page.fill("#id_description", "市民来电：学校门口井盖松动，踩上去有响声。")
                        page.fill("#id_reporter_name", "赵先生")
                        page.fill("#id_reporter_phone", "13712345678")
                        page.fill(".category-search", "井盖")
                        page.wait_for_selector(".category-option", timeout=10_000)
                        shots.append(self.shoot(page, "new-report"))
                    if username == "shift_lead":
                        page.goto(f"{self.live_server_url}/cases/{self.cases['closed'].pk}/")
                        shots.append(self.shoot(page, "case-page"))
                        page.goto(f"{self.live_server_url}/cases/{self.cases['extension'].pk}/")
                        shots.append(self.shoot(page, "case-shift-lead-approval"))
                    if username == "handler":
                        page.goto(f"{self.live_server_url}/cases/{self.cases['overdue'].pk}/")
                        shots.append(self.shoot(page, "case-handler-overdue"))
                    if username == "dispatcher":
                        page.goto(f"{self.live_server_url}/cases/{self.cases['filed'].pk}/")
                        shots.append(self.shoot(page, "case-dispatcher-dispatch"))
                    page.context.close()

                # The phone stands near the first verify task; the browser grants its position.
                near = self.cases["verify1"]
                page = self.login(browser, "inspector", mobile=True, position=(near.lon + 0.0003, near.lat))
                page.goto(f"{self.live_server_url}/cases/m/")
                page.wait_for_selector(".leaflet-overlay-pane path", timeout=10_000)
                page.wait_for_selector("text=按距离排序", timeout=10_000)
                shots.append(self.shoot(page, "mobile-inspector", full_page=False))
                page.locator("#tasks").scroll_into_view_if_needed()
                shots.append(self.shoot(page, "mobile-inspector-tasks", full_page=False))
                page.goto(f"{self.live_server_url}/cases/m/{self.cases['checking'].pk}/")
                shots.append(self.shoot(page, "mobile-inspector-check", full_page=True))
                page.context.close()
            finally:
                browser.close()
        for path in shots:
            self.assertLess(path.stat().st_size, MAX_BYTES, path.name)

    def login(self, browser, username: str, mobile: bool = False, position=None):
        if mobile:
            context = browser.new_context(
                geolocation={"longitude": position[0], "latitude": position[1], "accuracy": 12},
                permissions=["geolocation"],
                viewport={"width": 390, "height": 844},
                device_scale_factor=1,
                is_mobile=True,
                has_touch=True,
                locale="zh-CN",
            )
        else:
            context = browser.new_context(viewport={"width": 1366, "height": 900}, locale="zh-CN")
        page = context.new_page()
        page.goto(f"{self.live_server_url}/accounts/login/")
        page.fill("input[name=username]", username)
        page.fill("input[name=password]", demo_password(username))
        page.click("button[type=submit]")
        page.wait_for_load_state("networkidle")
        return page

    def shoot(self, page, name: str, full_page: bool = True) -> Path:
        page.wait_for_load_state("networkidle")
        path = OUT / f"{name}.png"
        page.screenshot(path=str(path), full_page=full_page)
        return path


def build_cases() -> dict[str, Case]:
    """A handful of cases in the inspector's grids, in the states each role works on."""
    users = {
        u.username: u
        for u in User.objects.filter(
            username__in=["inspector", "operator", "shift_lead", "dispatcher", "handler", "leader"]
        )
    }
    municipal = OrgUnit.objects.get(code="CG12")
    rgrid = ResponsibilityGrid.objects.filter(inspector=users["inspector"]).first()
    points = []
    for grid in rgrid.grids.order_by("code"):
        p = shape(grid.geometry).representative_point()
        points.append((p.x, p.y))
    categories = {c.name: c for c in Category.objects.filter(is_active=True)}

    def category(*names):
        for name in names:
            if name in categories:
                return categories[name]
        return next(iter(categories.values()))

    # Demo categories with a handling time limit, so that the lights show.
    grate = category("雨水箅子")
    storm = category("雨水井盖")
    sewer = category("污水井盖")
    reclaimed = category("中水井盖")
    rubbish = category("暴露垃圾")
    spoil = category("积存垃圾渣土")
    now = timezone.now()
    made: dict[str, Case] = {}

    def rep(key, who, channel, cat, point, desc, *, ago=timedelta(0), **kw):
        made[key] = case_report(
            data=ReportInput(
                channel=channel,
                category_id=cat.pk,
                lon=point[0],
                lat=point[1],
                description=desc,
                created_at=now - ago,
                **kw,
            ),
            actor=users.get(who),
        )
        return made[key]

    def act(key, action, who, *, at=None, **kw):
        case = made[key]
        case.refresh_from_db()
        made[key] = case_act(
            case_id=case.pk, data=ActInput(action=action, version=case.version, **kw), actor=users[who], now=at
        )

    p = points + points  # enough points for every case
    hours = timedelta(hours=1)
    rep(
        "pending",
        "inspector",
        Channel.INSPECTOR,
        grate,
        p[0],
        "雨水箅子破损缺失一块，行人易踩空。",
        photos=[scene("#8fb3d9", "before")],
    )
    rep(
        "pending_dup",
        "operator",
        Channel.HOTLINE,
        grate,
        (p[0][0] + 0.0001, p[0][1]),
        "市民来电：路边雨水箅子坏了。",
        reporter_name="王女士",
        reporter_phone="13812345678",
    )
    act("pending_dup", "verify_confirm", "inspector")
    rep(
        "verify1",
        "operator",
        Channel.HOTLINE,
        sewer,
        p[1],
        "市民反映污水井盖松动，车辆经过有响声。",
        reporter_name="李先生",
        reporter_phone="13900001111",
    )
    rep("verify2", "operator", Channel.PUBLIC, rubbish, p[2], "路口绿化带旁有暴露垃圾。", ago=30 * hours)
    rep(
        "filed",
        "inspector",
        Channel.INSPECTOR,
        storm,
        p[3],
        "雨水井盖缺失，已设置临时警示。",
        photos=[scene("#9db7a8", "before")],
        urgent=True,
    )
    act("filed", "file", "operator")
    rep("overdue", "inspector", Channel.INSPECTOR, sewer, p[4], "污水井盖破裂下沉。", ago=26 * hours)
    act("overdue", "file", "operator", at=now - 25 * hours)
    act("overdue", "dispatch", "dispatcher", at=now - 24 * hours, unit_id=municipal.pk)
    act("overdue", "sign", "handler", at=now - 23 * hours)
    act("overdue", "supervise", "leader", note="超期未处置，请尽快办理。")
    rep("signing", "inspector", Channel.INSPECTOR, reclaimed, p[5], "中水井盖错位。")
    act("signing", "file", "operator")
    act("signing", "dispatch", "dispatcher", unit_id=municipal.pk)
    rep(
        "extension",
        "inspector",
        Channel.INSPECTOR,
        grate,
        p[6],
        "雨水箅子整体塌陷，需更换井座。",
        ago=6 * hours,
        photos=[scene("#b7a99d", "before")],
    )
    act("extension", "file", "operator", at=now - 5.5 * hours)
    act("extension", "dispatch", "dispatcher", at=now - 5.2 * hours, unit_id=municipal.pk)
    act("extension", "sign", "handler", at=now - 5 * hours)
    act("extension", "request_extension", "handler", note="需要定制井座，申请延期。", amount="24")
    rep("return", "inspector", Channel.INSPECTOR, spoil, p[7], "背街小巷堆放建筑渣土。")
    act("return", "file", "operator")
    act("return", "dispatch", "dispatcher", unit_id=municipal.pk)
    act("return", "request_return", "handler", note="渣土清运不属于市政设施管理所职责，应派城管执法大队。")
    rep("checking", "inspector", Channel.INSPECTOR, sewer, p[8], "污水井盖破损。", photos=[scene("#a3b1c6", "before")])
    act("checking", "file", "operator")
    act("checking", "dispatch", "dispatcher", unit_id=municipal.pk)
    act("checking", "sign", "handler")
    act(
        "checking",
        "handled",
        "handler",
        note="已更换井盖。",
        resolution_mode="service",
        photos=[scene("#a3b1c6", "after")],
    )

    # The case page's example: a refused return, an extension and a rework before closing.
    start = now - timedelta(days=3)
    rep(
        "closed",
        "inspector",
        Channel.INSPECTOR,
        storm,
        p[9],
        "雨水井盖破损，边缘翘起。",
        ago=timedelta(days=3),
        photos=[scene("#8fa8c8", "before"), scene("#97a3b3", "before")],
    )
    act("closed", "file", "operator", at=start + 0.2 * hours)
    act("closed", "dispatch", "dispatcher", at=start + 0.5 * hours, unit_id=municipal.pk)
    act("closed", "request_return", "handler", at=start + 1 * hours, note="该井盖属自来水公司，建议改派。")
    act("closed", "refuse_return", "dispatcher", at=start + 1.5 * hours, note="经核对为市政雨水井盖，请处置。")
    act("closed", "sign", "handler", at=start + 1.8 * hours)
    act("closed", "request_extension", "handler", at=start + 2 * hours, note="需定制井盖。", amount="4")
    act("closed", "approve_extension", "shift_lead", at=start + 2.5 * hours)
    act(
        "closed",
        "handled",
        "handler",
        at=start + 5 * hours,
        note="已更换井盖。",
        resolution_mode="service",
        photos=[scene("#8fa8c8", "after")],
    )
    act("closed", "check_fail", "inspector", at=start + 6 * hours, note="井盖与路面高差仍超过 1 厘米。")
    act(
        "closed",
        "handled",
        "handler",
        at=start + 24 * hours,
        note="已调整井座高度。",
        resolution_mode="service",
        photos=[scene("#97a3b3", "after")],
    )
    act("closed", "check_pass", "inspector", at=start + 25 * hours)
    act("closed", "close", "shift_lead", at=start + 26 * hours)
    return made

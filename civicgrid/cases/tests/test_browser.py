"""The closed loop in a real browser: each demo user logs in and plays their part.

Headless Chromium (Debian's /usr/bin/chromium, driven by Playwright) goes through the pages
as people would: the inspector reports from the phone page with a photo and the GPS position,
the operator files, the dispatcher dispatches, the handler signs and sends his feedback with an
after-photo, the inspector checks on the phone, the shift lead closes. A second case comes in
by the hotline and goes through a return, an extension and a failed check before closing.
Nothing under test is done through the services; only the demo county is built in Python.
Every page is watched for JavaScript errors and failed loads, which fail the test.

    .venv/bin/python -m pytest -q civicgrid/cases/tests/test_browser.py

Without /usr/bin/chromium the class is skipped (`apt-get install chromium fonts-noto-cjk`).
"""

from __future__ import annotations

import io
import re
from datetime import datetime, timedelta
from urllib.parse import parse_qs, urlsplit

from django.core.management import call_command
from PIL import Image, ImageDraw
from shapely.geometry import shape

from civicgrid.core.demo import demo_password
from civicgrid.core.tests.browser import ChromiumTestCase, needs_chromium
from civicgrid.geo.models import ResponsibilityGrid

TIMEOUT_MS = 10_000
PHONE = {"width": 390, "height": 844}
DESK = {"width": 1366, "height": 900}
NUMBER = r"360725-\d{4}-\d{6}"

# The demo users (civicgrid.core.demo.DEMO_USERS) as the timeline names them: person · unit.
INSPECTOR = "刘建华 · 监督中心"
OPERATOR = "陈丽 · 监督中心"
SHIFT_LEAD = "王海军 · 监督中心"
DISPATCHER = "张敏 · 指挥中心"
HANDLER = "黄志强 · 市政设施管理所"
MUNICIPAL = "市政设施管理所"


def photo(colour: str) -> dict:
    """A small JPEG as the camera or the file chooser would hand it over."""
    img = Image.new("RGB", (320, 240), colour)
    ImageDraw.Draw(img).ellipse((120, 150, 200, 200), fill=(60, 50, 40))
    buffer = io.BytesIO()
    img.save(buffer, "JPEG", quality=80)
    return {"name": f"{colour.strip('#')}.jpg", "mimeType": "image/jpeg", "buffer": buffer.getvalue()}


@needs_chromium
class BrowserLoopTests(ChromiumTestCase):
    """One browser for the class; each test builds the demo county (a TransactionTestCase
    empties the database after every test) and opens one browser context per user."""

    def setUp(self):
        call_command("demo", cases=0, verbosity=0)
        grid = ResponsibilityGrid.objects.get(inspector__username="inspector").grids.order_by("code").first()
        point = shape(grid.geometry).representative_point()
        self.point = (round(point.x, 6), round(point.y, 6))  # in the inspector's first grid
        self.problems: list[str] = []
        self.pages: dict[str, object] = {}
        self.addCleanup(self.close_contexts)

    def close_contexts(self):
        for page in self.pages.values():
            page.context.close()

    #
    # The loop
    #

    def test_it_takes_an_inspectors_phone_report_to_closure(self):
        from playwright.sync_api import expect

        # The inspector, standing in his grid, reports from the phone with a photo and the GPS fix.
        phone = self.as_user("inspector")
        phone.goto(self.url("/cases/m/"))
        expect(
            phone.locator("#case-map .leaflet-overlay-pane path:not(.leaflet-interactive)").first
        ).to_be_attached()  # the grids drawn
        phone.get_by_role("button", name="获取当前位置").click()
        expect(phone.locator(".gps-status")).to_contain_text("已定位")
        expect(phone.locator("#id_lon")).to_have_value(f"{self.point[0]:.6f}")
        expect(phone.locator("#id_lat")).to_have_value(f"{self.point[1]:.6f}")
        phone.locator("#report input[type=file][name=photos]").set_input_files(photo("#8fb3d9"))
        expect(phone.locator(".photo-count")).to_have_text("已选 1 张")
        self.pick_category(phone, "井盖", "雨水井盖")
        phone.locator("#id_description").fill("雨水井盖破损，边缘翘起，行人易绊倒。")
        self.submit(phone, phone.get_by_role("button", name="上报", exact=True))
        expect(phone.locator(".messages")).to_contain_text(re.compile(f"已上报 {NUMBER}"))
        number = re.search(NUMBER, phone.locator(".messages").inner_text()).group(0)
        expect(phone.locator(".picked")).to_contain_text("尚未选择")  # a fresh form for the next report

        # The operator files it from the 待立案 queue.
        desk = self.open_case("operator", "file", number)
        expect(desk.locator(".case-head .status-badge")).to_have_text("待立案")
        expect(desk.locator(".facts")).to_contain_text("监督员上报")
        self.act(desk, "file", "立案", number, "待派遣")

        # The dispatcher sends it to the municipal facilities unit.
        desk = self.open_case("dispatcher", "dispatch", number)
        self.act(desk, "dispatch", "派遣", number, "待签收", unit=MUNICIPAL)
        expect(desk.locator(".facts")).to_contain_text(MUNICIPAL)

        # The handler signs, repairs it and reports back with an after-photo.
        desk = self.open_case("handler", "sign", number)
        self.act(desk, "sign", "签收", number, "处置中")
        self.act(desk, "handled", "处置反馈", number, "待核查", note="已更换雨水井盖。", photos=[photo("#97a3b3")])

        # The inspector checks it on the phone: the task is in his list.
        phone.goto(self.url("/cases/m/"))
        self.open_task(phone, "核查 · 雨水井盖", number, "待核查")
        expect(phone.locator(".thumbs img")).to_have_count(2)  # before and after
        self.submit(phone, phone.locator("#act-check_pass").get_by_role("button", name="核查通过"))
        expect(phone.locator(".messages")).to_contain_text(f"已核查通过：{number}")
        expect(phone.locator("#tasks")).to_contain_text("暂无核实、核查任务。")

        # The shift lead closes it.
        desk = self.open_case("shift_lead", "close", number)
        self.act(desk, "close", "结案", number, "已结案")
        expect(desk.locator(".head-clock")).to_contain_text("已结案")
        expect(desk.locator(".case-side")).to_contain_text("您当前没有可对此案件执行的操作。")
        self.assertEqual(
            self.timeline(desk),
            [
                ("上报", INSPECTOR),
                ("立案", OPERATOR),
                ("派遣", DISPATCHER),
                ("签收", HANDLER),
                ("处置反馈", HANDLER),
                ("核查通过", INSPECTOR),
                ("结案", SHIFT_LEAD),
            ],
        )
        self.assert_photos(desk, before=1, after=1)
        self.assert_no_problems()

    def test_it_takes_a_hotline_case_through_a_return_an_extension_and_rework(self):
        from playwright.sync_api import expect

        # The operator takes a hotline call: 污水井盖 has a published handling limit (6 hours).
        desk = self.as_user("operator")
        desk.goto(self.url("/cases/"))
        self.submit(desk, desk.get_by_role("link", name="登记案件"))
        desk.locator("#id_channel").select_option(label="12345 热线")
        self.pick_category(desk, "污水", "污水井盖")
        desk.locator("#id_description").fill("市民来电：污水井盖松动，车辆经过有响声。")
        desk.locator("#id_address").fill("横水镇学校门口")
        desk.locator("#id_reporter_name").fill("赵先生")
        desk.locator("#id_reporter_phone").fill("13712345678")
        desk.locator("#id_lon").fill(f"{self.point[0]:.6f}")
        desk.locator("#id_lat").fill(f"{self.point[1]:.6f}")
        expect(desk.locator("#case-map .leaflet-overlay-pane path:not(.leaflet-interactive)").first).to_be_attached()
        self.submit(desk, desk.get_by_role("button", name="提交登记"))
        expect(desk.locator(".messages")).to_contain_text(re.compile(f"已登记案件 {NUMBER}"))
        number = re.search(NUMBER, desk.locator(".messages").inner_text()).group(0)
        expect(desk.locator(".case-head .status-badge")).to_have_text("待核实")
        expect(desk.locator(".facts")).to_contain_text("12345 热线")

        # A hotline report is verified on site by the grid's inspector.
        phone = self.as_user("inspector")
        phone.goto(self.url("/cases/m/"))
        self.open_task(phone, "核实 · 污水井盖", number, "待核实")
        self.submit(phone, phone.locator("#act-verify_confirm").get_by_role("button", name="核实属实"))
        expect(phone.locator(".messages")).to_contain_text(f"已核实属实：{number}")

        desk = self.open_case("operator", "file", number)
        self.act(desk, "file", "立案", number, "待派遣")
        desk = self.open_case("dispatcher", "dispatch", number)
        self.act(desk, "dispatch", "派遣", number, "待签收", unit=MUNICIPAL)

        # The handler asks to return it; the dispatcher agrees and dispatches it again.
        desk = self.open_case("handler", "sign", number)
        self.act(desk, "request_return", "申请回退", number, "回退待审批", note="井盖权属不清，请核实后改派。")
        desk = self.open_case("dispatcher", "approve", number)
        self.act(desk, "approve_return", "同意回退", number, "待派遣")
        expect(desk.locator(".counters")).to_contain_text("回退 1")
        self.act(desk, "dispatch", "派遣", number, "待签收", unit=MUNICIPAL)

        # The handler signs and asks for two more hours; the shift lead agrees: the deadline moves.
        desk = self.open_case("handler", "sign", number)
        self.act(desk, "sign", "签收", number, "处置中")
        before = self.deadline(desk)
        expect(desk.locator("#act-request_extension")).to_contain_text("当前时限 6 自然时")
        self.act(desk, "request_extension", "申请延期", number, "延期待审批", note="需定制井盖。", amount="2")
        desk = self.open_case("shift_lead", "approve", number)
        self.act(desk, "approve_extension", "同意延期", number, "处置中")
        self.assertEqual(self.deadline(desk), before + timedelta(hours=2))
        expect(desk.locator(".counters")).to_contain_text("延期 1")

        # The first repair fails the check and comes back as rework; the second passes.
        desk = self.open_case("handler", "handle", number)
        self.act(desk, "handled", "处置反馈", number, "待核查", note="已紧固井盖。", photos=[photo("#a3b1c6")])
        phone.goto(self.url("/cases/m/"))
        self.open_task(phone, "核查 · 污水井盖", number, "待核查")
        form = phone.locator("#act-check_fail")
        form.locator("textarea").fill("井盖仍然松动。")
        self.submit(phone, form.get_by_role("button", name="核查不通过（返工）"))
        expect(phone.locator(".messages")).to_contain_text(f"已核查不通过（返工）：{number}")

        desk = self.open_case("handler", "handle", number)
        expect(desk.locator(".case-head .status-badge")).to_have_text("处置中")
        expect(desk.locator(".counters")).to_contain_text("返工 1")
        self.act(desk, "handled", "处置反馈", number, "待核查", note="已更换井座。", photos=[photo("#b7a99d")])
        phone.goto(self.url("/cases/m/"))
        self.open_task(phone, "核查 · 污水井盖", number, "待核查")
        self.submit(phone, phone.locator("#act-check_pass").get_by_role("button", name="核查通过"))
        expect(phone.locator(".messages")).to_contain_text(f"已核查通过：{number}")

        desk = self.open_case("shift_lead", "close", number)
        self.act(desk, "close", "结案", number, "已结案")
        counters = desk.locator(".counters")
        for text in ("返工 1", "回退 1", "延期 1"):
            expect(counters).to_contain_text(text)
        self.assertEqual(
            self.timeline(desk),
            [
                ("上报", OPERATOR),
                ("核实属实", INSPECTOR),
                ("立案", OPERATOR),
                ("派遣", DISPATCHER),
                ("申请回退", HANDLER),
                ("同意回退", DISPATCHER),
                ("派遣", DISPATCHER),
                ("签收", HANDLER),
                ("申请延期", HANDLER),
                ("同意延期", SHIFT_LEAD),
                ("处置反馈", HANDLER),
                ("核查不通过（返工）", INSPECTOR),
                ("处置反馈", HANDLER),
                ("核查通过", INSPECTOR),
                ("结案", SHIFT_LEAD),
            ],
        )
        timeline = desk.locator("ol.timeline")
        for text in ("井盖权属不清，请核实后改派。", "延期：2 小时", "井盖仍然松动。", f"派往：{MUNICIPAL}"):
            expect(timeline).to_contain_text(text)
        self.assert_photos(desk, before=0, after=2)
        self.assert_no_problems()

    #
    # What a user does
    #

    def url(self, path: str) -> str:
        return f"{self.live_server_url}{path}"

    def as_user(self, username: str):
        """The user's page, logged in through the login form (one browser context per user;
        the inspector's is a phone that grants its position)."""
        if username in self.pages:
            return self.pages[username]
        if username == "inspector":
            context = self.browser.new_context(
                viewport=PHONE,
                is_mobile=True,
                has_touch=True,
                geolocation={"longitude": self.point[0], "latitude": self.point[1], "accuracy": 12},
                permissions=["geolocation"],
                locale="zh-CN",
            )
        else:
            context = self.browser.new_context(viewport=DESK, locale="zh-CN")
        context.set_default_timeout(TIMEOUT_MS)
        page = context.new_page()
        page.on("console", lambda msg: msg.type == "error" and self.problems.append(f"{username}: {msg.text}"))
        page.on("pageerror", lambda exc: self.problems.append(f"{username}: {exc}"))
        page.on("requestfailed", lambda req: self.request_failed(username, req))
        page.goto(self.url("/accounts/login/"))
        page.locator("input[name=username]").fill(username)
        page.locator("input[name=password]").fill(demo_password(username))
        self.submit(page, page.get_by_role("button", name="登录"))
        self.assertNotIn("/accounts/login/", page.url, f"{username} could not log in")
        self.pages[username] = page
        return page

    def request_failed(self, username: str, request) -> None:
        # A fetch still running when the user goes to the next page (the grid map's data) is
        # aborted by the browser; that is no fault of the page.
        if request.failure != "net::ERR_ABORTED":
            self.problems.append(f"{username}: {request.method} {request.url} {request.failure}")

    def submit(self, page, button) -> None:
        """Click something that loads a page and wait for it; the answer must not be an error."""
        with page.expect_navigation() as navigation:
            button.click()
        response = navigation.value
        self.assertIsNotNone(response)
        self.assertLess(response.status, 400, f"{response.url} answered {response.status}")
        self.assert_no_problems()

    def open_case(self, username: str, queue: str, number: str):
        """The user's workbench, the queue's tab, then the case's row."""
        from playwright.sync_api import expect

        page = self.as_user(username)
        page.goto(self.url("/cases/"))
        tab = page.locator(f'.tabs a[data-queue="{queue}"]')
        if "active" not in tab.get_attribute("class").split():
            # Another queue opened first: its tab swaps only the list (HTMX).
            with page.expect_response(lambda r: f"queue={queue}" in r.url) as answer:
                tab.click()
            self.assertEqual(answer.value.status, 200)
            expect(tab).to_have_class(re.compile(r"\bactive\b"))
            expect(page).to_have_url(re.compile(f"queue={queue}"))
        self.submit(page, page.locator("table.cases").get_by_role("link", name=number, exact=True))
        expect(page.locator(".case-head h1")).to_contain_text(number)
        return page

    def open_task(self, phone, title: str, number: str, status: str) -> None:
        """The inspector's task list (nearest first once the phone has its position), then the task."""
        from playwright.sync_api import expect

        expect(phone.locator("#task-list")).to_contain_text("按距离排序")
        self.submit(phone, phone.locator("#task-list a.task", has_text=title))
        expect(phone.locator(".m-card").first).to_contain_text(number)
        expect(phone.locator(".status-badge")).to_have_text(status)

    def pick_category(self, page, query: str, name: str) -> None:
        """Type into the searchable picker and click the category among the results."""
        from playwright.sync_api import expect

        picker = page.locator(".category-picker")
        # Focusing the search lists the first categories at once; the user reads the results of
        # what he typed (a single search after a pause in typing) before clicking.
        with page.expect_response(lambda r: parse_qs(urlsplit(r.url).query).get("q") == [query]) as answer:
            picker.locator(".category-search").press_sequentially(query, delay=30)
        self.assertEqual(answer.value.status, 200)
        expect(picker.locator(".category-option", has_not_text=query)).to_have_count(0)
        picker.locator(f'.category-option[data-name="{name}"]').click()
        expect(picker.locator(".picked")).to_have_text(f"已选：{name}")
        expect(picker.locator(".category-results li")).to_have_count(0)

    def act(
        self, page, action: str, label: str, number: str, status: str, *, unit=None, note=None, amount=None, photos=None
    ) -> None:
        """Fill the action's form on the case page, press its button, check the answer."""
        from playwright.sync_api import expect

        form = page.locator(f"#act-{action}")
        if unit is not None:
            form.locator("select").select_option(label=unit)
        if amount is not None:
            form.locator(f"input[name={action}-amount]").fill(amount)
        if note is not None:
            form.locator("textarea").fill(note)
        if photos:
            form.locator("input[type=file]").set_input_files(photos)
            expect(form.locator(".file-count")).to_have_text(f"已选 {len(photos)} 张")
        self.submit(page, form.get_by_role("button", name=label, exact=True))
        expect(page.locator(".messages")).to_contain_text(f"已{label}：{number}")
        expect(page.locator(".case-head .status-badge")).to_have_text(status)

    #
    # What the page shows
    #

    def deadline(self, page) -> datetime:
        text = page.locator(".head-clock small").inner_text()
        found = re.search(r"期限 (\d{4}-\d\d-\d\d \d\d:\d\d)", text)
        self.assertIsNotNone(found, f"no deadline on the case page: {text!r}")
        return datetime.strptime(found.group(1), "%Y-%m-%d %H:%M")

    def timeline(self, page) -> list[tuple[str, str]]:
        steps = page.locator("ol.timeline > li")
        return [
            (steps.nth(i).locator(".what > strong").inner_text(), steps.nth(i).locator(".who").inner_text())
            for i in range(steps.count())
        ]

    def assert_photos(self, page, *, before: int, after: int) -> None:
        """The before/after panel holds the photos, and the browser could draw every one."""
        from playwright.sync_api import expect

        panel = page.locator(".photos-compare > div")
        expect(panel.nth(0).locator("img")).to_have_count(before)
        expect(panel.nth(1).locator("img")).to_have_count(after)
        images = page.locator(".photos-compare img")
        for i in range(images.count()):
            images.nth(i).scroll_into_view_if_needed()
            expect(images.nth(i)).to_have_js_property("complete", True)
            width = images.nth(i).evaluate("img => img.naturalWidth")
            self.assertGreater(width, 0, f"photo not shown: {images.nth(i).get_attribute('src')}")

    def assert_no_problems(self) -> None:
        self.assertEqual(self.problems, [], "errors in the browser")

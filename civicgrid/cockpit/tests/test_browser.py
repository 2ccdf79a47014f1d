"""The cockpit in a real browser, with the demo county and a few months of its history.

Headless Chromium (Debian's /usr/bin/chromium, driven by Playwright) opens the cockpit as the
demo leader on a 1920×1080 screen and on a 1366×768 laptop, and checks that every chart and
the map drew something, that the page fits the screen, and that a failed refresh keeps the
figures and says so. JavaScript errors and failed loads fail the test.

    .venv/bin/python -m pytest -q civicgrid/cockpit/tests/test_browser.py

Without /usr/bin/chromium the class is skipped (`apt-get install chromium fonts-noto-cjk`).
"""

from __future__ import annotations

import re

from django.core.management import call_command

from civicgrid.core.demo import demo_password
from civicgrid.core.tests.browser import ChromiumTestCase, needs_chromium

TIMEOUT_MS = 15_000
BIG_SCREEN = {"width": 1920, "height": 1080}
LAPTOP = {"width": 1366, "height": 768}
# A few thousand cases give every panel something to draw in a few seconds.
DEMO_CASES = 3000
CHARTS = ("units", "trend", "channels", "categories", "satisfaction", "resolution")

# Per chart, how many of its canvas pixels are not transparent (0 means nothing was drawn).
PAINTED_PIXELS_JS = """() => Object.fromEntries(
  Array.from(document.querySelectorAll('[data-chart]')).map((el) => {
    const canvas = el.querySelector('canvas');
    if (!canvas || !canvas.width || !canvas.height) { return [el.dataset.chart, 0]; }
    const px = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
    let n = 0;
    for (let i = 3; i < px.length; i += 4) { if (px[i]) { n++; } }
    return [el.dataset.chart, n];
  }))"""
HEAT_PIXELS_JS = """() => {
  const canvas = document.querySelector('.ck-heat-canvas');
  if (!canvas) { return 0; }
  const px = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
  let n = 0;
  for (let i = 3; i < px.length; i += 4) { if (px[i]) { n++; } }
  return n;
}"""
# The middle of the top bar of 高发问题, in page coordinates.
TOP_CATEGORY_BAR_JS = """() => {
  const el = document.getElementById('chart-categories');
  const chart = echarts.getInstanceByDom(el);
  const option = chart.getOption();
  const top = option.yAxis[0].data.length - 1;
  const xy = chart.convertToPixel({ seriesIndex: 0 }, [option.series[0].data[top].value / 2, top]);
  const box = el.getBoundingClientRect();
  return [box.left + xy[0], box.top + xy[1]];
}"""
# Panels that stick out of the screen (a 大屏 page never scrolls).
OVERFLOW_JS = """() => Array.from(document.querySelectorAll('.ck-panel, .ck-kpi-group'))
  .filter((el) => {
    const r = el.getBoundingClientRect();
    return r.bottom > innerHeight + 1 || r.right > innerWidth + 1;
  })
  .map((el) => el.querySelector('h2, h3').textContent)"""


@needs_chromium
class CockpitBrowserTests(ChromiumTestCase):
    timeout_ms = 15_000

    def setUp(self):
        # A TransactionTestCase empties the database after each test: build the demo per test.
        call_command("demo", cases=DEMO_CASES, verbosity=0)
        self.problems: list[str] = []
        # The cockpit's day and month are those of two days before this month began, at 15:00:
        # in the first hours of a month "this month" holds almost nothing to draw (the tests
        # failed at 00:40 on the 1st, Beijing time). The history goes up to the real now.
        from datetime import datetime, time, timedelta
        from types import SimpleNamespace
        from unittest import mock

        from django.utils import timezone

        from civicgrid.cockpit import selectors

        local = timezone.localtime()
        first = datetime.combine(local.date().replace(day=1), time(15), local.tzinfo)
        fake = SimpleNamespace(now=lambda: first - timedelta(days=2))
        patcher = mock.patch.object(selectors, "timezone", fake)
        patcher.start()
        self.addCleanup(patcher.stop)

    def open_cockpit(self, viewport: dict):
        context = self.browser.new_context(viewport=viewport, locale="zh-CN")
        self.addCleanup(context.close)
        page = context.new_page()
        page.on("pageerror", lambda error: self.problems.append(f"JS error: {error}"))
        page.on("console", lambda msg: msg.type == "error" and self.problems.append(f"console: {msg.text}"))
        page.on("requestfailed", lambda request: self.problems.append(f"failed: {request.url}"))
        page.goto(f"{self.live_server_url}/accounts/login/")
        page.fill("input[name=username]", "leader")
        page.fill("input[name=password]", demo_password("leader"))
        page.click("button[type=submit]")
        page.wait_for_url(f"{self.live_server_url}/")
        page.wait_for_load_state("networkidle")  # else leaving the page cancels its favicon load
        page.goto(f"{self.live_server_url}/cockpit/")
        page.wait_for_selector("body[data-cockpit-drawn]", timeout=TIMEOUT_MS)
        return page

    def assert_everything_drew(self, page):
        from playwright.sync_api import expect

        # Charts animate in: wait until each one has painted a fair area.
        page.wait_for_function(
            f"() => Object.values(({PAINTED_PIXELS_JS})()).every((n) => n > 2000)", timeout=TIMEOUT_MS
        )
        painted = page.evaluate(PAINTED_PIXELS_JS)
        self.assertEqual(sorted(painted), sorted(CHARTS))
        # The map: 300 grids outlined, some coloured, the heat drawn, the legend filled in.
        self.assertEqual(page.locator("#ck-map .leaflet-overlay-pane path").count(), 300)
        self.assertGreater(page.evaluate(HEAT_PIXELS_JS), 1000)
        expect(page.locator(".ck-legend .swatch").first).to_be_visible()
        expect(page.locator(".ck-streets tr[data-street]")).to_have_count(3)  # the demo's three streets
        # Key figures are numbers, and the header says when they were computed.
        for key in ("reported_month", "filed_month", "closed_month", "open"):
            self.assertRegex(page.locator(f'[data-kpi="{key}"]').inner_text(), r"^[\d,]+$")
        self.assertRegex(page.locator('[data-kpi="closure_rate"]').inner_text(), r"^\d+\.\d%$")
        expect(page.locator("#ck-updated")).to_have_text(re.compile(r"更新于 \d\d:\d\d:\d\d"))
        expect(page.locator("#ck-warning")).to_be_hidden()
        self.assertEqual(page.evaluate(OVERFLOW_JS), [])
        self.assertEqual(page.evaluate("document.documentElement.scrollHeight <= innerHeight"), True)

    def test_every_panel_draws_on_a_big_screen(self):
        page = self.open_cockpit(BIG_SCREEN)
        self.assert_everything_drew(page)
        self.assertEqual(self.problems, [])

    def test_every_panel_draws_on_a_laptop(self):
        page = self.open_cockpit(LAPTOP)
        self.assert_everything_drew(page)
        self.assertEqual(self.problems, [])

    def test_a_failed_refresh_keeps_the_figures_and_warns(self):
        from playwright.sync_api import expect

        page = self.open_cockpit(BIG_SCREEN)
        self.assert_everything_drew(page)
        shown = page.locator('[data-kpi="reported_month"]').inner_text()
        self.assertEqual(self.problems, [])
        page.route("**/cockpit/data", lambda route: route.abort())
        page.evaluate("CivicGridCockpit.refresh()")
        expect(page.locator("#ck-warning")).to_be_visible()
        updated = page.locator("#ck-updated").inner_text()[len("更新于 ") :]
        expect(page.locator("#ck-warning")).to_have_text(f"数据刷新失败，仍显示 {updated} 的数据")
        expect(page.locator("#ck-updated")).to_be_hidden()
        self.assertEqual(page.locator('[data-kpi="reported_month"]').inner_text(), shown)
        self.assertEqual(page.evaluate(PAINTED_PIXELS_JS)["trend"] > 2000, True)
        # The aborted request (and the console's note of it) is the only problem; the next good
        # refresh clears the warning.
        self.assertEqual([p for p in self.problems if "/cockpit/data" not in p and "net::ERR_FAILED" not in p], [])
        page.unroute("**/cockpit/data")
        page.evaluate("CivicGridCockpit.refresh()")
        expect(page.locator("#ck-warning")).to_be_hidden()
        expect(page.locator("#ck-updated")).to_be_visible()

    def test_a_click_on_a_figure_opens_its_cases(self):
        page = self.open_cockpit(BIG_SCREEN)
        self.assert_everything_drew(page)
        with page.context.expect_page() as opened:
            page.click('.ck-kpi:has([data-kpi="overdue"])')
        opened.value.wait_for_load_state()
        self.assertTrue(opened.value.url.endswith("/cases/?queue=overdue"), opened.value.url)
        opened.value.close()
        # The busiest category's bar: this month's cases of that category in the workbench.
        x, y = page.evaluate(TOP_CATEGORY_BAR_JS)
        with page.context.expect_page() as opened:
            page.mouse.click(x, y)
        opened.value.wait_for_load_state()
        data = page.evaluate("fetch('/cockpit/data').then((r) => r.json())")
        self.assertIn(
            f"/cases/?queue=all&date_from={data['month_first_day']}&date_to={data['today']}"
            f"&category={data['categories'][0]['id']}",
            opened.value.url,
        )
        self.assertIn(f"共 {data['categories'][0]['count']} 件", opened.value.inner_text("body"))
        self.assertEqual(self.problems, [])

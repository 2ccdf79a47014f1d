"""Screenshots of the evaluation pages for docs/screenshots/, taken in headless Chromium.

A documentation generator, not part of CI: it runs only with CIVICGRID_SCREENSHOTS=1.

    CIVICGRID_SCREENSHOTS=1 .venv/bin/python -m pytest civicgrid/evaluation/tests/test_pages_screenshots.py

It builds the demo county with its simulated year (`manage.py demo`: 25,000 cases up to now,
with ratings and reopen cycles), logs in as the demo leader and saves the handling units'
evaluation of the last complete month at 1920×1080 (evaluation.png) and its printable page
(evaluation-print.png, as printed on A4 landscape). The other tabs and a drill-down are saved
in /tmp for a look, not kept.
"""

from __future__ import annotations

import os
import unittest

from django.core.management import call_command

from civicgrid.cases.tests.test_screenshots import OUT
from civicgrid.core.demo import demo_password
from civicgrid.core.models import OrgUnit
from civicgrid.core.tests.browser import ChromiumTestCase, needs_chromium

MAX_BYTES = 1_000_000


@needs_chromium
@unittest.skipUnless(os.environ.get("CIVICGRID_SCREENSHOTS") == "1", "documentation generator: CIVICGRID_SCREENSHOTS=1")
class EvaluationScreenshotTests(ChromiumTestCase):
    timeout_ms = 20_000

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        call_command("demo", verbosity=0)

    def test_it_saves_the_evaluation_screenshots(self):
        OUT.mkdir(parents=True, exist_ok=True)
        context = self.browser.new_context(viewport={"width": 1920, "height": 1080}, locale="zh-CN")
        self.addCleanup(context.close)
        page = context.new_page()
        page.goto(f"{self.live_server_url}/accounts/login/")
        page.fill("input[name=username]", "leader")
        page.fill("input[name=password]", demo_password("leader"))
        page.click("button[type=submit]")
        page.wait_for_load_state("networkidle")

        page.goto(f"{self.live_server_url}/evaluation/?tab=unit")
        page.wait_for_selector("body[data-chart-drawn]", timeout=self.timeout_ms)
        page.wait_for_timeout(800)  # the bars' entry animation
        shot = OUT / "evaluation.png"
        page.screenshot(path=str(shot))

        for tab in ("street", "inspector", "satisfaction", "resolution"):
            page.goto(f"{self.live_server_url}/evaluation/?tab={tab}")
            page.wait_for_selector("body[data-chart-drawn]", timeout=self.timeout_ms)
            page.wait_for_timeout(500)
            page.screenshot(path=f"/tmp/evaluation-{tab}.png")
        unit = OrgUnit.objects.get(code="CG12")
        page.goto(f"{self.live_server_url}/evaluation/cases/?tab=unit&id={unit.pk}&indicator=reworked")
        page.screenshot(path="/tmp/evaluation-cases.png")

        # The printable page as printed: A4 landscape at 96 dpi, print styles.
        page.set_viewport_size({"width": 1123, "height": 794})
        page.emulate_media(media="print")
        page.goto(f"{self.live_server_url}/evaluation/print/?tab=unit")
        page.wait_for_load_state("networkidle")
        print_shot = OUT / "evaluation-print.png"
        page.screenshot(path=str(print_shot), full_page=True)

        for path in (shot, print_shot):
            self.assertLess(path.stat().st_size, MAX_BYTES, path.name)

"""Screenshots of the leaders' cockpit for docs/screenshots/, taken in headless Chromium.

A documentation generator, not part of CI: it runs only with CIVICGRID_SCREENSHOTS=1.

    CIVICGRID_SCREENSHOTS=1 .venv/bin/python -m pytest civicgrid/cockpit/tests/test_screenshots.py

It builds the demo county with its simulated year (25,000 cases up to now), logs in as the
demo leader and saves the cockpit at 1920×1080 (cockpit.png) and 1366×768
(cockpit-laptop.png), in full colour: reduced to 256 colours they lost the reds and purples
of the overdue bars, the heat and the channel ring, and banded the gradients.
"""

from __future__ import annotations

import os
import unittest

from django.contrib.staticfiles.testing import StaticLiveServerTestCase
from django.core.management import call_command

from civicgrid.cases.tests.test_screenshots import OUT
from civicgrid.core.demo import demo_password
from civicgrid.core.tests.browser import CHROMIUM_ARGS

# Above the workbench shots' limit: a full screen of gradients and a map in full colour.
COCKPIT_MAX_BYTES = 1_000_000
SHOTS = {"cockpit": {"width": 1920, "height": 1080}, "cockpit-laptop": {"width": 1366, "height": 768}}


@unittest.skipUnless(os.environ.get("CIVICGRID_SCREENSHOTS") == "1", "documentation generator: CIVICGRID_SCREENSHOTS=1")
class CockpitScreenshotTests(StaticLiveServerTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        call_command("demo", verbosity=0)

    def test_it_saves_the_cockpit_screenshots(self):
        from playwright.sync_api import sync_playwright

        OUT.mkdir(parents=True, exist_ok=True)
        with sync_playwright() as pw:
            browser = pw.chromium.launch(
                executable_path="/usr/bin/chromium",
                args=CHROMIUM_ARGS,
                env={**os.environ, "LANG": "zh_CN.UTF-8", "LANGUAGE": "zh_CN"},
            )
            try:
                for name, viewport in SHOTS.items():
                    context = browser.new_context(viewport=viewport, locale="zh-CN")
                    page = context.new_page()
                    page.goto(f"{self.live_server_url}/accounts/login/")
                    page.fill("input[name=username]", "leader")
                    page.fill("input[name=password]", demo_password("leader"))
                    page.click("button[type=submit]")
                    page.wait_for_load_state("networkidle")
                    page.goto(f"{self.live_server_url}/cockpit/")
                    page.wait_for_selector("body[data-cockpit-drawn]", timeout=20_000)
                    page.wait_for_timeout(1500)  # the charts' entry animation
                    path = OUT / f"{name}.png"
                    page.screenshot(path=str(path))
                    context.close()
                    self.assertLess(path.stat().st_size, COCKPIT_MAX_BYTES, path.name)
            finally:
                browser.close()

"""Headless Chromium for the tests that drive pages as people do.

`ChromiumTestCase` starts one browser per test class (Debian's /usr/bin/chromium, driven by
Playwright) in front of Django's live server; `needs_chromium` skips a class on a machine
without it (`.ci/run` installs it, so CI always runs them).

Playwright's sync API keeps an asyncio loop in the test thread, which makes Django refuse
the ORM there (building the demo, emptying the database after each test). The test code
itself is synchronous, so the class lifts that switch while it runs.
"""

from __future__ import annotations

import os
import unittest
from pathlib import Path
from unittest import mock

from django.contrib.staticfiles.testing import StaticLiveServerTestCase

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--lang=zh-CN",  # date inputs show 年/月/日
]
needs_chromium = unittest.skipUnless(
    CHROMIUM.exists(), "browser tests need Debian's chromium: apt-get install chromium fonts-noto-cjk"
)


class ChromiumTestCase(StaticLiveServerTestCase):
    """`cls.browser`: one Chromium for the class; `timeout_ms` for every wait and expectation."""

    timeout_ms = 10_000

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        from playwright.sync_api import expect, sync_playwright

        cls.enterClassContext(mock.patch.dict(os.environ, {"DJANGO_ALLOW_ASYNC_UNSAFE": "true"}))
        expect.set_options(timeout=cls.timeout_ms)
        cls.playwright = sync_playwright().start()
        try:
            cls.browser = cls.playwright.chromium.launch(
                executable_path=str(CHROMIUM),
                args=CHROMIUM_ARGS,
                env={**os.environ, "LANG": "zh_CN.UTF-8", "LANGUAGE": "zh_CN"},
            )
        except Exception:
            cls.playwright.stop()
            super().tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.browser.close()
        cls.playwright.stop()
        super().tearDownClass()

"""The cockpit page and its JSON view: login, scope, the figures' freshness.

Lea is a leader who sees the county; Wes an operator scoped to the west street (see
civicgrid.cases.tests.fixtures).
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import time_machine
from django.test import TestCase

from civicgrid.cases.tests.fixtures import WEST_POINT, build_people, report

TZ = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 3, 20, 10, 0, tzinfo=TZ)


class CockpitViewTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.made = build_people()
        with time_machine.travel(NOW, tick=False):
            report(cls.made)
            report(cls.made, point=WEST_POINT)

    def setUp(self):
        traveller = time_machine.travel(NOW, tick=False)
        traveller.start()
        self.addCleanup(traveller.stop)

    def test_it_renders_the_page_with_its_config(self):
        self.client.force_login(self.made["lea"])
        response = self.client.get("/cockpit/")
        self.assertEqual(response.status_code, 200)
        self.assertContains(response, "领导驾驶舱")
        self.assertContains(response, "vendor/echarts/echarts.min.js")
        self.assertContains(response, "vendor/leaflet/leaflet.js")
        for chart in ("units", "trend", "channels", "categories", "satisfaction", "resolution"):
            self.assertContains(response, f'data-chart="{chart}"')
        self.assertContains(response, '<script id="cockpit-config" type="application/json">')
        config = response.context["config"]
        self.assertEqual((config["dataUrl"], config["layersUrl"]), ("/cockpit/data", "/geo/map/data.json"))
        self.assertEqual(config["refreshSeconds"], 60)
        self.assertEqual(str(config["labels"]["updated"]), "更新于 {time}")

    def test_it_names_the_users_scope(self):
        self.client.force_login(self.made["wes"])
        response = self.client.get("/cockpit/")
        self.assertContains(response, "统计范围：西街道")
        self.client.force_login(self.made["lea"])
        self.assertContains(self.client.get("/cockpit/"), "统计范围：崇义县")

    def test_leaders_find_it_in_the_navigation(self):
        self.client.force_login(self.made["lea"])
        self.assertContains(self.client.get("/"), '<a href="/cockpit/">领导驾驶舱</a>', html=True)
        self.client.force_login(self.made["otto"])  # an operator opens it by its address
        self.assertNotContains(self.client.get("/"), 'href="/cockpit/"')
        self.assertEqual(self.client.get("/cockpit/").status_code, 200)

    def test_it_requires_login(self):
        response = self.client.get("/cockpit/")
        self.assertEqual(response.status_code, 302)
        self.assertIn("/accounts/login/", response["Location"])

    def test_the_data_view_answers_401_without_a_session(self):
        response = self.client.get("/cockpit/data")
        self.assertEqual(response.status_code, 401)
        self.assertEqual(response.json(), {"detail": "登录已过期，请重新登录。"})

    def test_the_data_view_returns_the_users_figures_uncached(self):
        self.client.force_login(self.made["wes"])
        response = self.client.get("/cockpit/data")
        self.assertEqual(response.status_code, 200)
        self.assertIn("no-cache", response["Cache-Control"])
        data = response.json()
        self.assertEqual(data["now"], "2026-03-20T10:00:00+08:00")
        self.assertEqual((data["today"], data["month_first_day"]), ("2026-03-20", "2026-03-01"))
        self.assertEqual((data["month"], data["year"]), ("2026年3月", 2026))
        self.assertEqual(data["counts"]["reported_today"], 1)  # only the west street's case
        self.client.force_login(self.made["lea"])
        self.assertEqual(self.client.get("/cockpit/data").json()["counts"]["reported_today"], 2)

    def test_the_data_view_refuses_other_methods(self):
        self.client.force_login(self.made["lea"])
        self.assertEqual(self.client.post("/cockpit/data").status_code, 405)

"""The public list and map of recent cases (portal:cases, portal:cases-geojson): the last 90
days, no personal data, approximate points, sensitive categories left out, filters."""

from __future__ import annotations

from datetime import timedelta
from unittest import mock

from civicgrid.cases.tests.fixtures import WEST_POINT, act
from civicgrid.catalog.models import Category, Kind
from civicgrid.portal import public_selectors
from civicgrid.portal.tests.public_fixtures import public_report
from civicgrid.portal.tests.test_public_track import START, PublicTestCase


class CasesListTests(PublicTestCase):
    def test_it_lists_recent_cases_without_personal_data(self):
        case = public_report(self.made)
        act(self.made, case, "verify_confirm", "ivy")
        act(self.made, case, "file", "otto")
        html = self.page("/p/cases/")
        self.assertIn(case.number, html)
        self.assertIn(f'href="/p/c/{case.number}/"', html)
        self.assertIn("道路破损", html)
        self.assertIn("已立案", html)
        self.assertIn("东街道 · 东一社区", html)
        self.assertIn("2026-03-02", html)
        self.assertNotIn("小区门口路面坑洼", html)  # descriptions are never listed
        self.assertNotIn(case.address, html)
        self.assertNoPersonalData(html)

    def test_it_lists_only_the_last_90_days(self):
        old = public_report(self.made, created_at=START - timedelta(days=91))
        new = public_report(self.made, created_at=START - timedelta(days=89))
        html = self.page("/p/cases/")
        self.assertIn(new.number, html)
        self.assertNotIn(old.number, html)

    def test_it_leaves_out_sensitive_categories(self):
        hidden = Category.objects.create(key="local:neighbour", kind=Kind.EVENT, name="邻里噪声", publicly_listed=False)
        shown = public_report(self.made)
        secret = public_report(self.made)
        secret.category = hidden
        secret.save(update_fields=["category"])
        html = self.page("/p/cases/")
        self.assertIn(shown.number, html)
        self.assertNotIn(secret.number, html)
        self.assertNotIn("邻里噪声", html)  # not even as a filter choice
        data = self.client.get("/p/cases/geojson/").json()
        self.assertEqual([f["properties"]["number"] for f in data["features"]], [shown.number])
        self.assertEqual(self.client.get(f"/p/cases/?category={hidden.pk}").status_code, 200)
        self.assertNotIn(secret.number, self.page(f"/p/cases/?category={hidden.pk}"))

    def test_it_filters_by_street_and_category(self):
        east = public_report(self.made)
        west = public_report(self.made, point=WEST_POINT)
        html = self.page("/p/cases/?street=360725101")
        self.assertIn(west.number, html)
        self.assertNotIn(east.number, html)
        other = Category.objects.create(key="local:other", kind=Kind.EVENT, name="暴露垃圾")
        self.assertNotIn(east.number, self.page(f"/p/cases/?category={other.pk}"))
        self.assertIn(east.number, self.page(f"/p/cases/?category={self.made['category'].pk}"))
        self.assertIn("分类无效", self.page("/p/cases/?category=abc"))
        self.assertEqual(self.client.get("/p/cases/geojson/?category=abc").status_code, 400)
        geo = self.client.get("/p/cases/geojson/?street=360725100").json()
        self.assertEqual([f["properties"]["number"] for f in geo["features"]], [east.number])

    def test_it_pages_the_list(self):
        cases = [public_report(self.made, created_at=START - timedelta(minutes=i)) for i in range(21)]
        first = self.page("/p/cases/")
        self.assertIn(cases[0].number, first)
        self.assertNotIn(cases[20].number, first)
        self.assertIn("第 1 / 2 页", first)
        self.assertIn(cases[20].number, self.page("/p/cases/?page=2"))

    def test_it_reads_a_page_in_a_fixed_number_of_queries(self):
        for _ in range(3):
            public_report(self.made)
        self.client.get("/p/cases/")  # the session and messages machinery settle
        with self.assertNumQueries(4):  # streets, categories, count, the page (with joins)
            self.client.get("/p/cases/")
        for _ in range(5):
            public_report(self.made)
        with self.assertNumQueries(4):
            self.client.get("/p/cases/")


class GeoJsonTests(PublicTestCase):
    def test_it_rounds_points_to_about_30_metres(self):
        case = public_report(self.made)
        data = self.client.get("/p/cases/geojson/").json()
        (feature,) = data["features"]
        lon, lat = feature["geometry"]["coordinates"]
        for snapped, real in ((lon, case.lon), (lat, case.lat)):
            self.assertAlmostEqual(snapped / 0.0003, round(snapped / 0.0003), places=4)
            self.assertLessEqual(abs(snapped - real), 0.00015 + 1e-9)
        self.assertEqual(set(feature["properties"]), {"number", "category", "status", "closed", "review"})
        self.assertEqual(feature["properties"]["status"], "核实中")
        self.assertFalse(data["truncated"])
        self.assertIn("features", data["streets"])

    def test_it_caps_the_points(self):
        for _ in range(3):
            public_report(self.made)
        with mock.patch.object(public_selectors, "MAP_LIMIT", 2):
            data = self.client.get("/p/cases/geojson/").json()
        self.assertEqual(len(data["features"]), 2)
        self.assertTrue(data["truncated"])

    def test_it_carries_no_personal_data(self):
        public_report(self.made)
        self.assertNoPersonalData(self.client.get("/p/cases/geojson/").content.decode())

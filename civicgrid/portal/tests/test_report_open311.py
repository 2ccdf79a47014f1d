"""Open311 POST requests share the portal's cache-based limits: per address (when
CIVICGRID_OPEN311_RATE_PER_IP is set) and per phone number, answered with HTTP 429 and the
spec's error body."""

from __future__ import annotations

import json

from django.core.cache import cache
from django.test import TestCase, override_settings

from civicgrid.cases.models import Case
from civicgrid.cases.tests.fixtures import EAST_POINT, build_people
from civicgrid.geo import lookup
from civicgrid.open311.models import App


class Open311RateLimitTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.made = build_people()
        app = App(name="市民随手拍")
        cls.key = app.issue_key()
        app.save()

    def setUp(self):
        cache.clear()
        lookup.invalidate()

    def post(self, **extra):
        fields = {
            "api_key": self.key,
            "service_code": str(self.made["category"].pk),
            "long": EAST_POINT[0],
            "lat": EAST_POINT[1],
            "description": "人行道上有一个大坑",
            **extra,
        }
        return self.client.post("/open311/v2/requests.json", fields)

    @override_settings(CIVICGRID_OPEN311_RATE_PER_IP="2/h")
    def test_it_answers_429_per_address_and_writes_nothing(self):
        self.assertEqual(self.post().status_code, 200)
        self.assertEqual(self.post().status_code, 200)
        response = self.post()
        self.assertEqual(response.status_code, 429)
        self.assertEqual(json.loads(response.content), [{"code": 429, "description": "提交过于频繁，请稍后再试"}])
        self.assertTrue(response["Retry-After"].isdigit())
        self.assertEqual(Case.objects.count(), 2)

    @override_settings(CIVICGRID_PORTAL_RATE_PER_PHONE="1/h")
    def test_it_answers_429_per_phone(self):
        self.assertEqual(self.post(phone="13912345678").status_code, 200)
        response = self.post(phone="139-1234-5678")
        self.assertEqual(response.status_code, 429)
        self.assertEqual(self.post(phone="13800000000").status_code, 200)
        self.assertEqual(Case.objects.count(), 2)

    def test_it_has_no_address_limit_of_its_own_by_default(self):
        # The database-backed CIVICGRID_OPEN311_POSTS_PER_IP (20 an hour) still applies.
        for _n in range(3):
            self.assertEqual(self.post().status_code, 200)

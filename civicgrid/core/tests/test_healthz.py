from unittest import mock

from django.db import OperationalError
from django.test import TestCase


class HealthzTests(TestCase):
    def test_it_answers_200_when_the_database_is_reachable(self):
        response = self.client.get("/healthz")
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response.json()["database"], "ok")

    def test_it_answers_503_when_the_database_is_unreachable(self):
        with mock.patch("civicgrid.core.views.connection.cursor", side_effect=OperationalError("down")):
            response = self.client.get("/healthz")
        self.assertEqual(response.status_code, 503)
        self.assertEqual(response.json()["database"], "unreachable")

    def test_it_needs_no_login(self):
        self.client.logout()
        self.assertEqual(self.client.get("/healthz").status_code, 200)

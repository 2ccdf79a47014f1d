from unittest import mock

from django.db import OperationalError
from django.test import TestCase

from civicgrid.core.models import Role, User


class LivezTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        # Dana is a logged-in dispatcher: her session cookie must not make the probe read the session.
        cls.dana = User.objects.create_user("dana", password="x", role=Role.DISPATCHER)

    def test_it_answers_200_without_a_query(self):
        with self.assertNumQueries(0):
            response = self.client.get("/livez")
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response.json(), {"status": "ok"})

    def test_it_runs_no_query_for_a_logged_in_user(self):
        self.client.force_login(self.dana)
        with self.assertNumQueries(0):
            response = self.client.get("/livez")
        self.assertEqual(response.status_code, 200)

    def test_it_answers_200_when_the_database_is_unreachable(self):
        with mock.patch("django.db.backends.base.base.BaseDatabaseWrapper.cursor", side_effect=OperationalError):
            response = self.client.get("/livez")
        self.assertEqual(response.status_code, 200)

    def test_it_answers_head(self):
        self.assertEqual(self.client.head("/livez").status_code, 200)

    def test_it_is_never_cached(self):
        self.assertIn("no-cache", self.client.get("/livez")["Cache-Control"])

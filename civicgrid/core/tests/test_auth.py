"""Token authentication with its per-process cache: a revoked token or a changed user counts
at once in this process; each request has its own user object."""

from unittest import mock

from django.db import connection
from django.test import TestCase
from django.test.utils import CaptureQueriesContext
from rest_framework.authtoken.models import Token

from civicgrid.core import auth
from civicgrid.core.models import OrgUnit, Role, User

URL = "/api/v1/cases/queues/"


class CachedTokenTests(TestCase):
    def setUp(self):
        self.user = User.objects.create_user("dora", role=Role.DISPATCHER)
        self.token = Token.objects.create(user=self.user)

    def get(self, key=None):
        return self.client.get(URL, HTTP_AUTHORIZATION=f"Token {key or self.token.key}")

    def test_it_reads_a_token_once_within_the_ttl(self):
        self.assertEqual(self.get().status_code, 200)
        with self.assertNumQueries(0):
            user, _token = auth.CachedTokenAuthentication().authenticate_credentials(self.token.key)
        self.assertEqual(user.pk, self.user.pk)

    def test_a_deleted_token_is_refused_at_once(self):
        self.assertEqual(self.get().status_code, 200)
        key = self.token.key
        self.token.delete()
        self.assertEqual(self.get(key).status_code, 401)

    def test_a_deactivated_user_is_refused_at_once(self):
        self.assertEqual(self.get().status_code, 200)
        self.user.is_active = False
        self.user.save()
        self.assertEqual(self.get().status_code, 401)

    def test_a_change_made_elsewhere_counts_after_the_ttl(self):
        self.assertEqual(self.get().status_code, 200)
        User.objects.filter(pk=self.user.pk).update(is_active=False)  # no signal here
        self.assertEqual(self.get().status_code, 200)
        later = auth.time.monotonic() + auth.TTL + 0.01
        with mock.patch("civicgrid.core.auth.time.monotonic", return_value=later):
            self.assertEqual(self.get().status_code, 401)

    def test_each_request_gets_its_own_user(self):
        first, _ = auth.CachedTokenAuthentication().authenticate_credentials(self.token.key)
        first.marked_by_a_view = True
        second, _ = auth.CachedTokenAuthentication().authenticate_credentials(self.token.key)
        self.assertFalse(hasattr(second, "marked_by_a_view"))
        self.assertIsNot(first, second)


class SessionUserTests(TestCase):
    """A page's header names the user's unit: read with the user, not by a query of its own."""

    def test_the_session_user_comes_with_their_unit(self):
        unit = OrgUnit.objects.create(code="T01", name="测试环卫所", kind=OrgUnit.Kind.DEPARTMENT)
        user = User.objects.create_user("hana", password="pw-hana-123", role=Role.HANDLER, org_unit=unit)
        self.client.force_login(user)
        with CaptureQueriesContext(connection) as queries:
            response = self.client.get("/")
        self.assertContains(response, "测试环卫所", status_code=200)
        unit_table = OrgUnit._meta.db_table
        alone = [
            q["sql"]
            for q in queries.captured_queries
            if q["sql"].startswith("SELECT") and f'FROM "{unit_table}"' in q["sql"]
        ]
        self.assertEqual(alone, [], "the unit was read in a query of its own")

    def test_a_deactivated_user_is_logged_out(self):
        user = User.objects.create_user("ivan", password="pw-ivan-123", role=Role.HANDLER)
        self.client.force_login(user)
        User.objects.filter(pk=user.pk).update(is_active=False)
        self.assertEqual(self.client.get("/cases/").status_code, 302)

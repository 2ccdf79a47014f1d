from django.test import TestCase, override_settings

from civicgrid.audit.models import AuditEntry
from civicgrid.audit.tests.helpers import all_entries_text
from civicgrid.core.models import Role, User

PASSWORD = "s3cret-Pass-271"


class LoginAuditTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        # Olivia is an operator; she signs in and out.
        cls.olivia = User.objects.create_user("olivia", password=PASSWORD, role=Role.OPERATOR, display_name="欧丽")

    def login(self, password, **headers):
        return self.client.post("/accounts/login/", {"username": "olivia", "password": password}, **headers)

    def test_it_records_a_successful_login(self):
        response = self.login(PASSWORD, REMOTE_ADDR="10.1.2.3", HTTP_USER_AGENT="Mozilla/5.0 test")
        self.assertEqual(response.status_code, 302)
        entry = AuditEntry.objects.get(kind=AuditEntry.Kind.LOGIN)
        self.assertEqual(entry.actor, self.olivia)
        self.assertEqual(entry.actor_name, "欧丽（olivia）")
        self.assertEqual(entry.ip, "10.1.2.3")
        self.assertEqual(entry.user_agent, "Mozilla/5.0 test")
        self.assertEqual(len(entry.request_id), 32)

    def test_it_records_a_failed_login_with_the_username_only(self):
        response = self.login("wrong-Guess-828", REMOTE_ADDR="10.1.2.4")
        self.assertEqual(response.status_code, 200)
        entry = AuditEntry.objects.get(kind=AuditEntry.Kind.LOGIN_FAILED)
        self.assertIsNone(entry.actor)
        self.assertEqual(entry.actor_name, "olivia")
        self.assertEqual(entry.ip, "10.1.2.4")
        self.assertNotIn("wrong-Guess-828", all_entries_text())

    def test_it_records_a_failed_login_of_an_unknown_user(self):
        self.client.post("/accounts/login/", {"username": "mallory", "password": "x"})
        entry = AuditEntry.objects.get(kind=AuditEntry.Kind.LOGIN_FAILED)
        self.assertEqual(entry.actor_name, "mallory")

    def test_it_records_a_logout(self):
        self.client.force_login(self.olivia)
        response = self.client.post("/accounts/logout/", REMOTE_ADDR="10.1.2.5")
        self.assertEqual(response.status_code, 302)
        entry = AuditEntry.objects.get(kind=AuditEntry.Kind.LOGOUT)
        self.assertEqual(entry.kind, AuditEntry.Kind.LOGOUT)
        self.assertEqual(entry.actor, self.olivia)
        self.assertEqual(entry.ip, "10.1.2.5")

    def test_it_does_not_log_last_login_as_a_change(self):
        changes = AuditEntry.objects.filter(kind=AuditEntry.Kind.CHANGE)
        before = changes.count()
        self.login(PASSWORD)
        self.assertEqual(changes.count(), before)

    def test_it_never_stores_the_password(self):
        self.login(PASSWORD)
        self.login("another-Wrong-1")
        text = all_entries_text()
        self.assertNotIn(PASSWORD, text)
        self.assertNotIn("another-Wrong-1", text)
        self.assertNotIn(User.objects.get(pk=self.olivia.pk).password, text)

    def test_it_ignores_x_forwarded_for_without_trusted_proxies(self):
        self.login(PASSWORD, REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.9")
        self.assertEqual(AuditEntry.objects.get(kind=AuditEntry.Kind.LOGIN).ip, "10.0.0.1")

    @override_settings(CIVICGRID_TRUSTED_PROXIES=1)
    def test_it_takes_the_address_the_trusted_proxy_saw(self):
        # The client claims 1.1.1.1; the proxy appended the address it really saw.
        self.login(PASSWORD, REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="1.1.1.1, 203.0.113.9")
        self.assertEqual(AuditEntry.objects.get(kind=AuditEntry.Kind.LOGIN).ip, "203.0.113.9")

    @override_settings(CIVICGRID_TRUSTED_PROXIES=1)
    def test_it_falls_back_to_remote_addr_for_a_malformed_header(self):
        self.login(PASSWORD, REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="not-an-ip")
        self.assertEqual(AuditEntry.objects.get(kind=AuditEntry.Kind.LOGIN).ip, "10.0.0.1")

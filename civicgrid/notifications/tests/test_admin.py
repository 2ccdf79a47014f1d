"""Templates are edited in the admin; the outbox is shown there read-only and masked.

Ada is a superuser.
"""

from django.test import TestCase

from civicgrid.audit.models import AuditEntry
from civicgrid.core.models import User
from civicgrid.notifications.models import MessageTemplate, Notification


class AdminTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.ada = User.objects.create_superuser("ada", password="x")

    def setUp(self):
        self.client.force_login(self.ada)

    def test_an_admin_edits_a_template_and_the_edit_is_on_the_record(self):
        response = self.client.post(
            "/admin/notifications/messagetemplate/add/",
            {"key": "remind", "channel": "sms", "language": "zh-hans", "subject": "", "body": "催办 {{ case_number }}"},
        )
        self.assertEqual(response.status_code, 302)
        template = MessageTemplate.objects.get(key="remind", channel="sms")
        self.assertTrue(AuditEntry.objects.filter(object_id=str(template.pk), action="create").exists())

    def test_it_refuses_a_template_with_a_syntax_error(self):
        response = self.client.post(
            "/admin/notifications/messagetemplate/add/",
            {"key": "remind", "channel": "", "language": "zh-hans", "subject": "", "body": "{% for %}"},
        )
        self.assertEqual(response.status_code, 200)
        self.assertFalse(MessageTemplate.objects.exists())

    def test_the_outbox_shows_phones_masked(self):
        Notification.objects.create(
            channel="sms", kind="citizen_status", body="好", phone="13812345678", dedupe_key="k"
        )
        page = self.client.get("/admin/notifications/notification/").content.decode()
        self.assertIn("138****5678", page)
        self.assertNotIn("13812345678", page)
        self.assertEqual(self.client.get("/admin/notifications/notificationsubscription/").status_code, 200)

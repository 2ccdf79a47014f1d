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

    def test_it_queues_failed_messages_again(self):
        failed = Notification.objects.create(
            channel="sms", kind="task", body="好", phone="13812345678", dedupe_key="f", status="failed", attempts=5
        )
        sent = Notification.objects.create(channel="sms", kind="task", body="好", dedupe_key="s", status="sent")
        self.client.post(
            "/admin/notifications/notification/",
            {"action": "send_again", "_selected_action": [failed.pk, sent.pk]},
        )
        failed.refresh_from_db()
        sent.refresh_from_db()
        self.assertEqual((failed.status, failed.attempts, sent.status), ("pending", 0, "sent"))


class InAppApiTests(TestCase):
    """Hank reads his own in-app messages; Hugo's are not his."""

    @classmethod
    def setUpTestData(cls):
        cls.hank = User.objects.create_user("hank", role="handler")
        cls.hugo = User.objects.create_user("hugo", role="handler")
        for n, user in enumerate([cls.hank, cls.hank, cls.hugo]):
            Notification.objects.create(
                user=user, channel="inapp", kind="task", subject=f"任务{n}", body="请处理", dedupe_key=f"k{n}"
            )
        Notification.objects.create(user=cls.hank, channel="sms", kind="task", body="短信", dedupe_key="sms")

    def test_it_lists_only_the_users_in_app_messages_and_marks_them_read(self):
        self.client.force_login(self.hank)
        listed = self.client.get("/api/v1/notifications/").json()
        self.assertEqual([m["subject"] for m in listed["results"]], ["任务1", "任务0"])
        first = listed["results"][0]["id"]
        self.assertEqual(
            self.client.post("/api/v1/notifications/read/", {"ids": [first]}, "application/json").json(), {"read": 1}
        )
        unread = self.client.get("/api/v1/notifications/?unread=1").json()["results"]
        self.assertEqual([m["subject"] for m in unread], ["任务0"])
        self.assertEqual(self.client.post("/api/v1/notifications/read/", {}, "application/json").json(), {"read": 1})
        self.assertIsNone(Notification.objects.get(user=self.hugo).read_at)

    def test_it_needs_a_login(self):
        self.assertIn(self.client.get("/api/v1/notifications/").status_code, (401, 403))

"""The deliver job: sends due messages, retries with backoff, gives up after N attempts."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.test import TestCase, override_settings

from civicgrid.core.jobs import JOBS
from civicgrid.notifications.backends import Backend
from civicgrid.notifications.models import Notification
from civicgrid.notifications.services import notifications_deliver

T0 = datetime(2026, 3, 2, 9, tzinfo=ZoneInfo("Asia/Shanghai"))


class FailingBackend(Backend):
    def send(self, message):
        raise ConnectionError("gateway refused 13812345678")


def queued(**kwargs) -> Notification:
    fields = {"channel": "sms", "kind": "citizen_status", "body": "好", "phone": "13812345678", "dedupe_key": "k1"}
    return Notification.objects.create(**{**fields, "next_attempt_at": T0, **kwargs})


class DeliverTests(TestCase):
    def test_it_sends_due_messages_once(self):
        message = queued()
        self.assertEqual(notifications_deliver(now=T0), 1)
        self.assertEqual(notifications_deliver(now=T0 + timedelta(hours=1)), 0)
        message.refresh_from_db()
        self.assertEqual((message.status, message.attempts, message.sent_at), ("sent", 1, T0))

    def test_it_waits_for_next_attempt_at(self):
        queued(next_attempt_at=T0 + timedelta(minutes=5))
        self.assertEqual(notifications_deliver(now=T0), 0)

    @override_settings(
        CIVICGRID_NOTIFY_BACKENDS={"sms": f"{__name__}.FailingBackend"},
        CIVICGRID_NOTIFY_MAX_ATTEMPTS=3,
        CIVICGRID_NOTIFY_RETRY_SECONDS=60,
    )
    def test_a_failing_backend_is_retried_with_backoff_then_fails(self):
        message = queued()
        with self.assertLogs("civicgrid.notifications", "WARNING") as logs:
            notifications_deliver(now=T0)
            message.refresh_from_db()
            self.assertEqual((message.status, message.attempts), ("pending", 1))
            self.assertEqual(message.next_attempt_at, T0 + timedelta(seconds=60))
            # Not before its time.
            notifications_deliver(now=T0 + timedelta(seconds=59))
            self.assertEqual(Notification.objects.get().attempts, 1)
            notifications_deliver(now=T0 + timedelta(seconds=60))
            message.refresh_from_db()
            self.assertEqual(message.next_attempt_at, T0 + timedelta(seconds=60 + 120))
            notifications_deliver(now=T0 + timedelta(seconds=180))
        message.refresh_from_db()
        self.assertEqual((message.status, message.attempts), ("failed", 3))
        self.assertIn("138****5678", message.last_error)
        self.assertNotIn("13812345678", message.last_error + "".join(logs.output))
        self.assertEqual(notifications_deliver(now=T0 + timedelta(days=2)), 0)

    def test_the_jobs_are_registered(self):
        paths = {job.path for job in JOBS}
        self.assertIn("civicgrid.notifications.jobs.notifications_scan_events", paths)
        self.assertIn("civicgrid.notifications.jobs.notifications_scan_deadlines", paths)
        self.assertIn("civicgrid.notifications.jobs.notifications_send_due", paths)

"""Each backend: log (masked), e-mail, webhook (signed), SMS (pluggable provider)."""

import hashlib
import hmac
import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

from django.core import mail
from django.test import TestCase, override_settings

from civicgrid.notifications.backends import (
    SIGNATURE_HEADER,
    DeliveryError,
    EmailBackend,
    LogBackend,
    SmsBackend,
    SmsProvider,
    WebhookBackend,
    backend_for,
    send,
)
from civicgrid.notifications.masking import mask_text
from civicgrid.notifications.models import Notification

PHONE = "13812345678"


def message(**kwargs) -> Notification:
    fields = {"channel": "sms", "kind": "citizen_status", "subject": "进展", "body": "您反映的问题已结案", "pk": 7}
    fields.update(kwargs)
    return Notification(**fields)


class RecordingProvider(SmsProvider):
    sent: list = []

    def send_sms(self, phone: str, text: str) -> None:
        RecordingProvider.sent.append((phone, text))


class LogBackendTests(TestCase):
    def test_it_logs_a_masked_phone(self):
        with self.assertLogs("civicgrid.notifications", "INFO") as logs:
            LogBackend().send(message(phone=PHONE))
        self.assertIn("138****5678", logs.output[0])
        self.assertNotIn(PHONE, "".join(logs.output))

    def test_the_default_sms_provider_logs_only_a_masked_phone(self):
        with self.assertLogs("civicgrid.notifications", "INFO") as logs:
            send(message(phone=PHONE))
        self.assertNotIn(PHONE, "".join(logs.output))
        self.assertIn("138****5678", "".join(logs.output))

    def test_it_masks_phones_and_emails_in_error_text(self):
        self.assertEqual(
            mask_text(f"refused {PHONE} and zhang.san@example.com"), "refused 138****5678 and z***@example.com"
        )


class EmailBackendTests(TestCase):
    def test_it_sends_through_django_email(self):
        EmailBackend().send(message(channel="email", email="zhang@example.com"))
        self.assertEqual(len(mail.outbox), 1)
        self.assertEqual(mail.outbox[0].to, ["zhang@example.com"])
        self.assertEqual(mail.outbox[0].subject, "进展")

    @override_settings(CIVICGRID_NOTIFY_EMAIL="smtp")
    def test_smtp_is_chosen_by_setting(self):
        self.assertIsInstance(backend_for("email"), EmailBackend)

    def test_email_defaults_to_the_log(self):
        self.assertIsInstance(backend_for("email"), LogBackend)


class _Hook(BaseHTTPRequestHandler):
    received: list = []
    answer = 200

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        _Hook.received.append((self.headers, body))
        self.send_response(_Hook.answer)
        self.end_headers()

    def log_message(self, *args):
        pass


class WebhookBackendTests(TestCase):
    def setUp(self):
        _Hook.received, _Hook.answer = [], 200
        self.server = HTTPServer(("127.0.0.1", 0), _Hook)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        self.addCleanup(self.server.server_close)
        self.addCleanup(self.server.shutdown)

    def test_it_posts_json_signed_with_the_secret(self):
        WebhookBackend(self.url, "s3cret", 5).send(message(channel="webhook", context={"case_number": "N1"}))
        headers, body = _Hook.received[0]
        expected = "sha256=" + hmac.new(b"s3cret", body, hashlib.sha256).hexdigest()
        self.assertEqual(headers[SIGNATURE_HEADER], expected)
        self.assertEqual(json.loads(body)["case"], "N1")

    def test_it_raises_on_an_error_answer_without_the_url(self):
        _Hook.answer = 500
        with self.assertRaises(DeliveryError) as failed:
            WebhookBackend(self.url + "?token=abc", "s", 5).send(message(channel="webhook"))
        self.assertEqual(str(failed.exception), "HTTP 500")

    def test_it_is_chosen_when_a_url_is_set(self):
        with self.settings(CIVICGRID_NOTIFY_WEBHOOK_URL=self.url):
            self.assertIsInstance(backend_for("webhook"), WebhookBackend)


class SmsBackendTests(TestCase):
    @override_settings(CIVICGRID_SMS_PROVIDER=f"{__name__}.RecordingProvider")
    def test_the_provider_is_named_by_class_path(self):
        RecordingProvider.sent = []
        backend = backend_for("sms")
        self.assertIsInstance(backend, SmsBackend)
        send(message(phone=PHONE))
        self.assertEqual(RecordingProvider.sent, [(PHONE, "您反映的问题已结案")])

    def test_it_refuses_a_message_without_a_phone(self):
        with self.assertRaises(DeliveryError):
            SmsBackend(RecordingProvider()).send(message())

"""Delivery backends: one interface, `send(notification)`, one backend per channel.

A backend's `send(message)` returns nothing and raises on failure; the deliver job
(civicgrid.notifications.services.notifications_deliver) records the error and retries.
Nothing here logs a full phone number, e-mail address, key or secret.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import urllib.error
import urllib.request

from django.conf import settings
from django.core.mail import send_mail
from django.utils.module_loading import import_string

from civicgrid.notifications import conf
from civicgrid.notifications.masking import mask_phone
from civicgrid.notifications.models import Channel, Notification

log = logging.getLogger("civicgrid.notifications")

SIGNATURE_HEADER = "X-CivicGrid-Signature"


class DeliveryError(Exception):
    """A backend could not deliver; the message says why without addresses or secrets."""


class Backend:
    def send(self, message: Notification) -> None:
        raise NotImplementedError


class LogBackend(Backend):
    """Writes one line per message (the in-app channel, and the default of the others)."""

    def send(self, message: Notification) -> None:
        log.info(
            "notification %s %s %s to %s: %s",
            message.pk,
            message.channel,
            message.kind,
            message.recipient_display,
            message.subject,
        )


def _email_of(message: Notification) -> str:
    address = message.email or (message.user.email if message.user_id else "")
    if not address:
        raise DeliveryError("no e-mail address")
    return address


def _phone_of(message: Notification) -> str:
    phone = message.phone or (message.user.phone if message.user_id else "")
    if not phone:
        raise DeliveryError("no phone number")
    return phone


class EmailBackend(Backend):
    """Django's email (EMAIL_BACKEND, SMTP by default, with the EMAIL_* settings)."""

    def send(self, message: Notification) -> None:
        send_mail(message.subject, message.body, settings.DEFAULT_FROM_EMAIL, [_email_of(message)])


def _post_json(url: str, data: bytes, headers: dict, timeout: float) -> None:
    request = urllib.request.Request(
        url, data=data, method="POST", headers={"Content-Type": "application/json; charset=utf-8", **headers}
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 (URL from settings)
            response.read()
    except urllib.error.HTTPError as exc:
        # Only the status: the URL may carry a token and the answer may echo the request.
        raise DeliveryError(f"HTTP {exc.code}") from None
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise DeliveryError(f"{type(exc).__name__}: {type(reason).__name__}") from None


def sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class WebhookBackend(Backend):
    """POSTs the message as JSON, signed with HMAC-SHA256 of the body in X-CivicGrid-Signature.

    Staff are named by username (the receiving gateway routes them, e.g. to a work chat);
    citizens' addresses are never sent to a webhook.
    """

    def __init__(self, url: str | None = None, secret: str | None = None, timeout: float | None = None):
        self.url = url or conf.get("CIVICGRID_NOTIFY_WEBHOOK_URL")
        self.secret = secret if secret is not None else conf.get("CIVICGRID_NOTIFY_WEBHOOK_SECRET")
        self.timeout = timeout or conf.get("CIVICGRID_NOTIFY_TIMEOUT")

    def payload(self, message: Notification) -> dict:
        return {
            "id": message.pk,
            "kind": message.kind,
            "user": message.user.username if message.user_id else None,
            "case": message.context.get("case_number"),
            "subject": message.subject,
            "body": message.body,
        }

    def send(self, message: Notification) -> None:
        payload = self.payload(message)
        body = json.dumps(payload, ensure_ascii=False, sort_keys=True).encode()
        headers = {SIGNATURE_HEADER: sign(self.secret, body)} if self.secret else {}
        _post_json(self.url, body, headers, self.timeout)


#
# SMS: the backend hands the text to a provider class named by CIVICGRID_SMS_PROVIDER.
#


class SmsProvider:
    """A provider sends one text to one phone number, raising on failure."""

    def send_sms(self, phone: str, text: str) -> None:
        raise NotImplementedError


class LogSmsProvider(SmsProvider):
    """The default: logs the masked number instead of sending."""

    def send_sms(self, phone: str, text: str) -> None:
        log.info("sms to %s: %s", mask_phone(phone), text)


class HttpSmsProvider(SmsProvider):
    """An example gateway: POST {"phone", "text"} as JSON to CIVICGRID_SMS_URL with the key as a
    Bearer token. Real providers (Aliyun, Tencent Cloud…) need their own small class."""

    def __init__(self):
        self.url = conf.get("CIVICGRID_SMS_URL")
        self.key = conf.get("CIVICGRID_SMS_KEY")
        self.timeout = conf.get("CIVICGRID_NOTIFY_TIMEOUT")

    def send_sms(self, phone: str, text: str) -> None:
        if not self.url:
            raise DeliveryError("CIVICGRID_SMS_URL is not set")
        body = json.dumps({"phone": phone, "text": text}, ensure_ascii=False).encode()
        _post_json(self.url, body, {"Authorization": f"Bearer {self.key}"}, self.timeout)


class SmsBackend(Backend):
    def __init__(self, provider: SmsProvider | None = None):
        self.provider = provider or import_string(conf.get("CIVICGRID_SMS_PROVIDER"))()

    def send(self, message: Notification) -> None:
        self.provider.send_sms(_phone_of(message), message.body)


def backend_for(channel: str) -> Backend:
    """The backend that delivers this channel, as the settings choose it."""
    override = conf.get("CIVICGRID_NOTIFY_BACKENDS").get(channel)
    if override:
        return import_string(override)()
    if channel == Channel.EMAIL and conf.get("CIVICGRID_NOTIFY_EMAIL") == "smtp":
        return EmailBackend()
    if channel == Channel.SMS:
        return SmsBackend()
    if channel == Channel.WEBHOOK and conf.get("CIVICGRID_NOTIFY_WEBHOOK_URL"):
        return WebhookBackend()
    return LogBackend()


def send(notification: Notification) -> None:
    """Deliver one message through its channel's backend; raises on failure."""
    backend_for(notification.channel).send(notification)

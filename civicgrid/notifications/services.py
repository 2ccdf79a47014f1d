"""Writes of notifications: queue messages for staff and citizens, subscribe a citizen, deliver.

Messages are queued as Notification rows (rendered when queued) and sent by
`notifications_deliver`, outside any transaction, with retries and backoff.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from civicgrid.cases.models import Case
from civicgrid.cases.workflow import Status
from civicgrid.core.models import User
from civicgrid.notifications import conf
from civicgrid.notifications.backends import send
from civicgrid.notifications.masking import mask_text
from civicgrid.notifications.models import Channel, Notification, NotificationSubscription
from civicgrid.notifications.templates import render

log = logging.getLogger("civicgrid.notifications")

# Statuses a citizen may hear about, with the public wording (no staff or unit names).
CITIZEN_STATUSES: dict[str, str] = {
    Status.FILED: "已受理立案，正在安排处理",
    Status.DISPATCHED: "已交由责任单位处理",
    Status.CHECKING: "已处理，正在现场核查",
    Status.CLOSED: "已处理完毕并结案",
    Status.REJECTED: "经核查不予立案",
    Status.VOIDED: "已作废",
    Status.MERGED: "已与同一问题的其他反映合并处理",
}
CITIZEN_STATUSES_EN: dict[str, str] = {
    Status.FILED: "has been accepted and is being arranged",
    Status.DISPATCHED: "has been passed to the responsible unit",
    Status.CHECKING: "has been dealt with and is being checked on site",
    Status.CLOSED: "has been dealt with and the case is closed",
    Status.REJECTED: "was not accepted as a case after checking",
    Status.VOIDED: "was voided",
    Status.MERGED: "is handled together with another report of the same problem",
}
DEFAULT_CITIZEN_STATUSES = (Status.FILED, Status.DISPATCHED, Status.CLOSED, Status.REJECTED)


@dataclass(frozen=True)
class Recipient:
    """A user, or a citizen's phone or e-mail, on one channel."""

    channel: str
    user: User | None = None
    phone: str = ""
    email: str = ""

    @property
    def key(self) -> str:
        if self.user is not None:
            return f"u{self.user.pk}"
        return f"p{self.phone}" if self.phone else f"e{self.email}"


def staff_recipients(users) -> list[Recipient]:
    """Each user on the staff channels (CIVICGRID_NOTIFY_STAFF_CHANNELS) they have an address for."""
    channels = conf.get("CIVICGRID_NOTIFY_STAFF_CHANNELS")
    found = []
    for user in users:
        for channel in channels:
            if channel == Channel.EMAIL and not user.email:
                continue
            if channel == Channel.SMS and not user.phone:
                continue
            if channel in Channel.values:
                found.append(Recipient(channel, user=user))
    return found


def notifications_queue(
    *, kind: str, recipients: list[Recipient], context: dict, dedupe: str, case: Case | None = None, now=None
) -> int:
    """Queue one message per recipient; a dedupe key already used queues nothing. Returns the count."""
    now = now or timezone.now()
    rows = []
    rendered: dict[str, tuple[str, str]] = {}
    for recipient in recipients:
        if recipient.channel not in rendered:
            rendered[recipient.channel] = render(kind, recipient.channel, context)
        subject, body = rendered[recipient.channel]
        rows.append(
            Notification(
                user=recipient.user,
                phone=recipient.phone,
                email=recipient.email,
                channel=recipient.channel,
                kind=kind,
                context=context,
                subject=subject[:200],
                body=body,
                case=case,
                next_attempt_at=now,
                created_at=now,
                dedupe_key=f"{dedupe}:{recipient.channel}:{recipient.key}"[:200],
            )
        )
    if not rows:
        return 0
    existing = set(
        Notification.objects.filter(dedupe_key__in=[r.dedupe_key for r in rows]).values_list("dedupe_key", flat=True)
    )
    new = [r for r in rows if r.dedupe_key not in existing]
    # ignore_conflicts: two scans at once (embedded and Celery) still write each key once.
    Notification.objects.bulk_create(new, ignore_conflicts=True)
    return len(new)


def citizen_subscribe(
    case: Case, *, phone: str = "", email: str = "", statuses: list[str] | tuple[str, ...] | None = None
) -> NotificationSubscription:
    """A citizen asks to hear about a case's progress by SMS, e-mail or both."""
    phone, email = (phone or "").strip(), (email or "").strip()
    if not phone and not email:
        raise ValidationError(_("请填写手机号或电子邮箱"))
    if phone and not (phone.isdigit() and 7 <= len(phone) <= 20):
        raise ValidationError(_("手机号格式不正确"))
    if email:
        validate_email(email)
    chosen = list(statuses) if statuses is not None else list(DEFAULT_CITIZEN_STATUSES)
    unknown = set(chosen) - set(CITIZEN_STATUSES)
    if unknown or not chosen:
        raise ValidationError(_("请选择要接收通知的办理进度"))
    subscription, _created = NotificationSubscription.objects.update_or_create(
        case=case, phone=phone, email=email, defaults={"statuses": [str(s) for s in chosen]}
    )
    return subscription


def citizen_recipients(subscription: NotificationSubscription) -> list[Recipient]:
    found = []
    if subscription.phone:
        found.append(Recipient(Channel.SMS, phone=subscription.phone))
    if subscription.email:
        found.append(Recipient(Channel.EMAIL, email=subscription.email))
    return found


#
# Delivery
#


def _backoff(attempts: int) -> timedelta:
    base = conf.get("CIVICGRID_NOTIFY_RETRY_SECONDS")
    return timedelta(seconds=min(base * 2 ** (attempts - 1), 24 * 3600))


# A claimed row is not picked again for this long, should its sender die mid-send.
LEASE = timedelta(minutes=10)


def notifications_deliver(now: datetime | None = None, limit: int = 200) -> int:
    """Send pending messages whose time has come; returns how many were sent."""
    now = now or timezone.now()
    max_attempts = conf.get("CIVICGRID_NOTIFY_MAX_ATTEMPTS")
    due = list(
        Notification.objects.filter(status=Notification.Status.PENDING, next_attempt_at__lte=now)
        .select_related("user")
        .order_by("next_attempt_at", "id")[:limit]
    )
    sent = 0
    for message in due:
        # Claim the row with one UPDATE (no transaction held while sending): a second runner
        # sees it moved and skips it.
        claimed = Notification.objects.filter(
            pk=message.pk, status=Notification.Status.PENDING, next_attempt_at=message.next_attempt_at
        ).update(next_attempt_at=now + LEASE, attempts=F("attempts") + 1)
        if not claimed:
            continue
        attempts = message.attempts + 1
        try:
            send(message)
        except Exception as exc:
            error = mask_text(f"{type(exc).__name__}: {exc}")[:500]
            failed = attempts >= max_attempts
            log.warning("notification %s attempt %s failed: %s", message.pk, attempts, error)
            Notification.objects.filter(pk=message.pk).update(
                status=Notification.Status.FAILED if failed else Notification.Status.PENDING,
                next_attempt_at=now + _backoff(attempts),
                last_error=error,
            )
            continue
        Notification.objects.filter(pk=message.pk).update(status=Notification.Status.SENT, sent_at=now, last_error="")
        sent += 1
    return sent


def notifications_for(user: User):
    """A user's in-app messages, newest first."""
    return Notification.objects.filter(user=user, channel=Channel.INAPP).order_by("-created_at", "-id")


def notifications_mark_read(user: User, *, ids: list[int] | None = None, now: datetime | None = None) -> int:
    """Mark a user's in-app messages read (these ids, or all); returns how many changed."""
    qs = notifications_for(user).filter(read_at=None)
    if ids is not None:
        qs = qs.filter(pk__in=ids)
    return qs.update(read_at=now or timezone.now())

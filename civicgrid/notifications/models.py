"""Notifications: an outbox of messages to staff and citizens, templates admins edit, citizens'
opt-ins and the scans' watermarks.

Rows are written by the scans (civicgrid.notifications.jobs) and delivered by the deliver job
through one backend per channel (civicgrid.notifications.backends). See docs/notifications.md.
"""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.template import TemplateSyntaxError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from civicgrid.notifications.masking import mask_email, mask_phone


class Channel(models.TextChoices):
    INAPP = "inapp", _("站内消息")
    EMAIL = "email", _("电子邮件")
    SMS = "sms", _("短信")
    WEBHOOK = "webhook", _("Webhook")


class Kind(models.TextChoices):
    """What a message is about; also the key of its template."""

    TASK = "task", _("新任务")
    REMIND = "remind", _("催办")
    SUPERVISE = "supervise", _("督办")
    DEADLINE_YELLOW = "deadline_yellow", _("临期提醒")
    DEADLINE_RED = "deadline_red", _("超期提醒")
    CITIZEN_STATUS = "citizen_status", _("办理进度（群众）")


class Notification(models.Model):
    """One message to one recipient on one channel: the outbox row the deliver job sends."""

    class Status(models.TextChoices):
        PENDING = "pending", _("待发送")
        SENT = "sent", _("已发送")
        FAILED = "failed", _("发送失败")

    # Staff are users; citizens are a phone number or an e-mail address.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("接收人"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="notifications",
    )
    phone = models.CharField(_("手机号"), max_length=20, blank=True)
    email = models.EmailField(_("电子邮箱"), blank=True)
    channel = models.CharField(_("渠道"), max_length=10, choices=Channel.choices)
    kind = models.CharField(_("类型"), max_length=20, choices=Kind.choices)
    context = models.JSONField(_("模板变量"), default=dict, blank=True)
    subject = models.CharField(_("标题"), max_length=200, blank=True)
    body = models.TextField(_("内容"))
    case = models.ForeignKey(
        "cases.Case", verbose_name=_("案件"), null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    status = models.CharField(_("状态"), max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(_("尝试次数"), default=0)
    next_attempt_at = models.DateTimeField(_("下次发送"), default=timezone.now)
    last_error = models.TextField(_("最近错误"), blank=True)
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)
    sent_at = models.DateTimeField(_("发送时间"), null=True, blank=True)
    read_at = models.DateTimeField(_("已读时间"), null=True, blank=True)
    # The event, recipient and channel in one string: the same event never notifies twice,
    # however often a scan reads it again.
    dedupe_key = models.CharField(_("去重键"), max_length=200, unique=True)

    class Meta:
        verbose_name = _("消息")
        verbose_name_plural = _("消息")
        ordering = ["-created_at", "-id"]
        indexes = [
            # The deliver job: pending rows whose time has come.
            models.Index(
                fields=["next_attempt_at"],
                condition=models.Q(status="pending"),
                name="notification_due",
            ),
            # A user's in-app list, newest first.
            models.Index(fields=["user", "-created_at"], name="notification_user_created"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} → {self.recipient_display}"

    @property
    def recipient_display(self) -> str:
        """Who it goes to, with phone and e-mail masked (safe for logs and lists)."""
        if self.user_id:
            return f"user:{self.user_id}"
        if self.phone:
            return mask_phone(self.phone)
        return mask_email(self.email)


class MessageTemplate(models.Model):
    """The wording of one kind of message, editable by admins (Django template syntax).

    Templates see only the message's context (plain strings and numbers), never model objects.
    A template for one channel wins over the one for all channels ("").
    """

    key = models.CharField(_("类型"), max_length=20, choices=Kind.choices)
    channel = models.CharField(_("渠道"), max_length=10, choices=Channel.choices, blank=True)
    language = models.CharField(_("语言"), max_length=10, choices=settings.LANGUAGES)
    subject = models.CharField(_("标题"), max_length=200, blank=True)
    body = models.TextField(_("内容"))
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("消息模板")
        verbose_name_plural = _("消息模板")
        ordering = ["key", "channel", "language"]
        constraints = [
            models.UniqueConstraint(fields=["key", "channel", "language"], name="message_template_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.get_key_display()} ({self.channel or '*'}, {self.language})"

    def clean(self) -> None:
        from civicgrid.notifications.templates import compile_template

        for field in ("subject", "body"):
            try:
                compile_template(getattr(self, field))
            except TemplateSyntaxError as exc:
                raise ValidationError({field: _("模板语法错误：%(error)s") % {"error": exc}}) from None


class NotificationSubscription(models.Model):
    """A citizen's wish to hear about a case's progress: where, and at which statuses."""

    case = models.ForeignKey(
        "cases.Case", verbose_name=_("案件"), on_delete=models.CASCADE, related_name="subscriptions"
    )
    phone = models.CharField(_("手机号"), max_length=20, blank=True)
    email = models.EmailField(_("电子邮箱"), blank=True)
    statuses = models.JSONField(_("关注的状态"), default=list)
    created_at = models.DateTimeField(_("订阅时间"), default=timezone.now)

    class Meta:
        verbose_name = _("群众订阅")
        verbose_name_plural = _("群众订阅")

    def __str__(self) -> str:
        return f"{self.case_id} → {mask_phone(self.phone) if self.phone else mask_email(self.email)}"


class ScanMark(models.Model):
    """How far a scan has read: the last case event id (with ids still missing below it), or
    the instant up to which deadlines were checked."""

    name = models.CharField(max_length=20, unique=True)
    last_id = models.BigIntegerField(default=0)
    last_at = models.DateTimeField(null=True, blank=True)
    # Event ids below last_id not yet seen ({id: first noticed}): a transaction that took its
    # id earlier may commit later; each is looked for again until it is too old.
    gaps = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name = _("扫描进度")
        verbose_name_plural = _("扫描进度")

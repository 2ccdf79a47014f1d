"""The 12345 hotline exchange: work orders received, callbacks owed, 回访 results received."""

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class WorkOrder(models.Model):
    """A 12345 work order (工单) and the case it became: one case per hotline order id."""

    order_id = models.CharField(_("热线工单号"), max_length=64, unique=True)
    case = models.OneToOneField(
        "cases.Case", verbose_name=_("案件"), on_delete=models.PROTECT, related_name="hotline_order"
    )
    caller_name = models.CharField(_("来电人"), max_length=50, blank=True)
    caller_phone = models.CharField(_("来电号码"), max_length=20, blank=True)
    # The time the hotline says it took the call; `received_at` is when the order reached us.
    called_at = models.DateTimeField(_("来电时间"), null=True, blank=True)
    received_at = models.DateTimeField(_("接收时间"), default=timezone.now)
    payload = models.JSONField(_("原始报文"), default=dict)

    class Meta:
        verbose_name = _("热线工单")
        verbose_name_plural = _("热线工单")
        ordering = ["-received_at", "-id"]

    def __str__(self):
        return self.order_id


class Callback(models.Model):
    """One message owed to the hotline (an outbox row), and how its delivery went."""

    class Kind(models.TextChoices):
        SIGN = "sign", _("签收")
        RETURN = "return", _("回退")
        RESULT = "result", _("办理结果")
        CLOSE = "close", _("办结")

    class Status(models.TextChoices):
        PENDING = "pending", _("待发送")
        DELIVERED = "delivered", _("已送达")
        FAILED = "failed", _("发送失败")

    case = models.ForeignKey("cases.Case", verbose_name=_("案件"), on_delete=models.CASCADE, related_name="+")
    # The case event this callback reports: unique, so scanning an event twice queues it once.
    event = models.OneToOneField(
        "cases.CaseEvent", verbose_name=_("案件操作"), on_delete=models.CASCADE, related_name="+"
    )
    kind = models.CharField(_("类型"), max_length=8, choices=Kind.choices)
    payload = models.JSONField(_("报文"), default=dict)
    status = models.CharField(_("状态"), max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(_("已尝试次数"), default=0)
    next_attempt_at = models.DateTimeField(_("下次尝试"), default=timezone.now)
    last_error = models.CharField(_("最近错误"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("生成时间"), default=timezone.now)
    delivered_at = models.DateTimeField(_("送达时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("热线回调")
        verbose_name_plural = _("热线回调")
        ordering = ["-id"]
        # The sender's batch (status = pending ORDER BY id, services.hotline_callbacks_send) and the
        # admin's counts by status (selectors), without reading the delivered ones.
        indexes = [models.Index(fields=["status", "id"], name="hotline_callback_status")]

    def __str__(self):
        return f"{self.case_id} {self.kind}"


class VisitResult(models.Model):
    """A 回访 result from the hotline: how satisfied the caller was with the handling."""

    class Satisfaction(models.TextChoices):
        SATISFIED = "satisfied", _("满意")
        BASICALLY = "basically", _("基本满意")
        DISSATISFIED = "dissatisfied", _("不满意")

    work_order = models.ForeignKey(
        WorkOrder, verbose_name=_("热线工单"), on_delete=models.CASCADE, related_name="visits"
    )
    case = models.ForeignKey("cases.Case", verbose_name=_("案件"), on_delete=models.CASCADE, related_name="+")
    # The hotline's own id of the visit, when it sends one: a repeat is recorded once.
    visit_id = models.CharField(_("回访编号"), max_length=64, blank=True)
    visited_at = models.DateTimeField(_("回访时间"), default=timezone.now, db_index=True)
    satisfaction = models.CharField(_("满意度"), max_length=12, choices=Satisfaction.choices)
    note = models.TextField(_("回访说明"), blank=True)
    received_at = models.DateTimeField(_("接收时间"), default=timezone.now)

    class Meta:
        verbose_name = _("热线回访")
        verbose_name_plural = _("热线回访")
        ordering = ["-visited_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["work_order", "visit_id"],
                condition=~models.Q(visit_id=""),
                name="hotline_visit_once",
            )
        ]

    def __str__(self):
        return f"{self.work_order_id} {self.satisfaction}"


class Watermark(models.Model):
    """The last case event the callback scan has read (one row per scan)."""

    name = models.CharField(max_length=32, unique=True)
    last_id = models.BigIntegerField(default=0)

    class Meta:
        verbose_name = _("扫描位置")
        verbose_name_plural = _("扫描位置")

"""The audit log (审计日志): logins, reference-data changes, views of contact details, exports.

Case actions are not here: the cases app keeps them in its own append-only CaseEvent table.
What is recorded and what is not: docs/audit.md.
"""

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class AuditEntry(models.Model):
    """One audited event, written once and never changed (append-only).

    The entry is written in the same database transaction as the change it records
    (civicgrid.audit.receivers), so a rolled-back change leaves no entry. ``actor_name`` is a
    text copy of the actor, kept when the user is deleted. ``changes`` holds
    ``{field: [old, new]}`` for an update and the object's fields for a create or delete;
    foreign keys and many-to-many fields are stored as primary keys, large geometries as a
    hash and a bounding box.
    """

    class Kind(models.TextChoices):
        LOGIN = "login", _("登录成功")
        LOGIN_FAILED = "login_failed", _("登录失败")
        LOGOUT = "logout", _("退出")
        CHANGE = "change", _("数据变更")
        CONTACT_VIEW = "contact_view", _("查看联系方式")
        EXPORT = "export", _("导出")

    class Action(models.TextChoices):
        CREATE = "create", _("新增")
        UPDATE = "update", _("修改")
        DELETE = "delete", _("删除")
        # One summary entry for a bulk load (civicgrid.audit.services.audit_suppressed).
        BULK = "bulk", _("批量导入")

    at = models.DateTimeField(_("时间"), default=timezone.now, editable=False)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("操作人"),
        null=True,
        blank=True,
        # The entry outlives the user; actor_name keeps who it was.
        on_delete=models.SET_NULL,
        related_name="+",
    )
    actor_name = models.CharField(_("操作人姓名"), max_length=200, blank=True)
    kind = models.CharField(_("类型"), max_length=16, choices=Kind.choices)
    content_type = models.ForeignKey(
        ContentType, verbose_name=_("对象类型"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    object_id = models.CharField(_("对象ID"), max_length=64, blank=True)
    object_repr = models.CharField(_("对象"), max_length=200, blank=True)
    action = models.CharField(_("操作"), max_length=8, choices=Action.choices, blank=True)
    changes = models.JSONField(_("变更内容"), default=dict, blank=True)
    ip = models.GenericIPAddressField(_("IP 地址"), null=True, blank=True)
    user_agent = models.CharField(_("浏览器"), max_length=200, blank=True)
    request_id = models.CharField(_("请求ID"), max_length=64, blank=True)
    note = models.TextField(_("说明"), blank=True)

    class Meta:
        verbose_name = _("审计日志")
        verbose_name_plural = _("审计日志")
        ordering = ["-at", "-id"]
        # The admin lists newest first, overall, per actor and per object.
        indexes = [
            models.Index(fields=["-at"], name="audit_entry_at"),
            models.Index(fields=["actor", "-at"], name="audit_entry_actor_at"),
            models.Index(fields=["content_type", "object_id", "-at"], name="audit_entry_object_at"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.object_repr or self.actor_name}".strip()

    def save(self, *args, **kwargs) -> None:
        if not self._state.adding:
            raise ValueError("Audit entries are append-only: an entry cannot be changed.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValueError("Audit entries are append-only: an entry cannot be deleted.")

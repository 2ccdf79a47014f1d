"""The citizen portal (/p/): a citizen's private link to a case.

Nobody logs in on the portal. Whoever reports a case, or follows an open one instead of
reporting it again, gets a Tracker: a long random token behind a private link that shows the
public timeline and, to the reporter of a closed case, the rating form.
"""

import secrets

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


def new_token() -> str:
    return secrets.token_urlsafe(24)


class Tracker(models.Model):
    class Kind(models.TextChoices):
        REPORTER = "reporter", _("反映人")
        FOLLOWER = "follower", _("关注人")

    case = models.ForeignKey("cases.Case", verbose_name=_("案件"), on_delete=models.CASCADE, related_name="trackers")
    token = models.CharField(_("查询令牌"), max_length=43, unique=True, default=new_token, editable=False)
    kind = models.CharField(_("类型"), max_length=10, choices=Kind.choices)
    name = models.CharField(_("姓名"), max_length=50, blank=True)
    phone = models.CharField(_("手机号"), max_length=20, blank=True)
    phone_verified = models.BooleanField(_("手机号已验证"), default=False)
    # The citizen asked to be told of status changes (by SMS to the verified phone).
    notify = models.BooleanField(_("接收办理进度"), default=False)
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)

    class Meta:
        verbose_name = _("查询链接")
        verbose_name_plural = _("查询链接")
        ordering = ["case", "created_at", "id"]

    def __str__(self) -> str:
        return f"{self.case_id} {self.kind}"


class Place(models.Model):
    """A landmark citizens name instead of tapping a map (学校, 菜市场, 小区): the portal's gazetteer.

    Streets, communities and unit grids are found by their own names; a Place adds what people
    actually say. Coordinates are WGS84, like everything the server stores.
    """

    name = models.CharField(_("名称"), max_length=100)
    aliases = models.CharField(
        _("别名"), max_length=300, blank=True, help_text=_("其他叫法，用逗号或空格分隔，例如：一中、县一中")
    )
    lon = models.FloatField(_("经度（WGS84）"))
    lat = models.FloatField(_("纬度（WGS84）"))
    is_active = models.BooleanField(_("启用"), default=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("地名")
        verbose_name_plural = _("地名")
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        from django.core.exceptions import ValidationError

        from civicgrid.geo.lookup import OutsideManagedArea, locate

        if self.lon is None or self.lat is None:
            return
        try:
            locate(self.lon, self.lat)
        except OutsideManagedArea:
            raise ValidationError({"lon": _("该坐标不在管理区域内")}) from None


class CategoryTile(models.Model):
    """One of the plain-language buttons on the report page (路灯不亮), filed under a catalogue category."""

    label = models.CharField(_("按钮文字"), max_length=20)
    hint = models.CharField(_("说明"), max_length=60, blank=True)
    category = models.ForeignKey(
        "catalog.Category",
        verbose_name=_("对应分类"),
        on_delete=models.CASCADE,
        related_name="portal_tiles",
        limit_choices_to={"is_active": True, "is_public": True},
    )
    order = models.PositiveSmallIntegerField(_("排序"), default=0)
    is_active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("上报分类按钮")
        verbose_name_plural = _("上报分类按钮")
        ordering = ["order", "id"]

    def __str__(self) -> str:
        return self.label


class PhoneCode(models.Model):
    """A one-time code sent by SMS to prove a phone number. Only a keyed hash of the code is stored."""

    phone = models.CharField(_("手机号"), max_length=20)
    code_hash = models.CharField(max_length=64, editable=False)
    created_at = models.DateTimeField(_("发送时间"), default=timezone.now)
    expires_at = models.DateTimeField(_("过期时间"))
    attempts = models.PositiveSmallIntegerField(_("错误次数"), default=0)
    used_at = models.DateTimeField(_("使用时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("短信验证码")
        verbose_name_plural = _("短信验证码")
        ordering = ["-created_at", "-id"]
        # The newest unused code of a phone is what a check looks for.
        indexes = [models.Index(fields=["phone", "created_at"], name="portal_code_phone_created")]

    def __str__(self) -> str:
        from civicgrid.notifications.masking import mask_phone

        return mask_phone(self.phone)

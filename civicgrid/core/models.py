"""Organisation and people: the org-unit tree and users with a role and a data scope."""

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _


class OrgUnit(models.Model):
    """A unit of the bureau or outside it (单位): bureau, centers, departments, street offices, contractors."""

    class Kind(models.TextChoices):
        BUREAU = "bureau", _("城市管理局")
        SUPERVISION_CENTER = "supervision_center", _("监督中心")
        COMMAND_CENTER = "command_center", _("指挥中心")
        DEPARTMENT = "department", _("专业部门")
        STREET_OFFICE = "street_office", _("街道/乡镇")
        CONTRACTOR = "contractor", _("第三方企业")
        UTILITY = "utility", _("公用企业")

    code = models.CharField(_("单位编码"), max_length=32, unique=True)
    name = models.CharField(_("单位名称"), max_length=100)
    kind = models.CharField(_("单位类型"), max_length=32, choices=Kind.choices)
    parent = models.ForeignKey(
        "self", verbose_name=_("上级单位"), null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    # A street office's region is its street; a department has none (it works county-wide).
    region = models.ForeignKey(
        "geo.Region",
        verbose_name=_("所辖区域"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="org_units",
    )
    # Remit (职责范围): the kinds of problems the unit handles, a free list of keywords
    # used to suggest a handling unit for a category's responsible-unit type.
    remit = models.TextField(_("职责范围"), blank=True)
    phone = models.CharField(_("联系电话"), max_length=32, blank=True)
    is_active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("单位")
        verbose_name_plural = _("单位")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name

    def ancestors(self) -> list["OrgUnit"]:
        chain, node = [], self.parent
        while node is not None:
            chain.append(node)
            node = node.parent
        return chain


class Role(models.TextChoices):
    INSPECTOR = "inspector", _("监督员")
    OPERATOR = "operator", _("受理员")
    SHIFT_LEAD = "shift_lead", _("值班长")
    DISPATCHER = "dispatcher", _("派遣员")
    HANDLER = "handler", _("处置人员")
    LEADER = "leader", _("领导")
    ADMIN = "admin", _("管理员")


class User(AbstractUser):
    """A member of staff: one role, one org unit, one data scope (数据权限)."""

    class Scope(models.TextChoices):
        ALL = "all", _("全部数据")
        REGION = "region", _("本区域")
        UNIT = "unit", _("本单位")

    display_name = models.CharField(_("姓名"), max_length=50, blank=True)
    role = models.CharField(_("角色"), max_length=20, choices=Role.choices, default=Role.OPERATOR)
    org_unit = models.ForeignKey(
        OrgUnit, verbose_name=_("所属单位"), null=True, blank=True, on_delete=models.PROTECT, related_name="members"
    )
    scope = models.CharField(_("数据权限"), max_length=10, choices=Scope.choices, default=Scope.ALL)
    # For scope=region: the region (street or community) whose data the user sees.
    scope_region = models.ForeignKey(
        "geo.Region", verbose_name=_("权限区域"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    phone = models.CharField(_("手机号"), max_length=20, blank=True)

    class Meta:
        verbose_name = _("用户")
        verbose_name_plural = _("用户")

    def __str__(self) -> str:
        return self.display_name or self.username

    def clean(self) -> None:
        from django.core.exceptions import ValidationError

        if self.scope == self.Scope.REGION and self.scope_region_id is None:
            raise ValidationError({"scope_region": _("数据权限为“本区域”时必须选择权限区域。")})
        if self.scope == self.Scope.UNIT and self.org_unit_id is None:
            raise ValidationError({"org_unit": _("数据权限为“本单位”时必须选择所属单位。")})


# Keep a short alias for annotations in other apps.
UserModel = settings.AUTH_USER_MODEL

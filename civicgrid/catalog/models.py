"""The component/event catalogue (部件/事件分类): categories, their codes and stage time limits."""

import uuid
from decimal import Decimal

from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

# Shown wherever a value is a placeholder or still unconfirmed: the reference data is one
# city's rule or a guess, never this county's 立案结案标准 until an admin confirms it.
PENDING = "待本地确认"


class Kind(models.TextChoices):
    COMPONENT = "component", _("部件")
    EVENT = "event", _("事件")


class Stage(models.TextChoices):
    """Stages of the closed loop that can carry a time limit, in workflow order."""

    VERIFY = "verify", _("核实")
    FILE = "file", _("立案")
    DISPATCH = "dispatch", _("派遣")
    HANDLE = "handle", _("处置")
    CHECK = "check", _("核查")
    CLOSE = "close", _("结案")


class RegionClass(models.TextChoices):
    # eGova-style templates carry alternative limits per region tier (standards.md §2).
    ALL = "", _("全部区域")
    A = "A", _("A类（核心区）")
    B = "B", _("B类（一般区）")
    C = "C", _("C类")


class TimeUnit(models.TextChoices):
    WORKING_HOURS = "working_hours", _("工作时")
    WORKING_DAYS = "working_days", _("工作日")
    NATURAL_HOURS = "natural_hours", _("自然时")


def new_category_key() -> str:
    return f"local:{uuid.uuid4().hex[:12]}"


class Category(models.Model):
    """A minor class of the catalogue (小类): what a case is filed under.

    A component (部件) category is a problem with a kind of city object (a manhole cover),
    an event (事件) category a situation (illegal vending). Conditions and limits loaded from
    the reference are another city's rules or placeholders; the ``*_confirmed`` flags say
    whether this county has adopted them.
    """

    # Stable identity across reloads, imports and renames: "gbt:01001" for reference items
    # with a GB/T 47678.5 code, "legacy:<kind>:<list>:<code>" for legacy-only ones,
    # "local:<random>" for categories a county adds itself.
    key = models.CharField(_("目录键"), max_length=64, unique=True, default=new_category_key)
    kind = models.CharField(_("类型"), max_length=16, choices=Kind.choices)
    name = models.CharField(_("名称"), max_length=100)
    major_name = models.CharField(_("大类"), max_length=50, blank=True)
    filing_condition = models.TextField(_("立案条件"), blank=True)
    filing_condition_confirmed = models.BooleanField(_("立案条件已确认"), default=False)
    filing_condition_source = models.CharField(_("立案条件来源"), max_length=50, blank=True)
    closing_condition = models.TextField(_("结案条件"), blank=True)
    closing_condition_confirmed = models.BooleanField(_("结案条件已确认"), default=False)
    closing_condition_source = models.CharField(_("结案条件来源"), max_length=50, blank=True)
    responsible_unit_type = models.CharField(_("责任单位类型"), max_length=200, blank=True)
    responsible_unit_source = models.CharField(_("责任单位来源"), max_length=50, blank=True)
    default_handling_unit = models.ForeignKey(
        "core.OrgUnit",
        verbose_name=_("默认处置单位"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="default_categories",
    )
    is_active = models.BooleanField(_("启用"), default=True)
    is_public = models.BooleanField(_("对公众开放"), default=True, help_text=_("市民上报时可以选择此分类。"))
    # Sensitive categories (say, complaints about a neighbour) stay off the public map, list and
    # by-number page; the reporter's own private link still shows the case.
    publicly_listed = models.BooleanField(
        _("在公众地图和列表中显示"),
        default=True,
        help_text=_("不勾选时，此分类的案件不出现在公众地图、案件列表和按编号查询中。"),
    )
    note = models.TextField(_("备注"), blank=True)
    sort_order = models.PositiveIntegerField(_("排序"), default=0)
    # What the reference loader last wrote, field by field. A field whose value differs from
    # it was changed here (admin, import) and the loader leaves it alone.
    reference_values = models.JSONField(default=dict, blank=True, editable=False)

    class Meta:
        verbose_name = _("部件事件分类")
        verbose_name_plural = _("部件事件分类")
        ordering = ["kind", "sort_order", "id"]
        indexes = [models.Index(fields=["kind", "is_active"], name="catalog_cat_kind_active")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.name}"

    @staticmethod
    def shown(value: str, confirmed: bool) -> str:
        """A reference value as the UI shows it: 待本地确认 until confirmed."""
        if not value or not confirmed:
            return PENDING
        return value

    @property
    def filing_condition_display(self) -> str:
        return self.shown(self.filing_condition, self.filing_condition_confirmed)

    @property
    def closing_condition_display(self) -> str:
        return self.shown(self.closing_condition, self.closing_condition_confirmed)

    def code_for(self, scheme: str) -> "CategoryCode | None":
        # Iterates the (usually prefetched) codes rather than querying.
        return next((c for c in self.codes.all() if c.scheme == scheme), None)

    def limits_by_stage(self, region_class: str = "") -> dict[str, "StageTimeLimit | None"]:
        """Every stage with its limit for the region class (falling back to all regions), or None."""
        rows = {(r.stage, r.region_class): r for r in self.time_limits.all()}
        return {stage: rows.get((stage, region_class)) or rows.get((stage, RegionClass.ALL)) for stage in Stage.values}


class CategoryCode(models.Model):
    """A category's code in one coding scheme (GB/T 30428.2 style or GB/T 47678.5).

    A category has at most one code per scheme. Legacy 4-digit codes are numbered separately
    for components and events (0101 上水井盖 and 0101 私搭乱建 both exist), so uniqueness
    includes the kind; GB/T 47678.5 codes are unique on their own.
    """

    class Scheme(models.TextChoices):
        LEGACY = "legacy", _("GB/T 30428.2 旧标（4位）")
        GBT47678_5 = "gbt47678_5", _("GB/T 47678.5-2026 国标（5位）")

    category = models.ForeignKey(Category, verbose_name=_("分类"), on_delete=models.CASCADE, related_name="codes")
    scheme = models.CharField(_("编码体系"), max_length=16, choices=Scheme.choices)
    # Copied from the category on save: the database can then enforce per-kind uniqueness.
    kind = models.CharField(_("类型"), max_length=16, choices=Kind.choices, editable=False)
    code = models.CharField(_("编码"), max_length=8)
    # Both schemes put the 2-digit major class first; derived from the code on save.
    major_code = models.CharField(_("大类编码"), max_length=4, blank=True, editable=False)
    major_name = models.CharField(_("大类名称"), max_length=50, blank=True)
    name = models.CharField(_("标准名称"), max_length=100, blank=True)

    class Meta:
        verbose_name = _("分类编码")
        verbose_name_plural = _("分类编码")
        ordering = ["scheme", "code"]
        constraints = [
            models.UniqueConstraint(fields=["category", "scheme"], name="catalog_code_one_per_scheme"),
            models.UniqueConstraint(fields=["scheme", "kind", "code"], name="catalog_code_unique_per_kind"),
            models.UniqueConstraint(
                fields=["scheme", "code"], condition=Q(scheme="gbt47678_5"), name="catalog_code_unique_gbt"
            ),
        ]

    def __str__(self) -> str:
        return self.code

    @classmethod
    def expected_length(cls, scheme: str) -> int:
        return 5 if scheme == cls.Scheme.GBT47678_5 else 4

    def clean(self) -> None:
        from django.core.exceptions import ValidationError

        width = self.expected_length(self.scheme)
        if not (self.code.isdigit() and len(self.code) == width):
            raise ValidationError({"code": _("编码应为 %(width)d 位数字。") % {"width": width}})
        if self.category_id is None:
            return
        # kind is not a form field, so the per-kind unique constraint is checked here.
        clashes = CategoryCode.objects.filter(scheme=self.scheme, code=self.code).exclude(pk=self.pk)
        if self.scheme == self.Scheme.LEGACY:
            clashes = clashes.filter(kind=self.category.kind)
        if clashes.exists():
            raise ValidationError({"code": _("该编码已被其他分类使用。")})

    def save(self, *args, **kwargs) -> None:
        self.kind = self.category.kind
        self.major_code = self.code[:2]
        super().save(*args, **kwargs)


class StageTimeLimit(models.Model):
    """The time allowed for one stage of a category's cases, optionally per region class.

    ``confirmed`` is True only for a rule this county has adopted (or, from the reference, a
    rule a named city published; ``source`` then names it). Unconfirmed limits are shown as
    待本地确认.
    """

    category = models.ForeignKey(Category, verbose_name=_("分类"), on_delete=models.CASCADE, related_name="time_limits")
    stage = models.CharField(_("环节"), max_length=16, choices=Stage.choices)
    region_class = models.CharField(_("区域类别"), max_length=1, choices=RegionClass.choices, blank=True, default="")
    amount = models.DecimalField(
        _("时限"), max_digits=8, decimal_places=2, validators=[MinValueValidator(Decimal("0"))]
    )
    unit = models.CharField(_("单位"), max_length=16, choices=TimeUnit.choices)
    confirmed = models.BooleanField(_("已确认"), default=False)
    source = models.CharField(_("来源"), max_length=100, blank=True)
    note = models.TextField(_("备注"), blank=True)
    # What the reference loader last wrote (see Category.reference_values).
    reference_values = models.JSONField(default=dict, blank=True, editable=False)

    class Meta:
        verbose_name = _("环节时限")
        verbose_name_plural = _("环节时限")
        ordering = ["category", "stage", "region_class"]
        constraints = [
            models.UniqueConstraint(fields=["category", "stage", "region_class"], name="catalog_limit_unique"),
            models.CheckConstraint(condition=Q(amount__gte=0), name="catalog_limit_amount_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.get_stage_display()} {self.amount_text}"

    @property
    def amount_text(self) -> str:
        """'6 自然时', '1.5 工作日': the amount without trailing zeros, then the unit."""
        amount = Decimal(str(self.amount))
        text = format(amount.quantize(Decimal(1)) if amount == amount.to_integral_value() else amount.normalize(), "f")
        return f"{text} {self.get_unit_display()}"

    @property
    def display(self) -> str:
        """As lists show it: the amount when confirmed, else 待本地确认 with the value in brackets."""
        if self.confirmed:
            return self.amount_text
        return f"{PENDING}（参考：{self.amount_text}）"

"""Evaluation settings (评价设置): the choices cities make differently, weights and grade bands.

The indicators themselves are never stored: civicgrid.evaluation.indicators computes them
from the case history on every request. These rows only say how to count (deferred cases,
基本满意) and how to turn indicators into a composite score (综合指标值) and a grade.
Defaults are created by migration 0002 and documented in docs/evaluation.md.
"""

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models.functions import Substr
from django.utils.translation import gettext_lazy as _

PERCENT = [MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("100"))]


class ObjectType(models.TextChoices):
    """What is evaluated; streets, communities and grids share the region weights."""

    REGION = "region", _("区域（街道、社区、网格）")
    UNIT = "unit", _("处置单位")
    INSPECTOR = "inspector", _("监督员")
    OPERATOR = "operator", _("受理员")
    SHIFT_LEAD = "shift_lead", _("值班长")
    DISPATCHER = "dispatcher", _("派遣员")


# The rates each object type can be scored on (row attribute → label). The rows in
# civicgrid.evaluation.indicators carry exactly these attributes.
SCORABLE: dict[str, dict[str, str]] = {
    ObjectType.REGION: {
        "public_share": _("监督举报率（公众上报占比）"),
        "closure_rate": _("结案率"),
        "on_time_rate": _("按期结案率"),
    },
    ObjectType.UNIT: {
        "closure_rate": _("结案率"),
        "on_time_rate": _("按期结案率"),
        "rework_rate": _("返工率"),
        "extension_rate": _("延期率"),
        "overdue_rate": _("超期率"),
        "satisfaction_rate": _("满意率"),
    },
    ObjectType.INSPECTOR: {
        "valid_report_rate": _("有效上报率"),
        "missed_report_rate": _("漏报率"),
        "on_time_verify_rate": _("按时核实率"),
        "on_time_check_rate": _("按时核查率"),
    },
    ObjectType.OPERATOR: {
        "on_time_filing_rate": _("按时立案率"),
        "accurate_filing_rate": _("准确立案率"),
    },
    ObjectType.SHIFT_LEAD: {
        "on_time_filing_rate": _("按时立案率"),
        "accurate_filing_rate": _("准确立案率"),
        "on_time_closing_rate": _("按时结案率"),
    },
    ObjectType.DISPATCHER: {
        "on_time_dispatch_rate": _("按时派遣率"),
        "accurate_dispatch_rate": _("准确派遣率"),
    },
}


class EvaluationSettings(models.Model):
    """The county's counting choices (one row, pk=1; `EvaluationSettings.current()`)."""

    exclude_deferred = models.BooleanField(
        _("缓办案件不计入应结案数"),
        default=True,
        help_text=_("金华等地的做法：应结案数 = 立案（派遣）数 − 缓办数。关闭后缓办案件照常计入分母。"),
    )
    basically_satisfied_counts = models.BooleanField(
        _("基本满意计为满意"), default=True, help_text=_("满意率 = （满意 + 基本满意）÷ 回访评价数；关闭后只计“满意”。")
    )
    satisfaction_target = models.DecimalField(
        _("满意率目标（%）"), max_digits=5, decimal_places=2, default=Decimal("95"), validators=PERCENT
    )
    service_target = models.DecimalField(
        _("服务解决目标占比（%）"), max_digits=5, decimal_places=2, default=Decimal("70"), validators=PERCENT
    )
    management_target = models.DecimalField(
        _("管理解决目标占比（%）"), max_digits=5, decimal_places=2, default=Decimal("20"), validators=PERCENT
    )
    enforcement_target = models.DecimalField(
        _("执法解决目标占比（%）"), max_digits=5, decimal_places=2, default=Decimal("10"), validators=PERCENT
    )

    class Meta:
        verbose_name = _("评价设置")
        verbose_name_plural = _("评价设置")

    def __str__(self) -> str:
        return str(_("评价设置"))

    def clean(self) -> None:
        total = self.service_target + self.management_target + self.enforcement_target
        if total != 100:
            raise ValidationError({"enforcement_target": _("服务、管理、执法三项目标占比之和应为 100%。")})

    def save(self, *args, **kwargs) -> None:
        self.pk = 1  # one row
        super().save(*args, **kwargs)

    @classmethod
    def current(cls) -> "EvaluationSettings":
        """The saved settings, or the defaults (unsaved) if the row was deleted."""
        return cls.objects.filter(pk=1).first() or cls(pk=1)


class IndicatorWeight(models.Model):
    """One indicator's weight in an object type's composite score (综合指标值).

    The score is the weighted mean of the normalised indicators: a rate counts as itself
    (0–100) when higher is better and as 100 − rate when lower is better. Indicators without
    a value (no denominator in the period) are left out and the other weights rescaled.
    """

    class Direction(models.TextChoices):
        HIGHER = "higher", _("越高越好")
        LOWER = "lower", _("越低越好")

    object_type = models.CharField(_("评价对象"), max_length=16, choices=ObjectType.choices)
    indicator = models.CharField(_("指标"), max_length=40)
    weight = models.DecimalField(
        _("权重"), max_digits=6, decimal_places=2, validators=[MinValueValidator(Decimal("0"))]
    )
    direction = models.CharField(_("方向"), max_length=8, choices=Direction.choices, default=Direction.HIGHER)

    class Meta:
        verbose_name = _("指标权重")
        verbose_name_plural = _("指标权重")
        ordering = ["object_type", "id"]
        constraints = [
            models.UniqueConstraint(fields=["object_type", "indicator"], name="indicator_weight_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.get_object_type_display()} {self.indicator_label}"

    @property
    def indicator_label(self) -> str:
        return str(SCORABLE.get(self.object_type, {}).get(self.indicator, self.indicator))

    def clean(self) -> None:
        if self.indicator not in SCORABLE.get(self.object_type, {}):
            choices = "、".join(f"{key}（{label}）" for key, label in SCORABLE.get(self.object_type, {}).items())
            raise ValidationError({"indicator": _("该评价对象可用的指标：%(choices)s") % {"choices": choices}})


class GradeBand(models.Model):
    """A grade (评价等级) given to composite scores at or above `min_score`; the highest band that fits wins."""

    grade = models.CharField(_("等级"), max_length=8, unique=True)
    min_score = models.DecimalField(_("最低分"), max_digits=5, decimal_places=2, validators=PERCENT)

    class Meta:
        verbose_name = _("评价等级")
        verbose_name_plural = _("评价等级")
        ordering = ["-min_score"]

    def __str__(self) -> str:
        return f"{self.grade} ≥ {self.min_score}"


class EvaluationFact(models.Model):
    """One history event that enters an evaluation (a report, a filing, a dispatch, a 核实,
    a 核查, a closure…) with the *instants* of what followed it, read from the case's history.

    A pre-aggregation, never a source: civicgrid.evaluation.facts builds every row by
    INSERT … SELECT from CaseEvent, CaseStage and Case with the definitions of
    civicgrid.evaluation.indicators, and rebuilds the rows of every case that has a new event
    before each evaluation (cases change only by events: a stage clock moves only with one).
    A period's flag is then `instant < period end` on this table alone, without joins: the
    figures equal the direct computation exactly (tests: test_facts.py).

    Instants are the first qualifying event of the case: `*_ever` at any time, `*_from` at or
    after this event, `*_after` strictly after it. `overdue` is the earliest deadline of a
    handling run started at or after this event that was overdue (not ended by its deadline,
    and not paused before it); `overdue_unit` the same for runs of `unit_key`.
    """

    event = models.OneToOneField(
        "cases.CaseEvent", primary_key=True, on_delete=models.CASCADE, related_name="+", db_constraint=False
    )
    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="+", db_constraint=False)
    action = models.CharField(max_length=24)
    at = models.DateTimeField()
    actor_id = models.IntegerField(null=True)
    actor_role = models.CharField(max_length=20, blank=True)
    # Immutable facts of the case (set at its report).
    grid_id = models.IntegerField(null=True)
    region_code = models.CharField(max_length=32, blank=True)
    public = models.BooleanField(default=False)
    # The unit the row counts for: dispatch and reopen, the receiving unit (data["unit"]["id"]);
    # a 处置反馈 (handled), the unit of the handling run it ended; a rating, the rating's unit.
    unit_key = models.IntegerField(null=True)
    # A 处置反馈 that ended a handling run of a unit and started the 核查: that run's start
    # (the unit's handling time is `at − run_started`). Null for every other row.
    run_started = models.DateTimeField(null=True)
    # A rating's event (rate, dissatisfied): the Rating's level and source; blank otherwise.
    satisfaction = models.CharField(max_length=12, blank=True)
    source = models.CharField(max_length=10, blank=True)
    void_ever = models.DateTimeField(null=True)
    void_after = models.DateTimeField(null=True)
    deferral_ever = models.DateTimeField(null=True)
    deferral_from = models.DateTimeField(null=True)
    closed_from = models.DateTimeField(null=True)  # close or approve_self_handled
    close_from = models.DateTimeField(null=True)  # close only
    return_from = models.DateTimeField(null=True)
    return_after = models.DateTimeField(null=True)
    handled_from = models.DateTimeField(null=True)
    check_fail_from = models.DateTimeField(null=True)
    check_fail_after = models.DateTimeField(null=True)
    extension_from = models.DateTimeField(null=True)
    valid_ever = models.DateTimeField(null=True)  # file or approve_self_handled
    file_ever = models.DateTimeField(null=True)
    overdue = models.DateTimeField(null=True)
    overdue_unit = models.DateTimeField(null=True)
    # The stage run this event ended (verify, check, file, close or dispatch) was late.
    late = models.BooleanField(default=False)
    # Closures: the resolution mode and unit of the case's latest 处置反馈 before it.
    mode = models.CharField(max_length=12, blank=True)
    handled_by = models.IntegerField(null=True)

    class Meta:
        verbose_name = _("评价事实")
        verbose_name_plural = _("评价事实")
        indexes = [
            # Every indicator of a period over the whole platform: WHERE action IN … AND at in the period.
            models.Index(fields=["action", "at"], name="evalfact_action_at"),
            # The same for one county (or a street or community in it) on a platform of several:
            # indicators._fact_where writes SUBSTR(region_code, 1, 6) = county exactly like this.
            models.Index(Substr("region_code", 1, 6), "action", "at", name="evalfact_county_action_at"),
            # The staff tables of one county (indicators._staff_from_facts: … AND actor_role = …):
            # with the index above each role's query read every role's events of the month and
            # dropped the others' (a county's shift leads' reports: 72,610 rows read for none).
            models.Index(
                Substr("region_code", 1, 6), "action", "actor_role", "at", name="evalfact_county_action_role_at"
            ),
        ]


class EvaluationFactState(models.Model):
    """One row: the last CaseEvent id whose case's facts are in EvaluationFact."""

    last_event_id = models.BigIntegerField(default=0)
    built_at = models.DateTimeField(null=True)

"""Cases (案件): one problem tracked from report to closure, with its append-only history.

A case's status changes only through civicgrid.cases.services.case_act, which applies the
transition table in civicgrid.cases.workflow. The stage clocks (verify, file, dispatch,
handle, check, close) are kept per stage in CaseStage for the KPIs; the case itself carries
the running stage's deadline so that queues and the overdue sweep can filter on it.
"""

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from civicgrid.cases.workflow import OPEN as OPEN_STATUSES
from civicgrid.cases.workflow import Action, Status
from civicgrid.catalog.models import Stage, TimeUnit
from civicgrid.core.scoping import RegionScopedQuerySet, unit_for


class Channel(models.TextChoices):
    INSPECTOR = "inspector", _("监督员上报")
    OPERATOR = "operator", _("坐席登记")
    PUBLIC = "public", _("公众上报")
    HOTLINE = "hotline", _("12345 热线")
    VIDEO = "video", _("视频识别")
    LEADER = "leader", _("领导交办")
    MEDIA = "media", _("媒体曝光")


# Reports from these channels are confirmed on site by the grid's inspector before filing.
CHANNELS_NEEDING_VERIFICATION = frozenset(set(Channel) - {Channel.INSPECTOR})


class Light(models.TextChoices):
    """Traffic light of the running stage: green under 80 % of its time, yellow to 100 %, red after."""

    GREEN = "green", _("正常")
    YELLOW = "yellow", _("临期")
    RED = "red", _("超期")
    PAUSED = "paused", _("暂停计时")
    NONE = "none", _("无时限")


class ResolutionMode(models.TextChoices):
    SERVICE = "service", _("服务")
    MANAGEMENT = "management", _("管理")
    ENFORCEMENT = "enforcement", _("执法")


def region_code_range(prefix: str, field: str = "region_code") -> dict:
    """The codes under a region as a range, [360725, 360726) for 360725: the same rows as
    startswith for codes of digits, but a range any b-tree index serves (PostgreSQL uses no
    index for LIKE 'prefix%' under a non-C collation, such as this platform's C.UTF-8)."""
    head = prefix.rstrip("9")  # 360729 -> up to 36073
    if prefix.isascii() and prefix.isdigit() and head:
        return {f"{field}__gte": prefix, f"{field}__lt": head[:-1] + chr(ord(head[-1]) + 1)}
    return {f"{field}__startswith": prefix}


class CaseQuerySet(RegionScopedQuerySet):
    def in_region(self, prefix: str) -> "CaseQuerySet":
        return self.filter(**region_code_range(prefix))

    def visible_to(self, user) -> "CaseQuerySet":
        # Region scope (street offices, region-scoped staff) and unit scope (a department sees
        # what was dispatched to it) both apply.
        qs = super().visible_to(user)
        unit = unit_for(user)
        return qs if unit is None else qs.filter(handling_unit_id=unit)

    def open(self) -> "CaseQuerySet":
        # A positive list of open statuses, not exclude(terminal): SQLite can use the status
        # index for IN (...) but scans every row for NOT IN (161 ms → 3.5 ms at 1M cases).
        return self.filter(status__in=sorted(OPEN_STATUSES))

    def overdue(self, now=None) -> "CaseQuerySet":
        return self.open().filter(stage_deadline__lt=now or timezone.now())


class Case(models.Model):
    """A problem reported from a channel and tracked through the closed loop."""

    number = models.CharField(_("案件编号"), max_length=32, unique=True)
    channel = models.CharField(_("来源渠道"), max_length=16, choices=Channel.choices)
    # db_index=False on the foreign keys that lead a composite index below (category, handling
    # unit, assignee): that index serves their lookups too, one index less to write per case.
    category = models.ForeignKey(
        "catalog.Category", verbose_name=_("分类"), on_delete=models.PROTECT, related_name="cases", db_index=False
    )
    description = models.TextField(_("问题描述"), max_length=4000)
    address = models.CharField(_("地址"), max_length=256)
    lon = models.FloatField(_("经度"))
    lat = models.FloatField(_("纬度"))
    grid = models.ForeignKey("geo.Grid", verbose_name=_("单元网格"), on_delete=models.PROTECT, related_name="cases")
    community = models.ForeignKey(
        "geo.Region", verbose_name=_("社区"), on_delete=models.PROTECT, related_name="community_cases"
    )
    street = models.ForeignKey(
        "geo.Region", verbose_name=_("街道"), on_delete=models.PROTECT, related_name="street_cases"
    )
    # Copy of the community code: region scopes filter by prefix without a join.
    region_code = models.CharField(max_length=12, editable=False)
    region_class = models.CharField(_("区域类别"), max_length=1, blank=True)

    reporter = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("上报人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="reported_cases",
    )
    reporter_name = models.CharField(_("反映人"), max_length=50, blank=True)
    # Masked everywhere but for operators and admins (see Case.masked_phone); each unmasked
    # view is audited.
    reporter_phone = models.CharField(_("联系电话"), max_length=20, blank=True)
    external_id = models.CharField(_("外部编号"), max_length=64, blank=True)

    # No index of its own: the composite indexes below start with status (see Meta.indexes).
    status = models.CharField(_("状态"), max_length=24, choices=Status.choices)
    handling_unit = models.ForeignKey(
        "core.OrgUnit",
        verbose_name=_("处置单位"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="cases",
        db_index=False,
    )
    # The inspector asked to verify or check on site, when the case waits for one.
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("当前处理人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="assigned_cases",
        db_index=False,
    )
    verified = models.BooleanField(_("核实属实"), null=True, blank=True)
    urgent = models.BooleanField(_("紧急"), default=False)
    supervised = models.BooleanField(_("督办"), default=False)
    remind_count = models.PositiveIntegerField(_("催办次数"), default=0)
    rework_count = models.PositiveIntegerField(_("返工次数"), default=0)
    extension_count = models.PositiveIntegerField(_("延期次数"), default=0)
    return_count = models.PositiveIntegerField(_("回退次数"), default=0)
    deferral_count = models.PositiveIntegerField(_("缓办次数"), default=0)
    reopen_count = models.PositiveIntegerField(_("不满意重办次数"), default=0)
    resolution_mode = models.CharField(_("解决方式"), max_length=16, choices=ResolutionMode.choices, blank=True)
    duplicate_of = models.ForeignKey(
        "self", verbose_name=_("重复于"), null=True, blank=True, on_delete=models.PROTECT, related_name="duplicates"
    )

    # The running stage's clock (a copy of the open CaseStage row, for queues and the sweep).
    stage = models.CharField(_("当前环节"), max_length=10, choices=Stage.choices, blank=True)
    stage_started_at = models.DateTimeField(_("环节开始"), null=True, blank=True)
    stage_warn_at = models.DateTimeField(_("临期时间"), null=True, blank=True)
    stage_deadline = models.DateTimeField(_("环节期限"), null=True, blank=True)
    stage_paused = models.BooleanField(_("暂停计时"), default=False)
    # Set by the periodic sweep when the deadline passes, so notifications fire once.
    overdue_marked = models.BooleanField(_("已标记超期"), default=False)

    created_at = models.DateTimeField(_("上报时间"), default=timezone.now)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)
    filed_at = models.DateTimeField(_("立案时间"), null=True, blank=True)
    closed_at = models.DateTimeField(_("结案时间"), null=True, blank=True)
    # Optimistic locking: every action names the version it saw; a stale one gets 409.
    version = models.PositiveIntegerField(_("版本"), default=1)

    objects = CaseQuerySet.as_manager()

    class Meta:
        verbose_name = _("案件")
        verbose_name_plural = _("案件")
        ordering = ["-created_at"]
        # Each index names the queries that use it (EXPLAIN on PostgreSQL, 200,000 cases, 2026-11-30).
        # A status alone (tab counts, status filters) uses the first index that starts with it.
        indexes = [
            # Every status queue page and its tab count (selectors.queue_cases: status IN …, ORDER
            # BY stage_deadline), 超期 (stage_deadline < now), the sweep of overdue cases.
            models.Index(fields=["status", "stage_deadline"], name="case_status_deadline"),
            # A county's (or street's) queues and their tab counts: status IN (…) AND region_code
            # in the range [360725, 360726) (CaseQuerySet.in_region). Status first: with the
            # region first, a county's 待处置 count read its million index entries (230 ms at
            # 10,000,000 cases) instead of the few thousand open ones.
            models.Index(fields=["status", "region_code"], name="case_status_region"),
            # The case import's re-import check (external_id = ANY(…)) and a 12345 work order's
            # case: without it, every import read the whole table once.
            models.Index(fields=["external_id"], name="case_external_id"),
            # A unit's queues (待签收, 待处置: handling_unit = … AND status …) and its tab counts.
            models.Index(fields=["handling_unit", "status"], name="case_unit_status"),
            # An inspector's verify and check tasks (assignee = … AND status = …).
            models.Index(fields=["assignee", "status"], name="case_assignee_status"),
            # Duplicate suggestions (same category, created within 72 h), Open311 ?service_code=,
            # the category filter of the lists, the portal's list by category.
            models.Index(fields=["category", "created_at"], name="case_category_created"),
            # Newest first: 全部案件 and GET /api/v1/cases/ (keyset pages after (created_at, id)),
            # date filters, Open311's default 90 days and start/end_date, the portal's recent cases.
            models.Index(fields=["created_at", "id"], name="case_created"),
            # Open311 ?status=open (a few open statuses, newest first) and the lists' status filter.
            models.Index(fields=["status", "created_at"], name="case_status_created"),
            # Open311 ?status=open, newest first: the open cases by date alone. With only the
            # index above, PostgreSQL read every open case of the 90 days (92,000 of 10,000,000
            # over fourteen status values) and sorted them for a page of 1,000: 486 ms → 2.9 ms.
            models.Index(
                fields=["created_at", "id"],
                name="case_open_created",
                condition=models.Q(status__in=sorted(OPEN_STATUSES)),
            ),
            # The 督办 queue: the few supervised cases, without reading every open case.
            # (Not a partial index: SQLite's planner preferred the status indexes to it.)
            models.Index(fields=["supervised", "status"], name="case_supervised_by_status"),
            # PostgreSQL's 督办 tab count and queue in a county: with the index above it ANDed
            # every supervised case (178,847 of 10,000,000, most of them closed) with the
            # county's open cases: 118 ms a page. The county's open supervised cases alone: 0.3 ms.
            models.Index(
                fields=["region_code"],
                name="case_supervised_open",
                condition=models.Q(supervised=True, status__in=sorted(OPEN_STATUSES)),
            ),
            # The same for a unit's staff (督办 tab of a handler, unit scope): PostgreSQL ANDed the
            # index above (every county's open supervised cases, 735 at 10,000,000) with the
            # unit's 103,000 entries of case_unit_status: 13.8 ms of each handler's page.
            models.Index(
                fields=["handling_unit"],
                name="case_unit_supervised_open",
                condition=models.Q(supervised=True, status__in=sorted(OPEN_STATUSES)),
            ),
            # The cockpit's and the portal's period counts: filed in a period; closed in a period.
            models.Index(fields=["filed_at"], name="case_filed"),
            models.Index(fields=["status", "closed_at"], name="case_status_closed"),
            # Open311 change feeds (?updated_after=, ?updated_before=): without it a scan of every
            # case (134 ms at 200,000 cases; 2.3 ms with it).
            models.Index(fields=["updated_at"], name="case_updated"),
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def masked_phone(self) -> str:
        phone = self.reporter_phone
        if len(phone) >= 7:
            return f"{phone[:3]}****{phone[-4:]}"
        return "****" if phone else ""

    def light(self, now=None) -> str:
        if self.stage_paused:
            return Light.PAUSED
        if self.stage_deadline is None:
            return Light.NONE
        now = now or timezone.now()
        if now >= self.stage_deadline:
            return Light.RED
        if self.stage_warn_at is not None and now >= self.stage_warn_at:
            return Light.YELLOW
        return Light.GREEN


class CaseStage(models.Model):
    """One run of a stage's clock: when it started and ended, its limit, deadline and pauses.

    A stage can run more than once (a reworked case handles again); each run is a row. The
    KPIs (on-time rates, average handling time) read these rows.
    """

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="stages")
    stage = models.CharField(_("环节"), max_length=10, choices=Stage.choices)
    unit = models.ForeignKey("core.OrgUnit", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    started_at = models.DateTimeField(_("开始"))
    ended_at = models.DateTimeField(_("结束"), null=True, blank=True)
    # The limit in force (catalogue limit plus approved extensions); null: no limit set.
    amount = models.DecimalField(_("时限"), max_digits=8, decimal_places=2, null=True, blank=True)
    time_unit = models.CharField(_("单位"), max_length=16, choices=TimeUnit.choices, blank=True)
    deadline = models.DateTimeField(_("期限"), null=True, blank=True)
    warn_at = models.DateTimeField(_("临期时间"), null=True, blank=True)
    calendar_complete = models.BooleanField(_("日历完整"), default=True)
    # Closed pauses as [[start, end], ...] ISO strings; paused_since while a pause is open.
    pauses = models.JSONField(_("暂停区间"), default=list, blank=True)
    paused_since = models.DateTimeField(_("暂停开始"), null=True, blank=True)
    on_time = models.BooleanField(_("按期"), null=True, blank=True)

    class Meta:
        verbose_name = _("环节计时")
        verbose_name_plural = _("环节计时")
        ordering = ["case", "started_at", "id"]
        indexes = [
            # KPIs over a period: stages that ended in it, by stage.
            models.Index(fields=["stage", "ended_at"], name="casestage_stage_ended"),
        ]


class CaseEvent(models.Model):
    """One action on a case, append-only: who did what, when, from which status to which."""

    # Indexed by caseevent_case_at below (its first column), not on its own.
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="events", db_index=False)
    # Action values plus the events that are no transition: "report", "attach", "rate" and
    # "import" (a finished case brought from another system, civicgrid.cases.importer).
    action = models.CharField(_("操作"), max_length=24)
    from_status = models.CharField(_("原状态"), max_length=24, blank=True)
    to_status = models.CharField(_("新状态"), max_length=24, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("操作人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="case_events",
    )
    actor_role = models.CharField(_("角色"), max_length=20, blank=True)
    unit = models.ForeignKey(
        "core.OrgUnit", verbose_name=_("单位"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Indexed alone for the evaluation facts' refresh (at >= …) and the notifications' catch-up (at < …).
    at = models.DateTimeField(_("时间"), default=timezone.now, db_index=True)
    note = models.TextField(_("说明"), blank=True)
    # Action details: target unit, extension amount, duplicate link…
    data = models.JSONField(_("详情"), default=dict, blank=True)

    class Meta:
        verbose_name = _("案件操作记录")
        verbose_name_plural = _("案件操作记录")
        ordering = ["case", "at", "id"]
        indexes = [
            # KPIs count actions in a period (returns, extensions, reworks).
            models.Index(fields=["action", "at"], name="caseevent_action_at"),
            # A case's timeline in order (the case page, the API, the portal) and Open311's notes
            # of a page of 1,000 requests: with the columns the notes show in the key, PostgreSQL
            # reads them from the index alone (35 ms → 16 ms for 6,700 events). (Key columns, not
            # INCLUDE: SQLite has no INCLUDE, and Django warns about it there.)
            models.Index(fields=["case", "at", "id", "action", "from_status", "to_status"], name="caseevent_case_at"),
        ]

    def __str__(self) -> str:
        return f"{self.case_id} {self.action}"

    @property
    def action_label(self) -> str:
        if self.action == "report":
            return str(_("上报"))
        if self.action == "attach":
            return str(_("上传附件"))
        if self.action == "rate":
            return str(_("群众评价"))
        if self.action == "import":
            return str(_("导入"))
        try:
            return str(Action(self.action).label)
        except ValueError:
            return self.action


class Satisfaction(models.TextChoices):
    """The reporter's rating of a closed case (portal) or the caller's at the 12345 回访."""

    SATISFIED = "satisfied", _("满意")
    BASICALLY = "basically", _("基本满意")
    DISSATISFIED = "dissatisfied", _("不满意")


class Rating(models.Model):
    """One rating of a closed case by the person who reported it, kept as given (raw level).

    Whether 基本满意 counts as satisfied is the evaluation's setting, not decided here. A
    不满意 puts the case before the shift lead (Status.REVIEW); see cases.services.case_rate.
    """

    class Source(models.TextChoices):
        PORTAL = "portal", _("群众评价")
        HOTLINE = "hotline", _("12345 回访")

    case = models.ForeignKey(Case, verbose_name=_("案件"), on_delete=models.CASCADE, related_name="ratings")
    source = models.CharField(_("来源"), max_length=10, choices=Source.choices)
    satisfaction = models.CharField(_("满意度"), max_length=12, choices=Satisfaction.choices)
    comment = models.TextField(_("评价内容"), max_length=500, blank=True)
    # The handling unit at the time of the rating: satisfaction per unit.
    unit = models.ForeignKey(
        "core.OrgUnit", verbose_name=_("处置单位"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    event = models.ForeignKey(CaseEvent, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(_("评价时间"), default=timezone.now)

    class Meta:
        verbose_name = _("满意度评价")
        verbose_name_plural = _("满意度评价")
        ordering = ["case", "created_at", "id"]
        indexes = [
            # Satisfaction figures over a period.
            models.Index(fields=["created_at"], name="rating_created"),
        ]

    def __str__(self) -> str:
        return f"{self.case_id} {self.satisfaction}"


class Attachment(models.Model):
    """A photo (before or after handling) or a document attached to a case."""

    class Kind(models.TextChoices):
        BEFORE = "before", _("处置前照片")
        AFTER = "after", _("处置后照片")
        DOCUMENT = "document", _("文件")

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="attachments")
    event = models.ForeignKey(CaseEvent, null=True, blank=True, on_delete=models.SET_NULL, related_name="attachments")
    kind = models.CharField(_("类型"), max_length=10, choices=Kind.choices)
    file = models.FileField(_("文件"), upload_to="cases/%Y/%m/", max_length=255)
    thumbnail = models.FileField(_("缩略图"), upload_to="cases/thumbs/%Y/%m/", blank=True, max_length=255)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("附件")
        verbose_name_plural = _("附件")
        ordering = ["case", "created_at", "id"]

    # Files are served by civicgrid.cases.api.AttachmentFileApi, which checks that the case is
    # in the user's scope: never link MEDIA_URL for a case's file.
    def get_absolute_url(self) -> str:
        return reverse("api-attachment-file", args=[self.pk])

    def get_thumbnail_url(self) -> str:
        """The thumbnail's address, or the file's if it has none."""
        return reverse("api-attachment-thumbnail", args=[self.pk]) if self.thumbnail else self.get_absolute_url()


class CaseNumberSequence(models.Model):
    """The last case number given per county and year (readable, gap-free numbers)."""

    county_code = models.CharField(max_length=6)
    year = models.PositiveIntegerField()
    last = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["county_code", "year"], name="case_number_seq_unique")]

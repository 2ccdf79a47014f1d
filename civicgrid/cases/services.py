"""Writes to cases: report a case, act on it. Nothing else changes a case's status.

`case_report` creates a case from any channel; `case_act` applies one row of the transition
table (civicgrid.cases.workflow) inside a transaction: it locks the case, checks scope,
version, status, role and the action's requirements, moves the stage clocks, writes the
CaseEvent and saves. Views, the API, Open311 and imports call these two functions.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation

from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from civicgrid.cases import reference
from civicgrid.cases.models import (
    CHANNELS_NEEDING_VERIFICATION,
    Attachment,
    Case,
    CaseEvent,
    CaseNumberSequence,
    CaseStage,
    Channel,
    Rating,
    ResolutionMode,
    Satisfaction,
)
from civicgrid.cases.workflow import (
    TERMINAL,
    TRANSITIONS,
    Action,
    Requirement,
    Status,
    TransitionRefused,
    transition_for,
)
from civicgrid.catalog.models import Stage
from civicgrid.core.inserts import insert
from civicgrid.core.models import OrgUnit, Role, User
from civicgrid.geo.lookup import OutsideManagedArea, locate
from civicgrid.geo.models import Grid, Region
from civicgrid.workcalendar.selectors import get_calendar

# Units a case can be dispatched to: not the bureau or its centers.
HANDLING_UNIT_KINDS = (
    OrgUnit.Kind.DEPARTMENT,
    OrgUnit.Kind.STREET_OFFICE,
    OrgUnit.Kind.UTILITY,
    OrgUnit.Kind.CONTRACTOR,
)
# The traffic light turns yellow when this share of a stage's time is used.
WARN_SHARE = Decimal("0.8")
MAX_EXTENSION = Decimal("1000")


#
# Errors: each carries the HTTP status the API answers with.
#


class CaseError(Exception):
    status = 400

    def __init__(self, reason: str, field: str | None = None):
        super().__init__(reason)
        self.reason, self.field = reason, field


class InvalidInput(CaseError):
    status = 400


class ActionForbidden(CaseError):
    status = 403


class CaseNotFound(CaseError):
    status = 404


class CaseConflict(CaseError):
    """Wrong status for the action, or a stale version: the caller gets the current state."""

    status = 409

    def __init__(self, reason: str, *, case: Case):
        super().__init__(reason)
        self.current_status, self.current_version = case.status, case.version


#
# Report
#


@dataclass
class ReportInput:
    channel: str
    category_id: int
    lon: float
    lat: float
    description: str
    crs: str = "wgs84"
    address: str = ""
    reporter_name: str = ""
    reporter_phone: str = ""
    external_id: str = ""
    self_handled: bool = False
    urgent: bool = False
    created_at: datetime | None = None
    photos: list = field(default_factory=list)


def case_report(*, data: ReportInput, actor: User | None) -> Case:
    """Create a case from a report; reports from channels other than an inspector go to verification."""
    try:
        channel = Channel(data.channel)
    except ValueError:
        raise InvalidInput(_("未知的来源渠道"), "channel") from None
    category = reference.active_category(data.category_id)
    if category is None:
        raise InvalidInput(_("分类不存在或已停用"), "category")
    description = (data.description or "").strip()
    if not description:
        raise InvalidInput(_("请填写问题描述"), "description")
    if len(description) > 4000:
        raise InvalidInput(_("问题描述不能超过 4000 字"), "description")
    try:
        where = locate(float(data.lon), float(data.lat), crs=data.crs)
    except OutsideManagedArea:
        raise InvalidInput(_("位置不在管理区域内"), "lon") from None
    except (TypeError, ValueError) as exc:
        raise InvalidInput(_("坐标无效：%(error)s") % {"error": exc}, "lon") from None
    if data.self_handled and (actor is None or actor.role != Role.INSPECTOR):
        raise InvalidInput(_("只有监督员可以自处理"), "self_handled")
    if channel == Channel.INSPECTOR and (actor is None or actor.role != Role.INSPECTOR):
        raise InvalidInput(_("监督员上报渠道只能由监督员使用"), "channel")

    # The grid and its regions as the grid index knows them (no query): what the case stores
    # and its answer shows.
    street = Region(pk=where.street_id, code=where.street_code, name=where.street_name, level=Region.Level.STREET)
    community = Region(
        pk=where.community_id, code=where.community_code, name=where.community_name, level=Region.Level.COMMUNITY
    )
    grid = Grid(
        pk=where.grid_id,
        code=where.grid_code,
        name=where.grid_name,
        region_code=where.community_code,
        region_class=where.region_class,
        community=community,
    )
    now = data.created_at or timezone.now()
    # Everything is read and computed before the write transaction, which on SQLite holds the
    # database's one write lock: inside it are only the number and the three inserts.
    case = Case(
        channel=channel,
        category=category,
        description=description,
        address=(data.address or "").strip()[:256] or f"{street.name}{community.name}{grid.name or grid.code}",
        lon=where.lon,
        lat=where.lat,
        grid=grid,
        community=community,
        street=street,
        region_code=grid.region_code,
        region_class=grid.region_class,
        reporter=actor if actor is not None and actor.is_authenticated else None,
        reporter_name=data.reporter_name.strip()[:50],
        reporter_phone=data.reporter_phone.strip()[:20],
        external_id=data.external_id[:64],
        urgent=data.urgent,
        created_at=now,
    )
    if data.self_handled:
        case.status, first_stage = Status.SELF_HANDLED, Stage.CLOSE
    elif channel in CHANNELS_NEEDING_VERIFICATION:
        case.status, first_stage = Status.VERIFYING, Stage.VERIFY
        case.assignee_id = reference.grid_inspector_id(grid.pk)
    else:
        case.status, first_stage = Status.PENDING_FILING, Stage.FILE
    # The first stage's clock is computed before the insert, so the case is written once.
    stage = _new_stage(case, first_stage, now)
    _copy_to_case(case, stage)
    with transaction.atomic():
        case.number = _next_number(grid.region_code[:6], timezone.localtime(now).year)
        # The three rows of a report, each with an INSERT built once per process (core.inserts).
        insert(case)
        stage.case = case
        insert(stage)
        event = insert(
            CaseEvent(
                case=case,
                action="report",
                to_status=case.status,
                actor=case.reporter,
                actor_role=getattr(actor, "role", "") if case.reporter else "",
                unit_id=actor.org_unit_id if case.reporter else None,
                at=now,
                data={"channel": channel.value, "self_handled": data.self_handled},
            )
        )
        for photo in data.photos:
            attachment_add(case=case, event=event, kind=Attachment.Kind.BEFORE, file=photo, actor=case.reporter)
    return case


def serving(units, case):
    """The `units` that may handle `case`: those of its county — a unit whose region (its street,
    or the county for a county's departments) has the county's code as prefix — and those with
    no region (a department of a single-county platform, which works everywhere). On a
    platform of several counties a county-A case is never sent to a county-B unit."""
    county = case.region_code[:6]
    if not county:
        return units
    return units.filter(Q(region__isnull=True) | Q(region__code__startswith=county))


def serves(unit_region_code: str, case) -> bool:
    """serving() for one unit known by its region's code ("" for none), without a query."""
    county = case.region_code[:6]
    return not county or not unit_region_code or unit_region_code.startswith(county)


def _next_number(county_code: str, year: int) -> str:
    """Readable, unique per county and year: 360725-2026-000123."""
    table = CaseNumberSequence._meta.db_table
    for _attempt in range(3):
        # One statement takes the next number under the row lock (UPDATE … RETURNING works on
        # PostgreSQL and SQLite ≥ 3.35); the first case of a county-year creates the row.
        with connection.cursor() as cursor:
            cursor.execute(
                f'UPDATE "{table}" SET "last" = "last" + 1 WHERE "county_code" = %s AND "year" = %s RETURNING "last"',
                [county_code, year],
            )
            row = cursor.fetchone()
        if row is not None:
            return f"{county_code}-{year}-{row[0]:06d}"
        try:
            with transaction.atomic():
                CaseNumberSequence.objects.create(county_code=county_code, year=year, last=0)
        except IntegrityError:  # two first cases of a year at once: the loser just retries
            pass
    raise RuntimeError("could not allocate a case number")


#
# Act
#


@dataclass
class ActInput:
    action: str
    version: int
    note: str = ""
    unit_id: int | None = None  # dispatch: the handling unit
    amount: str | Decimal | None = None  # extension: more time, in the handling stage's unit
    duplicate_of: str | None = None  # merge: the number of the case this one duplicates
    resolution_mode: str = ""  # handled: service / management / enforcement
    photos: list = field(default_factory=list)


def case_act(*, case_id: int, data: ActInput, actor: User, now: datetime | None = None) -> Case:
    """Apply one action to a case for this actor, or raise a CaseError (nothing is written)."""
    now = now or timezone.now()
    with transaction.atomic():
        # Lock the row: two dispatchers acting at once queue here; the second then sees the
        # new version and gets a 409 instead of overwriting.
        case = Case.objects.select_for_update().filter(pk=case_id).first()
        if case is None or not Case.objects.visible_to(actor).filter(pk=case_id).exists():
            raise CaseNotFound(_("案件不存在或不在您的数据权限范围内"))
        if data.version != case.version:
            raise CaseConflict(_("案件已被他人处理，请刷新后查看最新状态。"), case=case)
        try:
            row = transition_for(case.status, data.action, actor.role)
        except TransitionRefused as refused:
            if refused.code == "wrong_role":
                raise ActionForbidden(refused.message) from None
            if refused.code == "unknown_action":
                raise InvalidInput(refused.message, "action") from None
            raise CaseConflict(refused.message, case=case) from None
        if actor.role == Role.HANDLER and case.handling_unit_id != actor.org_unit_id:
            raise ActionForbidden(_("只有承办单位的人员可以执行此操作"))

        note = (data.note or "").strip()
        event_data: dict = {}
        if Requirement.REASON in row.requires and not note:
            raise InvalidInput(_("请填写原因"), "note")
        if Requirement.UNIT in row.requires:
            unit = (
                serving(
                    OrgUnit.objects.filter(pk=data.unit_id, is_active=True, kind__in=HANDLING_UNIT_KINDS), case
                ).first()
                if data.unit_id
                else None
            )
            if unit is None:
                raise InvalidInput(_("请选择处置单位（专业部门、街道、公用企业或第三方企业）"), "unit")
            event_data["unit"] = {"id": unit.pk, "name": unit.name}
        if Requirement.AMOUNT in row.requires:
            amount = _positive_amount(data.amount)
            event_data["amount"] = str(amount)
            stage = _open_stage(case)
            event_data["time_unit"] = stage.time_unit if stage else ""
        if Requirement.DUPLICATE_OF in row.requires:
            original = (
                Case.objects.visible_to(actor)
                .filter(number=data.duplicate_of)
                .exclude(pk=case.pk)
                .exclude(status__in=TERMINAL)
                .first()
            )
            if original is None:
                raise InvalidInput(_("请填写未结案的原案件编号（重复的案件并入一个仍在办理的案件）"), "duplicate_of")
            event_data["duplicate_of"] = original.number
        if Requirement.AFTER_PHOTO in row.requires and not data.photos and not _has_after_photo(case):
            raise InvalidInput(_("请上传处置后照片"), "photos")
        if data.resolution_mode:
            try:
                event_data["resolution_mode"] = ResolutionMode(data.resolution_mode).value
            except ValueError:
                raise InvalidInput(_("解决方式应为服务、管理或执法"), "resolution_mode") from None

        from_status = case.status
        _apply(case, row.action, data, event_data, actor, now)
        if row.ends is not None:
            _end_stage(case, now)
        if row.starts is not None:
            _start_stage(case, row.starts, now)
        if row.pauses:
            _pause(case, now)
        if row.resumes:
            _resume(case, now)
        for counter in row.counts:
            if counter in ("rework", "extension", "return", "deferral", "reopen"):
                setattr(case, f"{counter}_count", getattr(case, f"{counter}_count") + 1)
        if row.back:
            # Back to where the request was made from (its event went from there to here).
            request = case.events.filter(to_status=case.status).order_by("-at", "-id").first()
            case.status = Status(request.from_status) if request and request.from_status else row.target
        elif row.target is not None:
            case.status = row.target
        if case.status in TERMINAL:
            _end_stage(case, now)  # voided, merged, rejected or closed: no clock runs any more
        case.version += 1
        case.save()
        event = CaseEvent.objects.create(
            case=case,
            action=row.action,
            from_status=from_status,
            to_status=case.status,
            actor=actor,
            actor_role=actor.role,
            unit=actor.org_unit,
            at=now,
            note=note,
            data=event_data,
        )
        kind = Attachment.Kind.AFTER if row.action == Action.HANDLED else Attachment.Kind.BEFORE
        for photo in data.photos:
            attachment_add(case=case, event=event, kind=kind, file=photo, actor=actor)
    return case


def _positive_amount(value) -> Decimal:
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, TypeError):
        raise InvalidInput(_("请填写延长的时限（正数）"), "amount") from None
    if not amount.is_finite() or amount <= 0 or amount > MAX_EXTENSION:
        raise InvalidInput(_("延长的时限应大于 0 且不超过 %(max)s") % {"max": MAX_EXTENSION}, "amount")
    return amount


def _has_after_photo(case: Case) -> bool:
    stage = _open_stage(case)
    since = stage.started_at if stage else case.created_at
    return case.attachments.filter(kind=Attachment.Kind.AFTER, created_at__gte=since).exists()


def _apply(case: Case, action: Action, data: ActInput, event_data: dict, actor: User, now: datetime) -> None:
    """What an action does besides status and clocks."""
    if action == Action.DISPATCH:
        case.handling_unit_id = event_data["unit"]["id"]
    elif action == Action.FILE:
        case.filed_at = now
    elif action in (Action.VERIFY_CONFIRM, Action.VERIFY_DENY):
        case.verified = action == Action.VERIFY_CONFIRM
        case.assignee = None
    elif action == Action.HANDLED:
        case.assignee_id = reference.grid_inspector_id(case.grid_id)
        case.resolution_mode = event_data.get("resolution_mode") or case.resolution_mode or ResolutionMode.SERVICE
    elif action in (Action.CHECK_PASS, Action.CHECK_FAIL):
        case.assignee = None
    elif action == Action.APPROVE_RETURN:
        case.handling_unit = None
    elif action == Action.APPROVE_EXTENSION:
        requested = CaseEvent.objects.filter(case=case, action=Action.REQUEST_EXTENSION).order_by("-at", "-id").first()
        _extend(case, Decimal(requested.data["amount"]), now)
        event_data["amount"] = requested.data["amount"]
        event_data["time_unit"] = requested.data.get("time_unit", "")
    elif action == Action.REOPEN:
        # Back to a unit (the one that handled it, unless the shift lead chose another): it signs
        # for the case again and a new handling clock runs.
        case.handling_unit_id = event_data["unit"]["id"]
        case.closed_at = None
    elif action == Action.MERGE:
        case.duplicate_of = Case.objects.get(number=event_data["duplicate_of"])
    elif action in (Action.CLOSE, Action.APPROVE_SELF_HANDLED, Action.APPROVE_VOID):
        case.closed_at = now
    elif action == Action.SUPERVISE:
        case.supervised = True
    elif action == Action.REMIND:
        case.remind_count += 1
    elif action == Action.MARK_URGENT:
        case.urgent = True
    if action in (Action.REJECT, Action.MERGE):
        case.closed_at = now


#
# Ratings (满意度)
#


def case_rate(
    *,
    case_id: int,
    satisfaction: str,
    comment: str = "",
    source: str = Rating.Source.PORTAL,
    now: datetime | None = None,
) -> Rating:
    """Record the reporter's rating of a closed case; 不满意 puts it before the shift lead.

    One rating per source and closure: after a 不满意 the case is reopened or kept closed, and
    a case closed again may be rated again. The event carries no actor (the public rated).
    """
    now = now or timezone.now()
    try:
        level = Satisfaction(satisfaction)
    except ValueError:
        raise InvalidInput(_("请选择满意、基本满意或不满意"), "satisfaction") from None
    comment = (comment or "").strip()
    if len(comment) > 500:
        raise InvalidInput(_("评价内容不能超过 500 字"), "comment")
    with transaction.atomic():
        case = Case.objects.select_for_update().filter(pk=case_id).first()
        if case is None:
            raise CaseNotFound(_("案件不存在"))
        if case.status != Status.CLOSED:
            raise CaseConflict(_("案件办结后才能评价。"), case=case)
        closed = case.events.filter(to_status=Status.CLOSED).exclude(from_status=Status.CLOSED).order_by("-at", "-id")
        closed_at = closed.values_list("at", flat=True).first() or case.closed_at
        if closed_at and case.ratings.filter(source=source, created_at__gte=closed_at).exists():
            raise CaseConflict(_("您已评价过本次办理结果。"), case=case)
        from_status = case.status
        if level == Satisfaction.DISSATISFIED:
            row = TRANSITIONS[Action.DISSATISFIED]
            case.status = row.target
            _start_stage(case, row.starts, now)
            case.version += 1
            case.save()
            action = row.action
        else:
            action = "rate"
        event = CaseEvent.objects.create(
            case=case,
            action=action,
            from_status=from_status,
            to_status=case.status,
            at=now,
            note=comment,
            data={"satisfaction": level.value, "source": source},
        )
        return Rating.objects.create(
            case=case,
            source=source,
            satisfaction=level,
            comment=comment,
            unit_id=case.handling_unit_id,
            event=event,
            created_at=now,
        )


#
# Stage clocks
#


def _open_stage(case: Case) -> CaseStage | None:
    return case.stages.filter(ended_at=None).order_by("-started_at", "-id").first()


def _compute(stage: CaseStage) -> None:
    """Deadline and warning instant of a stage from its start, limit and closed pauses."""
    if stage.amount is None:
        stage.deadline = stage.warn_at = None
        return
    calendar = get_calendar()
    pauses = [(datetime.fromisoformat(a), datetime.fromisoformat(b)) for a, b in stage.pauses]
    result = calendar.add(stage.started_at, float(stage.amount), stage.time_unit, pauses)
    warn = calendar.add(stage.started_at, float(stage.amount * WARN_SHARE), stage.time_unit, pauses)
    stage.deadline, stage.warn_at = result.deadline, warn.deadline
    stage.calendar_complete = result.calendar_complete


def _copy_to_case(case: Case, stage: CaseStage | None) -> None:
    case.stage = stage.stage if stage else ""
    case.stage_started_at = stage.started_at if stage else None
    case.stage_deadline = stage.deadline if stage and stage.paused_since is None else None
    case.stage_warn_at = stage.warn_at if stage and stage.paused_since is None else None
    case.stage_paused = bool(stage and stage.paused_since is not None)
    case.overdue_marked = False


def _new_stage(case: Case, stage_name: str, at: datetime) -> CaseStage:
    """A stage run starting now, its limit from the catalogue and its deadline computed (unsaved)."""
    limit = reference.time_limit(case.category_id, stage_name, case.region_class)
    stage = CaseStage(
        case=case if case.pk else None,
        stage=stage_name,
        unit_id=case.handling_unit_id if stage_name == Stage.HANDLE else None,
        started_at=at,
        amount=limit.amount if limit else None,
        time_unit=limit.unit if limit else "",
    )
    _compute(stage)
    return stage


def _start_stage(case: Case, stage_name: str, at: datetime) -> CaseStage:
    stage = _new_stage(case, stage_name, at)
    stage.save()
    _copy_to_case(case, stage)
    return stage


def _end_stage(case: Case, at: datetime) -> None:
    stage = _open_stage(case)
    if stage is None:
        return
    stage.ended_at = at
    stage.on_time = None if stage.deadline is None else at <= stage.deadline
    stage.save(update_fields=["ended_at", "on_time"])
    _copy_to_case(case, None)


def _pause(case: Case, at: datetime) -> None:
    stage = _open_stage(case)
    if stage is None:
        return
    stage.paused_since = at
    stage.save(update_fields=["paused_since"])
    _copy_to_case(case, stage)


def _resume(case: Case, at: datetime) -> None:
    stage = _open_stage(case)
    if stage is None or stage.paused_since is None:
        return
    stage.pauses = [*stage.pauses, [stage.paused_since.isoformat(), at.isoformat()]]
    stage.paused_since = None
    _compute(stage)
    stage.save()
    _copy_to_case(case, stage)


def _extend(case: Case, amount: Decimal, at: datetime) -> None:
    stage = _open_stage(case)
    if stage is None or stage.amount is None:
        return
    stage.amount += amount
    _compute(stage)
    stage.save()
    _copy_to_case(case, stage)


#
# Attachments
#


def case_attach(*, case_id: int, kind: str, file, actor: User, note: str = "") -> Attachment:
    """Add a document or a before-photo to an open case, on the record as an "attach" event."""
    with transaction.atomic():
        case = Case.objects.select_for_update().filter(pk=case_id).first()
        if case is None or not Case.objects.visible_to(actor).filter(pk=case_id).exists():
            raise CaseNotFound(_("案件不存在或不在您的数据权限范围内"))
        if case.status in TERMINAL:
            raise CaseConflict(
                _("案件当前状态为“%(status)s”，不能再添加附件。") % {"status": Status(case.status).label}, case=case
            )
        if kind not in (Attachment.Kind.DOCUMENT, Attachment.Kind.BEFORE):
            raise InvalidInput(_("附件类型应为文件或处置前照片"), "kind")
        event = CaseEvent.objects.create(
            case=case,
            action="attach",
            from_status=case.status,
            to_status=case.status,
            actor=actor,
            actor_role=actor.role,
            unit=actor.org_unit,
            note=(note or "").strip(),
            data={"kind": kind, "name": getattr(file, "name", "")[:100]},
        )
        return attachment_add(case=case, event=event, kind=kind, file=file, actor=actor)


def attachment_add(*, case: Case, event: CaseEvent | None, kind: str, file, actor: User | None) -> Attachment:
    """Validate an uploaded photo or document by content and store it with a thumbnail."""
    from civicgrid.cases.attachments import store_attachment

    return store_attachment(case=case, event=event, kind=kind, file=file, actor=actor)


#
# Overdue sweep
#


def cases_mark_overdue(now: datetime | None = None) -> int:
    """Mark open cases whose running stage's deadline has passed (for queues and notifications).

    Reading is always right without it (the light compares the deadline with now); the mark
    lets notifications fire once per stage. Returns how many cases were newly marked.
    """
    now = now or timezone.now()
    return Case.objects.overdue(now).filter(overdue_marked=False, stage_paused=False).update(overdue_marked=True)

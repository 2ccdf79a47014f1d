"""The scans that turn case events and deadlines into notifications (listed in core.jobs.JOBS).

No signals: reports insert their CaseEvent rows without them (civicgrid.core.inserts), so the
event scan reads new CaseEvent rows by id from a stored watermark instead. Every message has
a dedupe key, so reading an event or a deadline again never notifies twice.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db.models import Max
from django.utils import timezone
from django.utils.translation import override

from civicgrid.cases.models import Case, CaseEvent
from civicgrid.cases.workflow import Action, Status
from civicgrid.core.models import Role, User
from civicgrid.notifications import conf
from civicgrid.notifications.models import Kind, NotificationSubscription, ScanMark
from civicgrid.notifications.services import (
    CITIZEN_STATUSES,
    CITIZEN_STATUSES_EN,
    citizen_recipients,
    notifications_deliver,
    notifications_queue,
    staff_recipients,
)
from civicgrid.notifications.templates import message_language

S = Status
# Who acts next on a case in each status (civicgrid.cases.selectors QUEUES and
# APPROVALS_BY_ROLE): "assignee" is the grid inspector asked to verify or check, "unit" the
# handling unit's handlers, a role its users whose scope covers the case.
ACTS_NEXT: dict[str, str] = {
    S.VERIFYING: "assignee",
    S.PENDING_FILING: Role.OPERATOR,
    S.SELF_HANDLED: Role.OPERATOR,
    S.FILED: Role.DISPATCHER,
    S.DISPATCHED: "unit",
    S.PROCESSING: "unit",
    S.RETURN_REQUESTED: Role.DISPATCHER,
    S.VOID_REQUESTED: Role.SHIFT_LEAD,
    S.EXTENSION_REQUESTED: Role.SHIFT_LEAD,
    S.DEFERRAL_REQUESTED: Role.SHIFT_LEAD,
    S.CHECKING: "assignee",
    S.PENDING_CLOSE: Role.SHIFT_LEAD,
    S.REVIEW: Role.SHIFT_LEAD,
}
BATCH = 500
# Event ids missing below the watermark are looked for again for this long.
GAP_WAIT = timedelta(minutes=10)


def users_to_act(case: Case, status: str | None = None) -> list[User]:
    """The active users who must act next on the case in this status, within their data scope."""
    who = ACTS_NEXT.get(status or case.status)
    if who is None:
        return []
    if who == "assignee":
        candidates = [case.assignee] if case.assignee_id and case.assignee.is_active else []
    elif who == "unit":
        if case.handling_unit_id is None:
            return []
        candidates = User.objects.filter(is_active=True, role=Role.HANDLER, org_unit_id=case.handling_unit_id)
    else:
        candidates = User.objects.filter(is_active=True, role=who).select_related("org_unit", "scope_region")
    # The same scope rule as every list (rule 6): a street office hears only of its street.
    # Users who see all data need no query.
    return [
        user
        for user in candidates
        if (user.is_superuser or user.scope == User.Scope.ALL)
        or Case.objects.visible_to(user).filter(pk=case.pk).exists()
    ]


def case_context(case: Case, language: str) -> dict:
    with override(language):
        return {
            "case_number": case.number,
            "category": str(case.category.name),
            "address": case.address,
            "status": str(Status(case.status).label),
            "stage": str(case.get_stage_display()) if case.stage else "",
            "deadline": _local(case.stage_deadline),
            "warn_at": _local(case.stage_warn_at),
            "remind_count": case.remind_count,
        }


def _local(value: datetime | None) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if value else ""


#
# Case events
#


def _event_notifications(event: CaseEvent, now: datetime) -> int:
    case = event.case
    language = message_language()
    count = 0
    status_changed = event.to_status and event.to_status != event.from_status
    if event.action in (Action.REMIND, Action.SUPERVISE):
        kind = Kind.REMIND if event.action == Action.REMIND else Kind.SUPERVISE
        users = users_to_act(case, S.PROCESSING) if case.handling_unit_id else users_to_act(case)
    elif status_changed and event.action != Action.SIGN:
        # Signing is the handler taking the task: nobody new has to act.
        kind, users = Kind.TASK, users_to_act(case, event.to_status)
    else:
        kind, users = None, []
    if event.to_status != case.status and kind == Kind.TASK:
        users = []  # the case has moved on since: that later event tells who acts now
    users = [u for u in users if u.pk != event.actor_id]
    if kind is not None and users:
        context = case_context(case, language) | {"status": str(_status_label(event.to_status, language))}
        count += notifications_queue(
            kind=kind,
            recipients=staff_recipients(users),
            context=context,
            dedupe=f"event:{event.pk}:{kind}",
            case=case,
            now=now,
        )
    if status_changed and event.to_status in CITIZEN_STATUSES:
        words = CITIZEN_STATUSES_EN if language == "en" else CITIZEN_STATUSES
        for subscription in NotificationSubscription.objects.filter(case=case):
            if event.to_status not in subscription.statuses:
                continue
            context = {"case_number": case.number, "public_status": words[event.to_status]}
            count += notifications_queue(
                kind=Kind.CITIZEN_STATUS,
                recipients=citizen_recipients(subscription),
                context=context,
                dedupe=f"event:{event.pk}:citizen:{subscription.pk}",
                case=case,
                now=now,
            )
    return count


def _status_label(status: str, language: str) -> str:
    with override(language):
        return str(Status(status).label) if status in Status.values else status


def notifications_scan_events(now: datetime | None = None) -> int:
    """Queue messages for case events not yet read; returns how many messages were queued."""
    now = now or timezone.now()
    oldest = now - timedelta(hours=conf.get("CIVICGRID_NOTIFY_MAX_AGE_HOURS"))
    mark, created = ScanMark.objects.get_or_create(name="events")
    if created:
        # A first start does not notify about the past: begin after the old events.
        mark.last_id = CaseEvent.objects.filter(at__lt=oldest).aggregate(m=Max("id"))["m"] or 0
    gaps = {int(k): v for k, v in mark.gaps.items()}
    events = list(
        CaseEvent.objects.filter(pk__gt=mark.last_id)
        .select_related("case", "case__category", "case__assignee")
        .order_by("pk")[:BATCH]
    )
    if gaps:
        events += CaseEvent.objects.filter(pk__in=list(gaps)).select_related("case", "case__category", "case__assignee")
    count = 0
    for event in events:
        if event.at >= oldest:
            count += _event_notifications(event, now)
    seen = {e.pk for e in events}
    top = max([mark.last_id, *[pk for pk in seen if pk > mark.last_id]])
    stamp = now.isoformat()
    for pk in range(mark.last_id + 1, top):
        if pk not in seen and top - pk < 10_000:
            gaps.setdefault(pk, stamp)
    mark.gaps = {
        str(pk): first
        for pk, first in gaps.items()
        if pk not in seen and datetime.fromisoformat(first) > now - GAP_WAIT
    }
    mark.last_id = top
    mark.save()
    return count


#
# Deadlines
#


def notifications_scan_deadlines(now: datetime | None = None) -> int:
    """Queue yellow (临期) and red (超期) messages for stages whose warning or deadline passed
    since the last scan: one each per stage run, to the users who must act."""
    now = now or timezone.now()
    mark, _created = ScanMark.objects.get_or_create(name="deadlines")
    # After a first start or a long outage, look back no further than the age limit.
    oldest = now - timedelta(hours=conf.get("CIVICGRID_NOTIFY_MAX_AGE_HOURS"))
    since = max(mark.last_at, oldest) if mark.last_at else oldest
    running = Case.objects.open().filter(stage_paused=False).select_related("category", "assignee")
    red = list(running.filter(stage_deadline__gt=since, stage_deadline__lte=now))
    # A stage that went from green to past its deadline between two scans only turns red.
    yellow = list(running.filter(stage_warn_at__gt=since, stage_warn_at__lte=now, stage_deadline__gt=now))
    language = message_language()
    count = 0
    for kind, cases in ((Kind.DEADLINE_YELLOW, yellow), (Kind.DEADLINE_RED, red)):
        for case in cases:
            users = users_to_act(case)
            if not users:
                continue
            run = f"{case.stage}:{case.stage_started_at.isoformat() if case.stage_started_at else ''}"
            count += notifications_queue(
                kind=kind,
                recipients=staff_recipients(users),
                context=case_context(case, language),
                dedupe=f"{kind}:{case.pk}:{run}",
                case=case,
                now=now,
            )
    mark.last_at = now
    mark.save(update_fields=["last_at"])
    return count


def notifications_send_due() -> int:
    return notifications_deliver()

"""Reads of cases: queues per role, filters, duplicates. Every read starts from visible_to(user).

The HTML workbenches and the API share these, so a number on a queue tab and the list
behind it always agree.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db.models import F, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from civicgrid.cases.models import Case, Channel
from civicgrid.cases.workflow import Status
from civicgrid.core.models import Role, User


@dataclass(frozen=True)
class Queue:
    key: str
    label: str
    roles: frozenset[str]
    # "all" is not counted on every page: over a million cases a count is the slowest query.
    counted: bool = True


S = Status
QUEUES: dict[str, Queue] = {
    q.key: q
    for q in [
        Queue("verify", _("待核实"), frozenset({Role.INSPECTOR, Role.OPERATOR, Role.SHIFT_LEAD})),
        Queue("file", _("待立案"), frozenset({Role.OPERATOR, Role.SHIFT_LEAD})),
        Queue("dispatch", _("待派遣"), frozenset({Role.DISPATCHER, Role.SHIFT_LEAD})),
        Queue("sign", _("待签收"), frozenset({Role.HANDLER, Role.DISPATCHER})),
        Queue("handle", _("待处置"), frozenset({Role.HANDLER, Role.DISPATCHER})),
        Queue("approve", _("待审批"), frozenset({Role.SHIFT_LEAD, Role.DISPATCHER})),
        Queue("check", _("待核查"), frozenset({Role.INSPECTOR, Role.OPERATOR, Role.SHIFT_LEAD})),
        Queue("close", _("待结案"), frozenset({Role.SHIFT_LEAD, Role.OPERATOR})),
        Queue("overdue", _("超期"), frozenset(Role)),
        Queue("supervised", _("督办"), frozenset(Role)),
        # Every case in the user's scope, closed ones too, newest first: to search and look up.
        Queue("all", _("全部案件"), frozenset(Role), counted=False),
    ]
}

# Approvals each role decides (待审批).
APPROVALS_BY_ROLE = {
    Role.SHIFT_LEAD: [S.VOID_REQUESTED, S.EXTENSION_REQUESTED, S.DEFERRAL_REQUESTED, S.REVIEW],
    Role.DISPATCHER: [S.RETURN_REQUESTED],
}


def queues_for(user: User) -> list[Queue]:
    if user.is_superuser or user.role in (Role.ADMIN, Role.LEADER):
        return list(QUEUES.values())
    return [q for q in QUEUES.values() if user.role in q.roles]


def queue_cases(user: User, key: str, now: datetime | None = None) -> QuerySet[Case]:
    """The cases of one queue for this user, scoped, sorted by deadline (soonest first); the
    "all" queue newest first."""
    qs = Case.objects.visible_to(user)
    mine = user.role == Role.INSPECTOR
    if key == "verify":
        qs = qs.filter(status=S.VERIFYING)
        qs = qs.filter(assignee=user) if mine else qs
    elif key == "file":
        qs = qs.filter(status__in=[S.PENDING_FILING, S.SELF_HANDLED])
    elif key == "dispatch":
        qs = qs.filter(status=S.FILED)
    elif key == "sign":
        qs = qs.filter(status=S.DISPATCHED)
    elif key == "handle":
        qs = qs.filter(status__in=[S.PROCESSING, S.EXTENSION_REQUESTED, S.DEFERRAL_REQUESTED, S.DEFERRED])
    elif key == "approve":
        statuses = APPROVALS_BY_ROLE.get(user.role)
        if statuses is None:
            statuses = [s for group in APPROVALS_BY_ROLE.values() for s in group]
        qs = qs.filter(status__in=statuses)
    elif key == "check":
        qs = qs.filter(status=S.CHECKING)
        qs = qs.filter(assignee=user) if mine else qs
    elif key == "close":
        qs = qs.filter(status=S.PENDING_CLOSE)
    elif key == "overdue":
        qs = qs.overdue(now)
    elif key == "supervised":
        # supervised__in, not supervised=True: Django writes the latter as a bare column, which
        # SQLite's planner cannot match to the (supervised, status) index.
        qs = qs.open().filter(supervised__in=[True])
    elif key == "all":
        return qs.order_by("-created_at", "-id")
    else:
        return Case.objects.none()
    # Soonest deadline first; cases without a limit last, the same on SQLite and PostgreSQL.
    return qs.order_by(F("stage_deadline").asc(nulls_last=True), "created_at", "id")


def queue_counts(user: User, now: datetime | None = None) -> dict[str, int]:
    return {q.key: queue_cases(user, q.key, now).count() for q in queues_for(user) if q.counted}


#
# Filters shared by the workbench and GET /api/v1/cases/
#


class FilterError(ValueError):
    def __init__(self, field: str, reason: str):
        super().__init__(reason)
        self.field, self.reason = field, reason


FILTER_FIELDS = ("category", "street", "grid", "channel", "status", "overdue", "date_from", "date_to", "q")


def _date(value: str, field: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise FilterError(field, gettext("%(field)s 应为日期，例如 2026-03-01") % {"field": field}) from None


def case_filter(qs: QuerySet[Case], params, now: datetime | None = None) -> QuerySet[Case]:
    """Apply the list filters given as a mapping of strings (a QueryDict or a dict)."""
    value = {name: (params.get(name) or "").strip() for name in FILTER_FIELDS}
    if value["category"]:
        if not value["category"].isdigit():
            raise FilterError("category", gettext("category 应为分类编号"))
        qs = qs.filter(category_id=int(value["category"]))
    if value["street"]:
        qs = qs.filter(street__code=value["street"])
    if value["grid"]:
        qs = qs.filter(grid__code=value["grid"])
    if value["channel"]:
        if value["channel"] not in Channel.values:
            raise FilterError("channel", gettext("未知的来源渠道"))
        qs = qs.filter(channel=value["channel"])
    if value["status"]:
        statuses = value["status"].split(",")
        if not set(statuses) <= set(Status.values):
            raise FilterError("status", gettext("未知的状态"))
        qs = qs.filter(status__in=statuses)
    if value["overdue"] in ("1", "true", "yes"):
        qs = qs.overdue(now)
    elif value["overdue"] in ("0", "false", "no"):
        qs = qs.exclude(stage_deadline__lt=now or timezone.now())
    elif value["overdue"]:
        raise FilterError("overdue", gettext("overdue 应为 true 或 false"))
    tz = timezone.get_current_timezone()
    if value["date_from"]:
        qs = qs.filter(created_at__gte=datetime.combine(_date(value["date_from"], "date_from"), time.min, tz))
    if value["date_to"]:
        end = datetime.combine(_date(value["date_to"], "date_to"), time.min, tz) + timedelta(days=1)
        qs = qs.filter(created_at__lt=end)
    if value["q"]:
        qs = qs.filter(search_q(value["q"]))
    return qs


_NUMBER_START = re.compile(r"^\d{6}-")


def search_q(term: str) -> Q:
    """The workbench search: a case number, or a word of the address.

    A term that starts like a case number (six digits and a dash: 360725-2026-000123, or the
    start of one) is looked up on the number's unique index as a range; a term with a digit in
    the number (a part of one) or the address; any other term in the address (a street, a
    community, a landmark). PostgreSQL serves the "contains" from trigram indexes
    (case_number_trgm, case_address_trgm, migration 0008) for terms of three characters or more.
    """
    if _NUMBER_START.match(term):
        return Q(number__gte=term, number__lt=term + "\U0010ffff")
    if any(c.isdigit() for c in term):  # a part of a number (case_number_trgm) or a house number
        return Q(number__icontains=term) | Q(address__icontains=term)
    return Q(address__icontains=term)


#
# Duplicates
#

DUPLICATE_RADIUS_M = 50
DUPLICATE_WINDOW = timedelta(hours=72)
_M_PER_DEG_LAT = 111_320.0


def duplicate_candidates(case: Case, user: User) -> list[Case]:
    """Open cases of the same category within 50 m and 72 h of this one, nearest first."""
    dlat = DUPLICATE_RADIUS_M / _M_PER_DEG_LAT
    dlon = dlat / max(math.cos(math.radians(case.lat)), 0.01)
    nearby = (
        Case.objects.visible_to(user)
        .filter(
            category_id=case.category_id,
            created_at__gte=case.created_at - DUPLICATE_WINDOW,
            created_at__lte=case.created_at + DUPLICATE_WINDOW,
            lat__range=(case.lat - dlat, case.lat + dlat),
            lon__range=(case.lon - dlon, case.lon + dlon),
        )
        .open()
        .exclude(pk=case.pk)
    )
    found = [(distance_m(case.lon, case.lat, other.lon, other.lat), other) for other in nearby]
    return [other for d, other in sorted(found, key=lambda pair: pair[0]) if d <= DUPLICATE_RADIUS_M]


def distance_m(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Great-circle distance in metres (haversine); exact enough at 50 m."""
    r = 6_371_008.8
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * r * math.asin(math.sqrt(a))


def can_see_contact(user: User) -> bool:
    """Reporter phone numbers are shown unmasked to operators and admins only."""
    return user.is_superuser or user.role in (Role.OPERATOR, Role.ADMIN)

"""Reads for the portal's public pages: what a citizen may see of a case, and nothing more.

Everything here is built for people who are not logged in. Nothing returned names a member of
staff, a role's holder, a reporter or anyone's phone: the timeline is worded from the actions
themselves (CaseEvent.action), and the only names shown are handling units' (public bodies).
The few free texts passed on are the ones written *for* the public: the reason a report was not
accepted (REJECT), the reason handling was deferred (REQUEST_DEFERRAL) and the shift lead's
reply after a 不满意 (KEEP_CLOSED). A report's description never leaves the staff side.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from civicgrid.cases.models import Attachment, Case, CaseEvent, CaseStage, Rating, Satisfaction
from civicgrid.cases.workflow import Action, Status
from civicgrid.evaluation.models import EvaluationSettings
from civicgrid.geo.models import Region
from civicgrid.portal.models import Tracker

# The public list and map: cases reported in the last 90 days, at most this many points.
RECENT_DAYS = 90
MAP_LIMIT = 1000
# Points are snapped to a grid of this many degrees (≈33 m north–south, ≈30 m east–west at
# 25°N): near enough to see where the problems are, too coarse to point at one doorway.
SNAP_DEGREES = 0.0003


#
# A case as the public sees it
#

# The status in plain words (_public_status_labels); internal requests (回退、延期、缓办
# awaiting approval, void requests) read as the step they wait in.


def public_status(status: str) -> str:
    # Looked up when called, not at import: the labels follow the request's language.
    return str(_public_status_labels().get(status, ""))


def _public_status_labels() -> dict:
    return {
        Status.VERIFYING: _("核实中"),
        Status.PENDING_FILING: _("已受理"),
        Status.VOID_REQUESTED: _("已受理"),
        Status.FILED: _("已立案"),
        Status.DISPATCHED: _("已交办"),
        Status.PROCESSING: _("处置中"),
        Status.RETURN_REQUESTED: _("办理单位调整中"),
        Status.EXTENSION_REQUESTED: _("处置中"),
        Status.DEFERRAL_REQUESTED: _("处置中"),
        Status.DEFERRED: _("缓办"),
        Status.CHECKING: _("已处置，核查中"),
        Status.PENDING_CLOSE: _("已核查"),
        Status.SELF_HANDLED: _("已处置"),
        Status.CLOSED: _("已办结"),
        Status.REVIEW: _("复核中"),
        Status.REJECTED: _("不予受理"),
        Status.VOIDED: _("已作废"),
        Status.MERGED: _("已合并"),
    }


@dataclass
class Step:
    """One line of the public timeline."""

    at: datetime
    text: str
    kind: str = ""  # css hint: done, warn, closed, review
    note: str = ""  # a reason or reply written for the public
    note_label: str = ""  # 原因 or 答复
    merged_into: str = ""  # the number of the case this one was merged into
    photos: list = field(default_factory=list)  # Attachment rows to show under the step
    action: str = ""  # the event's action


# Internal steps the public timeline leaves out: requests waiting for a decision, refused
# requests (nothing changed for the citizen), marks such as 督办/催办/紧急, and attachments.
# An approved return, an approved extension and a failed check did change what the citizen
# waits for, so they are summarised instead (see _step).
LEFT_OUT = {
    Action.REQUEST_VOID,
    Action.REFUSE_VOID,
    Action.REQUEST_RETURN,
    Action.REFUSE_RETURN,
    Action.REQUEST_EXTENSION,
    Action.REFUSE_EXTENSION,
    Action.REQUEST_DEFERRAL,
    Action.REFUSE_DEFERRAL,
    Action.REFUSE_SELF_HANDLED,
    Action.SUPERVISE,
    Action.REMIND,
    Action.MARK_URGENT,
    "attach",
}


def public_timeline(case: Case, *, private: bool, reporter: bool = False) -> list[Step]:
    """The case's history in plain Chinese, oldest first.

    `private`: shown on a tracker's private link (the rating steps speak to the citizen as
    "您"). `reporter`: the reporter's own link, which also shows the before-photos they sent.
    """
    events = list(case.events.only("id", "case_id", "action", "at", "note", "data"))
    photos: dict[int, list[Attachment]] = {}
    kinds = [Attachment.Kind.AFTER, *([Attachment.Kind.BEFORE] if reporter else [])]
    for attachment in case.attachments.filter(kind__in=kinds).order_by("created_at", "id"):
        photos.setdefault(attachment.event_id, []).append(attachment)
    steps = []
    deferral_reason = ""
    for event in events:
        if event.action == Action.REQUEST_DEFERRAL:
            deferral_reason = event.note
        if event.action in LEFT_OUT:
            continue
        step = _step(case, event, private=private, deferral_reason=deferral_reason)
        if step is None:
            continue
        step.action = event.action
        step.photos = [
            p
            for p in photos.get(event.pk, [])
            if p.kind == Attachment.Kind.AFTER or (reporter and event.action == "report")
        ]
        steps.append(step)
    return steps


def _step(case: Case, event: CaseEvent, *, private: bool, deferral_reason: str) -> Step | None:
    action, at, data = event.action, event.at, event.data or {}
    unit = (data.get("unit") or {}).get("name", "")
    if action == "report":
        return Step(at, _("已受理"), "done")
    if action in (Action.VERIFY_CONFIRM, Action.VERIFY_DENY):
        return Step(at, _("已完成现场核实"), "done")
    if action == Action.FILE:
        return Step(at, _("已立案"), "done")
    if action == Action.REJECT:
        return Step(at, _("不予受理"), "closed", note=event.note, note_label=_("原因"))
    if action == Action.APPROVE_VOID:
        return Step(at, _("已作废"), "closed")
    if action == Action.MERGE:
        return Step(
            at,
            _("已与案件 %(number)s 合并办理") % {"number": data.get("duplicate_of", "")},
            "closed",
            merged_into=data.get("duplicate_of", ""),
        )
    if action == Action.DISPATCH:
        return Step(at, _("已交由「%(unit)s」办理") % {"unit": unit}, "done")
    if action == Action.SIGN:
        return Step(at, _("办理单位已接单，正在处置"), "done")
    if action == Action.APPROVE_RETURN:
        return Step(at, _("办理单位调整中"), "warn")
    if action == Action.APPROVE_EXTENSION:
        return Step(at, _("办理时限已延长"), "warn")
    if action == Action.APPROVE_DEFERRAL:
        return Step(at, _("缓办"), "warn", note=deferral_reason, note_label=_("原因"))
    if action == Action.RESUME:
        return Step(at, _("恢复处置"), "done")
    if action == Action.HANDLED:
        return Step(at, _("已处置"), "done")
    if action == Action.CHECK_PASS:
        return Step(at, _("已核查：现场确认已处置到位"), "done")
    if action == Action.CHECK_FAIL:
        return Step(at, _("核查未通过，已退回重新处置"), "warn")
    if action in (Action.CLOSE, Action.APPROVE_SELF_HANDLED):
        return Step(at, _("已办结"), "closed")
    hotline = data.get("source") == Rating.Source.HOTLINE
    if action == Action.DISSATISFIED:
        if hotline:
            return Step(at, _("12345 回访评价「不满意」，正在复核"), "review")
        if private:
            return Step(at, _("您的评价「不满意」已收到，正在复核"), "review")
        return Step(at, _("群众评价「不满意」，正在复核"), "review")
    if action == "rate":
        level = Satisfaction(data.get("satisfaction", Satisfaction.SATISFIED)).label
        if hotline:
            return Step(at, _("12345 回访评价：%(level)s") % {"level": level}, "done")
        if private:
            return Step(at, _("您的评价「%(level)s」已收到，谢谢！") % {"level": level}, "done")
        return Step(at, _("群众评价：%(level)s") % {"level": level}, "done")
    if action == Action.REOPEN:
        return Step(at, _("已重新交办「%(unit)s」") % {"unit": unit}, "review")
    if action == Action.KEEP_CLOSED:
        return Step(at, _("维持结案"), "closed", note=event.note, note_label=_("答复"))
    return None


def current_text(case: Case) -> str:
    """The headline: the status in plain words, naming the unit once the case is with one."""
    if case.status in (Status.DISPATCHED, Status.PROCESSING) and case.handling_unit_id:
        return _("已交由「%(unit)s」办理") % {"unit": case.handling_unit.name}
    return public_status(case.status)


def public_photos(case: Case, *, reporter: bool) -> list[Attachment]:
    """The photos a tracker may open: after-photos, and the reporter's own before-photos."""
    kinds = [Attachment.Kind.AFTER]
    if reporter:
        kinds.append(Attachment.Kind.BEFORE)
    qs = case.attachments.filter(kind__in=kinds)
    if reporter:
        # Only the before-photos that came with the report, not an inspector's later ones.
        qs = qs.filter(Q(kind=Attachment.Kind.AFTER) | Q(event__action="report"))
    return list(qs.order_by("created_at", "id"))


def tracker_by_token(token: str) -> Tracker | None:
    return (
        Tracker.objects.select_related("case__category", "case__street", "case__community", "case__handling_unit")
        .filter(token=token)
        .first()
    )


_UNKNOWN = object()


def can_rate(tracker: Tracker, rating=_UNKNOWN) -> bool:
    """The reporter, on a closed case not yet rated since it was (last) closed.

    `rating`: last_rating_this_closure(case) when the caller has it already (None included).
    """
    case = tracker.case
    if tracker.kind != Tracker.Kind.REPORTER or case.status != Status.CLOSED:
        return False
    if rating is _UNKNOWN:
        rating = last_rating_this_closure(case)
    return rating is None


def last_rating_this_closure(case: Case) -> Rating | None:
    # The same rule as cases.services.case_rate: a rating counts for the closure it follows.
    closed = (
        case.events.filter(to_status=Status.CLOSED)
        .exclude(from_status=Status.CLOSED)
        .order_by("-at", "-id")
        .values_list("at", flat=True)
        .first()
    ) or case.closed_at
    if closed is None:
        return None
    return case.ratings.filter(source=Rating.Source.PORTAL, created_at__gte=closed).order_by("-created_at").first()


#
# Public list and map
#


def listed_cases() -> QuerySet[Case]:
    """Cases any visitor may look up: those of categories shown to the public."""
    return Case.objects.filter(category__publicly_listed=True)


def case_by_number(number: str) -> Case | None:
    """The case with this number, listed or not (the caller says 此案件不公开 for a hidden one)."""
    return (
        Case.objects.select_related("category", "street", "community", "handling_unit")
        .filter(number=number.strip())
        .first()
    )


class FilterError(ValueError):
    pass


def recent_cases(params, now: datetime | None = None) -> QuerySet[Case]:
    """The last RECENT_DAYS days' listed cases, newest first, filtered by street code and category id."""
    now = now or timezone.now()
    qs = listed_cases().filter(created_at__gte=now - timedelta(days=RECENT_DAYS))
    street = (params.get("street") or "").strip()
    if street:
        qs = qs.filter(street__code=street)
    category = (params.get("category") or "").strip()
    if category:
        if not category.isdigit():
            raise FilterError(_("分类无效"))
        qs = qs.filter(category_id=int(category))
    return qs.order_by("-created_at", "-id")


def snap(value: float) -> float:
    return round(round(value / SNAP_DEGREES) * SNAP_DEGREES, 6)


def cases_geojson(qs: QuerySet[Case]) -> dict:
    rows = qs.values_list("number", "lon", "lat", "status", "category__name")[:MAP_LIMIT]
    features = [
        {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [snap(lon), snap(lat)]},
            "properties": {
                "number": number,
                "category": category,
                "status": public_status(status),
                "closed": status == Status.CLOSED,
                "review": status == Status.REVIEW,
            },
        }
        for number, lon, lat, status, category in rows
    ]
    return {"type": "FeatureCollection", "features": features, "truncated": len(features) >= MAP_LIMIT}


def streets() -> QuerySet[Region]:
    return Region.objects.filter(level=Region.Level.STREET).order_by("code")


def street_outlines() -> dict:
    features = [
        {"type": "Feature", "geometry": boundary, "properties": {"name": name}}
        for name, boundary in streets().exclude(boundary=None).values_list("name", "boundary")
    ]
    return {"type": "FeatureCollection", "features": features}


#
# Monthly figures per street
#


def parse_month(value: str | None, today: date | None = None) -> tuple[date, bool]:
    """The month named by "YYYY-MM", or this month; the flag says whether the value was good."""
    today = today or timezone.localdate()
    if value:
        try:
            year, month = (int(part) for part in value.split("-"))
            return date(year, month, 1), True
        except (TypeError, ValueError):
            return today.replace(day=1), False
    return today.replace(day=1), True


def month_bounds(month: date) -> tuple[datetime, datetime]:
    """The month as aware datetimes in the local time zone, [start, end)."""
    days = calendar.monthrange(month.year, month.month)[1]
    tz = timezone.get_current_timezone()
    start = datetime(month.year, month.month, 1, tzinfo=tz)
    end = datetime(month.year, month.month, days, tzinfo=tz) + timedelta(days=1)
    return start, end


def satisfied_levels() -> list[str]:
    # The evaluation's setting (admin: 评价设置), so the portal and the evaluation agree.
    if EvaluationSettings.current().basically_satisfied_counts:
        return [Satisfaction.SATISFIED, Satisfaction.BASICALLY]
    return [Satisfaction.SATISFIED]


@dataclass
class StreetFigures:
    code: str
    name: str
    reports: int = 0
    filed: int = 0
    closed: int = 0
    closed_on_time: int = 0
    ratings: int = 0
    satisfied: int = 0

    @property
    def on_time_rate(self) -> float | None:
        return round(100 * self.closed_on_time / self.closed, 1) if self.closed else None

    @property
    def satisfaction_rate(self) -> float | None:
        return round(100 * self.satisfied / self.ratings, 1) if self.ratings else None


def street_figures(month: date) -> list[StreetFigures]:
    """Per street, for one month: four grouped queries (reports, filed, closed, ratings).

    - reports: cases reported in the month, from every channel;
    - filed: cases filed (立案) in the month;
    - closed: cases closed in the month and still closed (or under review after a 不满意);
      a case reopened after a 不满意 counts when it closes again;
    - closed on time: of those, the cases none of whose stage runs ended past its deadline
      (CaseStage.on_time is False for none; a stage without a limit is not late);
    - satisfaction: portal and 12345 ratings given in the month, satisfied (and, by the
      evaluation setting 基本满意计为满意, 基本满意) over all.
    """
    start, end = month_bounds(month)
    # Grouped by the street's id (no join to the regions); the streets are read once.
    rows = {pk: StreetFigures(code, name) for pk, code, name in streets().values_list("pk", "code", "name")}

    def by_street(qs, **annotations):
        return qs.values("street_id").annotate(**annotations).order_by()

    for row in by_street(Case.objects.filter(created_at__gte=start, created_at__lt=end), n=Count("id")):
        if row["street_id"] in rows:
            rows[row["street_id"]].reports = row["n"]
    for row in by_street(Case.objects.filter(filed_at__gte=start, filed_at__lt=end), n=Count("id")):
        if row["street_id"] in rows:
            rows[row["street_id"]].filed = row["n"]
    late = CaseStage.objects.filter(case=OuterRef("pk"), on_time=False)
    closed = Case.objects.filter(
        status__in=[Status.CLOSED, Status.REVIEW], closed_at__gte=start, closed_at__lt=end
    ).annotate(late=Exists(late))
    for row in by_street(closed, n=Count("id"), on_time=Count("id", filter=Q(late=False))):
        if row["street_id"] in rows:
            rows[row["street_id"]].closed = row["n"]
            rows[row["street_id"]].closed_on_time = row["on_time"]
    ratings = (
        Rating.objects.filter(created_at__gte=start, created_at__lt=end)
        .values("case__street_id")
        .annotate(n=Count("id"), ok=Count("id", filter=Q(satisfaction__in=satisfied_levels())))
        .order_by()
    )
    for row in ratings:
        if row["case__street_id"] in rows:
            rows[row["case__street_id"]].ratings = row["n"]
            rows[row["case__street_id"]].satisfied = row["ok"]
    return list(rows.values())

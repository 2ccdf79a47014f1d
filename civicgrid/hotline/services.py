"""Writes of the 12345 exchange: receive an order or a 回访, queue and deliver callbacks.

Cases are created only through civicgrid.cases.services.case_report; the status changes the
hotline hears about are read from CaseEvent rows by a job (no signals: reports insert their
events directly, civicgrid.core.inserts), queued as Callback rows, and POSTed by a second job
with retries and exponential backoff. Both jobs are in civicgrid.core.jobs.JOBS.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from civicgrid.cases import reference
from civicgrid.cases.models import CaseEvent, Channel, Rating
from civicgrid.cases.services import CaseError, InvalidInput, ReportInput, case_rate, case_report
from civicgrid.catalog.models import Category
from civicgrid.geo.coords import CRS_CHOICES
from civicgrid.hotline import conf
from civicgrid.hotline.models import Callback, VisitResult, Watermark, WorkOrder

# Case actions the hotline hears about, and as what. Our 回退 (approve_return) sends the case
# back to dispatch; 不予立案, an approved void and a merge end it here unhandled, so the hotline
# hears a return for them too and decides what to do with the order.
KIND_FOR_ACTION = {
    "sign": Callback.Kind.SIGN,
    "approve_return": Callback.Kind.RETURN,
    "reject": Callback.Kind.RETURN,
    "approve_void": Callback.Kind.RETURN,
    "merge": Callback.Kind.RETURN,
    "handled": Callback.Kind.RESULT,
    "close": Callback.Kind.CLOSE,
}
# First retry after a minute, then 2, 4, 8 … minutes, never more than an hour apart.
BACKOFF_FIRST = timedelta(minutes=1)
BACKOFF_CAP = timedelta(hours=1)
# Events are read again from this many ids below the watermark: on PostgreSQL an id is taken
# before its transaction commits, so an event may become visible after higher ids were read.
# Callback.event is unique, so an event read twice is queued once.
RESCAN = 1000
BATCH = 500

SATISFACTION_WORDS = {
    "满意": VisitResult.Satisfaction.SATISFIED,
    "基本满意": VisitResult.Satisfaction.BASICALLY,
    "不满意": VisitResult.Satisfaction.DISSATISFIED,
    **{choice.value: choice for choice in VisitResult.Satisfaction},
}


#
# Inbound: work orders
#


@dataclass
class Received:
    work_order: WorkOrder
    created: bool  # False: the order had been received before; the same case is returned


def _text(payload: dict, name: str, limit: int, *, required: bool = False) -> str:
    value = payload.get(name)
    if value is None:
        value = ""
    if not isinstance(value, (str, int)):
        raise InvalidInput(_("%(field)s 应为文本") % {"field": name}, name)
    value = str(value).strip()
    if required and not value:
        raise InvalidInput(_("缺少 %(field)s") % {"field": name}, name)
    if len(value) > limit:
        raise InvalidInput(_("%(field)s 不能超过 %(limit)s 个字符") % {"field": name, "limit": limit}, name)
    return value


def _time(payload: dict, name: str) -> datetime | None:
    value = payload.get(name)
    if value in (None, ""):
        return None
    parsed = parse_datetime(value) if isinstance(value, str) else None
    if parsed is None:
        raise InvalidInput(_("%(field)s 不是有效的时间（ISO 8601）") % {"field": name}, name)
    if timezone.is_naive(parsed):
        parsed = timezone.make_aware(parsed)
    return parsed


def _category(hint) -> Category:
    """The category the hotline's hint names: an id, or the exact name of an active category."""
    category = None
    if isinstance(hint, int) or (isinstance(hint, str) and hint.strip().isdigit()):
        category = reference.active_category(int(hint))
    elif isinstance(hint, str) and hint.strip():
        category = Category.objects.filter(name=hint.strip(), is_active=True).order_by("pk").first()
    else:
        raise InvalidInput(_("缺少 category（分类编号或名称）"), "category")
    if category is None:
        raise InvalidInput(_("分类不存在或已停用：%(hint)s") % {"hint": hint}, "category")
    return category


def _point(payload: dict, address: str) -> tuple[float, float, str]:
    lon, lat = payload.get("lon"), payload.get("lat")
    crs = _text(payload, "crs", 8) or "wgs84"
    if crs not in CRS_CHOICES:
        raise InvalidInput(_("不支持的坐标系：%(crs)s") % {"crs": crs}, "crs")
    if lon in (None, "") and lat in (None, ""):
        # No geocoder: the address is placed in the grid, community or street it names, as
        # Open311 does; the inspector who verifies the case on site corrects the spot.
        from civicgrid.open311.services import point_for_address

        point = point_for_address(address)
        if point is None:
            raise InvalidInput(_("地址中没有本辖区的街道、社区或网格名称，请提供 lon 和 lat"), "address")
        return point[0], point[1], "wgs84"
    try:
        lon, lat = float(lon), float(lat)
    except (TypeError, ValueError):
        raise InvalidInput(_("lon 和 lat 应为数字"), "lon") from None
    return lon, lat, crs


def work_order_receive(*, payload: dict, now: datetime | None = None) -> Received:
    """Create the case for a 12345 order, or return the one made for it before (idempotent)."""
    if not isinstance(payload, dict):
        raise InvalidInput(_("请求体应为 JSON 对象"), None)
    order_id = _text(payload, "order_id", 64, required=True)
    known = WorkOrder.objects.select_related("case").filter(order_id=order_id).first()
    if known is not None:
        return Received(known, created=False)
    content = _text(payload, "content", 4000, required=True)
    address = _text(payload, "address", 256)
    caller_name = _text(payload, "caller_name", 50)
    caller_phone = _text(payload, "caller_phone", 20)
    called_at = _time(payload, "received_at")
    category = _category(payload.get("category"))
    lon, lat, crs = _point(payload, address)
    data = ReportInput(
        channel=Channel.HOTLINE,
        category_id=category.pk,
        lon=lon,
        lat=lat,
        crs=crs,
        description=content,
        address=address,
        reporter_name=caller_name,
        reporter_phone=caller_phone,
        external_id=order_id,
        created_at=now,
    )
    try:
        # One transaction: a hotline case never exists without its work order.
        with transaction.atomic():
            case = case_report(data=data, actor=None)
            order = WorkOrder.objects.create(
                order_id=order_id,
                case=case,
                caller_name=caller_name,
                caller_phone=caller_phone,
                called_at=called_at,
                received_at=now or timezone.now(),
                payload=payload,
            )
    except IntegrityError:
        # The same order posted twice at once: the other request made the case.
        known = WorkOrder.objects.select_related("case").filter(order_id=order_id).first()
        if known is None:
            raise
        return Received(known, created=False)
    return Received(order, created=True)


#
# Inbound: 回访
#


def visit_receive(*, order_id: str, payload: dict, now: datetime | None = None) -> tuple[VisitResult, bool]:
    """Record the hotline's 回访 of an order's caller; (result, created).

    The result is also the caller's rating of the case (cases.services.case_rate, source
    "hotline"), once per closure: a 不满意 on a closed case puts it before the shift lead, who
    reopens it to a unit or keeps it closed with a reply. A visit to a case that is not closed
    (or one already rated for this closure) is kept here only.
    """
    if not isinstance(payload, dict):
        raise InvalidInput(_("请求体应为 JSON 对象"), None)
    order = WorkOrder.objects.filter(order_id=order_id).first()
    if order is None:
        raise LookupError(order_id)
    word = payload.get("satisfaction")
    satisfaction = SATISFACTION_WORDS.get(word.strip()) if isinstance(word, str) else None
    if satisfaction is None:
        raise InvalidInput(_("satisfaction 应为 满意、基本满意 或 不满意"), "satisfaction")
    note = _text(payload, "note", 2000)
    visit_id = _text(payload, "visit_id", 64)
    visited_at = _time(payload, "visited_at") or now or timezone.now()
    if visit_id:
        known = VisitResult.objects.filter(work_order=order, visit_id=visit_id).first()
        if known is not None:
            return known, False
    try:
        with transaction.atomic():
            visit = VisitResult.objects.create(
                work_order=order,
                case_id=order.case_id,
                visit_id=visit_id,
                visited_at=visited_at,
                satisfaction=satisfaction,
                note=note,
                received_at=now or timezone.now(),
            )
            _rate_case(visit)
    except IntegrityError:
        return VisitResult.objects.get(work_order=order, visit_id=visit_id), False
    return visit, True


def _rate_case(visit: VisitResult) -> None:
    if visit.case_id is None:
        return
    try:
        with transaction.atomic():
            case_rate(
                case_id=visit.case_id,
                satisfaction=visit.satisfaction,
                comment=visit.note[:500],
                source=Rating.Source.HOTLINE,
                now=visit.visited_at,
            )
    except CaseError:
        pass  # not closed, or already rated for this closure: the visit is on record here


#
# Outbound: queue, then deliver
#


def _payload(event: CaseEvent, order: WorkOrder, kind: str) -> dict:
    case = event.case
    return {
        "order_id": order.order_id,
        "case_number": case.number,
        "kind": kind,
        "action": event.action,
        "status": event.to_status,
        "at": event.at.isoformat(),
        "note": event.note,
        "unit": event.unit.name if event.unit_id else "",
    }


def hotline_callbacks_queue() -> int:
    """Queue a callback for each new sign, return, result and close of a hotline case."""
    mark, _created = Watermark.objects.get_or_create(name="callbacks")
    top = CaseEvent.objects.aggregate(top=Max("id"))["top"] or 0
    events = (
        CaseEvent.objects.filter(
            id__gt=max(mark.last_id - RESCAN, 0),
            id__lte=top,
            action__in=KIND_FOR_ACTION,
            case__channel=Channel.HOTLINE,
            case__hotline_order__isnull=False,
        )
        .exclude(id__in=Callback.objects.values("event_id"))
        .select_related("case", "case__hotline_order", "unit")
        .order_by("id")
    )
    queued = 0
    for event in events.iterator(chunk_size=BATCH):
        kind = KIND_FOR_ACTION[event.action]
        try:
            with transaction.atomic():
                Callback.objects.create(
                    case=event.case,
                    event=event,
                    kind=kind,
                    payload=_payload(event, event.case.hotline_order, kind),
                    next_attempt_at=timezone.now(),
                )
        except IntegrityError:  # queued by another run meanwhile
            continue
        queued += 1
    if top > mark.last_id:
        Watermark.objects.filter(pk=mark.pk).update(last_id=top)
    return queued


def _post(url: str, body: dict) -> None:
    """POST one callback; raises on anything but a 2xx answer."""
    headers = {"Content-Type": "application/json; charset=utf-8"}
    token = conf.get("CIVICGRID_HOTLINE_CALLBACK_TOKEN")
    if token:
        headers["X-Hotline-Token"] = token
    request = urllib.request.Request(
        url, data=json.dumps(body, ensure_ascii=False).encode(), headers=headers, method="POST"
    )
    with urllib.request.urlopen(request, timeout=conf.get("CIVICGRID_HOTLINE_TIMEOUT_SECONDS")) as response:
        if not 200 <= response.status < 300:
            raise urllib.error.HTTPError(url, response.status, response.reason, response.headers, None)


def backoff(attempts: int) -> timedelta:
    """The wait after the n-th failed attempt: 1, 2, 4, 8 … minutes, capped at an hour."""
    return min(BACKOFF_FIRST * 2 ** max(attempts - 1, 0), BACKOFF_CAP)


def callback_deliver(callback: Callback, *, now: datetime | None = None) -> bool:
    """Try one callback once and record the outcome; True when the hotline accepted it."""
    now = now or timezone.now()
    url = conf.get("CIVICGRID_HOTLINE_CALLBACK_URL")
    callback.attempts += 1
    try:
        _post(url, callback.payload)
    except (OSError, ValueError) as exc:  # URLError and HTTPError are OSErrors; ValueError: a bad URL
        callback.last_error = f"{type(exc).__name__}: {exc}"[:500]
        if callback.attempts >= conf.get("CIVICGRID_HOTLINE_MAX_ATTEMPTS"):
            callback.status = Callback.Status.FAILED
        else:
            callback.next_attempt_at = now + backoff(callback.attempts)
        ok = False
    else:
        callback.status, callback.delivered_at, callback.last_error = Callback.Status.DELIVERED, now, ""
        ok = True
    callback.save(update_fields=["attempts", "status", "next_attempt_at", "last_error", "delivered_at"])
    return ok


def hotline_callbacks_send(now: datetime | None = None) -> int:
    """POST the callbacks that are due; returns how many the hotline accepted.

    A case's callbacks go in order: while its oldest pending one waits for a retry, the later
    ones wait too (the hotline should not hear "closed" before "signed").
    """
    if not conf.get("CIVICGRID_HOTLINE_CALLBACK_URL"):
        return 0
    now = now or timezone.now()
    delivered, seen_cases = 0, set()
    for callback in Callback.objects.filter(status=Callback.Status.PENDING).order_by("id")[:BATCH]:
        if callback.case_id in seen_cases:
            continue
        if callback.next_attempt_at > now:
            seen_cases.add(callback.case_id)
            continue
        if callback_deliver(callback, now=now):
            delivered += 1
        else:
            seen_cases.add(callback.case_id)
    return delivered


def callbacks_retry_now(queryset, *, now: datetime | None = None) -> int:
    """Make these callbacks due at once (a failed one gets one more attempt)."""
    return queryset.exclude(status=Callback.Status.DELIVERED).update(
        status=Callback.Status.PENDING, next_attempt_at=now or timezone.now()
    )

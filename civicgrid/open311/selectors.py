"""Reads for the Open311 interface: services, service definitions and service requests as the
spec lays them out (documents for civicgrid.open311.formats)."""

from __future__ import annotations

from datetime import datetime

from django.db.models import Max, Prefetch, QuerySet

from civicgrid.cases.models import Attachment, Case, CaseEvent
from civicgrid.cases.workflow import Status
from civicgrid.catalog.models import Category
from civicgrid.open311.formats import Many
from civicgrid.open311.models import ServiceAttribute, Submission

SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"

CLOSED_STATUSES = frozenset({Status.CLOSED, Status.VOIDED, Status.REJECTED, Status.MERGED})

# The detailed status of the extensions (CitySDK's values): what the two Open311 values hide.
DETAILED_STATUS = {
    Status.VERIFYING: "PENDING",
    Status.PENDING_FILING: "PENDING",
    Status.VOID_REQUESTED: "PENDING",
    Status.FILED: "RECEIVED",
    Status.DISPATCHED: "RECEIVED",
    Status.PROCESSING: "IN_PROCESS",
    Status.RETURN_REQUESTED: "IN_PROCESS",
    Status.EXTENSION_REQUESTED: "IN_PROCESS",
    Status.DEFERRAL_REQUESTED: "IN_PROCESS",
    Status.DEFERRED: "IN_PROCESS",
    Status.CHECKING: "IN_PROCESS",
    Status.PENDING_CLOSE: "IN_PROCESS",
    Status.SELF_HANDLED: "IN_PROCESS",
    Status.REVIEW: "IN_PROCESS",
    Status.CLOSED: "PROCESSED",
    Status.REJECTED: "REJECTED",
    Status.VOIDED: "REJECTED",
    Status.MERGED: "REJECTED",
}
DETAILED_STATUSES = ("PENDING", "RECEIVED", "IN_PROCESS", "PROCESSED", "REJECTED")


def open311_status(status: str) -> str:
    return "closed" if status in CLOSED_STATUSES else "open"


def statuses_for(open311_values: set[str]) -> list[str]:
    """Case statuses whose Open311 status is one of `open311_values`."""
    return sorted(s for s in Status.values if open311_status(s) in open311_values)


def public_categories() -> QuerySet[Category]:
    """The services: active categories offered to the public."""
    return Category.objects.filter(is_active=True, is_public=True)


def service_for_code(code: str) -> Category | None:
    if not code.isdigit():
        return None
    return public_categories().filter(pk=int(code)).first()


def changeset() -> str:
    # Bumped when an extra question changes (clients then refetch service definitions).
    changed = ServiceAttribute.objects.aggregate(last=Max("updated_at"))["last"]
    return changed.strftime("%Y-%m-%dT%H:%M:%SZ") if changed else "2026-11-30T00:00:00Z"


#
# Services
#


def service_list() -> Many:
    categories = public_categories().prefetch_related("codes").order_by("kind", "major_name", "sort_order", "id")
    with_attributes = set(
        ServiceAttribute.objects.filter(category__in=categories).values_list("category_id", flat=True)
    )
    items = []
    for category in categories:
        codes = [code.code for code in category.codes.all()]
        items.append(
            {
                "service_code": str(category.pk),
                "service_name": category.name,
                "description": f"{category.get_kind_display()} · {category.major_name or '—'} · {category.name}",
                "metadata": category.pk in with_attributes,
                "type": "realtime",
                "keywords": ",".join([str(category.get_kind_display()), *codes]),
                "group": category.major_name,
            }
        )
    return Many("services", "service", items)


def service_definition(category: Category) -> dict:
    attributes = []
    for attribute in category.service_attributes.all():
        attributes.append(
            {
                "variable": attribute.variable,
                "code": attribute.code,
                "datatype": attribute.datatype,
                "required": attribute.required,
                "datatype_description": attribute.datatype_description,
                "order": attribute.order,
                "description": attribute.description,
                "values": Many(
                    "values",
                    "value",
                    [{"key": str(v["key"]), "name": str(v["name"])} for v in attribute.values or []],
                ),
            }
        )
    return {"service_code": str(category.pk), "attributes": Many("attributes", "attribute", attributes)}


#
# Service requests
#


def published_cases() -> QuerySet[Case]:
    """Cases the interface shows: every case filed under a public category."""
    return (
        Case.objects.filter(category__is_public=True)
        .select_related("category", "handling_unit", "open311_submission")
        .prefetch_related(
            Prefetch(
                "attachments",
                queryset=Attachment.objects.filter(kind=Attachment.Kind.BEFORE).order_by("created_at", "id"),
                to_attr="before_photos",
            )
        )
    )


def _submission(case: Case) -> Submission | None:
    try:
        return case.open311_submission
    except Submission.DoesNotExist:
        return None


def _media_url(case: Case, submission: Submission | None, absolute) -> str:
    # Photos are shown only for cases the public sent through this interface.
    if submission is not None and case.before_photos:
        return absolute(f"media/{case.before_photos[0].pk}.jpg")
    return submission.media_url if submission is not None else ""


def request_document(
    case: Case, *, absolute, extensions: bool, notes: list[CaseEvent] | None = None, labels: dict | None = None
) -> dict:
    """One <request> of GET requests: the spec's fields in the spec's order (plus extensions)."""
    submission = _submission(case)
    closed = case.status in CLOSED_STATUSES
    updated = case.closed_at if case.status == Status.CLOSED and case.closed_at else case.updated_at
    document = {
        "service_request_id": case.number,
        "status": open311_status(case.status),
        "status_notes": str(Status(case.status).label),
        "service_name": case.category.name,
        "service_code": str(case.category_id),
        "description": case.description,
        "agency_responsible": case.handling_unit.name if case.handling_unit_id else "",
        "service_notice": "",
        "requested_datetime": case.created_at,
        "updated_datetime": updated,
        # The handling stage's deadline is the expected fulfilment (the category's time limit).
        "expected_datetime": case.stage_deadline if case.stage == "handle" and not closed else None,
        "address": case.address,
        "address_id": submission.address_id if submission else "",
        "zipcode": "",
        "lat": case.lat,
        "long": case.lon,
        "media_url": _media_url(case, submission, absolute),
    }
    if extensions:
        document["detailed_status"] = DETAILED_STATUS.get(case.status, "PENDING")
        answers = submission.attributes if submission else {}
        document["attributes"] = Many(
            "attributes",
            "attribute",
            [
                {
                    "label": (labels or {}).get((case.category_id, code), ""),
                    "name": code,
                    "value": ",".join(value) if isinstance(value, list) else value,
                    "code": code,
                }
                for code, value in answers.items()
            ],
        )
        document["extended_attributes"] = {
            "channel": case.channel,
            "civicgrid_status": case.status,
            "civicgrid_status_name": str(Status(case.status).label),
            "media_urls": Many(
                "media_urls", "media_url", [absolute(f"media/{photo.pk}.jpg") for photo in case.before_photos]
            )
            if submission is not None
            else Many("media_urls", "media_url", []),
        }
        document["notes"] = Many("notes", "note", [note_document(event) for event in notes or []])
    return document


def note_document(event: CaseEvent) -> dict:
    # The public history: what happened and when, never the staff's free-text note or names.
    if event.action == "report":
        kind, text = "opened", "上报"
    else:
        kind = "status_change" if event.from_status != event.to_status else "update"
        text = event.action_label
    if event.to_status in Status.values and str(Status(event.to_status).label) != text:
        text = f"{text}（{Status(event.to_status).label}）"
    return {"datetime": event.at, "description": text, "type": kind}


def notes_by_case(case_ids: list[int]) -> dict[int, list[CaseEvent]]:
    by_case: dict[int, list[CaseEvent]] = {pk: [] for pk in case_ids}
    for event in CaseEvent.objects.filter(case_id__in=case_ids).order_by("case_id", "at", "id"):
        by_case[event.case_id].append(event)
    return by_case


def attribute_labels(category_ids) -> dict[tuple[int, str], str]:
    """The question of each (category, attribute code), for the answers shown with extensions=true."""
    rows = (
        ServiceAttribute.objects.filter(category_id__in=set(category_ids))
        .order_by()
        .values_list("category_id", "code", "description")
    )
    return {(category_id, code): description for category_id, code, description in rows}


def in_window(qs: QuerySet[Case], start: datetime, end: datetime) -> QuerySet[Case]:
    return qs.filter(created_at__gte=start, created_at__lte=end)

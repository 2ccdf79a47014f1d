"""Reads for the Open311 interface: services, service definitions and service requests as the
spec lays them out (documents for civicgrid.open311.formats)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from datetime import timezone as dt_timezone

from django.db import connection, connections, transaction
from django.db.models import BooleanField, Max, QuerySet, TextField
from django.db.models.expressions import RawSQL
from django.db.models.functions import Cast
from django.utils import timezone

from civicgrid.cases.models import Attachment, Case, CaseEvent
from civicgrid.cases.workflow import Status
from civicgrid.catalog.models import Category
from civicgrid.open311.formats import Many
from civicgrid.open311.models import ServiceAttribute

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
    return Case.objects.filter(category__is_public=True)


# What a <request> shows, read as plain rows: a page holds up to 1,000 requests, and model
# instances (with their related rows and the photos' prefetch) were most of its time.
REQUEST_COLUMNS = (
    "id",
    "number",
    "status",
    "category_id",
    "category__name",
    "description",
    "handling_unit__name",
    "stage",
    "address",
    "lat",
    "lon",
    "open311_submission__id",
    "open311_submission__address_id",
    "open311_submission__media_url",
)
EXTENSION_COLUMNS = ("channel", "open311_submission__attributes")
# The times, read as text: Django's loader of PostgreSQL's timestamptz parses each value in
# Python (some 10 µs, and a page has 3,000 of them, 8,000 with the notes); fromisoformat does it
# in C. See _w3c.
TIME_COLUMNS = {"requested": "created_at", "updated": "updated_at", "closed": "closed_at", "deadline": "stage_deadline"}


def _text(field: str) -> Cast:
    return Cast(field, output_field=TextField())


def request_rows(qs: QuerySet[Case], *, extensions: bool) -> list[dict]:
    columns = REQUEST_COLUMNS + EXTENSION_COLUMNS if extensions else REQUEST_COLUMNS
    rows = qs.values(*columns, **{alias: _text(field) for alias, field in TIME_COLUMNS.items()})
    if connections[qs.db].vendor != "postgresql":
        return list(rows)
    # Planned for its own values each time, not by a prepared statement's generic plan
    # (settings: DB_PREPARE_THRESHOLD): without the values PostgreSQL guessed a few hundred
    # cases in any date window and chose to read a category's every case of the 90 days and sort
    # them — 275,000 at 10,000,000 cases, 500 ms a page instead of 15 ms — from the sixth request.
    with transaction.atomic(using=qs.db):
        with connections[qs.db].cursor() as cursor:
            cursor.execute("SET LOCAL plan_cache_mode = force_custom_plan")
        return list(rows)


def time_from_text(text: str) -> datetime:
    """A time read as text: PostgreSQL writes the offset (2026-11-30 01:30:00.123+00), SQLite
    stores UTC without one."""
    value = datetime.fromisoformat(text)
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _w3c_from_text(tz):
    """A W3C datetime in `tz` from a time read as text (UTC).

    A page holds some 3,000 times (8,000 with the notes), and an aware datetime's astimezone()
    and isoformat() ask the zone for its offset each time. The offset is looked up once per UTC
    day instead: when the zone has the same offset at both ends of the day, every time of the
    day is shifted by it as a naive datetime; a day with a clock change takes the slow way."""
    offsets: dict[str, tuple[timedelta, str] | None] = {}
    # With a whole-hour offset, an hour of UTC is an hour of local time: "2026-11-30 17" →
    # ("2026-12-01T01", "+08:00"), and a time is that hour, its own minutes and seconds, the offset.
    hours: dict[str, tuple[str, str]] = {}

    def w3c(text: str | None) -> str | None:
        if text is None:
            return None
        hour = hours.get(text[:13])
        if hour is not None:
            return hour[0] + text[13:19] + hour[1]
        day = text[:10]
        if day not in offsets:
            start = datetime.fromisoformat(day).replace(tzinfo=UTC)
            first = start.astimezone(tz).utcoffset()
            last = (start + timedelta(days=1)).astimezone(tz).utcoffset()
            suffix = datetime(2000, 1, 1, tzinfo=dt_timezone(first)).isoformat()[19:]
            offsets[day] = (first, suffix) if first == last else None
        known = offsets[day]
        if known is None:
            return time_from_text(text).astimezone(tz).isoformat(timespec="seconds")
        if not known[0].seconds % 3600:
            local = (datetime.fromisoformat(text[:13] + ":00") + known[0]).isoformat()[:13]
            hours[text[:13]] = (local, known[1])
        # The seconds of "2026-11-30 01:30:00.123+00" (PostgreSQL) or "2026-11-30 01:30:00.123"
        # (SQLite), truncated as isoformat(timespec="seconds") truncates.
        return (datetime.fromisoformat(text[:19]) + known[0]).isoformat() + known[1]

    return w3c


def request_documents(rows: list[dict], *, absolute, extensions: bool) -> Many:
    """The <request> documents of GET requests for `rows` (of request_rows): the spec's fields in
    the spec's order (plus extensions). The photos, the notes and the questions of the whole page
    are read in one query each, and only when a row needs them. Empty values are None already
    (a clean Many: formats.to_json writes it as it is)."""
    submitted = [row["id"] for row in rows if row["open311_submission__id"] is not None]
    # Photos are shown only for cases the public sent through this interface.
    photos = _photos_by_case(submitted) if submitted else {}
    notes = notes_by_case([row["id"] for row in rows]) if extensions and rows else {}
    answered = [row["category_id"] for row in rows if extensions and row["open311_submission__attributes"]]
    labels = attribute_labels(answered) if answered else {}
    status_label = {value: str(label) for value, label in Status.choices}
    action_label: dict[str, str] = {}
    w3c = _w3c_from_text(timezone.get_current_timezone())
    documents = []
    for row in rows:
        status = row["status"]
        closed = status in CLOSED_STATUSES
        submitted = row["open311_submission__id"] is not None
        own_photos = photos.get(row["id"], ())
        if own_photos:
            media_url = absolute(f"media/{own_photos[0]}.jpg")
        else:
            media_url = row["open311_submission__media_url"] if submitted else None
        updated = row["closed"] if status == Status.CLOSED and row["closed"] else row["updated"]
        document = {
            "service_request_id": row["number"],
            "status": "closed" if closed else "open",
            "status_notes": status_label[status],
            "service_name": row["category__name"],
            "service_code": str(row["category_id"]),
            "description": row["description"] or None,
            "agency_responsible": row["handling_unit__name"] or None,
            "service_notice": None,
            "requested_datetime": w3c(row["requested"]),
            "updated_datetime": w3c(updated),
            # The handling stage's deadline is the expected fulfilment (the category's time limit).
            "expected_datetime": w3c(row["deadline"]) if row["stage"] == "handle" and not closed else None,
            "address": row["address"] or None,
            "address_id": (row["open311_submission__address_id"] if submitted else None) or None,
            "zipcode": None,
            "lat": row["lat"],
            "long": row["lon"],
            "media_url": media_url or None,
        }
        if extensions:
            category_id = row["category_id"]
            answers = row["open311_submission__attributes"] if submitted else None
            document["detailed_status"] = DETAILED_STATUS.get(status, "PENDING")
            document["attributes"] = Many(
                "attributes",
                "attribute",
                [
                    {
                        "label": labels.get((category_id, code)) or None,
                        "name": code,
                        "value": _answer(value),
                        "code": code,
                    }
                    for code, value in (answers or {}).items()
                ],
            )
            document["extended_attributes"] = {
                "channel": row["channel"],
                "civicgrid_status": status,
                "civicgrid_status_name": status_label[status],
                "media_urls": Many("media_urls", "media_url", [absolute(f"media/{pk}.jpg") for pk in own_photos]),
            }
            document["notes"] = Many(
                "notes", "note", [_note(event, status_label, action_label, w3c) for event in notes.get(row["id"], ())]
            )
        documents.append(document)
    return Many("service_requests", "request", documents, clean=True)


def _answer(value):
    """An answer as the document shows it: a list joined by commas, empty text as no value."""
    if isinstance(value, list):
        value = ",".join(value)
    return None if value == "" else value


def _of_cases(model, case_ids: list[int]):
    """The rows of `model` whose case is one of `case_ids` (up to 1,000). On PostgreSQL as one
    array parameter (case_id = ANY(%s)): 1,000 placeholders cost psycopg some 12 ms to send."""
    if connection.vendor == "postgresql":
        column = f'"{model._meta.db_table}"."case_id"'
        return model.objects.filter(RawSQL(f"{column} = ANY(%s)", [case_ids], output_field=BooleanField()))
    return model.objects.filter(case_id__in=case_ids)


def _photos_by_case(case_ids: list[int]) -> dict[int, list[int]]:
    rows = (
        _of_cases(Attachment, case_ids)
        .filter(kind=Attachment.Kind.BEFORE)
        .order_by("case_id", "created_at", "id")
        .values_list("case_id", "id")
    )
    by_case: dict[int, list[int]] = {}
    for case_id, pk in rows:
        by_case.setdefault(case_id, []).append(pk)
    return by_case


def _note(event: tuple, status_label: dict[str, str], action_label: dict[str, str], w3c) -> dict:
    # The public history: what happened and when, never the staff's free-text note or names.
    action, from_status, to_status, at = event
    if action == "report":
        kind, text = "opened", "上报"
    else:
        kind = "status_change" if from_status != to_status else "update"
        if action not in action_label:
            action_label[action] = CaseEvent(action=action).action_label
        text = action_label[action]
    if to_status in status_label and status_label[to_status] != text:
        text = f"{text}（{status_label[to_status]}）"
    return {"datetime": w3c(at), "description": text, "type": kind}


def notes_by_case(case_ids: list[int]) -> dict[int, list[tuple]]:
    """(action, from_status, to_status, at as text) of each case's events, oldest first."""
    by_case: dict[int, list[tuple]] = {}
    rows = (
        _of_cases(CaseEvent, case_ids)
        .order_by("case_id", "at", "id")
        .values_list("case_id", "action", "from_status", "to_status", _text("at"))
    )
    for case_id, *event in rows:
        by_case.setdefault(case_id, []).append(tuple(event))
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

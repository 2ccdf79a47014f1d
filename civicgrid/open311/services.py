"""POST Service Request: check a GeoReport v2 submission and report it as a public-channel case.

The case is created only through civicgrid.cases.services.case_report (channel "public", no
actor), like a report from the public portal; this module adds the Open311 record beside it.
Problems are collected, not raised one at a time: the spec lets a server answer several errors
at once, and a client can then fix them all.
"""

from __future__ import annotations

import math
import re
import secrets
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator, URLValidator
from django.db import transaction
from django.db.models import CharField, F, Value
from django.db.models.functions import Length
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from shapely.geometry import shape

from civicgrid.cases.services import InvalidInput, ReportInput, case_report
from civicgrid.catalog.models import Category
from civicgrid.core.uploads import UploadRejected, validate_upload
from civicgrid.geo.models import Grid, Region
from civicgrid.open311 import conf
from civicgrid.open311.formats import xml_safe
from civicgrid.open311.models import App, Datatype, ServiceAttribute, Submission, hash_key

MAX_DESCRIPTION = 4000
# Declared types a photo may come with; the bytes are checked by civicgrid.core.uploads.
MEDIA_TYPES = frozenset({"image/jpeg", "image/png", "image/webp", "application/octet-stream"})
SERVICE_NOTICE = "市民上报将由网格监督员现场核实，属实的予以立案并派遣处置。"


class Rejected(Exception):
    """The request cannot be fulfilled: `status` is the HTTP status, `problems` (code, description) pairs."""

    def __init__(self, status: int, problems: list[tuple[int, str]], headers: dict | None = None):
        super().__init__(problems)
        self.status = status
        self.problems = problems
        self.headers = headers or {}


@dataclass
class Accepted:
    case_number: str
    token: str
    service_notice: str = SERVICE_NOTICE
    account_id: str = ""


@dataclass
class _Checked:
    problems: list[tuple[int, str]] = field(default_factory=list)

    def bad(self, description: str, code: int = 400) -> None:
        self.problems.append((code, description))


def app_for_key(key: str) -> App | None:
    if not key:
        return None
    return App.objects.filter(key_hash=hash_key(key), is_active=True).first()


def check_rate(client_ip: str | None) -> None:
    limit = conf.get("CIVICGRID_OPEN311_POSTS_PER_IP")
    if not limit or not client_ip:
        return
    window = conf.get("CIVICGRID_OPEN311_POST_WINDOW_SECONDS")
    since = timezone.now() - timedelta(seconds=window)
    if Submission.objects.filter(client_ip=client_ip, created_at__gte=since).count() >= limit:
        # The spec answers 400 to everything that is neither 403 nor 404; the body's code
        # may be more specific, so it says 429 and Retry-After tells when to try again.
        raise Rejected(
            400,
            [(429, f"Too many requests from this address: at most {limit} in {window} seconds.")],
            headers={"Retry-After": str(window)},
        )


def submission_create(*, post, files, app: App, client_ip: str | None) -> Accepted:
    """Check a POST Service Request (form fields and uploads) and create the case.

    `post` is the request's QueryDict (attribute[code][] lists are read with getlist).
    """
    checked = _Checked()
    code = (post.get("service_code") or "").strip()
    if not code:
        raise Rejected(400, [(400, "service_code is required")])
    from civicgrid.open311.selectors import service_for_code

    category = service_for_code(code)
    if category is None:
        raise Rejected(404, [(404, f"service_code {code} not found")])

    lon, lat, address = _location(post, checked)
    description = xml_safe((post.get("description") or "").replace("\r\n", "\n")).strip()
    if len(description) > MAX_DESCRIPTION:
        checked.bad(f"description is longer than {MAX_DESCRIPTION} characters")
    answers = _attributes(post, category, checked)
    email = _optional(post, "email", 254)
    if email:
        try:
            EmailValidator()(email)
        except ValidationError:
            checked.bad("email is not a valid e-mail address")
    media_url = _optional(post, "media_url", 500)
    if media_url:
        try:
            URLValidator(schemes=["http", "https"])(media_url)
        except ValidationError:
            checked.bad("media_url is not an http(s) URL")
    photos = _media(files, checked)
    if checked.problems:
        raise Rejected(400, checked.problems)

    if lon is None:
        point = point_for_address(address)
        if point is None:
            raise Rejected(
                400,
                [(400, "address_string names no street, community or grid of this jurisdiction; send lat and long")],
            )
        lon, lat = point
    name = " ".join(part for part in (_optional(post, "last_name", 25), _optional(post, "first_name", 25)) if part)
    token = secrets.token_hex(16)
    data = ReportInput(
        channel="public",
        category_id=category.pk,
        lon=lon,
        lat=lat,
        description=description or f"{category.name}（Open311 上报，未填写描述）",
        address=address,
        reporter_name=name,
        reporter_phone=_optional(post, "phone", 20),
        external_id=f"open311:{token}",
        photos=photos,
    )
    # One transaction: a case never exists without its Open311 record (the rate limit and the
    # token lookup read it). case_report's own reads come from process caches, so the write
    # lock is held only a little longer than for a portal report.
    with transaction.atomic():
        try:
            case = case_report(data=data, actor=None)
        except InvalidInput as exc:
            raise Rejected(400, [(400, _english(exc))]) from None
        Submission.objects.create(
            case=case,
            app=app,
            token=token,
            client_ip=client_ip,
            attributes=answers,
            media_url=media_url,
            address_string=address,
            address_id=_optional(post, "address_id", 64),
            email=email,
            device_id=_optional(post, "device_id", 100),
            account_id=_optional(post, "account_id", 100),
        )
    return Accepted(case_number=case.number, token=token)


def _english(exc: InvalidInput) -> str:
    # The case service speaks Chinese to staff; Open311 clients get the field too.
    field_name = {"lon": "lat/long", "lat": "lat/long", "photos": "media"}.get(exc.field or "", exc.field or "")
    return f"{field_name}: {exc}" if field_name else str(exc)


def _optional(post, name: str, limit: int) -> str:
    return (post.get(name) or "").strip()[:limit]


def _coordinate(raw: str, low: float, high: float) -> float | None:
    try:
        value = float(raw)
    except (TypeError, ValueError):
        return None
    if not math.isfinite(value) or not low <= value <= high:
        return None
    return value


def _location(post, checked: _Checked) -> tuple[float | None, float | None, str]:
    raw_lat, raw_long = (post.get("lat") or "").strip(), (post.get("long") or "").strip()
    address = _optional(post, "address_string", 256)
    address_id = _optional(post, "address_id", 64)
    if raw_lat or raw_long:
        if not (raw_lat and raw_long):
            checked.bad("lat and long must be sent together")
            return None, None, address
        lat = _coordinate(raw_lat, -90, 90)
        lon = _coordinate(raw_long, -180, 180)
        if lat is None:
            checked.bad("lat is not a WGS84 latitude (a number from -90 to 90)")
        if lon is None:
            checked.bad("long is not a WGS84 longitude (a number from -180 to 180)")
        return lon, lat, address
    if address:
        return None, None, address
    if address_id:
        checked.bad("address_id is not known to this server; send lat and long or address_string")
    else:
        checked.bad("a location is required: lat and long, or address_string")
    return None, None, address


_W3C = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$")


def parse_w3c(raw: str):
    """A W3C datetime with a time zone, or None. A '+' turned into a space by form decoding is put back."""
    raw = (raw or "").strip()
    raw = re.sub(r" (\d{2}:?\d{2})$", r"+\1", raw)
    if not _W3C.match(raw):
        return None
    try:
        return parse_datetime(raw)
    except ValueError:
        return None


def _attributes(post, category: Category, checked: _Checked) -> dict:
    answers: dict = {}
    for attribute in ServiceAttribute.objects.filter(category=category, variable=True).order_by("order"):
        name = f"attribute[{attribute.code}]"
        raw = [v.strip() for v in post.getlist(name) + post.getlist(f"{name}[]") if v.strip()]
        if not raw:
            if attribute.required:
                checked.bad(f"{name} is required: {attribute.description}")
            continue
        if attribute.datatype == Datatype.MULTIVALUELIST:
            unknown = [v for v in raw if v not in attribute.keys()]
            if unknown:
                checked.bad(f"{name}: {', '.join(unknown)} is not one of the values")
            answers[attribute.code] = list(dict.fromkeys(raw))
            continue
        if len(raw) > 1:
            checked.bad(f"{name} takes one value")
            continue
        value = raw[0]
        if attribute.datatype == Datatype.SINGLEVALUELIST and value not in attribute.keys():
            checked.bad(f"{name}: {value} is not one of the values")
        elif attribute.datatype == Datatype.NUMBER:
            try:
                number = Decimal(value)
            except InvalidOperation:
                number = None
            if number is None or not number.is_finite():
                checked.bad(f"{name} must be a number")
        elif attribute.datatype == Datatype.DATETIME and parse_w3c(value) is None:
            checked.bad(f"{name} must be an ISO 8601 date and time with a time zone")
        elif attribute.datatype == Datatype.STRING and ("\n" in value or "\r" in value):
            checked.bad(f"{name} must be a single line")
        answers[attribute.code] = value[:MAX_DESCRIPTION]
    return answers


def _media(files, checked: _Checked) -> list:
    uploads = files.getlist("media") + files.getlist("media[]") if files else []
    limit = conf.get("CIVICGRID_OPEN311_MAX_MEDIA_FILES")
    if len(uploads) > limit:
        checked.bad(f"at most {limit} media files")
        return []
    for upload in uploads:
        declared = (upload.content_type or "").split(";")[0].strip().lower()
        if declared not in MEDIA_TYPES:
            checked.bad(f"media: {declared or 'no content type'} is not accepted (JPEG, PNG or WebP photos)")
            continue
        try:
            validate_upload(upload, kind="photo", field="media")
        except UploadRejected as rejected:
            checked.bad(f"media: {rejected.reason}")
    return uploads


def point_for_address(address: str) -> tuple[float, float] | None:
    """A point in the most specific grid, community or street the address names, or None.

    There is no geocoder: an address without coordinates is placed in the named area, and
    the inspector who verifies the report on site corrects the spot.
    """
    if not address:
        return None
    text = Value(address, output_field=CharField())
    grid = (
        Grid.objects.exclude(name="")
        .alias(text=text)
        .filter(text__contains=F("name"))
        .order_by(Length("name").desc(), "code")
        .first()
    )
    if grid is None:
        region = (
            Region.objects.filter(level__in=[Region.Level.COMMUNITY, Region.Level.STREET])
            .alias(text=text)
            .filter(text__contains=F("name"))
            .order_by("level", "code")  # "community" < "street": the more specific first
            .first()
        )
        if region is None:
            return None
        grids = Grid.objects.filter(community=region) if region.level == Region.Level.COMMUNITY else None
        if grids is None:
            grids = Grid.objects.filter(community__parent=region)
        grid = grids.order_by("code").first()
        if grid is None:
            return None
    point = shape(grid.geometry).representative_point()
    return (point.x, point.y)


# The demo county's app key: published in docs/demo.md, so it exists only in demo databases.
DEMO_KEY = "cg311_demo-chongyi-not-secret"


def demo_app_ensure() -> str:
    """Create (or re-enable) the demo app whose key is DEMO_KEY; returns the key."""
    App.objects.update_or_create(
        key_hash=hash_key(DEMO_KEY),
        defaults={"name": "演示应用（公开密钥）", "key_hint": DEMO_KEY[:10], "is_active": True},
    )
    return DEMO_KEY

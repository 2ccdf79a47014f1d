"""Writes of the portal's reporting flow: a citizen's report, following an open case, seed data.

`portal_report` and `portal_follow` each run in one transaction: the case (through
civicgrid.cases.services.case_report, like every channel), its photos, the one-time code's
use, the Tracker and the SMS subscription are written together or not at all.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from civicgrid.cases.models import Case
from civicgrid.cases.selectors import distance_m
from civicgrid.cases.services import InvalidInput, ReportInput, case_report
from civicgrid.cases.workflow import OPEN
from civicgrid.catalog.models import Category
from civicgrid.notifications.services import citizen_subscribe
from civicgrid.portal.defaults import DEFAULT_TILES, DEMO_PLACES
from civicgrid.portal.models import CategoryTile, PhoneCode, Place, Tracker
from civicgrid.portal.otp import OtpError, otp_consume

NEARBY_RADIUS_M = 100
NEARBY_WINDOW = timedelta(days=30)
_M_PER_DEG_LAT = 111_320.0


@dataclass
class Contact:
    """Who reports or follows: all optional; a phone only when proven by a one-time code."""

    name: str = ""
    phone: str = ""
    phone_code: PhoneCode | None = None
    notify: bool = False


def public_categories():
    return Category.objects.filter(is_active=True, is_public=True)


def nearby_open_cases(*, category_id: int, lon: float, lat: float, now=None, limit: int = 5) -> list[tuple[int, Case]]:
    """Open cases of the category within 100 m reported in the last 30 days, nearest first,
    with their distance in metres. The public flavour of cases.selectors.duplicate_candidates
    (which is scoped to a staff user and looks 50 m and 72 h around a case)."""
    now = now or timezone.now()
    dlat = NEARBY_RADIUS_M / _M_PER_DEG_LAT
    dlon = dlat / max(math.cos(math.radians(lat)), 0.01)
    candidates = (
        Case.objects.open()
        .filter(
            category_id=category_id,
            created_at__gte=now - NEARBY_WINDOW,
            lat__range=(lat - dlat, lat + dlat),
            lon__range=(lon - dlon, lon + dlon),
        )
        .select_related("category")
    )
    found = sorted(((distance_m(lon, lat, c.lon, c.lat), c) for c in candidates), key=lambda pair: pair[0])
    return [(round(d), c) for d, c in found if d <= NEARBY_RADIUS_M][:limit]


def portal_report(*, data: ReportInput, contact: Contact) -> Tracker:
    """Create the case from the public channel and the reporter's Tracker; raises CaseError or OtpError."""
    data.channel = "public"
    data.reporter_name = contact.name
    data.reporter_phone = contact.phone if contact.phone_code else ""
    with transaction.atomic():
        case = case_report(data=data, actor=None)
        return _tracker(case, Tracker.Kind.REPORTER, contact)


def portal_follow(*, case: Case, contact: Contact) -> Tracker:
    """A citizen follows an open case instead of reporting it again."""
    with transaction.atomic():
        case = Case.objects.select_for_update().get(pk=case.pk)
        if case.status not in OPEN:
            raise InvalidInput(_("该案件已办结，无需再关注"), "follow")
        return _tracker(case, Tracker.Kind.FOLLOWER, contact)


def _tracker(case: Case, kind: str, contact: Contact) -> Tracker:
    verified = contact.phone_code is not None
    if verified and not otp_consume(contact.phone_code):
        raise OtpError(_("验证码已使用，请重新获取"))
    tracker = Tracker.objects.create(
        case=case,
        kind=kind,
        name=contact.name[:50],
        phone=contact.phone if verified else "",
        phone_verified=verified,
        notify=verified and contact.notify,
    )
    if tracker.notify:
        citizen_subscribe(case, phone=contact.phone)
    return tracker


#
# Seed data
#


def tiles_seed() -> int:
    """Create the default tiles whose categories exist, when there are no tiles yet; returns how many."""
    if CategoryTile.objects.exists():
        return 0
    by_key = {c.key: c for c in public_categories().filter(key__in=[key for _l, _h, key in DEFAULT_TILES])}
    tiles = [
        CategoryTile(label=label, hint=hint, category=by_key[key], order=n * 10)
        for n, (label, hint, key) in enumerate(DEFAULT_TILES, start=1)
        if key in by_key
    ]
    CategoryTile.objects.bulk_create(tiles)
    return len(tiles)


def portal_demo_ensure() -> None:
    """The demo county's landmarks (by name) and the default tiles. Called by the demo build."""
    from civicgrid.core.demo import CENTER_LAT, CENTER_LON
    from civicgrid.geo.lookup import OutsideManagedArea, locate

    m_per_deg_lat = 111_195.0
    m_per_deg_lon = m_per_deg_lat * math.cos(math.radians(CENTER_LAT))
    for name, aliases, east, north in DEMO_PLACES:
        lon = round(CENTER_LON + east / m_per_deg_lon, 7)
        lat = round(CENTER_LAT + north / m_per_deg_lat, 7)
        try:
            locate(lon, lat)
        except OutsideManagedArea:
            continue
        Place.objects.update_or_create(
            name=name, defaults={"aliases": aliases, "lon": lon, "lat": lat, "is_active": True}
        )
    tiles_seed()

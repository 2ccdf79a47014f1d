"""Test data for the portal's reporting tests: the geo tests' county, a few public categories,
tiles and a landmark, photos (with EXIF when asked) and an SMS provider that records."""

from __future__ import annotations

import io

from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image
from PIL.TiffImagePlugin import IFDRational

from civicgrid.cases.tests.fixtures import EAST_POINT, build_people
from civicgrid.catalog.models import Category, Kind
from civicgrid.notifications.backends import SmsProvider
from civicgrid.portal.models import CategoryTile, Place

SENT: list[tuple[str, str]] = []
PROVIDER = "civicgrid.portal.tests.helpers.RecordingSms"


class RecordingSms(SmsProvider):
    """Keeps what would have been sent, so a test can read the code like a citizen would."""

    def send_sms(self, phone: str, text: str) -> None:
        SENT.append((phone, text))


def last_code(phone: str) -> str:
    import re

    text = next(text for to, text in reversed(SENT) if to == phone)
    return re.search(r"\d{6}", text).group(0)


def build_portal() -> dict:
    made = build_people()
    # The fixtures' "道路破损" category (local:test-road) is public; two more, one internal.
    made["light"] = Category.objects.create(
        key="local:light", kind=Kind.COMPONENT, name="路灯", major_name="市政公用设施"
    )
    made["internal"] = Category.objects.create(
        key="local:internal", kind=Kind.EVENT, name="内部道路巡查", is_public=False
    )
    made["tile_road"] = CategoryTile.objects.create(
        label="道路破损", hint="路面坑洼", category=made["category"], order=10
    )
    made["tile_light"] = CategoryTile.objects.create(label="路灯不亮", category=made["light"], order=20)
    made["school"] = Place.objects.create(name="崇义中学", aliases="一中 县一中", lon=EAST_POINT[0], lat=EAST_POINT[1])
    return made


def jpeg(colour="green", size=(64, 48), exif=None, name="photo.jpg") -> SimpleUploadedFile:
    buffer = io.BytesIO()
    image = Image.new("RGB", size, colour)
    if exif is not None:
        image.save(buffer, "JPEG", exif=exif)
    else:
        image.save(buffer, "JPEG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/jpeg")


def _rational_dms(value: float):
    degrees = int(value)
    minutes_float = (value - degrees) * 60
    minutes = int(minutes_float)
    seconds = round((minutes_float - minutes) * 60 * 10000)
    return (IFDRational(degrees, 1), IFDRational(minutes, 1), IFDRational(seconds, 10000))


def phone_photo(lon: float, lat: float) -> SimpleUploadedFile:
    """A sideways phone photo (EXIF orientation 6: turn 90° clockwise to view) with a GPS fix.

    Stored as 80 × 40 pixels, left half red and right half blue: seen upright it is 40 × 80
    with red on top.
    """
    image = Image.new("RGB", (80, 40), "blue")
    image.paste((255, 0, 0), (0, 0, 40, 40))
    exif = Image.Exif()
    exif[0x0112] = 6  # Orientation
    gps = {1: "N", 2: _rational_dms(lat), 3: "E", 4: _rational_dms(lon)}
    exif.get_ifd(0x8825).update(gps)  # GPSInfo IFD
    exif[0x010F] = "PhoneMaker"  # Make
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", exif=exif, quality=95)
    return SimpleUploadedFile("IMG_0001.jpg", buffer.getvalue(), content_type="image/jpeg")

"""Uploaded photos and documents: validation by content, safe stored copies, stable names.

Citizens upload from phones and staff from the office, so nothing about an upload is
trusted: not its file name, not its declared content type, not its pixel dimensions.
Images are recognised by Pillow from their bytes; documents by their magic numbers.

    info = validate_upload(request.FILES["photo"], kind="photo")   # raises UploadRejected
    stored = normalise_photo(request.FILES["photo"])                # JPEG, no metadata
    name = photo_upload_name(info.sha256, "jpg")
    if not default_storage.exists(name):
        default_storage.save(name, stored)

See docs/uploads.md for the formats, the limits and what is stripped.
"""

import hashlib
import io
import re
import zipfile
from dataclasses import dataclass
from datetime import datetime
from typing import IO, NamedTuple
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.utils.translation import gettext as _
from PIL import Image, ImageCms, ImageOps, UnidentifiedImageError

MIB = 1024 * 1024
DEFAULT_MAX_PHOTO_BYTES = 10 * MIB
DEFAULT_MAX_DOCUMENT_BYTES = 20 * MIB
# 40 MP is above any phone camera's default output (48/50 MP sensors save 12 MP by
# default) and far below Pillow's own bomb limit (~89 MP), which stays as a backstop.
DEFAULT_MAX_IMAGE_PIXELS = 40_000_000

# The long side of the stored copy and of the thumbnail, in pixels.
PHOTO_MAX_SIDE = 2560
THUMBNAIL_SIDE = 320
PHOTO_QUALITY = 85
THUMBNAIL_QUALITY = 80

# Phones record EXIF times as local wall-clock time. CivicGrid serves Chinese counties, so
# that wall clock is China Standard Time whatever TIME_ZONE the server runs in.
CHINA_TZ = ZoneInfo("Asia/Shanghai")


class Format(NamedTuple):
    content_type: str
    extension: str


# Pillow format name -> what is accepted. HEIC (iPhone) is not here: this Pillow build has
# no HEIF decoder and a plugin (pillow-heif) would be one more native dependency. iOS
# browsers convert HEIC to JPEG on upload when the form does not ask for HEIC.
PHOTO_FORMATS = {
    "JPEG": Format("image/jpeg", "jpg"),
    "PNG": Format("image/png", "png"),
    "WEBP": Format("image/webp", "webp"),
}
# Documents: PDF by its %PDF- magic; Word and Excel (Office Open XML) by the zip magic plus
# the part that makes the package a document or a workbook. Legacy .doc/.xls are refused:
# they are OLE containers that carry macros and are hard to check.
DOCUMENT_FORMATS = {
    "pdf": Format("application/pdf", "pdf"),
    "docx": Format("application/vnd.openxmlformats-officedocument.wordprocessingml.document", "docx"),
    "xlsx": Format("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx"),
}
_OOXML_MAIN_PART = {"docx": "word/document.xml", "xlsx": "xl/workbook.xml"}

KINDS = ("photo", "document")

# EXIF tags (TIFF/EXIF 2.3 numbering).
_EXIF_IFD = 0x8769
_GPS_IFD = 0x8825
_DATETIME_ORIGINAL = 0x9003
_OFFSET_TIME_ORIGINAL = 0x9011
_GPS_LATITUDE_REF, _GPS_LATITUDE, _GPS_LONGITUDE_REF, _GPS_LONGITUDE = 1, 2, 3, 4


class UploadRejected(ValidationError):
    """An upload that is not accepted; `reason` is Chinese text for the user.

    A ValidationError, so a form's clean_<field>() or a DRF serializer's validate_<field>()
    can let it through and the user sees the reason; API views can also answer
    `error_response(e.field, e.reason)` themselves.
    """

    def __init__(self, field: str | None, reason: str):
        super().__init__(reason, code="upload_rejected")
        self.field = field
        self.reason = reason


@dataclass(frozen=True)
class UploadInfo:
    """What an accepted upload is. width/height are as displayed (EXIF orientation applied)
    and None for documents; sha256 is of the uploaded bytes; gps is (longitude, latitude)
    in decimal degrees, WGS84 as the phone recorded it."""

    content_type: str
    extension: str
    size: int
    width: int | None = None
    height: int | None = None
    sha256: str = ""
    taken_at: datetime | None = None
    gps: tuple[float, float] | None = None


#
# Validation
#


def validate_upload(file: IO[bytes], *, kind: str, field: str | None = None) -> UploadInfo:
    """Check an uploaded file by its content and describe it; raise UploadRejected if it is
    not an acceptable photo or document. The file is rewound afterwards, ready to save.

    `field` names the form field in the error; by default the upload's own field name."""
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, not {kind!r}")
    field = field or getattr(file, "field_name", None) or kind
    if kind == "photo":
        data = _read_limited(file, field, limit=max_photo_bytes(), too_big=_("图片过大：最大 %(limit)s"))
        return _validate_photo(data, field)
    data = _read_limited(file, field, limit=max_document_bytes(), too_big=_("文件过大：最大 %(limit)s"))
    return _validate_document(data, field)


def max_photo_bytes() -> int:
    return getattr(settings, "CIVICGRID_MAX_PHOTO_BYTES", DEFAULT_MAX_PHOTO_BYTES)


def max_document_bytes() -> int:
    return getattr(settings, "CIVICGRID_MAX_DOCUMENT_BYTES", DEFAULT_MAX_DOCUMENT_BYTES)


def max_image_pixels() -> int:
    return getattr(settings, "CIVICGRID_MAX_IMAGE_PIXELS", DEFAULT_MAX_IMAGE_PIXELS)


def _read_limited(file: IO[bytes], field: str, *, limit: int, too_big: str) -> bytes:
    # Read at most one byte past the limit whatever the file claims its size is, so a
    # lying or streamed upload cannot make the server hold more than the limit.
    declared = getattr(file, "size", None)
    if declared is not None and declared > limit:
        raise UploadRejected(field, too_big % {"limit": _format_bytes(limit)})
    file.seek(0)
    data = file.read(limit + 1)
    file.seek(0)
    if len(data) > limit:
        raise UploadRejected(field, too_big % {"limit": _format_bytes(limit)})
    if not data:
        raise UploadRejected(field, _("文件是空的"))
    return data


def _format_bytes(n: int) -> str:
    if n >= MIB:
        return f"{n / MIB:g} MB"
    if n >= 1024:
        return f"{n / 1024:g} KB"
    return f"{n} B"


def _open_image(data: bytes, field: str) -> Image.Image:
    """Open, check and fully decode an image; everything that is not a complete JPEG, PNG
    or WebP of acceptable dimensions becomes UploadRejected."""
    not_an_image = _("文件不是有效的图片（JPEG、PNG 或 WebP）")
    if _is_heif(data):
        raise UploadRejected(field, _("暂不支持 HEIC 格式的照片，请转换为 JPEG 后上传"))
    try:
        # Only the accepted decoders are tried: no TIFF, EPS, PSD... parsers ever see the
        # bytes, which keeps the attack surface to three well-fuzzed formats.
        with Image.open(io.BytesIO(data), formats=list(PHOTO_FORMATS)) as probe:
            _check_pixels(probe, field)
            # verify() checks the structure (PNG chunk CRCs...) without decoding.
            probe.verify()
        # A verified image cannot be used any more; reopen it and decode all of it, which is
        # what finds a truncated JPEG (verify() does not read JPEG scan data).
        image = Image.open(io.BytesIO(data), formats=list(PHOTO_FORMATS))
        _check_pixels(image, field)
        image.load()
    except UploadRejected:
        raise
    except Image.DecompressionBombError as e:
        # Pillow's own limit (2x Image.MAX_IMAGE_PIXELS) is only reached when
        # CIVICGRID_MAX_IMAGE_PIXELS has been raised above it.
        raise UploadRejected(field, _("图片尺寸过大")) from e
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError, MemoryError) as e:
        raise UploadRejected(field, not_an_image) from e
    return image


def _check_pixels(image: Image.Image, field: str) -> None:
    # Checked from the header, before any pixel is decoded: a few bytes of PNG can declare
    # 100000 x 100000 pixels and ask for tens of gigabytes of memory.
    width, height = image.size
    if width <= 0 or height <= 0 or width * height > max_image_pixels():
        raise UploadRejected(field, _("图片尺寸过大"))


def _is_heif(data: bytes) -> bool:
    return data[4:8] == b"ftyp" and data[8:12] in (b"heic", b"heix", b"hevc", b"hevx", b"mif1", b"msf1")


def _validate_photo(data: bytes, field: str) -> UploadInfo:
    image = _open_image(data, field)
    with image:
        fmt = PHOTO_FORMATS[image.format]
        exif = _exif(image)
        width, height = image.size
        # Orientations 5-8 turn the picture a quarter: what the user sees is height x width.
        if exif.get(0x0112) in (5, 6, 7, 8):
            width, height = height, width
        return UploadInfo(
            content_type=fmt.content_type,
            extension=fmt.extension,
            size=len(data),
            width=width,
            height=height,
            sha256=hashlib.sha256(data).hexdigest(),
            taken_at=_taken_at(exif),
            gps=_gps(exif),
        )


def _validate_document(data: bytes, field: str) -> UploadInfo:
    extension = _document_extension(data)
    if extension is None:
        raise UploadRejected(field, _("文件不是有效的文档（PDF、Word .docx 或 Excel .xlsx）"))
    fmt = DOCUMENT_FORMATS[extension]
    return UploadInfo(
        content_type=fmt.content_type, extension=fmt.extension, size=len(data), sha256=hashlib.sha256(data).hexdigest()
    )


def _document_extension(data: bytes) -> str | None:
    if data.startswith(b"%PDF-"):
        # Readers require %%EOF within the last 1024 bytes; without it the file is not a PDF
        # or was cut short in transfer. Also refuses a bare "%PDF-" header.
        return "pdf" if b"%%EOF" in data[-1024:] and len(data) > 5 else None
    if data.startswith(b"PK\x03\x04"):
        # Only the central directory is read (namelist), nothing is decompressed, so a zip
        # bomb costs nothing here.
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as package:
                names = set(package.namelist())
        except (zipfile.BadZipFile, OSError, ValueError):
            return None
        if "[Content_Types].xml" not in names:
            return None
        for extension, main_part in _OOXML_MAIN_PART.items():
            if main_part in names:
                return extension
    return None


#
# EXIF: when and where the photo was taken
#


def _exif(image: Image.Image) -> Image.Exif:
    try:
        return image.getexif()
    except Exception:
        # Broken EXIF must not cost the citizen the photo; it only loses time and place.
        return Image.Exif()


def _taken_at(exif: Image.Exif) -> datetime | None:
    try:
        ifd = exif.get_ifd(_EXIF_IFD)
        raw = ifd.get(_DATETIME_ORIGINAL)
        offset = ifd.get(_OFFSET_TIME_ORIGINAL)
    except Exception:
        return None
    if not isinstance(raw, str):
        return None
    try:
        naive = datetime.strptime(raw.strip("\x00 ")[:19], "%Y:%m:%d %H:%M:%S")
    except ValueError:
        return None
    # Newer phones add the UTC offset (EXIF 2.31 OffsetTimeOriginal, "+08:00"); without it
    # the time is China's wall clock.
    if isinstance(offset, str) and re.fullmatch(r"[+-]\d\d:\d\d", offset.strip("\x00 ")):
        aware = datetime.fromisoformat(naive.isoformat() + offset.strip("\x00 "))
        return aware.astimezone(CHINA_TZ)
    return naive.replace(tzinfo=CHINA_TZ)


def _gps(exif: Image.Exif) -> tuple[float, float] | None:
    try:
        gps = exif.get_ifd(_GPS_IFD)
        lat = _degrees(gps[_GPS_LATITUDE], gps.get(_GPS_LATITUDE_REF), negative="S")
        lon = _degrees(gps[_GPS_LONGITUDE], gps.get(_GPS_LONGITUDE_REF), negative="W")
    except Exception:
        # Missing tags, wrong types, zero denominators: no position rather than a wrong one.
        return None
    if lat is None or lon is None or not (-90 <= lat <= 90 and -180 <= lon <= 180):
        return None
    # Some phones write 0/0 when they had no fix; no case is filed in the Gulf of Guinea.
    if lat == 0 and lon == 0:
        return None
    return (round(lon, 7), round(lat, 7))


def _degrees(dms, ref, *, negative: str) -> float | None:
    degrees, minutes, seconds = (float(x) for x in dms)
    value = degrees + minutes / 60 + seconds / 3600
    if value != value:  # NaN, from a rational with a zero denominator
        return None
    if isinstance(ref, bytes):
        ref = ref.decode("ascii", "replace")
    if isinstance(ref, str) and ref.strip("\x00 ").upper() == negative:
        value = -value
    return value


#
# Stored copies
#


def normalise_photo(file: IO[bytes]) -> ContentFile:
    """The copy of a photo to store: upright (EXIF orientation applied), sRGB JPEG, long side
    at most PHOTO_MAX_SIDE, and no metadata at all (no EXIF, GPS, XMP, ICC, comments), so a
    stored or published photo does not give away where the reporter stood or which phone
    they carry. Raises UploadRejected like validate_upload."""
    return _render_jpeg(file, max_side=PHOTO_MAX_SIDE, quality=PHOTO_QUALITY)


def make_thumbnail(file: IO[bytes], size: int = THUMBNAIL_SIDE) -> ContentFile:
    """A JPEG thumbnail, long side `size`, upright and without metadata."""
    return _render_jpeg(file, max_side=size, quality=THUMBNAIL_QUALITY)


def _render_jpeg(file: IO[bytes], *, max_side: int, quality: int) -> ContentFile:
    field = getattr(file, "field_name", None) or "photo"
    data = _read_limited(file, field, limit=max_photo_bytes(), too_big=_("图片过大：最大 %(limit)s"))
    # _open_image also guards callers that skipped validate_upload.
    with _open_image(data, field) as image:
        upright = ImageOps.exif_transpose(image)
    upright = _to_srgb(upright)
    upright = _flatten(upright)
    upright.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
    # A fresh image holds the pixels and nothing else: no info dict (comment, ICC, XMP,
    # EXIF) can ride along into the saved file.
    clean = Image.new("RGB", upright.size)
    clean.paste(upright)
    out = io.BytesIO()
    clean.save(out, format="JPEG", quality=quality, optimize=True, exif=b"")
    return ContentFile(out.getvalue())


def _to_srgb(image: Image.Image) -> Image.Image:
    # Phone photos are often Display P3; dropping the profile without converting would make
    # them look dull, so the pixels are converted to sRGB, the colour space a profile-less
    # JPEG is read in.
    icc = image.info.get("icc_profile")
    if not icc or image.mode not in ("RGB", "RGBA"):
        return image
    try:
        source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        return ImageCms.profileToProfile(image, source, ImageCms.createProfile("sRGB"), outputMode=image.mode)
    except (ImageCms.PyCMSError, OSError, ValueError):
        return image


def _flatten(image: Image.Image) -> Image.Image:
    # JPEG has no transparency: transparent areas become white (as on paper), not black.
    if image.mode in ("I", "I;16", "I;16B", "I;16L"):
        # 16-bit greyscale PNG: a plain convert() clips every value above 255 to white.
        image = image.convert("I").point(lambda v: v / 256).convert("L")
    has_alpha = image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info)
    if not has_alpha:
        return image.convert("RGB")
    rgba = image.convert("RGBA")
    background = Image.new("RGB", rgba.size, (255, 255, 255))
    background.paste(rgba, mask=rgba.getchannel("A"))
    return background


#
# Storage names
#

_SHA256 = re.compile(r"[0-9a-f]{64}")


def photo_upload_name(sha256: str, ext: str) -> str:
    """photos/ab/cd/<sha256>.<ext>: the same upload always gets the same name, so a photo sent
    twice is stored once, and two levels of folders keep any one folder small."""
    return _upload_name("photos", sha256, ext)


def thumbnail_upload_name(sha256: str) -> str:
    """photos/ab/cd/<sha256>.thumb.jpg, beside the photo of the same sha256."""
    return _upload_name("photos", sha256, "thumb.jpg")


def document_upload_name(sha256: str, ext: str) -> str:
    """documents/ab/cd/<sha256>.<ext>."""
    return _upload_name("documents", sha256, ext)


def _upload_name(prefix: str, sha256: str, ext: str) -> str:
    # Both parts end up in a storage path: refuse anything that is not a hash and a plain
    # extension rather than trust the caller not to pass user input.
    if not _SHA256.fullmatch(sha256):
        raise ValueError(f"not a lowercase hex sha256: {sha256!r}")
    ext = ext.lower().lstrip(".")
    if not re.fullmatch(r"[a-z0-9]+(\.[a-z0-9]+)?", ext):
        raise ValueError(f"not a file extension: {ext!r}")
    return f"{prefix}/{sha256[:2]}/{sha256[2:4]}/{sha256}.{ext}"

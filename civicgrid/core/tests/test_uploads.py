import io
import struct
import zipfile
import zlib
from datetime import datetime

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import SimpleTestCase, override_settings
from PIL import Image, ImageCms
from PIL.TiffImagePlugin import IFDRational

from civicgrid.core.uploads import (
    CHINA_TZ,
    UploadRejected,
    make_thumbnail,
    normalise_photo,
    photo_upload_name,
    thumbnail_upload_name,
    validate_upload,
)

RED, BLUE = (255, 0, 0), (0, 0, 255)
ORIENTATION, MAKE, MODEL, EXIF_IFD, GPS_IFD = 0x0112, 0x010F, 0x0110, 0x8769, 0x8825
DATETIME_ORIGINAL, OFFSET_TIME_ORIGINAL = 0x9003, 0x9011


def two_colour_image(size=(40, 20)) -> Image.Image:
    """Left half red, right half blue, so a rotation shows which way it went."""
    image = Image.new("RGB", size, BLUE)
    image.paste(RED, (0, 0, size[0] // 2, size[1]))
    return image


def phone_exif(*, orientation=6, offset=None) -> Image.Exif:
    """EXIF as a phone writes it: turned a quarter, taken in 县城 (25°40'30"N 114°18'36"E)."""
    exif = Image.Exif()
    exif[ORIENTATION] = orientation
    exif[MAKE] = "Huawei"
    exif[MODEL] = "Mate 60 Pro"
    exif[EXIF_IFD] = {DATETIME_ORIGINAL: "2026:11:20 09:30:15", **({OFFSET_TIME_ORIGINAL: offset} if offset else {})}
    exif[GPS_IFD] = {
        1: "N",
        2: (IFDRational(25, 1), IFDRational(40, 1), IFDRational(3000, 100)),
        3: "E",
        4: (IFDRational(114, 1), IFDRational(18, 1), IFDRational(36, 1)),
    }
    return exif


def encode(image: Image.Image, fmt="JPEG", **params) -> bytes:
    out = io.BytesIO()
    image.save(out, format=fmt, **params)
    return out.getvalue()


def upload(data: bytes, name="photo.jpg", content_type="image/jpeg") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type=content_type)


def png_declaring(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims width x height pixels (a decompression bomb)."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")


def office_package(main_part: str) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as package:
        package.writestr("[Content_Types].xml", "<Types/>")
        package.writestr(main_part, "<x/>")
    return out.getvalue()


PDF = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"


class ValidatePhotoTests(SimpleTestCase):
    def assertRejected(self, file, reason, *, kind="photo"):
        with self.assertRaises(UploadRejected) as caught:
            validate_upload(file, kind=kind)
        self.assertEqual(caught.exception.reason, reason)
        return caught.exception

    def test_it_accepts_a_jpeg_and_describes_it(self):
        data = encode(two_colour_image((40, 20)))
        info = validate_upload(upload(data), kind="photo")
        self.assertEqual((info.content_type, info.extension), ("image/jpeg", "jpg"))
        self.assertEqual((info.width, info.height, info.size), (40, 20, len(data)))
        self.assertEqual(len(info.sha256), 64)
        self.assertIsNone(info.taken_at)
        self.assertIsNone(info.gps)

    def test_it_reads_gps_and_taken_at_from_exif(self):
        data = encode(two_colour_image((40, 20)), exif=phone_exif())
        info = validate_upload(upload(data), kind="photo")
        lon, lat = info.gps
        self.assertAlmostEqual(lon, 114.31, places=6)
        self.assertAlmostEqual(lat, 25.675, places=6)
        self.assertEqual(info.taken_at, datetime(2026, 11, 20, 9, 30, 15, tzinfo=CHINA_TZ))
        # Orientation 6: shown a quarter turned, so the displayed size is 20 x 40.
        self.assertEqual((info.width, info.height), (20, 40))

    def test_it_converts_an_exif_time_with_an_offset_to_china_time(self):
        data = encode(two_colour_image(), exif=phone_exif(offset="+00:00"))
        info = validate_upload(upload(data), kind="photo")
        self.assertEqual(info.taken_at, datetime(2026, 11, 20, 17, 30, 15, tzinfo=CHINA_TZ))
        self.assertEqual(str(info.taken_at.tzinfo), "Asia/Shanghai")

    def test_it_judges_by_content_not_by_name_or_declared_type(self):
        png = encode(two_colour_image(), "PNG")
        info = validate_upload(upload(png, name="photo.jpg", content_type="image/jpeg"), kind="photo")
        self.assertEqual((info.content_type, info.extension), ("image/png", "png"))

    def test_it_accepts_webp(self):
        info = validate_upload(upload(encode(two_colour_image(), "WEBP"), name="a.webp"), kind="photo")
        self.assertEqual((info.content_type, info.extension), ("image/webp", "webp"))

    def test_it_rejects_a_text_file_renamed_jpg(self):
        error = self.assertRejected(upload(b"just some text\n" * 20), "文件不是有效的图片（JPEG、PNG 或 WebP）")
        self.assertEqual(error.field, "photo")
        self.assertIsInstance(error, ValidationError)

    def test_it_rejects_a_format_outside_the_list(self):
        self.assertRejected(upload(encode(two_colour_image(), "GIF")), "文件不是有效的图片（JPEG、PNG 或 WebP）")

    def test_it_rejects_heic_with_its_own_reason(self):
        heic = b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + b"\x00" * 100
        self.assertRejected(upload(heic, name="IMG_0001.HEIC"), "暂不支持 HEIC 格式的照片，请转换为 JPEG 后上传")

    def test_it_rejects_a_truncated_jpeg(self):
        noisy = Image.effect_noise((400, 300), 80).convert("RGB")
        data = encode(noisy, quality=95)
        self.assertRejected(upload(data[: len(data) // 2]), "文件不是有效的图片（JPEG、PNG 或 WebP）")

    def test_it_rejects_an_empty_file(self):
        self.assertRejected(upload(b""), "文件是空的")

    @override_settings(CIVICGRID_MAX_PHOTO_BYTES=1024 * 1024)
    def test_it_rejects_an_oversized_photo(self):
        self.assertRejected(upload(b"\xff" * (1024 * 1024 + 1)), "图片过大：最大 1 MB")

    @override_settings(CIVICGRID_MAX_PHOTO_BYTES=100)
    def test_it_does_not_trust_the_declared_size(self):
        file = upload(encode(two_colour_image()))
        file.size = 10
        self.assertRejected(file, "图片过大：最大 100 B")

    @override_settings(CIVICGRID_MAX_IMAGE_PIXELS=1000)
    def test_it_rejects_images_over_the_pixel_limit(self):
        self.assertRejected(upload(encode(two_colour_image((100, 100)), "PNG")), "图片尺寸过大")

    def test_it_rejects_a_decompression_bomb(self):
        # 100000 x 100000 declared: beyond Pillow's own limit, so DecompressionBombError.
        self.assertRejected(upload(png_declaring(100_000, 100_000)), "图片尺寸过大")

    @override_settings(CIVICGRID_MAX_IMAGE_PIXELS=1_000_000)
    def test_it_rejects_a_bomb_before_decoding_it(self):
        # 5000 x 5000 is under Pillow's limit; the CivicGrid limit stops it from the header.
        self.assertRejected(upload(png_declaring(5000, 5000)), "图片尺寸过大")

    def test_it_rewinds_the_file_for_saving(self):
        file = upload(encode(two_colour_image()))
        validate_upload(file, kind="photo")
        self.assertEqual(file.tell(), 0)

    def test_it_names_the_field_of_the_upload(self):
        file = upload(b"nope")
        file.field_name = "before_photo"
        self.assertEqual(self.assertRejected(file, "文件不是有效的图片（JPEG、PNG 或 WebP）").field, "before_photo")


class ValidateDocumentTests(SimpleTestCase):
    def test_it_accepts_a_pdf(self):
        info = validate_upload(upload(PDF, name="通知.pdf", content_type="application/pdf"), kind="document")
        self.assertEqual((info.content_type, info.extension, info.size), ("application/pdf", "pdf", len(PDF)))
        self.assertIsNone(info.width)

    def test_it_rejects_a_fake_pdf(self):
        for data in (b"hello, this is not a pdf", b"%PDF-", b"%PDF-1.7\n1 0 obj\n<<"):
            with self.subTest(data=data), self.assertRaises(UploadRejected) as caught:
                validate_upload(upload(data, name="x.pdf", content_type="application/pdf"), kind="document")
            self.assertEqual(caught.exception.reason, "文件不是有效的文档（PDF、Word .docx 或 Excel .xlsx）")

    def test_it_accepts_word_and_excel_by_their_parts(self):
        docx = validate_upload(upload(office_package("word/document.xml"), name="a.bin"), kind="document")
        xlsx = validate_upload(upload(office_package("xl/workbook.xml"), name="a.bin"), kind="document")
        self.assertEqual(docx.extension, "docx")
        self.assertEqual(xlsx.extension, "xlsx")

    def test_it_rejects_a_plain_zip(self):
        with self.assertRaises(UploadRejected):
            validate_upload(upload(office_package("readme.txt"), name="a.docx"), kind="document")

    @override_settings(CIVICGRID_MAX_DOCUMENT_BYTES=10)
    def test_it_rejects_an_oversized_document(self):
        with self.assertRaisesMessage(UploadRejected, "文件过大：最大 10 B"):
            validate_upload(upload(PDF, name="a.pdf"), kind="document")


class NormalisePhotoTests(SimpleTestCase):
    def test_it_applies_the_orientation(self):
        data = encode(two_colour_image((40, 20)), exif=phone_exif(orientation=6))
        with Image.open(normalise_photo(upload(data))) as stored:
            self.assertEqual(stored.size, (20, 40))
            # Orientation 6 turns the picture clockwise: the red left half ends up on top.
            self.assertGreater(stored.getpixel((10, 5))[0], 200)
            self.assertGreater(stored.getpixel((10, 35))[2], 200)

    def test_it_strips_all_exif_and_gps(self):
        srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
        data = encode(two_colour_image(), exif=phone_exif(), comment=b"Mate 60 Pro", icc_profile=srgb)
        stored = normalise_photo(upload(data)).read()
        with Image.open(io.BytesIO(stored)) as image:
            self.assertEqual(dict(image.getexif()), {})
            self.assertEqual(image.getexif().get_ifd(GPS_IFD), {})
            self.assertEqual(set(image.info) & {"exif", "xmp", "icc_profile", "comment"}, set())
        self.assertNotIn(b"Exif", stored)
        self.assertNotIn(b"Huawei", stored)
        self.assertNotIn(b"Mate 60", stored)
        info = validate_upload(upload(stored), kind="photo")
        self.assertIsNone(info.gps)
        self.assertIsNone(info.taken_at)

    def test_it_converts_to_jpeg_and_flattens_transparency_on_white(self):
        image = Image.new("RGBA", (30, 30), (0, 0, 0, 0))
        image.paste((0, 128, 0, 255), (0, 0, 10, 30))
        stored = normalise_photo(upload(encode(image, "PNG"), name="a.png"))
        with Image.open(stored) as jpeg:
            self.assertEqual((jpeg.format, jpeg.mode), ("JPEG", "RGB"))
            self.assertEqual(jpeg.getpixel((25, 15)), (255, 255, 255))
            self.assertLess(jpeg.getpixel((3, 15))[0], 30)

    def test_it_scales_16_bit_greyscale_down_instead_of_clipping_it(self):
        stored = normalise_photo(upload(encode(Image.new("I;16", (20, 20), 32768), "PNG"), name="a.png"))
        with Image.open(stored) as jpeg:
            self.assertAlmostEqual(jpeg.getpixel((5, 5))[0], 128, delta=2)

    def test_it_limits_the_long_side(self):
        stored = normalise_photo(upload(encode(Image.new("RGB", (3000, 1000), RED))))
        with Image.open(stored) as image:
            self.assertEqual(image.size, (2560, 853))

    def test_it_keeps_small_photos_at_their_size(self):
        with Image.open(normalise_photo(upload(encode(two_colour_image((40, 20)))))) as image:
            self.assertEqual(image.size, (40, 20))

    def test_it_is_deterministic(self):
        data = encode(two_colour_image(), exif=phone_exif())
        self.assertEqual(normalise_photo(upload(data)).read(), normalise_photo(upload(data)).read())

    def test_it_rejects_what_validation_rejects(self):
        with self.assertRaises(UploadRejected):
            normalise_photo(upload(b"not an image"))


class ThumbnailTests(SimpleTestCase):
    def test_it_makes_a_320_pixel_thumbnail(self):
        with Image.open(make_thumbnail(upload(encode(Image.new("RGB", (1000, 600), RED))))) as thumb:
            self.assertEqual((thumb.format, thumb.size), ("JPEG", (320, 192)))

    def test_it_honours_the_orientation(self):
        data = encode(two_colour_image((800, 400)), exif=phone_exif(orientation=6))
        with Image.open(make_thumbnail(upload(data))) as thumb:
            self.assertEqual(thumb.size, (160, 320))
            self.assertEqual(dict(thumb.getexif()), {})

    def test_it_takes_another_size(self):
        with Image.open(make_thumbnail(upload(encode(Image.new("RGB", (1000, 600)))), size=100)) as thumb:
            self.assertEqual(max(thumb.size), 100)


class UploadNameTests(SimpleTestCase):
    def test_it_names_the_same_content_the_same(self):
        data = encode(two_colour_image())
        first = validate_upload(upload(data, name="a.jpg"), kind="photo")
        second = validate_upload(upload(data, name="b.jpg"), kind="photo")
        other = validate_upload(upload(encode(two_colour_image((41, 20)))), kind="photo")
        self.assertEqual(photo_upload_name(first.sha256, "jpg"), photo_upload_name(second.sha256, "jpg"))
        self.assertNotEqual(photo_upload_name(first.sha256, "jpg"), photo_upload_name(other.sha256, "jpg"))

    def test_it_spreads_names_over_two_folder_levels(self):
        sha = "abcd" + "0" * 60
        self.assertEqual(photo_upload_name(sha, "jpg"), f"photos/ab/cd/{sha}.jpg")
        self.assertEqual(photo_upload_name(sha, ".JPG"), f"photos/ab/cd/{sha}.jpg")
        self.assertEqual(thumbnail_upload_name(sha), f"photos/ab/cd/{sha}.thumb.jpg")

    def test_it_refuses_anything_but_a_hash_and_an_extension(self):
        for sha, ext in (("../../etc/passwd", "jpg"), ("ABCD" + "0" * 60, "jpg"), ("a" * 64, "jpg/../x")):
            with self.subTest(sha=sha, ext=ext), self.assertRaises(ValueError):
                photo_upload_name(sha, ext)

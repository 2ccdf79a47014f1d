"""The portal's report page: photos, the three ways to give a location, categories, the SMS
code, nearby cases and following one, rate limits. Everything through the test client as a
phone without JavaScript would send it (plain form posts), except the fragment URLs report.js uses."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import time_machine
from django.conf import settings
from django.core.cache import cache
from django.core.files.storage import default_storage
from django.test import TestCase, override_settings
from django.utils import timezone
from PIL import Image

from civicgrid.cases.models import Attachment, Case
from civicgrid.cases.tests.fixtures import EAST_POINT, WEST_POINT, report
from civicgrid.geo import lookup
from civicgrid.notifications.models import NotificationSubscription
from civicgrid.portal.models import PhoneCode, Tracker
from civicgrid.portal.tests.helpers import PROVIDER, SENT, build_portal, jpeg, last_code, phone_photo

PHONE = "13912345678"


def media_files() -> set[str]:
    root = Path(settings.MEDIA_ROOT)
    return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()}


@override_settings(CIVICGRID_SMS_PROVIDER=PROVIDER)
class ReportTestCase(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.made = build_portal()

    def setUp(self):
        cache.clear()  # rate-limit counts
        lookup.invalidate()
        SENT.clear()
        self.road = self.made["category"]
        self.light = self.made["light"]

    def post(self, url="/p/report/", **fields):
        data = {"description": "路面有个大坑，电动车容易摔倒。", "category": self.road.pk}
        data.update(fields)
        data = {k: v for k, v in data.items() if v is not None}
        return self.client.post(url, data)

    def assertNothingWritten(self):
        self.assertEqual(Case.objects.count(), 0)
        self.assertEqual(Tracker.objects.count(), 0)
        self.assertEqual(Attachment.objects.count(), 0)

    def send_code(self, phone=PHONE) -> str:
        response = self.client.post("/p/otp/", {"phone": phone}, headers={"X-Requested-With": "fetch"})
        self.assertEqual(response.status_code, 200, response.content.decode())
        return last_code(phone)


class HomeTests(ReportTestCase):
    def test_it_offers_the_four_services(self):
        response = self.client.get("/p/")
        self.assertEqual(response.status_code, 200)
        for words in ("我要反映", "查询进度", "身边的案件", "月度数据"):
            self.assertContains(response, words)
        self.assertContains(response, 'href="/p/report/"')
        self.assertContains(response, 'href="/p/track/"')


class ReportFormTests(ReportTestCase):
    def test_it_shows_the_tiles_of_active_public_categories(self):
        self.light.is_public = False
        self.light.save()
        response = self.client.get("/p/report/")
        self.assertContains(response, "道路破损")
        self.assertNotContains(response, "路灯不亮")
        self.assertContains(response, 'type="file" name="photos" id="id_photos" accept="image/*" multiple')

    def test_it_reports_with_photos_and_a_point_and_gives_the_private_link(self):
        response = self.post(lon=EAST_POINT[0], lat=EAST_POINT[1], photos=[jpeg("red"), jpeg("blue")], name="王先生")
        self.assertRedirects(response, "/p/report/done/")
        case = Case.objects.get()
        self.assertEqual((case.channel, case.status, case.category_id), ("public", "verifying", self.road.pk))
        self.assertEqual(case.reporter_name, "王先生")
        self.assertIsNone(case.reporter_id)
        self.assertEqual(case.attachments.filter(kind=Attachment.Kind.BEFORE).count(), 2)
        tracker = Tracker.objects.get()
        self.assertEqual((tracker.case, tracker.kind, tracker.phone, tracker.notify), (case, "reporter", "", False))
        page = self.client.get("/p/report/done/")
        self.assertContains(page, case.number)
        self.assertContains(page, f"http://testserver/p/t/{tracker.token}/")
        self.assertContains(page, "请保存此链接")
        self.assertNotContains(page, "照片中记录的拍摄位置")

    def test_it_stores_the_photo_upright_without_gps_and_uses_its_gps_when_no_place_is_given(self):
        # The photo was taken at EAST_POINT; the citizen gave no location.
        response = self.post(photos=[phone_photo(*EAST_POINT)])
        self.assertRedirects(response, "/p/report/done/")
        case = Case.objects.get()
        self.assertAlmostEqual(case.lon, EAST_POINT[0], places=6)
        self.assertAlmostEqual(case.lat, EAST_POINT[1], places=6)
        self.assertContains(self.client.get("/p/report/done/"), "照片中记录的拍摄位置")
        stored = case.attachments.get()
        with default_storage.open(stored.file.name) as fh:
            image = Image.open(fh)
            image.load()
        self.assertEqual(image.size, (40, 80))  # turned upright
        top, bottom = image.getpixel((20, 5)), image.getpixel((20, 75))
        self.assertGreater(top[0], 200)  # red on top
        self.assertGreater(bottom[2], 200)  # blue below
        exif = image.getexif()
        self.assertNotIn(0x8825, exif)  # no GPS
        self.assertNotIn(0x0112, exif)  # no orientation flag
        self.assertNotIn(0x010F, exif)  # no phone make
        with default_storage.open(stored.file.name) as fh:
            self.assertNotIn(b"PhoneMaker", fh.read())

    def test_it_says_when_the_photos_gps_is_outside_the_county(self):
        response = self.post(photos=[phone_photo(113.9, 25.2)])
        self.assertContains(response, "照片里记录的拍摄位置不在本县城市管理范围内", status_code=400)
        self.assertNothingWritten()

    def test_it_prefers_the_given_point_to_the_photos_gps(self):
        self.post(lon=WEST_POINT[0], lat=WEST_POINT[1], photos=[phone_photo(*EAST_POINT)])
        case = Case.objects.get()
        self.assertAlmostEqual(case.lon, WEST_POINT[0], places=6)

    def test_it_refuses_more_than_six_photos(self):
        response = self.post(lon=EAST_POINT[0], lat=EAST_POINT[1], photos=[jpeg() for _ in range(7)])
        self.assertContains(response, "最多上传 6 张照片", status_code=400)
        self.assertNothingWritten()

    def test_it_refuses_a_file_that_is_not_an_image_and_writes_nothing(self):
        before = media_files()
        fake = jpeg()
        fake.file.seek(0)
        fake.file.write(b"#!/bin/sh\necho not a photo\n")
        fake.file.truncate()
        fake.file.seek(0)
        fake.size = fake.file.getbuffer().nbytes
        response = self.post(lon=EAST_POINT[0], lat=EAST_POINT[1], photos=[jpeg("red"), fake])
        self.assertContains(response, "文件不是有效的图片", status_code=400)
        self.assertNothingWritten()
        self.assertEqual(media_files(), before)

    def test_it_refuses_a_point_outside_the_county(self):
        response = self.post(lon=113.9, lat=25.2)
        self.assertContains(response, "不在本县城市管理范围内", status_code=400)
        self.assertNothingWritten()

    def test_it_says_photos_must_be_chosen_again_when_the_form_comes_back(self):
        response = self.post(lon=113.9, lat=25.2, photos=[jpeg()])
        self.assertContains(response, "照片需要重新选择", status_code=400)
        response = self.post(lon=113.9, lat=25.2)
        self.assertNotContains(response, "照片需要重新选择", status_code=400)

    def test_it_warns_at_once_when_a_tapped_point_is_outside_the_county(self):
        response = self.client.get("/p/report/nearby/", {"lon": 113.9, "lat": 25.2})
        self.assertContains(response, "不在本县城市管理范围内")
        response = self.client.get("/p/report/nearby/", {"lon": EAST_POINT[0], "lat": EAST_POINT[1]})
        self.assertNotContains(response, "不在本县城市管理范围内")

    def test_it_asks_for_a_location_a_category_and_a_description(self):
        response = self.post(category="", description="")
        self.assertContains(response, "请选择问题位置", status_code=400)
        self.assertContains(response, "请选择问题类型", status_code=400)
        self.assertContains(response, "请描述一下问题", status_code=400)
        self.assertNothingWritten()

    def test_it_refuses_a_category_that_is_not_public(self):
        response = self.post(lon=EAST_POINT[0], lat=EAST_POINT[1], category=self.made["internal"].pk)
        self.assertContains(response, "请选择问题类型", status_code=400)
        self.assertNothingWritten()

    def test_it_escapes_what_the_citizen_typed(self):
        response = self.post(category="", description="<script>alert(1)</script>", name="<b>x</b>")
        self.assertContains(response, "&lt;script&gt;alert(1)&lt;/script&gt;", status_code=400)
        self.assertNotContains(response, "<script>alert(1)", status_code=400)


class PlaceTests(ReportTestCase):
    """The path without a map: type a landmark, choose it from a list of radio buttons."""

    def test_it_lists_matching_places_in_a_plain_round_trip_and_reports_at_the_chosen_one(self):
        school = self.made["school"]
        response = self.post(find="place", place_q="一中", description="校门口路面破损")
        self.assertEqual(response.status_code, 200)
        self.assertContains(response, f'<input type="radio" name="place" value="place:{school.pk}"')
        self.assertContains(response, "崇义中学")
        self.assertContains(response, "校门口路面破损")  # what was typed is kept
        self.assertNothingWritten()

        response = self.post(place=f"place:{school.pk}", place_q="一中")
        self.assertRedirects(response, "/p/report/done/")
        case = Case.objects.get()
        self.assertEqual((case.lon, case.lat, case.address), (EAST_POINT[0], EAST_POINT[1], "崇义中学"))

    def test_it_finds_communities_and_grids_by_name(self):
        response = self.client.get("/p/report/places/", {"q": "东一"})
        self.assertContains(response, 'value="region:360725100001"')
        self.assertContains(response, "东一社区")
        response = self.client.get("/p/report/places/", {"q": "网格0001"})
        self.assertContains(response, 'value="grid:')
        self.post(place="region:360725100001")
        case = Case.objects.get()
        self.assertEqual(case.community.code, "360725100001")

    def test_it_says_when_nothing_matches(self):
        response = self.client.get("/p/report/places/", {"q": "火星基地"})
        self.assertContains(response, "没有找到“火星基地”")

    def test_it_leaves_out_inactive_places_and_refuses_an_unknown_key(self):
        self.made["school"].is_active = False
        self.made["school"].save()
        self.assertNotContains(self.client.get("/p/report/places/", {"q": "一中"}), "崇义中学")
        response = self.post(place="place:999999")
        self.assertContains(response, "没有找到这个地点", status_code=400)
        self.assertNothingWritten()

    def test_it_refuses_a_landmark_outside_the_county(self):
        from civicgrid.portal.models import Place

        far = Place.objects.create(name="省城火车站", lon=115.9, lat=28.7)
        response = self.post(place=f"place:{far.pk}")
        self.assertContains(response, "不在本县城市管理范围内", status_code=400)
        self.assertNothingWritten()


class CategorySearchTests(ReportTestCase):
    def test_it_searches_public_categories_in_a_plain_round_trip(self):
        response = self.post(find="category", category_q="道路", category="")
        self.assertEqual(response.status_code, 200)
        self.assertContains(response, f'<input type="radio" name="category" value="{self.road.pk}"')
        self.assertNotContains(response, "内部道路巡查")

    def test_it_answers_the_fragment_for_the_script(self):
        response = self.client.get("/p/report/categories/", {"q": "路灯"})
        self.assertContains(response, f'value="{self.light.pk}"')
        self.assertNotContains(response, "道路破损")


@override_settings(CIVICGRID_SMS_PROVIDER=PROVIDER)
class OtpTests(ReportTestCase):
    def test_it_sends_a_code_and_stores_only_its_hash(self):
        code = self.send_code()
        self.assertEqual(len(SENT), 1)
        self.assertRegex(code, r"^\d{6}$")
        stored = PhoneCode.objects.get()
        self.assertEqual(stored.phone, PHONE)
        self.assertNotIn(code, stored.code_hash)
        self.assertEqual(len(stored.code_hash), 64)
        self.assertAlmostEqual((stored.expires_at - stored.created_at).total_seconds(), 300)

    def test_it_refuses_a_number_that_is_not_a_mobile(self):
        response = self.client.post("/p/otp/", {"phone": "12345"})
        self.assertContains(response, "请填写正确的 11 位手机号", status_code=400)
        self.assertEqual(SENT, [])

    def test_it_sends_a_code_in_a_plain_round_trip_and_keeps_the_form(self):
        response = self.post(send_code="1", phone=PHONE, description="井盖松动")
        self.assertContains(response, "验证码已发送到 139****5678")
        self.assertContains(response, "井盖松动")
        self.assertEqual(len(SENT), 1)

    def test_it_takes_the_verified_phone(self):
        code = self.send_code()
        response = self.post(lon=EAST_POINT[0], lat=EAST_POINT[1], phone=PHONE, code=code)
        self.assertRedirects(response, "/p/report/done/")
        tracker = Tracker.objects.get()
        self.assertEqual((tracker.phone, tracker.phone_verified), (PHONE, True))
        self.assertEqual(tracker.case.reporter_phone, PHONE)
        self.assertIsNotNone(PhoneCode.objects.get().used_at)
        # The code works once.
        response = self.post(lon=EAST_POINT[0], lat=EAST_POINT[1], phone=PHONE, code=code)
        self.assertContains(response, "验证码已过期或未获取", status_code=400)
        self.assertEqual(Case.objects.count(), 1)

    def test_it_refuses_a_phone_without_a_code(self):
        response = self.post(lon=EAST_POINT[0], lat=EAST_POINT[1], phone=PHONE)
        self.assertContains(response, "请填写短信验证码", status_code=400)
        self.assertNothingWritten()

    def test_it_refuses_a_wrong_code_and_counts_the_try(self):
        code = self.send_code()
        wrong = f"{(int(code) + 1) % 1000000:06d}"
        response = self.post(lon=EAST_POINT[0], lat=EAST_POINT[1], phone=PHONE, code=wrong)
        self.assertContains(response, "验证码不正确，还可以再试 4 次", status_code=400)
        self.assertEqual(PhoneCode.objects.get().attempts, 1)
        self.assertNothingWritten()

    def test_it_refuses_an_expired_code(self):
        code = self.send_code()
        with time_machine.travel(timezone.now() + timedelta(minutes=5, seconds=1)):
            response = self.post(lon=EAST_POINT[0], lat=EAST_POINT[1], phone=PHONE, code=code)
        self.assertContains(response, "验证码已过期", status_code=400)
        self.assertNothingWritten()

    @override_settings(CIVICGRID_PORTAL_RATE_PER_PHONE="50/h")  # not the per-phone limit first
    def test_it_refuses_even_the_right_code_after_five_wrong_ones(self):
        code = self.send_code()
        wrong = f"{(int(code) + 1) % 1000000:06d}"
        for _n in range(5):
            self.post(lon=EAST_POINT[0], lat=EAST_POINT[1], phone=PHONE, code=wrong)
        response = self.post(lon=EAST_POINT[0], lat=EAST_POINT[1], phone=PHONE, code=code)
        self.assertContains(response, "验证码错误次数过多", status_code=400)
        self.assertNothingWritten()

    def test_a_new_code_replaces_the_old_one(self):
        first = self.send_code()
        second = self.send_code()
        if first != second:
            response = self.post(lon=EAST_POINT[0], lat=EAST_POINT[1], phone=PHONE, code=first)
            self.assertEqual(response.status_code, 400)
        response = self.post(lon=EAST_POINT[0], lat=EAST_POINT[1], phone=PHONE, code=second)
        self.assertRedirects(response, "/p/report/done/")

    def test_it_subscribes_the_verified_phone_when_asked(self):
        code = self.send_code()
        self.post(lon=EAST_POINT[0], lat=EAST_POINT[1], phone=PHONE, code=code, notify="1")
        case = Case.objects.get()
        subscription = NotificationSubscription.objects.get()
        self.assertEqual((subscription.case, subscription.phone), (case, PHONE))
        self.assertIs(Tracker.objects.get().notify, True)
        self.assertContains(self.client.get("/p/report/done/"), "139****5678")

    def test_it_does_not_subscribe_without_the_tick(self):
        code = self.send_code()
        self.post(lon=EAST_POINT[0], lat=EAST_POINT[1], phone=PHONE, code=code)
        self.assertEqual(NotificationSubscription.objects.count(), 0)

    def test_it_wants_a_phone_for_sms_progress(self):
        response = self.post(lon=EAST_POINT[0], lat=EAST_POINT[1], notify="1")
        self.assertContains(response, "接收办理进度短信需要填写并验证手机号", status_code=400)
        self.assertNothingWritten()


class NearbyTests(ReportTestCase):
    def setUp(self):
        super().setUp()
        # An open public report of the same category 0 m away, and one of another category.
        self.existing = report(self.made, channel="public", actor_key=None, description="路面塌陷")
        self.other = report(self.made, channel="public", actor_key=None, description="路灯坏了")
        Case.objects.filter(pk=self.other.pk).update(category=self.light)

    def nearby(self, point=EAST_POINT, **params):
        return self.client.get(
            "/p/report/nearby/", {"category": self.road.pk, "lon": point[0], "lat": point[1], **params}
        )

    def test_it_shows_nearby_open_cases_of_the_same_category(self):
        response = self.nearby()
        self.assertContains(response, self.existing.number)
        self.assertNotContains(response, self.other.number)
        self.assertContains(response, "关注这一件，不再重复上报")
        # Farther than 100 m, or closed, or older than 30 days: not shown.
        far = self.nearby(WEST_POINT)
        self.assertNotContains(far, self.existing.number)
        Case.objects.filter(pk=self.existing.pk).update(created_at=timezone.now() - timedelta(days=31))
        old = self.nearby()
        self.assertNotContains(old, self.existing.number)

    def test_it_leaves_out_closed_cases(self):
        school = f"place:{self.made['school'].pk}"
        by_place = {"category": self.road.pk, "place": school}
        self.assertContains(self.client.get("/p/report/nearby/", by_place), self.existing.number)
        Case.objects.filter(pk=self.existing.pk).update(status="closed")
        self.assertNotContains(self.client.get("/p/report/nearby/", by_place), self.existing.number)

    def test_a_plain_post_shows_them_before_reporting_and_reports_when_sent_again(self):
        response = self.post(lon=EAST_POINT[0], lat=EAST_POINT[1])
        self.assertEqual(response.status_code, 200)
        self.assertContains(response, self.existing.number)
        self.assertContains(response, 'name="nearby_checked" value="1"')
        self.assertEqual(Case.objects.count(), 2)
        response = self.post(lon=EAST_POINT[0], lat=EAST_POINT[1], nearby_checked="1")
        self.assertRedirects(response, "/p/report/done/")
        self.assertEqual(Case.objects.count(), 3)

    @override_settings(CIVICGRID_SMS_PROVIDER=PROVIDER)
    def test_following_creates_a_follower_tracker_and_goes_to_the_private_link(self):
        code = self.send_code()
        response = self.post(
            "/p/report/follow/", follow=self.existing.number, phone=PHONE, code=code, notify="1", description=""
        )
        tracker = Tracker.objects.get()
        self.assertRedirects(response, f"/p/t/{tracker.token}/", fetch_redirect_response=False)
        self.assertEqual((tracker.case, tracker.kind, tracker.phone_verified), (self.existing, "follower", True))
        self.assertEqual(NotificationSubscription.objects.get().case, self.existing)
        self.assertEqual(Case.objects.count(), 2)  # nothing reported again

    def test_following_without_a_phone_works_and_refuses_closed_cases(self):
        response = self.post(follow=self.existing.number)
        tracker = Tracker.objects.get()
        self.assertRedirects(response, f"/p/t/{tracker.token}/", fetch_redirect_response=False)
        self.assertEqual(tracker.phone, "")
        Case.objects.filter(pk=self.existing.pk).update(status="closed")
        response = self.post("/p/report/follow/", follow=self.existing.number)
        self.assertContains(response, "没有找到这件正在办理的案件", status_code=400)
        self.assertEqual(Tracker.objects.count(), 1)


class RateLimitTests(ReportTestCase):
    @override_settings(CIVICGRID_PORTAL_RATE_PER_IP="2/h")
    def test_it_answers_429_per_address_and_writes_nothing(self):
        self.post(category="")  # two refused forms still count
        self.post(category="")
        response = self.post(lon=EAST_POINT[0], lat=EAST_POINT[1], photos=[jpeg()])
        self.assertContains(response, "提交过于频繁", status_code=429)
        self.assertTrue(response["Retry-After"].isdigit())
        self.assertNothingWritten()
        # Another address is not affected.
        response = self.client.post(
            "/p/report/",
            {"description": "路面有坑", "category": self.road.pk, "lon": EAST_POINT[0], "lat": EAST_POINT[1]},
            REMOTE_ADDR="10.0.0.9",
        )
        self.assertRedirects(response, "/p/report/done/")

    @override_settings(CIVICGRID_PORTAL_RATE_PER_PHONE="1/h", CIVICGRID_SMS_PROVIDER=PROVIDER)
    def test_it_answers_429_per_phone(self):
        self.post(lon=EAST_POINT[0], lat=EAST_POINT[1], phone=PHONE, code="000000")
        code = self.send_code()
        response = self.post(lon=EAST_POINT[0], lat=EAST_POINT[1], phone=PHONE, code=code)
        self.assertEqual(response.status_code, 429)
        self.assertNothingWritten()

    @override_settings(CIVICGRID_PORTAL_OTP_PER_PHONE="2/h", CIVICGRID_SMS_PROVIDER=PROVIDER)
    def test_it_limits_codes_sent_to_one_phone(self):
        self.send_code()
        self.send_code()
        response = self.client.post("/p/otp/", {"phone": PHONE})
        self.assertContains(response, "获取验证码过于频繁", status_code=429)
        self.assertEqual(len(SENT), 2)

    @override_settings(CIVICGRID_PORTAL_RATE_PER_IP="1/h")
    def test_following_counts_too(self):
        existing = report(self.made, channel="public", actor_key=None)
        self.post("/p/report/follow/", follow=existing.number, category="")
        response = self.post("/p/report/follow/", follow=existing.number, category="")
        self.assertEqual(response.status_code, 429)
        self.assertEqual(Tracker.objects.count(), 1)


class RateParsingTests(TestCase):
    def test_it_reads_rates(self):
        from civicgrid.core.ratelimit import Rate, parse_rate

        self.assertEqual(parse_rate("20/h"), Rate(20, 3600))
        self.assertEqual(parse_rate("5/m"), Rate(5, 60))
        self.assertEqual(parse_rate("10/15m"), Rate(10, 900))
        self.assertIsNone(parse_rate(""))
        self.assertIsNone(parse_rate("0/h"))
        with self.assertRaises(ValueError):
            parse_rate("twenty an hour")

    def test_a_window_ends(self):
        from civicgrid.core.ratelimit import Rate, rate_hit

        cache.clear()
        rate = Rate(1, 60)
        self.assertIs(rate_hit("t", "a", rate, now=120.0), True)
        self.assertIs(rate_hit("t", "a", rate, now=150.0), False)
        self.assertIs(rate_hit("t", "b", rate, now=150.0), True)
        self.assertIs(rate_hit("t", "a", rate, now=181.0), True)


class SeedTests(TestCase):
    def test_it_seeds_the_default_tiles_whose_categories_exist_once(self):
        from civicgrid.catalog.models import Category, Kind
        from civicgrid.portal.models import CategoryTile
        from civicgrid.portal.services import tiles_seed

        road = Category.objects.create(key="gbt:06013", kind=Kind.EVENT, name="道路破损")
        Category.objects.create(key="gbt:09006", kind=Kind.EVENT, name="占道经营", is_public=False)
        self.assertEqual(tiles_seed(), 1)
        tile = CategoryTile.objects.get()
        self.assertEqual((tile.label, tile.category), ("道路破损", road))
        self.assertEqual(tiles_seed(), 0)  # an admin's tiles are never added to

    def test_it_skips_demo_landmarks_outside_the_managed_area(self):
        from civicgrid.portal.models import Place
        from civicgrid.portal.services import portal_demo_ensure

        # The test county lies south-west of the demo's town centre: no landmark falls in it.
        build_portal()
        lookup.invalidate()
        portal_demo_ensure()
        self.assertEqual(list(Place.objects.values_list("name", flat=True)), ["崇义中学"])


class AdminTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.made = build_portal()

    def setUp(self):
        lookup.invalidate()
        self.client.force_login(self.made["admin"])

    def test_it_lets_staff_edit_tiles_and_places(self):
        for url in ("/admin/portal/categorytile/", "/admin/portal/categorytile/add/", "/admin/portal/place/add/"):
            self.assertEqual(self.client.get(url).status_code, 200, url)
        response = self.client.post(
            "/admin/portal/categorytile/add/",
            {"label": "路灯坏了", "hint": "", "category": self.made["light"].pk, "order": 5, "is_active": "on"},
        )
        self.assertEqual(response.status_code, 302)
        self.assertContains(self.client.get("/p/report/"), "路灯坏了")

    def test_it_refuses_a_place_outside_the_managed_area(self):
        response = self.client.post(
            "/admin/portal/place/add/",
            {"name": "省城", "aliases": "", "lon": "115.9", "lat": "28.7", "is_active": "on"},
        )
        self.assertContains(response, "该坐标不在管理区域内")
        response = self.client.post(
            "/admin/portal/place/add/",
            {
                "name": "东一菜场",
                "aliases": "菜场",
                "lon": str(EAST_POINT[0]),
                "lat": str(EAST_POINT[1]),
                "is_active": "on",
            },
        )
        self.assertEqual(response.status_code, 302)

"""The GeoReport v2 contract, checked by the standalone client (tests/client.py), once in XML and
once in JSON: every test of ContractTests runs in both formats. ContractTests send the client's
bytes through Django's test client (each test rolls back); LiveConversation runs the same client
over real HTTP against a live server.

The people and the county are the cases tests' (civicgrid.cases.tests.fixtures): Ivy is the
east street's inspector, Otto an operator. Two services are public: 道路破损 (group 道路设施),
whose definition asks one question of each of the six datatypes, and 占道经营 (no questions);
内部巡查 is not offered to the public.
"""

from __future__ import annotations

import dataclasses
import io
import logging
import unittest
import urllib.parse
from datetime import UTC, datetime, timedelta

import orjson
from django.db import connection, transaction
from django.test import LiveServerTestCase, TestCase, override_settings
from django.utils import timezone
from PIL import Image

from civicgrid.cases import reference
from civicgrid.cases.models import Case
from civicgrid.cases.services import ActInput, case_act
from civicgrid.cases.tests.fixtures import EAST_POINT, build_people
from civicgrid.catalog.models import Category, Kind
from civicgrid.geo import lookup
from civicgrid.open311 import selectors
from civicgrid.open311.formats import _jsonable, to_json
from civicgrid.open311.models import App, ServiceAttribute, Submission
from civicgrid.open311.tests.client import Client

LAT, LONG = EAST_POINT[1], EAST_POINT[0]
ATTRIBUTES = [
    # code, datatype, required, values
    ("depth", "number", True, []),
    ("plate", "string", False, []),
    ("seen_at", "datetime", False, []),
    ("details", "text", False, []),
    ("size", "singlevaluelist", True, [{"key": "s", "name": "小于1平方米"}, {"key": "l", "name": "大于1平方米"}]),
    ("hazards", "multivaluelist", False, [{"key": "car", "name": "影响车辆"}, {"key": "walk", "name": "影响行人"}]),
]


def jpeg(size=(64, 48)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, "red").save(buffer, "JPEG")
    return buffer.getvalue()


def build_world() -> dict:
    made = build_people()
    road = made["category"]
    road.major_name = "道路设施"
    road.save()
    for order, (code, datatype, required, values) in enumerate(ATTRIBUTES, start=1):
        ServiceAttribute.objects.create(
            category=road,
            code=code,
            datatype=datatype,
            required=required,
            order=order,
            description=f"问题 {code}",
            values=values,
        )
    ServiceAttribute.objects.create(
        category=road, code="note", variable=False, order=99, description="请注意安全，不要靠近坑洞。"
    )
    made["vending"] = Category.objects.create(
        key="local:vending", kind=Kind.EVENT, name="占道经营", major_name="市容环境"
    )
    made["internal"] = Category.objects.create(key="local:internal", kind=Kind.EVENT, name="内部巡查", is_public=False)
    made["app"] = App(name="市民随手拍")
    made["key"] = made["app"].issue_key()
    made["app"].save()
    return made


def django_client_transport(django_client):
    """Requests through Django's test client, answered as raw bytes: the same wire format as
    HTTP, without a server thread (so each test can roll back instead of flushing tables)."""

    def send(method: str, url: str, body: bytes | None, content_type: str | None) -> tuple[int, dict, bytes]:
        parts = urllib.parse.urlsplit(url)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        response = django_client.generic(method, path, data=body or b"", content_type=content_type or "")
        raw = b"".join(response.streaming_content) if response.streaming else response.content
        return response.status_code, dict(response.items()), raw

    return send


class Open311Mixin:
    fmt = "xml"

    def use_world(self, made: dict, base_url: str, transport=None) -> None:
        lookup.invalidate()
        reference.clear()
        self.made = made
        self.road, self.vending, self.internal = made["category"], made["vending"], made["internal"]
        self.app, self.key = made["app"], made["key"]
        self.base_url = base_url
        self.client311 = Client(base_url, self.fmt, api_key=self.key, transport=transport)

    def post(self, service_code=None, *, attributes=None, **fields):
        fields.setdefault("lat", LAT)
        fields.setdefault("long", LONG)
        fields.setdefault("description", "人行道上有一个大坑")
        if attributes is None and service_code is None:
            attributes = {"depth": "12.5", "size": "l"}
        return self.client311.post_request(
            str(self.road.pk) if service_code is None else service_code, attributes=attributes, **fields
        )

    def posted_id(self, **kwargs) -> str:
        response = self.post(**kwargs)
        self.assertEqual(response.status, 200, response.raw)
        return response.data[0]["service_request_id"]

    def assertError(self, response, status: int, *fragments: str):
        self.assertEqual(response.status, status, response.raw)
        self.assertTrue(response.errors, response.raw)
        descriptions = " | ".join(error["description"] for error in response.errors)
        for fragment in fragments:
            self.assertIn(fragment, descriptions)
        return response.errors


class ContractTests(Open311Mixin):
    """The whole contract, through the standalone client; mixed into a TestCase with `fmt` set."""

    @classmethod
    def setUpTestData(cls):
        cls.world = build_world()

    def setUp(self):
        super().setUp()
        self.use_world(self.world, "http://testserver/open311/v2", transport=django_client_transport(self.client))

    #
    # Discovery and services
    #

    def test_it_describes_itself_in_discovery(self):
        response = self.client311.discovery()
        self.assertIn("charset=utf-8", response.content_type)
        data = response.data
        self.assertEqual(set(data), {"changeset", "contact", "key_service", "endpoints"})
        [endpoint] = data["endpoints"]
        self.assertEqual(endpoint["specification"], "http://wiki.open311.org/GeoReport_v2")
        self.assertEqual(endpoint["url"], self.base_url)
        self.assertEqual(endpoint["type"], "production")
        self.assertEqual(endpoint["formats"], ["text/xml", "application/json"])
        # The endpoint it names is the one that answers.
        self.assertEqual(Client(endpoint["url"], self.fmt, transport=self.client311.transport).services().status, 200)

    def test_it_lists_the_public_categories_as_services(self):
        response = self.client311.services()
        self.assertEqual(response.status, 200)
        by_code = {service["service_code"]: service for service in response.data}
        self.assertEqual(set(by_code), {str(self.road.pk), str(self.vending.pk)})
        road = by_code[str(self.road.pk)]
        self.assertEqual(
            list(road), ["service_code", "service_name", "description", "metadata", "type", "keywords", "group"]
        )
        self.assertEqual((road["service_name"], road["group"], road["metadata"]), ("道路破损", "道路设施", "true"))
        self.assertEqual(road["type"], "realtime")
        self.assertEqual(by_code[str(self.vending.pk)]["metadata"], "false")

    def test_it_defines_a_service_with_all_six_datatypes(self):
        response = self.client311.service_definition(str(self.road.pk))
        self.assertEqual(response.status, 200)
        self.assertEqual(response.data["service_code"], str(self.road.pk))
        attributes = response.data["attributes"]
        self.assertEqual(
            [(a["code"], a["datatype"], a["required"], a["order"]) for a in attributes],
            [(c, d, "true" if r else "false", str(i)) for i, (c, d, r, _v) in enumerate(ATTRIBUTES, start=1)]
            + [("note", "string", "false", "99")],
        )
        self.assertEqual(
            attributes[4]["values"], [{"key": "s", "name": "小于1平方米"}, {"key": "l", "name": "大于1平方米"}]
        )
        self.assertEqual(attributes[0]["values"], [])
        self.assertEqual([a["variable"] for a in attributes], ["true"] * 6 + ["false"])

    def test_it_answers_404_for_an_unknown_or_private_service(self):
        for code in ("999999", "abc", str(self.internal.pk)):
            self.assertError(self.client311.service_definition(code), 404, "not found")

    #
    # POST requests
    #

    def test_it_creates_a_public_channel_case(self):
        response = self.post(first_name="明", last_name="王", phone="13800001111", email="wang@example.com")
        self.assertEqual(response.status, 200)
        [item] = response.data
        self.assertIn("service_request_id", item)
        self.assertNotIn("token", item)  # realtime: an id, never both
        case = Case.objects.get(number=item["service_request_id"])
        self.assertEqual((case.channel, case.status, case.category_id), ("public", "verifying", self.road.pk))
        self.assertEqual((case.reporter_name, case.reporter_phone, case.reporter_id), ("王 明", "13800001111", None))
        self.assertEqual(case.open311_submission.app, self.app)
        self.assertEqual(case.open311_submission.attributes, {"depth": "12.5", "size": "l"})

    def test_it_reads_both_attribute_encodings(self):
        number = self.posted_id(
            attributes={
                "depth": "3",
                "size": "s",
                "hazards": ["car", "walk"],
                "plate": "赣B12345",
                "seen_at": "2026-11-30T08:00:00+08:00",
                "details": "第一行\n第二行",
            }
        )
        answers = Submission.objects.get(case__number=number).attributes
        self.assertEqual(answers["hazards"], ["car", "walk"])
        self.assertEqual(answers["details"], "第一行\n第二行")
        [item] = self.client311.request(number, extensions="true").data
        values = {a["code"]: a["value"] for a in item["attributes"]}
        self.assertEqual(values["hazards"], "car,walk")
        self.assertEqual(values["size"], "s")
        size = next(a for a in item["attributes"] if a["code"] == "size")
        self.assertEqual((size["label"], size["name"]), ("问题 size", "size"))

    def test_it_answers_400_for_a_missing_required_attribute(self):
        errors = self.assertError(self.post(attributes={"size": "s"}), 400, "attribute[depth] is required")
        self.assertEqual(errors[0]["code"], "400")
        self.assertEqual(Case.objects.count(), 0)

    def test_it_answers_every_bad_attribute_at_once(self):
        response = self.post(
            attributes={
                "depth": "deep",
                "size": "xl",
                "hazards": ["car", "boat"],
                "seen_at": "yesterday",
                "plate": "two\nlines",
            }
        )
        errors = self.assertError(
            response,
            400,
            "attribute[depth] must be a number",
            "attribute[size]: xl is not one of the values",
            "attribute[hazards]: boat",
            "attribute[seen_at] must be an ISO 8601",
            "attribute[plate] must be a single line",
        )
        self.assertEqual(len(errors), 5)

    def test_it_answers_403_without_a_valid_api_key(self):
        self.assertError(self.post(api_key=None), 403, "api_key is required")
        self.assertError(self.post(api_key="cg311_not-a-key"), 403, "invalid")
        self.app.is_active = False
        self.app.save()
        self.assertError(self.post(), 403, "invalid")
        self.assertEqual(Case.objects.count(), 0)

    def test_it_refuses_an_api_key_in_the_url(self):
        url = f"{self.client311.base_url}/requests.{self.fmt}?api_key={self.key}"
        body = f"service_code={self.road.pk}&lat={LAT}&long={LONG}&attribute[depth]=1&attribute[size]=s".encode()
        self.assertError(self.client311.send("POST", url, body, "application/x-www-form-urlencoded"), 403, "body")

    def test_it_never_logs_the_api_key(self):
        with self.assertLogs(level=logging.DEBUG) as logs:
            logging.getLogger("civicgrid").debug("start")
            self.post(api_key=self.key + "x")
            self.post(service_code="999999")
            self.post()
        self.assertNotIn(self.key, "\n".join(logs.output))

    def test_it_answers_400_for_a_bad_location(self):
        for fields, fragment in [
            ({"lat": "north", "long": LONG}, "lat is not a WGS84 latitude"),
            ({"lat": "91", "long": LONG}, "lat is not a WGS84 latitude"),
            ({"lat": LAT, "long": "-181"}, "long is not a WGS84 longitude"),
            ({"lat": LAT, "long": ""}, "lat and long must be sent together"),
            ({"lat": "", "long": ""}, "a location is required"),
            ({"lat": 39.9, "long": 116.4}, "lat/long"),  # Beijing: outside this county's grids
        ]:
            with self.subTest(fields=fields):
                self.assertError(self.post(**fields), 400, fragment)
        self.assertEqual(Case.objects.count(), 0)

    def test_it_places_an_address_without_coordinates_in_the_named_community(self):
        number = self.posted_id(lat="", long="", address_string="崇义县西街道西一社区文化路口")
        case = Case.objects.get(number=number)
        self.assertEqual((case.community.name, case.address), ("西一社区", "崇义县西街道西一社区文化路口"))
        self.assertError(self.post(lat="", long="", address_string="北京市东城区"), 400, "address_string")

    def test_it_accepts_4000_characters_of_description_and_no_more(self):
        self.posted_id(description="坑" * 4000)
        self.assertError(self.post(description="坑" * 4001), 400, "4000")

    def test_it_keeps_control_characters_out_of_the_answers(self):
        number = self.posted_id(description="井盖\x0b松动\x01")
        self.assertEqual(Case.objects.get(number=number).description, "井盖松动")
        # A case from another channel with one still reads as valid XML and JSON.
        Case.objects.filter(number=number).update(description="井盖\x0c松动")
        self.assertEqual(
            self.client311.request(number).data[0]["description"], "井盖松动" if self.fmt == "xml" else "井盖\x0c松动"
        )

    def test_it_answers_404_for_an_unknown_service(self):
        self.assertError(self.post(service_code="999999"), 404, "service_code 999999 not found")
        self.assertError(self.post(service_code=str(self.internal.pk)), 404, "not found")

    def test_it_answers_400_without_a_service_code(self):
        self.assertError(self.post(service_code=""), 400, "service_code is required")

    def test_it_takes_photos_as_multipart_media(self):
        response = self.client311.post_request(
            str(self.vending.pk),
            lat=LAT,
            long=LONG,
            description="门口摆摊",
            media=[("a.jpg", jpeg(), "image/jpeg"), ("b.jpg", jpeg((32, 32)), "image/jpeg")],
        )
        self.assertEqual(response.status, 200, response.raw)
        number = response.data[0]["service_request_id"]
        self.assertEqual(Case.objects.get(number=number).attachments.count(), 2)
        [item] = self.client311.request(number, extensions="true").data
        self.assertEqual(len(item["extended_attributes"]["media_urls"]), 2)
        self.assertEqual(item["media_url"], item["extended_attributes"]["media_urls"][0])
        status, headers, content = self.client311.fetch(item["media_url"])
        self.assertEqual((status, headers["Content-Type"], content[:3]), (200, "image/jpeg", b"\xff\xd8\xff"))

    def test_it_takes_a_photo_sent_as_a_media_field(self):
        # Some clients name the file field "media" (no brackets): a hand-built multipart body.
        boundary = "b0undary"
        fields = {"api_key": self.key, "service_code": str(self.vending.pk), "lat": LAT, "long": LONG}
        body = b"".join(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
            for name, value in fields.items()
        )
        body += (
            (
                f'--{boundary}\r\nContent-Disposition: form-data; name="media"; filename="x.jpg"\r\n'
                "Content-Type: image/jpeg\r\n\r\n"
            ).encode()
            + jpeg()
            + f"\r\n--{boundary}--\r\n".encode()
        )
        response = self.client311.send(
            "POST", f"{self.base_url}/requests.{self.fmt}", body, f"multipart/form-data; boundary={boundary}"
        )
        self.assertEqual(response.status, 200, response.raw)
        self.assertEqual(Case.objects.get(number=response.data[0]["service_request_id"]).attachments.count(), 1)

    def test_it_checks_media_by_content_type_and_size(self):
        fields = {"lat": LAT, "long": LONG, "description": "门口摆摊"}
        code = str(self.vending.pk)
        self.assertError(
            self.client311.post_request(code, media=[("a.pdf", b"%PDF-1.4", "application/pdf")], **fields), 400, "media"
        )
        self.assertError(
            self.client311.post_request(code, media=[("a.jpg", b"not a jpeg", "image/jpeg")], **fields), 400, "media"
        )
        with override_settings(CIVICGRID_MAX_PHOTO_BYTES=100):
            self.assertError(
                self.client311.post_request(code, media=[("a.jpg", jpeg(), "image/jpeg")], **fields), 400, "media"
            )
        self.assertEqual(Case.objects.count(), 0)

    def test_it_keeps_a_given_media_url(self):
        number = self.posted_id(media_url="https://img.example.com/p/1.jpg")
        self.assertEqual(self.client311.request(number).data[0]["media_url"], "https://img.example.com/p/1.jpg")
        self.assertError(self.post(media_url="javascript:alert(1)"), 400, "media_url")

    @override_settings(CIVICGRID_OPEN311_POSTS_PER_IP=2)
    def test_it_limits_posts_per_address(self):
        self.posted_id()
        self.posted_id()
        response = self.post()
        errors = self.assertError(response, 400, "Too many requests")
        self.assertEqual(errors[0]["code"], "429")
        self.assertEqual(response.headers["Retry-After"], "3600")

    #
    # GET requests and GET one request
    #

    def test_the_json_of_request_pages_is_the_spec_mapping_without_a_pass(self):
        # Request pages skip the mapping's pass over every value (empty text → null): their
        # documents must hold no empty text anywhere, with or without the extensions.
        self.posted_id(media=[("a.jpg", jpeg(), "image/jpeg")])
        number = self.posted_id(address_string="")
        # Empty answers as an older client may have stored them (a text, a multi-value list).
        Submission.objects.filter(case__number=number).update(attributes={"depth": "3", "size": "", "hazards": []})
        Case.objects.filter(number=number).update(description="", address="")
        rows = selectors.request_rows(selectors.published_cases().order_by("id"), extensions=True)
        for extensions in (False, True):
            with self.subTest(extensions=extensions):
                documents = selectors.request_documents(rows, absolute=lambda path: path, extensions=extensions)
                self.assertGreaterEqual(len(documents.items), 2)
                mapped = orjson.dumps(_jsonable(dataclasses.replace(documents, clean=False)))
                self.assertEqual(to_json(documents), mapped)
                self.assertIn(b'"zipcode":null', mapped)

    def test_it_shows_one_request_with_the_spec_fields(self):
        number = self.posted_id()
        response = self.client311.request(number)
        self.assertEqual(response.status, 200)
        [item] = response.data
        self.assertEqual(
            list(item),
            [
                "service_request_id",
                "status",
                "status_notes",
                "service_name",
                "service_code",
                "description",
                "agency_responsible",
                "service_notice",
                "requested_datetime",
                "updated_datetime",
                "expected_datetime",
                "address",
                "address_id",
                "zipcode",
                "lat",
                "long",
                "media_url",
            ],
        )
        self.assertEqual(
            (item["status"], item["service_code"], item["service_name"]), ("open", str(self.road.pk), "道路破损")
        )
        self.assertEqual((float(item["lat"]), float(item["long"])), (LAT, LONG))
        requested = datetime.fromisoformat(item["requested_datetime"])
        self.assertIsNotNone(requested.tzinfo)
        self.assertLess(abs(requested - timezone.now()), timedelta(minutes=1))
        # The stored instant to the second, in the server's time zone (Asia/Shanghai).
        created = Case.objects.get(number=item["service_request_id"]).created_at
        self.assertEqual(requested, created.replace(microsecond=0))
        self.assertTrue(item["requested_datetime"].endswith("+08:00"), item["requested_datetime"])

    def test_it_answers_404_for_an_unknown_request(self):
        self.assertError(self.client311.request("360725-2026-999999"), 404, "not found")

    def test_it_maps_closing_statuses_to_closed_with_notes_and_a_detailed_status(self):
        number = self.posted_id()
        case = Case.objects.get(number=number)
        case = case_act(
            case_id=case.pk, data=ActInput("verify_deny", case.version, note="现场无此问题"), actor=self.made["ivy"]
        )
        case_act(
            case_id=case.pk, data=ActInput("reject", case.version, note="王先生说不用管了"), actor=self.made["otto"]
        )
        [plain] = self.client311.request(number).data
        self.assertEqual(plain["status"], "closed")
        self.assertNotIn("notes", plain)
        [item] = self.client311.request(number, extensions="true").data
        self.assertEqual(item["detailed_status"], "REJECTED")
        self.assertEqual([note["type"] for note in item["notes"]], ["opened", "status_change", "status_change"])
        self.assertEqual(item["notes"][2]["description"], "不予立案")
        self.assertEqual(item["notes"][1]["description"], "核实不属实（待立案）")
        self.assertNotIn("王先生", " ".join(note["description"] for note in item["notes"]))  # staff notes stay inside
        self.assertEqual(self.client311.requests(status="closed").data[0]["service_request_id"], number)
        self.assertEqual(self.client311.requests(status="open").data, [])

    def test_it_filters_by_id_list_overriding_every_other_filter(self):
        first, second, _third = self.posted_id(), self.posted_id(), self.posted_id()
        data = self.client311.requests(service_request_id=f"{first},{second}", status="closed", service_code="999").data
        self.assertEqual({item["service_request_id"] for item in data}, {first, second})

    def test_it_filters_by_service_code_list_and_status(self):
        road = self.posted_id()
        vending = self.posted_id(service_code=str(self.vending.pk), attributes={})
        self.assertEqual(
            [i["service_request_id"] for i in self.client311.requests(service_code=str(self.vending.pk)).data],
            [vending],
        )
        both = self.client311.requests(service_code=f"{self.road.pk},{self.vending.pk}", status="open,closed").data
        self.assertEqual({i["service_request_id"] for i in both}, {road, vending})
        self.assertError(self.client311.requests(status="pending"), 400, "status")

    def test_it_keeps_date_ranges_within_90_days(self):
        number = self.posted_id()
        now = timezone.now()
        self.assertError(
            self.client311.requests(start_date="2026-01-01T00:00:00Z", end_date="2026-04-02T00:00:00Z"), 400, "90 days"
        )
        ok = self.client311.requests(start_date="2026-01-01T00:00:00Z", end_date="2026-03-31T00:00:00+08:00")
        self.assertEqual((ok.status, ok.data), (200, []))
        around = self.client311.requests(
            start_date=(now - timedelta(hours=1)).isoformat(), end_date=(now + timedelta(hours=1)).isoformat()
        )
        self.assertEqual([i["service_request_id"] for i in around.data], [number])
        self.assertError(self.client311.requests(start_date="2026-11-30"), 400, "time zone")
        self.assertError(
            self.client311.requests(start_date="2026-03-01T00:00:00Z", end_date="2026-02-01T00:00:00Z"), 400, "after"
        )

    def test_it_defaults_to_the_most_recent_90_days(self):
        recent = self.posted_id()
        old = self.posted_id()
        Case.objects.filter(number=old).update(created_at=timezone.now() - timedelta(days=91))
        self.assertEqual([i["service_request_id"] for i in self.client311.requests().data], [recent])
        # A start_date alone covers the 90 days from it.
        start = (timezone.now() - timedelta(days=92)).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        self.assertEqual([i["service_request_id"] for i in self.client311.requests(start_date=start).data], [old])

    @override_settings(CIVICGRID_OPEN311_MAX_REQUESTS=3)
    def test_it_caps_the_answer_and_pages_through_the_rest(self):
        numbers = [self.posted_id() for _ in range(5)]
        newest_first = numbers[::-1]
        self.assertEqual([i["service_request_id"] for i in self.client311.requests().data], newest_first[:3])
        self.assertEqual(len(self.client311.requests(page_size="50").data), 3)
        self.assertEqual(
            [i["service_request_id"] for i in self.client311.requests(page_size="2", page="2").data], newest_first[2:4]
        )
        self.assertError(self.client311.requests(page="0"), 400, "page")

    def test_it_filters_by_update_time(self):
        old, changed = self.posted_id(), self.posted_id()
        long_ago = timezone.now() - timedelta(days=200)
        Case.objects.filter(number__in=[old, changed]).update(created_at=long_ago, updated_at=long_ago)
        Case.objects.filter(number=changed).update(updated_at=timezone.now())
        since = (timezone.now() - timedelta(days=1)).isoformat()
        # A change feed reaches requests older than the 90-day window.
        self.assertEqual(
            [i["service_request_id"] for i in self.client311.requests(updated_after=since).data], [changed]
        )
        self.assertEqual([i["service_request_id"] for i in self.client311.requests(updated_before=since).data], [old])

    def test_it_reads_a_page_in_a_constant_number_of_queries(self):
        self.posted_id()
        # Cases, their photos, notes and questions; on PostgreSQL also the list's plan setting
        # (open311.selectors.request_rows) with its savepoint and release inside the test's transaction.
        queries = 4 + (3 if connection.vendor == "postgresql" else 0)
        with self.assertNumQueries(queries):
            self.client311.requests(extensions="true")
        for _ in range(3):
            self.posted_id()
        with self.assertNumQueries(queries):
            self.assertEqual(len(self.client311.requests(extensions="true").data), 4)

    def test_it_answers_400_for_an_unsupported_method(self):
        response = self.client311.send("DELETE", f"{self.base_url}/services.{self.fmt}")
        errors = self.assertError(response, 400, "DELETE")
        self.assertEqual(errors[0]["code"], "405")

    def test_it_shows_the_handling_unit_as_agency_responsible(self):
        number = self.posted_id()
        Case.objects.filter(number=number).update(handling_unit=self.made["municipal"])
        self.assertEqual(self.client311.request(number).data[0]["agency_responsible"], "市政所")

    #
    # Tokens, jurisdictions, unknown paths
    #

    def test_it_resolves_a_token(self):
        number = self.posted_id()
        token = Submission.objects.get(case__number=number).token
        self.assertEqual(self.client311.token(token).data, [{"service_request_id": number, "token": token}])
        self.assertError(self.client311.token("0" * 32), 404, "not found")

    @override_settings(CIVICGRID_OPEN311_JURISDICTION_ID="chongyi.gov.cn")
    def test_it_answers_404_for_another_jurisdiction(self):
        self.assertEqual(self.client311.services(jurisdiction_id="chongyi.gov.cn").status, 200)
        self.assertEqual(self.client311.services().status, 200)
        self.assertError(self.client311.services(jurisdiction_id="sfgov.org"), 404, "jurisdiction_id")
        self.assertError(self.post(jurisdiction_id="sfgov.org"), 404, "jurisdiction_id")

    def test_it_answers_the_error_body_for_an_unknown_path(self):
        self.assertError(self.client311.get("reports"), 404, "not a resource")


class XmlContractTests(ContractTests, TestCase):
    fmt = "xml"


class JsonContractTests(ContractTests, TestCase):
    fmt = "json"


class LiveConversation(Open311Mixin):
    """A client talking to a real server over HTTP, as an outside app would: the whole
    conversation in one test, and every error path in another (a live server's tests flush the
    tables after each test, which costs about a second on PostgreSQL)."""

    def setUp(self):
        super().setUp()
        with transaction.atomic():
            made = build_world()
        self.use_world(made, f"{self.live_server_url}/open311/v2")

    def test_a_client_walks_the_whole_contract(self):
        client = self.client311
        [endpoint] = client.discovery().data["endpoints"]
        self.assertEqual(endpoint["url"], self.base_url)
        services = {s["service_code"]: s for s in client.services().data}
        self.assertEqual(services[str(self.road.pk)]["metadata"], "true")
        definition = client.service_definition(str(self.road.pk)).data
        required = [a["code"] for a in definition["attributes"] if a["required"] == "true"]
        self.assertEqual(required, ["depth", "size"])
        posted = client.post_request(
            str(self.road.pk),
            lat=LAT,
            long=LONG,
            description="人行道上有一个大坑\n靠近学校",
            attributes={"depth": "5", "size": "s", "hazards": ["car", "walk"]},
            media=[("pit.jpg", jpeg(), "image/jpeg")],
        )
        self.assertEqual(posted.status, 200, posted.raw)
        number = posted.data[0]["service_request_id"]
        listed = client.requests(service_code=str(self.road.pk), status="open").data
        self.assertEqual([r["service_request_id"] for r in listed], [number])
        [one] = client.request(number, extensions="true").data
        self.assertEqual((one["status"], one["detailed_status"]), ("open", "PENDING"))
        self.assertEqual(one["description"], "人行道上有一个大坑\n靠近学校")
        self.assertEqual({a["code"]: a["value"] for a in one["attributes"]}["hazards"], "car,walk")
        self.assertEqual([note["type"] for note in one["notes"]], ["opened"])
        status, headers, content = client.fetch(one["media_url"])
        self.assertEqual((status, headers["Content-Type"], content[:3]), (200, "image/jpeg", b"\xff\xd8\xff"))
        token = Submission.objects.get(case__number=number).token
        self.assertEqual(client.token(token).data, [{"service_request_id": number, "token": token}])

    def test_a_client_gets_every_error_body(self):
        self.assertError(self.client311.service_definition("999999"), 404, "not found")
        self.assertError(self.post(service_code="999999"), 404, "not found")
        self.assertError(self.post(api_key=None), 403, "api_key")
        self.assertError(self.post(api_key="wrong"), 403, "api_key")
        self.assertError(
            self.client311.requests(start_date="2026-01-01T00:00:00Z", end_date="2026-06-01T00:00:00Z"), 400, "90 days"
        )
        self.assertError(self.post(lat="north"), 400, "lat")
        self.assertError(self.post(attributes={"size": "s"}), 400, "attribute[depth] is required")
        self.assertError(self.client311.request("nope"), 404, "not found")
        self.assertError(self.client311.get("nothing/here"), 404, "not a resource")


class LiveXmlTests(LiveConversation, LiveServerTestCase):
    fmt = "xml"


class LiveJsonTests(LiveConversation, LiveServerTestCase):
    fmt = "json"


@unittest.skipUnless(connection.vendor == "postgresql", "prepared statements' plans are PostgreSQL's")
class PlanTests(Open311Mixin, TestCase):
    """A request list is planned for its own values every time: a prepared statement's generic
    plan, taken from the sixth request on, read a category's every case of the 90 days."""

    fmt = "json"

    @classmethod
    def setUpTestData(cls):
        cls.world = build_world()

    def test_request_lists_are_never_run_with_a_generic_plan(self):
        self.use_world(self.world, "http://testserver/open311/v2", transport=django_client_transport(self.client))
        self.posted_id()
        with connection.cursor() as cursor:
            # As PostgreSQL decides by itself on a large table (here: for this test's transaction).
            cursor.execute("SET plan_cache_mode = force_generic_plan")
        for _ in range(8):  # past DB_PREPARE_THRESHOLD
            self.assertEqual(self.client311.requests(service_code=str(self.road.pk)).status, 200)
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT COALESCE(SUM(generic_plans), 0), COALESCE(SUM(custom_plans), 0) FROM pg_prepared_statements"
                " WHERE statement LIKE %s",
                ["%open311_submission%LIMIT%"],
            )
            generic, custom = cursor.fetchone()
        self.assertGreater(custom, 0)
        self.assertEqual(generic, 0)

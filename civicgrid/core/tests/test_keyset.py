"""Keyset paging (civicgrid.core.keyset): the workbench's 全部案件 and GET /api/v1/cases/?cursor=
walk every case once, newest first, forwards and back, also through cases reported at the same
instant; a cursor that does not decode is refused by the API and ignored by the page."""

from __future__ import annotations

import re
from datetime import timedelta
from html import unescape

from django.test import TestCase
from django.utils import timezone
from rest_framework.authtoken.models import Token

from civicgrid.cases.models import Case
from civicgrid.cases.tests.fixtures import build_people, report
from civicgrid.core.keyset import BadCursor, decode, keyset_page


class KeysetTestCase(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.made = build_people()
        cases = [report(cls.made, description=f"第 {n} 处") for n in range(7)]
        # Three of them at the same instant: the id breaks the tie.
        start = timezone.now() - timedelta(days=1)
        for n, case in enumerate(cases):
            Case.objects.filter(pk=case.pk).update(created_at=start + timedelta(minutes=min(n, 3)))
        cls.newest_first = list(Case.objects.order_by("-created_at", "-id").values_list("pk", flat=True))


class KeysetPageTests(KeysetTestCase):
    def walk(self, size: int) -> list[list[int]]:
        pages, cursor = [], None
        while True:
            page = keyset_page(Case.objects.all(), cursor, size)
            pages.append([c.pk for c in page.items])
            if page.next_cursor is None:
                return pages
            cursor = page.next_cursor

    def test_it_walks_every_case_once_newest_first(self):
        for size in (1, 2, 3, 7, 50):
            pages = self.walk(size)
            self.assertEqual([pk for page in pages for pk in page], self.newest_first, size)

    def test_it_walks_back(self):
        first = keyset_page(Case.objects.all(), None, 3)
        self.assertIsNone(first.previous_cursor)
        second = keyset_page(Case.objects.all(), first.next_cursor, 3)
        third = keyset_page(Case.objects.all(), second.next_cursor, 3)
        self.assertEqual([c.pk for c in third.items], self.newest_first[6:])
        self.assertIsNone(third.next_cursor)
        back = keyset_page(Case.objects.all(), third.previous_cursor, 3)
        self.assertEqual([c.pk for c in back.items], self.newest_first[3:6])
        back = keyset_page(Case.objects.all(), back.previous_cursor, 3)
        self.assertEqual([c.pk for c in back.items], self.newest_first[:3])
        self.assertIsNone(back.previous_cursor)

    def test_it_refuses_a_cursor_that_does_not_decode(self):
        for cursor in ("x", "!!!", "bjIwMjY", "eDIwMjYtMDEtMDFUMDA6MDA6MDArMDA6MDB8MQ"):
            with self.assertRaises(BadCursor):
                decode(cursor)

    def test_it_reads_one_page_in_one_query(self):
        first = keyset_page(Case.objects.all(), None, 3)
        with self.assertNumQueries(1):
            keyset_page(Case.objects.all(), first.next_cursor, 3)


class WorkbenchTests(KeysetTestCase):
    def test_the_all_queue_pages_by_cursor(self):
        self.client.force_login(self.made["lea"])
        url, seen = "/cases/?queue=all", []
        from civicgrid.cases import views

        size, views.PAGE_SIZE = views.PAGE_SIZE, 3
        self.addCleanup(setattr, views, "PAGE_SIZE", size)
        for _ in range(3):
            response = self.client.get(url)
            seen += [c.pk for c in response.context["cases"]]
            html = response.content.decode()
            self.assertNotIn("共 ", html)  # not counted
            links = dict(re.findall(r'<a href="\?([^"]*cursor=[^"]*)"[^>]*>(上一页|下一页)</a>', html))
            links = {label: unescape(query) for query, label in links.items()}
            if "下一页" not in links:
                break
            self.assertIn("queue=all", links["下一页"])
            url = "/cases/?" + links["下一页"]
        self.assertEqual(seen, self.newest_first)
        self.assertIn("上一页", links)
        response = self.client.get("/cases/?" + links["上一页"])
        self.assertEqual([c.pk for c in response.context["cases"]], self.newest_first[3:6])
        # A broken cursor shows the first page.
        response = self.client.get("/cases/?queue=all&cursor=broken")
        self.assertEqual([c.pk for c in response.context["cases"]], self.newest_first[:3])
        # Filtered (the cockpit's and the evaluation's drill-downs), the list is counted.
        self.assertContains(self.client.get("/cases/?queue=all&channel=inspector"), "共 7 件")


class ApiTests(KeysetTestCase):
    def get(self, url: str, status: int = 200) -> dict:
        token = Token.objects.get_or_create(user=self.made["lea"])[0].key
        response = self.client.get(url, HTTP_AUTHORIZATION=f"Token {token}")
        self.assertEqual(response.status_code, status, response.content)
        return response.json()

    def test_the_list_pages_by_cursor(self):
        body = self.get("/api/v1/cases/?cursor=&page_size=3")
        self.assertNotIn("count", body)
        self.assertIsNone(body["previous"])
        seen = [c["id"] for c in body["results"]]
        while body["next"]:
            body = self.get(body["next"].removeprefix("http://testserver"))
            seen += [c["id"] for c in body["results"]]
        self.assertEqual(seen, self.newest_first)
        back = self.get(body["previous"].removeprefix("http://testserver"))
        self.assertEqual([c["id"] for c in back["results"]], self.newest_first[3:6])
        # Numbered pages still work, counted.
        self.assertEqual(self.get("/api/v1/cases/?page_size=3&page=2")["count"], 7)

    def test_it_refuses_a_cursor_it_cannot_use(self):
        self.assertEqual(self.get("/api/v1/cases/?cursor=broken", 400)["error"]["field"], "cursor")
        self.get("/api/v1/cases/?cursor=&ordering=stage_deadline", 400)
        self.get("/api/v1/cases/?cursor=&queue=dispatch", 400)
        self.get("/api/v1/cases/?cursor=&queue=all")


class Open311Tests(KeysetTestCase):
    def test_get_requests_pages_by_the_link_header(self):
        # The cases are a day old: inside the default 90 days.
        url, seen, pages = "/open311/v2/requests.json?page_size=3", [], 0
        while url:
            response = self.client.get(url)
            self.assertEqual(response.status_code, 200)
            seen += [item["service_request_id"] for item in response.json()]
            link = response.headers.get("Link")
            url = link[1 : link.index(">")].removeprefix("http://testserver") if link else None
            pages += 1
        numbers = dict(Case.objects.values_list("pk", "number"))
        self.assertEqual(seen, [numbers[pk] for pk in self.newest_first])
        self.assertEqual(pages, 3)
        # The numbered pages answer the same.
        self.assertEqual(
            [i["service_request_id"] for i in self.client.get("/open311/v2/requests.json?page_size=3&page=2").json()],
            seen[3:6],
        )

    def test_a_broken_cursor_is_a_400(self):
        response = self.client.get("/open311/v2/requests.json?cursor=broken")
        self.assertEqual(response.status_code, 400)
        self.assertIn("cursor", response.json()[0]["description"])

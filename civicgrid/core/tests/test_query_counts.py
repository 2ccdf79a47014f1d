"""No N+1: each list page and API answers in a number of queries that does not grow with its rows.

Every test reads a page once with a few cases, adds twenty more (more rows on the page, more
events and photos per row where the page shows them), reads it again and expects the same
number of queries, below a ceiling that says what the page reads. An uncounted read before each
count brings what is cached or built on the first read up to date, as any earlier request would
have: the per-process snapshots (categories, grids, tokens, which expire after two seconds) and
the evaluation's fact table (its new events are added on the first read after them).

Personas and the county are the cases tests' (civicgrid.cases.tests.fixtures): Lea is a leader
who sees every queue of the whole county, Ivy the east street's inspector, Otto an operator.
"""

from __future__ import annotations

from django.db import connection
from django.test import TestCase
from django.test.utils import CaptureQueriesContext
from rest_framework.authtoken.models import Token

from civicgrid.cases.services import case_attach
from civicgrid.cases.tests.fixtures import act, build_people, photo, report
from civicgrid.open311.models import App, Submission
from civicgrid.portal.tests.public_fixtures import public_report

MORE = 20
# The "all" queue's page: as any queue page (see test_a_queue_page); paged by cursor, not counted.
ALL_QUEUE = 15


# PostgreSQL: an Open311 request list sets its plan mode first (open311.selectors.request_rows),
# in a transaction that is a savepoint inside a test's: SAVEPOINT, SET LOCAL, RELEASE.
PLAN_QUERIES = 3 if connection.vendor == "postgresql" else 0


class QueryCountTestCase(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.made = build_people()
        cls.token = Token.objects.create(user=cls.made["lea"]).key

    def count(self, url: str, **headers) -> int:
        with CaptureQueriesContext(connection) as queries:
            response = self.client.get(url, **headers)
        self.assertEqual(response.status_code, 200, response.content[:500])
        return len(queries)

    def assertConstant(self, url: str, grow, ceiling: int, **headers) -> None:
        """As many queries for `url` before and after `grow()` adds rows, and no more than `ceiling`."""
        self.client.get(url, **headers)
        before = self.count(url, **headers)
        grow()
        self.client.get(url, **headers)
        after = self.count(url, **headers)
        self.assertEqual(before, after, f"{url}: {before} queries with a few rows, {after} with {MORE} more")
        self.assertLessEqual(after, ceiling, url)

    def reports(self, n: int, **kwargs) -> list:
        return [report(self.made, **kwargs) for _ in range(n)]

    def filed(self, n: int) -> list:
        cases = self.reports(n)
        for case in cases:
            act(self.made, case, "file", "otto")
        return cases


class WorkbenchTests(QueryCountTestCase):
    def setUp(self):
        self.client.force_login(self.made["lea"])

    def test_a_queue_page(self):
        self.filed(3)
        # Session and user, the ten tab counts of a leader, the page's cases (with their category
        # and unit), the filter bar's categories and streets.
        self.assertConstant("/cases/?queue=dispatch", lambda: self.filed(MORE), ceiling=15)

    def test_the_all_queue(self):
        self.reports(3)
        self.assertConstant("/cases/?queue=all", lambda: self.reports(MORE), ceiling=ALL_QUEUE)

    def test_the_htmx_list(self):
        self.reports(3)
        # No tab counts and no filter bar: session, user, the page's cases.
        self.assertConstant("/cases/?queue=all", lambda: self.reports(MORE), ceiling=3, HTTP_HX_REQUEST="true")

    def test_the_case_page(self):
        [case] = self.reports(1)

        def grow():
            # More events and files on the same case.
            for i in range(MORE // 4):
                case_attach(case_id=case.pk, kind="before", file=photo(f"p{i}.jpg"), actor=self.made["ivy"])

        # Session, user, the case (category, grid, unit joined), its events (with actor and unit),
        # its files, its stages, its category's codes, its ratings.
        self.assertConstant(f"/cases/{case.pk}/", grow, ceiling=8)

    def test_the_case_page_of_an_operator(self):
        # Otto may merge and sees the reporter's phone: as above, and the duplicate suggestions
        # (more of them after grow), the audit row of the phone's view, the units of his forms.
        self.client.force_login(self.made["otto"])
        [case] = self.reports(1, channel="public", actor_key=None, reporter_phone="13712345678")
        nearby = lambda: self.reports(MORE // 4, channel="public", actor_key=None)  # noqa: E731
        self.assertConstant(f"/cases/{case.pk}/", nearby, ceiling=12)


class CaseApiTests(QueryCountTestCase):
    def test_the_case_list(self):
        self.reports(3)
        headers = {"HTTP_AUTHORIZATION": f"Token {self.token}"}
        # The count and the page (every related row joined); the token is cached.
        self.assertConstant("/api/v1/cases/", lambda: self.reports(MORE), ceiling=2, **headers)

    def test_a_queue_through_the_api(self):
        self.filed(3)
        headers = {"HTTP_AUTHORIZATION": f"Token {self.token}"}
        self.assertConstant("/api/v1/cases/?queue=dispatch", lambda: self.filed(MORE), ceiling=2, **headers)


class Open311Tests(QueryCountTestCase):
    def setUp(self):
        self.app = App(name="市民随手拍")
        self.app.issue_key()
        self.app.save()

    def submitted(self, n: int) -> None:
        """Half the cases as if sent through POST requests (answers, a photo), half from other channels."""
        for i, case in enumerate(self.reports(n)):
            if i % 2:
                continue
            Submission.objects.create(
                case=case, app=self.app, token=f"t{case.pk}", attributes={"depth": "12"}, address_id="A1"
            )
            case_attach(case_id=case.pk, kind="before", file=photo(), actor=self.made["ivy"])

    def test_get_requests(self):
        self.submitted(3)
        # The cases and their photos (PostgreSQL: and the list's plan setting, with its savepoint here).
        self.assertConstant("/open311/v2/requests.json", lambda: self.submitted(MORE), ceiling=2 + PLAN_QUERIES)

    def test_get_requests_with_extensions(self):
        self.submitted(3)
        # The cases, their photos, their events (notes) and the questions answered.
        url = "/open311/v2/requests.json?extensions=true"
        self.assertConstant(url, lambda: self.submitted(MORE), ceiling=4 + PLAN_QUERIES)
        self.assertConstant(url.replace("json", "xml"), lambda: self.submitted(MORE), ceiling=4 + PLAN_QUERIES)


class PortalTests(QueryCountTestCase):
    def test_the_public_list(self):
        public_report(self.made)
        # The count, the page (category, street, community joined), the filters' streets and categories.
        self.assertConstant("/p/cases/", lambda: [public_report(self.made) for _ in range(MORE)], ceiling=4)

    def test_the_public_map(self):
        public_report(self.made)
        self.assertConstant("/p/cases/geojson/", lambda: [public_report(self.made) for _ in range(MORE)], ceiling=2)


class EvaluationApiTests(QueryCountTestCase):
    def history(self, n: int) -> None:
        """Cases filed, dispatched, handled and closed this month, some of them rated."""
        for i, case in enumerate(self.filed(n)):
            act(self.made, case, "dispatch", "dora", unit_id=self.made["municipal"].pk)
            if i % 2:
                continue
            act(self.made, case, "sign", "hank")
            act(self.made, case, "handled", "hank", photos=[photo()], resolution_mode="service")
            act(self.made, case, "check_pass", "ivy")
            act(self.made, case, "close", "sue")

    def test_every_endpoint(self):
        headers = {"HTTP_AUTHORIZATION": f"Token {self.token}"}
        paths = [
            "regions/?level=street",
            "units/",
            "staff/?role=inspector",
            "staff/?role=dispatcher",
            "satisfaction/",
            "resolution/",
            "summary/",
        ]
        self.history(3)
        for path in paths:
            self.client.get(f"/api/v1/evaluation/{path}", **headers)
        before = {path: self.count(f"/api/v1/evaluation/{path}", **headers) for path in paths}
        self.history(MORE // 4)
        for path in paths:
            self.client.get(f"/api/v1/evaluation/{path}", **headers)
        after = {path: self.count(f"/api/v1/evaluation/{path}", **headers) for path in paths}
        self.assertEqual(before, after)
        # Settings, the facts' freshness check, the indicator queries of each table, the rows'
        # names (grids, regions, units or staff), the scoring weights and grade bands. The
        # summary runs three of those tables (county total, satisfaction, resolution) at once.
        for path, n in after.items():
            self.assertLessEqual(n, 14 if path == "summary/" else 13, path)

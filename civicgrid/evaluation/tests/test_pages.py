"""The evaluation pages show the API's figures, for the reader's scope, with Chinese errors.

Personas (cases.tests.fixtures): Carol is a leader who sees the whole county; Wes is an
operator scoped to the west street; Hank handles for 市政所 (scope: his unit, no region).
The history is tests/history.py (March 2026).
"""

from __future__ import annotations

import re
from datetime import datetime
from html import unescape
from zoneinfo import ZoneInfo

import time_machine
from django.db import connection
from django.test import TestCase
from django.test.utils import CaptureQueriesContext

from civicgrid.cases.selectors import case_filter, queue_cases
from civicgrid.evaluation.tables import TABS
from civicgrid.evaluation.tests.history import build_history

MARCH = "period=month&month=2026-03"
API = {
    "street": "regions/?level=street",
    "community": "regions/?level=community",
    "grid": "regions/?level=grid",
    "unit": "units/?",
    "inspector": "staff/?role=inspector",
    "operator": "staff/?role=operator",
    "shift_lead": "staff/?role=shift_lead",
    "dispatcher": "staff/?role=dispatcher",
    "satisfaction": "satisfaction/?",
    "resolution": "resolution/?",
}


def api_text(value) -> str:
    """A JSON figure as the page writes it."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "达标" if value else "未达标"
    if isinstance(value, float):
        return f"{value:.2f}"
    return str(value)


def page_cells(html: str) -> list[tuple[str, list[str]]]:
    """[(name, [cell texts after the name])] of the ranked table's body rows, in page order."""
    body = html.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    rows = []
    for tr in re.findall(r"<tr>(.*?)</tr>", body, re.S):
        cells = [
            unescape(re.sub(r"<[^>]+>", "", cell)).strip() for cell in re.findall(r"<td[^>]*>(.*?)</td>", tr, re.S)
        ]
        rows.append((unescape(re.search(r'class="nm">(.*?)</span>', tr).group(1)), cells[2:]))
    return rows


def page_rows(html: str) -> dict[str, list[str]]:
    """{name: cells}, for tables whose names are unique."""
    return dict(page_cells(html))


class EvaluationPageTestCase(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.made = build_history()

    def setUp(self):
        traveller = time_machine.travel(datetime(2026, 4, 15, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai")), tick=False)
        traveller.start()
        self.addCleanup(traveller.stop)

    def login(self, who: str = "carol"):
        self.client.force_login(self.made[who])

    def api(self, tab: str, query: str = MARCH) -> dict:
        response = self.client.get(f"/api/v1/evaluation/{API[tab]}&{query}")
        self.assertEqual(response.status_code, 200, response.content.decode())
        return response.json()


class PageFiguresTests(EvaluationPageTestCase):
    def test_it_shows_the_api_figures_on_every_tab(self):
        self.login()
        for key, tab in TABS.items():
            with self.subTest(tab=key):
                response = self.client.get(f"/evaluation/?tab={key}&{MARCH}")
                self.assertEqual(response.status_code, 200)
                cells = page_cells(response.content.decode())
                ids = [ranked.row.id for ranked in response.context["table"].rows]
                body = self.api(key)
                self.assertEqual(len(cells), body["count"])
                results = {result["id"]: result for result in body["results"]}
                for pk, (name, texts) in zip(ids, cells, strict=True):
                    result = results[pk]
                    expected = [api_text(result[column]) for column in tab.columns]
                    if tab.object_type:
                        expected += [api_text(result["score"]), result["grade"] or "—"]
                    self.assertEqual((name, texts), (result["name"], expected))

    def test_it_ranks_by_score_and_heads_columns_in_chinese(self):
        self.login()
        response = self.client.get(f"/evaluation/?tab=unit&{MARCH}")
        self.assertContains(response, "市政所 2026年3月 处置单位综合评价".split(" ", 1)[1])
        self.assertContains(response, "接收派遣数")
        self.assertContains(response, "按期结案率（%）")
        self.assertContains(response, "综合指标值")
        ranked = [row.row.score for row in response.context["table"].rows]
        self.assertEqual(ranked, sorted(ranked, key=lambda s: (s is None, -(s or 0))))
        self.assertEqual(response.context["table"].rows[0].rank, 1)
        self.assertContains(response, "缓办不计入")
        self.assertContains(response, "基本满意计为满意")
        self.assertContains(response, "满意率目标 95%")

    def test_it_defaults_to_the_last_complete_month(self):
        self.login()
        response = self.client.get("/evaluation/")
        self.assertEqual(response.context["table"].period.label, "2026年3月")
        self.assertEqual(response.context["table"].tab.key, "unit")

    def test_it_reads_every_period_kind(self):
        self.login()
        for query, label in [
            ("period=week&date=2026-03-04", "2026年第10周"),
            ("period=quarter&quarter=2026-Q1", "2026年第1季度"),
            ("period=year&year=2026", "2026年"),
            ("period=custom&start=2026-03-02&end=2026-03-02", "2026年3月2日至2026年3月2日"),
        ]:
            with self.subTest(query=query):
                response = self.client.get(f"/evaluation/?tab=street&{query}")
                self.assertEqual(response.context["table"].period.label, label)
                rows = page_rows(response.content.decode())
                for result in self.api("street", query)["results"]:
                    self.assertEqual(rows[result["name"]][1], str(result["reports"]))

    def test_it_explains_a_bad_period_in_chinese(self):
        self.login()
        for query, words in [
            ("period=month&month=2026-13", "月份格式应为 YYYY-MM"),
            ("period=decade", "统计周期应为"),
            ("period=custom&start=2026-03-10&end=2026-03-01", "结束日期不能早于开始日期"),
            ("tab=planet", "未知的评价对象"),
        ]:
            with self.subTest(query=query):
                response = self.client.get(f"/evaluation/?{query}")
                self.assertContains(response, words, status_code=400)

    def test_it_runs_a_bounded_number_of_queries(self):
        self.login()
        self.client.get(f"/evaluation/?tab=unit&{MARCH}")
        # Session, user, settings, weights, bands, the area's region and the indicator
        # function's own fixed number (at most 5, docs/evaluation.md): never one per row.
        for tab in ("unit", "grid", "inspector", "satisfaction", "resolution"):
            with self.subTest(tab=tab), CaptureQueriesContext(connection) as queries:
                self.client.get(f"/evaluation/?tab={tab}&{MARCH}")
            self.assertLessEqual(len(queries), 12, tab)

    def test_it_requires_login(self):
        response = self.client.get("/evaluation/")
        self.assertEqual(response.status_code, 302)
        self.assertIn("/accounts/login/", response["Location"])


class ScopeTests(EvaluationPageTestCase):
    def test_it_shows_a_street_reader_only_its_street(self):
        self.login("wes")
        response = self.client.get(f"/evaluation/?tab=street&{MARCH}")
        self.assertEqual([row.row.code for row in response.context["table"].rows], ["360725101"])
        rows = page_rows(self.client.get(f"/evaluation/?tab=unit&{MARCH}").content.decode())
        for result in self.api("unit")["results"]:
            self.assertEqual(rows[result["name"]][0], str(result["received"]))
        self.assertEqual({name: cells[0] for name, cells in rows.items()}, {"市政所": "0", "自来水公司": "1"})

    def test_it_shows_a_unit_reader_only_its_unit_tabs(self):
        self.login("hank")
        response = self.client.get(f"/evaluation/?tab=unit&{MARCH}")
        self.assertEqual([row.row.code for row in response.context["table"].rows], ["D01"])
        self.assertNotContains(response, "?tab=street")
        response = self.client.get(f"/evaluation/?tab=street&{MARCH}")
        self.assertContains(response, "本单位", status_code=403)
        response = self.client.get(f"/evaluation/cases/?tab=unit&id={self.made['water'].pk}&indicator=received&{MARCH}")
        self.assertEqual(response.status_code, 404)


class NavigationTests(EvaluationPageTestCase):
    def test_it_links_the_page_for_leaders_and_shift_leads_only(self):
        for who, shown in (("carol", True), ("sue", True), ("otto", False), ("hank", False)):
            with self.subTest(who=who):
                self.login(who)
                response = self.client.get("/cases/")
                self.assertEqual('href="/evaluation/"' in response.content.decode(), shown)

    def test_it_does_not_send_a_unit_scoped_reader_to_the_workbench(self):
        self.login("hank")
        response = self.client.get(f"/evaluation/?tab=unit&{MARCH}")
        self.assertNotContains(response, "/cases/?queue=all")


class DrilldownPageTests(EvaluationPageTestCase):
    def test_it_links_counts_to_the_cases_behind_them(self):
        self.login()
        municipal = self.made["municipal"]
        response = self.client.get(f"/evaluation/?tab=unit&{MARCH}")
        period = MARCH.replace("&", "&amp;")
        link = f"/evaluation/cases/?tab=unit&amp;id={municipal.pk}&amp;indicator=reworked&amp;{period}"
        self.assertContains(response, link)
        response = self.client.get(unescape(link))
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response.context["page"].paginator.count, 1)
        self.assertContains(response, self.made["cases"]["C"].number)

    def test_it_sends_a_street_s_reports_to_the_workbench(self):
        self.login()
        response = self.client.get(f"/evaluation/?tab=street&{MARCH}")
        html = response.content.decode()
        for ranked in response.context["table"].rows:
            row = ranked.row
            link = f"/cases/?queue=all&amp;street={row.code}&amp;date_from=2026-03-01&amp;date_to=2026-03-31"
            self.assertIn(link, html)
            params = {"street": row.code, "date_from": "2026-03-01", "date_to": "2026-03-31"}
            listed = case_filter(queue_cases(self.made["carol"], "all"), params)
            self.assertEqual(listed.count(), row.reports, row.name)

    def test_it_lists_the_cases_in_a_bounded_number_of_queries(self):
        self.login()
        municipal = self.made["municipal"]
        self.client.get(f"/evaluation/?tab=unit&{MARCH}")  # warm: any one-time work of the indicators
        for indicator in ("received", "closed_on_time", "rated", "handling_runs"):
            url = f"/evaluation/cases/?tab=unit&id={municipal.pk}&indicator={indicator}&{MARCH}"
            with self.subTest(indicator=indicator), CaptureQueriesContext(connection) as queries:
                response = self.client.get(url)
            self.assertEqual(response.status_code, 200)
            self.assertEqual(response.context["page"].paginator.count, response.context["figure"])
            # The unit table (≤ 12, as the page) + the cohort, its events, its runs, the page's cases.
            self.assertLessEqual(len(queries), 16, indicator)

    def test_it_refuses_a_rate(self):
        self.login()
        response = self.client.get(f"/evaluation/cases/?tab=unit&id=1&indicator=closure_rate&{MARCH}")
        self.assertContains(response, "只有计数指标", status_code=400)


class PrintTests(EvaluationPageTestCase):
    def test_it_prints_the_same_table_without_navigation(self):
        self.login()
        response = self.client.get(f"/evaluation/print/?tab=unit&{MARCH}")
        self.assertEqual(response.status_code, 200)
        html = response.content.decode()
        self.assertNotIn('class="topbar"', html)
        self.assertIn("size: A4 landscape", open("civicgrid/static/civicgrid/evaluation.css").read())
        page = page_rows(self.client.get(f"/evaluation/?tab=unit&{MARCH}").content.decode())
        self.assertEqual(page_rows(html), page)
        self.assertNotIn("/evaluation/cases/", html)

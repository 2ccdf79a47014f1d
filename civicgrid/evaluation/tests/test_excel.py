"""The Excel export holds the API's numbers, laid out as bureaus publish them.

The workbook is read back with openpyxl and every cell of every row is compared with the
API's JSON for the same period and reader (tests/history.py, March 2026).
"""

from __future__ import annotations

import io
from datetime import datetime
from zoneinfo import ZoneInfo

import time_machine
from django.test import TestCase
from openpyxl import load_workbook

from civicgrid.evaluation.tables import TABS
from civicgrid.evaluation.tests.history import build_history
from civicgrid.evaluation.tests.test_pages import API, MARCH


class ExcelTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.made = build_history()

    def setUp(self):
        traveller = time_machine.travel(datetime(2026, 4, 15, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai")), tick=False)
        traveller.start()
        self.addCleanup(traveller.stop)
        self.client.force_login(self.made["carol"])

    def workbook(self, query: str):
        response = self.client.get(f"/evaluation/export.xlsx?{query}")
        self.assertEqual(response.status_code, 200, response.content[:500])
        self.assertEqual(response["Content-Type"], "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
        return load_workbook(io.BytesIO(response.content))

    def api(self, tab: str, query: str = MARCH) -> dict:
        return self.client.get(f"/api/v1/evaluation/{API[tab]}&{query}").json()

    def assert_sheet_matches_api(self, ws, key: str, query: str = MARCH):
        tab = TABS[key]
        body = self.api(key, query)
        header = [cell.value for cell in ws[3]]
        expected_header = [tab and ("排名" if tab.rank_by else "序号"), "代码", "名称"]
        expected_header += [body["labels"][column] for column in tab.columns]
        if tab.object_type:
            expected_header += ["综合指标值", "评价等级"]
        self.assertEqual(header, expected_header)
        by_code = {}
        for row in ws.iter_rows(min_row=4, values_only=True):
            if row[1] is None and row[2] is None:
                break
            by_code[row[1] or ""] = row  # the 全部 row has no code
        results = body["results"] + ([body["overall"]] if "overall" in body else [])
        self.assertEqual(len(by_code), len(results))
        for result in results:
            row = by_code[result["code"]]
            values = list(row[3:])
            expected = []
            for column in tab.columns:
                value = result[column]
                if isinstance(value, bool):
                    value = "达标" if value else "未达标"
                expected.append(value)
            if tab.object_type:
                expected += [result["score"], result["grade"]]
            self.assertEqual((row[2], values), (result["name"], expected), key)

    def test_it_exports_the_api_figures_of_a_tab(self):
        wb = self.workbook(f"tab=unit&{MARCH}")
        ws = wb.worksheets[0]
        self.assertTrue(ws["A1"].value.endswith("数字城管 2026年3月 处置单位综合评价"), ws["A1"].value)
        self.assertIn("2026-03-01 至 2026-03-31", ws["A2"].value)
        self.assertEqual(ws.freeze_panes, "D4")
        self.assertTrue(ws["A3"].font.bold)
        rate_column = 4 + TABS["unit"].columns.index("closure_rate")
        self.assertEqual(ws.cell(4, rate_column).number_format, '0.00"%"')
        self.assert_sheet_matches_api(ws, "unit")
        footnotes = " ".join(str(cell.value) for cell in ws["A"] if isinstance(cell.value, str))
        self.assertIn("说明", footnotes)
        self.assertIn("缓办不计入", footnotes)

    def test_it_exports_one_sheet_per_tab(self):
        wb = self.workbook(f"tab=all&{MARCH}")
        self.assertEqual([ws.title for ws in wb.worksheets], [str(tab.label) for tab in TABS.values()])
        for ws, key in zip(wb.worksheets, TABS, strict=True):
            with self.subTest(tab=key):
                self.assert_sheet_matches_api(ws, key)

    def test_it_exports_other_periods(self):
        query = "period=quarter&quarter=2026-Q1"
        ws = self.workbook(f"tab=street&{query}").worksheets[0]
        self.assertIn("2026年第1季度", ws["A1"].value)
        self.assert_sheet_matches_api(ws, "street", query)

    def test_it_keeps_a_street_reader_to_the_street(self):
        self.client.force_login(self.made["wes"])
        ws = self.workbook(f"tab=street&{MARCH}").worksheets[0]
        self.assertEqual([row[1] for row in ws.iter_rows(min_row=4, max_row=4, values_only=True)], ["360725101"])
        self.assert_sheet_matches_api(ws, "street")

    def test_it_gives_a_unit_reader_its_unit_sheets_only(self):
        self.client.force_login(self.made["hank"])
        wb = self.workbook(f"tab=all&{MARCH}")
        self.assertEqual([ws.title for ws in wb.worksheets], ["处置单位", "满意度", "解决方式"])

    def test_it_explains_a_bad_period_in_chinese(self):
        response = self.client.get("/evaluation/export.xlsx?tab=unit&period=month&month=2026-13")
        self.assertContains(response, "月份格式应为 YYYY-MM", status_code=400)

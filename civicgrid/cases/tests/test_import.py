"""Importing closed case history from a CSV (civicgrid.cases.importer, `manage.py import_cases`,
the Celery task civicgrid.import_cases).

The county is the geo tests' hand-built one (civicgrid.geo.tests.fixtures): G1 lies in the east
street's community 东一, G4 in the west street's 西一. The category 道路破损 and the municipal
department 市政所 (D01) come from the cases fixtures.
"""

from __future__ import annotations

import csv
import io
import tempfile
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from django.core.management import CommandError, call_command
from django.test import TestCase

from civicgrid.cases.importer import CaseImportError, cases_import
from civicgrid.cases.models import Case, CaseEvent, CaseNumberSequence
from civicgrid.cases.tests.fixtures import EAST_POINT, WEST_POINT, build_people
from civicgrid.cases.workflow import Status
from civicgrid.geo.tests.fixtures import G1, G4, xy

TZ = ZoneInfo("Asia/Shanghai")
HEADER = [
    "原案件编号",
    "上报时间",
    "问题类别",
    "经度",
    "纬度",
    "地址",
    "问题描述",
    "来源",
    "状态",
    "立案时间",
    "结案时间",
    "处置单位",
]


def row(external_id: str, point=EAST_POINT, **changes) -> list[str]:
    values = {
        "原案件编号": external_id,
        "上报时间": "2024-03-05 09:10",
        "问题类别": "道路破损",
        "经度": str(point[0]),
        "纬度": str(point[1]),
        "地址": "",
        "问题描述": "路面坑洼",
        "来源": "监督员上报",
        "状态": "已结案",
        "立案时间": "2024-03-05 09:40",
        "结案时间": "2024-03-07 16:00",
        "处置单位": "市政所",
        **changes,
    }
    return [values[h] for h in HEADER]


class ImportTestCase(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.made = build_people()

    def setUp(self):
        directory = tempfile.TemporaryDirectory()
        self.addCleanup(directory.cleanup)
        self.dir = Path(directory.name)

    def csv_file(self, rows: list[list[str]], *, header=HEADER, encoding: str = "utf-8", name="history.csv") -> Path:
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(header)
        writer.writerows(rows)
        path = self.dir / name
        path.write_bytes(out.getvalue().encode(encoding))
        return path


class ImporterTests(ImportTestCase):
    def test_it_imports_closed_cases_with_numbers_grids_regions_and_an_event(self):
        path = self.csv_file(
            [
                row(
                    "OLD-2",
                    WEST_POINT,
                    上报时间="2024-05-01 08:00",
                    立案时间="2024-05-01 09:00",
                    结案时间="2024-05-02 10:00",
                ),
                row("OLD-1", 地址="东街 12 号"),
                row("OLD-3", 状态="已作废", 立案时间="", 结案时间="2024-03-06 10:00", 处置单位="", 来源="12345 热线"),
            ]
        )
        result = cases_import(path=path)
        self.assertEqual((result.rows, result.imported, result.skipped), (3, 3, 0))
        first, second, voided = (Case.objects.get(external_id=x) for x in ("OLD-1", "OLD-2", "OLD-3"))
        # Numbered in report order within the county and the report's year.
        self.assertEqual([first.number, voided.number, second.number], [f"360725-2024-00000{n}" for n in (1, 2, 3)])
        self.assertEqual(CaseNumberSequence.objects.get(county_code="360725", year=2024).last, 3)
        self.assertEqual((first.grid.code, first.community.name, first.street.name), (G1, "东一社区", "东街道"))
        self.assertEqual((second.grid.code, second.region_code), (G4, second.community.code))
        self.assertEqual(first.region_code, "360725100001")
        self.assertEqual(first.address, "东街 12 号")
        self.assertTrue(second.address.startswith("西街道"))  # no address: the grid's, as a report gets
        self.assertEqual(
            (first.status, first.channel, first.handling_unit), ("closed", "inspector", self.made["municipal"])
        )
        self.assertEqual(first.created_at, datetime(2024, 3, 5, 9, 10, tzinfo=TZ))
        self.assertEqual(first.filed_at, datetime(2024, 3, 5, 9, 40, tzinfo=TZ))
        self.assertEqual(first.closed_at, datetime(2024, 3, 7, 16, 0, tzinfo=TZ))
        self.assertEqual(
            (voided.status, voided.channel, voided.filed_at, voided.handling_unit), ("voided", "hotline", None, None)
        )
        event = CaseEvent.objects.get(case=first)
        self.assertEqual(
            (event.action, event.to_status, event.data), ("import", "closed", {"source": "history.csv", "row": 3})
        )
        self.assertEqual(event.action_label, "导入")
        # Ids came from the database's own sequence: the next report gets a fresh one.
        later = Case.objects.create(**{**Case.objects.filter(pk=first.pk).values().get(), "id": None, "number": "X"})
        self.assertGreater(later.pk, max(result.case_ids))

    def test_it_reads_a_gbk_file_with_english_headers_and_spreadsheet_times(self):
        english = ["external_id", "created_at", "category", "lon", "lat", "address", "description", "channel"]
        english += ["status", "filed_at", "closed_at", "handling_unit"]
        path = self.csv_file(
            [
                row(
                    "旧-1",
                    上报时间="2024/3/5 9:10",
                    立案时间="2024年3月5日 9:40",
                    结案时间="2024.3.7 16:00:00",
                    处置单位="D01",
                )
            ],
            header=english,
            encoding="gbk",
        )
        cases_import(path=path)
        case = Case.objects.get(external_id="旧-1")
        self.assertEqual(case.description, "路面坑洼")
        self.assertEqual(case.filed_at, datetime(2024, 3, 5, 9, 40, tzinfo=TZ))
        self.assertEqual(case.handling_unit, self.made["municipal"])

    def test_it_writes_nothing_when_a_row_is_bad_and_says_where_in_chinese(self):
        path = self.csv_file(
            [
                row("OLD-1"),
                row("OLD-2", 问题类别="不存在的类别"),
                row("OLD-3", xy(50, 50)),
                row("OLD-4", 结案时间="2024-03-04 10:00"),
                row("OLD-5", 状态="处置中"),
                row("OLD-6", 上报时间="昨天"),
                row("OLD-1"),
            ]
        )
        with self.assertRaises(CaseImportError) as raised:
            cases_import(path=path)
        self.assertEqual(
            [str(e) for e in raised.exception.errors],
            [
                "第 3 行 问题类别 未知的问题类别",
                f"第 4 行 经度 坐标（{xy(50, 50)[0]}, {xy(50, 50)[1]}）不在管理区域内",
                "第 5 行 结案时间 早于上报时间",
                "第 6 行 状态 只能导入已结案或已作废的历史案件",
                "第 7 行 上报时间 时间格式无法识别，应为 2024-03-05 14:20 这样的格式",
                "第 8 行 原案件编号 与第 2 行重复",
            ],
        )
        self.assertFalse(Case.objects.exists())
        self.assertFalse(CaseNumberSequence.objects.exists())

    def test_it_names_a_missing_column(self):
        path = self.csv_file([row("OLD-1")[1:]], header=HEADER[1:])
        with self.assertRaises(CaseImportError) as raised:
            cases_import(path=path)
        self.assertEqual([str(e) for e in raised.exception.errors], ["第 1 行 原案件编号 缺少这一列"])

    def test_it_asks_for_a_code_when_a_name_names_two_categories(self):
        from civicgrid.catalog.models import Category, Kind

        Category.objects.create(key="local:road-2", kind=Kind.COMPONENT, name="道路破损")
        path = self.csv_file([row("OLD-1")])
        with self.assertRaises(CaseImportError) as raised:
            cases_import(path=path)
        self.assertEqual([str(e) for e in raised.exception.errors], ["第 2 行 问题类别 “道路破损”对应多个，请填写编码"])

    def test_it_accepts_a_file_with_only_the_header(self):
        result = cases_import(path=self.csv_file([]))
        self.assertEqual((result.rows, result.imported, result.skipped), (0, 0, 0))

    def test_it_skips_rows_already_imported(self):
        path = self.csv_file([row("OLD-1"), row("OLD-2")])
        cases_import(path=path)
        again = self.csv_file([row("OLD-1"), row("OLD-2"), row("OLD-3")], name="again.csv")
        result = cases_import(path=again)
        self.assertEqual((result.imported, result.skipped), (1, 2))
        self.assertEqual(Case.objects.count(), 3)
        self.assertEqual(CaseEvent.objects.count(), 3)

    def test_it_writes_nothing_in_a_dry_run(self):
        path = self.csv_file([row("OLD-1"), row("OLD-2")])
        result = cases_import(path=path, dry_run=True)
        self.assertEqual((result.rows, result.imported, result.dry_run), (2, 2, True))
        self.assertFalse(Case.objects.exists())
        self.assertFalse(CaseNumberSequence.objects.exists())

    def test_it_refreshes_the_evaluation_after_the_commit(self):
        from unittest import mock

        path = self.csv_file([row("OLD-1")])
        with mock.patch("civicgrid.evaluation.facts.refresh") as refresh:
            with self.captureOnCommitCallbacks(execute=True):
                cases_import(path=path)
        refresh.assert_called_once_with()


class CommandTests(ImportTestCase):
    def test_it_reports_counts(self):
        path = self.csv_file([row("OLD-1")])
        out = io.StringIO()
        call_command("import_cases", str(path), stdout=out)
        self.assertIn("已导入 1 件，已导入过跳过 0 行", out.getvalue())
        out = io.StringIO()
        call_command("import_cases", str(path), stdout=out)
        self.assertIn("已导入 0 件，已导入过跳过 1 行", out.getvalue())

    def test_it_lists_errors_and_fails(self):
        path = self.csv_file([row("OLD-1", 问题类别="")])
        err = io.StringIO()
        with self.assertRaisesMessage(CommandError, "发现 1 处错误，未导入任何案件。"):
            call_command("import_cases", str(path), stderr=err)
        self.assertIn("第 2 行 问题类别 不能为空", err.getvalue())
        self.assertFalse(Case.objects.exists())

    def test_it_checks_only_with_dry_run(self):
        path = self.csv_file([row("OLD-1")])
        out = io.StringIO()
        call_command("import_cases", str(path), "--dry-run", stdout=out)
        self.assertIn("检查通过（未写入）", out.getvalue())
        self.assertFalse(Case.objects.exists())


class TaskTests(ImportTestCase):
    def test_it_imports_through_the_celery_task(self):
        from civicgrid.cases.tasks import import_cases_task

        path = self.csv_file([row("OLD-1"), row("OLD-2")])
        result = import_cases_task.apply(args=[str(path)]).get()
        self.assertEqual((result["imported"], result["skipped"]), (2, 0))
        self.assertEqual(Case.objects.filter(status=Status.CLOSED).count(), 2)

    def test_it_returns_the_errors_of_a_bad_file(self):
        from civicgrid.cases.tasks import import_cases_task

        path = self.csv_file([row("OLD-1", 状态="待派遣")])
        result = import_cases_task.apply(args=[str(path)]).get()
        self.assertEqual(result["errors"], ["第 2 行 状态 只能导入已结案或已作废的历史案件"])
        self.assertFalse(Case.objects.exists())

    def test_it_goes_to_the_bulk_queue(self):
        from civicgrid.celery import app

        self.assertEqual(app.amqp.router.route({}, "civicgrid.import_cases")["queue"].name, "bulk")

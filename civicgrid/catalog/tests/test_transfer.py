import io
from decimal import Decimal

from django.core.management import call_command
from django.test import TestCase
from django.utils import translation
from openpyxl import load_workbook

from civicgrid.catalog.models import Category, CategoryCode, Kind, Stage, StageTimeLimit, TimeUnit
from civicgrid.catalog.services import catalog_load_reference
from civicgrid.catalog.transfer import (
    CatalogImportError,
    catalog_export_xlsx,
    catalog_export_yaml,
    catalog_import,
)
from civicgrid.catalog.yamlio import dump_yaml, load_yaml
from civicgrid.core.models import OrgUnit


def export_yaml() -> str:
    buffer = io.StringIO()
    catalog_export_yaml(buffer)
    return buffer.getvalue()


def export_xlsx() -> bytes:
    buffer = io.BytesIO()
    catalog_export_xlsx(buffer)
    return buffer.getvalue()


def import_yaml(text: str):
    return catalog_import(stream=io.StringIO(text), file_format="yaml")


def import_xlsx(data: bytes):
    return catalog_import(stream=io.BytesIO(data), file_format="xlsx")


class RoundTripTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        catalog_load_reference()
        cls.unit = OrgUnit.objects.create(code="D02", name="环卫所", kind=OrgUnit.Kind.DEPARTMENT)
        road = Category.objects.get(name="道路不洁")
        road.default_handling_unit = cls.unit
        road.is_public = False
        road.save()
        StageTimeLimit.objects.create(
            category=road, stage=Stage.CHECK, region_class="A", amount=Decimal("1.5"), unit=TimeUnit.WORKING_HOURS
        )

    def test_it_round_trips_yaml_exactly(self):
        before = export_yaml()
        Category.objects.filter(name="道路不洁").update(name="改过的名字", is_public=True)
        StageTimeLimit.objects.filter(stage=Stage.HANDLE).update(amount=Decimal("99"))
        summary = import_yaml(before)
        self.assertEqual((summary.created, summary.updated), (0, 258))
        self.assertEqual(export_yaml(), before)

    def test_it_round_trips_excel_exactly(self):
        before_yaml, workbook = export_yaml(), export_xlsx()
        Category.objects.filter(name="道路不洁").update(default_handling_unit=None)
        CategoryCode.objects.filter(code="0101", kind=Kind.COMPONENT).delete()
        import_xlsx(workbook)
        self.assertEqual(export_yaml(), before_yaml)
        self.assertEqual(export_xlsx() and export_yaml(), before_yaml)

    def test_it_round_trips_excel_between_languages(self):
        before_yaml = export_yaml()
        with translation.override("en"):
            workbook = export_xlsx()
        sheet = load_workbook(io.BytesIO(workbook)).active
        self.assertIn("部件", [cell.value for cell in sheet["B"]])  # the layout stays Chinese
        import_xlsx(workbook)
        self.assertEqual(export_yaml(), before_yaml)

    def test_it_rebuilds_the_catalogue_in_an_empty_database(self):
        before = export_yaml()
        Category.objects.all().delete()
        summary = import_yaml(before)
        self.assertEqual(summary.created, 258)
        self.assertEqual(export_yaml(), before)

    def test_it_writes_chinese_headers_and_text_codes(self):
        workbook = load_workbook(io.BytesIO(export_xlsx()))
        categories, limits = workbook["分类"], workbook["时限"]
        headers = [c.value for c in categories[1]]
        for header in ("类型", "国标编码(GB/T 47678.5)", "旧标编码(GB/T 30428.2)", "大类", "名称", "默认处置单位编码"):
            self.assertIn(header, headers)
        self.assertEqual(
            [c.value for c in limits[1]][1:8], ["编码", "名称", "环节", "区域类别", "时限", "单位", "已确认"]
        )
        row = [c.value for c in categories[2]]
        self.assertEqual(row[1:3], ["部件", "01001"])

    def test_it_reads_codes_without_quotes_as_strings(self):
        data = load_yaml(export_yaml())
        text = dump_yaml(data).replace("code: '0107'", "code: 0107")
        self.assertIn("code: 0107", text)
        import_yaml(text)
        self.assertTrue(CategoryCode.objects.filter(code="0107", kind=Kind.COMPONENT).exists())

    def test_it_keeps_limits_when_the_file_has_none(self):
        data = load_yaml(export_yaml())
        for item in data["categories"]:
            del item["time_limits"]
        import_yaml(dump_yaml(data))
        self.assertEqual(StageTimeLimit.objects.count(), 24)

    def test_it_imports_and_exports_with_the_commands(self):
        import tempfile
        from pathlib import Path

        folder = Path(tempfile.mkdtemp())
        for name in ("c.yaml", "c.xlsx"):
            call_command("export_categories", str(folder / name), stdout=io.StringIO())
            out = io.StringIO()
            call_command("import_categories", str(folder / name), stdout=out)
            self.assertIn("导入完成", out.getvalue())


class ImportRejectionTests(TestCase):
    """A bad row names its place and nothing at all is imported."""

    @classmethod
    def setUpTestData(cls):
        catalog_load_reference()
        cls.yaml = export_yaml()
        cls.xlsx = export_xlsx()

    def assert_rejected_xlsx(self, edit, expected: str):
        workbook = load_workbook(io.BytesIO(self.xlsx))
        edit(workbook)
        workbook["分类"]["J2"] = "不应写入的名字"  # a valid change on another row
        buffer = io.BytesIO()
        workbook.save(buffer)
        with self.assertRaises(CatalogImportError) as caught:
            import_xlsx(buffer.getvalue())
        messages = [str(issue) for issue in caught.exception.issues]
        self.assertIn(expected, messages)
        self.assertFalse(Category.objects.filter(name="不应写入的名字").exists())
        return messages

    def test_it_rejects_an_unknown_unit(self):
        def edit(wb):
            wb["时限"]["G2"] = "小时"

        self.assert_rejected_xlsx(edit, "“时限”第 2 行“单位”：未知的时限单位“小时”，应为：工作时、工作日、自然时。")

    def test_it_rejects_a_negative_amount(self):
        def edit(wb):
            wb["时限"]["F3"] = -1

        self.assert_rejected_xlsx(edit, "“时限”第 3 行“时限”：时限不能为负数。")

    def test_it_rejects_an_unknown_stage(self):
        def edit(wb):
            wb["时限"]["D4"] = "审核"

        self.assert_rejected_xlsx(
            edit, "“时限”第 4 行“环节”：未知的环节“审核”，应为：核实、立案、派遣、处置、核查、结案。"
        )

    def test_it_rejects_a_duplicate_code(self):
        def edit(wb):
            wb["分类"]["C3"] = "01001"

        self.assert_rejected_xlsx(edit, "“分类”第 3 行“国标编码(GB/T 47678.5)”：编码“01001”重复，第 2 行已使用。")

    def test_it_rejects_an_unknown_org_unit_code(self):
        def edit(wb):
            wb["分类"]["S5"] = "X99"

        self.assert_rejected_xlsx(edit, "“分类”第 5 行“默认处置单位编码”：未知的单位编码“X99”。")

    def test_it_lists_every_problem_at_once(self):
        def edit(wb):
            wb["分类"]["B6"] = "设施"
            wb["时限"]["G2"] = "分钟"

        messages = self.assert_rejected_xlsx(edit, "“分类”第 6 行“类型”：未知的类型“设施”，应为：部件、事件。")
        self.assertEqual(len(messages), 2)

    def test_it_rejects_bad_yaml_rows_with_their_field(self):
        data = load_yaml(self.yaml)
        data["categories"][0]["time_limits"][0]["unit"] = "minutes"
        data["categories"][1]["name"] = "不应写入的名字"
        with self.assertRaises(CatalogImportError) as caught:
            import_yaml(dump_yaml(data))
        self.assertEqual(
            [str(i) for i in caught.exception.issues],
            ["“categories”第 1 条“time_limits[0].unit”：未知的时限单位“minutes”，应为：工作时、工作日、自然时。"],
        )
        self.assertFalse(Category.objects.filter(name="不应写入的名字").exists())

    def test_it_rejects_a_code_held_by_a_category_outside_the_file(self):
        data = load_yaml(self.yaml)
        data["categories"] = [data["categories"][1]]
        data["categories"][0]["codes"][0]["code"] = "01001"
        with self.assertRaises(CatalogImportError) as caught:
            import_yaml(dump_yaml(data))
        self.assertIn("已被目录键为“gbt:01001”的分类使用", str(caught.exception))

    def test_it_rejects_a_file_that_is_not_a_workbook(self):
        with self.assertRaises(CatalogImportError) as caught:
            import_xlsx(b"not a workbook")
        self.assertIn("无法读取 Excel 文件", str(caught.exception))

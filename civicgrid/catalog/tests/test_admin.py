import io

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import TestCase

from civicgrid.catalog.models import Category, CategoryCode, StageTimeLimit
from civicgrid.catalog.selectors import category_by_code
from civicgrid.catalog.services import catalog_load_reference
from civicgrid.catalog.transfer import catalog_export_yaml
from civicgrid.catalog.yamlio import dump_yaml, load_yaml
from civicgrid.core.models import User

CHANGELIST = "/admin/catalog/category/"


class CategoryAdminTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        catalog_load_reference()
        # Alice is the bureau's system administrator.
        cls.alice = User.objects.create_superuser("alice", password="pw-alice-123")

    def setUp(self):
        self.client.force_login(self.alice)

    def test_it_renders_the_changelist_with_pending_values(self):
        response = self.client.get(CHANGELIST)
        self.assertContains(response, "待本地确认")
        self.assertContains(response, "国标 01001")
        self.assertContains(response, "6 自然时")
        self.assertContains(response, "导出 Excel")

    def test_it_searches_by_code_and_filters(self):
        response = self.client.get(CHANGELIST, {"q": "0101"})
        self.assertContains(response, "私搭乱建")
        for params in ({"has_limit": "no"}, {"confirmed": "no"}, {"scheme": "legacy"}, {"scheme": "none"}):
            self.assertEqual(self.client.get(CHANGELIST, params).status_code, 200, params)
        response = self.client.get(CHANGELIST, {"has_limit": "yes", "confirmed": "yes"})
        self.assertContains(response, "供水井盖")

    def test_it_renders_the_change_form_with_every_stage(self):
        category = category_by_code(scheme=CategoryCode.Scheme.GBT47678_5, code="01001")
        response = self.client.get(f"{CHANGELIST}{category.pk}/change/")
        self.assertContains(response, "核实 — 待本地确认")
        self.assertContains(response, "处置 — 6 自然时")

    def test_it_confirms_selected_categories_as_local_standard(self):
        category = Category.objects.get(name="道路积水")
        response = self.client.post(
            CHANGELIST, {"action": "confirm_as_local_standard", "_selected_action": [category.pk]}, follow=True
        )
        self.assertContains(response, "确认为本地标准")
        category.refresh_from_db()
        self.assertTrue(category.filing_condition_confirmed and category.closing_condition_confirmed)
        self.assertTrue(StageTimeLimit.objects.get(category=category).confirmed)

    def test_it_exports_yaml_and_excel(self):
        response = self.client.get(f"{CHANGELIST}export/yaml/")
        self.assertEqual(load_yaml(response.content)["format"], "civicgrid-catalog")
        response = self.client.get(f"{CHANGELIST}export/xlsx/")
        self.assertEqual(response.content[:2], b"PK")

    def test_it_imports_a_file_and_lists_errors_in_chinese(self):
        buffer = io.StringIO()
        catalog_export_yaml(buffer)
        data = load_yaml(buffer.getvalue())
        data["categories"][0]["name"] = "供水井盖（本县）"
        upload = SimpleUploadedFile("c.yaml", dump_yaml(data).encode())
        response = self.client.post(f"{CHANGELIST}import/", {"file": upload}, follow=True)
        self.assertContains(response, "导入完成")
        self.assertTrue(Category.objects.filter(name="供水井盖（本县）").exists())

        data["categories"][0]["time_limits"][0]["amount"] = -2
        data["categories"][0]["name"] = "不应写入"
        upload = SimpleUploadedFile("c.yaml", dump_yaml(data).encode())
        response = self.client.post(f"{CHANGELIST}import/", {"file": upload})
        self.assertContains(response, "“categories”第 1 条“time_limits[0].amount”：时限不能为负数。")
        self.assertFalse(Category.objects.filter(name="不应写入").exists())

    def test_it_offers_the_import_page_and_keeps_the_list_query_count_flat(self):
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as queries:
            response = self.client.get(CHANGELIST)
        self.assertContains(response, f"{CHANGELIST}import/")
        # codes and limits are prefetched: the count does not grow with the 100 rows shown.
        self.assertLess(len(queries), 20)

import shutil
import tempfile
from decimal import Decimal
from pathlib import Path

from django.test import TestCase

from civicgrid.catalog.models import PENDING, Category, CategoryCode, Kind, Stage, StageTimeLimit, TimeUnit
from civicgrid.catalog.selectors import category_by_code
from civicgrid.catalog.services import DATA_DIR, catalog_load_reference
from civicgrid.catalog.yamlio import dump_yaml, load_yaml


def _legacy_items() -> list[dict]:
    with open(DATA_DIR / "categories_legacy.yaml", encoding="utf-8") as fh:
        return load_yaml(fh)["items"]


def _gbt() -> dict:
    with open(DATA_DIR / "gbt47678_5.yaml", encoding="utf-8") as fh:
        return load_yaml(fh)


class LoaderTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.summary = catalog_load_reference()

    def test_it_creates_one_category_per_merged_item(self):
        # 105 legacy items + 103 GB/T components and 50 GB/T matters without a legacy item.
        self.assertEqual(self.summary.categories_created, 258)
        self.assertEqual(Category.objects.count(), 258)
        self.assertEqual(Category.objects.filter(kind=Kind.COMPONENT).count(), 153)

    def test_it_keeps_every_legacy_item(self):
        for item in _legacy_items():
            with self.subTest(item=item["minor_name"]):
                if item["gbt47678_5_code"]:
                    category = category_by_code(scheme=CategoryCode.Scheme.GBT47678_5, code=item["gbt47678_5_code"])
                else:
                    category = Category.objects.get(
                        key=f"legacy:{item['kind']}:{item['code_scheme']}:{item['minor_code']}"
                    )
                self.assertIsNotNone(category)
                self.assertEqual(category.kind, item["kind"])

    def test_it_reaches_every_gbt_component_and_matter_by_code(self):
        gbt = _gbt()
        self.assertEqual((len(gbt["components"]), len(gbt["matters"])), (153, 250))
        for entry in gbt["components"]:
            category = category_by_code(scheme=CategoryCode.Scheme.GBT47678_5, code=entry["code"], kind=Kind.COMPONENT)
            self.assertEqual(category.kind, Kind.COMPONENT, entry)
        for entry in gbt["matters"]:
            category = category_by_code(scheme=CategoryCode.Scheme.GBT47678_5, code=entry["code"], kind=Kind.EVENT)
            self.assertIsNotNone(category, entry)
            # Classes 01–05 are "<component>异常" and resolve to the component's category.
            self.assertEqual(category.kind, Kind.COMPONENT if entry["class_code"] <= "05" else Kind.EVENT, entry)

    def test_it_merges_a_legacy_item_with_its_gbt_code(self):
        category = category_by_code(scheme=CategoryCode.Scheme.LEGACY, code="0101", kind=Kind.COMPONENT)
        self.assertEqual(category, category_by_code(scheme=CategoryCode.Scheme.GBT47678_5, code="01001"))
        self.assertEqual(category.name, "供水井盖")
        self.assertEqual(category.code_for(CategoryCode.Scheme.LEGACY).name, "上水井盖")
        self.assertEqual(category.code_for(CategoryCode.Scheme.GBT47678_5).major_code, "01")

    def test_it_tells_legacy_components_from_events_with_the_same_code(self):
        event = category_by_code(scheme=CategoryCode.Scheme.LEGACY, code="0101", kind=Kind.EVENT)
        self.assertEqual(event.name, "私搭乱建")
        self.assertIsNone(category_by_code(scheme=CategoryCode.Scheme.LEGACY, code="0101"))

    def test_it_gives_a_contested_legacy_code_to_one_item_and_notes_the_other(self):
        winner = category_by_code(scheme=CategoryCode.Scheme.LEGACY, code="0106", kind=Kind.EVENT)
        self.assertEqual(winner.name, "绿地脏乱")
        loser = Category.objects.get(name="绿地养护")
        self.assertFalse(loser.codes.exists())
        self.assertIn("0106", loser.note)

    def test_it_shows_placeholders_as_pending(self):
        category = Category.objects.get(name="路面塌陷")
        self.assertFalse(category.closing_condition_confirmed)
        self.assertEqual(category.closing_condition_source, "PH")
        self.assertEqual(category.closing_condition_display, PENDING)
        gbt_only = category_by_code(scheme=CategoryCode.Scheme.GBT47678_5, code="01050")
        self.assertEqual(gbt_only.filing_condition_display, PENDING)
        self.assertEqual(set(gbt_only.limits_by_stage().values()), {None})

    def test_it_loads_the_guangzhou_manhole_limit_in_natural_hours(self):
        category = category_by_code(scheme=CategoryCode.Scheme.GBT47678_5, code="01001")
        limit = category.limits_by_stage()[Stage.HANDLE]
        self.assertEqual((limit.amount, limit.unit, limit.confirmed), (Decimal("6"), TimeUnit.NATURAL_HOURS, True))
        self.assertEqual(limit.source, "广州 S13")
        self.assertIsNone(category.limits_by_stage()[Stage.VERIFY])

    def test_it_loads_a_jiyuan_limit_in_working_hours_and_keeps_the_others_in_the_note(self):
        limit = StageTimeLimit.objects.get(category__name="道路不洁", stage=Stage.HANDLE)
        self.assertEqual((limit.amount, limit.unit, limit.confirmed), (Decimal("5"), TimeUnit.WORKING_HOURS, True))
        self.assertEqual(limit.source, "济源 S10")
        self.assertIn("2 工作时", limit.note)
        self.assertEqual(StageTimeLimit.objects.count(), 23)

    def test_it_leaves_a_limit_from_an_unnamed_district_unconfirmed(self):
        limit = StageTimeLimit.objects.get(category__name="道路积水")
        self.assertFalse(limit.confirmed)
        self.assertTrue(limit.display.startswith(PENDING))

    def test_it_changes_nothing_on_a_second_run(self):
        again = catalog_load_reference()
        self.assertFalse(again.changed, again)
        self.assertEqual(Category.objects.count(), 258)

    def test_it_keeps_what_an_admin_edited_or_deleted(self):
        category = Category.objects.get(name="道路积水")
        category.name = "道路积水（本县）"
        category.closing_condition_confirmed = True
        category.save()
        limit = category.time_limits.get()
        limit.amount = Decimal("3")
        limit.save()
        manhole = category_by_code(scheme=CategoryCode.Scheme.GBT47678_5, code="01002")
        manhole.time_limits.all().delete()
        manhole.codes.filter(scheme=CategoryCode.Scheme.LEGACY).delete()

        summary = catalog_load_reference()

        self.assertFalse(summary.changed, summary)
        category.refresh_from_db()
        self.assertEqual(category.name, "道路积水（本县）")
        self.assertTrue(category.closing_condition_confirmed)
        self.assertEqual(category.time_limits.get().amount, Decimal("3"))
        self.assertFalse(manhole.time_limits.exists())
        self.assertFalse(manhole.codes.filter(scheme=CategoryCode.Scheme.LEGACY).exists())


class LoaderUpdateTests(TestCase):
    """A newer data file refreshes what nobody changed here, and only that."""

    @classmethod
    def setUpTestData(cls):
        catalog_load_reference()

    def test_it_refreshes_untouched_values_from_a_newer_data_file(self):
        edited = Category.objects.get(name="暴露垃圾")
        edited.filing_condition = "本县条件"
        edited.save()
        folder = Path(tempfile.mkdtemp())
        self.addCleanup(shutil.rmtree, folder)
        shutil.copy(DATA_DIR / "gbt47678_5.yaml", folder)
        with open(DATA_DIR / "categories_legacy.yaml", encoding="utf-8") as fh:
            legacy = load_yaml(fh)
        for item in legacy["items"]:
            if item["minor_name"] in {"道路积水", "暴露垃圾"}:
                item["filing_condition"] = "新版条件"
        (folder / "categories_legacy.yaml").write_text(dump_yaml(legacy), encoding="utf-8")

        summary = catalog_load_reference(data_dir=folder)

        self.assertEqual(summary.categories_updated, 1)
        self.assertEqual(summary.kept_local, 1)
        self.assertEqual(Category.objects.get(name="道路积水").filing_condition, "新版条件")
        self.assertEqual(Category.objects.get(name="暴露垃圾").filing_condition, "本县条件")

from django.test import TestCase

from civicgrid.catalog.models import Category, Kind
from civicgrid.catalog.services import catalog_assign_default_units, remit_keywords
from civicgrid.core.models import OrgUnit


class AssignDefaultUnitsTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        kind = OrgUnit.Kind
        cls.sanitation = OrgUnit.objects.create(
            code="D02", name="环卫所", kind=kind.DEPARTMENT, remit="环卫、保洁\n垃圾"
        )
        cls.water = OrgUnit.objects.create(code="U01", name="自来水公司", kind=kind.UTILITY, remit="供水企业,自来水")
        cls.retired = OrgUnit.objects.create(
            code="D01", name="旧排水站", kind=kind.DEPARTMENT, remit="排水", is_active=False
        )
        cls.drainage = OrgUnit.objects.create(code="D03", name="排水站", kind=kind.DEPARTMENT, remit="排水；井盖")
        cls.rubbish = Category.objects.create(
            kind=Kind.EVENT, name="暴露垃圾", responsible_unit_type="环卫部门/保洁单位"
        )
        cls.cover = Category.objects.create(
            kind=Kind.COMPONENT, name="供水井盖", responsible_unit_type="供水企业（自来水公司）"
        )
        cls.sewer = Category.objects.create(
            kind=Kind.COMPONENT, name="污水井盖", responsible_unit_type="排水管理/排水企业"
        )
        cls.by_name = Category.objects.create(kind=Kind.COMPONENT, name="不明井盖", responsible_unit_type="权属待查")
        cls.nobody = Category.objects.create(kind=Kind.EVENT, name="黑车拉客", responsible_unit_type="交通运输部门")
        cls.kept = Category.objects.create(
            kind=Kind.EVENT, name="道路不洁", responsible_unit_type="环卫部门", default_handling_unit=cls.water
        )

    def test_it_splits_remits_on_commas_lines_and_enumeration_marks(self):
        self.assertEqual(remit_keywords("环卫、保洁\n垃圾,，清扫；"), ["环卫", "保洁", "垃圾", "清扫"])

    def test_it_assigns_the_first_active_unit_whose_remit_matches(self):
        self.assertEqual(catalog_assign_default_units(), 4)
        expected = {
            self.rubbish: self.sanitation,
            self.cover: self.water,
            self.sewer: self.drainage,  # the inactive D01 is skipped
            self.by_name: self.drainage,  # "井盖" found in the name
            self.nobody: None,
            self.kept: self.water,  # already had one
        }
        for category, unit in expected.items():
            category.refresh_from_db()
            self.assertEqual(category.default_handling_unit, unit, category.name)

    def test_it_assigns_nothing_twice(self):
        catalog_assign_default_units()
        self.assertEqual(catalog_assign_default_units(), 0)

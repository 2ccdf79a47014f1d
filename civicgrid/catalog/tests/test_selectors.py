from decimal import Decimal

from django.test import TestCase

from civicgrid.catalog.models import Category, Kind, RegionClass, Stage, StageTimeLimit, TimeUnit
from civicgrid.catalog.selectors import time_limit_for


class TimeLimitForTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.category = Category.objects.create(kind=Kind.EVENT, name="暴露垃圾")
        cls.all_regions = StageTimeLimit.objects.create(
            category=cls.category, stage=Stage.HANDLE, amount=Decimal("4"), unit=TimeUnit.WORKING_HOURS, confirmed=True
        )
        cls.core_area = StageTimeLimit.objects.create(
            category=cls.category,
            stage=Stage.HANDLE,
            region_class=RegionClass.A,
            amount=Decimal("2"),
            unit=TimeUnit.WORKING_HOURS,
        )

    def test_it_prefers_the_region_class_row(self):
        self.assertEqual(time_limit_for(self.category, Stage.HANDLE, RegionClass.A), self.core_area)

    def test_it_falls_back_to_the_all_regions_row(self):
        self.assertEqual(time_limit_for(self.category, Stage.HANDLE, RegionClass.B), self.all_regions)
        self.assertEqual(time_limit_for(self.category, Stage.HANDLE), self.all_regions)

    def test_it_returns_none_for_a_stage_without_a_limit(self):
        self.assertIsNone(time_limit_for(self.category, Stage.VERIFY, RegionClass.A))

    def test_it_can_skip_unconfirmed_rows(self):
        self.assertEqual(
            time_limit_for(self.category, Stage.HANDLE, RegionClass.A, confirmed_only=True), self.all_regions
        )

    def test_it_shows_amounts_without_trailing_zeros(self):
        limit = StageTimeLimit(amount=Decimal("1.50"), unit=TimeUnit.WORKING_DAYS, confirmed=True)
        self.assertEqual(limit.display, "1.5 工作日")
        self.assertEqual(self.core_area.display, "待本地确认（参考：2 工作时）")

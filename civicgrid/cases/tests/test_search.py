"""The workbench search and the region scope as index ranges."""

import random

from django.test import TestCase

from civicgrid.cases.models import Case, region_code_range
from civicgrid.cases.selectors import search_q
from civicgrid.cases.tests.fixtures import WEST_POINT, build_people, report


def test_a_region_range_holds_exactly_the_codes_that_start_with_it():
    rng = random.Random(5)
    codes = ["".join(rng.choice("0123456789") for _ in range(rng.choice([6, 9, 12]))) for _ in range(20_000)]
    codes += ["360729", "360730", "360729000001", "360730000001", "36072999", "3607"]
    for prefix in ("360725", "360729", "3607", "36079", "9", "360799999", "360725101"):
        bounds = region_code_range(prefix)
        if "region_code__gte" in bounds:
            inside = {c for c in codes if bounds["region_code__gte"] <= c < bounds["region_code__lt"]}
            assert inside == {c for c in codes if c.startswith(prefix)}, prefix
    assert region_code_range("999") == {"region_code__startswith": "999"}  # no range above it
    assert region_code_range("东区") == {"region_code__startswith": "东区"}


class SearchTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.made = build_people()
        cls.east = [report(cls.made, address=f"东街 {k} 号") for k in range(1, 4)]
        cls.west = report(cls.made, point=WEST_POINT, address="西门菜市场")

    def found(self, term: str) -> set[str]:
        return set(Case.objects.filter(search_q(term)).values_list("number", flat=True))

    def test_a_whole_number_finds_that_case_and_the_start_of_one_its_year(self):
        case = self.east[1]
        self.assertEqual(self.found(case.number), {case.number})
        year_prefix = case.number.rsplit("-", 1)[0] + "-"
        self.assertEqual(self.found(year_prefix), {c.number for c in [*self.east, self.west]})
        self.assertEqual(self.found(case.number + "9"), set())

    def test_a_word_of_the_address_or_a_part_of_a_number(self):
        self.assertEqual(self.found("菜市场"), {self.west.number})
        self.assertEqual(self.found("东街"), {c.number for c in self.east})
        self.assertEqual(self.found("2 号"), {self.east[1].number})
        serial = self.east[2].number.rsplit("-", 1)[1]  # 000003
        self.assertEqual(self.found(serial), {self.east[2].number})

    def test_the_region_scope_is_a_range_with_the_same_cases(self):
        west_code = self.west.region_code
        for prefix in (west_code[:6], west_code[:9], west_code):
            self.assertEqual(
                set(Case.objects.in_region(prefix)), set(Case.objects.filter(region_code__startswith=prefix)), prefix
            )

from django.core.exceptions import ValidationError
from django.test import TestCase

from civicgrid.geo.models import Grid
from civicgrid.geo.services import grid_save
from civicgrid.geo.tests.fixtures import G1, build_county, square


class GridSaveTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.made = build_county()

    def test_it_fills_the_derived_columns(self):
        grid = grid_save(Grid(code="3607251000019001", community=self.made["east2"], geometry=square(7, 0, 8, 1)))
        grid.refresh_from_db()
        self.assertEqual(grid.region_code, "360725100002")
        self.assertAlmostEqual(grid.max_lon, 114.308)
        self.assertAlmostEqual(grid.centroid_lat, 25.6705)

    def test_it_refuses_an_overlap_naming_the_other_grid(self):
        with self.assertRaises(ValidationError) as caught:
            grid_save(Grid(code="3607251000019001", community=self.made["east1"], geometry=square(0.5, 0.5, 1.5, 0.9)))
        self.assertIn(G1, caught.exception.message_dict["geometry"][0])

    def test_it_refuses_a_street_as_community(self):
        with self.assertRaises(ValidationError) as caught:
            grid_save(Grid(code="3607251000019001", community=self.made["east"], geometry=square(7, 0, 8, 1)))
        self.assertIn("不是社区", caught.exception.message_dict["community"][0])

    def test_it_refuses_a_grid_outside_the_county(self):
        with self.assertRaises(ValidationError) as caught:
            grid_save(Grid(code="3607251000019001", community=self.made["east1"], geometry=square(8, 0, 9, 1)))
        self.assertIn("超出区县", caught.exception.message_dict["geometry"][0])

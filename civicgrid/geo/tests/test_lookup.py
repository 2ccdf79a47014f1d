import numpy as np
from django.test import TestCase

from civicgrid.geo import lookup
from civicgrid.geo.coords import wgs84_to_bd09, wgs84_to_gcj02
from civicgrid.geo.models import Grid
from civicgrid.geo.services import grid_save
from civicgrid.geo.tests.fixtures import G1, G2, G3, G4, G5, G6, build_county, square, xy


class LookupTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.made = build_county()

    def setUp(self):
        lookup.invalidate()

    def code_at(self, i, j):
        return lookup.locate(*xy(i, j)).grid_code

    def test_it_finds_the_grid_community_and_street(self):
        found = lookup.locate(*xy(0.5, 0.5))
        self.assertEqual(found.grid_code, G1)
        self.assertEqual((found.community_code, found.community_name), ("360725100001", "东一社区"))
        self.assertEqual((found.street_code, found.street_name), ("360725100", "东街道"))
        self.assertEqual(found.region_class, "A")

    def test_it_gives_a_shared_edge_to_the_smallest_code(self):
        self.assertEqual(self.code_at(1, 0.5), G1)  # G1 | G2
        self.assertEqual(self.code_at(0.5, 1), G1)  # G1 / G3
        self.assertEqual(self.code_at(1.5, 1), G2)  # G2 / G4
        self.assertEqual(self.code_at(1, 1.5), G3)  # G3 | G4: smaller code on the left
        self.assertEqual(self.code_at(2, 0.5), G2)  # G2 | G5: smaller code on the left
        self.assertEqual(self.code_at(2, 1.5), G4)  # G4 | G5

    def test_it_gives_a_shared_corner_to_the_smallest_code(self):
        self.assertEqual(self.code_at(1, 1), G1)  # G1, G2, G3, G4 meet
        self.assertEqual(self.code_at(2, 1), G2)  # G2, G4, G5 meet

    def test_it_includes_outer_corners_and_edges(self):
        self.assertEqual(self.code_at(0, 0), G1)
        self.assertEqual(self.code_at(6, 3), G6)
        self.assertEqual(self.code_at(3.5, 3), G5)

    def test_it_leaves_holes_out_of_the_grid(self):
        with self.assertRaises(lookup.OutsideManagedArea):
            lookup.locate(*xy(3.5, 1.5))
        self.assertEqual(self.code_at(3.5, 0.5), G5)
        # The hole's ring is the grid's boundary, and a grid covers its boundary.
        self.assertEqual(self.code_at(3, 1.5), G5)

    def test_it_finds_both_parts_of_a_multipolygon(self):
        self.assertEqual(self.code_at(5.5, 0.5), G6)
        self.assertEqual(self.code_at(5.5, 2.5), G6)
        with self.assertRaises(lookup.OutsideManagedArea):
            lookup.locate(*xy(5.5, 1.5))  # between the parts

    def test_it_says_outside_the_managed_area(self):
        with self.assertRaises(lookup.OutsideManagedArea) as caught:
            lookup.locate(*xy(-0.5, 0.5))
        self.assertEqual(str(caught.exception), "不在管理区域内")
        with self.assertRaises(lookup.OutsideManagedArea):
            lookup.locate(0.0, 0.0)

    def test_it_locates_many_points_like_one_at_a_time(self):
        rng = np.random.default_rng(7)
        # Random points, plus every lattice node and half-node: edges, corners, holes.
        lattice = np.array([(i / 2, j / 2) for i in range(-1, 14) for j in range(-1, 8)])
        random = rng.uniform([-0.5, -0.5], [6.5, 3.5], size=(2000, 2))
        points = np.vstack([lattice, random])
        lons, lats = xy(points[:, 0], points[:, 1])
        many = lookup.locate_many(lons, lats)
        for lon, lat, code in zip(lons, lats, many, strict=True):
            try:
                expected = lookup.locate(lon, lat).grid_code
            except lookup.OutsideManagedArea:
                expected = None
            self.assertEqual(code, expected, (lon, lat))
        self.assertEqual(set(many) - {None}, {G1, G2, G3, G4, G5, G6})

    def test_it_answers_from_the_raster_exactly_as_from_the_geometries(self):
        index = lookup.GridIndex.from_db()
        rng = np.random.default_rng(11)
        lattice = np.array([(i / 4, j / 4) for i in range(-2, 27) for j in range(-2, 15)])
        points = np.vstack([lattice, rng.uniform([-0.5, -0.5], [6.5, 3.5], size=(20000, 2))])
        lons, lats = xy(points[:, 0], points[:, 1])
        exact = index._exact_positions(lons, lats)
        np.testing.assert_array_equal(index.positions(lons, lats), exact)
        self.assertEqual(
            [index.position(x, y) for x, y in zip(lons[:3000], lats[:3000], strict=True)], list(exact[:3000])
        )
        self.assertEqual(index.position(float("nan"), 25.67), -1)

    def test_it_converts_gcj02_and_bd09_input(self):
        lon, lat = xy(0.5, 0.5)
        self.assertEqual(lookup.locate(*wgs84_to_gcj02(lon, lat), crs="gcj02").grid_code, G1)
        self.assertEqual(lookup.locate(*wgs84_to_bd09(lon, lat), crs="bd09").grid_code, G1)
        self.assertEqual(list(lookup.locate_many(*wgs84_to_gcj02([lon], [lat]), crs="gcj02")), [G1])

    def test_it_sees_a_new_grid_without_a_restart(self):
        lookup.locate(*xy(0.5, 0.5))  # builds the index
        grid_save(Grid(code="3607251000020002", community=self.made["east2"], geometry=square(0, 2, 1, 3)))
        self.assertEqual(self.code_at(0.5, 2.5), "3607251000020002")

    def test_it_sees_a_change_made_elsewhere_after_the_version_check(self):
        lookup.locate(*xy(0.5, 0.5))
        # A write that bypassed the services (another process, a data migration).
        Grid.objects.filter(code=G1).delete()
        lookup.invalidate()
        self.assertEqual(self.code_at(1, 0.5), G2)
        with self.assertRaises(lookup.OutsideManagedArea):
            lookup.locate(*xy(0.5, 0.5))


class EmptyLookupTests(TestCase):
    def setUp(self):
        lookup.invalidate()

    def test_it_is_outside_when_there_are_no_grids(self):
        with self.assertRaises(lookup.OutsideManagedArea):
            lookup.locate(114.31, 25.68)
        self.assertEqual(list(lookup.locate_many([114.31], [25.68])), [None])

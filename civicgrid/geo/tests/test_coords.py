import math

import numpy as np
from django.test import SimpleTestCase
from hypothesis import given, settings
from hypothesis import strategies as st

from civicgrid.geo import coords

# China's bounding box (with Hainan and Heilongjiang's tips).
china_lon = st.floats(min_value=73.5, max_value=135.0, allow_nan=False)
china_lat = st.floats(min_value=18.0, max_value=53.6, allow_nan=False)


def metres(lon1, lat1, lon2, lat2) -> float:
    """Distance on a sphere, good enough for centimetres."""
    dx = math.radians(lon2 - lon1) * math.cos(math.radians((lat1 + lat2) / 2))
    dy = math.radians(lat2 - lat1)
    return 6_371_000 * math.hypot(dx, dy)


class CoordinateTests(SimpleTestCase):
    def test_it_matches_a_published_gcj02_value(self):
        # Tiananmen: WGS84 116.397428, 39.90923 → GCJ-02 116.403672, 39.910633 (widely quoted).
        lon, lat = coords.wgs84_to_gcj02(116.397428, 39.90923)
        self.assertLess(metres(lon, lat, 116.403672, 39.910633), 0.5)

    def test_it_offsets_the_demo_county_by_hundreds_of_metres(self):
        lon, lat = coords.wgs84_to_gcj02(114.31, 25.68)
        self.assertTrue(100 < metres(114.31, 25.68, lon, lat) < 1000)

    @settings(max_examples=500, deadline=None)
    @given(china_lon, china_lat)
    def test_it_round_trips_wgs84_through_gcj02(self, lon, lat):
        back = coords.gcj02_to_wgs84(*coords.wgs84_to_gcj02(lon, lat))
        self.assertLess(metres(lon, lat, *back), 0.01)

    @settings(max_examples=500, deadline=None)
    @given(china_lon, china_lat)
    def test_it_round_trips_gcj02_through_wgs84(self, lon, lat):
        back = coords.wgs84_to_gcj02(*coords.gcj02_to_wgs84(lon, lat))
        self.assertLess(metres(lon, lat, *back), 0.01)

    @settings(max_examples=500, deadline=None)
    @given(china_lon, china_lat)
    def test_it_round_trips_wgs84_through_bd09(self, lon, lat):
        back = coords.bd09_to_wgs84(*coords.wgs84_to_bd09(lon, lat))
        self.assertLess(metres(lon, lat, *back), 0.01)

    def test_it_round_trips_the_demo_county(self):
        for lon, lat in [(114.31, 25.68), (114.2, 25.6), (114.45, 25.8)]:
            for crs in (coords.GCJ02, coords.BD09):
                back = coords.to_wgs84(*coords.from_wgs84(lon, lat, crs), crs)
                self.assertLess(metres(lon, lat, *back), 0.001)

    def test_it_leaves_points_outside_china_alone(self):
        for lon, lat in [(2.35, 48.85), (-74.0, 40.7), (151.2, -33.9)]:
            self.assertEqual(coords.wgs84_to_gcj02(lon, lat), (lon, lat))
            self.assertEqual(coords.gcj02_to_wgs84(lon, lat), (lon, lat))

    def test_it_converts_arrays_like_single_points(self):
        rng = np.random.default_rng(3)
        lons, lats = rng.uniform(73.5, 135, 200), rng.uniform(18, 53.6, 200)
        many = coords.gcj02_to_wgs84(lons, lats)
        for k in range(0, 200, 17):
            one = coords.gcj02_to_wgs84(lons[k], lats[k])
            self.assertAlmostEqual(many[0][k], one[0], places=10)
            self.assertAlmostEqual(many[1][k], one[1], places=10)

    def test_it_returns_floats_for_floats(self):
        lon, lat = coords.to_wgs84(114.31, 25.68, "bd09")
        self.assertIs(type(lon), float)
        self.assertIs(type(lat), float)

    def test_it_rejects_an_unknown_system(self):
        with self.assertRaises(ValueError):
            coords.to_wgs84(114.31, 25.68, "epsg3857")

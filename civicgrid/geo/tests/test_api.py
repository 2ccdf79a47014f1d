from django.test import TestCase

from civicgrid.geo import lookup
from civicgrid.geo.coords import wgs84_to_bd09, wgs84_to_gcj02
from civicgrid.geo.tests.fixtures import G1, G2, G3, G4, G5, G6, build_county, xy


class LocateApiTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.made = build_county()

    def setUp(self):
        lookup.invalidate()
        self.client.force_login(self.made["carol"])

    def locate(self, **params):
        return self.client.get("/api/v1/geo/locate", params)

    def test_it_locates_a_wgs84_point(self):
        lon, lat = xy(0.5, 0.5)
        response = self.locate(lon=lon, lat=lat)
        self.assertEqual(response.status_code, 200)
        body = response.json()
        self.assertEqual(body["grid"]["code"], G1)
        self.assertEqual(body["community"], {"code": "360725100001", "name": "东一社区"})
        self.assertEqual(body["street"], {"code": "360725100", "name": "东街道"})
        self.assertEqual(body["crs"], "wgs84")

    def test_it_locates_gcj02_and_bd09_points(self):
        lon, lat = xy(1.5, 0.5)
        for crs, convert in (("gcj02", wgs84_to_gcj02), ("bd09", wgs84_to_bd09)):
            with self.subTest(crs=crs):
                g_lon, g_lat = convert(lon, lat)
                body = self.locate(lon=repr(g_lon), lat=repr(g_lat), crs=crs).json()
                self.assertEqual(body["grid"]["code"], G2)
                self.assertAlmostEqual(body["lon"], lon, places=7)
                self.assertAlmostEqual(body["lat"], lat, places=7)

    def test_it_reads_gcj02_as_offset(self):
        # A WGS84 point sent as GCJ-02 lands a few hundred metres away: outside these small grids.
        lon, lat = xy(0.5, 0.5)
        self.assertEqual(self.locate(lon=lon, lat=lat, crs="gcj02").status_code, 404)

    def test_it_answers_404_outside_the_managed_area(self):
        response = self.locate(lon="114.0", lat="25.0")
        self.assertEqual(response.status_code, 404)
        self.assertEqual(response.json()["error"], {"field": None, "reason": "不在管理区域内"})

    def test_it_answers_400_naming_the_bad_parameter(self):
        cases = [
            ({"lat": "25.68"}, "lon"),
            ({"lon": "abc", "lat": "25.68"}, "lon"),
            ({"lon": "114.31", "lat": "95"}, "lat"),
            ({"lon": "nan", "lat": "25.68"}, "lon"),
            ({"lon": "114.31", "lat": "25.68", "crs": "epsg3857"}, "crs"),
        ]
        for params, field in cases:
            with self.subTest(params=params):
                response = self.locate(**params)
                self.assertEqual(response.status_code, 400)
                self.assertEqual(response.json()["error"]["field"], field)

    def test_it_requires_login(self):
        self.client.logout()
        lon, lat = xy(0.5, 0.5)
        self.assertIn(self.locate(lon=lon, lat=lat).status_code, (401, 403))

    def test_it_hides_grids_outside_the_users_scope(self):
        self.client.force_login(self.made["eve"])  # east street only
        self.assertEqual(self.locate(lon=xy(0.5, 0.5)[0], lat=xy(0.5, 0.5)[1]).status_code, 200)
        response = self.locate(lon=xy(1.5, 1.5)[0], lat=xy(1.5, 1.5)[1])  # G4, west street
        self.assertEqual(response.status_code, 404)
        self.assertIn("数据权限", response.json()["error"]["reason"])


class ReferenceApiTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.made = build_county()

    def test_it_lists_grids_as_a_feature_collection(self):
        self.client.force_login(self.made["carol"])
        body = self.client.get("/api/v1/geo/grids/").json()
        self.assertEqual(body["type"], "FeatureCollection")
        self.assertEqual([f["properties"]["code"] for f in body["features"]], [G1, G2, G3, G4, G5, G6])

    def test_it_shows_a_street_user_only_its_grids(self):
        self.client.force_login(self.made["eve"])
        body = self.client.get("/api/v1/geo/grids/").json()
        self.assertEqual([f["properties"]["code"] for f in body["features"]], [G1, G2, G3])
        self.assertEqual(self.client.get(f"/api/v1/geo/grids/{G4}/").status_code, 404)
        self.assertEqual(self.client.get(f"/api/v1/geo/grids/{G1}/").json()["properties"]["code"], G1)

    def test_it_filters_grids(self):
        self.client.force_login(self.made["carol"])
        body = self.client.get("/api/v1/geo/grids/", {"community": "360725100002"}).json()
        self.assertEqual([f["properties"]["code"] for f in body["features"]], [G3])
        lon0, lat0 = xy(4.5, 0.5)
        lon1, lat1 = xy(5.5, 0.5)
        body = self.client.get("/api/v1/geo/grids/", {"bbox": f"{lon0},{lat0},{lon1},{lat1}"}).json()
        self.assertEqual([f["properties"]["code"] for f in body["features"]], [G5, G6])
        response = self.client.get("/api/v1/geo/grids/", {"bbox": "1,2"})
        self.assertEqual(response.status_code, 400)
        self.assertEqual(response.json()["error"]["field"], "bbox")

    def test_it_lists_the_regions_a_user_may_see(self):
        self.client.force_login(self.made["walt"])
        body = self.client.get("/api/v1/geo/regions/").json()
        self.assertEqual([r["code"] for r in body["results"]], ["360725", "360725101", "360725101001"])
        self.assertEqual(self.client.get("/api/v1/geo/regions/360725100001/").status_code, 404)
        street = self.client.get("/api/v1/geo/regions/360725101/").json()
        self.assertEqual(street, {"code": "360725101", "name": "西街道", "level": "street", "parent": "360725"})

    def test_it_requires_login_for_reference_data(self):
        self.assertIn(self.client.get("/api/v1/geo/grids/").status_code, (401, 403))

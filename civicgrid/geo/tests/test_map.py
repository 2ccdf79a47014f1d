from django.test import TestCase, override_settings

from civicgrid.geo.tests.fixtures import G1, G2, G3, build_county


class MapPageTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.made = build_county()

    def test_it_renders_the_map_with_a_legend(self):
        self.client.force_login(self.made["carol"])
        response = self.client.get("/geo/map/")
        self.assertContains(response, 'id="grid-map"')
        self.assertContains(response, "vendor/leaflet/leaflet.js")
        self.assertContains(response, "东一社区")
        self.assertContains(response, "西一社区")
        self.assertContains(response, "责任网格")
        self.assertContains(response, "no-tiles")

    @override_settings(TILE_URL="https://tiles.example/{z}/{x}/{y}.png")
    def test_it_passes_the_tile_url_to_the_script(self):
        self.client.force_login(self.made["carol"])
        response = self.client.get("/geo/map/")
        self.assertContains(response, "https://tiles.example/{z}/{x}/{y}.png")
        self.assertNotContains(response, "no-tiles")

    def test_it_requires_login(self):
        self.assertEqual(self.client.get("/geo/map/").status_code, 302)
        self.assertEqual(self.client.get("/geo/map/data.json").status_code, 302)

    def test_it_serves_the_layers_of_the_users_scope(self):
        self.client.force_login(self.made["eve"])
        data = self.client.get("/geo/map/data.json").json()
        self.assertEqual([f["properties"]["code"] for f in data["grids"]["features"]], [G1, G2, G3])
        self.assertEqual([f["properties"]["name"] for f in data["streets"]["features"]], ["东街道"])
        first = data["grids"]["features"][0]["properties"]
        self.assertEqual(first["responsibility_grid"], "东街道一号责任网格")
        self.assertEqual(first["inspector"], "李监督")
        self.assertEqual(first["street_name"], "东街道")
        self.assertEqual([f["properties"]["code"] for f in data["responsibility_grids"]["features"]], ["ZR-E-01"])

    def test_it_colours_neighbouring_communities_differently(self):
        self.client.force_login(self.made["carol"])
        data = self.client.get("/geo/map/data.json").json()
        colour = {f["properties"]["community"]: f["properties"]["colour"] for f in data["grids"]["features"]}
        self.assertEqual(len(set(colour.values())), 3)

    def test_it_hides_other_streets_from_a_street_user(self):
        self.client.force_login(self.made["walt"])
        response = self.client.get("/geo/map/")
        self.assertNotContains(response, "东一社区")
        data = self.client.get("/geo/map/data.json").json()
        self.assertEqual(data["responsibility_grids"]["features"], [])

import json

from django.contrib.auth.models import Permission
from django.test import TestCase

from civicgrid.geo.models import Grid, Region, ResponsibilityGrid
from civicgrid.geo.tests.fixtures import G1, G4, build_county, square


class AdminTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.made = build_county()

    def setUp(self):
        self.client.force_login(self.made["admin"])

    def test_it_lists_regions_and_grids(self):
        response = self.client.get("/admin/geo/region/")
        self.assertContains(response, "东一社区")
        self.assertContains(response, "360725101001")
        response = self.client.get("/admin/geo/grid/")
        self.assertContains(response, G1)
        self.assertContains(response, "东街道")
        self.assertContains(self.client.get("/admin/geo/responsibilitygrid/"), "东街道一号责任网格")

    def test_it_filters_and_searches_grids(self):
        response = self.client.get("/admin/geo/grid/", {"street": "360725101"})
        self.assertNotContains(response, G1)
        self.assertContains(response, "3607251010010001")
        self.assertContains(self.client.get("/admin/geo/grid/", {"q": "东二"}), "3607251000020001")
        self.assertContains(self.client.get("/admin/geo/region/", {"level__exact": "street"}), "西街道")

    def form(self, code, geometry):
        return {
            "code": code,
            "name": "后台新增",
            "community": self.made["east1"].pk,
            "region_class": "B",
            "geometry": json.dumps(geometry),
        }

    def test_it_saves_a_grid_through_the_service(self):
        response = self.client.post("/admin/geo/grid/add/", self.form("3607251000019001", square(7, 0, 8, 1)))
        self.assertEqual(response.status_code, 302, response.content.decode()[:2000])
        grid = Grid.objects.get(code="3607251000019001")
        self.assertEqual(grid.region_code, "360725100001")
        self.assertTrue(9_000 < grid.area_m2 < 12_000)

    def test_it_shows_service_errors_on_the_form(self):
        response = self.client.post("/admin/geo/grid/add/", self.form("3607251000019001", square(0.5, 0, 1.5, 1)))
        self.assertContains(response, f"与网格 {G1} 重叠")
        point = {"type": "Point", "coordinates": [1, 2]}
        response = self.client.post("/admin/geo/grid/add/", self.form("short", point))
        self.assertContains(response, "14–20 位")
        self.assertContains(response, "实际为 Point")
        self.assertFalse(Grid.objects.filter(name="后台新增").exists())

    def test_it_edits_a_grid_in_place(self):
        grid = Grid.objects.get(code=G1)
        form = self.form(G1, square(0, 0, 1, 0.5))
        response = self.client.post(f"/admin/geo/grid/{grid.pk}/change/", form)
        self.assertEqual(response.status_code, 302)
        grid.refresh_from_db()
        self.assertAlmostEqual(grid.max_lat, 25.6705)

    def test_it_keeps_a_scoped_admin_inside_its_street(self):
        from django.contrib.auth.models import Permission

        walt = self.made["walt"]  # scoped to the west street
        walt.is_staff = True
        walt.save()
        walt.user_permissions.set(Permission.objects.filter(content_type__app_label="geo"))
        self.client.force_login(walt)
        self.assertNotContains(self.client.get("/admin/geo/grid/"), G1)
        response = self.client.post("/admin/geo/grid/add/", self.form("3607251000019001", square(7, 0, 8, 1)))
        self.assertEqual(response.status_code, 403)
        self.assertFalse(Grid.objects.filter(code="3607251000019001").exists())


class ResponsibilityGridAdminTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.made = build_county()

    def form(self, street, grid_codes):
        return {
            "code": "ZR-NEW",
            "name": "新责任网格",
            "street": street.pk,
            "grids": [g.pk for g in Grid.objects.filter(code__in=grid_codes)],
            "inspector": "",
        }

    def test_it_refuses_unit_grids_of_another_street(self):
        self.client.force_login(self.made["admin"])
        east = Region.objects.get(code="360725100")
        response = self.client.post("/admin/geo/responsibilitygrid/add/", self.form(east, [G1, G4]))
        self.assertContains(response, "以下单元网格不属于东街道")
        self.assertContains(response, G4)
        self.assertFalse(ResponsibilityGrid.objects.filter(code="ZR-NEW").exists())

    def test_it_keeps_a_scoped_admin_inside_its_street(self):
        walt = self.made["walt"]  # scoped to the west street
        walt.is_staff = True
        walt.save()
        walt.user_permissions.set(Permission.objects.filter(content_type__app_label="geo"))
        self.client.force_login(walt)
        east = Region.objects.get(code="360725100")
        response = self.client.post("/admin/geo/responsibilitygrid/add/", self.form(east, [G1]))
        self.assertEqual(response.status_code, 403)
        self.assertFalse(ResponsibilityGrid.objects.filter(code="ZR-NEW").exists())

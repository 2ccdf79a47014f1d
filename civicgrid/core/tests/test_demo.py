from io import StringIO

import shapely
from django.contrib.auth.hashers import PBKDF2PasswordHasher, check_password
from django.core.management import CommandError, call_command
from django.test import TestCase, override_settings
from shapely.geometry import shape
from shapely.ops import unary_union

from civicgrid.catalog.models import Category
from civicgrid.core.demo import (
    COUNTY_CODE,
    DEMO_USERS,
    GRID_COUNT,
    _demo_password_hash,
    _geojson,
    demo_password,
    town_plan,
)
from civicgrid.core.models import OrgUnit, Role, User
from civicgrid.geo.models import Grid, Region, ResponsibilityGrid

# 1e-12 square degrees is about 0.01 m² here: "no overlap" up to rounding of the coordinates.
NO_AREA = 1e-12


class DemoTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        # The demo county, built once into the empty test database by the command itself.
        cls.output = StringIO()
        call_command("demo", "--seed", "2021", "--cases", "0", stdout=cls.output)
        cls.output = cls.output.getvalue()

    def shapes(self, queryset=None):
        return {g.code: shape(g.geometry) for g in (queryset or Grid.objects.all())}

    def test_it_builds_the_regions_of_the_demo_county(self):
        self.assertEqual(Region.objects.filter(level=Region.Level.COUNTY).get().code, COUNTY_CODE)
        streets = Region.objects.filter(level=Region.Level.STREET)
        self.assertEqual(streets.count(), 3)
        self.assertEqual(Region.objects.filter(level=Region.Level.COMMUNITY).count(), 12)
        for street in streets:
            self.assertEqual(street.children.count(), 4)
            self.assertTrue(all(c.code.startswith(street.code) for c in street.children.all()))

    def test_it_builds_300_grids_with_opaque_codes_and_derived_columns(self):
        self.assertEqual(Grid.objects.count(), GRID_COUNT)
        for grid in Grid.objects.select_related("community"):
            self.assertTrue(14 <= len(grid.code) <= 20 and grid.code.startswith(grid.community.code))
            self.assertEqual(grid.region_code, grid.community.code)
            self.assertGreater(grid.area_m2, 1000)
            self.assertTrue(grid.min_lon <= grid.centroid_lon <= grid.max_lon)
        self.assertEqual(set(Grid.objects.values_list("region_class", flat=True)), {"A", "B", "C"})

    def test_it_builds_30_responsibility_grids_of_10_grids_in_one_street(self):
        self.assertEqual(ResponsibilityGrid.objects.count(), 30)
        for rgrid in ResponsibilityGrid.objects.select_related("street", "inspector"):
            codes = list(rgrid.grids.values_list("region_code", flat=True))
            self.assertEqual(len(codes), 10)
            self.assertTrue(all(code.startswith(rgrid.street.code) for code in codes))
            self.assertEqual(rgrid.inspector.role, Role.INSPECTOR)
        self.assertEqual(Grid.objects.filter(responsibility_grids__isnull=True).count(), 0)

    def test_it_tiles_the_town_with_valid_grids_that_do_not_overlap(self):
        shapes = list(self.shapes().values())
        self.assertTrue(all(s.geom_type == "Polygon" and s.is_valid for s in shapes))
        tree = shapely.STRtree(shapes)
        for i, s in enumerate(shapes):
            for j in tree.query(s):
                if j != i:
                    self.assertLess(s.intersection(shapes[j]).area, NO_AREA)
        town = unary_union(shapes)
        self.assertEqual(town.geom_type, "Polygon")
        self.assertEqual(len(town.interiors), 0)  # no gaps inside the outline
        boundary = shape(Region.objects.get(code=COUNTY_CODE).boundary)
        self.assertTrue(all(boundary.contains(s) for s in shapes))

    def test_it_keeps_streets_communities_and_responsibility_grids_contiguous(self):
        for region in Region.objects.exclude(level=Region.Level.COUNTY):
            union = unary_union(list(self.shapes(Grid.objects.filter(region_code__startswith=region.code)).values()))
            self.assertEqual(union.geom_type, "Polygon", region)
            self.assertAlmostEqual(union.area, shape(region.boundary).area, places=12)
        for rgrid in ResponsibilityGrid.objects.all():
            self.assertEqual(unary_union(list(self.shapes(rgrid.grids.all()).values())).geom_type, "Polygon")

    def test_it_draws_blocks_along_roads_not_a_chessboard(self):
        shapes = list(self.shapes().values())
        rectangles = [s for s in shapes if s.equals(s.envelope)]
        self.assertLess(len(rectangles), GRID_COUNT // 10)
        # Blocks differ in size, and grids are larger on the edge than in the centre.
        areas = list(Grid.objects.values_list("area_m2", flat=True))
        mean = sum(areas) / len(areas)
        spread = (sum((a - mean) ** 2 for a in areas) / len(areas)) ** 0.5 / mean
        self.assertGreater(spread, 0.15)
        self.assertGreater(len({round(a, -2) for a in areas}), 40)
        self.assertGreater(len({len(s.exterior.coords) for s in shapes}), 5)

    def test_it_puts_class_a_grids_in_the_centre_and_c_on_the_edge(self):
        town = unary_union(list(self.shapes().values()))
        centre = town.centroid

        def mean_distance(region_class):
            grids = Grid.objects.filter(region_class=region_class)
            return sum(shape(g.geometry).centroid.distance(centre) for g in grids) / grids.count()

        self.assertLess(mean_distance("A"), mean_distance("B"))
        self.assertLess(mean_distance("B"), mean_distance("C"))

    def test_it_draws_the_same_town_for_the_same_seed(self):
        stored = {g.code: g.geometry for g in Grid.objects.all()}
        plan = town_plan(2021)
        self.assertEqual({g.code: _geojson(g.geometry) for g in plan.grids}, stored)

    def test_it_draws_another_town_for_another_seed(self):
        stored = self.shapes()
        other = town_plan(7)
        self.assertEqual(len(other.grids), GRID_COUNT)
        self.assertFalse(any(g.geometry.equals(stored[g.code]) for g in other.grids))

    def test_it_keeps_existing_data_with_if_empty(self):
        before = {g.code: (g.pk, g.geometry) for g in Grid.objects.all()}
        out = StringIO()
        call_command("demo", "--if-empty", "--seed", "7", "--cases", "0", stdout=out)
        self.assertIn("已有数据", out.getvalue())
        self.assertEqual({g.code: (g.pk, g.geometry) for g in Grid.objects.all()}, before)

    def test_it_refuses_to_run_over_existing_data_without_force(self):
        with self.assertRaisesMessage(CommandError, "--force"):
            call_command("demo", "--cases", "0", stdout=StringIO())

    def test_it_rebuilds_the_same_demo_objects_with_force(self):
        before = {g.code: (g.pk, g.geometry) for g in Grid.objects.all()}
        users, units = User.objects.count(), OrgUnit.objects.count()
        call_command("demo", "--force", "--cases", "0", stdout=StringIO())
        self.assertEqual({g.code: (g.pk, g.geometry) for g in Grid.objects.all()}, before)
        self.assertEqual((User.objects.count(), OrgUnit.objects.count()), (users, units))

    def test_it_gives_every_role_one_demo_user_who_can_log_in(self):
        self.assertEqual({u[2] for u in DEMO_USERS}, set(Role.values))
        for username, _name, role, _unit, _scope, _admin in DEMO_USERS:
            user = User.objects.get(username=username)
            self.assertEqual(user.role, role)
            self.assertTrue(user.display_name)
            self.assertTrue(self.client.login(username=username, password=demo_password(username)), username)
        self.assertTrue(self.client.login(username="inspector30", password="demo-inspector30"))

    def test_it_places_demo_users_in_their_units_and_scopes(self):
        handler = User.objects.get(username="handler")
        self.assertEqual((handler.org_unit.name, handler.scope), ("市政设施管理所", User.Scope.UNIT))
        self.assertEqual(User.objects.get(username="dispatcher").org_unit.kind, OrgUnit.Kind.COMMAND_CENTER)
        self.assertEqual(User.objects.get(username="operator").scope, User.Scope.ALL)
        admin = User.objects.get(username="admin")
        self.assertTrue(admin.is_staff and admin.is_superuser)

    def test_it_builds_the_org_units_with_remits(self):
        kinds = list(OrgUnit.objects.values_list("kind", flat=True))
        self.assertEqual(kinds.count(OrgUnit.Kind.STREET_OFFICE), 3)
        self.assertEqual(kinds.count(OrgUnit.Kind.CONTRACTOR), 2)
        self.assertGreaterEqual(kinds.count(OrgUnit.Kind.DEPARTMENT) + kinds.count(OrgUnit.Kind.UTILITY), 8)
        for office in OrgUnit.objects.filter(kind=OrgUnit.Kind.STREET_OFFICE):
            self.assertEqual(office.region.level, Region.Level.STREET)

    def test_it_loads_the_catalogue_and_assigns_default_units_by_remit(self):
        water = Category.objects.filter(responsible_unit_type="供水企业（自来水公司）").first()
        self.assertEqual(water.default_handling_unit.name, "县自来水公司")
        lights = Category.objects.filter(responsible_unit_type="路灯管理单位").first()
        self.assertEqual(lights.default_handling_unit.name, "路灯管理所")

    def test_it_prints_a_chinese_summary_and_the_logins(self):
        self.assertIn("单元网格 300 个", self.output)
        self.assertIn("责任网格 30 个", self.output)
        self.assertIn("demo-inspector", self.output)

    @override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.PBKDF2PasswordHasher"])
    def test_it_stores_cheap_hashes_of_the_published_passwords_that_login_upgrades(self):
        encoded = _demo_password_hash("leader")
        self.assertTrue(check_password("demo-leader", encoded))
        self.assertTrue(PBKDF2PasswordHasher().must_update(encoded))

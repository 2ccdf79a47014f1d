import json
import tempfile
from io import StringIO
from pathlib import Path
from unittest import mock

from django.core.management import ManagementUtility, call_command
from django.core.management.base import CommandError
from django.test import TestCase

from civicgrid.geo import lookup
from civicgrid.geo.models import Grid, Region
from civicgrid.geo.services import GridImportError, grids_export, grids_import
from civicgrid.geo.tests.fixtures import G1, G2, build_county, ring, square, xy


def feature(code, geometry, community="360725100001", **props):
    return {"type": "Feature", "geometry": geometry, "properties": {"code": code, "community": community, **props}}


def collection(*features):
    return {"type": "FeatureCollection", "features": list(features)}


class ImportTests(TestCase):
    """The county has grids G1–G6 in lattice cells x 0–6, y 0–3; x 7 is free, inside the boundary."""

    @classmethod
    def setUpTestData(cls):
        cls.made = build_county()
        cls.county = cls.made["county"]

    def setUp(self):
        lookup.invalidate()

    def good(self, code="3607251000019001", i=7, j=0, **props):
        return feature(code, square(i, j, i + 1, j + 1), **props)

    def rejections(self, *features) -> list:
        before = set(Grid.objects.values_list("code", "updated_at"))
        with self.assertRaises(GridImportError) as caught:
            grids_import(collection(*features), county=self.county)
        self.assertEqual(set(Grid.objects.values_list("code", "updated_at")), before, "nothing is written")
        return caught.exception.problems

    def only_reason(self, *features) -> str:
        problems = self.rejections(*features)
        self.assertEqual(len(problems), 1, problems)
        return problems[0].reason

    def test_it_imports_new_grids_with_derived_fields(self):
        result = grids_import(collection(self.good(name="新网格", region_class="B")), county=self.county)
        self.assertEqual(result.created, ["3607251000019001"])
        grid = Grid.objects.get(code="3607251000019001")
        self.assertEqual((grid.name, grid.region_code, grid.region_class), ("新网格", "360725100001", "B"))
        self.assertAlmostEqual(grid.min_lon, xy(7, 0)[0])
        self.assertTrue(9_000 < grid.area_m2 < 12_000)
        self.assertEqual(lookup.locate(*xy(7.5, 0.5)).grid_code, "3607251000019001")

    def test_it_updates_a_grid_whose_code_exists(self):
        moved = feature(G1, square(0, 3, 1, 4), name="改名", community="360725100002")
        result = grids_import(collection(moved), county=self.county)
        self.assertEqual((result.created, result.updated), ([], [G1]))
        grid = Grid.objects.get(code=G1)
        self.assertEqual((grid.name, grid.region_code), ("改名", "360725100002"))
        self.assertAlmostEqual(grid.min_lat, xy(0, 3)[1])
        self.assertEqual(lookup.locate(*xy(0.5, 3.5)).grid_code, G1)
        with self.assertRaises(lookup.OutsideManagedArea):
            lookup.locate(*xy(0.5, 0.5))

    def test_it_lets_a_reimported_grid_take_over_its_own_old_place(self):
        # G1 shrinks inside its own old cell: no overlap with its old self.
        grids_import(collection(feature(G1, square(0, 0, 1, 0.5))), county=self.county)
        self.assertEqual(Grid.objects.count(), 6)
        self.assertEqual(lookup.locate(*xy(0.5, 0.25)).grid_code, G1)

    def test_it_rejects_a_geometry_that_is_not_a_polygon(self):
        point = {"type": "Point", "coordinates": list(xy(7, 0))}
        self.assertIn(
            "Polygon 或 MultiPolygon，实际为 Point", self.only_reason(self.good(), feature("3607251000019002", point))
        )

    def test_it_rejects_a_self_intersecting_polygon_and_says_where(self):
        a, b, c, d = xy(7, 0), xy(8, 1), xy(8, 0), xy(7, 1)
        bowtie = {"type": "Polygon", "coordinates": [[list(a), list(b), list(c), list(d), list(a)]]}
        reason = self.only_reason(feature("3607251000019002", bowtie))
        self.assertIn("自相交", reason)
        self.assertIn("114.307500, 25.670500", reason)

    def test_it_rejects_unparseable_coordinates(self):
        self.assertIn(
            "无法解析", self.only_reason(feature("3607251000019002", {"type": "Polygon", "coordinates": [[1]]}))
        )

    def test_it_rejects_a_duplicate_code_in_the_file(self):
        problems = self.rejections(self.good(), self.good(j=1))
        self.assertEqual([(p.index, p.code) for p in problems], [(1, "3607251000019001")])
        self.assertIn("重复（与第 1 个要素相同）", problems[0].reason)

    def test_it_rejects_bad_code_formats(self):
        for code, words in [
            ("36072510", "14–20 位"),
            ("3607251000019001-1", "14–20 位"),
            ("360725100001900100000", "14–20 位"),
            (3607251000019001, "字符串"),
            (None, "缺少网格编码"),
        ]:
            with self.subTest(code=code):
                self.assertIn(words, self.only_reason(self.good(code=code)))

    def test_it_accepts_letters_in_codes(self):
        grids_import(collection(self.good(code="360725100001AB01")), county=self.county)
        self.assertTrue(Grid.objects.filter(code="360725100001AB01").exists())

    def test_it_rejects_an_unknown_community(self):
        self.assertIn("社区 360725100099 不存在", self.only_reason(self.good(community="360725100099")))

    def test_it_rejects_a_bad_community_code(self):
        self.assertIn("12 位数字", self.only_reason(self.good(community="3607251")))
        self.assertIn("缺少所属社区", self.only_reason(self.good(community="")))

    def test_it_rejects_a_community_of_another_county(self):
        other = Region.objects.create(code="360726", name="安远县", level=Region.Level.COUNTY)
        street = Region.objects.create(code="360726100", name="欣山镇", level=Region.Level.STREET, parent=other)
        Region.objects.create(code="360726100001", name="某社区", level=Region.Level.COMMUNITY, parent=street)
        self.assertIn("不属于区县“崇义县”", self.only_reason(self.good(community="360726100001")))

    def test_it_rejects_a_grid_outside_the_county_boundary(self):
        # The boundary is lattice x -1…8; x 8–9 is outside.
        self.assertIn("超出区县“崇义县”（360725）边界约", self.only_reason(self.good(i=8)))

    def test_it_tolerates_half_a_metre_over_the_boundary(self):
        nudge = 0.3 / 111_320 / 0.001  # 0.3 m in lattice units
        grids_import(collection(feature("3607251000019001", square(7, 0, 8 + nudge, 1))), county=self.county)
        self.assertTrue(Grid.objects.filter(code="3607251000019001").exists())

    def test_it_skips_the_boundary_check_when_the_county_has_none(self):
        Region.objects.filter(pk=self.county.pk).update(boundary=None)
        self.county.refresh_from_db()
        grids_import(collection(self.good(i=20)), county=self.county)
        self.assertTrue(Grid.objects.filter(code="3607251000019001").exists())

    def test_it_rejects_an_overlap_with_a_grid_in_the_database(self):
        reason = self.only_reason(feature("3607251000019002", square(0.5, 0.5, 0.9, 0.9)))
        self.assertIn(f"与已有网格 {G1} 重叠约", reason)

    def test_it_rejects_an_overlap_within_the_file_naming_both(self):
        problems = self.rejections(self.good(), feature("3607251000019002", square(7.5, 0, 8, 1)))
        self.assertEqual(len(problems), 1)
        self.assertEqual(problems[0].code, "3607251000019001")
        self.assertIn("与第 2 个要素（编码 3607251000019002）重叠", problems[0].reason)

    def test_it_accepts_grids_sharing_edges(self):
        grids_import(collection(self.good(j=0), self.good(code="3607251000019002", j=1)), county=self.county)
        self.assertEqual(Grid.objects.count(), 8)

    def test_it_rejects_a_bad_region_class(self):
        self.assertIn("A、B 或 C", self.only_reason(self.good(region_class="D")))

    def test_it_rejects_an_unknown_responsibility_grid(self):
        self.assertIn("责任网格 ZR-X 不存在", self.only_reason(self.good(responsibility_grid="ZR-X")))

    def test_it_rejects_a_responsibility_grid_of_another_street(self):
        reason = self.only_reason(self.good(community="360725101001", responsibility_grid="ZR-E-01"))
        self.assertIn("不在同一街道", reason)

    def test_it_writes_nothing_when_one_feature_of_many_fails(self):
        problems = self.rejections(
            self.good(),
            feature(G2, square(1, 0, 2, 1.2)),
            self.good(code="bad", j=2),
            self.good(code="3607251000019004", j=3),
        )
        self.assertEqual([p.index for p in problems], [1, 2])
        self.assertFalse(Grid.objects.filter(code="3607251000019001").exists())
        self.assertIn("第 3 个要素（编码 bad）", str(problems[1]))

    def test_it_rejects_what_is_not_a_feature_collection(self):
        with self.assertRaises(GridImportError) as caught:
            grids_import({"type": "Feature"}, county=self.county)
        self.assertIn("FeatureCollection", str(caught.exception.problems[0]))

    def test_it_round_trips_an_export(self):
        exported = grids_export(Grid.objects.all())
        self.assertEqual(len(exported["features"]), 6)
        props = next(f["properties"] for f in exported["features"] if f["properties"]["code"] == G1)
        self.assertEqual(props["responsibility_grid"], "ZR-E-01")
        self.assertEqual(props["street_name"], "东街道")
        before = {g.code: (g.name, g.region_code, g.region_class, g.geometry, g.area_m2) for g in Grid.objects.all()}
        result = grids_import(json.loads(json.dumps(exported)), county=self.county)
        self.assertEqual((len(result.created), len(result.updated)), (0, 6))
        after = {g.code: (g.name, g.region_code, g.region_class, g.geometry, g.area_m2) for g in Grid.objects.all()}
        self.assertEqual(after, before)
        self.assertEqual(set(self.made["rgrid"].grids.values_list("code", flat=True)), {G1, G2})

    def test_it_moves_a_grid_between_responsibility_grids(self):
        grids_import(collection(feature(G1, square(0, 0, 1, 1), responsibility_grid="")), county=self.county)
        self.assertEqual(set(self.made["rgrid"].grids.values_list("code", flat=True)), {G2})

    def test_it_imports_a_multipolygon_with_a_hole(self):
        geometry = {
            "type": "MultiPolygon",
            "coordinates": [[ring(7, 0, 8, 3), ring(7.2, 1, 7.8, 2)], [ring(7, 4, 8, 4.5)]],
        }
        grids_import(collection(feature("3607251000019001", geometry)), county=self.county)
        self.assertEqual(lookup.locate(*xy(7.5, 4.2)).grid_code, "3607251000019001")
        with self.assertRaises(lookup.OutsideManagedArea):
            lookup.locate(*xy(7.5, 1.5))


class ImportCommandTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.made = build_county()

    def write(self, data) -> str:
        folder = Path(tempfile.mkdtemp())
        path = folder / "grids.geojson"
        path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
        return str(path)

    def test_it_prints_a_summary(self):
        path = self.write(collection(feature("3607251000019001", square(7, 0, 8, 1)), feature(G1, square(0, 0, 1, 1))))
        out = StringIO()
        call_command("import_grids", path, "--county", "360725", stdout=out)
        self.assertIn("新增 1 个网格，更新 1 个网格", out.getvalue())

    def test_it_fails_listing_every_rejection(self):
        path = self.write(
            collection(feature("short", square(7, 0, 8, 1)), feature("3607251000019002", square(0, 0, 1, 1)))
        )
        err = StringIO()
        with self.assertRaises(CommandError) as caught:
            call_command("import_grids", path, stderr=err)
        self.assertIn("2 个问题，未写入任何网格", str(caught.exception))
        self.assertIn("第 1 个要素（编码 short）", err.getvalue())
        self.assertIn(f"第 2 个要素（编码 3607251000019002）：与已有网格 {G1} 重叠", err.getvalue())

    def test_it_exits_non_zero_from_the_command_line(self):
        path = self.write(collection(feature("short", square(7, 0, 8, 1))))
        # run_from_argv closes the connections when it ends: keep the test's transaction open.
        with (
            mock.patch("django.core.management.base.connections.close_all"),
            self.assertRaises(SystemExit) as caught,
        ):
            ManagementUtility(["manage.py", "import_grids", path]).execute()
        self.assertNotEqual(caught.exception.code, 0)

    def test_it_rejects_a_file_that_is_not_json(self):
        folder = Path(tempfile.mkdtemp())
        (folder / "x.geojson").write_text("{nope", encoding="utf-8")
        with self.assertRaisesMessage(CommandError, "不是有效的 JSON"):
            call_command("import_grids", str(folder / "x.geojson"))

    def test_it_round_trips_through_the_commands(self):
        folder = Path(tempfile.mkdtemp())
        call_command("export_grids", str(folder / "out.geojson"), stdout=StringIO())
        out = StringIO()
        call_command("import_grids", str(folder / "out.geojson"), stdout=out)
        self.assertIn("新增 0 个网格，更新 6 个网格", out.getvalue())

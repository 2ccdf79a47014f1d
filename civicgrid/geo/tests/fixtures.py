"""A small hand-built county for the geo tests, drawn on a lattice of 0.001° (≈ 100 m) cells.

    lat ▲
      3 │          ┌──────────G5──────┬──G6b─┐
      2 ├──G3──┬──G4──┤     ┌─hole─┐ │       │
      1 ├──G1──┼──G2──┤     └──────┘ ├──G6a─┤
      0 └──────┴──────┴──────────────┴──────┘ ▶ lon
        0      1      2      3     4  5      6

G1, G2 in community 东一 (street 东街道), G3 in 东二 (东街道), G4, G5, G6 in 西一 (西街道).
G5 is a polygon with a hole; G6 is a MultiPolygon of two squares (G6a, G6b).
Grids are saved in reverse code order, so "smallest code wins" is not "first saved wins".
"""

from __future__ import annotations

from civicgrid.core.models import OrgUnit, Role, User
from civicgrid.geo.models import Grid, Region, ResponsibilityGrid
from civicgrid.geo.services import grid_save

LON0, LAT0, STEP = 114.30, 25.67, 0.001

G1, G2, G3 = "3607251000010001", "3607251000010002", "3607251000020001"
G4, G5, G6 = "3607251010010001", "3607251010010002", "3607251010010003"


def xy(i: float, j: float) -> tuple[float, float]:
    """Lattice position → (lon, lat). Vertices and test points use the same arithmetic."""
    return (LON0 + i * STEP, LAT0 + j * STEP)


def ring(i0, j0, i1, j1) -> list[list[float]]:
    return [list(xy(i0, j0)), list(xy(i1, j0)), list(xy(i1, j1)), list(xy(i0, j1)), list(xy(i0, j0))]


def square(i0, j0, i1, j1) -> dict:
    return {"type": "Polygon", "coordinates": [ring(i0, j0, i1, j1)]}


GEOMETRIES = {
    G1: square(0, 0, 1, 1),
    G2: square(1, 0, 2, 1),
    G3: square(0, 1, 1, 2),
    G4: square(1, 1, 2, 2),
    G5: {"type": "Polygon", "coordinates": [ring(2, 0, 5, 3), ring(3, 1, 4, 2)]},
    G6: {"type": "MultiPolygon", "coordinates": [[ring(5, 0, 6, 1)], [ring(5, 2, 6, 3)]]},
}


def build_county(with_boundary: bool = True, with_grids: bool = True) -> dict:
    """Regions, grids, a responsibility grid and users; returns them by name."""
    made: dict = {}
    boundary = square(-1, -1, 8, 5) if with_boundary else None
    made["county"] = county = Region.objects.create(
        code="360725", name="崇义县", level=Region.Level.COUNTY, boundary=boundary
    )
    made["east"] = east = Region.objects.create(
        code="360725100", name="东街道", level=Region.Level.STREET, parent=county
    )
    made["west"] = west = Region.objects.create(
        code="360725101", name="西街道", level=Region.Level.STREET, parent=county
    )
    made["east1"] = Region.objects.create(
        code="360725100001", name="东一社区", level=Region.Level.COMMUNITY, parent=east
    )
    made["east2"] = Region.objects.create(
        code="360725100002", name="东二社区", level=Region.Level.COMMUNITY, parent=east
    )
    made["west1"] = Region.objects.create(
        code="360725101001", name="西一社区", level=Region.Level.COMMUNITY, parent=west
    )
    # Ivy is the east street's inspector; Carol sees the whole county; Eve is scoped to the
    # east street; Walt is scoped to the west street.
    made["ivy"] = User.objects.create_user("ivy", display_name="李监督", role=Role.INSPECTOR)
    made["carol"] = User.objects.create_user("carol", role=Role.LEADER, scope=User.Scope.ALL)
    made["eve"] = User.objects.create_user("eve", role=Role.OPERATOR, scope=User.Scope.REGION, scope_region=east)
    made["walt"] = User.objects.create_user("walt", role=Role.OPERATOR, scope=User.Scope.REGION, scope_region=west)
    made["admin"] = User.objects.create_superuser("admin", password="x")
    OrgUnit.objects.create(code="B01", name="城管局", kind=OrgUnit.Kind.BUREAU)
    made["rgrid"] = ResponsibilityGrid.objects.create(
        code="ZR-E-01", name="东街道一号责任网格", street=east, inspector=made["ivy"]
    )
    if with_grids:
        community_of = {G1: "east1", G2: "east1", G3: "east2", G4: "west1", G5: "west1", G6: "west1"}
        for code in sorted(GEOMETRIES, reverse=True):
            grid_save(
                Grid(
                    code=code,
                    name=f"网格{code[-4:]}",
                    community=made[community_of[code]],
                    geometry=GEOMETRIES[code],
                    region_class="A",
                )
            )
        made["rgrid"].grids.set(Grid.objects.filter(code__in=[G1, G2]))
    return made

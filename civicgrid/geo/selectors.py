"""Scoped reads for the map page: every query starts from `visible_to(user)`."""

from __future__ import annotations

from collections import defaultdict

import shapely
from shapely.geometry import mapping, shape

from civicgrid.geo.models import Grid, Region, ResponsibilityGrid

# Light, well-separated hues; neighbouring communities (consecutive codes) get different ones.
COMMUNITY_COLOURS = [
    "#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2",
    "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bcbd22",
    "#d37295", "#8cd17d",
]  # fmt: skip


def map_legend(user) -> list[dict]:
    """Streets with their communities and colours, in code order, as the map draws them."""
    regions = Region.objects.visible_to(user).filter(level__in=[Region.Level.STREET, Region.Level.COMMUNITY])
    communities_with_grids = set(Grid.objects.visible_to(user).values_list("region_code", flat=True).distinct())
    streets: dict[str, dict] = {}
    colours = community_colours(user)
    for region in regions.order_by("code"):
        if region.level == Region.Level.STREET:
            streets[region.code] = {"code": region.code, "name": region.name, "communities": []}
        elif region.code in communities_with_grids and region.code[:9] in streets:
            streets[region.code[:9]]["communities"].append(
                {"code": region.code, "name": region.name, "colour": colours.get(region.code, "#999999")}
            )
    return [street for street in streets.values() if street["communities"]]


def community_colours(user) -> dict[str, str]:
    codes = (
        Region.objects.visible_to(user)
        .filter(level=Region.Level.COMMUNITY)
        .order_by("code")
        .values_list("code", flat=True)
    )
    return {code: COMMUNITY_COLOURS[i % len(COMMUNITY_COLOURS)] for i, code in enumerate(codes)}


def map_layers(user) -> dict:
    """The map's GeoJSON layers: unit grids, street outlines, responsibility grids."""
    names = dict(Region.objects.visible_to(user).values_list("code", "name"))
    colours = community_colours(user)
    grids = list(
        Grid.objects.visible_to(user)
        .order_by("code")
        .only("id", "code", "name", "region_code", "region_class", "geometry", "area_m2")
    )
    rgrids = list(
        ResponsibilityGrid.objects.visible_to(user)
        .select_related("inspector")
        .prefetch_related("grids")
        .order_by("code")
    )
    rgrids_of: dict[int, list[ResponsibilityGrid]] = defaultdict(list)
    for rgrid in rgrids:
        for grid in rgrid.grids.all():
            rgrids_of[grid.id].append(rgrid)

    grid_features = []
    shapes_by_street: dict[str, list] = defaultdict(list)
    shapes_by_id = {}
    for grid in grids:
        geom = shape(grid.geometry)
        shapes_by_id[grid.id] = geom
        shapes_by_street[grid.region_code[:9]].append(geom)
        mine = rgrids_of.get(grid.id, [])
        grid_features.append(
            {
                "type": "Feature",
                "geometry": grid.geometry,
                "properties": {
                    "code": grid.code,
                    "name": grid.name,
                    "community": grid.region_code,
                    "community_name": names.get(grid.region_code, ""),
                    "street": grid.region_code[:9],
                    "street_name": names.get(grid.region_code[:9], ""),
                    "region_class": grid.region_class,
                    "area_m2": round(grid.area_m2),
                    "responsibility_grid": "、".join(r.name for r in mine),
                    "inspector": "、".join(str(r.inspector) for r in mine if r.inspector),
                    "colour": colours.get(grid.region_code, "#999999"),
                },
            }
        )

    boundaries = dict(
        Region.objects.visible_to(user)
        .filter(level=Region.Level.STREET, code__in=list(shapes_by_street), boundary__isnull=False)
        .values_list("code", "boundary")
    )
    street_features = []
    for code, shapes in sorted(shapes_by_street.items()):
        # A street without a drawn boundary is outlined by the union of its grids.
        outline = shape(boundaries[code]) if boundaries.get(code) else shapely.union_all(shapes)
        street_features.append(_outline_feature(outline, {"code": code, "name": names.get(code, code)}))

    rgrid_features = []
    for rgrid in rgrids:
        shapes = [shapes_by_id[g.id] for g in rgrid.grids.all() if g.id in shapes_by_id]
        if shapes:
            props = {"code": rgrid.code, "name": rgrid.name, "inspector": str(rgrid.inspector or "")}
            rgrid_features.append(_outline_feature(shapely.union_all(shapes), props))

    return {
        "grids": {"type": "FeatureCollection", "features": grid_features},
        "streets": {"type": "FeatureCollection", "features": street_features},
        "responsibility_grids": {"type": "FeatureCollection", "features": rgrid_features},
    }


def _outline_feature(geom, properties: dict) -> dict:
    label = geom.representative_point()
    return {
        "type": "Feature",
        "geometry": mapping(geom),
        "properties": {**properties, "label_lon": label.x, "label_lat": label.y},
    }

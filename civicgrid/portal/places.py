"""The portal's gazetteer: find a place by the name people use, without a map.

`place_search(q)` looks through admin-kept landmarks (Place: name and aliases), streets and
communities (a point inside their boundary) and unit grids (their inside point), and returns at
most `limit` matches, landmarks first. Each match has a `key` ("place:12", "region:360725001",
"grid:3607251000010001") that the form posts back; `place_resolve(key)` looks it up again, so
the coordinates a citizen submits never come from the client on this path.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Q
from django.utils.translation import gettext as _
from shapely.geometry import shape

from civicgrid.geo.models import Grid, Region
from civicgrid.portal.models import Place

MAX_QUERY = 50


@dataclass(frozen=True)
class PlaceMatch:
    key: str
    name: str
    detail: str  # what kind of place, and where: 地标 · 横水镇
    lon: float
    lat: float


def place_search(q: str, *, limit: int = 10) -> list[PlaceMatch]:
    q = (q or "").strip()[:MAX_QUERY]
    if not q:
        return []
    found: list[PlaceMatch] = []
    places = Place.objects.filter(Q(name__icontains=q) | Q(aliases__icontains=q), is_active=True)
    found += [_place(p) for p in places.order_by("name", "id")[:limit]]
    if len(found) < limit:
        regions = Region.objects.filter(
            name__icontains=q, level__in=[Region.Level.STREET, Region.Level.COMMUNITY]
        ).select_related("parent")
        for region in regions.order_by("code")[: limit - len(found)]:
            match = _region(region)
            if match is not None:
                found.append(match)
    if len(found) < limit:
        grids = Grid.objects.filter(name__icontains=q).select_related("community")
        found += [_grid(g) for g in grids.order_by("code")[: limit - len(found)]]
    return found


def place_resolve(key: str) -> PlaceMatch | None:
    kind, _sep, ident = (key or "").partition(":")
    if not ident:
        return None
    if kind == "place" and ident.isdigit():
        place = Place.objects.filter(pk=int(ident), is_active=True).first()
        return _place(place) if place else None
    if kind == "region":
        region = Region.objects.filter(code=ident).select_related("parent").first()
        return _region(region) if region else None
    if kind == "grid":
        grid = Grid.objects.filter(code=ident).select_related("community").first()
        return _grid(grid) if grid else None
    return None


def _place(place: Place) -> PlaceMatch:
    return PlaceMatch(f"place:{place.pk}", place.name, _("地标"), place.lon, place.lat)


def _region(region: Region) -> PlaceMatch | None:
    if region.boundary:
        point = shape(region.boundary).representative_point()
        lon, lat = point.x, point.y
    else:
        # No boundary stored: a point inside its first unit grid.
        grid = Grid.objects.filter(region_code__startswith=region.code).order_by("code").first()
        if grid is None:
            return None
        lon, lat = grid.centroid_lon, grid.centroid_lat
    detail = region.get_level_display()
    if region.parent_id and region.parent.level != Region.Level.COUNTY:
        detail = f"{detail} · {region.parent.name}"
    return PlaceMatch(f"region:{region.code}", region.name, detail, round(lon, 7), round(lat, 7))


def _grid(grid: Grid) -> PlaceMatch:
    detail = _("单元网格")
    if grid.community_id:
        detail = f"{detail} · {grid.community.name}"
    return PlaceMatch(
        f"grid:{grid.code}", grid.name or grid.code, detail, round(grid.centroid_lon, 7), round(grid.centroid_lat, 7)
    )

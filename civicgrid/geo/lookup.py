"""Point → unit grid lookup (which grid, community and street is this point in?).

The grids are loaded once per process into a shapely STRtree and located in memory; the
database has no spatial index (no GDAL/SpatiaLite in the embedded default).

Rules:
- A grid is a closed set: it covers its boundary. A point on an edge shared by two grids,
  or on a corner shared by several, belongs to the one with the **smallest grid code**
  (plain string order). The answer never depends on load order or on the database.
- A point in a hole of a polygon is not in that grid (it may be in the grid that fills
  the hole). A point on the hole's ring is on the grid's boundary, so it is in the grid.
- MultiPolygon grids work like polygons: any of their parts.
- A point in no grid is outside the managed area: `locate` raises `OutsideManagedArea`
  (message "不在管理区域内"); `locate_many` returns None for it.

Freshness: the cached index is checked against the database at most once every
`CHECK_INTERVAL` seconds (count, max id and max `updated_at` of grids and regions) and rebuilt
when that version differs, so a change made by another process shows within a second.
Writes through civicgrid.geo.services call `invalidate()` to recheck at once.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

import numpy as np
import shapely
from django.db.models import Count, Max
from shapely import STRtree
from shapely.geometry import shape

from civicgrid.geo.coords import WGS84, to_wgs84

OUTSIDE_REASON = "不在管理区域内"
CHECK_INTERVAL = 1.0


class OutsideManagedArea(LookupError):
    """The point is in no unit grid."""

    def __init__(self, lon: float, lat: float):
        self.lon, self.lat = lon, lat
        super().__init__(OUTSIDE_REASON)


@dataclass(frozen=True)
class Location:
    """Where a WGS84 point is: its unit grid, community and street."""

    lon: float
    lat: float
    grid_code: str
    grid_name: str
    region_class: str
    community_code: str
    community_name: str
    street_code: str
    street_name: str

    def as_dict(self) -> dict:
        return {
            "lon": self.lon,
            "lat": self.lat,
            "grid": {"code": self.grid_code, "name": self.grid_name, "region_class": self.region_class},
            "community": {"code": self.community_code, "name": self.community_name},
            "street": {"code": self.street_code, "name": self.street_name},
        }


@dataclass(frozen=True)
class GridRecord:
    code: str
    name: str
    community_code: str
    region_class: str
    geometry: dict


class GridIndex:
    """An in-memory STRtree over unit grids, sorted by code so that tree position = code order."""

    def __init__(self, records: list[GridRecord], region_names: dict[str, str], version: tuple = ()):
        records = sorted(records, key=lambda r: r.code)
        self.version = version
        self.codes = np.array([r.code for r in records] + [None], dtype=object)  # [-1] is "outside"
        self.records = records
        self.region_names = region_names
        self.geometries = np.array([shape(r.geometry) for r in records], dtype=object)
        shapely.prepare(self.geometries)
        self.tree = STRtree(self.geometries)

    def __len__(self) -> int:
        return len(self.records)

    @classmethod
    def from_db(cls) -> GridIndex:
        from civicgrid.geo.models import Grid, Region

        version = _db_version()
        rows = Grid.objects.values_list("code", "name", "region_code", "region_class", "geometry")
        records = [GridRecord(*row) for row in rows]
        names = dict(Region.objects.values_list("code", "name"))
        return cls(records, names, version)

    def positions(self, lons, lats) -> np.ndarray:
        """Tree position of the grid covering each point (-1 outside), vectorised."""
        lons = np.asarray(lons, dtype=float).ravel()
        lats = np.asarray(lats, dtype=float).ravel()
        result = np.full(lons.shape[0], -1, dtype=np.intp)
        if len(self.records) == 0 or lons.shape[0] == 0:
            return result
        points = shapely.points(lons, lats)
        # "intersects" = the closed polygon covers the point (boundary included).
        point_idx, geom_idx = self.tree.query(points, predicate="intersects")
        if point_idx.size == 0:
            return result
        # Several hits for one point happen only on shared edges/corners: keep the
        # smallest position, i.e. the smallest code.
        order = np.lexsort((geom_idx, point_idx))
        point_idx, geom_idx = point_idx[order], geom_idx[order]
        first = np.empty(point_idx.shape[0], dtype=bool)
        first[0] = True
        np.not_equal(point_idx[1:], point_idx[:-1], out=first[1:])
        result[point_idx[first]] = geom_idx[first]
        return result

    def locate_many(self, lons, lats) -> np.ndarray:
        """Grid codes (object array) for WGS84 points; None where a point is outside every grid."""
        return self.codes[self.positions(lons, lats)]

    def locate(self, lon: float, lat: float) -> Location:
        position = int(self.positions([lon], [lat])[0])
        if position < 0:
            raise OutsideManagedArea(lon, lat)
        record = self.records[position]
        street_code = record.community_code[:9]
        return Location(
            lon=float(lon),
            lat=float(lat),
            grid_code=record.code,
            grid_name=record.name,
            region_class=record.region_class,
            community_code=record.community_code,
            community_name=self.region_names.get(record.community_code, ""),
            street_code=street_code,
            street_name=self.region_names.get(street_code, ""),
        )


def _db_version() -> tuple:
    from civicgrid.geo.models import Grid, Region

    grids = Grid.objects.aggregate(n=Count("id"), last_id=Max("id"), changed=Max("updated_at"))
    regions = Region.objects.aggregate(n=Count("id"), changed=Max("updated_at"))
    return (grids["n"], grids["last_id"], grids["changed"], regions["n"], regions["changed"])


class _Cache:
    def __init__(self):
        self.lock = threading.Lock()
        self.index: GridIndex | None = None
        self.checked_at = 0.0


_cache = _Cache()


def get_index() -> GridIndex:
    """The process-wide index, rebuilt when the grids in the database have changed."""
    now = time.monotonic()
    index = _cache.index
    if index is not None and now - _cache.checked_at < CHECK_INTERVAL:
        return index
    with _cache.lock:
        version = _db_version()
        if _cache.index is None or _cache.index.version != version:
            _cache.index = GridIndex.from_db()
        _cache.checked_at = time.monotonic()
        return _cache.index


def invalidate() -> None:
    """Make the next lookup compare the database version (call after writing grids or regions)."""
    _cache.checked_at = 0.0


def locate(lon: float, lat: float, *, crs: str = WGS84) -> Location:
    """The grid, community and street at a point; raises OutsideManagedArea if it is in no grid.

    `crs` is the system of the input ("wgs84", "gcj02" or "bd09"); `Location.lon/lat` are WGS84.
    """
    lon, lat = to_wgs84(lon, lat, crs)
    return get_index().locate(lon, lat)


def locate_many(lons, lats, *, crs: str = WGS84) -> np.ndarray:
    """Grid codes for many points at once (numpy object array), None where a point is outside."""
    lons, lats = to_wgs84(np.asarray(lons, dtype=float), np.asarray(lats, dtype=float), crs)
    return get_index().locate_many(lons, lats)

"""Geometry helpers on GeoJSON dicts (WGS84 lon/lat), with shapely 2 and pyproj."""

from __future__ import annotations

from pyproj import Geod
from shapely.geometry import mapping, shape
from shapely.geometry.base import BaseGeometry

# Areas on the WGS84 ellipsoid: exact enough for 100 m grids, no projection to choose.
_GEOD = Geod(ellps="WGS84")


def to_shape(geometry: dict) -> BaseGeometry:
    return shape(geometry)


def to_geojson(geom: BaseGeometry) -> dict:
    return mapping(geom)


def area_m2(geom: BaseGeometry) -> float:
    area, _perimeter = _GEOD.geometry_area_perimeter(geom)
    return abs(area)


def derived_fields(geometry: dict) -> dict:
    """The Grid columns computed from its geometry: bounding box, centroid, area."""
    geom = to_shape(geometry)
    min_lon, min_lat, max_lon, max_lat = geom.bounds
    # representative_point() lies inside the polygon even for L-shapes, unlike centroid.
    point = geom.representative_point()
    return {
        "min_lon": min_lon,
        "min_lat": min_lat,
        "max_lon": max_lon,
        "max_lat": max_lat,
        "centroid_lon": point.x,
        "centroid_lat": point.y,
        "area_m2": area_m2(geom),
    }

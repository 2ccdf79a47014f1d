"""Coordinate systems used by phones and web maps in China, converted to and from WGS84.

- WGS84 (= CGCS2000 to well under a metre): GPS, 天地图, what CivicGrid stores.
- GCJ-02 (国测局坐标, "Mars coordinates"): AMap/高德, Tencent, WeChat location. An obfuscating
  offset of a few hundred metres, applied only inside China; outside China GCJ-02 equals WGS84.
- BD-09: Baidu maps, a further rotation/shift of GCJ-02.

Convert at the edge (API, imports) and store WGS84. The forward GCJ-02 formula is the widely
published one; it has no closed-form inverse, so GCJ-02 → WGS84 iterates the forward formula
until the round trip is below about 1e-9 degrees (≈ 0.1 mm). BD-09 → GCJ-02 starts from the
published approximate inverse and refines it the same way.

Every function accepts floats or numpy arrays (same shape for lon and lat) and returns the same
kind: `wgs84_to_gcj02(114.31, 25.68)` → `(lon, lat)` floats.
"""

from __future__ import annotations

import math

import numpy as np

WGS84 = "wgs84"
GCJ02 = "gcj02"
BD09 = "bd09"
CRS_CHOICES = (WGS84, GCJ02, BD09)

# Krasovsky 1940 ellipsoid, as in the published GCJ-02 formula.
_A = 6378245.0
_EE = 0.00669342162296594323
_X_PI = math.pi * 3000.0 / 180.0

# The GCJ-02 offset applies inside this rectangle (the usual "out of China" test).
_CHINA_LON = (72.004, 137.8347)
_CHINA_LAT = (0.8293, 55.8271)

# Stop iterating when the forward image is this close to the target (degrees ≈ 0.1 mm).
_TOLERANCE_DEG = 1e-9
_MAX_ITERATIONS = 30


def out_of_china(lon, lat):
    """True where GCJ-02 equals WGS84 (outside the rectangle the offset applies to)."""
    lon = np.asarray(lon, dtype=float)
    lat = np.asarray(lat, dtype=float)
    return (lon < _CHINA_LON[0]) | (lon > _CHINA_LON[1]) | (lat < _CHINA_LAT[0]) | (lat > _CHINA_LAT[1])


def _offset(lon, lat):
    """The GCJ-02 offset (dlon, dlat) in degrees at a WGS84 point."""
    x = lon - 105.0
    y = lat - 35.0
    dlat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * np.sqrt(np.abs(x))
    dlat += (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
    dlat += (20.0 * np.sin(y * np.pi) + 40.0 * np.sin(y / 3.0 * np.pi)) * 2.0 / 3.0
    dlat += (160.0 * np.sin(y / 12.0 * np.pi) + 320.0 * np.sin(y * np.pi / 30.0)) * 2.0 / 3.0
    dlon = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * np.sqrt(np.abs(x))
    dlon += (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
    dlon += (20.0 * np.sin(x * np.pi) + 40.0 * np.sin(x / 3.0 * np.pi)) * 2.0 / 3.0
    dlon += (150.0 * np.sin(x / 12.0 * np.pi) + 300.0 * np.sin(x / 30.0 * np.pi)) * 2.0 / 3.0
    rad_lat = lat / 180.0 * np.pi
    magic = 1.0 - _EE * np.sin(rad_lat) ** 2
    sqrt_magic = np.sqrt(magic)
    dlat = (dlat * 180.0) / ((_A * (1.0 - _EE)) / (magic * sqrt_magic) * np.pi)
    dlon = (dlon * 180.0) / (_A / sqrt_magic * np.cos(rad_lat) * np.pi)
    return dlon, dlat


def _as_output(like_lon, lon, lat):
    if np.ndim(like_lon) == 0:
        return float(lon), float(lat)
    return lon, lat


def wgs84_to_gcj02(lon, lat):
    lon0 = np.asarray(lon, dtype=float)
    lat0 = np.asarray(lat, dtype=float)
    dlon, dlat = _offset(lon0, lat0)
    outside = out_of_china(lon0, lat0)
    return _as_output(lon, np.where(outside, lon0, lon0 + dlon), np.where(outside, lat0, lat0 + dlat))


def gcj02_to_wgs84(lon, lat):
    """Inverse of wgs84_to_gcj02 by fixed-point iteration (the offset varies slowly, so it converges fast)."""
    g_lon = np.asarray(lon, dtype=float)
    g_lat = np.asarray(lat, dtype=float)
    w_lon, w_lat = g_lon.copy(), g_lat.copy()
    for _ in range(_MAX_ITERATIONS):
        f_lon, f_lat = wgs84_to_gcj02(w_lon, w_lat)
        e_lon = np.asarray(f_lon) - g_lon
        e_lat = np.asarray(f_lat) - g_lat
        w_lon = w_lon - e_lon
        w_lat = w_lat - e_lat
        if np.all(np.abs(e_lon) < _TOLERANCE_DEG) and np.all(np.abs(e_lat) < _TOLERANCE_DEG):
            break
    outside = out_of_china(g_lon, g_lat)
    return _as_output(lon, np.where(outside, g_lon, w_lon), np.where(outside, g_lat, w_lat))


def gcj02_to_bd09(lon, lat):
    x = np.asarray(lon, dtype=float)
    y = np.asarray(lat, dtype=float)
    z = np.sqrt(x * x + y * y) + 0.00002 * np.sin(y * _X_PI)
    theta = np.arctan2(y, x) + 0.000003 * np.cos(x * _X_PI)
    return _as_output(lon, z * np.cos(theta) + 0.0065, z * np.sin(theta) + 0.006)


def bd09_to_gcj02(lon, lat):
    """Published approximate inverse, then refined by iterating gcj02_to_bd09."""
    b_lon = np.asarray(lon, dtype=float)
    b_lat = np.asarray(lat, dtype=float)
    x = b_lon - 0.0065
    y = b_lat - 0.006
    z = np.sqrt(x * x + y * y) - 0.00002 * np.sin(y * _X_PI)
    theta = np.arctan2(y, x) - 0.000003 * np.cos(x * _X_PI)
    g_lon, g_lat = z * np.cos(theta), z * np.sin(theta)
    for _ in range(_MAX_ITERATIONS):
        f_lon, f_lat = gcj02_to_bd09(g_lon, g_lat)
        e_lon = np.asarray(f_lon) - b_lon
        e_lat = np.asarray(f_lat) - b_lat
        g_lon = g_lon - e_lon
        g_lat = g_lat - e_lat
        if np.all(np.abs(e_lon) < _TOLERANCE_DEG) and np.all(np.abs(e_lat) < _TOLERANCE_DEG):
            break
    return _as_output(lon, g_lon, g_lat)


def wgs84_to_bd09(lon, lat):
    g_lon, g_lat = wgs84_to_gcj02(lon, lat)
    return gcj02_to_bd09(g_lon, g_lat)


def bd09_to_wgs84(lon, lat):
    g_lon, g_lat = bd09_to_gcj02(lon, lat)
    return gcj02_to_wgs84(g_lon, g_lat)


def to_wgs84(lon, lat, crs: str):
    """Convert a point (or arrays) given in `crs` ("wgs84", "gcj02" or "bd09") to WGS84."""
    if crs == WGS84:
        return _as_output(lon, np.asarray(lon, dtype=float), np.asarray(lat, dtype=float))
    if crs == GCJ02:
        return gcj02_to_wgs84(lon, lat)
    if crs == BD09:
        return bd09_to_wgs84(lon, lat)
    raise ValueError(f"unknown coordinate system {crs!r}; expected one of {', '.join(CRS_CHOICES)}")


def from_wgs84(lon, lat, crs: str):
    """Convert a WGS84 point (or arrays) to `crs`, e.g. to show a stored point on an AMap or Baidu map."""
    if crs == WGS84:
        return _as_output(lon, np.asarray(lon, dtype=float), np.asarray(lat, dtype=float))
    if crs == GCJ02:
        return wgs84_to_gcj02(lon, lat)
    if crs == BD09:
        return wgs84_to_bd09(lon, lat)
    raise ValueError(f"unknown coordinate system {crs!r}; expected one of {', '.join(CRS_CHOICES)}")

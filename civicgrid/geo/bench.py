"""Benchmarks for point → grid lookup (`python -m civicgrid.bench -k lookup`)."""

from __future__ import annotations

import numpy as np
import shapely

from civicgrid.bench import Scenario
from civicgrid.geo.lookup import GridIndex, GridRecord, OutsideManagedArea, get_index

VECTOR_POINTS = 1_000_000
SCALAR_POINTS = 20_000


class _State:
    index: GridIndex | None = None
    lons: np.ndarray | None = None
    lats: np.ndarray | None = None


_state = _State()


def _setup() -> None:
    from django.core.management import call_command
    from django.core.management.base import CommandError

    from civicgrid.geo.models import Grid

    if not Grid.objects.exists():
        try:
            call_command("demo", "--if-empty")
        except CommandError:
            # No demo command in this checkout: measure an in-memory grid set instead.
            _state.index = _synthetic_index()
    if _state.index is None:
        _state.index = get_index()
    rng = np.random.default_rng(20261127)
    min_lon, min_lat, max_lon, max_lat = shapely.total_bounds(_state.index.geometries)
    _state.lons = rng.uniform(min_lon, max_lon, VECTOR_POINTS)
    _state.lats = rng.uniform(min_lat, max_lat, VECTOR_POINTS)


def _synthetic_index() -> GridIndex:
    """300 grids of about 100 m × 100 m around the demo county's seat, never written to the database."""
    step = 0.001
    records = []
    for row in range(15):
        for col in range(20):
            lon, lat = 114.30 + col * step, 25.67 + row * step
            ring = [[lon, lat], [lon + step, lat], [lon + step, lat + step], [lon, lat + step], [lon, lat]]
            community = f"360725100{row // 5 + 1:03d}"
            code = f"{community}{row * 20 + col:04d}"
            records.append(GridRecord(code, "", community, "", {"type": "Polygon", "coordinates": [ring]}))
    return GridIndex(records, {})


def _vector_lookups() -> int:
    codes = _state.index.locate_many(_state.lons, _state.lats)
    return len(codes)


def _scalar_lookups() -> int:
    index = _state.index
    for lon, lat in zip(_state.lons[:SCALAR_POINTS].tolist(), _state.lats[:SCALAR_POINTS].tolist(), strict=True):
        try:
            index.locate(lon, lat)
        except OutsideManagedArea:
            pass
    return SCALAR_POINTS


SCENARIOS = [
    Scenario(
        name="grid lookups",
        unit="points",
        run=_vector_lookups,
        setup=_setup,
        description=f"{VECTOR_POINTS:,} random points over the grids' bounding box, one locate_many call",
    ),
    Scenario(
        name="single lookups",
        unit="points",
        run=_scalar_lookups,
        setup=_setup,
        description=f"{SCALAR_POINTS:,} locate() calls, one point each",
    ),
]

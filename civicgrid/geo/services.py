"""Writes for unit grids: one grid (admin) and a GeoJSON FeatureCollection (import).

Every grid write goes through here so that the derived columns (bbox, centroid, area,
region_code) are filled, the geometry is valid and grids never overlap: overlapping grids
would make a point belong to two grids (see civicgrid.geo.lookup for the edge rule).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

import shapely
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

from civicgrid.geo import lookup
from civicgrid.geo.geometry import area_m2, derived_fields
from civicgrid.geo.models import Grid, Region, RegionClass, ResponsibilityGrid

# Grid codes are opaque strings (standards.md §4): 14–20 letters or digits. Their layout
# differs between CJ/T 213, CJ/T 349 and GB/T 47678.3, so only the form is checked.
GRID_CODE_RE = re.compile(r"^[0-9A-Za-z]{14,20}$")
COMMUNITY_CODE_RE = re.compile(r"^[0-9]{12}$")
GRID_TYPES = ("Polygon", "MultiPolygon")
# Digitised boundaries disagree by centimetres: a grid may stick out of the county
# boundary by this much, and two grids may overlap by this much area, without rejection.
BOUNDARY_TOLERANCE_M = 0.5
OVERLAP_TOLERANCE_M2 = 1.0
_METRES_PER_DEGREE = 111_320.0
NAME_MAX_LENGTH = Grid._meta.get_field("name").max_length

# shapely/GEOS validity reasons in Chinese.
_VALIDITY_REASONS = {
    "Self-intersection": "自相交",
    "Ring Self-intersection": "边界环自相交",
    "Too few points": "顶点过少",
    "Hole lies outside shell": "内环（洞）在外环之外",
    "Nested holes": "内环相互嵌套",
    "Nested shells": "外环相互嵌套",
    "Interior is disconnected": "内部不连通（内环把面切断）",
    "Duplicate Rings": "边界环重复",
    "Invalid Coordinate": "坐标无效",
    "Ring is not closed": "边界环未闭合",
}
_VALIDITY_RE = re.compile(r"^(?P<reason>[^\[]+)\[(?P<x>\S+) (?P<y>\S+)\]$")


#
# Single checks, shared by the admin form and the import
#


def grid_code_problem(code) -> str | None:
    if code is None or code == "":
        return "缺少网格编码（code）"
    if not isinstance(code, str):
        return "网格编码必须是字符串（加引号），长数字会丢失精度"
    if not GRID_CODE_RE.match(code):
        return f"网格编码“{code}”格式错误：应为 14–20 位数字或英文字母"
    return None


def geometry_problem(geometry) -> tuple[BaseGeometry | None, str | None]:
    """Parse a GeoJSON geometry; return (shape, None) or (None, reason in Chinese)."""
    if not isinstance(geometry, dict) or "type" not in geometry:
        return None, "缺少几何（geometry）"
    kind = geometry.get("type")
    if kind not in GRID_TYPES:
        return None, f"几何类型必须是 Polygon 或 MultiPolygon，实际为 {kind}"
    try:
        geom = shape(geometry)
    except Exception:  # malformed coordinates raise ValueError, TypeError, IndexError, GEOSException…
        return None, "几何坐标无法解析：请检查 coordinates 的嵌套层次和数值"
    if geom.is_empty:
        return None, "几何为空"
    min_lon, min_lat, max_lon, max_lat = geom.bounds
    in_range = -180 <= min_lon <= max_lon <= 180 and -90 <= min_lat <= max_lat <= 90
    if not all(math.isfinite(v) for v in geom.bounds) or not in_range:
        return None, "坐标超出经纬度范围：应为 WGS84 经度、纬度（先经度后纬度）"
    if not geom.is_valid:
        return None, _validity_problem(shapely.is_valid_reason(geom))
    return geom, None


def _validity_problem(explanation: str) -> str:
    match = _VALIDITY_RE.match(explanation)
    if not match:
        return f"多边形无效：{_VALIDITY_REASONS.get(explanation, explanation)}"
    reason = match["reason"].strip()
    where = f"{float(match['x']):.6f}, {float(match['y']):.6f}"
    return f"多边形无效：{_VALIDITY_REASONS.get(reason, reason)}，位置（经度, 纬度）{where}"


def outside_boundary_problem(geom: BaseGeometry, boundary: BaseGeometry | None, county: Region) -> str | None:
    if boundary is None:
        return None
    tolerance_deg = BOUNDARY_TOLERANCE_M / _METRES_PER_DEGREE
    if boundary.buffer(tolerance_deg).covers(geom):
        return None
    outside = area_m2(geom.difference(boundary))
    return f"超出区县“{county.name}”（{county.code}）边界约 {outside:,.1f} 平方米"


def county_boundary(county: Region) -> BaseGeometry | None:
    if not county.boundary:
        return None
    return shape(county.boundary)


def overlapping_pairs(geoms: list[BaseGeometry]) -> list[tuple[int, int, float]]:
    """Pairs (i, j, overlap m²), i < j, whose interiors overlap by more than the tolerance.

    Shared edges and corners are fine: their intersection has no area.
    """
    if len(geoms) < 2:
        return []
    tree = shapely.STRtree(geoms)
    left, right = tree.query(geoms, predicate="intersects")
    keep = left < right
    left, right = left[keep], right[keep]
    pairs = []
    if left.size == 0:
        return pairs
    common = shapely.intersection(tree.geometries.take(left), tree.geometries.take(right))
    for i, j, piece in zip(left.tolist(), right.tolist(), common, strict=True):
        if piece.is_empty or piece.area == 0:
            continue
        overlap = area_m2(piece)
        if overlap > OVERLAP_TOLERANCE_M2:
            pairs.append((i, j, overlap))
    return pairs


#
# One grid (admin)
#


def grid_clean(grid: Grid) -> BaseGeometry:
    """Check one grid before saving; raise ValidationError keyed by field. Returns its shape."""
    errors: dict[str, str] = {}
    if problem := grid_code_problem(grid.code):
        errors["code"] = problem
    community = grid.community if grid.community_id else None
    if community is None:
        errors["community"] = "请选择所属社区"
    elif community.level != Region.Level.COMMUNITY:
        errors["community"] = f"“{community}”不是社区，网格只能属于社区"
    if grid.region_class and grid.region_class not in RegionClass.values:
        errors["region_class"] = "区域类别必须是 A、B 或 C"
    geom, problem = geometry_problem(grid.geometry)
    if problem:
        errors["geometry"] = problem
    if errors:
        raise ValidationError(errors)
    county = Region.objects.filter(code=community.code[:6]).first()
    if county is not None and (problem := outside_boundary_problem(geom, county_boundary(county), county)):
        raise ValidationError({"geometry": problem})
    neighbours = list(_db_grids_near(geom.bounds).exclude(pk=grid.pk).exclude(code=grid.code))
    shapes = [geom] + [shape(other.geometry) for other in neighbours]
    for i, j, overlap in overlapping_pairs(shapes):
        if i == 0:
            other = neighbours[j - 1]
            raise ValidationError({"geometry": f"与网格 {other.code} 重叠约 {overlap:,.1f} 平方米"})
    return geom


def _fill_derived(grid: Grid) -> None:
    for name, value in derived_fields(grid.geometry).items():
        setattr(grid, name, value)
    grid.region_code = grid.community.code


@transaction.atomic
def grid_save(grid: Grid) -> Grid:
    """Validate one grid, fill its derived columns and save it (insert or update)."""
    grid_clean(grid)
    _fill_derived(grid)
    grid.full_clean()
    grid.save()
    _index_changed()
    return grid


def _index_changed() -> None:
    # At once for lookups on this connection (they see the uncommitted rows), and again
    # after commit for the other threads of this process.
    lookup.invalidate()
    transaction.on_commit(lookup.invalidate)


def _db_grids_near(bounds: tuple[float, float, float, float]):
    min_lon, min_lat, max_lon, max_lat = bounds
    return Grid.objects.filter(min_lon__lte=max_lon, max_lon__gte=min_lon, min_lat__lte=max_lat, max_lat__gte=min_lat)


#
# GeoJSON import and export
#


@dataclass(frozen=True)
class FeatureProblem:
    """Why one feature of an import file is rejected. `index` is its 0-based position in `features`."""

    index: int | None
    code: str
    reason: str

    def __str__(self) -> str:
        if self.index is None:
            return self.reason
        code = self.code or "无编码"
        return f"第 {self.index + 1} 个要素（编码 {code}）：{self.reason}"


class GridImportError(Exception):
    """The file has at least one bad feature; nothing was written."""

    def __init__(self, problems: list[FeatureProblem]):
        self.problems = problems
        super().__init__(f"{len(problems)} 个问题，未导入任何网格")


@dataclass
class ImportResult:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)


@dataclass
class _Candidate:
    index: int
    code: str
    name: str
    community: Region
    region_class: str
    geometry: dict
    geom: BaseGeometry
    # None: leave the grid's responsibility grids as they are.
    responsibility: list[ResponsibilityGrid] | None


def grids_import(feature_collection: dict, *, county: Region) -> ImportResult:
    """Import unit grids from a GeoJSON FeatureCollection (WGS84) into `county`.

    Every feature is checked before anything is written; one bad feature rejects the whole
    file (GridImportError lists every problem). A feature whose code already exists updates
    that grid (name, community, region class, geometry; its responsibility grids only if the
    feature has a `responsibility_grid` property). Grids not in the file are left alone.
    """
    if county.level != Region.Level.COUNTY:
        raise GridImportError([FeatureProblem(None, "", f"“{county}”不是区县")])
    if not isinstance(feature_collection, dict) or feature_collection.get("type") != "FeatureCollection":
        raise GridImportError([FeatureProblem(None, "", "文件不是 GeoJSON FeatureCollection")])
    features = feature_collection.get("features")
    if not isinstance(features, list) or not features:
        raise GridImportError([FeatureProblem(None, "", "FeatureCollection 中没有要素（features）")])

    from civicgrid.audit.services import audit_suppressed

    with transaction.atomic():
        candidates, problems = _check_features(features, county)
        if problems:
            raise GridImportError(sorted(problems, key=lambda p: (p.index is None, p.index or 0)))
        # One audit summary for the file; bulk writes send no signals, so count them here.
        with audit_suppressed(f"单元网格导入（{county.name}）") as batch:
            result = _write(candidates)
            batch.count(Grid, "create", len(result.created))
            batch.count(Grid, "update", len(result.updated))
        _index_changed()
    return result


def _check_features(features: list, county: Region) -> tuple[list[_Candidate], list[FeatureProblem]]:
    communities = {
        r.code: r for r in Region.objects.filter(level=Region.Level.COMMUNITY, code__in=_community_codes(features))
    }
    responsibility = {r.code: r for r in ResponsibilityGrid.objects.select_related("street")}
    boundary = county_boundary(county)
    problems: list[FeatureProblem] = []
    candidates: list[_Candidate] = []
    first_index_of_code: dict[str, int] = {}

    for index, feature in enumerate(features):
        if not isinstance(feature, dict) or feature.get("type") != "Feature":
            problems.append(FeatureProblem(index, "", "不是 GeoJSON 要素（Feature）"))
            continue
        props = feature.get("properties") or {}
        if not isinstance(props, dict):
            props = {}
        code = props.get("code")
        shown_code = code if isinstance(code, str) else ("" if code is None else str(code))

        def reject(reason: str, index=index, shown_code=shown_code) -> None:
            problems.append(FeatureProblem(index, shown_code, reason))

        before = len(problems)
        if problem := grid_code_problem(code):
            reject(problem)
        elif code in first_index_of_code:
            reject(f"网格编码在文件中重复（与第 {first_index_of_code[code] + 1} 个要素相同）")
        else:
            first_index_of_code[code] = index

        name = props.get("name") or ""
        if not isinstance(name, str) or len(name) > NAME_MAX_LENGTH:
            reject(f"网格名称（name）必须是不超过 {NAME_MAX_LENGTH} 个字的文字")
        region_class = props.get("region_class") or ""
        if region_class not in ("", *RegionClass.values):
            reject(f"区域类别（region_class）必须是 A、B 或 C，实际为 {region_class}")

        community = _check_community(props.get("community"), communities, county, reject)
        geom, problem = geometry_problem(feature.get("geometry"))
        if problem:
            reject(problem)
        elif problem := outside_boundary_problem(geom, boundary, county):
            reject(problem)
        rgrids = _check_responsibility(props, community, responsibility, reject)
        if len(problems) == before:
            candidates.append(_Candidate(index, code, name, community, region_class, feature["geometry"], geom, rgrids))

    problems.extend(_overlap_problems(candidates))
    return candidates, problems


def _community_codes(features: list) -> list[str]:
    codes = []
    for feature in features:
        props = feature.get("properties") if isinstance(feature, dict) else None
        if isinstance(props, dict) and isinstance(props.get("community"), str):
            codes.append(props["community"])
    return codes


def _check_community(value, communities: dict[str, Region], county: Region, reject) -> Region | None:
    if value is None or value == "":
        reject("缺少所属社区代码（community）")
        return None
    if not isinstance(value, str) or not COMMUNITY_CODE_RE.match(value):
        reject(f"社区代码“{value}”格式错误：应为 12 位数字（字符串）")
        return None
    if not value.startswith(county.code):
        reject(f"社区 {value} 不属于区县“{county.name}”（{county.code}）")
        return None
    community = communities.get(value)
    if community is None:
        reject(f"社区 {value} 不存在：请先在“行政区域”中添加")
    return community


def _check_responsibility(props: dict, community, responsibility: dict, reject) -> list[ResponsibilityGrid] | None:
    if "responsibility_grid" not in props:
        return None
    value = props["responsibility_grid"]
    if value is None or value == "":
        return []
    codes = value if isinstance(value, list) else str(value).split(",")
    found = []
    for code in (str(c).strip() for c in codes):
        rgrid = responsibility.get(code)
        if rgrid is None:
            reject(f"责任网格 {code} 不存在")
        elif community is not None and not community.code.startswith(rgrid.street.code):
            reject(f"责任网格 {code} 属于“{rgrid.street.name}”，与社区 {community.code} 不在同一街道")
        else:
            found.append(rgrid)
    return found


def _overlap_problems(candidates: list[_Candidate]) -> list[FeatureProblem]:
    if not candidates:
        return []
    file_codes = {c.code for c in candidates}
    min_lon, min_lat, max_lon, max_lat = shapely.total_bounds([c.geom for c in candidates])
    # Grids being re-imported are replaced, so they are compared in their new shape only.
    existing = [g for g in _db_grids_near((min_lon, min_lat, max_lon, max_lat)) if g.code not in file_codes]
    shapes = [c.geom for c in candidates] + [shape(g.geometry) for g in existing]
    n = len(candidates)
    problems = []
    for i, j, overlap in overlapping_pairs(shapes):
        first = candidates[i]
        if j < n:
            second = candidates[j]
            reason = f"与第 {second.index + 1} 个要素（编码 {second.code}）重叠约 {overlap:,.1f} 平方米"
            problems.append(FeatureProblem(first.index, first.code, reason))
        else:
            reason = f"与已有网格 {existing[j - n].code} 重叠约 {overlap:,.1f} 平方米"
            problems.append(FeatureProblem(first.index, first.code, reason))
    return problems


def _write(candidates: list[_Candidate]) -> ImportResult:
    existing = {g.code: g for g in Grid.objects.select_for_update().filter(code__in=[c.code for c in candidates])}
    now = timezone.now()
    to_create, to_update = [], []
    for c in candidates:
        grid = existing.get(c.code) or Grid(code=c.code)
        grid.name = c.name
        grid.community = c.community
        grid.region_class = c.region_class
        grid.geometry = c.geometry
        grid.updated_at = now
        _fill_derived(grid)
        (to_update if grid.pk else to_create).append(grid)
    Grid.objects.bulk_create(to_create, batch_size=500)
    update_fields = ["name", "community", "region_code", "region_class", "geometry", "updated_at"]
    update_fields += list(derived_fields(candidates[0].geometry))
    Grid.objects.bulk_update(to_update, update_fields, batch_size=500)

    ids = {g.code: g.pk for g in Grid.objects.filter(code__in=[c.code for c in candidates])}
    through = ResponsibilityGrid.grids.through
    with_responsibility = [c for c in candidates if c.responsibility is not None]
    if with_responsibility:
        through.objects.filter(grid_id__in=[ids[c.code] for c in with_responsibility]).delete()
        through.objects.bulk_create(
            [
                through(grid_id=ids[c.code], responsibilitygrid_id=rgrid.pk)
                for c in with_responsibility
                for rgrid in c.responsibility
            ]
        )
    return ImportResult(created=[g.code for g in to_create], updated=[g.code for g in to_update])


def grids_export(grids) -> dict:
    """A GeoJSON FeatureCollection of `grids` (a Grid queryset) that grids_import reads back."""
    grids = grids.select_related("community__parent").prefetch_related("responsibility_grids").order_by("code")
    return {"type": "FeatureCollection", "features": [grid_feature(grid) for grid in grids]}


def grid_feature(grid: Grid) -> dict:
    """One grid as a GeoJSON Feature: the import properties, then read-only names."""
    street = grid.community.parent
    rgrids = sorted(r.code for r in grid.responsibility_grids.all())
    return {
        "type": "Feature",
        "geometry": grid.geometry,
        "properties": {
            "code": grid.code,
            "name": grid.name,
            "community": grid.community.code,
            "region_class": grid.region_class,
            "responsibility_grid": ",".join(rgrids),
            "community_name": grid.community.name,
            "street": street.code if street else grid.region_code[:9],
            "street_name": street.name if street else "",
            "area_m2": round(grid.area_m2, 1),
        },
    }

"""The demo county: the county seat of 崇义县 (Jiangxi), built deterministically from a seed.

`town_plan(seed)` draws the town without touching the database: an irregular outline along the
横水河, a road network (sinuous main roads, river-side roads, bent secondary roads at varying
angles, a few bridges, partial lanes), the blocks between the roads, and the blocks cut into
exactly 300 unit grids that tile the outline. `demo_build(seed=...)` writes the regions, grids,
responsibility grids, org units and demo users, then loads the category catalogue.

The geometry is drawn in metres on a local plane around the town centre and converted to WGS84
lon/lat at the end by a linear map (a few kilometres across, its distortion is far below a
grid's accuracy). Street, community and grid names and codes below the county are illustrative.
"""

from __future__ import annotations

import heapq
import itertools
import math
import random
from dataclasses import dataclass, field

import shapely
from django.contrib.auth.hashers import PBKDF2PasswordHasher, get_hasher, make_password
from django.db import transaction
from shapely.geometry import LineString, MultiPolygon, Point, Polygon, mapping
from shapely.ops import polygonize, split, unary_union

from civicgrid.core.models import OrgUnit, Role, User
from civicgrid.geo.models import Region, ResponsibilityGrid

COUNTY_CODE = "360725"
COUNTY_NAME = "崇义县"
DEFAULT_SEED = 2021
GRID_COUNT = 300
GRIDS_PER_RESPONSIBILITY_GRID = 10

# The county seat 横水镇, where the town centre is drawn.
CENTER_LON = 114.308
CENTER_LAT = 25.681
_EARTH_RADIUS_M = 6_371_008.8
_M_PER_DEG_LAT = math.pi / 180 * _EARTH_RADIUS_M
_M_PER_DEG_LON = _M_PER_DEG_LAT * math.cos(math.radians(CENTER_LAT))

# Snap all linework to 10 cm before cutting it into faces: neighbouring grids then share exactly
# the same vertices (no slivers, no T-junction gaps). Lon/lat are rounded to 8 decimals (~1 mm).
_SNAP_M = 0.1
_LONLAT_DECIMALS = 8

# (code, name, number of unit grids, communities as (code, name, number of unit grids)).
# Community sizes are multiples of 10 so that responsibility grids stay inside one community.
STREETS: list[tuple[str, str, int, list[tuple[str, str, int]]]] = [
    (
        "360725100",
        "横水镇",
        110,
        [
            ("360725100001", "横水社区", 30),
            ("360725100002", "城南社区", 30),
            ("360725100003", "茶滩社区", 30),
            ("360725100004", "新溪社区", 20),
        ],
    ),
    (
        "360725001",
        "阳岭街道",
        100,
        [
            ("360725001001", "阳岭社区", 30),
            ("360725001002", "城北社区", 20),
            ("360725001003", "向阳社区", 30),
            ("360725001004", "沙溪社区", 20),
        ],
    ),
    (
        "360725002",
        "文峰街道",
        90,
        [
            ("360725002001", "文峰社区", 20),
            ("360725002002", "城东社区", 30),
            ("360725002003", "河东社区", 20),
            ("360725002004", "东华社区", 20),
        ],
    ),
]


# --- the town plan (pure geometry, no database) -------------------------------------------------


@dataclass
class GridPlan:
    code: str
    name: str
    community_code: str
    region_class: str
    geometry: Polygon  # lon/lat


@dataclass
class ResponsibilityGridPlan:
    code: str
    name: str
    street_code: str
    grid_codes: list[str]


@dataclass
class TownPlan:
    outline: Polygon  # lon/lat: the managed area, exactly covered by the grids
    boundary: Polygon  # lon/lat: the county boundary stored for the demo (the outline plus a margin)
    grids: list[GridPlan]
    responsibility_grids: list[ResponsibilityGridPlan]
    region_boundaries: dict[str, Polygon] = field(default_factory=dict)  # street/community code → lon/lat
    roads: list[LineString] = field(default_factory=list)  # lon/lat, for pictures only


def to_lonlat(geom):
    """Local metres (x east, y north of the town centre) → WGS84 lon/lat, rounded."""
    return shapely.transform(
        geom,
        lambda xy: (xy / [_M_PER_DEG_LON, _M_PER_DEG_LAT] + [CENTER_LON, CENTER_LAT]).round(_LONLAT_DECIMALS),
    )


class _NoFit(Exception):
    """This drawing of the town cannot be cut as required; draw again."""


def town_plan(seed: int = DEFAULT_SEED) -> TownPlan:
    """Draw the demo town for `seed`: the same seed gives the same grids, codes and geometry.

    A few drawings cannot be cut into contiguous regions of the required sizes (a community
    shaped like a star cannot be halved); then the town is redrawn from a seed derived from
    `seed`, so the result still depends on `seed` alone.
    """
    for attempt in range(20):
        try:
            return _draw(random.Random(seed if attempt == 0 else f"{seed}/{attempt}"))
        except _NoFit:
            continue
    raise RuntimeError(f"no demo town fits for seed {seed}")


def _draw(rng: random.Random) -> TownPlan:
    outline = _outline(rng)
    roads = _roads(rng)
    blocks = _blocks(outline, roads)
    target = outline.area / GRID_COUNT
    faces = _settle(_cut_blocks(blocks, target, rng), target, rng)

    adjacency = _adjacency(faces)
    centroids = [f.centroid for f in faces]
    # Regions are grown block by block (see _partition), so their borders mostly follow roads.
    block_tree = shapely.STRtree(blocks)
    block_of = [int(block_tree.query_nearest(f.representative_point())[0]) for f in faces]
    keys = [(blocks[block_of[i]].centroid, centroids[i]) for i in range(len(faces))]
    # The town south of the river is one street; the north is cut west–east into two.
    (south_size, west_size, east_size) = (STREETS[2][2], STREETS[0][2], STREETS[1][2])
    south, west, east = _partition(
        list(range(len(faces))), [south_size, west_size, east_size], keys, adjacency, axis=math.pi / 2
    )
    street_parts = [west, east, south]

    grids: list[GridPlan] = []
    responsibility_grids: list[ResponsibilityGridPlan] = []
    region_boundaries: dict[str, Polygon] = {}
    lonlat = [to_lonlat(f) for f in faces]
    rx, ry = _ELLIPSE_AXES
    for (street_code, _street_name, _size, communities), street_ids in zip(STREETS, street_parts, strict=True):
        region_boundaries[street_code] = unary_union([lonlat[i] for i in street_ids])
        community_parts = _partition(street_ids, [c[2] for c in communities], keys, adjacency)
        rg_number = 0
        for (community_code, community_name, _n), community_ids in zip(communities, community_parts, strict=True):
            region_boundaries[community_code] = unary_union([lonlat[i] for i in community_ids])
            # Number the grids of a community row by row, north to south, west to east.
            ordered = sorted(community_ids, key=lambda i: (-round(centroids[i].y / 120), centroids[i].x))
            codes = {}
            for seq, i in enumerate(ordered, start=1):
                code = f"{community_code}{seq:03d}"
                codes[i] = code
                c = centroids[i]
                distance = math.hypot(c.x / rx, c.y / ry)  # 1.0 on the mean outline
                touches_edge = faces[i].boundary.distance(outline.exterior) < _SNAP_M
                if distance < 0.38 and not touches_edge:
                    region_class = "A"
                elif distance < 0.75 and not touches_edge:
                    region_class = "B"
                else:
                    region_class = "C"
                name = f"{community_name}{seq:03d}号网格"
                grids.append(GridPlan(code, name, community_code, region_class, lonlat[i]))
            rg_parts = _partition(
                community_ids,
                [GRIDS_PER_RESPONSIBILITY_GRID] * (len(community_ids) // GRIDS_PER_RESPONSIBILITY_GRID),
                keys,
                adjacency,
            )
            for k, part in enumerate(rg_parts, start=1):
                rg_number += 1
                responsibility_grids.append(
                    ResponsibilityGridPlan(
                        code=f"{street_code}-Z{rg_number:02d}",
                        name=f"{community_name}第{k}责任网格",
                        street_code=street_code,
                        grid_codes=sorted(codes[i] for i in part),
                    )
                )

    # The managed area is the union of the grids (snapping moved the drawn outline by millimetres).
    covered = unary_union(lonlat)
    boundary = to_lonlat(outline.buffer(300, quad_segs=4).simplify(20))
    return TownPlan(
        outline=covered,
        boundary=boundary,
        grids=sorted(grids, key=lambda g: g.code),
        responsibility_grids=responsibility_grids,
        region_boundaries=region_boundaries,
        roads=[to_lonlat(r) for r in roads],
    )


# Semi-axes of the town (metres): a valley town, long along the river (west–east).
_ELLIPSE_AXES = (1550.0, 800.0)


def _outline(rng: random.Random) -> Polygon:
    """An irregular town outline: a noisy ellipse, lobes where side valleys open."""
    rx, ry = _ELLIPSE_AXES
    harmonics = [(k, rng.uniform(0.015, 0.05), rng.uniform(0, 2 * math.pi)) for k in (2, 3, 4, 5, 7)]
    points = []
    for step in range(96):
        t = 2 * math.pi * step / 96
        wobble = 1 + sum(amp * math.cos(k * t + phase) for k, amp, phase in harmonics)
        points.append((rx * wobble * math.cos(t), ry * wobble * math.sin(t)))
    return shapely.set_precision(Polygon(points).simplify(8), _SNAP_M)


def _wavy(x0: float, x1: float, base, rng: random.Random, amp: float, step: float = 25.0) -> list[tuple[float, float]]:
    """Points of a west–east line y = base(x) + a smooth random meander."""
    waves = [(rng.uniform(500, 1900), rng.uniform(0, 2 * math.pi), amp * rng.uniform(0.5, 1)) for _ in range(2)]
    n = int((x1 - x0) / step)
    return [
        (x, base(x) + sum(a * math.sin(2 * math.pi * x / wl + ph) for wl, ph, a in waves))
        for x in (x0 + (x1 - x0) * i / n for i in range(n + 1))
    ]


def _bent(p0: tuple[float, float], p1: tuple[float, float], rng: random.Random, bend: float) -> LineString:
    """A road from p0 to p1, slightly bent at two inner points."""
    (x0, y0), (x1, y1) = p0, p1
    length = math.hypot(x1 - x0, y1 - y0)
    nx, ny = -(y1 - y0) / length, (x1 - x0) / length
    points = [p0]
    for t in (rng.uniform(0.25, 0.4), rng.uniform(0.6, 0.75)):
        off = rng.uniform(-bend, bend)
        points.append((x0 + (x1 - x0) * t + nx * off, y0 + (y1 - y0) * t + ny * off))
    points.append(p1)
    return LineString(points)


def _roads(rng: random.Random) -> list[LineString]:
    """The river and the roads, in metres. Lines overshoot where they end; dangles form no block."""
    lines: list[LineString] = []
    # 横水河: west to east, a little south of the centre.
    river_pts = _wavy(-2600, 2600, lambda x: -90 - 0.04 * x, rng, amp=70)
    river = LineString(river_pts)
    lines.append(river)
    # River-side roads (滨河路) on both banks.
    lines.append(river.offset_curve(55, join_style="round", quad_segs=4))
    lines.append(river.offset_curve(-45, join_style="round", quad_segs=4))

    # Main streets: one north of the river through the old town, one on the south bank.
    north_main = LineString(_wavy(-2600, 2600, lambda x: 300 + 0.05 * x, rng, amp=45))
    south_main = LineString(_wavy(-2600, 2600, lambda x: -430 - 0.03 * x, rng, amp=40))
    lines += [north_main, south_main]

    # Cross streets, roughly north–south, in sections between the west–east lines: spacing
    # varies (denser in the centre), some sections are missing (the street ends at a T), the
    # streets jog where they cross a main street, and only some cross the river on a bridge.
    x = -1900.0
    while x < 1900:
        x += rng.uniform(190, 260) if abs(x) < 600 else rng.uniform(260, 380)
        tilt = rng.uniform(-0.28, 0.28)  # up to about ±15° off north
        central = abs(x) < 500
        bridge = rng.random() < (0.6 if central else 0.2)
        ys = [-1200.0, _y_at(south_main, x), _y_at(river, x), _y_at(north_main, x), 1200.0]
        # Sections between consecutive west–east lines; a bridge joins the two at the river.
        sections = [(ys[0], ys[1]), (ys[1], ys[3]), (ys[3], ys[4])] if bridge else list(itertools.pairwise(ys))
        for y0, y1 in sections:
            if not (central or rng.random() < 0.8):
                continue
            y0, y1 = y0 - 25, y1 + 25  # overshoot: the dangling ends form no block
            x0 = x + tilt * y0 + rng.uniform(-35, 35)
            x1 = x0 + tilt * (y1 - y0) + rng.uniform(-20, 20)
            lines.append(_bent((x0, y0), (x1, y1), rng, bend=25))

    # Lanes roughly west–east between the main streets, each over a few blocks only.
    for base_y, count in ((130, 5), (560, 5), (-250, 3), (-650, 4)):
        for _ in range(count):
            x0 = rng.uniform(-1700, 1300)
            x1 = x0 + rng.uniform(450, 1100)
            y0 = base_y + rng.uniform(-50, 50)
            y1 = y0 + rng.uniform(-60, 60)
            lines.append(_bent((x0, y0), (x1, y1), rng, bend=25))

    # One diagonal avenue from the centre to the north-east, and one to the south-west.
    lines.append(_bent((0, 60), (rng.uniform(900, 1200), 1100), rng, bend=50))
    lines.append(_bent((rng.uniform(-300, -150), -500), (rng.uniform(-1400, -1100), -1100), rng, bend=50))
    return lines


def _y_at(line: LineString, x: float) -> float:
    """The y of a west–east line at x (the line is a function of x)."""
    cut = line.intersection(LineString([(x, -1e5), (x, 1e5)]))
    return cut.y if isinstance(cut, Point) else cut.geoms[0].y


def _blocks(outline: Polygon, roads: list[LineString]) -> list[Polygon]:
    """The faces between the roads inside the outline; tiny faces merged into a neighbour."""
    linework = shapely.union_all([outline.exterior, *roads], grid_size=_SNAP_M)
    faces = [f for f in polygonize(linework.geoms) if outline.contains(f.representative_point())]
    min_area = outline.area / GRID_COUNT * 0.35
    return _merge_small(faces, min_area)


def _merge_small(faces: list[Polygon], min_area: float) -> list[Polygon]:
    """Merge every face smaller than min_area into the neighbour it shares the longest edge with."""
    faces = list(faces)
    while True:
        small = [i for i, f in enumerate(faces) if f.area < min_area]
        if not small:
            return faces
        i = min(small, key=lambda k: faces[k].area)
        faces = _merge_pair(faces, i, _best_neighbour(faces, i))


def _best_neighbour(faces: list[Polygon], i: int) -> int:
    """The face sharing the longest edge with face i."""
    edge = faces[i].boundary.buffer(_SNAP_M)
    shared = [
        (f.boundary.intersection(edge).length, -j) for j, f in enumerate(faces) if j != i and f.intersects(faces[i])
    ]
    return -max(shared)[1]


def _merge_pair(faces: list[Polygon], i: int, j: int) -> list[Polygon]:
    merged = faces[i].union(faces[j])
    if isinstance(merged, MultiPolygon):  # they touch at a corner only
        raise _NoFit("a sliver has no neighbour along an edge")
    return [f for k, f in enumerate(faces) if k not in (i, j)] + [merged]


def _cut_blocks(blocks: list[Polygon], target: float, rng: random.Random) -> list[Polygon]:
    """Cut each block into grids of about `target` m², exactly GRID_COUNT in all.

    Blocks near the centre get smaller grids (denser town), edge blocks larger ones. The number
    per block is apportioned by the largest remainder so that the total is exact.
    """
    rx, ry = _ELLIPSE_AXES

    def weight(block: Polygon) -> float:
        c = block.centroid
        d = math.hypot(c.x / rx, c.y / ry)
        return block.area * (1.35 - 0.55 * min(d, 1.0))

    weights = [weight(b) for b in blocks]
    total = sum(weights)
    quotas = [GRID_COUNT * w / total for w in weights]
    # A long narrow block (a strip along the river) is cut across at least every ~220 m.
    minimum = [max(1, math.ceil(_long_side(b) / 220)) for b in blocks]
    counts = [max(m, int(q)) for m, q in zip(minimum, quotas, strict=True)]
    by_remainder = sorted(range(len(blocks)), key=lambda i: quotas[i] - int(quotas[i]), reverse=True)
    k = 0
    while sum(counts) < GRID_COUNT:
        counts[by_remainder[k % len(blocks)]] += 1
        k += 1
    while sum(counts) > GRID_COUNT:
        i = max((i for i in range(len(blocks)) if counts[i] > minimum[i]), key=lambda i: counts[i] - quotas[i])
        counts[i] -= 1

    pieces: list[Polygon] = []
    for block, n in zip(blocks, counts, strict=True):
        pieces.extend(_bisect(block, n, rng))
    return pieces


def _settle(pieces: list[Polygon], target: float, rng: random.Random) -> list[Polygon]:
    """Renode the pieces, merge slivers and even out the count until exactly GRID_COUNT remain.

    Non-convex blocks can fall into more pieces than planned, and a cut ending on a neighbour's
    edge leaves a T-junction that only the renoding resolves; a few rounds settle both.
    """
    for _ in range(20):
        faces = _renode(pieces)
        if len(faces) == GRID_COUNT and min(f.area for f in faces) >= target * 0.3:
            return faces
        pieces = _merge_small(faces, target * 0.3)
        while len(pieces) > GRID_COUNT:
            i = min(range(len(pieces)), key=lambda k: pieces[k].area)
            pieces = _merge_pair(pieces, i, _best_neighbour(pieces, i))
        while len(pieces) < GRID_COUNT:
            i = max(range(len(pieces)), key=lambda k: pieces[k].area)
            pieces = [p for k, p in enumerate(pieces) if k != i] + _bisect(pieces[i], 2, rng)
    raise _NoFit("the grids did not settle")


def _long_side(poly: Polygon) -> float:
    corners = list(poly.minimum_rotated_rectangle.exterior.coords)
    return max(math.dist(corners[0], corners[1]), math.dist(corners[1], corners[2]))


def _bisect(poly: Polygon, n: int, rng: random.Random) -> list[Polygon]:
    """Cut poly into n pieces of equal area by cuts across its long axis, recursively."""
    if n <= 1:
        return [poly]
    rect = poly.minimum_rotated_rectangle
    corners = list(rect.exterior.coords)[:4]
    edges = [(corners[i], corners[i + 1]) for i in range(3)]
    (ax, ay), (bx, by) = max(edges[:2], key=lambda e: math.dist(*e))
    long_angle = math.atan2(by - ay, bx - ax)
    # Cuts are not all square to the block: a few degrees of play, like real plot lines.
    angle = long_angle + math.pi / 2 + rng.uniform(-0.14, 0.14)
    ux, uy = math.cos(long_angle), math.sin(long_angle)
    cx, cy = math.cos(angle), math.sin(angle)
    size = math.dist((ax, ay), (bx, by)) + 2 * poly.length
    centre = poly.centroid
    first = n // 2

    def cut_at(t: float) -> LineString:
        px, py = centre.x + ux * t, centre.y + uy * t
        return LineString([(px - cx * size, py - cy * size), (px + cx * size, py + cy * size)])

    def side_area(t: float) -> float:
        # Area on the negative side of the cut: a half-plane as a big box around the cut line.
        px, py = centre.x + ux * t, centre.y + uy * t
        half = Polygon(
            [
                (px - cx * size, py - cy * size),
                (px + cx * size, py + cy * size),
                (px + cx * size - ux * size, py + cy * size - uy * size),
                (px - cx * size - ux * size, py - cy * size - uy * size),
            ]
        )
        return poly.intersection(half).area

    wanted = poly.area * first / n
    lo, hi = -size, size
    for _ in range(40):
        mid = (lo + hi) / 2
        if side_area(mid) < wanted:
            lo = mid
        else:
            hi = mid
    t = (lo + hi) / 2
    parts = [p for p in split(poly, cut_at(t)).geoms if p.area > 1.0]
    if len(parts) < 2:
        return [poly]

    def on_negative_side(p: Polygon) -> bool:
        q = p.representative_point()
        return (q.x - centre.x) * ux + (q.y - centre.y) * uy < t

    negative = [p for p in parts if on_negative_side(p)]
    positive = [p for p in parts if not on_negative_side(p)]
    result: list[Polygon] = []
    for side, count in ((negative, first), (positive, n - first)):
        side.sort(key=lambda p: p.area, reverse=True)
        # The largest part on a side takes that side's pieces; stray bits stay whole.
        for k, part in enumerate(side):
            result.extend(_bisect(part, count if k == 0 else 1, rng))
    return result


def _renode(pieces: list[Polygon]) -> list[Polygon]:
    """Rebuild the pieces from their snapped, noded boundaries: neighbours share exact vertices."""
    linework = shapely.union_all([p.exterior for p in pieces], grid_size=_SNAP_M)
    faces = [shapely.normalize(f) for f in polygonize(linework.geoms)]
    # Stable order, independent of how GEOS walks the rings: west to east, south to north.
    return sorted(faces, key=lambda f: (round(f.centroid.x, 1), round(f.centroid.y, 1)))


def _adjacency(faces: list[Polygon]) -> list[list[int]]:
    """Grids that share an edge (not just a corner)."""
    tree = shapely.STRtree(faces)
    neighbours: list[list[int]] = [[] for _ in faces]
    for i, face in enumerate(faces):
        for j in sorted(int(j) for j in tree.query(face)):
            if j != i and face.intersection(faces[j]).length > 1.0:
                neighbours[i].append(j)
    return neighbours


def _partition(ids: list[int], sizes: list[int], keys, adjacency, axis: float | None = None) -> list[list[int]]:
    """Split ids into contiguous groups of the given sizes, in order, by recursive flood fills.

    keys[i] is (block centroid, grid centroid) of grid i. Each step grows the first group from
    the extreme grid along `axis` (default: the group's long axis), always taking the frontier
    grid whose block, then grid, lies furthest back along that axis: the grown part is connected
    and takes whole blocks while it can. The first direction (turning a little if needed) for
    which the rest is connected too is kept.
    """
    if len(sizes) == 1:
        return [sorted(ids)]
    half = len(sizes) // 2
    wanted = sum(sizes[:half])
    members = set(ids)
    if axis is None:
        xs = [keys[i][1].x for i in ids]
        ys = [keys[i][1].y for i in ids]
        mx, my = sum(xs) / len(ids), sum(ys) / len(ids)
        sxx = sum((x - mx) ** 2 for x in xs)
        syy = sum((y - my) ** 2 for y in ys)
        sxy = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True))
        axis = 0.5 * math.atan2(2 * sxy, sxx - syy)
    # Try whole blocks first, then single grids; the long axis first, then turning away from it.
    turns = [0, *[s * k for k in range(1, 36) for s in (1, -1)]]
    for by_block, turn in [(True, t) for t in turns] + [(False, t) for t in turns]:
        angle = axis + math.radians(5 * turn)
        ux, uy = math.cos(angle), math.sin(angle)
        along = {
            i: (
                round(keys[i][0].x * ux + keys[i][0].y * uy, 3) if by_block else 0.0,
                round(keys[i][1].x * ux + keys[i][1].y * uy, 3),
                i,
            )
            for i in ids
        }
        start = min(ids, key=along.__getitem__)
        grown: set[int] = set()
        frontier = [(along[start], start)]
        while frontier and len(grown) < wanted:
            _, i = heapq.heappop(frontier)
            if i in grown:
                continue
            grown.add(i)
            for j in adjacency[i]:
                if j in members and j not in grown:
                    heapq.heappush(frontier, (along[j], j))
        rest = [i for i in ids if i not in grown]
        if len(grown) == wanted and _connected(rest, adjacency):
            return _partition(sorted(grown), sizes[:half], keys, adjacency) + _partition(
                rest, sizes[half:], keys, adjacency
            )
    raise _NoFit("no contiguous split")


def _connected(ids: list[int], adjacency) -> bool:
    if not ids:
        return True
    members = set(ids)
    seen = {ids[0]}
    stack = [ids[0]]
    while stack:
        for j in adjacency[stack.pop()]:
            if j in members and j not in seen:
                seen.add(j)
                stack.append(j)
    return len(seen) == len(members)


# --- org units and users ---------------------------------------------------------------------

# (code, name, kind, parent code, street code, remit). catalog_assign_default_units() gives a
# category the first unit *by code* whose remit keyword occurs in its responsible-unit type, so
# the bureau's own departments (CG1x) come before outside units (WB0x), and street offices and
# contractors have remits that name no county-wide responsible-unit type.
K = OrgUnit.Kind
ORG_UNITS: list[tuple[str, str, str, str | None, str | None, str]] = [
    ("CG00", "崇义县城市管理局", K.BUREAU, None, None, ""),
    ("CG01", "监督中心", K.SUPERVISION_CENTER, "CG00", None, ""),
    ("CG02", "指挥中心", K.COMMAND_CENTER, "CG00", None, ""),
    ("CG10", "城管执法大队", K.DEPARTMENT, "CG00", None, "城管执法、违法建设、户外广告、占道经营"),
    ("CG11", "环境卫生管理所", K.DEPARTMENT, "CG00", None, "环卫、环境卫生、垃圾、公厕"),
    ("CG12", "市政设施管理所", K.DEPARTMENT, "CG00", None, "市政、排水、再生水、道路、桥梁、井盖"),
    ("CG13", "园林绿化管理所", K.DEPARTMENT, "CG00", None, "园林、绿化、古树名木"),
    ("CG14", "路灯管理所", K.DEPARTMENT, "CG00", None, "路灯、景观照明、照明"),
    ("HW01", "崇义县洁城环境服务有限公司", K.CONTRACTOR, "CG11", None, "清扫保洁、垃圾清运"),
    ("HW02", "赣州绿源保洁服务有限公司", K.CONTRACTOR, "CG11", None, "清扫保洁、公厕保洁"),
    ("JD01", "横水镇人民政府", K.STREET_OFFICE, None, "360725100", "属地管理、辖区市容秩序"),
    ("JD02", "阳岭街道办事处", K.STREET_OFFICE, None, "360725001", "属地管理、辖区市容秩序"),
    ("JD03", "文峰街道办事处", K.STREET_OFFICE, None, "360725002", "属地管理、辖区市容秩序"),
    ("WB01", "县公安局交通警察大队", K.DEPARTMENT, None, None, "公安交管、交管、交警、停车"),
    ("WB02", "县自来水公司", K.UTILITY, None, None, "供水、自来水、消火栓"),
    ("WB03", "县供电公司", K.UTILITY, None, None, "供电、电力"),
    ("WB04", "县燃气公司", K.UTILITY, None, None, "燃气、天然气"),
    ("WB05", "中国电信崇义分公司", K.UTILITY, None, None, "通信、电信、线缆"),
]
del K

# (username, display name, role, org unit code, scope, is_staff/superuser). Password: demo-<username>.
DEMO_USERS: list[tuple[str, str, str, str, str, bool]] = [
    ("inspector", "刘建华", Role.INSPECTOR, "CG01", User.Scope.ALL, False),
    ("operator", "陈丽", Role.OPERATOR, "CG01", User.Scope.ALL, False),
    ("shift_lead", "王海军", Role.SHIFT_LEAD, "CG01", User.Scope.ALL, False),
    ("dispatcher", "张敏", Role.DISPATCHER, "CG02", User.Scope.ALL, False),
    ("handler", "黄志强", Role.HANDLER, "CG12", User.Scope.UNIT, False),
    ("leader", "钟国平", Role.LEADER, "CG00", User.Scope.ALL, False),
    ("admin", "系统管理员", Role.ADMIN, "CG00", User.Scope.ALL, True),
]

# The responsibility-grid inspectors: the first grid is the demo login `inspector`'s, the other
# 29 belong to inspector02 … inspector30 (same password pattern).
_SURNAMES = "钟刘黄李郭曾谢邱罗陈赖朱温"
_GIVEN_NAMES = "志明 海燕 建国 秀英 文斌 丽华 国强 春梅 晓东 金凤 永辉 桂兰 小军 红霞 德胜 玉珍 俊杰".split()


def demo_password(username: str) -> str:
    return f"demo-{username}"


def _inspector_name(n: int) -> str:
    return _SURNAMES[n % len(_SURNAMES)] + _GIVEN_NAMES[(n * 5) % len(_GIVEN_NAMES)]


# The demo passwords are printed on the login page, so key stretching protects nothing; a
# cheap PBKDF2 keeps `manage.py demo` fast (37 full-strength hashes take about 8 s). Django
# re-hashes at full strength on the first login (PBKDF2PasswordHasher.must_update).
_DEMO_HASH_ITERATIONS = 1000


def _demo_password_hash(username: str) -> str:
    hasher = get_hasher()
    if isinstance(hasher, PBKDF2PasswordHasher):
        return hasher.encode(demo_password(username), hasher.salt(), iterations=_DEMO_HASH_ITERATIONS)
    return make_password(demo_password(username))


# --- writing the demo county -------------------------------------------------------------------


@dataclass
class DemoSummary:
    """What `demo_build` wrote."""

    seed: int
    streets: int
    communities: int
    grids: int
    responsibility_grids: int
    org_units: int
    users: int
    categories: str  # the catalogue loader's own summary
    default_units_assigned: int


def database_has_data() -> bool:
    """True when the database already holds regions or users: the demo must not mix into it."""
    return Region.objects.exists() or User.objects.exists()


@transaction.atomic
def demo_build(*, seed: int = DEFAULT_SEED) -> DemoSummary:
    """Create or refresh the demo county, its org units and demo users, and the category catalogue.

    Objects are matched by code or username, so a second run with the same seed changes
    nothing but the demo users' passwords (reset to the documented ones) and refers to the same
    rows; nothing outside the demo's codes and usernames is touched. The audit log gets one
    summary entry for the whole build instead of hundreds of row entries.
    """
    from civicgrid.audit.services import audit_suppressed

    with audit_suppressed(f"演示数据（种子 {seed}）"):
        return _demo_build(seed)


def _demo_build(seed: int) -> DemoSummary:
    from civicgrid.catalog.services import catalog_assign_default_units, catalog_load_reference
    from civicgrid.geo.services import grids_import

    plan = town_plan(seed)
    county = _region(COUNTY_CODE, COUNTY_NAME, None, plan.boundary)
    streets: dict[str, Region] = {}
    communities: dict[str, Region] = {}
    for street_code, street_name, _size, community_specs in STREETS:
        streets[street_code] = street = _region(street_code, street_name, county, plan.region_boundaries[street_code])
        for code, name, _n in community_specs:
            communities[code] = _region(code, name, street, plan.region_boundaries[code])

    units: dict[str, OrgUnit] = {}
    for code, name, kind, parent_code, street_code, remit in ORG_UNITS:
        units[code], _ = OrgUnit.objects.update_or_create(
            code=code,
            defaults={
                "name": name,
                "kind": kind,
                "parent": units.get(parent_code) if parent_code else None,
                "region": streets[street_code] if street_code else None,
                "remit": remit,
                "is_active": True,
            },
        )

    users: dict[str, User] = {}
    for username, display_name, role, unit_code, scope, is_admin in DEMO_USERS:
        users[username] = _user(username, display_name, role, units[unit_code], scope, is_admin)
    for n in range(2, len(plan.responsibility_grids) + 1):
        username = f"inspector{n:02d}"
        users[username] = _user(username, _inspector_name(n), Role.INSPECTOR, units["CG01"], User.Scope.ALL, False)

    rg_of_grid: dict[str, str] = {}
    for n, rplan in enumerate(plan.responsibility_grids, start=1):
        ResponsibilityGrid.objects.update_or_create(
            code=rplan.code,
            defaults={
                "name": rplan.name,
                "street": streets[rplan.street_code],
                "inspector": users["inspector" if n == 1 else f"inspector{n:02d}"],
            },
        )
        rg_of_grid.update(dict.fromkeys(rplan.grid_codes, rplan.code))

    # Grids go through the geo import service like any grid file: it checks geometry, the
    # county boundary and overlaps, fills the derived columns and refreshes the lookup index.
    grids_import(
        {
            "type": "FeatureCollection",
            "features": [
                {
                    "type": "Feature",
                    "geometry": _geojson(g.geometry),
                    "properties": {
                        "code": g.code,
                        "name": g.name,
                        "community": g.community_code,
                        "region_class": g.region_class,
                        "responsibility_grid": rg_of_grid[g.code],
                    },
                }
                for g in plan.grids
            ],
        },
        county=county,
    )

    loaded = catalog_load_reference()
    assigned = catalog_assign_default_units()
    # An Open311 app with a published key (docs/open311.md), so Open311 clients can post at once.
    from civicgrid.open311.services import demo_app_ensure

    demo_app_ensure()
    # The citizen portal's landmarks and category tiles (docs/portal.md).
    from civicgrid.portal.services import portal_demo_ensure

    portal_demo_ensure()
    return DemoSummary(
        seed=seed,
        streets=len(streets),
        communities=len(communities),
        grids=len(plan.grids),
        responsibility_grids=len(plan.responsibility_grids),
        org_units=len(units),
        users=len(users),
        categories=str(loaded),
        default_units_assigned=assigned,
    )


def _geojson(geom) -> dict:
    """GeoJSON with lists, as it reads back from a JSON column."""
    return {"type": geom.geom_type, "coordinates": _lists(mapping(geom)["coordinates"])}


def _lists(value):
    return [_lists(v) for v in value] if isinstance(value, (list, tuple)) else value


def _region(code: str, name: str, parent: Region | None, boundary) -> Region:
    region, _ = Region.objects.update_or_create(
        code=code,
        defaults={
            "name": name,
            "parent": parent,
            "level": Region.LEVEL_BY_CODE_LENGTH[len(code)],
            "boundary": _geojson(boundary),
        },
    )
    return region


def _user(username: str, display_name: str, role: str, unit: OrgUnit, scope: str, is_admin: bool) -> User:
    user, _ = User.objects.update_or_create(
        username=username,
        defaults={
            "display_name": display_name,
            "role": role,
            "org_unit": unit,
            "scope": scope,
            "scope_region": None,
            "is_staff": is_admin,
            "is_superuser": is_admin,
            "is_active": True,
            "password": _demo_password_hash(username),
        },
    )
    return user
